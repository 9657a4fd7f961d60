"""Browsing and searching the catalogue, for the storefront and the back office.

A page costs the same few statements at 300 products as at 100,000, and each of them
reads what an index hands over in order (bench/catalog.py measures it on MariaDB):

- by name, the (is_archived, name) index; a category joins the ids of its products,
  read from a category index, instead of reading every product row it walks past;
- by SKU, the unique SKU index;
- by price, the group's prices in order from group_prices (group_id, price, product_id),
  merged with the other products' base prices from (is_archived, base_price);
- a search of three bytes or more looks at its trigrams in the search index
  (core.search_index) once: a trigram held by no product means no match; one held by
  few products gives all the candidates, each checked and the matches sorted and counted
  exactly; so do the products holding two common trigrams at once, read from the index
  alone when both lists are short enough; a broad one is read in name-bucket order until
  the page by name is full, and its count stops at COUNT_CAP ("1,000+"). Shorter
  searches, and broad ones in other orders, scan an index as before: (is_archived, name,
  id, search_key) by name, else the narrow (is_archived, search_key), and sort their
  matches;
- the pager's next and previous links carry a cursor (the neighbouring product's sort
  key), so any page it reaches is read from its key on; a page by number alone in the
  second half is read backwards from the end;
- the total of a listing that is not a search sums the counts that the products'
  triggers keep per category (catalog_counts), and is kept per process until products
  change.

Availability and age have no index (the schema is fixed here): those orders read every
product of the listing.
"""

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import Boolean, and_, false, func, literal_column, or_, select, union_all
from sqlalchemy.orm import defer, joinedload, undefer

from extensions import db

from . import numbers, search_index, visibility
from .i18n import _
from .kept import PerEngine, WriteKept, writes_to
from .models import Category, GroupPrice, Product
from .models.catalog import catalog_counts, product_trigrams
from .offer import GroupPolicy, Offer, group_price_column, offers_for
from .pagination import Page

# Labels are lazy: each list's sort menu shows them in its viewer's language.
SORTS = {
    "name": _("Name A–Z"),
    "sku": _("SKU"),
    "price": _("Price, low to high"),
    "-price": _("Price, high to low"),
    "stock": _("Availability"),
    "newest": _("Newest first"),
}
MAX_PER_PAGE = 96
MAX_PAGE = 999_999
# Without MariaDB's FOUND_ROWS(), a search sorts and counts up to this many matches in
# one statement; a broader one is sorted and counted again without the bound.
SEARCH_WINDOW = 10_000
# Totals are re-read at once after a change made through this process, and at least
# this often (seconds) for changes made by other processes. Re-reading sums the kept
# counts (catalog_counts): a few hundred rows, never the products.
TOTAL_TTL = 2.0
MYSQL = ("mysql", "mariadb")
# A search through the trigram index: a trigram held by at most this many products is
# rare enough that all of them are checked and the matches sorted and counted exactly.
CANDIDATE_CAP = 2_000
# A query whose trigrams are each held by more than CANDIDATE_CAP products may still
# match few: the products holding both of its two sparsest trigrams are read from the
# index alone (no product row) when each of the two is held by at most this many.
INTERSECT_READ = 20_000
# At most this many of a query's trigrams are looked at (spread over it): any subset
# finds every match; more only sharpens the estimate.
MAX_TRIGRAMS = 8
# A broad search stops counting here and says "1,000+" (or the end of the page, deeper).
COUNT_CAP = 1_000
# Orders that a page can be sought in by its neighbour's key (the pager's cursors).
SEEKABLE = ("name", "sku", "price", "-price")


class BadQuery(ValueError):
    """A catalogue parameter the user can correct; the message says how."""


@dataclass(frozen=True)
class Listing(Page):
    """One page of products, each paired with the viewer's offer (None for staff).

    `at_least`: the search stopped counting, so `total` is a lower bound ("1,000+").
    `next_at` / `prev_at`: cursors that find the next and previous page by key, from this
    page's last and first product, instead of skipping every product before them.
    `plan`: how a search was run (_plan's answer), which listing_where can reuse.
    """

    at_least: bool = False
    next_at: str | None = None
    prev_at: str | None = None
    plan: tuple | None = None

    @property
    def rows(self) -> list[tuple[Product, Offer | None]]:
        return self.items

    @property
    def has_next(self) -> bool:
        # Stopped counting past this page's end: more match.
        return self.at_least or super().has_next


class PageAt(int):
    """A page number with the cursor it was reached by (None: by number alone)."""

    cursor: "Seek | None" = None

    def __new__(cls, number: int, cursor: "Seek | None" = None):
        page = super().__new__(cls, number)
        page.cursor = cursor
        return page


@dataclass(frozen=True)
class Seek:
    """Where a page starts: just after ("a") or just before ("b") a product's sort key."""

    direction: str
    sort: str
    key: tuple

    def encode(self) -> str:
        raw = json.dumps([self.direction, self.sort, *self.key], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str | None) -> "Seek | None":
        """A cursor from a link; anything malformed is ignored (the page number stands)."""
        if not text or len(text) > 600:
            return None
        try:
            raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        if not isinstance(raw, list) or len(raw) < 3 or raw[0] not in ("a", "b"):
            return None
        direction, sort, *key = raw
        widths = {"name": 2, "sku": 1, "price": 2, "-price": 2}
        if sort not in widths or len(key) != widths[sort]:
            return None
        if sort in ("name", "sku") and not isinstance(key[0], str):
            return None
        if sort in ("price", "-price"):
            try:
                key[0] = Decimal(str(key[0]))
            except ArithmeticError:
                return None
            if not key[0].is_finite():
                return None
        if len(key) == 2 and (not isinstance(key[1], int) or isinstance(key[1], bool)):
            return None
        return cls(direction, sort, tuple(key))


