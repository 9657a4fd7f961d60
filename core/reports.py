"""Financial reports: sales by period, customer, product and sales rep; margins; ageing.

What counts as a sale: an order that is not cancelled, on the day it was placed
(`orders.created_at`, UTC like every stored time), at its total (the sum of its lines
at the prices of the moment). Every query is narrowed by `access.company_scope`, so a
sales rep's reports cover only their customers; cost and margin need `finance.costs`.

Sums are made in SQL (one statement per table, whatever the number of orders) and read
back as Decimal: SQLite adds NUMERIC values as floats, so each sum is typed with the
column's scale (as billing.balance does), which is exact for money and unit costs.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Select, case, distinct, exists, func, select, type_coerce

from extensions import db

from . import access, billing, i18n
from .errors import Refused
from .i18n import _, ngettext
from .margins import share
from .models import CENT, Company, Invoice, Order, OrderLine, Product, User, company_reps
from .models.base import Money, UnitPrice

GRANULARITIES = {"day": _("Daily"), "week": _("Weekly"), "month": _("Monthly")}
PERIOD_HEADINGS = {"day": _("Day"), "week": _("Week starting"), "month": _("Month")}
# How long a range each granularity may cover: enough bars to read, never thousands.
MAX_DAYS = {"day": 366, "week": 3 * 366, "month": 10 * 366}
TOP_CHOICES = (5, 10, 20, 50)
DEFAULT_TOP = 10
MAX_TOP = 50
EARLIEST = date(2000, 1, 1)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SMALL_NUMBER = re.compile(r"[0-9]{1,3}")

AGEING_BUCKETS = (
    ("current", _("Not yet due")),
    ("1-30", _("1–30 days late")),
    ("31-60", _("31–60 days late")),
    ("61-90", _("61–90 days late")),
    ("90+", _("Over 90 days late")),
)


def _date(value: date, pattern: str) -> str:
    """A day in a CLDR pattern, in the reader's language ("LLL yyyy": Dec 2025, déc. 2025)."""
    return i18n.format_pattern(value, pattern)


# --- filters ------------------------------------------------------------------------------


class BadFilters(Refused):
    """Report filters that cannot be used; `errors` maps each query parameter to a message."""

    def __init__(self, errors: dict):
        super().__init__(" ".join(str(message) for message in errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Filters:
    """The range (both days included), the period size and how many top rows to list."""

    start: date
    end: date
    granularity: str = "month"
    top: int = DEFAULT_TOP

    @property
    def query(self) -> dict:
        """The query parameters that give these filters back (for links and live re-fetches)."""
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "by": self.granularity,
            "top": self.top,
        }

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min)

    @property
    def until(self) -> datetime:
        """The first moment after the range (created_at < until)."""
        return datetime.combine(self.end + timedelta(days=1), time.min)


def default_filters(today: date) -> Filters:
    """The last twelve months by month: this month so far and the eleven before it."""
    month = today.month - 11
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return Filters(date(year, month, 1), today, "month", DEFAULT_TOP)


def presets(today: date, top: int = DEFAULT_TOP) -> list[tuple[str, Filters]]:
    """Ranges people ask for most, each with the period size that reads best."""
    monday = today - timedelta(days=today.weekday())
    return [
        (_("Last 30 days"), Filters(today - timedelta(days=29), today, "day", top)),
        (_("Last 13 weeks"), Filters(monday - timedelta(weeks=12), today, "week", top)),
        (_("Last 12 months"), replace(default_filters(today), top=top)),
        (_("This year"), Filters(date(today.year, 1, 1), today, "month", top)),
        (
            _("Last year"),
            Filters(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), "month", top),
        ),
    ]


