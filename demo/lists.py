"""A shared list of Acme Robotics: the bill of materials of a drone controller."""

from datetime import datetime, timedelta

from core.models import Company, Product, ShoppingList, ShoppingListLine, User
from extensions import db

BOM = (
    ("MCU-STM32F401", 1, "U1, flight controller"),
    ("CAP-1206-10U", 10, "C1–C10, decoupling"),
    ("CON-USBC-16P", 2, "J1–J2"),
)


def build_lists(
    now: datetime,
    companies: dict[str, Company],
    people: dict[str, User],
    products: dict[str, Product],
) -> ShoppingList:
    """Acme's "Drone controller BOM", kept by its requester (draws nothing)."""
    author = people["request@acme.test"]
    bom = ShoppingList(
        company=companies["acme"],
        name="Drone controller BOM",
        description="Main board of the X4 drone controller, per unit.",
        created_by=author,
        updated_by=author,
        created_at=now - timedelta(days=6),
        updated_at=now - timedelta(days=2),
    )
    for position, (sku, quantity, note) in enumerate(BOM, start=1):
        bom.lines.append(
            ShoppingListLine(product=products[sku], quantity=quantity, note=note, position=position)
        )
    db.session.add(bom)
    return bom
