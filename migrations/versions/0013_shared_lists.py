"""Shared lists (requisition lists, bills of materials) of customer companies.

shopping_lists holds a company's named lists (unique name per company), shopping_list_lines
their products with quantity, note and position (one line per product and list). A list
goes with its company, a line with its list or its product; the people who created or
last changed a list are kept while they exist.

The new storefront permission `shop.lists` (edit the company's lists) for the preset roles
made before it existed, as core.access's presets grant it (Decision-maker, Requester).

Revision ID: 0013
Revises: 0012
Create Date: 2027-01-14 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

NEW_GRANTS = {"shop.lists": ("decision_maker", "requester")}


def upgrade():
    op.create_table(
        "shopping_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_shopping_lists_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_shopping_lists_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_shopping_lists_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopping_lists")),
        sa.UniqueConstraint("company_id", "name", name="uq_shopping_lists_company_name"),
    )
    # The company's index, most recently changed first.
    op.create_index(
        "ix_shopping_lists_company_updated", "shopping_lists", ["company_id", "updated_at"]
    )
    op.create_table(
        "shopping_list_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_shopping_list_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["shopping_lists.id"],
            name=op.f("fk_shopping_list_lines_list_id_shopping_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_shopping_list_lines_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopping_list_lines")),
        sa.UniqueConstraint("list_id", "product_id", name="uq_shopping_list_lines_list_product"),
    )
    # A list's page, in the order its lines were added.
    op.create_index(
        "ix_shopping_list_lines_list_position", "shopping_list_lines", ["list_id", "position"]
    )
    # The lists that show a product whose offer changed (live pushes).
    op.create_index("ix_shopping_list_lines_product", "shopping_list_lines", ["product_id"])

    # The new permission for the roles made from presets before it existed (a role's
    # preset names it; edited roles keep what was given to them and gain only this).
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
    op.execute(sa.text("DELETE FROM role_permissions WHERE permission = 'shop.lists'"))
    op.drop_index("ix_shopping_list_lines_product", table_name="shopping_list_lines")
    op.drop_index("ix_shopping_list_lines_list_position", table_name="shopping_list_lines")
    op.drop_table("shopping_list_lines")
    op.drop_index("ix_shopping_lists_company_updated", table_name="shopping_lists")
    op.drop_table("shopping_lists")
