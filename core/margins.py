"""Cost and margin, computed one way for every page, fragment, export, report and push.

Who may see them is core.access's to say (`finance.costs`); templates only print them.
"""

from dataclasses import dataclass
from decimal import Decimal

from .models import CENT

PERCENT = Decimal("0.1")


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """`part` as a percentage of `whole`, to a tenth; None when the whole is zero."""
    return (part / whole * 100).quantize(PERCENT) if whole else None


def percent(price: Decimal | None, cost: Decimal) -> Decimal | None:
    """The margin of a price over its cost, in percent of the price."""
    if not price:
        return None
    return share(price - cost, price)


@dataclass(frozen=True)
class Margin:
    """What a sale cost, what it left, and that as a percentage of the sale."""

    cost: Decimal
    margin: Decimal
    percent: Decimal | None


def of_unit(price: Decimal, cost: Decimal) -> Margin:
    """The margin of one unit sold at `price` (unit prices keep their sub-cent digits)."""
    return Margin(cost, price - cost, percent(price, cost))


def of_total(total: Decimal, cost) -> Margin:
    """The margin of a sale of `total` whose goods cost `cost` (to the cent)."""
    cost = Decimal(cost or 0).quantize(CENT)
    margin = total - cost
    return Margin(cost, margin, share(margin, total))


def of_order(order) -> Margin:
    """An order's margin, at the unit costs of the moment it was placed."""
    cost = sum((line.unit_cost * line.quantity for line in order.lines), Decimal(0))
    return of_total(order.total, cost)