def _parse_day(raw: str, name: str, errors: dict) -> date | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        if not _ISO_DAY.fullmatch(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        errors[name] = (
            _("Enter the start date as YYYY-MM-DD, such as 2025-01-31.")
            if name == "from"
            else _("Enter the end date as YYYY-MM-DD, such as 2025-01-31.")
        )
        return None
    if day < EARLIEST:
        errors[name] = _("Reports start on %(day)s; choose a later date.", day=i18n.day(EARLIEST))
        return None
    return day


def parse_filters(args: Mapping[str, str], today: date) -> Filters:
    """Filters from a query string; missing ones take the defaults. Raises BadFilters."""
    errors: dict[str, str] = {}
    default = default_filters(today)
    start = _parse_day(args.get("from", ""), "from", errors)
    end = _parse_day(args.get("to", ""), "to", errors)
    granularity = (args.get("by") or "").strip() or default.granularity
    if granularity not in GRANULARITIES:
        errors["by"] = _("Choose daily, weekly or monthly figures.")
        granularity = default.granularity
    raw_top = (args.get("top") or "").strip()
    top = DEFAULT_TOP
    if raw_top:
        if not _SMALL_NUMBER.fullmatch(raw_top) or not 1 <= int(raw_top) <= MAX_TOP:
            errors["top"] = _(
                "Show between 1 and %(maximum)s rows in the top lists.", maximum=MAX_TOP
            )
        else:
            top = int(raw_top)
    if "from" not in errors and "to" not in errors:
        end = end or today
        start = start or default_filters(end).start
        if start > end:
            errors["to"] = _(
                "The end date (%(end)s) is before the start date (%(start)s).",
                end=i18n.day(end),
                start=i18n.day(start),
            )
        elif "by" not in errors and (end - start).days + 1 > MAX_DAYS[granularity]:
            errors["to"] = _too_long(granularity)
    if errors:
        raise BadFilters(errors)
    return Filters(start, end, granularity, top)


def _too_long(granularity: str):
    if granularity == "day":
        return _("Daily figures cover at most 366 days: choose a shorter range, or weekly figures.")
    if granularity == "week":
        return _(
            "Weekly figures cover at most 3 years: choose a shorter range, or monthly figures."
        )
    return _("Monthly figures cover at most 10 years: choose a shorter range.")


# --- periods ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One bar of the period chart: its first and last day inside the range, and its names."""

    start: date
    end: date
    label: str  # in tables: "Dec 2025", "01 Dec 2025" (a week's Monday), "Mon 01 Dec 2025"
    short: str  # under a bar: "Dec 25", "01 Dec"
    long: str  # in words: "December 2025", "Week starting 01 Dec 2025"
    partial: bool = False  # cut by the range: fewer days than the whole period


def bucket_of(day: date, granularity: str) -> date:
    """The first day of the period a day falls in (weeks start on Monday)."""
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    return day


def _next(first: date, granularity: str) -> date:
    if granularity == "month":
        return (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first + timedelta(days=7 if granularity == "week" else 1)


def periods(filters: Filters) -> list[Period]:
    """Every period of the range, empty ones included; the first and last may be partial."""
    found = []
    first = bucket_of(filters.start, filters.granularity)
    while first <= filters.end:
        following = _next(first, filters.granularity)
        start, end = max(first, filters.start), min(following - timedelta(days=1), filters.end)
        if filters.granularity == "month":
            label = _date(first, "LLL yyyy")
            short, long = _date(first, "LLL yy"), _date(first, "LLLL yyyy")
        elif filters.granularity == "week":
            label, short = _date(first, "dd MMM yyyy"), _date(first, "dd MMM")
            long = str(_("Week starting %(day)s", day=label))
        else:
            label, short = _date(first, "EEE dd MMM yyyy"), _date(first, "dd MMM")
            long = label
        partial = start != first or end != following - timedelta(days=1)
        found.append(Period(start, end, label, short, long, partial))
        first = following
    return found


# --- building blocks ----------------------------------------------------------------------


def _money(expression):
    """A SUM read back as exact money (see the module docstring)."""
    return type_coerce(func.coalesce(func.sum(expression), 0), Money)


def _units(expression):
    """A SUM of unit prices times quantities, read back with the unit price's four decimals."""
    return type_coerce(func.coalesce(func.sum(expression), 0), UnitPrice)


def _cents(value: Decimal) -> Decimal:
    # The same rounding as the order page's cost, so the two agree for one order.
    return Decimal(value).quantize(CENT)


def _as_date(value) -> date:
    """SQL DATE() is a date on MariaDB and an ISO string on SQLite."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _sales(user: User | None, stmt: Select, filters: Filters) -> Select:
    """Narrow a query over orders to the sales of the range that this person may see."""
    stmt = stmt.where(
        Order.status != "cancelled",
        Order.created_at >= filters.since,
        Order.created_at < filters.until,
    )
    return access.company_scope(user, stmt, Order.company_id)


LINE_COST = OrderLine.unit_cost * OrderLine.quantity


def _require_costs(user: User | None) -> None:
    if not access.can(user, "finance.costs"):
        raise PermissionError("Costs and margins are shown only to those who may see costs.")


# --- sales by period ----------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodRow:
    """Sales of one period."""

    period: Period
    revenue: Decimal
    orders: int

    @property
    def average(self) -> Decimal | None:
        return _cents(self.revenue / self.orders) if self.orders else None


@dataclass(frozen=True)
class SalesByPeriod:
    """Sales of every period of the range, with the range's totals."""

    rows: list[PeriodRow]
    revenue: Decimal
    orders: int
    customers: int

    @property
    def average(self) -> Decimal | None:
        return _cents(self.revenue / self.orders) if self.orders else None

    @property
    def best(self) -> PeriodRow | None:
        busy = [r for r in self.rows if r.orders]
        return max(busy, key=lambda r: r.revenue) if busy else None


def sales_by_period(user: User | None, filters: Filters) -> SalesByPeriod:
    """Revenue and number of orders per day, week or month of the range, with totals."""
    day = func.date(Order.created_at)
    rows = db.session.execute(
        _sales(user, select(day, _money(Order.total), func.count(Order.id)), filters).group_by(day)
    ).all()
    spans = periods(filters)
    index = {bucket_of(p.start, filters.granularity): i for i, p in enumerate(spans)}
    revenue = [Decimal(0)] * len(spans)
    counts = [0] * len(spans)
    for raw_day, amount, count in rows:
        i = index[bucket_of(_as_date(raw_day), filters.granularity)]
        revenue[i] += amount
        counts[i] += count
    customers = db.session.scalar(
        _sales(user, select(func.count(distinct(Order.company_id))), filters)
    )
    return SalesByPeriod(
        rows=[PeriodRow(p, revenue[i], counts[i]) for i, p in enumerate(spans)],
        revenue=sum(revenue, Decimal(0)),
        orders=sum(counts),
        customers=customers or 0,
    )


# --- rankings: customers and products -----------------------------------------------------


@dataclass(frozen=True)
class RankRow:
    """One customer or product of a top list (or "the rest", with `key` None)."""

    key: int | None
    label: str
    revenue: Decimal
    orders: int
    share: Decimal | None
    detail: str = ""  # the product's SKU
    quantity: int | None = None
    others: int = 0  # how many the rest row stands for


@dataclass(frozen=True)
class Ranking:
    """A top list, the rest summed, and the totals of the whole range."""

    rows: list[RankRow]
    rest: RankRow | None
    revenue: Decimal
    orders: int
    count: int  # distinct customers or products with sales
    quantity: int | None = None


def _others(count: int, noun: str) -> str:
    """ "12 other customers", "1 other product": the row of what a top list leaves out."""
    if noun == "customer":
        return str(ngettext("%(num)d other customer", "%(num)d other customers", count))
    if noun == "product":
        return str(ngettext("%(num)d other product", "%(num)d other products", count))
    return str(ngettext("%(num)d other company", "%(num)d other companies", count))


def _rank_rest(
    rows: list[RankRow], total: Decimal, count: int, noun: str, *, orders: int, quantity=None
) -> RankRow | None:
    """The row summing what the top list leaves out ("12 other customers"), if anything is."""
    if count <= len(rows):
        return None
    rest_revenue = total - sum((r.revenue for r in rows), Decimal(0))
    others = count - len(rows)
    return RankRow(
        None,
        _others(others, noun),
        rest_revenue,
        orders,
        share(rest_revenue, total),
        quantity=quantity,
        others=others,
    )


def sales_by_customer(user: User | None, filters: Filters) -> Ranking:
    """The top customers by revenue, with the others summed into one row."""
    revenue = _money(Order.total)
    top = db.session.execute(
        _sales(
            user,
            select(Company.id, Company.name, revenue, func.count(Order.id)).join(
                Company, Company.id == Order.company_id
            ),
            filters,
        )
        .group_by(Company.id, Company.name)
        .order_by(func.sum(Order.total).desc(), Company.name)
        .limit(filters.top)
    ).all()
    total, orders, count = db.session.execute(
        _sales(
            user,
            select(revenue, func.count(Order.id), func.count(distinct(Order.company_id))),
            filters,
        )
    ).one()
    rows = [RankRow(cid, name, amount, n, share(amount, total)) for cid, name, amount, n in top]
    rest = _rank_rest(rows, total, count, "customer", orders=orders - sum(r.orders for r in rows))
    return Ranking(rows, rest, total, orders, count)


def sales_by_product(user: User | None, filters: Filters) -> Ranking:
    """The top products by revenue (order lines), with the others summed into one row."""
    revenue = _money(OrderLine.line_total)
    base = select().select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)
    top = db.session.execute(
        _sales(
            user,
            base.add_columns(
                Product.id,
                Product.sku,
                Product.name,
                revenue,
                func.count(distinct(OrderLine.order_id)),
                func.sum(OrderLine.quantity),
            ).join(Product, Product.id == OrderLine.product_id),
            filters,
        )
        .group_by(Product.id, Product.sku, Product.name)
        .order_by(func.sum(OrderLine.line_total).desc(), Product.sku)
        .limit(filters.top)
    ).all()
    total, orders, quantity, count = db.session.execute(
        _sales(
            user,
            base.add_columns(
                revenue,
                func.count(distinct(OrderLine.order_id)),
                func.coalesce(func.sum(OrderLine.quantity), 0),
                func.count(distinct(OrderLine.product_id)),
            ),
            filters,
        )
    ).one()
    rows = [
        RankRow(pid, name, amount, n, share(amount, total), sku, int(units))
        for pid, sku, name, amount, n, units in top
    ]
    rest = _rank_rest(
        rows,
        total,
        count,
        "product",
        orders=0,  # an order may hold products of both groups: no order count for the rest
        quantity=int(quantity) - sum(r.quantity or 0 for r in rows),
    )
    return Ranking(rows, rest, total, orders, count, int(quantity))


# --- sales by rep -------------------------------------------------------------------------


@dataclass(frozen=True)
class RepRow:
    """A rep (or nobody, `key` None) with the sales of the customers assigned to them now."""

    key: int | None
    name: str
    revenue: Decimal
    orders: int
    customers: int
    share: Decimal | None


@dataclass(frozen=True)
class SalesByRep:
    """Sales per rep; the totals count every sale once."""

    rows: list[RepRow]
    unassigned: RepRow | None
    revenue: Decimal  # every sale once, whatever the number of reps
    orders: int
    shared_customers: int  # customers (with sales) that several reps serve


def sales_by_rep(user: User | None, filters: Filters) -> SalesByRep:
    """Sales per sales rep, attributed in full to each rep assigned to the customer now."""
    # Its own subquery, so that company_scope's own on company_reps stays uncorrelated; of
    # the staff assigned to a customer, those who sell to it (a Partner only reads).
    link = (
        select(company_reps)
        .where(company_reps.c.user_id.in_(access.holders(access.SELLS)))
        .subquery("rep_link")
    )
    revenue = _money(Order.total)
    found = db.session.execute(
        _sales(
            user,
            select(
                User.id,
                User.name,
                revenue,
                func.count(Order.id),
                func.count(distinct(Order.company_id)),
            )
            .select_from(Order)
            .join(link, link.c.company_id == Order.company_id)
            .join(User, User.id == link.c.user_id),
            filters,
        )
        .group_by(User.id, User.name)
        .order_by(func.sum(Order.total).desc(), User.name)
    ).all()
    total, orders = db.session.execute(
        _sales(user, select(revenue, func.count(Order.id)), filters)
    ).one()
    nobody = ~exists().where(link.c.company_id == Order.company_id)
    none_revenue, none_orders, none_customers = db.session.execute(
        _sales(
            user,
            select(revenue, func.count(Order.id), func.count(distinct(Order.company_id))).where(
                nobody
            ),
            filters,
        )
    ).one()
    several = (
        select(link.c.company_id).group_by(link.c.company_id).having(func.count(link.c.user_id) > 1)
    )
    shared = db.session.scalar(
        _sales(
            user,
            select(func.count(distinct(Order.company_id))).where(Order.company_id.in_(several)),
            filters,
        )
    )
    rows = [RepRow(uid, name, r, n, c, share(r, total)) for uid, name, r, n, c in found]
    unassigned = (
        RepRow(
            None,
            str(_("No sales rep")),
            none_revenue,
            none_orders,
            none_customers,
            share(none_revenue, total),
        )
        if none_orders
        else None
    )
    return SalesByRep(rows, unassigned, total, orders, shared or 0)


# --- margins ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarginRow:
    """Revenue, cost and margin of a period, customer or product (or "the rest")."""

    key: object
    label: str
    revenue: Decimal
    cost: Decimal
    detail: str = ""
    others: int = 0

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def percent(self) -> Decimal | None:
        return share(self.margin, self.revenue)


@dataclass(frozen=True)
class Margins:
    """Margins by period, by top customer and by top product, with the total."""

    by_period: list[MarginRow]
    by_customer: list[MarginRow]
    customers_rest: MarginRow | None
    by_product: list[MarginRow]
    products_rest: MarginRow | None
    total: MarginRow


def _margin_rest(rows: list[MarginRow], total: MarginRow, count: int, noun: str):
    if count <= len(rows):
        return None
    others = count - len(rows)
    exact_cost = total.cost - sum((r.cost for r in rows), Decimal(0))
    return MarginRow(
        None,
        _others(others, noun),
        total.revenue - sum((r.revenue for r in rows), Decimal(0)),
        exact_cost,
        others=others,
    )


def margins(user: User | None, filters: Filters) -> Margins:
    """Revenue, cost, margin and margin % by period, top customer and top product.

    Cost is each line's unit cost of the moment times its quantity; customers and
    products are ranked by margin. Only for holders of finance.costs.
    """
    _require_costs(user)
    revenue, cost = _money(OrderLine.line_total), _units(LINE_COST)
    margin_order = (func.sum(OrderLine.line_total) - func.sum(LINE_COST)).desc()
    base = select().select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)

    day = func.date(Order.created_at)
    spans = periods(filters)
    index = {bucket_of(p.start, filters.granularity): i for i, p in enumerate(spans)}
    period_revenue = [Decimal(0)] * len(spans)
    period_cost = [Decimal(0)] * len(spans)
    for raw_day, amount, spent in db.session.execute(
        _sales(user, base.add_columns(day, revenue, cost), filters).group_by(day)
    ):
        i = index[bucket_of(_as_date(raw_day), filters.granularity)]
        period_revenue[i] += amount
        period_cost[i] += spent

    total_revenue, total_cost, customers, products = db.session.execute(
        _sales(
            user,
            base.add_columns(
                revenue,
                cost,
                func.count(distinct(Order.company_id)),
                func.count(distinct(OrderLine.product_id)),
            ),
            filters,
        )
    ).one()
    exact_total = MarginRow(None, str(_("Total")), total_revenue, total_cost)

    by_customer = [
        MarginRow(cid, name, r, c)
        for cid, name, r, c in db.session.execute(
            _sales(
                user,
                base.add_columns(Company.id, Company.name, revenue, cost).join(
                    Company, Company.id == Order.company_id
                ),
                filters,
            )
            .group_by(Company.id, Company.name)
            .order_by(margin_order, Company.name)
            .limit(filters.top)
        )
    ]
    by_product = [
        MarginRow(pid, name, r, c, detail=sku)
        for pid, sku, name, r, c in db.session.execute(
            _sales(
                user,
                base.add_columns(Product.id, Product.sku, Product.name, revenue, cost).join(
                    Product, Product.id == OrderLine.product_id
                ),
                filters,
            )
            .group_by(Product.id, Product.sku, Product.name)
            .order_by(margin_order, Product.sku)
            .limit(filters.top)
        )
    ]
    customers_rest = _margin_rest(by_customer, exact_total, customers, "customer")
    products_rest = _margin_rest(by_product, exact_total, products, "product")

    def rounded(row: MarginRow | None) -> MarginRow | None:
        # Costs are summed exactly (four decimals) and rounded to the cent once, per row.
        if row is None:
            return None
        return MarginRow(row.key, row.label, row.revenue, _cents(row.cost), row.detail, row.others)

    return Margins(
        by_period=[
            MarginRow(p, p.label, period_revenue[i], _cents(period_cost[i]), detail=p.short)
            for i, p in enumerate(spans)
        ],
        by_customer=[rounded(r) for r in by_customer],
        customers_rest=rounded(customers_rest),
        by_product=[rounded(r) for r in by_product],
        products_rest=rounded(products_rest),
        total=rounded(exact_total),
    )


