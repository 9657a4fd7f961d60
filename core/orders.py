"""Orders: placed with stock taken atomically, moved through their states, cancelled.

Stock is taken with one conditional UPDATE per line (`stock >= quantity`) inside the
order's transaction, products in id order so two orders lock them in the same order.
Two buyers of the last unit never both succeed and stock never goes negative (a CHECK
constraint backs this up). Callers run it through core.transaction, which replays the
whole transaction a bounded number of times when the database reports a deadlock.
"""

import logging
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from sqlalchemy import select, update

from extensions import db

from . import audit, billing, events, i18n, tax, visibility, webhooks
from . import delivery as delivery_choices
from .delivery import Delivery
from .errors import Refused
from .i18n import _
from .models import CENT, Company, Order, OrderEvent, OrderLine, Product, StockMovement, User
from .offer import GroupPolicy, offers_for

log = logging.getLogger("portal.orders")
T = TypeVar("T")

# Allowed moves: from -> to. Cancelling is possible until the goods have left.
TRANSITIONS = {
    "placed": ("confirmed", "partly_shipped", "shipped", "cancelled"),
    "confirmed": ("partly_shipped", "shipped", "cancelled"),
    "partly_shipped": ("shipped",),
    "shipped": ("delivered",),
    "delivered": (),
    "cancelled": (),
}
# States an order reaches through its shipments (core.shipments.follow), never by hand:
# some shipped, everything shipped, everything delivered.
BY_SHIPMENTS = frozenset({"partly_shipped", "shipped", "delivered"})
MAX_QUANTITY = 1_000_000


class NotEnoughStock(Refused):
    """An order line asks for more than there is. The message never says how many are left
    (nor anything that moves with the count): it names the product only, so a refusal
    reads the same whatever the stock, and a group that sees levels learns no number."""

    def __init__(self, product: Product):
        super().__init__(
            _(
                "Not enough stock of %(sku)s (%(name)s) for this order.",
                sku=product.sku,
                name=product.name,
            )
        )
        self.product_id = product.id


@dataclass(frozen=True)
class LineRequest:
    """What to order: a product and a quantity, with a price fixed by a quote if any.

    A custom part from a quote (core.custom_parts) has no product: its `sku` and `name`
    say what it is, its quoted `unit_price` is the price, and it takes no stock.
    """

    product_id: int | None
    quantity: int
    unit_price: Decimal | None = None
    sku: str = ""
    name: str = ""
    quote_line_id: int | None = None


def custom_order_line(request: LineRequest) -> OrderLine:
    """A custom part's line: at its quoted price, standard VAT class, no product, no cost."""
    if request.unit_price is None or not request.sku:
        raise Refused(_("A custom part is ordered only at the price of its quote."))
    return OrderLine(
        product_id=None,
        sku=request.sku[:64],
        name=request.name[:200],
        quantity=request.quantity,
        list_price=request.unit_price,
        unit_price=request.unit_price,
        unit_cost=Decimal("0"),
        promotion_id=None,
        line_total=(request.unit_price * request.quantity).quantize(CENT, ROUND_HALF_UP),
        tax_class="standard",
        quote_line_id=request.quote_line_id,
    )


