"""Catalogue filters: a listing narrowed by product specifications and by stock, with a
count beside every value (faceted search).

The state is the query string, so a filtered listing is a link like any other:
`spec.<name>=<value>` (repeated: several values of one name are alternatives, values of
different names must all hold) and `in_stock=1`. Counts follow faceted search: a name's
values are counted among the products that pass everything else (the search, the
category, "in stock only", what the group may see, the values chosen of every other
name), so that a value shows how many products ticking it would add; the values of a
name nobody chose are counted among the listing itself.

Specifications are read from product_specs and spec_values (core.specs_index): a value's
products come from its (value_id, product_id) index; a listing's values are counted from
its products' rows, grouped by value number, one statement for every name at once. What
that costs grows with the products counted, so the storefront counts only a category or
a search (`Facets.counted`), and at most FACET_LIMIT products of it (bench/catalog.py
measures it).
"""

import hashlib
import re
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, or_, select, union_all

from extensions import db

from . import visibility
from .catalog import BadQuery, Scope
from .i18n import _
from .kept import PerEngine, WriteKept, writes_to
from .models import Product
from .models.catalog import SPEC_NAME_LENGTH, SPEC_VALUE_LENGTH, product_specs, spec_values
from .offer import GroupPolicy

SPEC_PREFIX = "spec."
IN_STOCK = "in_stock"
# What one listing may ask for: a hand-made URL with more is refused, not obeyed slowly.
MAX_CHOSEN = 40  # values, over all names
MAX_CHOSEN_NAMES = 10
# What the panel shows: the names holding most of the listing's products, and of each
# name its most common values (every chosen one too); the first few before "show more".
NAMES_SHOWN = 12
VALUES_READ = 50
VALUES_SHOWN = 6
# A listing of more products than this is not counted (a broad category or search at
# scale): the panel asks to narrow it first. Counting reads every product it holds.
FACET_LIMIT = 50_000
# Counts are kept per process, as the catalogue keeps its totals (core.catalog): forgotten
# at once when this process writes what they count, and kept at most this long (seconds)
# for what other processes write. A listing of 30,000 products takes ~60 ms to count.
KEEP_SECONDS = 2.0
# A panel that took long to count is kept longer, for what other processes write: this
# many times what counting it took, up to KEEP_LONGEST. Recounting then costs a process at
# most 1 % of its time per panel, for panels that take up to 0.3 s. What this process
# writes still forgets every panel at once.
KEEP_PER_SECOND_COUNTED = 100
KEEP_LONGEST = 30.0
# "Too many products to count" is kept longer still: whether a listing holds more than
# FACET_LIMIT products changes slowly, and finding it out reads FACET_LIMIT + 1 of them
# ("resistor" at 1,000,000 products: ~150 ms, which the 30 s above still let lift one
# search in twelve to ten times the rest).
KEEP_TOO_MANY = 600.0
KEPT_LIMIT = 512


@dataclass(frozen=True)
class Filters:
    """What a listing is narrowed by: chosen values per specification name (sorted, for
    one URL per state) and "in stock only"."""

    specs: tuple[tuple[str, tuple[str, ...]], ...] = ()
    in_stock: bool = False

    @property
    def active(self) -> bool:
        return bool(self.specs) or self.in_stock

    @property
    def chosen_count(self) -> int:
        return sum(len(values) for _name, values in self.specs)

    def chosen(self, name: str) -> tuple[str, ...]:
        """The values chosen of one name (none: every value)."""
        return next((values for n, values in self.specs if n == name), ())

    def args(self) -> dict:
        """The query arguments that say this state (for url_for)."""
        found: dict = {f"{SPEC_PREFIX}{name}": list(values) for name, values in self.specs}
        if self.in_stock:
            found[IN_STOCK] = "1"
        return found

    def without(self, name: str, value: str | None = None) -> "Filters":
        """This state less one value (or one whole name)."""
        specs = []
        for n, values in self.specs:
            kept = (
                ()
                if n == name and value is None
                else tuple(v for v in values if n != name or v != value)
            )
            if kept:
                specs.append((n, kept))
        return Filters(tuple(specs), self.in_stock)


