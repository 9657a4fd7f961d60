"""Follow-up tasks linked to customers, quotes and orders, with due dates and reminders.

- `tasks`: a title and notes, a due time and an optional reminder (naive UTC), open or
  done (when, by whom), the colleague it is assigned to and who made it, and its links: a
  company (implied by a quote or an order link), a quote, an order.

The new permissions for the roles made from presets before they existed, as core.access's
presets grant them: `tasks.view` (every staff preset) and `tasks.edit` (all but Read-only).

Revision ID: 0023
Revises: 0022
Create Date: 2027-02-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

NEW_GRANTS = {
    "tasks.view": ("admin", "manager", "sales", "warehouse", "finance", "readonly"),
    "tasks.edit": ("admin", "manager", "sales", "warehouse", "finance"),
}


def upgrade():
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("remind_at", sa.DateTime(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("quote_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'done')", name=op.f("ck_tasks_status")),
        sa.ForeignKeyConstraint(
            ["done_by_id"],
            ["users.id"],
            name=op.f("fk_tasks_done_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_tasks_assignee_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_tasks_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_tasks_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quotes.id"], name=op.f("fk_tasks_quote_id_quotes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_tasks_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index("ix_tasks_assignee_status_due", "tasks", ["assignee_id", "status", "due_at"])
    op.create_index("ix_tasks_company_status", "tasks", ["company_id", "status"])
    op.create_index("ix_tasks_due_at", "tasks", ["due_at"])
    op.create_index(op.f("ix_tasks_created_by_id"), "tasks", ["created_by_id"])
    op.create_index(op.f("ix_tasks_quote_id"), "tasks", ["quote_id"])
    op.create_index(op.f("ix_tasks_order_id"), "tasks", ["order_id"])

    # The new permissions for the roles made from presets before they existed.
    for permission, presets in NEW_GRANTS.items():
        op.execute(
            sa.text(
                "INSERT INTO role_permissions (role_id, permission) SELECT id, :permission "
                "FROM roles WHERE preset IN :presets AND id NOT IN (SELECT role_id FROM "
                "role_permissions WHERE permission = :permission)"
            ).bindparams(
                sa.bindparam("permission", permission),
                sa.bindparam("presets", list(presets), expanding=True),
            )
        )


def downgrade():
    op.execute(
        sa.text("DELETE FROM role_permissions WHERE permission IN ('tasks.view', 'tasks.edit')")
    )
    op.drop_index(op.f("ix_tasks_order_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_quote_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_created_by_id"), table_name="tasks")
    op.drop_index("ix_tasks_due_at", table_name="tasks")
    op.drop_index("ix_tasks_company_status", table_name="tasks")
    op.drop_index("ix_tasks_assignee_status_due", table_name="tasks")
    op.drop_table("tasks")
