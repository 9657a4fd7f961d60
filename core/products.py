"""Products and their prices: created, repriced, archived and restored, each change live.

The back-office product screens (the products issue) call these; every change records
the event that makes open catalogues show it.
"""

from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from extensions import db

from . import audit, events
from .errors import Refused
from .models import UNIT, Category, CustomerGroup, GroupPrice, Product, StockMovement, User

MAX_PRICE = Decimal("1000000")


def clean_price(raw, label: str = "Price") -> Decimal:
    """A price as Decimal: not negative, at most 4 decimals, plausible."""
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError) as exc:
        raise Refused(f"{label} must be a number, such as 12.50.") from exc
    if not value.is_finite() or value < 0:
        raise Refused(f"{label} cannot be negative.")
    if value != value.quantize(UNIT):
        raise Refused(f"{label} has at most 4 decimals.")
    if value >= MAX_PRICE:
        raise Refused(f"{label} must be below {MAX_PRICE:,}.")
    return value.quantize(UNIT)


def create(
    *,
    sku: str,
    name: str,
    base_price,
    cost,
    stock: int = 0,
    category: Category | None = None,
    description: str = "",
    specs: dict | None = None,
    actor: User | None,
) -> Product:
    """A new product, with its opening stock as the first movement."""
    sku = (sku or "").strip().upper()
    name = " ".join((name or "").split())
    if not sku or len(sku) > 64:
        raise Refused("Give the product a SKU of at most 64 characters.")
    if not name or len(name) > 200:
        raise Refused("Give the product a name of at most 200 characters.")
    if db.session.scalar(select(Product.id).where(func.upper(Product.sku) == sku)):
        raise Refused(f"There is already a product with SKU {sku}.")
    if stock < 0:
        raise Refused("Stock cannot be negative.")
    product = Product(
        sku=sku,
        name=name,
        base_price=clean_price(base_price, "Base price"),
        cost=clean_price(cost, "Cost"),
        stock=stock,
        category=category,
        description=description or "",
        specs=specs or {},
    )
    db.session.add(product)
    db.session.flush()
    db.session.add(
        StockMovement(
            product_id=product.id,
            kind="initial",
            delta=stock,
            stock_before=0,
            stock_after=stock,
            reason="Opening stock",
            user_id=actor.id if actor else None,
        )
    )
    audit.record(
        "product.created",
        actor=actor,
        target=product,
        summary=f"{sku} created",
        after={"sku": sku, "name": name, "base_price": str(product.base_price)},
    )
    events.record(db.session, "product_created", product.id)
    return product


def set_prices(
    product: Product,
    *,
    actor: User | None,
    base_price=None,
    group_prices: dict[int, object] | None = None,
) -> bool:
    """Change the base price and/or group prices (None removes a group price)."""
    before = {"base_price": str(product.base_price)}
    after = dict(before)
    if base_price is not None:
        product.base_price = clean_price(base_price, "Base price")
        after["base_price"] = str(product.base_price)
    existing = {
        gp.group_id: gp
        for gp in db.session.scalars(select(GroupPrice).where(GroupPrice.product_id == product.id))
    }
    for group_id, raw in (group_prices or {}).items():
        if db.session.get(CustomerGroup, group_id) is None:
            raise Refused("There is no such customer group.")
        current = existing.get(group_id)
        before[f"group {group_id}"] = str(current.price) if current else None
        if raw is None or raw == "":
            if current is not None:
                db.session.delete(current)
            after[f"group {group_id}"] = None
            continue
        price = clean_price(raw, "Group price")
        if current is None:
            db.session.add(GroupPrice(group_id=group_id, product_id=product.id, price=price))
        else:
            current.price = price
        after[f"group {group_id}"] = str(price)
    if before == after:
        return False
    audit.record(
        "price.changed",
        actor=actor,
        target=product,
        summary=f"Prices of {product.sku} changed",
        before=before,
        after=after,
    )
    events.record(db.session, "price_changed", product.id)
    return True


def archive(product: Product, *, actor: User | None) -> None:
    """Stop selling a product: it leaves every catalogue at once (orders keep it)."""
    if product.is_archived:
        return
    product.is_archived = True
    audit.record("product.archived", actor=actor, target=product, summary=f"{product.sku} archived")
    events.record(db.session, "product_removed", product.id)


def restore(product: Product, *, actor: User | None) -> None:
    """Sell an archived product again."""
    if not product.is_archived:
        return
    product.is_archived = False
    audit.record("product.restored", actor=actor, target=product, summary=f"{product.sku} restored")
    events.record(db.session, "product_created", product.id)