def parse_page(raw: str | None) -> int:
    """Page numbers are whole numbers from 1; anything else is a clear error."""
    if raw is None or raw == "":
        return 1
    message = _("The page must be a whole number from 1 upwards.")
    try:
        return numbers.whole(raw, minimum=1, maximum=MAX_PAGE, message=message)
    except numbers.NumberRefused as exc:
        raise BadQuery(exc.args[0]) from None


def parse_query(raw: str | None, max_length: int) -> str:
    q = (raw or "").strip()
    if len(q) > max_length:
        raise BadQuery(
            _("Search text is too long: at most %(count)s characters.", count=max_length)
        )
    return q


def parse_sort(raw: str | None) -> str:
    sort = raw or "name"
    if sort not in SORTS:
        raise BadQuery(
            _(
                "Unknown sort order. Choose one of: %(sorts)s.",
                sorts=", ".join(str(label) for label in SORTS.values()),
            )
        )
    return sort


def parse_listing(args, max_query_length: int) -> tuple[str, str, int]:
    """(q, sort, page) from a query string; BadQuery says what to correct."""
    sort = parse_sort(args.get("sort"))
    page = parse_page(args.get("page"))
    cursor = Seek.decode(args.get("at"))
    return (
        parse_query(args.get("q"), max_query_length),
        sort,
        PageAt(page, cursor if cursor is not None and cursor.sort == sort else None),
    )


def category_tree() -> list[Category]:
    """All categories, parents before their children."""
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def _category_ids(categories: list[Category], category: Category) -> list[int]:
    return [category.id] + [c.id for c in categories if c.parent_id == category.id]


# --- totals kept per process ----------------------------------------------------------

# Statements that can change which products are on sale, or in which category.
_WRITE = writes_to("products")
_COUNTED_COLUMNS = re.compile(r"\b(is_archived|category_id)\b", re.IGNORECASE)
_WHERE = re.compile(r"\sWHERE\s", re.IGNORECASE)


def changes_totals(statement: str) -> bool:
    """Whether a SQL statement may change how many products are on sale (per category).

    Inserts and deletes always may; an update only if it sets is_archived or category_id
    (a stock or price update, the most frequent write, leaves the totals alone).
    """
    match = _WRITE.match(statement)
    if match is None:
        return False
    if not match.group(1).upper().startswith("UPDATE"):
        return True
    assignments = _WHERE.split(statement[match.end() :], 1)[0]
    return _COUNTED_COLUMNS.search(assignments) is not None


def _new_totals() -> WriteKept:
    """Counts of products on sale per category filter (and of a group's hidden ones), for
    one engine in this process: forgotten by every write that changes_totals()."""
    return WriteKept("catalog", changes_totals, seconds=lambda: TOTAL_TTL)


_totals = PerEngine(_new_totals)


def sold_total(category_ids: list[int] | None) -> int:
    """How many products are on sale (in these categories): a statement only when not kept,
    and then a sum of the kept counts per category."""
    totals = _totals.of(db.engine)
    key = tuple(sorted(category_ids)) if category_ids else None
    total = totals.get(key)
    if total is None:
        # The counts kept by the products' triggers (migration 0011), never the products.
        stmt = select(func.coalesce(func.sum(catalog_counts.c.sold), 0))
        if category_ids:
            stmt = stmt.where(catalog_counts.c.category_key.in_(category_ids))
        connection = db.session.connection()
        # MariaDB's SUM of integers is a DECIMAL: a count is a whole number everywhere.
        total = int(db.session.scalar(stmt) or 0)
        totals.put(key, total, totals.began_at(connection))
    return total


def _unseen(hidden: visibility.Hidden, category_ids: list[int] | None) -> tuple:
    """Clauses that leave out what the viewer's group may not see. Listed categories are
    already without the hidden ones: then only the hidden products need a clause."""
    if not hidden:
        return ()
    if category_ids:
        return (Product.id.not_in(sorted(hidden.products)),) if hidden.products else ()
    return tuple(hidden.clauses())


def _hidden_total(hidden: visibility.Hidden, category_ids: list[int] | None) -> int:
    """How many of the products on sale that sold_total(category_ids) counts the group may
    not see: the kept counts of the hidden categories (when all are listed), and the hidden
    products among the listed ones, counted by id and kept like the totals (the same writes
    change them)."""
    if not hidden:
        return 0
    total = 0
    if hidden.categories and not category_ids:
        total += sold_total(sorted(hidden.categories))
    if hidden.products:
        listed = [Product.id.in_(sorted(hidden.products)), Product.sold()]
        if category_ids:
            listed.append(Product.category_id.in_(category_ids))
        elif hidden.categories:
            listed.append(hidden.category_clause())
        key = (
            "hidden",
            tuple(sorted(hidden.products)),
            tuple(sorted(category_ids)) if category_ids else None,
            tuple(sorted(hidden.categories)),
        )
        totals = _totals.of(db.engine)
        counted = totals.get(key)
        if counted is None:
            connection = db.session.connection()
            stmt = select(func.count()).select_from(Product).where(*listed)
            counted = int(db.session.scalar(stmt) or 0)
            totals.put(key, counted, totals.began_at(connection))
        total += counted
    return total


# --- the page's ids -------------------------------------------------------------------


# Built once: an alias costs a column object per column each time it is made, and a
# page request is a few milliseconds.
_MEMBERS = Product.__table__.alias("in_category")
_PRICED_GP = GroupPrice.__table__.alias("priced_gp")
_OTHER_GP = GroupPrice.__table__.alias("other_gp")
_group_price_join = lru_cache(maxsize=256)(group_price_column)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _use_index(stmt, table, index: str):
    """An index hint for MariaDB, where the planner cannot know how rare a match is.

    FORCE, not USE: with USE INDEX it may still scan the whole table instead, as it does
    for a search sorted by name (21 ms instead of 13 for a rare match).
    """
    for name in MYSQL:
        stmt = stmt.with_hint(table, f"FORCE INDEX ({index})", dialect_name=name)
    return stmt


