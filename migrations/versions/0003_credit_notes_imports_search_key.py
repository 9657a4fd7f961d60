"""Credit notes, import jobs, and a lower-cased search key on products.

Credit notes reduce what a company owes (invoices.credited_total); import jobs keep the
progress and report of CSV imports; products.search_key ("sku name", lower-cased, binary
collation on MariaDB) makes searching by SKU or name a narrow index scan.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 06:23:58.304196

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('apply_valid', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('total_lines', sa.Integer(), nullable=False),
    sa.Column('processed_lines', sa.Integer(), nullable=False),
    sa.Column('applied_lines', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON().with_variant(sa.JSON(none_as_null=True), 'mysql'), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('products', 'stock', 'group_prices')", name=op.f('ck_import_jobs_kind')),
    sa.CheckConstraint("status IN ('queued', 'validating', 'applying', 'done', 'rejected', 'failed')", name=op.f('ck_import_jobs_status')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_import_jobs_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_import_jobs_user_created', ['user_id', 'created_at'], unique=False)

    op.create_table('credit_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_credit_notes_amount_positive')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_credit_notes_company_id_companies')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_credit_notes_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_credit_notes_issued_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
    sa.UniqueConstraint('number', name=op.f('uq_credit_notes_number'))
    )
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.create_index('ix_credit_notes_company_issued', ['company_id', 'issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_notes_invoice_id'), ['invoice_id'], unique=False)

    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credited_total', sa.Numeric(precision=14, scale=2), nullable=False, server_default='0'))

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_key', sa.String(length=270).with_variant(mysql.VARCHAR(charset='utf8mb4', collation='utf8mb4_bin', length=270), 'mariadb').with_variant(mysql.VARCHAR(charset='utf8mb4', collation='utf8mb4_bin', length=270), 'mysql'), nullable=False, server_default=''))

    # Existing products get their key here; from now on the model keeps it (search_key_of).
    products = sa.table('products', sa.column('id'), sa.column('sku'), sa.column('name'), sa.column('search_key'))
    connection = op.get_bind()
    rows = connection.execute(sa.select(products.c.id, products.c.sku, products.c.name)).all()
    for row in rows:
        connection.execute(
            products.update()
            .where(products.c.id == row.id)
            .values(search_key=f"{row.sku} {row.name}".lower()[:270])
        )

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index('ix_products_archived_search', ['is_archived', 'search_key'], unique=False)



def downgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index('ix_products_archived_search')
        batch_op.drop_column('search_key')

    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_column('credited_total')

    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_notes_invoice_id'))
        batch_op.drop_index('ix_credit_notes_company_issued')

    op.drop_table('credit_notes')
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_import_jobs_user_created')

    op.drop_table('import_jobs')
