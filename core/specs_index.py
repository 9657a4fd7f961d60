"""The catalogue's specification index: each product's specifications as rows.

`products.specs` is a JSON object ({"Package": "0603", "Voltage": "16 V"}), which no
index of either database can select on or count by. spec_values holds each (name, value)
of the catalogue once, product_specs each product's values by number with their place in
the product's list, so that the catalogue's filters (core.catalog_filters) find the
products holding a value from its (value_id, product_id) index and count a listing's
values from its products' rows. Every product has its rows, archived or not: a listing
joins the products on sale. A value no product holds any more stays, counted by nobody.

The rows are kept on every ORM flush that inserts or deletes a product or changes its
specifications (listeners below: core.products' create and update, the demo, any other
ORM write). Writers that use Core statements call refresh() with the ids they wrote
(bench/catalog.py), or rebuild() after a bulk load (`flask search-index`); the CSV import
creates products without specifications and never changes them (core.imports.kinds).
"""

from collections.abc import Iterable

from sqlalchemy import delete, event, insert, inspect, select, tuple_
from sqlalchemy.orm import Session

from .models import Product
from .models.catalog import SPEC_NAME_LENGTH, SPEC_VALUE_LENGTH, product_specs, spec_values

BATCH = 5_000
PAIRS = 400  # (name, value) pairs looked up per statement
_DIRTY = "portal_specs_dirty"


def specs_of(specs) -> list[tuple[str, str, int]]:
    """One product's specifications as (name, value, place), in its own order (names and
    values are bounded by core.products.clean_specs; a longer one written around it is
    cut, an empty one left out)."""
    if not isinstance(specs, dict):
        return []
    found, seen = [], set()
    for position, (name, value) in enumerate(specs.items()):
        name = str(name)[:SPEC_NAME_LENGTH]
        value = "" if value is None else str(value)[:SPEC_VALUE_LENGTH]
        if not name or not value or name in seen:
            continue
        seen.add(name)
        found.append((name, value, position))
    return found


def _lookup(connection, pairs: list[tuple[str, str]]) -> dict:
    found = {}
    sv = spec_values
    for start in range(0, len(pairs), PAIRS):
        chunk = pairs[start : start + PAIRS]
        stmt = select(sv.c.id, sv.c.name, sv.c.value).where(
            tuple_(sv.c.name, sv.c.value).in_(chunk)
        )
        found.update({(name, value): vid for vid, name, value in connection.execute(stmt)})
    return found


def value_ids(connection, pairs: Iterable[tuple[str, str]], known: dict | None = None) -> dict:
    """{(name, value): its number}, adding the values not there yet.

    Two writers adding one value at once both end with its one number: the unique index
    lets one insert it, the other's insert waits for that one's commit and is then ignored,
    and its next read sees the value (each statement reads what is committed: the portal's
    READ COMMITTED on MariaDB, config.py; SQLite has one writer at a time)."""
    known = {} if known is None else known
    wanted = sorted({pair for pair in pairs if pair not in known})
    if not wanted:
        return known
    known.update(_lookup(connection, wanted))
    missing = [pair for pair in wanted if pair not in known]
    if missing:
        adding = insert(spec_values).prefix_with("IGNORE", dialect="mysql")
        adding = adding.prefix_with("IGNORE", dialect="mariadb")
        adding = adding.prefix_with("OR IGNORE", dialect="sqlite")
        connection.execute(adding, [{"name": name, "value": value} for name, value in missing])
        known.update(_lookup(connection, missing))
    return known


def _write(connection, found: list[tuple[int, dict]], known: dict) -> None:
    """The rows of these products (id, specs), whose old rows are gone."""
    listed = [(pid, specs_of(specs)) for pid, specs in found]
    ids = value_ids(connection, ((n, v) for _pid, specs in listed for n, v, _at in specs), known)
    rows = [
        {"product_id": pid, "value_id": ids[(name, value)], "position": position}
        for pid, specs in listed
        for name, value, position in specs
    ]
    # In key order: the index's pages fill in turn instead of splitting at random.
    rows.sort(key=lambda row: (row["product_id"], row["value_id"]))
    for start in range(0, len(rows), BATCH * 4):
        connection.execute(insert(product_specs), rows[start : start + BATCH * 4])


def refresh(connection, ids: Iterable[int]) -> None:
    """Make the rows of these products match their specifications (deleted: none)."""
    ids = sorted(set(ids))
    known: dict = {}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        connection.execute(delete(product_specs).where(product_specs.c.product_id.in_(chunk)))
        found = connection.execute(select(Product.id, Product.specs).where(Product.id.in_(chunk)))
        _write(connection, list(found), known)


def remove(connection, ids: Iterable[int]) -> None:
    """Drop the rows of products about to be deleted (core.products.delete), before their
    row goes: explicitly, the same on every backend, as that function does for the rest."""
    connection.execute(delete(product_specs).where(product_specs.c.product_id.in_(sorted(ids))))


def rebuild(connection) -> None:
    """Index every product afresh (a migration, a bulk load), reading by id ranges."""
    connection.execute(delete(product_specs))
    known: dict = {}
    last = 0
    while True:
        found = connection.execute(
            select(Product.id, Product.specs)
            .where(Product.id > last)
            .order_by(Product.id)
            .limit(BATCH)
        ).all()
        if not found:
            return
        _write(connection, found, known)
        last = found[-1][0]


# --- kept on every ORM write ----------------------------------------------------------


def _note(session: Session | None, product_id) -> None:
    if session is not None and product_id is not None:
        session.info.setdefault(_DIRTY, set()).add(product_id)


@event.listens_for(Product, "after_insert")
@event.listens_for(Product, "after_delete")
def _written(mapper, connection, target: Product) -> None:
    _note(Session.object_session(target), target.id)


@event.listens_for(Product, "after_update")
def _updated(mapper, connection, target: Product) -> None:
    if inspect(target).attrs.specs.history.has_changes():
        _note(Session.object_session(target), target.id)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    dirty = session.info.pop(_DIRTY, None)
    if dirty:
        refresh(session.connection(), dirty)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_DIRTY, None)