def _matches(q: str):
    """Products whose SKU or name contains q, ignoring case, as the search key holds them."""
    needle = q.lower()
    dialect = _dialect()
    if dialect in MYSQL:
        # Raw bytes (the key is VARBINARY there): UTF-8 substrings of bytes are substrings
        # of characters.
        return func.locate(needle.encode(), Product.search_key) > 0
    if dialect == "sqlite":
        return func.instr(Product.search_key, needle) > 0
    return Product.search_key.contains(needle, autoescape=True)


def _in_categories(category_ids: list[int]):
    """Ids of the products on sale in these categories, as a table to join."""
    members = select(_MEMBERS.c.id).where(
        _MEMBERS.c.category_id.in_(category_ids), _MEMBERS.c.is_archived == false()
    )
    return members.distinct().subquery("in_category")


def _after(columns, key: tuple, upwards: tuple):
    """The rows that come after `key` when `columns` are read in the `upwards` directions
    (a page's cursor): (a, b) > (x, y) spelled so that an index range can serve it."""
    first, *rest = columns
    beyond = first > key[0] if upwards[0] else first < key[0]
    if not rest:
        return beyond
    second = rest[0] > key[1] if upwards[1] else rest[0] < key[1]
    return or_(beyond, and_(first == key[0], second))


def _by_name_in(
    category_ids: list[int], limit: int, offset: int, seek=None, reverse=False, where=()
):
    """Ids of one page of these categories in name order, from (is_archived, category_id,
    name): each category's first offset + limit entries come in order from the index, and
    the page is cut from their merge. One category reads just its page; "passives" (five
    leaves, 30,000 products) no longer sorts all its entries (25 ms -> under 1 ms).
    A cursor (`seek`: the key to start after) and `reverse` read from there, or backwards.
    `where`: further clauses on the products (what the viewer's group may not see).
    """

    def ordered(*columns):
        return [c.desc() for c in columns] if reverse else list(columns)

    parts = []
    for category_id in category_ids:
        part = select(Product.id, Product.name).where(
            Product.sold(), Product.category_id == category_id, *where
        )
        if seek is not None:
            part = part.where(_after((Product.name, Product.id), seek, (not reverse,) * 2))
        parts.append(part.order_by(*ordered(Product.name, Product.id)).limit(offset + limit))
    if len(parts) == 1:
        return parts[0].with_only_columns(Product.id).offset(offset).limit(limit)
    # Each part as a derived table: SQLite accepts no ORDER BY/LIMIT inside a UNION's parts.
    parts = [select(part.c.id, part.c.name) for part in (p.subquery() for p in parts)]
    leaves = union_all(*parts).subquery("leaves")
    return (
        select(leaves.c.id)
        .order_by(*ordered(leaves.c.name, leaves.c.id))
        .limit(limit)
        .offset(offset)
    )


def _by_index(
    sort: str, category_ids, order, limit: int, offset: int, seek=None, reverse=False, where=()
):
    """Ids of one page in name or SKU order, read along that column's index.

    A category in name order reads (is_archived, category_id, name): under 1 ms for a
    leaf category of 100,000 products, where walking the name index took 10-90 ms
    depending on where its names fall in the alphabet. In SKU order a category joins the
    ids of its products on sale (kept distinct, so the database builds them into a lookup
    table once) instead of reading each product row while walking the SKU index.
    """
    ids = select(Product.id).where(*where)
    if sort == "name" and category_ids:
        return _by_name_in(category_ids, limit, offset, seek, reverse, where)
    if sort == "name":
        # Told, since MariaDB would sort a deep page from a category index instead
        # (page 2,083 of 100,000 products: 150-180 ms a request instead of 17).
        ids = _use_index(ids.where(Product.sold()), Product.__table__, "ix_products_archived_name")
    elif not category_ids:
        ids = ids.where(Product.sold())
    if category_ids:
        members = _in_categories(category_ids)
        ids = ids.join(members, members.c.id == Product.id)
    columns = (Product.name, Product.id) if sort == "name" else (Product.sku,)
    if seek is not None:
        ids = ids.where(_after(columns, seek, (not reverse,) * len(columns)))
    if reverse:
        order = [column.desc() for column in columns]
    return ids.order_by(*order).limit(limit).offset(offset)


