"""Mail attachments in the outbox: a document's PDF travels with its notification.

Each row is one file of one outgoing mail (name, type, bytes), removed with its mail.
MEDIUMBLOB on MariaDB: a BLOB stops at 64 KB, less than a long invoice.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbox_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column(
            "content",
            sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["mail_id"],
            ["outbox.id"],
            name=op.f("fk_outbox_attachments_mail_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_attachments")),
    )
    with op.batch_alter_table("outbox_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_attachments_mail_id"), ["mail_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("outbox_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_attachments_mail_id"))
    op.drop_table("outbox_attachments")
