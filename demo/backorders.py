"""The demo's back-order: the Standard group accepts back-orders, and one of its open
orders has a line partly back-ordered, consistent with the product's stock and history.

Standard may not ask for quotes, so back-orders are its way past "not enough stock";
Partner and Wholesale show the other way (the cart's warning, lowering a line, a quote).
Loaded after the trade history and the shipments, from their records: it draws nothing
from the shared random generator, and leaves alone every product of DESIGN's tables, so
every figure there stays as it was.

The line: on the oldest open Standard order without shipments, the line whose product has
the least stock. The order took what was on the shelf and the rest waits for goods in, so
the product is at 0 now and its history says so. When the product had more than the line
(the demo's stock is drawn without regard to its orders), its opening stock is what the
order then took: the history still adds up, opening stock, the order, 0.
"""

from datetime import timedelta

from sqlalchemy import select

from core.models import (
    Company,
    CustomerGroup,
    Order,
    OrderLine,
    Product,
    Shipment,
    StockMovement,
)
from extensions import db

from .catalogue import EXACT_ROWS

GROUP = "Standard"
PINNED = frozenset(row[0] for row in EXACT_ROWS)  # DESIGN's figures: never touched


def build_backorders() -> OrderLine | None:
    """Allow back-orders for Standard, and back-order part of one of its open lines."""
    group = db.session.scalar(select(CustomerGroup).where(CustomerGroup.name == GROUP))
    if group is None:
        return None
    group.backorders_allowed = True
    shipped = select(Shipment.order_id)
    candidates = db.session.execute(
        select(OrderLine, Order, Product)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Company, Company.id == Order.company_id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(
            Company.group_id == group.id,
            Order.status.in_(("placed", "confirmed")),
            Order.id.not_in(shipped),
            OrderLine.quantity >= 2,
            Product.sku.not_in(PINNED),
        )
        .order_by(Order.id, Product.stock, OrderLine.id)
    ).all()
    if not candidates:
        return None
    line, order, product = candidates[0]
    # What the order took: all there was, less than the line (else nothing would wait).
    taken = product.stock if 0 < product.stock < line.quantity else line.quantity * 2 // 5
    taken = max(taken, 1)
    opening = db.session.scalar(
        select(StockMovement).where(
            StockMovement.product_id == product.id, StockMovement.kind == "initial"
        )
    )
    if opening is not None:
        if product.stock != taken:
            opening.delta = opening.stock_after = taken
        # The catalogue's dates are drawn apart from the orders': the shelf was stocked
        # before the order took from it.
        if opening.created_at >= order.created_at:
            opening.created_at = order.created_at - timedelta(days=1)
    db.session.add(
        StockMovement(
            product_id=product.id,
            kind="order",
            delta=-taken,
            stock_before=taken,
            stock_after=0,
            reason=f"Order {order.number}",
            user_id=order.placed_by_id,
            order_id=order.id,
            created_at=order.created_at,
        )
    )
    product.stock = 0
    line.backordered = line.quantity - taken
    db.session.flush()
    return line
