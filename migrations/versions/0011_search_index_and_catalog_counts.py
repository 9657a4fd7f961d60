"""The catalogue's search index (byte trigrams, name buckets) and its kept totals.

product_trigrams holds each byte trigram of the search key of every product on sale, with
the product's name bucket; search_buckets the buckets' lower bounds (core.search_index).
catalog_counts holds the products on sale per category, kept by triggers on products in
the same transaction as each insert, delete, archive, restore or move (core.catalog).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SHARDS = 16

# MariaDB: one shard per connection (modulo SHARDS), so that two transactions adding
# products to one category rarely wait for each other's row lock on the count.
_MARIADB_ADD = (
    "INSERT INTO catalog_counts (category_key, shard, sold) "
    "VALUES (COALESCE({row}.category_id, 0), MOD(CONNECTION_ID(), " + str(SHARDS) + "), {delta}) "
    "ON DUPLICATE KEY UPDATE sold = sold + ({delta})"
)
MARIADB_TRIGGERS = {
    "products_count_insert": (
        "CREATE TRIGGER products_count_insert AFTER INSERT ON products FOR EACH ROW "
        "BEGIN IF NOT NEW.is_archived THEN "
        + _MARIADB_ADD.format(row="NEW", delta=1)
        + "; END IF; END"
    ),
    "products_count_delete": (
        "CREATE TRIGGER products_count_delete AFTER DELETE ON products FOR EACH ROW "
        "BEGIN IF NOT OLD.is_archived THEN "
        + _MARIADB_ADD.format(row="OLD", delta=-1)
        + "; END IF; END"
    ),
    "products_count_update": (
        "CREATE TRIGGER products_count_update AFTER UPDATE ON products FOR EACH ROW "
        "BEGIN IF NOT (OLD.is_archived <=> NEW.is_archived "
        "AND OLD.category_id <=> NEW.category_id) THEN "
        "IF NOT OLD.is_archived THEN "
        + _MARIADB_ADD.format(row="OLD", delta=-1)
        + "; END IF; IF NOT NEW.is_archived THEN "
        + _MARIADB_ADD.format(row="NEW", delta=1)
        + "; END IF; END IF; END"
    ),
}

# SQLite has one writer at a time: one shard.
_SQLITE_ADD = (
    "INSERT OR IGNORE INTO catalog_counts (category_key, shard, sold) "
    "VALUES (COALESCE({row}.category_id, 0), 0, 0); "
    "UPDATE catalog_counts SET sold = sold + ({delta}) "
    "WHERE category_key = COALESCE({row}.category_id, 0) AND shard = 0;"
)
SQLITE_TRIGGERS = {
    "products_count_insert": (
        "CREATE TRIGGER products_count_insert AFTER INSERT ON products "
        "WHEN NOT NEW.is_archived BEGIN " + _SQLITE_ADD.format(row="NEW", delta=1) + " END"
    ),
    "products_count_delete": (
        "CREATE TRIGGER products_count_delete AFTER DELETE ON products "
        "WHEN NOT OLD.is_archived BEGIN " + _SQLITE_ADD.format(row="OLD", delta=-1) + " END"
    ),
    "products_count_leave": (
        "CREATE TRIGGER products_count_leave AFTER UPDATE OF is_archived, category_id "
        "ON products WHEN NOT OLD.is_archived "
        "AND (NEW.is_archived OR NEW.category_id IS NOT OLD.category_id) "
        "BEGIN " + _SQLITE_ADD.format(row="OLD", delta=-1) + " END"
    ),
    "products_count_enter": (
        "CREATE TRIGGER products_count_enter AFTER UPDATE OF is_archived, category_id "
        "ON products WHEN NOT NEW.is_archived "
        "AND (OLD.is_archived OR NEW.category_id IS NOT OLD.category_id) "
        "BEGIN " + _SQLITE_ADD.format(row="NEW", delta=1) + " END"
    ),
}


def _triggers():
    mariadb = op.get_bind().dialect.name in ("mysql", "mariadb")
    return MARIADB_TRIGGERS if mariadb else SQLITE_TRIGGERS


def upgrade():
    op.create_table(
        "product_trigrams",
        sa.Column("trigram", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("product_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("trigram", "bucket", "product_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_product_trigrams_product", "product_trigrams", ["product_id"])
    op.create_table(
        "search_buckets",
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("bucket"),
    )
    op.create_index("ix_search_buckets_first_name", "search_buckets", ["first_name"])
    op.create_table(
        "catalog_counts",
        sa.Column("category_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sold", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("category_key", "shard"),
    )
    op.execute(
        "INSERT INTO catalog_counts (category_key, shard, sold) "
        "SELECT COALESCE(category_id, 0), 0, COUNT(*) FROM products "
        "WHERE is_archived = 0 GROUP BY COALESCE(category_id, 0)"
    )
    for statement in _triggers().values():
        op.execute(statement)
    # The products already there: the application's own indexer (core.search_index).
    from core import search_index

    search_index.rebuild(op.get_bind())


def downgrade():
    for name in _triggers():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("catalog_counts")
    op.drop_index("ix_search_buckets_first_name", table_name="search_buckets")
    op.drop_table("search_buckets")
    op.drop_index("ix_product_trigrams_product", table_name="product_trigrams")
    op.drop_table("product_trigrams")