def _by_price(
    group_id: int,
    category_ids: list[int] | None,
    descending: bool,
    limit: int,
    offset: int,
    seek=None,
    reverse=False,
    where=(),
):
    """Ids of one page in the group's price order, from two lists that indexes keep sorted.

    The effective price (group price, else base price) has no index of its own; ordering
    by it reads every product. Products with a group price come in order from
    group_prices (group_id, price, product_id), the others from products (is_archived,
    base_price); the first offset + limit of each, merged, hold the page
    (100,000 products, page 1: 5 ms instead of 105).
    """

    downwards = descending != reverse

    def direction(column):
        return column.desc() if downwards else column.asc()

    wanted = offset + limit
    priced_gp = _PRICED_GP
    priced = (
        select(priced_gp.c.product_id.label("id"), priced_gp.c.price.label("effective"))
        .join(Product, Product.id == priced_gp.c.product_id)
        .where(priced_gp.c.group_id == group_id, Product.sold(), *where)
    )
    # An outer join that finds nothing, not NOT EXISTS: MariaDB would build the whole
    # list of the group's priced products first (4 ms) instead of one lookup per row.
    other_gp = _OTHER_GP
    based = (
        select(Product.id.label("id"), Product.base_price.label("effective"))
        .outerjoin(
            other_gp, and_(other_gp.c.product_id == Product.id, other_gp.c.group_id == group_id)
        )
        .where(Product.sold(), other_gp.c.product_id.is_(None), *where)
    )
    if category_ids:
        priced = priced.where(Product.category_id.in_(category_ids))
        based = based.where(Product.category_id.in_(category_ids))
    if seek is not None:
        up = (not downwards,) * 2
        priced = priced.where(_after((priced_gp.c.price, priced_gp.c.product_id), seek, up))
        based = based.where(_after((Product.base_price, Product.id), seek, up))
    priced = priced.order_by(direction(priced_gp.c.price), direction(priced_gp.c.product_id)).limit(
        wanted
    )
    based = based.order_by(direction(Product.base_price), direction(Product.id)).limit(wanted)
    # Each list is a derived table: SQLite takes ORDER BY and LIMIT only on a whole UNION.
    lists = [part.subquery(name) for part, name in ((priced, "priced"), (based, "based"))]
    merged = union_all(*(select(part.c.id, part.c.effective) for part in lists)).subquery("merged")
    return (
        select(merged.c.id)
        .order_by(direction(merged.c.effective), direction(merged.c.id))
        .limit(limit)
        .offset(offset)
    )


def _search_filters(q: str, category_ids: list[int] | None, scan: bool = True, where=()) -> list:
    # search_key >= '' is always true: it gives SQLite's planner a range on the search
    # index, which it then scans instead of walking the name index and reading every
    # product row (100,000 products: 12-19 ms instead of 85; SQLAlchemy cannot hint
    # SQLite). MariaDB gets an index hint instead (_use_index).
    filters = [Product.sold(), _matches(q)]
    if scan and _dialect() not in MYSQL:
        filters.append(Product.search_key >= "")
    if category_ids:
        filters.append(Product.category_id.in_(category_ids))
    return filters + list(where)


def _search_count(q: str, category_ids: list[int] | None, where=()):
    count = (
        select(func.count())
        .select_from(Product)
        .where(*_search_filters(q, category_ids, where=where))
    )
    return _use_index(count, Product.__table__, "ix_products_archived_search")


def _search_ids(
    q: str, category_ids: list[int] | None, sort: str, gp, on, *columns, rare=None, where=()
):
    """Ids of the matching products (and `columns`), from one scan of an index.

    MariaDB is told which index to scan: left alone it walks the name index and reads
    every product row for a rare match (150 ms instead of 17 at 100,000 products). A
    search of the whole catalogue by name walks (is_archived, name, id, search_key): the
    matches come in order from the index alone, none sorted, none read (6,000 matches:
    16 ms instead of 25; all 100,000: 15 instead of 117). Within categories it would read
    every row to check its category (216 ms for "e"), so there, and for the other
    orders, the narrow (is_archived, search_key) index is scanned and its matches sorted.
    """
    if isinstance(rare, frozenset):
        # The few products holding both of two trigrams, each checked in full. On SQLite,
        # `is_archived + 0` keeps the planner on the ids (as below).
        filters = _search_filters(q, category_ids, scan=False, where=where)
        if _dialect() not in MYSQL:
            unindexed = literal_column("+products.is_archived", type_=Boolean)
            filters = [unindexed == false(), *filters[1:]]
        ids = select(Product.id, *columns).where(Product.id.in_(sorted(rare)), *filters)
        if gp is not None and sort in ("price", "-price"):
            ids = ids.outerjoin(gp, on)
        return ids
    if rare is not None:
        # The few products holding the query's rarest trigram, each checked in full.
        pt = product_trigrams
        filters = _search_filters(q, category_ids, scan=False, where=where)
        if _dialect() not in MYSQL:
            # SQLite looks the ids up by rowid. `is_archived + 0` keeps it from walking an
            # (is_archived, ...) index instead, which it would for the order it gives.
            held = select(pt.c.product_id).where(pt.c.trigram == rare)
            unindexed = literal_column("+products.is_archived", type_=Boolean)
            filters = [unindexed == false(), *filters[1:]]
            ids = select(Product.id, *columns).where(Product.id.in_(held), *filters)
        else:
            ids = (
                select(Product.id, *columns)
                .select_from(pt)
                .join(Product, Product.id == pt.c.product_id)
                .where(pt.c.trigram == rare, *filters)
                # In that order: MariaDB would otherwise walk a products index.
                .prefix_with("STRAIGHT_JOIN", dialect="mysql")
            )
        if gp is not None and sort in ("price", "-price"):
            ids = ids.outerjoin(gp, on)
        return ids
    ids = select(Product.id, *columns).where(*_search_filters(q, category_ids, where=where))
    if gp is not None and sort in ("price", "-price"):
        ids = ids.outerjoin(gp, on)
    if sort == "name" and not category_ids:
        return _use_index(ids, Product.__table__, "ix_products_archived_name_search")
    return _use_index(ids, Product.__table__, "ix_products_archived_search")


def _search_key(sort: str, gp):
    """What a search's matches are sorted by (the group's price for a price order)."""
    if gp is not None and sort in ("price", "-price"):
        return func.coalesce(gp.c.price, Product.base_price)
    return _sort_column(sort, Product.base_price)