def _take_stock(
    product: Product, quantity: int, order: Order, actor: User | None, *, backorder: bool = False
) -> int:
    """Decrement stock only if enough is left, and record the movement; returns how many
    were taken.

    With `backorder` (the group accepts back-orders) it takes what there is, never more,
    and the caller records the rest as back-ordered; the product's row is locked already
    (lock_products), so the stock read here is the one the conditional UPDATE sees.
    """
    wanted = quantity
    if backorder:
        there = db.session.scalar(select(Product.stock).where(Product.id == product.id)) or 0
        wanted = min(quantity, max(there, 0))
        if wanted == 0:
            return 0
    taken = db.session.execute(
        update(Product)
        .where(Product.id == product.id, Product.stock >= wanted)
        .values(stock=Product.stock - wanted)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise NotEnoughStock(product)
    after = db.session.scalar(select(Product.stock).where(Product.id == product.id))
    db.session.add(
        StockMovement(
            product_id=product.id,
            kind="order",
            delta=-wanted,
            stock_before=after + wanted,
            stock_after=after,
            reason=f"Order {order.number}",
            user_id=actor.id if actor else None,
            order_id=order.id,
        )
    )
    events.record(db.session, "stock_changed", product.id)
    webhooks.emit_stock(product.id, after + wanted, after, product=product)
    return wanted


def order_line(product: Product, offer, quantity: int, unit_price=None) -> OrderLine:
    """A line at the offer's price of the moment for this quantity (the break it
    reaches), or at a price fixed by a quote."""
    offer = offer.at(quantity)
    price = unit_price if unit_price is not None else offer.price
    return OrderLine(
        product_id=product.id,
        sku=product.sku,
        name=product.name,
        quantity=quantity,
        list_price=offer.list_price,
        unit_price=price,
        unit_cost=product.cost,
        promotion_id=offer.promotion.promotion_id
        if offer.promotion and unit_price is None
        else None,
        line_total=(price * quantity).quantize(CENT, ROUND_HALF_UP),
        tax_class=product.tax_class,
    )


def place(
    company: Company,
    requests: list[LineRequest],
    *,
    placed_by: User,
    approved_by: User | None = None,
    quote=None,
    note: str = "",
    delivery: Delivery | None = None,
    acting_staff_id: int | None = None,
) -> Order:
    """Create an order at the offer's prices (or the quote's) and take its stock.

    `delivery` (core.delivery.check): the address, shipping method and its price (free
    above its threshold), reference and requested date the order records.
    `acting_staff_id`: the staff member who placed it in `placed_by`'s name (core.acting).

    Raises Refused (NotEnoughStock for stock) and leaves the transaction for the
    caller to roll back; `retrying` does both.
    """
    if not requests:
        raise Refused(_("The order has no lines."))
    merged: dict[int, LineRequest] = {}
    custom: list[LineRequest] = []
    for line in requests:
        if line.quantity < 1 or line.quantity > MAX_QUANTITY:
            raise Refused(_("Quantities are whole numbers from 1."))
        if line.product_id is None:
            custom.append(line)
            continue
        if line.product_id in merged:
            raise Refused(_("A product appears twice in the order."))
        merged[line.product_id] = line
    # Exclusive locks first, in id order, before any insert takes shared ones (see
    # lock_products): every placement, from a cart or a quote, queues and never deadlocks.
    lock_products(merged)
    # On sale, and not hidden from the company's group (core.visibility), as its cart said.
    shown = visibility.offered(company.group_id)
    products = {
        p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(merged), *shown))
    }
    missing = set(merged) - set(products)
    if missing:
        raise Refused(_("Some products in the order are no longer sold."))
    offers = offers_for(company.group, list(products.values()))
    order = Order(
        number=f"TMP-{secrets.token_hex(8)}",
        company=company,
        placed_by=placed_by,
        approved_by=approved_by,
        acting_staff_id=acting_staff_id,
        quote=quote,
        status="placed",
        note=(note or "")[:2000],
    )
    db.session.add(order)
    for product_id in sorted(merged):  # one locking order for every transaction
        request = merged[product_id]
        order.lines.append(
            order_line(
                products[product_id], offers[product_id], request.quantity, request.unit_price
            )
        )
    order.lines.extend(custom_order_line(request) for request in custom)
    order.total = sum((line.line_total for line in order.lines), Decimal(0))
    db.session.flush()
    order.number = f"SO-{order.id:05d}"
    if delivery is not None:
        delivery_choices.apply(order, delivery)
    tax.apply(order)  # last: after the lines and the shipping are set
    # A group that accepts back-orders gets what there is; the rest of each line waits for
    # a goods receipt (core.stock.receive), which serves it before anything goes to stock.
    backorders = bool(company.group.backorders_allowed)
    line_of = {line.product_id: line for line in order.lines if line.product_id is not None}
    for product_id in sorted(merged):
        quantity = merged[product_id].quantity
        if backorders:
            taken = _take_stock(products[product_id], quantity, order, placed_by, backorder=True)
            line_of[product_id].backordered = quantity - taken
        else:
            _take_stock(products[product_id], quantity, order, placed_by)  # all, or refused
    order.events.append(OrderEvent(status="placed", user=placed_by, note=order.note[:200]))
    audit.record(
        "order.placed",
        actor=placed_by,
        target=order,
        summary=f"Order {order.number} placed for {company.name}, {order.total} {order.currency}",
        after={
            "lines": [
                [ln.sku, ln.quantity, str(ln.unit_price)]
                + ([f"{ln.backordered} back-ordered"] if ln.backordered else [])
                for ln in order.lines
            ]
        },
    )
    events.record(db.session, "order_changed", order.id, company=company.id)
    webhooks.emit("order.placed", order.id, company_id=company.id)
    return order