def _clean(text: str) -> str:
    # As core.products.clean_specs writes names and values: inner runs of space as one.
    return " ".join(str(text).split())


def parse(args: Mapping) -> Filters:
    """The filters of a query string (a MultiDict); BadQuery says what to correct."""
    specs: dict[str, set[str]] = {}
    for key in args:
        if not key.startswith(SPEC_PREFIX):
            continue
        name = _clean(key[len(SPEC_PREFIX) :])
        if not name:
            raise BadQuery(_("A specification filter needs the specification's name."))
        if len(name) > SPEC_NAME_LENGTH:
            raise BadQuery(
                _("A specification name has at most %(count)s characters.", count=SPEC_NAME_LENGTH)
            )
        for raw in args.getlist(key):
            value = _clean(raw)
            if len(value) > SPEC_VALUE_LENGTH:
                raise BadQuery(
                    _(
                        "A specification value has at most %(count)s characters.",
                        count=SPEC_VALUE_LENGTH,
                    )
                )
            if value:
                specs.setdefault(name, set()).add(value)
    if len(specs) > MAX_CHOSEN_NAMES or sum(len(v) for v in specs.values()) > MAX_CHOSEN:
        raise BadQuery(
            _(
                "Too many filters at once: at most %(values)s values of %(names)s specifications.",
                values=MAX_CHOSEN,
                names=MAX_CHOSEN_NAMES,
            )
        )
    raw_stock = args.get(IN_STOCK, "")
    if raw_stock not in ("", "0", "1"):
        raise BadQuery(_("“In stock only” is either on (1) or off (0)."))
    chosen = tuple(
        (name, tuple(sorted(specs[name], key=natural_key)))
        for name in sorted(specs, key=str.casefold)
    )
    return Filters(chosen, raw_stock == "1")


# --- what the filters select --------------------------------------------------------------


def least_in_stock(policy: GroupPolicy) -> int:
    """The least stock this group sees as available, not "Out of stock": core.offer's
    stock_view as a bound. A group that sees counts: above 0 (and from "Few" on, should
    its thresholds start "Few" above 1); one that sees levels: from its "Few" on."""
    return max(policy.few_from, 1) if policy.sees_counts else policy.few_from


def in_stock_clause(policy: GroupPolicy):
    """The clause of "in stock only" for this group (a WHERE clause on Product)."""
    return Product.stock >= least_in_stock(policy)


def _values_of(name: str, values=None):
    """The numbers of these values of `name` (of all its values: None)."""
    sv = spec_values
    chosen = select(sv.c.id).where(sv.c.name == name)
    return chosen.where(sv.c.value.in_(sorted(values))) if values is not None else chosen


def _holding(name: str, values) -> object:
    """The products holding one of these values of `name`, from the index alone."""
    ps = product_specs
    return Product.id.in_(
        select(ps.c.product_id).where(ps.c.value_id.in_(_values_of(name, values)))
    )


def _spec_clauses(filters: Filters, *, but: str | None = None) -> list:
    return [_holding(name, values) for name, values in filters.specs if name != but]


def clauses(policy: GroupPolicy, filters: Filters) -> list:
    """WHERE clauses on Product that narrow a listing to the filters ([] when none is
    on); core.catalog.browse(narrow=...) adds what the group may not see, as every one
    of its plans does."""
    if not filters.active:
        return []
    found = _spec_clauses(filters)
    if filters.in_stock:
        found.append(in_stock_clause(policy))
    return found


# --- the counts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetValue:
    """One value of a specification, how many products of the listing hold it (among the
    products that pass every other filter), and whether it is chosen."""

    value: str
    count: int
    chosen: bool
    key: str  # stable and safe for an element id


