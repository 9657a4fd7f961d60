"""Catalogue filters: each product's specifications as indexed rows.

spec_values holds each (name, value) of the catalogue's specifications once; product_specs
each product's values by number, with their place in the product's list (core.specs_index
keeps both from products.specs on every write). The catalogue's filters select products by
value from ix_product_specs_value and count a listing's values from its products' rows,
grouped by number (core.catalog_filters). Names and values compare byte by byte on MariaDB
too (a binary collation), as they do on SQLite. products gains (is_archived, category_id,
stock): "in stock only" within a category without reading each product's row.

Revision ID: 0015
Revises: 0014
Create Date: 2027-01-20 10:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _text(length: int):
    return sa.String(length=length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def upgrade():
    op.create_table(
        "spec_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _text(60), nullable=False),
        sa.Column("value", _text(200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_spec_values_name_value", "spec_values", ["name", "value"], unique=True)
    op.create_table(
        "product_specs",
        sa.Column("product_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["value_id"], ["spec_values.id"]),
        sa.PrimaryKeyConstraint("product_id", "value_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_product_specs_value", "product_specs", ["value_id", "product_id"])
    # "In stock only" in a category, and its filters' counts, read from the index alone.
    op.create_index(
        "ix_products_archived_category_stock",
        "products",
        ["is_archived", "category_id", "stock"],
    )
    # The products already there: the application's own indexer (core.specs_index).
    from core import specs_index

    specs_index.rebuild(op.get_bind())


def downgrade():
    op.drop_index("ix_products_archived_category_stock", table_name="products")
    op.drop_index("ix_product_specs_value", table_name="product_specs")
    op.drop_table("product_specs")
    op.drop_index("ix_spec_values_name_value", table_name="spec_values")
    op.drop_table("spec_values")