def move(order: Order, to: str, *, actor: User, note: str = "") -> None:
    """Move an order on by hand (confirm, cancel); cancelling returns its stock.

    Shipping and delivering follow the order's shipments (core.shipments); by hand only
    an order shipped before shipments were kept is marked delivered.
    """
    if to not in TRANSITIONS.get(order.status, ()):
        raise Refused(
            _("An order that is %(status)s cannot become %(to)s.", status=order.status, to=to)
        )
    if to not in next_states(order):
        raise Refused(
            _(
                "Order %(number)s is shipped and delivered through its shipments: create a "
                "shipment of its open quantities on the order's page, then mark it shipped "
                "and delivered there.",
                number=order.number,
            )
        )
    removed = []
    if to == "cancelled":
        billing.void_for(order, actor=actor)  # first: it refuses a paid invoice
        # A custom part took no stock, so it gives none back.
        stocked = [ln for ln in order.lines if ln.product_id is not None]
        for line in sorted(stocked, key=lambda ln: ln.product_id):
            _return_stock(line, order, actor)
        # Shipments still being prepared never left: they go with the order.
        for shipment in [s for s in order.shipments if s.status == "prepared"]:
            removed.append(shipment.number)
            events.record(
                db.session,
                "shipment_changed",
                shipment.id,
                order=order.id,
                company=order.company_id,
            )
            order.shipments.remove(shipment)
    _set_status(order, to, actor=actor, note=note, removed=removed)


def follow(order: Order, to: str, *, actor: User | None, note: str = "") -> None:
    """The status the order's shipments give it (core.shipments decides which)."""
    if to not in BY_SHIPMENTS or to not in TRANSITIONS.get(order.status, ()):
        raise Refused(
            _("An order that is %(status)s cannot become %(to)s.", status=order.status, to=to)
        )
    _set_status(order, to, actor=actor, note=note)


def _set_status(order: Order, to: str, *, actor: User | None, note: str = "", removed=()) -> None:
    before = order.status
    order.status = to
    order.events.append(OrderEvent(status=to, user=actor, note=(note or "")[:2000]))
    if to in ("confirmed", "partly_shipped", "shipped"):
        billing.issue_for(order, actor=actor)  # once: when confirmed or first shipped
    summary = f"Order {order.number}: {before} → {to}"
    if removed:
        summary += f" (shipments being prepared removed: {', '.join(removed)})"
    audit.record(
        "order.cancelled" if to == "cancelled" else "order.moved",
        actor=actor,
        target=order,
        summary=summary,
        before={"status": before},
        after={"status": to},
    )
    events.record(db.session, "order_changed", order.id, company=order.company_id)
    webhooks.emit(
        "order.status_changed",
        order.id,
        company_id=order.company_id,
        previous_status=before,
        status=to,
    )


def _return_stock(line: OrderLine, order: Order, actor: User) -> None:
    """Put back what the line took: its quantity less what is still back-ordered (that
    never left the shelf). The product's row is locked first and the line read again
    under that lock, so a goods receipt serving this line at the same moment (which
    holds the same lock) is counted once: before, or after, never half."""
    db.session.execute(select(Product.id).where(Product.id == line.product_id).with_for_update())
    waiting = db.session.scalar(select(OrderLine.backordered).where(OrderLine.id == line.id))
    returned = line.quantity - (waiting or 0)
    if returned <= 0:
        return
    db.session.execute(
        update(Product)
        .where(Product.id == line.product_id)
        .values(stock=Product.stock + returned)
        .execution_options(synchronize_session=False)
    )
    after = db.session.scalar(select(Product.stock).where(Product.id == line.product_id))
    db.session.add(
        StockMovement(
            product_id=line.product_id,
            kind="cancellation",
            delta=returned,
            stock_before=after - returned,
            stock_after=after,
            reason=f"Order {order.number} cancelled",
            user_id=actor.id,
            order_id=order.id,
        )
    )
    events.record(db.session, "stock_changed", line.product_id)
    webhooks.emit_stock(line.product_id, after - returned, after)


# --- reading orders as a person may see them (added with the trade screens) -------------

