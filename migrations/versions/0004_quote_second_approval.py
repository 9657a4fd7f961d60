"""Quote rounds may be first approvals (a quote above the approval limit takes two).

Above a company's approval limit a quote needs two decision-makers, and the first one's
approval is a round of the timeline.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 06:55:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD = "action IN ('request', 'offer', 'counter', 'accept', 'reject', 'withdraw', 'expire')"
NEW = (
    "action IN ('request', 'offer', 'counter', 'approve', 'accept', 'reject', 'withdraw', "
    "'expire')"
)


def _replace(condition):
    # SQLite cannot alter a CHECK: batch mode copies the table with the new constraint.
    with op.batch_alter_table('quote_rounds', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint(op.f('ck_quote_rounds_action'), type_='check')
        batch_op.create_check_constraint(op.f('ck_quote_rounds_action'), condition)


def upgrade():
    _replace(NEW)


def downgrade():
    op.execute("DELETE FROM quote_rounds WHERE action = 'approve'")
    _replace(OLD)
