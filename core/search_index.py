"""The catalogue's search index: byte trigrams (and runs of four digits) of each product's
search key.

A search by SKU or name is a substring test on `products.search_key` ("sku name",
lower-cased). Every substring of three or more bytes contains each of its byte trigrams
and runs of four digits (its keys, grams_of), so the products holding the rarest key of a
query are a short list that holds every match; core.catalog reads that list and checks
the substring on it. Only products on sale are indexed. Each entry carries the product's
name bucket (search_buckets: lower bounds of the name order, as the database compares
names), so that a key's products can be read roughly in name order and a page by name
needs only its first buckets.

The index is kept on every ORM flush that inserts, deletes, archives, restores or renames
a product (listeners below). Bulk writers that use Core statements call refresh() with the
ids they wrote, or rebuild() after a bulk load (bench/catalog.py); the buckets are chosen
by rebuild() and only speed depends on them being recent.
"""

import time
from collections.abc import Iterable

from sqlalchemy import delete, event, false, func, insert, select
from sqlalchemy.orm import Session

from .models import Product
from .models.catalog import product_trigrams, search_buckets

BUCKETS = 4096
BATCH = 5_000
_DIRTY = "portal_search_dirty"
_WATCHED = ("search_key", "name", "is_archived")


# A run of four ASCII digits is a key of its own, numbered after every byte trigram (those
# are three bytes, below 2**24): at 1,000,000 products each three-digit trigram is held by
# ~4,000 products, each four-digit run by ~300, so an SKU fragment of digits is read from
# one short list instead of intersecting two long ones (migration 0025 added them).
DIGITS_BASE = 1 << 24
_DIGITS = frozenset(b"0123456789")


def _grams(raw: bytes):
    """Each byte trigram of `raw`, then each run of four digits, in the order they occur."""
    for i in range(len(raw) - 2):
        yield int.from_bytes(raw[i : i + 3], "big")
        four = raw[i : i + 4]
        if len(four) == 4 and _DIGITS.issuperset(four):
            yield DIGITS_BASE + int(four)


def grams_of(text: str) -> set[int]:
    """The distinct keys of `text` in UTF-8, each as a number: its byte trigrams (3 bytes,
    big-endian) and its runs of four digits (DIGITS_BASE + their value). Every substring of
    three bytes or more holds each of its own keys, so a product holding a query holds
    them all."""
    return set(_grams(text.encode()))


def grams_in_order(text: str) -> dict[int, None]:
    """The distinct keys of `text` (grams_of), in the order they first occur."""
    return dict.fromkeys(_grams(text.encode()))


def _last_bound(name: str):
    """The bucket of `name`: the last bound not after it, one dive down the first_name
    index. Never correlated: MariaDB then reads every bound for each product instead
    (3.6 ms a product with 4,096 bounds)."""
    return (
        select(search_buckets.c.bucket)
        .where(search_buckets.c.first_name <= name)
        # Equal bounds (a name repeated, or equal in the collation): the last of them, as
        # rebuild() reads each bucket as [its bound, the next bound).
        .order_by(search_buckets.c.first_name.desc(), search_buckets.c.bucket.desc())
        .limit(1)
        .scalar_subquery()
    )


def buckets_of(connection, names: Iterable[str]) -> dict[str, int]:
    """{name: its bucket}, as the database compares names, a few hundred per statement."""
    names = sorted(set(names))
    found: dict[str, int] = {}
    for start in range(0, len(names), 200):
        chunk = names[start : start + 200]
        row = connection.execute(select(*(_last_bound(name) for name in chunk))).one()
        found.update((name, bucket or 0) for name, bucket in zip(chunk, row, strict=True))
    return found


def refresh(connection, ids: Iterable[int]) -> None:
    """Make the index of these products match their rows (deleted or archived: none)."""
    ids = sorted(set(ids))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        connection.execute(delete(product_trigrams).where(product_trigrams.c.product_id.in_(chunk)))
        rows = connection.execute(
            select(Product.id, Product.search_key, Product.name).where(
                Product.id.in_(chunk), Product.is_archived == false()
            )
        ).all()
        buckets = buckets_of(connection, (name for _id, _key, name in rows))
        _insert(connection, [(pid, key, buckets[name]) for pid, key, name in rows])


