"""Quantity breaks, minimum order quantity and order multiple (pack size).

products.min_quantity and products.order_multiple (both 1 by default: nothing changes for
the products already there); price_breaks holds the unit price from a quantity on, per
product, on the base list (group_id NULL) or on one group's list. A NULL group_id is
distinct from every other in a unique key on both databases, so the base list's
uniqueness is kept by core.products (the product's row is locked while its breaks are
replaced).

Revision ID: 0012
Revises: 0011
Create Date: 2027-01-12 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases: a batch rebuild of products on SQLite would drop
    # the catalogue-count triggers of 0011.
    op.add_column(
        "products",
        sa.Column("min_quantity", sa.Integer(), nullable=False, server_default="1"),
    )
    op.add_column(
        "products",
        sa.Column("order_multiple", sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_table(
        "price_breaks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("min_quantity", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("min_quantity >= 2", name=op.f("ck_price_breaks_from_two")),
        sa.CheckConstraint("price > 0", name=op.f("ck_price_breaks_price_positive")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_price_breaks_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["customer_groups.id"],
            name=op.f("fk_price_breaks_group_id_customer_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_breaks")),
        sa.UniqueConstraint(
            "product_id", "group_id", "min_quantity", name=op.f("uq_price_breaks_product_id")
        ),
    )
    # A group's breaks of many products at once (offers_for, the group's price list).
    op.create_index(
        op.f("ix_price_breaks_group_product"), "price_breaks", ["group_id", "product_id"]
    )


def downgrade():
    op.drop_index("ix_price_breaks_group_product", table_name="price_breaks")
    op.drop_table("price_breaks")
    op.drop_column("products", "order_multiple")
    op.drop_column("products", "min_quantity")