@dataclass(frozen=True)
class Facet:
    """One specification name with its values in natural order; `unread` values were not
    read (a name with hundreds of values shows its most common ones)."""

    name: str
    values: tuple[FacetValue, ...]
    unread: int = 0

    @property
    def shown(self) -> tuple[FacetValue, ...]:
        """The values shown before "show more": the first ones, and every chosen one."""
        first = self.values[:VALUES_SHOWN]
        return first + tuple(v for v in self.values[VALUES_SHOWN:] if v.chosen)

    @property
    def folded(self) -> tuple[FacetValue, ...]:
        """The values behind "show more"."""
        return tuple(v for v in self.values[VALUES_SHOWN:] if not v.chosen)

    @property
    def chosen_count(self) -> int:
        return sum(1 for v in self.values if v.chosen)


@dataclass(frozen=True)
class Facets:
    """The filter panel of a listing: `counted` False when it was not counted (the whole
    catalogue, or a listing larger than FACET_LIMIT: `too_many`)."""

    facets: tuple[Facet, ...] = ()
    counted: bool = False
    too_many: bool = False

    def __iter__(self):
        return iter(self.facets)

    def __bool__(self) -> bool:
        return bool(self.facets)


def value_key(name: str, value: str) -> str:
    """A short, stable token for one (name, value): element ids and labels need one, and
    neither may carry the text itself."""
    return hashlib.blake2s(f"{name}\x1f{value}".encode(), digest_size=6).hexdigest()


# SI prefixes as component values write them: "4.7 kΩ", "100 nF", "16 MHz", "2.0 mm".
_SI = {
    "p": Decimal("1e-12"),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "µ": Decimal("1e-6"),
    "μ": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "K": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
}
# ASCII digits only: "²" is a digit to str.isdigit() and to nothing else, Decimal included.
_QUANTITY = re.compile(r"^([0-9]+(?:[.,][0-9]+)?)\s*([pnuµμmkKMG]?)(\S.*)?$")
_RUNS = re.compile(r"([0-9]+(?:\.[0-9]+)?)")


def natural_key(value: str) -> tuple:
    """How values sort for a person: a quantity by its size within its unit ("100 nF"
    before "1 µF", "0402" before "1206"), other text by its words and numbers."""
    text = value.strip()
    match = _QUANTITY.match(text)
    if match:
        number, prefix, unit = match.groups()
        unit = (unit or "").strip()
        size = Decimal(number.replace(",", "."))
        if prefix and unit:
            size *= _SI[prefix]
        else:  # "5 m" is five metres: a letter alone is the unit
            unit = prefix or unit
        return (0, unit.casefold(), size, text)
    parts = tuple(
        (0, Decimal(part), "") if _RUNS.fullmatch(part) else (1, Decimal(0), part.casefold())
        for part in _RUNS.split(text)
        if part
    )
    return (1, "", Decimal(0), parts, text)


def _chosen_flag(columns, filters: Filters):
    """1 for a (name, value) row that the filters choose, else 0 (read first)."""
    chosen = [
        and_(columns.name == name, columns.value.in_(values)) for name, values in filters.specs
    ]
    if not chosen:
        return literal(0)
    return case((or_(*chosen), 1), else_=0)


# --- counts kept per process ---------------------------------------------------------------

# What the counts are read from: a write to any of these changes them.
_WRITES = writes_to(
    "products",
    "product_specs",
    "spec_values",
    "categories",
    "customer_groups",
    "group_hidden_categories",
    "group_hidden_products",
)


def _changes_panels(statement: str) -> bool:
    return _WRITES.match(statement) is not None


def _new_panels() -> WriteKept:
    """Panels counted in this process, for one engine, by what decides them."""
    return WriteKept("facets", _changes_panels, seconds=lambda: KEEP_SECONDS, limit=KEPT_LIMIT)


_panels = PerEngine(_new_panels)


