"""Catalogue indexes: category counts and pages, and price order for base and group prices.

Measured with bench/catalog.py at 100,000 products.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 05:22:36.402407

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('group_prices', schema=None) as batch_op:
        batch_op.create_index('ix_group_prices_group_price', ['group_id', 'price', 'product_id'], unique=False)

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index('ix_products_archived_base_price', ['is_archived', 'base_price'], unique=False)
        batch_op.create_index('ix_products_archived_category', ['is_archived', 'category_id'], unique=False)



def downgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index('ix_products_archived_category')
        batch_op.drop_index('ix_products_archived_base_price')

    with op.batch_alter_table('group_prices', schema=None) as batch_op:
        batch_op.drop_index('ix_group_prices_group_price')

