"""Stock changes: every movement is a row with who, when, why, before and after."""

from sqlalchemy import select

from extensions import db

from . import audit, events
from .errors import Refused
from .models import Product, StockMovement

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