def forget() -> None:
    """Forget every kept panel of this process (a change made where no engine of it saw)."""
    _panels.forget()


def count(
    policy: GroupPolicy,
    scope: Scope,
    filters: Filters,
    *,
    size: int | None = None,
    key: Hashable | None = None,
) -> Facets:
    """The values of every specification among the products of a listing (`scope`: what
    it holds before any filter, core.catalog.listing_where), each counted as faceted
    search counts it, in one statement.

    `size`: how many products the listing holds when the caller knows (else the scope's
    bound: a category's kept total, a search's candidates; neither: counted first, up to
    the limit, in a statement of its own); more than FACET_LIMIT, nothing is counted.
    `key`: what names the scope (its search and categories): given, the panel is kept
    for this process (_Kept) with the group's view and the filters, and read from there.
    """
    hidden = visibility.hidden_for(policy.group_id)
    kept = kept_as = None
    if key is not None:
        kept = _panels.of(db.session.get_bind())
        stock = least_in_stock(policy) if filters.in_stock else None
        kept_as = (key, policy.group_id, hidden, stock, filters, size)
        found = kept.get(kept_as)
        if found is not None:
            return found
    started = time.monotonic()
    facets = _count(policy, scope, filters, hidden, size)
    if kept is not None:
        seconds = _keep_for(started, facets)
        kept.put(kept_as, facets, kept.began_at(db.session.connection()), seconds)
    return facets


def _keep_for(started: float, facets: "Facets") -> float:
    """How long a panel counted since `started` is kept, for other processes' writes
    (KEEP_PER_SECOND_COUNTED, KEEP_TOO_MANY)."""
    if KEEP_SECONDS <= 0:
        return KEEP_SECONDS
    if facets.too_many:
        return max(KEEP_SECONDS, KEEP_TOO_MANY)
    spent = time.monotonic() - started
    return min(KEEP_LONGEST, max(KEEP_SECONDS, spent * KEEP_PER_SECOND_COUNTED))


def _count(policy, scope: Scope, filters: Filters, hidden, size: int | None) -> Facets:
    ps = product_specs
    shared = [*scope.clauses, *hidden.clauses()]
    if filters.in_stock:
        shared.append(in_stock_clause(policy))

    def of_products(*columns):
        # The scope's products: read by its candidates' ids when it has them (a search's
        # trigram), never by walking an index of every product. In that order on MariaDB:
        # the listing's products first, then what is joined to them (below).
        stmt = select(*columns).prefix_with("STRAIGHT_JOIN", dialect="mysql")
        if scope.candidates is None:
            return stmt.select_from(Product).where(*shared)
        held = scope.candidates.subquery("candidates")
        joined = held.join(Product, Product.id == held.c.product_id)
        return stmt.select_from(joined).where(*shared)

    size = size if size is not None else scope.bound
    if size is None:
        # Not known for free (a broad search): counted, up to the limit, first.
        within = of_products(Product.id).limit(FACET_LIMIT + 1).subquery("within")
        size = db.session.scalar(select(func.count()).select_from(within)) or 0
    if size > FACET_LIMIT:
        return Facets(counted=False, too_many=True)
    chosen_names = [name for name, _values in filters.specs]

    def counted(which, spec_clauses):
        # The listing's products first, then their values, grouped by number (the text is
        # joined in once per value, after). Left to choose, MariaDB walks every product
        # holding one of a name's values, the whole catalogue's, to keep a category's.
        return (
            of_products(
                ps.c.value_id,
                func.count().label("products"),
                func.sum(ps.c.position).label("place"),
            )
            .join(ps, ps.c.product_id == Product.id)
            .where(*spec_clauses, *which)
            .group_by(ps.c.value_id)
        )

    sv = spec_values
    others = [ps.c.value_id.not_in(select(sv.c.id).where(sv.c.name.in_(chosen_names)))]
    parts = [counted(others if chosen_names else [], _spec_clauses(filters))]
    parts += [
        counted([ps.c.value_id.in_(_values_of(name))], _spec_clauses(filters, but=name))
        for name in chosen_names
    ]
    grouped = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("grouped")
    chosen = _chosen_flag(sv.c, filters)
    by_name = {"partition_by": sv.c.name}
    # The counts first, then each value's text (STRAIGHT_JOIN, in this select: MariaDB
    # would merge a derived table of the join into the ranking and lose the order). Left
    # to choose, it reads the values first and counts each one's products apart, all of the
    # catalogue's (0.8 s instead of 0.06 for a category of 30,000 products).
    ranked = (
        select(
            sv.c.name,
            sv.c.value,
            grouped.c.products,
            func.row_number()
            .over(order_by=(chosen.desc(), grouped.c.products.desc(), sv.c.value), **by_name)
            .label("rank"),
            func.count().over(**by_name).label("distinct_values"),
            func.sum(grouped.c.products).over(**by_name).label("holding"),
            func.sum(grouped.c.place).over(**by_name).label("place"),
        )
        .select_from(grouped)
        .join(sv, sv.c.id == grouped.c.value_id)
        .prefix_with("STRAIGHT_JOIN", dialect="mysql")
        .subquery("ranked")
    )
    rows = db.session.execute(select(ranked).where(ranked.c.rank <= VALUES_READ)).all()
    return Facets(tuple(_facets(rows, filters)), counted=True)


