"""Acting for a customer: who placed a cart, quote or order on a customer's behalf.

carts, quotes and orders gain acting_staff_id: the staff member who built the cart, asked
for the quote or placed the order in the customer person's name (the person stays in
owner_id / requested_by_id / placed_by_id). login_sessions gains acting_for_id,
acting_mode and acting_since: whom a staff session opens the storefront as ("act" or
"view"), and since when. A staff member or person removed leaves NULL behind.

The new back-office permission `customers.act` for the preset roles made before it
existed, as core.access's presets grant it (Admin, Store manager, Sales staff).

SQLite cannot add a named reference to a table, and a batch rebuild of orders, carts or
quotes would run their children's ON DELETE CASCADE (the old table is dropped with foreign
keys on, inside the migration's transaction): there, the column is added plainly and its
reference written into the table's definition, as SQLite's documentation describes for
changes that leave the stored rows as they are (a column of NULLs breaks no reference).
MariaDB adds the column, then its named foreign key.

Revision ID: 0016
Revises: 0015
Create Date: 2027-01-20 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

NEW_GRANTS = {"customers.act": ("admin", "manager", "sales")}
# (table, column): each references users.id, ON DELETE SET NULL, and is indexed.
REFERENCES = (
    ("carts", "acting_staff_id"),
    ("quotes", "acting_staff_id"),
    ("orders", "acting_staff_id"),
    ("login_sessions", "acting_for_id"),
)


def _constraint(table: str, column: str) -> str:
    return (
        f"CONSTRAINT fk_{table}_{column}_users FOREIGN KEY({column}) "
        "REFERENCES users (id) ON DELETE SET NULL"
    )


def _rewrite_sqlite_table(table: str, change) -> None:
    """Give a SQLite table the definition `change(sql)` makes of its own, in place.

    SQLite's "other kinds of table schema changes" (writable_schema, then a new schema
    version, which makes every connection read the schema again).
    """
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (change(sql), table)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _add_reference(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER")

        def with_reference(sql: str) -> str:
            body = sql.rstrip()
            if not body.endswith(")"):
                raise RuntimeError(f"unexpected definition of {table}: {sql}")
            return f"{body[:-1].rstrip()}, \n\t{_constraint(table, column)}\n)"

        _rewrite_sqlite_table(table, with_reference)
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(
            f"fk_{table}_{column}_users", table, "users", [column], ["id"], ondelete="SET NULL"
        )
    op.create_index(f"ix_{table}_{column}", table, [column])


def _drop_reference(table: str, column: str) -> None:
    # The reference first: MariaDB keeps the index while a foreign key needs it.
    if op.get_bind().dialect.name == "sqlite":

        def without_reference(sql: str) -> str:
            return sql.replace(f", \n\t{_constraint(table, column)}\n", "\n")

        _rewrite_sqlite_table(table, without_reference)
    else:
        op.drop_constraint(f"fk_{table}_{column}_users", table, type_="foreignkey")
    op.drop_index(f"ix_{table}_{column}", table_name=table)
    op.drop_column(table, column)


def upgrade():
    for table, column in REFERENCES:
        _add_reference(table, column)
    op.add_column("login_sessions", sa.Column("acting_mode", sa.String(length=8), nullable=True))
    op.add_column("login_sessions", sa.Column("acting_since", sa.DateTime(), nullable=True))

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
    op.execute(sa.text("DELETE FROM role_permissions WHERE permission = 'customers.act'"))
    op.drop_column("login_sessions", "acting_since")
    op.drop_column("login_sessions", "acting_mode")
    for table, column in reversed(REFERENCES):
        _drop_reference(table, column)