def _search_found_rows(stmt, q, category_ids, sort, gp, on, offset: int, limit: int, where=()):
    """A search's page on MariaDB and how many matched: two statements, one scan.

    SQL_CALC_FOUND_ROWS counts the matches while the page is sorted from them; a window
    count would copy every match once more (100,000 products, 6,000 matches: 23 ms
    instead of 30; all of them: 42 ms). FOUND_ROWS() then rides along with the rows.
    """
    ids = _search_ids(q, category_ids, sort, gp, on, where=where)
    ids = ids.order_by(*_ordering(sort, _search_key(sort, gp), Product.id))
    ids = ids.limit(limit).offset(offset)
    for name in MYSQL:
        ids = ids.prefix_with("SQL_CALC_FOUND_ROWS", dialect=name)
    # FOUND_ROWS() answers for the statement just before it: no flush may come between.
    with db.session.no_autoflush:
        page_ids = list(db.session.scalars(ids))
        if not page_ids:
            return [], 0 if offset == 0 else db.session.scalar(select(func.found_rows()))
        # Read once, as a one-row derived table, before any row: evaluated per row, it
        # would answer for the row's own subqueries instead (a thumbnail's LIMIT 1).
        # The join's condition is always true; it names both sides so that SQLAlchemy's
        # linter, which cannot see the ORM's copy of the join, sees no cartesian product.
        found = select(func.found_rows().label("matched")).subquery("found_rows")
        rows = db.session.execute(
            stmt.join(found, found.c.matched >= 0 * Product.id)
            .add_columns(found.c.matched)
            .where(Product.id.in_(page_ids))
        ).all()
    position = {product_id: i for i, product_id in enumerate(page_ids)}
    rows.sort(key=lambda row: position[row[0].id])
    return rows, rows[0][2]


def _search_window(
    rows_of, q, category_ids, sort, gp, on, order, offset: int, limit: int, rare=None, where=()
):
    """A search's page and how many matched, in one statement with a window count.

    At most SEARCH_WINDOW + 1 matches are sorted and counted, so a search that matches
    nearly everything stays cheap; one broader than that is sorted and counted again
    without the bound, in a second statement.
    """
    key = _search_key(sort, gp).label("sort_key")
    matched = _search_ids(q, category_ids, sort, gp, on, key, rare=rare, where=where)
    matched = matched.limit(SEARCH_WINDOW + 1)
    matched = matched.subquery("matched")
    page = (
        select(matched.c.id, func.count().over().label("matched"))
        .order_by(*_ordering(sort, matched.c.sort_key, matched.c.id))
        .limit(limit)
        .offset(offset)
    )
    rows = rows_of(page, "matched")
    if rows and rows[0][2] <= SEARCH_WINDOW:
        return rows, rows[0][2]
    if not rows and offset == 0:
        return [], 0
    # Broader than the window, or a page past its end: sort and count everything. With
    # that many matches, walking the sort order's index finds a page soonest.
    count = _search_count(q, category_ids, where).scalar_subquery().label("matched")
    ids = select(Product.id, count).where(
        *_search_filters(q, category_ids, scan=False, where=where)
    )
    if gp is not None and sort in ("price", "-price"):
        ids = ids.outerjoin(gp, on)
    rows = rows_of(ids.order_by(*order).limit(limit).offset(offset), "matched")
    return rows, rows[0][2] if rows else db.session.scalar(_search_count(q, category_ids, where))


def _query_trigrams(q: str) -> list[int]:
    """At most MAX_TRIGRAMS of the query's distinct keys (byte trigrams and runs of four
    digits, search_index.grams_of), spread over it."""
    grams = list(search_index.grams_in_order(q.lower()))
    if len(grams) > MAX_TRIGRAMS:
        step = (len(grams) - 1) / (MAX_TRIGRAMS - 1)
        grams = [grams[round(i * step)] for i in range(MAX_TRIGRAMS)]
    return grams


def _plan(grams: list[int]) -> tuple[str, int | None]:
    """How to search, from one look at the index: ("none", None) when a trigram is held by
    no product on sale; ("rare", t) when t is held by at most CANDIDATE_CAP products;
    ("few", ids) when the products holding two of them are that few (_holding_both);
    else ("broad", t) with the trigram whose first CANDIDATE_CAP products reach furthest
    in name order (the fewest non-matches to pass before a page by name is full).

    Each trigram's first CANDIDATE_CAP + 1 entries are read at most: a few milliseconds
    whatever the catalogue's size; a common trigram's, once a minute per process (_heads).
    """
    kept = _heads.of(db.session.get_bind())
    seen = {g: found for g in grams if (found := kept.get((CANDIDATE_CAP, g))) is not None}
    unread = [gram for gram in grams if gram not in seen]
    if unread:
        read = _read_heads(unread)
        began = kept.began_at(db.session.connection())
        for gram, found in read.items():
            if found[0] > CANDIDATE_CAP:  # common: kept (see _heads)
                kept.put((CANDIDATE_CAP, gram), found, began)
        seen.update(read)
    if len(seen) < len(grams):
        return "none", None
    held, gram = min((held, gram) for gram, (held, _reach, _spread) in seen.items())
    if held <= CANDIDATE_CAP:
        return "rare", gram
    few = _holding_both(seen)
    if few is not None:
        return ("few", few) if few else ("none", None)
    return "broad", max((reach, gram) for gram, (_held, reach, _spread) in seen.items())[1]


def _read_heads(grams: list[int]) -> dict[int, tuple[int, int, int]]:
    """{trigram: (entries read, furthest bucket, distinct buckets)} of each trigram's first
    CANDIDATE_CAP + 1 entries in bucket order, in one statement; a trigram no product on
    sale holds is missing."""
    pt = product_trigrams
    parts = [
        select(pt.c.trigram, pt.c.bucket)
        .where(pt.c.trigram == gram)
        .order_by(pt.c.bucket, pt.c.product_id)
        .limit(CANDIDATE_CAP + 1)
        .subquery()
        for gram in grams
    ]
    heads = (
        union_all(*(select(part.c.trigram, part.c.bucket) for part in parts))
        if len(parts) > 1
        else select(parts[0].c.trigram, parts[0].c.bucket)
    ).subquery("heads")
    return {
        gram: (held, reach, spread)
        for gram, held, reach, spread in db.session.execute(
            select(
                heads.c.trigram,
                func.count(),
                func.max(heads.c.bucket),
                func.count(heads.c.bucket.distinct()),
            ).group_by(heads.c.trigram)
        )
    }


