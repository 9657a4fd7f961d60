"""The back office's work queue: what waits for someone, counted in the viewer's scope.

Each queue counts the rows of its list page as that list filters them, with the same
scoped statement (core.orders, core.quotes, core.billing, core.stock), so that a count
and the list it links to cannot disagree. A queue is shown only to holders of its
module's permission; low stock only to those who may see exact stock.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, func, select

from extensions import db

from . import access, billing, orders, quotes, settings, stock
from .i18n import _, number
from .models import CENT, Invoice, Order, User


@dataclass(frozen=True)
class Queue:
    """One kind of work waiting, and the list page (`area`, `filters`) that shows it."""

    key: str
    permission: str
    area: str  # the back-office list that shows these rows
    label: object  # lazy, like the hints: translated where it is shown
    hint: object = ""


@dataclass(frozen=True)
class Part:
    """A sharper part of a queue, shown under its count: its own list filter and count."""

    label: object
    count: int
    filters: dict


@dataclass(frozen=True)
class Count:
    """How many rows wait in one queue for this viewer, with the list's filters that show
    them. `amount`: the money they stand for, where that is what is chased (overdue);
    `part`: the most urgent of them (out of stock, of low stock)."""

    queue: Queue
    count: int
    filters: dict = field(default_factory=dict)
    amount: Decimal | None = None
    hint: object = ""
    part: Part | None = None


ORDERS_TO_CONFIRM = Queue(
    "orders-to-confirm",
    "orders.view",
    "orders",
    _("Orders to confirm"),
    _("Placed by customers, not confirmed yet"),
)
ORDERS_TO_SHIP = Queue(
    "orders-to-ship",
    "orders.view",
    "orders",
    _("Orders to ship"),
    _("Confirmed, nothing shipped yet"),
)
QUOTES_TO_ANSWER = Queue(
    "quotes-to-answer",
    "quotes.view",
    "quotes",
    _("Quotes awaiting our answer"),
    _("Requested or countered by the customer"),
)
INVOICES_OVERDUE = Queue(
    "invoices-overdue",
    "invoices.view",
    "invoices",
    _("Overdue invoices"),
    _("Past their due date, not paid in full"),
)
LOW_STOCK = Queue(
    "low-stock",
    "stock.view",
    "stock_low",
    _("Low stock"),
)
QUEUES: tuple[Queue, ...] = (
    ORDERS_TO_CONFIRM,
    ORDERS_TO_SHIP,
    QUOTES_TO_ANSWER,
    INVOICES_OVERDUE,
    LOW_STOCK,
)
# The permissions that decide which queues a person sees (the live audience's fields).
PERMISSIONS: tuple[str, ...] = tuple(dict.fromkeys(q.permission for q in QUEUES))

# The order status each order queue lists (the orders list's own `status` filter).
ORDER_STATUS = {ORDERS_TO_CONFIRM.key: "placed", ORDERS_TO_SHIP.key: "confirmed"}
QUOTE_FILTER = "seller"  # core.quotes.FILTERS: open, and the seller's move
INVOICE_FILTER = "overdue"  # core.billing.STATUS_FILTERS


def count_of(stmt: Select) -> int:
    """How many rows a list statement has: the count its pager shows (core.pagination)."""
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def visible_queues(user: User | None) -> list[Queue]:
    """The queues this person may see, in page order."""
    if user is None or not getattr(user, "is_staff", False):
        return []
    return [q for q in QUEUES if access.can(user, q.permission)]


def _orders(user: User, status: str) -> Select:
    # As the orders list filters by status (blueprints/fragments/orders.list_context).
    return orders.visible_orders(user).where(Order.status == status)


def _overdue(user: User, on: date) -> Select:
    # As the invoices list filters by status (blueprints/fragments/billing.list_context).
    return (
        billing.visible_invoices(user)
        .join(Invoice.company)
        .where(billing.status_condition(INVOICE_FILTER, on))
    )


def _count(queue: Queue, user: User, on: date) -> Count:
    if queue.key in ORDER_STATUS:
        status = ORDER_STATUS[queue.key]
        return Count(queue, count_of(_orders(user, status)), {"status": status}, hint=queue.hint)
    if queue is QUOTES_TO_ANSWER:
        found = quotes.listing(user, status=QUOTE_FILTER)
        return Count(queue, count_of(found), {"status": QUOTE_FILTER}, hint=queue.hint)
    if queue is INVOICES_OVERDUE:
        # The list's statement, counted and summed in one go: what is owed on them.
        waiting, owed = db.session.execute(
            _overdue(user, on).with_only_columns(func.count(), func.sum(billing.owed()))
        ).one()
        amount = Decimal(owed or 0).quantize(CENT)
        return Count(queue, waiting or 0, {"status": INVOICE_FILTER}, amount, queue.hint)
    if queue is LOW_STOCK:
        # The low-stock list's own query at its default threshold (where "Many" starts),
        # which its link leaves to the list; one row is read besides the count.
        below = settings.stock_thresholds()[1]
        hint = _("Products on sale with fewer than %(below)s in stock", below=number(below))
        empty = Part(_("Out of stock"), stock.low_stock(1, per_page=1).total, {"below": 1})
        return Count(queue, stock.low_stock(below, per_page=1).total, hint=hint, part=empty)
    raise KeyError(queue.key)


def counts(user: User | None, on: date | None = None) -> list[Count]:
    """Each queue this person may see, with how many of its rows wait in their scope."""
    on = on or billing.today()
    return [_count(queue, user, on) for queue in visible_queues(user)]
