"""Runs of four digits in the catalogue's search index, beside its byte trigrams.

An SKU fragment of digits was found by intersecting two trigram lists that grow with the
catalogue (~4,000 entries each at 1,000,000 products); each run of four digits is held by
~300 (core.search_index.grams_of). No table changes: the runs are keys of their own in
product_trigrams, numbered from 2**24, above every trigram.

Revision ID: 0025
Revises: 0024
Create Date: 2027-02-08 10:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

# core.search_index.DIGITS_BASE when this migration was written.
DIGITS_BASE = 1 << 24


def upgrade():
    # The products already there: the application's own indexer (core.search_index).
    from core import search_index

    search_index.add_digit_runs(op.get_bind())


def downgrade():
    op.execute(f"DELETE FROM product_trigrams WHERE trigram >= {DIGITS_BASE}")
