"""Quotes sent by mail to contacts without an account: signed single-use links.

- `quote_links`: one quote mailed to one contact (name and address as staff typed them),
  the SHA-256 of its token, when it expires, and whether it was used for a decision
  (accepted or rejected) or revoked by staff.

No new permission: sending and revoking a link is answering a quote (`quotes.edit`).

Revision ID: 0024
Revises: 0023
Create Date: 2027-02-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "quote_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("recipient_name", sa.String(length=120), nullable=False),
        sa.Column("recipient_email", sa.String(length=254), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("viewed_at", sa.DateTime(), nullable=True),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "decision IN ('accepted', 'rejected')", name=op.f("ck_quote_links_decision")
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quotes.id"],
            name=op.f("fk_quote_links_quote_id_quotes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["users.id"],
            name=op.f("fk_quote_links_sent_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["users.id"],
            name=op.f("fk_quote_links_revoked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_quote_links_token_hash")),
    )
    op.create_index(op.f("ix_quote_links_quote_id"), "quote_links", ["quote_id"])
    op.create_index(op.f("ix_quote_links_recipient_email"), "quote_links", ["recipient_email"])


def downgrade():
    op.drop_index(op.f("ix_quote_links_recipient_email"), table_name="quote_links")
    op.drop_index(op.f("ix_quote_links_quote_id"), table_name="quote_links")
    op.drop_table("quote_links")