_TRIGRAM_WRITES = writes_to("product_trigrams", "search_buckets")


def _changes_trigrams(statement: str) -> bool:
    return _TRIGRAM_WRITES.match(statement) is not None


# The heads of the common trigrams (held by more than CANDIDATE_CAP products), kept per
# process: a broad word's search then starts without reading 2,001 entries of each of its
# trigrams (6 ms of a "resistor" search at 1,000,000 products). Only common ones: what a
# head says of them only steers the plan (a broad or narrowed read that checks every
# match), never what is found, so one kept while another process changes the index costs
# at most speed. A rare or absent trigram is read at every search: a product another
# process adds must be found at once. Forgotten at once by this process's writes to the
# index.
HEADS_SECONDS = 60.0
_heads = PerEngine(
    lambda: WriteKept("trigram_heads", _changes_trigrams, seconds=lambda: HEADS_SECONDS)
)


def _holding_both(seen: dict[int, tuple[int, int, int]]) -> frozenset[int] | None:
    """The products holding both of the query's two sparsest trigrams, if they are at most
    CANDIDATE_CAP; None when that cannot be known cheaply (then the search is broad).

    How many products hold a trigram is estimated from how many distinct name buckets its
    first CANDIDATE_CAP + 1 entries fall in, as if it were spread evenly over all of them:
    a trigram crowded into few buckets, as a word that starts many names ("Resistor" at
    1,000,000 products: 2,001 entries in ~12 of 4,096 buckets), looks large and is not
    read; a fragment of digits, ~2 entries a bucket, looks as small as it is. A pair that
    looks small is read from the index alone,
    at most INTERSECT_READ + 1 entries each, in one statement that also says whether either
    list was longer (then the answer is not trusted). An empty intersection means that
    nothing matches. An SKU fragment of digits at 1,000,000 products: two lists of ~8,000
    entries instead of ~8,000 product rows.
    """
    if len(seen) < 2:
        return None

    buckets = search_index.bucket_count(db.session)

    def estimate(gram: int) -> float:
        held, _reach, spread = seen[gram]
        return held * buckets / max(spread or 0, 1)

    pair = sorted(seen, key=estimate)[:2]
    if sum(estimate(gram) for gram in pair) > 2 * INTERSECT_READ:
        return None
    pt = product_trigrams
    lists = [
        select(pt.c.product_id)
        .where(pt.c.trigram == gram)
        .order_by(pt.c.bucket, pt.c.product_id)
        .limit(INTERSECT_READ + 1)
        .subquery()
        for gram in pair
    ]
    sizes = [select(func.count()).select_from(held).scalar_subquery() for held in lists]
    both = union_all(*(select(held.c.product_id) for held in lists)).subquery("both")
    rows = db.session.execute(
        select(both.c.product_id, *sizes)
        .group_by(both.c.product_id)
        .having(func.count() == 2)
        .limit(CANDIDATE_CAP + 1)
    ).all()
    if not rows:
        counted = db.session.execute(select(*sizes)).one()
        return frozenset() if max(counted) <= INTERSECT_READ else None
    if max(rows[0][1:]) > INTERSECT_READ or len(rows) > CANDIDATE_CAP:
        return None
    return frozenset(row[0] for row in rows)


def _broad_by_name(q: str, category_ids, gram: int, offset: int, limit: int, where=()):
    """Ids of one page by name of a broad search, and how many matched up to a cap.

    The trigram's entries are read in name-bucket order and checked until the page's last
    match is found; only the buckets up to that one can hold the page, and only their
    matches are sorted by name. The count stops at max(COUNT_CAP, offset + limit) + 1.
    """
    pt = product_trigrams

    def matches(*columns):
        filters = [pt.c.trigram == gram, *_search_filters(q, category_ids, False, where)]
        return (
            select(*columns)
            .select_from(pt)
            .join(Product, Product.id == pt.c.product_id)
            .where(*filters)
            .prefix_with("STRAIGHT_JOIN", dialect="mysql")
        )

    reach = offset + limit
    # Read first, in a statement of its own: as a subquery of the page's statement, its
    # bound is no range MariaDB can seek, and every entry of the trigram was read to
    # test it ("resistor" at 1,000,000 products: 117,434 entries, and 15 ms for the
    # page; with the bound given, 54 entries, and 0.7 ms + 4.5 ms with the count).
    last_bucket = db.session.scalar(
        matches(pt.c.bucket).order_by(pt.c.bucket, pt.c.product_id).offset(reach - 1).limit(1)
    )
    cap = max(COUNT_CAP, reach) + 1
    counted = (
        select(func.count()).select_from(matches(pt.c.product_id).limit(cap).subquery("capped"))
    ).scalar_subquery()
    return (
        matches(Product.id, counted.label("matched"))
        .where(pt.c.bucket <= (2**31 - 1 if last_bucket is None else last_bucket))
        .order_by(Product.name, Product.id)
        .limit(limit)
        .offset(offset)
    ), cap


# Each sort: its column, then whether it and the id tie-break run downwards. "-price" is
# the exact reverse of "price", ties included, so both read an index in one direction.
_DESCENDING = {
    "name": (False, False),
    "sku": (False, False),
    "price": (False, False),
    "-price": (True, True),
    "stock": (True, False),
    "newest": (True, True),
}


def _sort_column(sort: str, effective):
    return {
        "name": Product.name,
        "sku": Product.sku,
        "price": effective,
        "-price": effective,
        "stock": Product.stock,
        "newest": Product.created_at,
    }[sort]


