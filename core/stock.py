"""Stock changes: every movement is a row with who, when, why, before and after.

Goods in (`receive`) serve open back-orders first, oldest order first, and only the
rest goes on the shelf; an adjustment (`set_level`) corrects a count and serves nobody.

Also the two ways of reading stock the back office needs: a product's movement history
(scoped: another customer's order shows as an order, never whose) and the low-stock list.
"""

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from extensions import db

from . import access, audit, events, i18n, notify, numbers, orders, webhooks
from .errors import Refused
from .i18n import _
from .models import Order, OrderLine, Product, StockMovement, User
from .pagination import Page, paginate

MAX_STOCK = 10_000_000
REFERENCE_LENGTH = 100


def set_level(product_id: int, counted: int, *, reason: str, actor) -> StockMovement | None:
    """Set a product's stock to a counted level (an adjustment), under a row lock."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise Refused(_("Say why the stock changes (for example: stocktake, damaged, found)."))
    if counted < 0:
        raise Refused(_("Stock cannot be negative."))
    if counted > MAX_STOCK:
        raise Refused(
            _(
                "Stock above %(maximum)s is not plausible; check the number.",
                maximum=i18n.number(MAX_STOCK),
            )
        )
    product = db.session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if product is None:
        raise Refused(_("There is no such product."))
    before = product.stock
    if counted == before:
        return None
    product.stock = counted
    movement = StockMovement(
        product=product,
        kind="adjustment",
        delta=counted - before,
        stock_before=before,
        stock_after=counted,
        reason=reason[:500],
        user_id=actor.id if actor else None,
    )
    db.session.add(movement)
    audit.record(
        "stock.adjusted",
        actor=actor,
        target=product,
        summary=f"Stock of {product.sku}: {before} → {counted} ({reason[:80]})",
        before={"stock": before},
        after={"stock": counted},
    )
    events.record(db.session, "stock_changed", product.id)
    webhooks.emit_stock(product.id, before, counted, product=product)
    return movement


# --- goods in: back-orders first ---------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """What a receipt gave one back-ordered order line."""

    order: Order
    line: OrderLine
    quantity: int


@dataclass(frozen=True)
class Receipt:
    """One goods receipt: what came in, what it gave each back-order, what went to stock."""

    product: Product
    quantity: int
    reference: str
    served: list[Served] = field(default_factory=list)

    @property
    def to_backorders(self) -> int:
        return sum(s.quantity for s in self.served)

    @property
    def to_stock(self) -> int:
        return self.quantity - self.to_backorders


def _waiting(product_id: int):
    """Lines of this product still waiting for stock, on orders not cancelled."""
    live_orders = select(Order.id).where(Order.status != "cancelled")
    return select(OrderLine).where(
        OrderLine.product_id == product_id,
        OrderLine.backordered > 0,
        OrderLine.order_id.in_(live_orders),
    )


def backordered(product_id: int) -> tuple[int, int]:
    """(units, orders) of this product waiting for stock."""
    waiting = _waiting(product_id).subquery()
    units, count = db.session.execute(
        select(func.coalesce(func.sum(waiting.c.backordered), 0), func.count(waiting.c.order_id))
    ).one()
    return int(units or 0), int(count or 0)


def receive(product_id: int, quantity: int, *, reference: str, actor) -> Receipt:
    """Goods in: serve the open back-orders of the product first, oldest order first, and
    put the rest on the shelf.

    Each line served loses that much of its `backordered` (so what may ship of it grows:
    ordered less shipped less back-ordered); the movements say so: the receipt itself (in),
    then one per order served (out, with the order), so before and after always add up.
    The product's row is locked first, then the waiting lines: the order every placement
    and cancellation takes its locks in. Call through transaction.replaying.
    """
    reference = " ".join((reference or "").split())
    if not reference:
        raise Refused(_("Give the supplier's delivery note (or another reference) of the goods."))
    if len(reference) > REFERENCE_LENGTH:
        raise Refused(_("A reference has at most %(count)s characters.", count=REFERENCE_LENGTH))
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise Refused(_("Enter how many came in: a whole number from 1."))
    product = db.session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if product is None:
        raise Refused(_("There is no such product."))
    if product.stock + quantity > MAX_STOCK:
        raise Refused(
            _(
                "Stock above %(maximum)s is not plausible; check the number.",
                maximum=i18n.number(MAX_STOCK),
            )
        )
    # Oldest order first: order ids follow placement. No join, so only the lines are
    # locked (a cancellation holds its order's row, then waits for the product's).
    waiting = db.session.scalars(
        _waiting(product.id)
        .order_by(OrderLine.order_id, OrderLine.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    receipt = Receipt(product=product, quantity=quantity, reference=reference)
    level = product.stock
    actor_id = actor.id if actor else None
    db.session.add(
        StockMovement(
            product=product,
            kind="receipt",
            delta=quantity,
            stock_before=level,
            stock_after=level + quantity,
            reason=f"Goods received: {reference}"[:500],
            user_id=actor_id,
        )
    )
    level += quantity
    left = quantity
    for line in waiting:
        if left == 0:
            break
        given = min(left, line.backordered)
        line.backordered -= given
        left -= given
        receipt.served.append(Served(line.order, line, given))
        db.session.add(
            StockMovement(
                product=product,
                kind="receipt",
                delta=-given,
                stock_before=level,
                stock_after=level - given,
                reason=f"Back-order of order {line.order.number} served ({reference})"[:500],
                user_id=actor_id,
                order_id=line.order_id,
            )
        )
        level -= given
    product.stock = level
    audit.record(
        "stock.received",
        actor=actor,
        target=product,
        summary=(
            f"Goods received: {quantity} × {product.sku} ({reference[:60]}); "
            f"{receipt.to_backorders} to back-orders, {receipt.to_stock} to stock"
        ),
        before={"stock": level - receipt.to_stock},
        after={
            "stock": level,
            "reference": reference,
            "back-orders served": [[s.order.number, s.quantity] for s in receipt.served],
        },
    )
    events.record(db.session, "stock_changed", product.id)
    webhooks.emit_stock(product.id, level - receipt.to_stock, level, product=product)
    for order in {s.order.id: s.order for s in receipt.served}.values():
        events.record(db.session, "order_changed", order.id, company=order.company_id)
        _tell_buyer(order, product)
    return receipt


def _tell_buyer(order: Order, product: Product) -> None:
    """The person who placed the order hears that its back-order of a product was served
    (how many only if their group sees counts: see orders.backorders_seen)."""
    buyer = order.placed_by
    if buyer is None:
        return
    line = next(ln for ln in order.lines if ln.product_id == product.id)
    done = line.backordered == 0
    # The note (what is still back-ordered, "" when nothing is) starts on a paragraph of
    # its own: a value of the message, so the mail stays one lazy message to translate.
    values = {
        "sku": product.sku,
        "name": product.name,
        "number": order.number,
        "note": orders.backorder_note(order, buyer),
    }
    if done:
        body = _(
            "Goods of %(sku)s %(name)s came in for your order %(number)s: its back-order "
            "is complete and ships with the next delivery.%(note)s",
            **values,
        )
    else:
        body = _(
            "Goods of %(sku)s %(name)s came in for your order %(number)s: part of its "
            "back-order is served; the rest follows with the next goods in.%(note)s",
            **values,
        )
    notify.people(
        [buyer], _("Order %(number)s: back-ordered goods came in", number=order.number), body
    )


KIND_LABELS = {
    "initial": _("Opening stock"),
    "order": _("Order"),
    "cancellation": _("Order cancelled"),
    "adjustment": _("Adjustment"),
    "import": _("Import"),
    "receipt": _("Goods received"),
}
LOW_STOCK_MAX = 1_000_000


@dataclass(frozen=True)
class MovementRow:
    """One movement as a viewer may see it: order details only for orders in their scope."""

    movement: StockMovement
    order: Order | None  # None when there is none, or the viewer may not see it
    hidden_order: bool  # an order of a customer outside the viewer's scope

    @property
    def kind_label(self):
        return KIND_LABELS.get(self.movement.kind) or self.movement.kind.capitalize()


def history(product_id: int, viewer, page: int, per_page: int = 25) -> Page:
    """A product's movements, newest first, scoped: who ordered is shown only to those
    who may see that customer (the reason of another customer's order is not shown)."""
    listing = paginate(
        select(StockMovement)
        .where(StockMovement.product_id == product_id)
        .options(joinedload(StockMovement.user).joinedload(User.company))
        .order_by(StockMovement.created_at.desc(), StockMovement.id.desc()),
        page,
        per_page,
    )
    order_ids = {m.order_id for m in listing.items if m.order_id is not None}
    visible = {}
    if order_ids:
        visible = {
            o.id: o
            for o in db.session.scalars(
                access.company_scope(
                    viewer, select(Order).where(Order.id.in_(order_ids)), Order.company_id
                )
            )
        }
    rows = [
        MovementRow(
            movement=m,
            order=visible.get(m.order_id),
            hidden_order=m.order_id is not None and m.order_id not in visible,
        )
        for m in listing.items
    ]
    return Page(rows, listing.total, listing.page, listing.per_page)


def parse_threshold(raw: str | None, default: int) -> int:
    """The low-stock view's "below" value: a whole number from 1; else Refused."""
    if raw is None or raw.strip() == "":
        return default
    message = _(
        "Show products below a whole number of units, from 1 to %(maximum)s.",
        maximum=i18n.number(LOW_STOCK_MAX),
    )
    return numbers.whole(raw, minimum=1, maximum=LOW_STOCK_MAX, message=message)


def low_stock(below: int, *, q: str = "", page: int = 1, per_page: int = 50) -> Page:
    """Products on sale with less than `below` in stock, the emptiest first."""
    stmt = select(Product).where(Product.sold(), Product.stock < below)
    if q:
        stmt = stmt.where(
            or_(Product.sku.contains(q, autoescape=True), Product.name.contains(q, autoescape=True))
        )
    return paginate(stmt.order_by(Product.stock, Product.name, Product.id), page, per_page)
