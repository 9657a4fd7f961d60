"""What each customer group may see: categories and single products hidden from chosen groups.

group_hidden_categories holds the categories a group may not see (a hidden category hides
its subcategories too: core.visibility expands them), group_hidden_products the single
products. A row goes with its group, category or product (cascade); the product and
category indexes serve those cascades and the back office's "hidden from" of a product.

Revision ID: 0014
Revises: 0013
Create Date: 2027-01-20 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "group_hidden_categories",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["customer_groups.id"],
            name=op.f("fk_group_hidden_categories_group_id_customer_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_group_hidden_categories_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "category_id", name=op.f("pk_group_hidden_categories")),
    )
    op.create_index(
        op.f("ix_group_hidden_categories_category_id"),
        "group_hidden_categories",
        ["category_id"],
    )
    op.create_table(
        "group_hidden_products",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["customer_groups.id"],
            name=op.f("fk_group_hidden_products_group_id_customer_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_group_hidden_products_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "product_id", name=op.f("pk_group_hidden_products")),
    )
    op.create_index(
        op.f("ix_group_hidden_products_product_id"), "group_hidden_products", ["product_id"]
    )


def downgrade():
    # Each table goes with its indexes (MariaDB keeps the index a foreign key needs until
    # the table itself is dropped).
    op.drop_table("group_hidden_products")
    op.drop_table("group_hidden_categories")
