"""Quantity breaks, a minimum and a pack size on two of the exact rows.

Loaded after the trade history: the orders of the past were priced before breaks
existed, so their figures stay as they were; the open carts are priced today, with them.
"""

from decimal import Decimal

from sqlalchemy import select

from core.models import CustomerGroup, PriceBreak, Product
from extensions import db

BASE_BREAKS = {"MCU-STM32F401": ((10, "6.10"), (100, "5.80"), (1000, "5.40"))}
GROUP_BREAKS = {("Wholesale", "MCU-STM32F401"): ((10, "5.00"), (100, "4.80"))}
# sku: (minimum, pack size)
ORDER_RULES = {"CAP-1206-10U": (10, 10)}


def build_breaks() -> None:
    """The breaks and order rules above (draws nothing from the demo's generator)."""
    by_sku = {
        p.sku: p
        for p in db.session.scalars(
            select(Product).where(Product.sku.in_([*BASE_BREAKS, *ORDER_RULES]))
        )
    }
    groups = {g.name: g for g in db.session.scalars(select(CustomerGroup))}
    for sku, steps in BASE_BREAKS.items():
        db.session.add_all(
            PriceBreak(product_id=by_sku[sku].id, min_quantity=q, price=Decimal(price))
            for q, price in steps
        )
    for (group, sku), steps in GROUP_BREAKS.items():
        db.session.add_all(
            PriceBreak(
                product_id=by_sku[sku].id,
                group_id=groups[group].id,
                min_quantity=q,
                price=Decimal(price),
            )
            for q, price in steps
        )
    for sku, (minimum, multiple) in ORDER_RULES.items():
        by_sku[sku].min_quantity, by_sku[sku].order_multiple = minimum, multiple
    db.session.flush()
