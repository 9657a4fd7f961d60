"""Stock changes: every movement is a row with who, when, why, before and after.

Also the two ways of reading stock the back office needs: a product's movement history
(scoped: another customer's order shows as an order, never whose) and the low-stock list.
"""

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from extensions import db

from . import access, audit, events, numbers
from .errors import Refused
from .models import Order, Product, StockMovement, User
from .pagination import Page, paginate

MAX_STOCK = 10_000_000


def set_level(product_id: int, counted: int, *, reason: str, actor) -> StockMovement | None:
    """Set a product's stock to a counted level (an adjustment), under a row lock."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise Refused("Say why the stock changes (for example: stocktake, damaged, found).")
    if counted < 0:
        raise Refused("Stock cannot be negative.")
    if counted > MAX_STOCK:
        raise Refused(f"Stock above {MAX_STOCK:,} is not plausible; check the number.")
    product = db.session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if product is None:
        raise Refused("There is no such product.")
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
    return movement


KIND_LABELS = {
    "initial": "Opening stock",
    "order": "Order",
    "cancellation": "Order cancelled",
    "adjustment": "Adjustment",
    "import": "Import",
}
LOW_STOCK_MAX = 1_000_000


@dataclass(frozen=True)
class MovementRow:
    """One movement as a viewer may see it: order details only for orders in their scope."""

    movement: StockMovement
    order: Order | None  # None when there is none, or the viewer may not see it
    hidden_order: bool  # an order of a customer outside the viewer's scope

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.movement.kind, self.movement.kind.capitalize())


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
    message = f"Show products below a whole number of units, from 1 to {LOW_STOCK_MAX:,}."
    return numbers.whole(raw, minimum=1, maximum=LOW_STOCK_MAX, message=message)


def low_stock(below: int, *, q: str = "", page: int = 1, per_page: int = 50) -> Page:
    """Products on sale with less than `below` in stock, the emptiest first."""
    stmt = select(Product).where(Product.sold(), Product.stock < below)
    if q:
        stmt = stmt.where(
            or_(Product.sku.contains(q, autoescape=True), Product.name.contains(q, autoescape=True))
        )
    return paginate(stmt.order_by(Product.stock, Product.name, Product.id), page, per_page)