def _ordering(sort: str, key, id_column) -> tuple:
    if sort == "sku":
        # SKUs are unique: with an id after it, MariaDB no longer sees that the SKU index
        # gives the order, and sorts every product (170 ms instead of 0.3 at 100,000).
        return (key,)
    key_down, id_down = _DESCENDING[sort]
    return (key.desc() if key_down else key, id_column.desc() if id_down else id_column)


def listing_filters(q: str, category_ids: list[int] | None) -> list:
    """The WHERE clauses on Product of a listing before any filter: on sale, in these
    categories, matching the search (as the plainest query states them)."""
    if q:
        return _search_filters(q, category_ids, scan=False)
    if category_ids:
        return [Product.sold(), Product.category_id.in_(category_ids)]
    return [Product.sold()]


@dataclass(frozen=True)
class Scope:
    """What a listing holds before any filter: `clauses`, WHERE clauses on Product (with
    what the group may not see); `bound`, at most how many products, when that is known
    without counting (None: not known); `candidates`, when a search's plan gives them,
    the ids of a few products holding all its matches (a trigram's list), by which to
    read them rather than by an index of every product."""

    clauses: list
    bound: int | None = None
    candidates: object = None

    @property
    def where(self) -> list:
        """The clauses, the candidates among them."""
        if self.candidates is None:
            return self.clauses
        return [*self.clauses, Product.id.in_(self.candidates)]


def listing_where(
    policy: GroupPolicy | None,
    q: str,
    category: Category | None,
    categories: list[Category],
    plan: tuple | None = None,
) -> Scope | None:
    """What browse() lists before any filter (a Scope): the products whose specifications
    core.catalog_filters counts and filters. None: nothing matches (a hidden category, a
    search whose trigram no product holds).

    A search of three bytes or more is bounded by its plan (`plan`: the one browse() ran,
    else _plan's, one statement): the products holding its rarest trigram, so that what
    is counted grows with the matches, not with the catalogue.
    """
    category_ids = _category_ids(categories, category) if category else None
    hidden = visibility.hidden_for(policy.group_id if policy is not None else None)
    if category_ids and hidden.categories:
        category_ids = [c for c in category_ids if c not in hidden.categories]
        if not category_ids:
            return None
    unseen = _unseen(hidden, category_ids)
    if not q:
        return Scope([*listing_filters(q, category_ids), *unseen], sold_total(category_ids))
    if plan is None:
        grams = _query_trigrams(q)
        plan = _plan(grams) if grams else ("scan", None)
    kind, gram = plan
    if kind == "none":
        return None
    clauses = [*listing_filters(q, category_ids), *unseen]
    if kind not in ("rare", "few", "broad"):
        return Scope(clauses)
    # The products holding its trigrams, by id: every match is among them. On SQLite,
    # `is_archived + 0` keeps the planner on the ids (as _search_ids does), rather than
    # scanning an (is_archived, ...) index.
    if _dialect() not in MYSQL:
        unindexed = literal_column("+products.is_archived", type_=Boolean)
        clauses = [unindexed == false(), *clauses[1:]]
    if kind == "few":
        return Scope([*clauses, Product.id.in_(sorted(gram))], len(gram))
    held = select(product_trigrams.c.product_id).where(product_trigrams.c.trigram == gram)
    # A rare trigram bounds how many: CANDIDATE_CAP; a broad one does not.
    return Scope(clauses, CANDIDATE_CAP if kind == "rare" else None, held)


def _narrowed(rows_of, filters: list, sort, gp, on, order, offset: int, limit: int):
    """A page of a listing narrowed by the catalogue's filters, and how many passed.

    The plainest plan: the products passing every clause in the listing's order (the
    filters' own clauses select through indexes: a specification's (name, value), stock),
    counted up to max(COUNT_CAP, the page's end) + 1, so that a broad filter ("in stock
    only" over a whole category) stops counting at "1,000+" instead of reading all.
    """
    cap = max(COUNT_CAP, offset + limit) + 1
    passing = select(Product.id).where(*filters)
    counted = select(func.count()).select_from(passing.limit(cap).subquery("capped"))
    ids = select(Product.id, counted.scalar_subquery().label("matched")).where(*filters)
    if gp is not None and sort in ("price", "-price"):
        ids = ids.outerjoin(gp, on)
    found = rows_of(ids.order_by(*order).limit(limit).offset(offset), "matched")
    counted_rows = found[0][2] if found else 0
    if not found and offset:
        counted_rows = db.session.scalar(counted) or 0
    return found, min(counted_rows, cap - 1), counted_rows >= cap