STATUS_LABELS = {
    "placed": _("Placed"),
    "confirmed": _("Confirmed"),
    "partly_shipped": _("Partly shipped"),
    "shipped": _("Shipped"),
    "delivered": _("Delivered"),
    "cancelled": _("Cancelled"),
}
# The button that moves an order to each state by hand.
MOVE_LABELS = {
    "confirmed": _("Confirm"),
    "delivered": _("Mark delivered"),
    "cancelled": _("Cancel order"),
}


@dataclass(frozen=True)
class Backordered:
    """One line's back-order as a viewer may see it. `quantity` is None for a customer whose
    group sees levels: ordered less back-ordered is the stock of the moment the order was
    placed, so the number would tell the count. They see which lines wait, not how many."""

    sku: str
    name: str
    quantity: int | None


def sees_backordered_counts(viewer: User | None, order: Order) -> bool:
    """Staff see back-ordered quantities; a customer only when the group sees exact counts."""
    if viewer is not None and getattr(viewer, "is_staff", False):
        return True
    return GroupPolicy.of(order.company.group).sees_counts


def backorders_seen(order: Order, viewer: User | None) -> list[Backordered]:
    """The order's lines still waiting for stock, as this viewer may see them (none once the
    order is cancelled: nothing waits any more)."""
    if order.status == "cancelled":
        return []
    counts = sees_backordered_counts(viewer, order)
    return [
        Backordered(line.sku, line.name, line.backordered if counts else None)
        for line in order.lines
        if line.backordered > 0
    ]


def backorder_note(order: Order, viewer: User | None):
    """A mail's sentence about what is back-ordered ("" when nothing is), with quantities
    only for those who may see them; lazy, like the mail it ends (core.i18n)."""
    waiting = backorders_seen(order, viewer)
    if not waiting:
        return ""
    if waiting[0].quantity is None:
        skus = ", ".join(b.sku for b in waiting)
        sentence = _(
            "Part of %(skus)s is back-ordered: it follows as soon as goods come in, "
            "before anything goes back on the shelf.",
            skus=skus,
        )
        return i18n.join("\n\n", sentence)
    heading = _("Back-ordered, to follow as soon as goods come in:")
    lines = (i18n.join("\n- ", i18n.number(b.quantity), " × ", b.sku, " ", b.name) for b in waiting)
    return i18n.join("\n\n", heading, *lines)


def visible_orders(user: User | None):
    """Orders of the companies this person may see, as a query to refine."""
    from . import access  # here, not at the top: this block is an addition to the module

    return access.company_scope(user, select(Order), Order.company_id)


def load_visible(user: User | None, order_id: int, *, lock: bool = False) -> Order | None:
    """One order if this person may see it, else None (the caller answers 404).

    With `lock`, the row stays locked to the end of the transaction, so two people
    moving the same order at once are served one after the other (a second cancel
    must not return the stock twice).
    """
    stmt = visible_orders(user).where(Order.id == order_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(stmt)


def search(stmt, q: str):
    """Orders whose number (SO-00012, 00012 or 12) or company name matches `q`."""
    import re

    from sqlalchemy import or_

    conditions = [Order.number.icontains(q, autoescape=True)]
    number = re.fullmatch(r"(?:so[-\s]?)?0*(\d{1,9})", q.strip(), re.IGNORECASE)
    if number:
        conditions.append(Order.number == f"SO-{int(number.group(1)):05d}")
    companies = select(Company.id).where(Company.name.icontains(q, autoescape=True))
    conditions.append(Order.company_id.in_(companies))
    return stmt.where(or_(*conditions))


def next_states(order: Order) -> tuple[str, ...]:
    """The states this order may be moved to by hand now.

    Shipping states follow the shipments; "delivered" by hand only for an order shipped
    before shipments were kept (it has none to deliver).
    """
    allowed = TRANSITIONS.get(order.status, ())
    legacy = order.status == "shipped" and not order.shipments
    return tuple(s for s in allowed if s not in BY_SHIPMENTS or (legacy and s == "delivered"))


def lock_products(product_ids) -> None:
    """Lock the products' rows, in id order, before an order's inserts touch them.

    Inserting an order line takes a shared lock on its product (the foreign-key
    check), so two orders of one product each hold a shared lock and wait for the
    other's before their stock UPDATE: a deadlock on every busy product. Taking the
    exclusive locks first, always in the same order, queues the orders instead.
    """
    ids = sorted(set(product_ids))
    if ids:
        db.session.execute(
            select(Product.id).where(Product.id.in_(ids)).order_by(Product.id).with_for_update()
        )