def _facets(rows, filters: Filters) -> list[Facet]:
    """The panel from the counted rows. Names in the order the products list their
    specifications (on average), so that ticking a value moves nothing; when there are
    more than NAMES_SHOWN, those holding most products, chosen names always. Each name's
    values in natural order; a chosen value that nothing holds is still shown (0)."""
    named: dict[str, dict] = {}
    for name, value, products, _rank, distinct, holding, place in rows:
        entry = named.setdefault(name, {"values": {}, "distinct": int(distinct)})
        entry["holding"] = int(holding or 0)
        entry["place"] = float(place or 0) / max(int(holding or 0), 1)
        entry["values"][value] = int(products)
    for name, values in filters.specs:
        entry = named.setdefault(name, {"values": {}, "distinct": 0, "holding": 0, "place": 0.0})
        for value in values:
            if value not in entry["values"]:
                entry["values"][value] = 0
                entry["distinct"] += 1
    chosen_names = {name for name, _values in filters.specs}
    by_holding = sorted(named, key=lambda n: (n not in chosen_names, -named[n]["holding"]))
    shown = set(by_holding[: max(NAMES_SHOWN, len(chosen_names))])
    facets = []

    def listed(name: str) -> tuple:
        return (named[name]["place"], -named[name]["holding"], name.casefold())

    for name in sorted(shown, key=listed):
        entry, picked = named[name], set(filters.chosen(name))
        values = tuple(
            FacetValue(value, entry["values"][value], value in picked, value_key(name, value))
            for value in sorted(entry["values"], key=natural_key)
        )
        facets.append(Facet(name, values, unread=max(entry["distinct"] - len(values), 0)))
    return facets


def key_specs(product_ids: list[int], per_product: int = 3) -> dict[int, list[tuple[str, str]]]:
    """The first specifications of each product, in its own order (a table's "key
    specs" column): one statement for the page."""
    if not product_ids:
        return {}
    ps, sv = product_specs, spec_values
    found: dict[int, list[tuple[str, str]]] = {}
    rows = db.session.execute(
        select(ps.c.product_id, sv.c.name, sv.c.value, ps.c.position)
        .join(sv, sv.c.id == ps.c.value_id)
        .where(ps.c.product_id.in_(sorted(set(product_ids))))
        .order_by(ps.c.product_id, ps.c.position)
    )
    for product_id, name, value, _position in rows:
        kept = found.setdefault(product_id, [])
        if len(kept) < per_product:
            kept.append((name, value))
    return found