def browse(
    policy: GroupPolicy | None,
    *,
    q: str = "",
    category: Category | None = None,
    categories: list[Category] | None = None,
    sort: str = "name",
    page: int = 1,
    per_page: int = 24,
    at: datetime | None = None,
    narrow: Sequence = (),
) -> Listing:
    """A page of products, searched and sorted, with offers for the viewer's group.

    A few statements whatever the page or catalogue size: the total when it is not kept
    (browsing) or the search's sorted ids (MariaDB only), the page's rows with the
    group's prices joined in (and a search's number of matches), and the running
    promotions of the page's products (none for staff, who get no offers, or for groups
    that see no promotions). The rows leave out description and specs, which a list never
    shows; reading them loads them one product at a time.

    What the group may not see (core.visibility) is left out everywhere: hidden categories
    leave the listed ones, hidden products are clauses of every plan, and the kept total
    less the hidden products it counts stays the total (_hidden_total).

    `narrow`: WHERE clauses on Product from the catalogue's filters (core.catalog_filters);
    given, the page is read by _narrowed and counted up to a cap.
    """
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    offset = (page - 1) * per_page
    category_ids = _category_ids(categories or category_tree(), category) if category else None
    hidden = visibility.hidden_for(policy.group_id if policy is not None else None)
    if category_ids and hidden.categories:
        category_ids = [c for c in category_ids if c not in hidden.categories]
        if not category_ids:  # the category itself is hidden: nothing in it to show
            return Listing([], 0, page, per_page)
    where = _unseen(hidden, category_ids)

    if policy is not None:
        gp, on, gp_price = _group_price_join(policy.group_id)
        effective = func.coalesce(gp_price, Product.base_price)
    else:
        gp = on = gp_price = None
        effective = Product.base_price
    order = _ordering(sort, _sort_column(sort, effective), Product.id)
    stmt = select(Product, gp_price if gp is not None else Product.base_price)
    if gp is not None:
        stmt = stmt.outerjoin(gp, on)
    # A list never shows the long texts; with them in the rows, MariaDB sorts the page
    # through an on-disk temporary table (1.4 ms instead of 0.5 per page).
    stmt = stmt.options(
        joinedload(Product.category),
        defer(Product.description),
        defer(Product.specs),
        undefer(Product.first_photo),  # the thumbnail, in the same statement
    ).order_by(*order)

    def rows_of(ids, *extra):
        # A deferred join: the page's ids come from the indexes alone, then only those
        # rows are read in full. A deep OFFSET otherwise reads every skipped row.
        ids = ids.subquery("page")
        selected = stmt.add_columns(*(ids.c[name] for name in extra))
        return db.session.execute(selected.join(ids, ids.c.id == Product.id)).all()

    at_least, plan = False, None
    if narrow:
        filters = [*listing_filters(q, category_ids), *where, *narrow]
        found, total, at_least = _narrowed(rows_of, filters, sort, gp, on, order, offset, per_page)
    elif q:
        args = (q, category_ids, sort, gp, on)
        grams = _query_trigrams(q)
        kind, gram = plan = _plan(grams) if grams else ("scan", None)
        if kind == "none":
            found, total = [], 0
        elif kind in ("rare", "few"):
            found, total = _search_window(
                rows_of, *args, order, offset, per_page, rare=gram, where=where
            )
        elif kind == "broad" and sort == "name":
            ids, cap = _broad_by_name(q, category_ids, gram, offset, per_page, where)
            found = rows_of(ids, "matched")
            counted = found[0][2] if found else 0
            if not found and offset:
                counted = db.session.scalar(select(ids.subquery().c.matched).limit(1)) or 0
            at_least = counted >= cap
            total = min(counted, cap - 1)
        elif _dialect() in MYSQL:
            found, total = _search_found_rows(stmt, *args, offset, per_page, where)
        else:
            found, total = _search_window(rows_of, *args, order, offset, per_page, where=where)
    else:
        total = sold_total(category_ids) - _hidden_total(hidden, category_ids)
        if offset >= total and getattr(page, "cursor", None) is None:
            # Past the end by number (a stale link, a crawler): nothing to read. Skipping
            # every product to find nothing took 230-500 ms at 1,000,000 products.
            found = []
        else:
            found = rows_of(
                _browse_ids(policy, sort, category_ids, order, page, per_page, total, where)
            )

    products = [row[0] for row in found]
    cursors = {}
    if not q and not narrow and sort in SEEKABLE and products:
        keys = [_key_of(sort, row, policy) for row in (found[0], found[-1])]
        cursors = {
            "prev_at": Seek("b", sort, keys[0]).encode(),
            "next_at": Seek("a", sort, keys[1]).encode(),
        }
    if policy is None:
        rows = [(p, None) for p in products]
    else:
        prices = {row[0].id: row[1] for row in found if row[1] is not None}
        offers = offers_for(policy, products, at=at, group_prices=prices)
        rows = [(p, offers[p.id]) for p in products]
    return Listing(rows, total or 0, page, per_page, at_least=at_least, plan=plan, **cursors)


def _key_of(sort: str, row, policy) -> tuple:
    """A row's place in a seekable order, as a cursor holds it."""
    product = row[0]
    if sort == "name":
        return (product.name, product.id)
    if sort == "sku":
        return (product.sku,)
    price = row[1] if policy is not None and row[1] is not None else product.base_price
    return (str(price), product.id)


def _browse_ids(policy, sort, category_ids, order, page, per_page: int, total: int, where=()):
    """Ids of one page of a listing that is not a search.

    Reached by a cursor, a page in a seekable order starts at its neighbour's key; by
    number alone, a page in the second half is read from the end backwards, so the last
    page costs what the first does. Only a jump by number into the middle skips entries.
    """
    offset, limit = (page - 1) * per_page, per_page
    seek, reverse = getattr(page, "cursor", None), False
    if sort not in SEEKABLE:
        seek = None
    elif seek is not None:
        reverse, seek = seek.direction == "b", seek.key
        offset = 0
    elif offset > total / 2 and offset < total:
        # The rows from the end: this page's last row is the (total - end)-th from the end.
        end = min(page * per_page, total)
        offset, limit, reverse = total - end, end - offset, True
    if sort in ("name", "sku"):
        return _by_index(sort, category_ids, order, limit, offset, seek, reverse, where)
    if sort in ("price", "-price") and policy is not None:
        return _by_price(
            policy.group_id, category_ids, sort == "-price", limit, offset, seek, reverse, where
        )
    # Stock and age have no index; staff's price order reads (is_archived,
    # base_price) by itself.
    ids = select(Product.id).where(Product.sold(), *where)
    if category_ids:
        ids = ids.where(Product.category_id.in_(category_ids))
    if sort in ("price", "-price"):
        downwards = (sort == "-price") != reverse
        columns = (Product.base_price, Product.id)
        if seek is not None:
            ids = ids.where(_after(columns, seek, (not downwards,) * 2))
        order = [c.desc() if downwards else c for c in columns]
    return ids.order_by(*order).limit(limit).offset(offset)
