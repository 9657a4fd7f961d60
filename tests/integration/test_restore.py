"""The suite's own restore between tests (tests/conftest.py Template): whatever a test
did to a table, the table is the demo's again afterwards, row for row and byte for byte.

Restoring copies back only the rows that differ, so this checks the differences it must
see: a change of case or a trailing space (equal in MariaDB's collation), a value set to
NULL, a row deleted, a row added, a key changed, and a table whose columns are all key.
"""

from sqlalchemy import delete, func, insert, inspect, select, text, update

from extensions import db


def _rows(table: str, schema: str | None = None) -> list[tuple]:
    """Every row of a table, in key order, each value as the database holds it."""
    bind = db.session.get_bind()
    key = inspect(bind).get_pk_constraint(table)["constrained_columns"]
    mysql = bind.dialect.name != "sqlite"
    quote = (lambda n: f"`{n}`") if mysql else (lambda n: f'"{n}"')
    where = f"{schema}." if schema else ""
    columns = [c["name"] for c in inspect(bind).get_columns(table)]
    # As bytes on MariaDB, so that "a" and "A " stay apart.
    shown = ", ".join(f"CAST({quote(c)} AS BINARY)" if mysql else quote(c) for c in columns)
    order = ", ".join(quote(k) for k in key)
    return db.session.execute(
        text(f"SELECT {shown} FROM {where}{quote(table)} ORDER BY {order}")
    ).all()


def test_every_kind_of_change_is_undone(app):
    template, tracker = app.extensions["test_template"]
    names = ("products", "product_trigrams", "users", "audit_log")
    with app.app_context():
        products, trigrams, users, audit = (db.metadata.tables[name] for name in names)
        before = {name: _rows(name) for name in names}
        ids = select(products.c.id).order_by(products.c.id)
        first, second, third = db.session.scalars(ids.limit(3))
        last = db.session.scalar(select(func.max(products.c.id)))
        entry = db.session.execute(select(audit).order_by(audit.c.id).limit(1)).mappings().one()
        unchecked = "PRAGMA foreign_keys=OFF" if _sqlite() else "SET FOREIGN_KEY_CHECKS=0"
        db.session.execute(text(unchecked))
        # Plain SQL for the two changes a collation cannot see: an ORM or Core update would
        # also move updated_at, and the row would differ anyway.
        title, sku = db.session.execute(
            select(products.c.name, products.c.sku).where(products.c.id == first)
        ).one()
        assert title != title.upper()
        change = text("UPDATE products SET name = :name, sku = :sku WHERE id = :id")
        db.session.execute(change, {"name": title.upper(), "sku": sku + " ", "id": first})
        for statement in (
            update(products).where(products.c.id == third).values(category_id=None),
            delete(products).where(products.c.id == last),
            update(users)
            .where(users.c.id == select(func.min(users.c.id)).scalar_subquery())
            .values(id=users.c.id + 100_000),
            insert(audit).values({k: v for k, v in entry.items() if k != "id"}),
            delete(trigrams).where(trigrams.c.product_id == first),
            update(trigrams)
            .where(trigrams.c.product_id == second)
            .values(bucket=trigrams.c.bucket + 1),
        ):
            db.session.execute(statement)
        db.session.commit()
        changed = {name: _rows(name) for name in names}
        assert [name for name in names if changed[name] == before[name]] == []

        db.session.remove()
        template.restore(tracker.take())
        assert {name: _rows(name) for name in names} == before


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"