def _insert(connection, rows, lowest: int = 0) -> None:
    """Index (product id, search key, bucket) rows: their keys from `lowest` up."""
    entries = [
        {"trigram": trigram, "bucket": bucket, "product_id": product_id}
        for product_id, key, bucket in rows
        for trigram in grams_of(key or "")
        if trigram >= lowest
    ]
    # In key order: the index's pages fill in turn instead of splitting at random.
    entries.sort(key=lambda e: (e["trigram"], e["bucket"], e["product_id"]))
    for start in range(0, len(entries), BATCH * 10):
        connection.execute(insert(product_trigrams), entries[start : start + BATCH * 10])


def add_digit_runs(connection) -> None:
    """Add the runs of four digits of every product on sale to an index that has only its
    trigrams (migration 0025), in batches of products by id, each with its bucket as its
    trigrams hold it. A product none of whose trigrams is there is indexed afresh. Runs
    already there (an index rebuilt since) are replaced."""
    pt = product_trigrams
    connection.execute(delete(pt).where(pt.c.trigram >= DIGITS_BASE))
    last = 0
    while True:
        rows = connection.execute(
            select(Product.id, Product.search_key)
            .where(Product.id > last, Product.is_archived == false())
            .order_by(Product.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        runs = {pid: key for pid, key in rows if any(g >= DIGITS_BASE for g in grams_of(key or ""))}
        if not runs:
            continue
        bucket = dict(
            connection.execute(
                select(pt.c.product_id, func.min(pt.c.bucket))
                .where(pt.c.product_id.in_(sorted(runs)))
                .group_by(pt.c.product_id)
            ).all()
        )
        indexed = [(pid, key, bucket[pid]) for pid, key in runs.items() if pid in bucket]
        _insert(connection, indexed, lowest=DIGITS_BASE)
        refresh(connection, [pid for pid in runs if pid not in bucket])


_bucket_counts: dict[int, tuple[float, int]] = {}  # id(engine) -> (until, count)


def bucket_count(session) -> int:
    """How many name buckets the index has, read at most once a minute per process (this
    process's rebuild() forgets it at once). Only steers estimates (core.catalog)."""
    key, now = id(session.get_bind()), time.monotonic()
    kept = _bucket_counts.get(key)
    if kept is None or kept[0] <= now:
        count = session.scalar(select(func.count()).select_from(search_buckets)) or 1
        kept = _bucket_counts[key] = (now + 60.0, count)
    return kept[1]


def rebuild(connection, buckets: int = BUCKETS) -> None:
    """Choose the name buckets afresh from the products on sale, and index every product.

    Each bucket's products are read as a range of the name index, [its bound, the next
    bound), which is what refresh() finds for each of them one by one.
    """
    sold = Product.is_archived == false()
    names = connection.execute(
        select(Product.name).where(sold).order_by(Product.name, Product.id)
    ).scalars()
    total = connection.scalar(select(func.count()).where(sold)) or 0
    step = max(1, -(-total // buckets))
    bounds = [name for i, name in enumerate(names) if i % step == 0]
    _bucket_counts.clear()
    connection.execute(delete(search_buckets))
    connection.execute(delete(product_trigrams))
    if not bounds:
        return
    connection.execute(
        insert(search_buckets),
        [{"bucket": i, "first_name": name} for i, name in enumerate(bounds)],
    )
    pending = []
    for bucket in range(len(bounds)):
        where = [sold]
        if bucket > 0:
            where.append(Product.name >= bounds[bucket])
        if bucket + 1 < len(bounds):
            where.append(Product.name < bounds[bucket + 1])
        found = connection.execute(select(Product.id, Product.search_key).where(*where))
        pending += [(pid, key, bucket) for pid, key in found]
        if len(pending) >= BATCH * 4:
            _insert(connection, pending)
            pending = []
    _insert(connection, pending)


# --- kept on every ORM write ----------------------------------------------------------


def _note(session: Session, product_id) -> None:
    if product_id is not None:
        session.info.setdefault(_DIRTY, set()).add(product_id)


@event.listens_for(Product, "after_insert")
@event.listens_for(Product, "after_delete")
def _written(mapper, connection, target: Product) -> None:
    session = Session.object_session(target)
    if session is not None:
        _note(session, target.id)


@event.listens_for(Product, "after_update")
def _updated(mapper, connection, target: Product) -> None:
    from sqlalchemy import inspect

    state = inspect(target)
    if any(state.attrs[name].history.has_changes() for name in _WATCHED):
        session = Session.object_session(target)
        if session is not None:
            _note(session, target.id)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    dirty = session.info.pop(_DIRTY, None)
    if dirty:
        refresh(session.connection(), dirty)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_DIRTY, None)