# --- receivables ageing -------------------------------------------------------------------


@dataclass(frozen=True)
class AgeingRow:
    """What one company (or the rest, `key` None) owes, by how late it is."""

    key: int | None
    name: str
    amounts: tuple[Decimal, ...]  # one per AGEING_BUCKETS
    invoices: int
    others: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.amounts, Decimal(0))

    @property
    def overdue(self) -> Decimal:
        return sum(self.amounts[1:], Decimal(0))


@dataclass(frozen=True)
class Ageing:
    """What is owed on one day, by company and by how late."""

    on: date
    rows: list[AgeingRow]
    rest: AgeingRow | None
    totals: tuple[Decimal, ...]
    invoices: int
    companies: int

    @property
    def total(self) -> Decimal:
        return sum(self.totals, Decimal(0))

    @property
    def overdue(self) -> Decimal:
        return sum(self.totals[1:], Decimal(0))


def ageing_bucket(due_on: date, on: date) -> int:
    """The AGEING_BUCKETS index of an invoice due on `due_on`, seen on day `on`."""
    late = (on - due_on).days
    if late <= 0:
        return 0
    return 1 if late <= 30 else 2 if late <= 60 else 3 if late <= 90 else 4


def ageing(user: User | None, on: date, top: int = DEFAULT_TOP) -> Ageing:
    """Open invoices (not void, not settled) by days overdue, per company and in total.

    The amount is what is still owed (billing.owed: total less payments and credit notes);
    companies are ranked by what is overdue, then by what is owed.
    """
    due = Invoice.due_on
    limits = [on, on - timedelta(days=30), on - timedelta(days=60), on - timedelta(days=90)]
    conditions = [
        due >= limits[0],
        (due < limits[0]) & (due >= limits[1]),
        (due < limits[1]) & (due >= limits[2]),
        (due < limits[2]) & (due >= limits[3]),
        due < limits[3],
    ]
    columns = [_money(case((c, billing.owed()), else_=0)) for c in conditions]
    overdue_sum = func.sum(case((due < on, billing.owed()), else_=0))
    base = access.company_scope(
        user,
        select().select_from(Invoice).where(billing.status_condition("outstanding", on)),
        Invoice.company_id,
    )
    found = db.session.execute(
        base.add_columns(Company.id, Company.name, func.count(Invoice.id), *columns)
        .join(Company, Company.id == Invoice.company_id)
        .group_by(Company.id, Company.name)
        .order_by(overdue_sum.desc(), func.sum(billing.owed()).desc(), Company.name)
        .limit(top)
    ).all()
    totals_row = db.session.execute(
        base.add_columns(func.count(Invoice.id), func.count(distinct(Invoice.company_id)), *columns)
    ).one()
    invoices, companies, totals = totals_row[0], totals_row[1], tuple(totals_row[2:])
    rows = [AgeingRow(cid, name, tuple(amounts), n) for cid, name, n, *amounts in found]
    rest = None
    if companies > len(rows):
        others = companies - len(rows)
        rest = AgeingRow(
            None,
            _others(others, "company"),
            tuple(t - sum((r.amounts[i] for r in rows), Decimal(0)) for i, t in enumerate(totals)),
            invoices - sum(r.invoices for r in rows),
            others=others,
        )
    return Ageing(on, rows, rest, totals, invoices, companies)


def scope_names(user: User | None) -> list[str] | None:
    """The customers a person's reports cover, or None when they cover every customer."""
    if access.sees_all_customers(user):
        return None
    return list(
        db.session.scalars(
            access.company_scope(user, select(Company.name), Company.id).order_by(Company.name)
        )
    )
