"""Shipments: goods of one order sent together, and the order's status that follows them.

Staff create a shipment from the order's open quantities (ordered, less what is already
in its shipments), then mark it shipped (with a tracking number when the carrier has a
tracking link) and delivered. The order follows (`follow`): something shipped makes it
"partly_shipped", everything shipped "shipped", everything shipped and every shipment
delivered "delivered". The invoice is issued when the order is first shipped, if its
confirmation did not issue it already.

Every change locks the order's row first (`_lock`), so two people shipping the same
order at once are served one after the other and the second sees what the first took:
an order never ships more than was ordered.

Open and shippable quantities are computed by one function, `open_lines`: whatever else
holds goods back (a back-ordered quantity waiting for stock) narrows `shippable` there.
"""

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import case, func, select

from extensions import db

from . import access, audit, events, i18n, notify, numbers, orders, webhooks
from .carriers import tracking_link
from .errors import FieldRefused, Refused
from .i18n import _
from .models import (
    Carrier,
    Order,
    OrderLine,
    Shipment,
    ShipmentLine,
    User,
    utcnow,
)

STATUS_LABELS = {
    "prepared": _("Being prepared"),
    "shipped": _("Shipped"),
    "delivered": _("Delivered"),
}
LEFT = ("shipped", "delivered")  # shipments whose goods have left
SHIPPABLE_ORDERS = ("placed", "confirmed", "partly_shipped")
TRACKING_LENGTH = 80
_TRACKING = re.compile(r"[!-~]+(?: [!-~]+)*")  # printable ASCII, single spaces inside


class ShipmentRefused(FieldRefused):
    """A shipment the rules do not allow; `field` names the form field it is about."""


@dataclass(frozen=True)
class OpenLine:
    """One order line's quantities: ordered, already in shipments, and what may ship now."""

    line: OrderLine
    in_shipments: int  # in any shipment, being prepared or gone
    shipped: int  # in shipments that have left
    shippable: int  # what a new shipment may take now

    @property
    def open(self) -> int:
        """Ordered and in no shipment yet."""
        return self.line.quantity - self.in_shipments


def _counts(order_id: int) -> dict[int, tuple[int, int]]:
    """Per order line: (quantity in any shipment, quantity in shipments that left)."""
    rows = db.session.execute(
        select(
            ShipmentLine.order_line_id,
            func.sum(ShipmentLine.quantity),
            func.sum(case((Shipment.status.in_(LEFT), ShipmentLine.quantity), else_=0)),
        )
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id == order_id)
        .group_by(ShipmentLine.order_line_id)
    )
    return {line_id: (int(total or 0), int(gone or 0)) for line_id, total, gone in rows}


def open_lines(order: Order) -> list[OpenLine]:
    """THE open and shippable quantities of each line of an order, read from the database.

    Open: ordered, less what is in its shipments. Shippable: what a new shipment may take,
    while the order may ship at all (not cancelled, not all shipped): the open quantity
    less what is still back-ordered, which waits until its stock is received.
    """
    counts = _counts(order.id)
    may_ship = order.status in SHIPPABLE_ORDERS
    found = []
    for line in order.lines:
        in_shipments, shipped = counts.get(line.id, (0, 0))
        # What waits for stock (core.stock's goods receipt serves it) cannot ship yet.
        ready = max(line.quantity - in_shipments - line.backordered, 0)
        found.append(OpenLine(line, in_shipments, shipped, ready if may_ship else 0))
    return found


def open_quantity(order: Order) -> int:
    """How much of the order may go in a new shipment now (0: nothing to ship)."""
    return sum(item.shippable for item in open_lines(order))


# --- reading shipments as a person may see them -------------------------------------------


def visible_shipments(user: User | None):
    """Shipments of orders of the companies this person may see, as a query to refine."""
    return access.company_scope(
        user, select(Shipment).join(Order, Order.id == Shipment.order_id), Order.company_id
    )


def load_visible(user: User | None, shipment_id: int) -> Shipment | None:
    """One shipment if this person may see its order, else None (the caller answers 404)."""
    return db.session.scalar(visible_shipments(user).where(Shipment.id == shipment_id))


def link_of(shipment: Shipment) -> str:
    """The shipment's tracking link, from its carrier's template ("" without one)."""
    if shipment.carrier is None:
        return ""
    return tracking_link(shipment.carrier.tracking_url, shipment.tracking_number)


# --- changing shipments -------------------------------------------------------------------


def _lock(order: Order) -> Order:
    """The order's row, locked to the end of the transaction and read afresh."""
    return db.session.scalar(
        select(Order)
        .where(Order.id == order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def clean_tracking(raw: str | None) -> str:
    """A tracking number: printable characters, at most TRACKING_LENGTH; may be empty."""
    text = " ".join((raw or "").split())
    if not text:
        return ""
    if len(text) > TRACKING_LENGTH:
        raise ShipmentRefused(
            _("A tracking number has at most %(count)s characters.", count=TRACKING_LENGTH),
            "tracking_number",
        )
    if not _TRACKING.fullmatch(text):
        raise ShipmentRefused(
            _("A tracking number is written in letters, digits and signs such as - or /."),
            "tracking_number",
        )
    return text


def clean_carrier(carrier_id: int | None, *, current: Carrier | None = None) -> Carrier | None:
    """The chosen carrier: an active one, or the one the shipment already has."""
    if carrier_id is None:
        return None
    if current is not None and carrier_id == current.id:
        return current
    carrier = db.session.get(Carrier, carrier_id)
    if carrier is None or not carrier.is_active:
        raise ShipmentRefused(_("Choose one of the active carriers."), "carrier")
    return carrier


def _needs_tracking(carrier: Carrier | None) -> bool:
    return carrier is not None and bool(carrier.tracking_url)


def _changed(shipment: Shipment, order: Order) -> None:
    events.record(
        db.session, "shipment_changed", shipment.id, order=order.id, company=order.company_id
    )


def create(
    order: Order,
    quantities: dict[int, object],
    *,
    carrier_id: int | None,
    tracking_number: str = "",
    actor: User,
    ip: str = "",
) -> Shipment:
    """A shipment, being prepared, of some of the order's open quantities.

    `quantities`: order line id -> quantity as typed (a line left out ships nothing).
    Every quantity is a whole number from 0 to what is still open; at least one is above 0.
    """
    order = _lock(order)
    if order.status == "cancelled":
        raise Refused(_("Order %(number)s is cancelled: nothing of it ships.", number=order.number))
    if order.status not in SHIPPABLE_ORDERS:
        raise Refused(_("Everything of order %(number)s has shipped already.", number=order.number))
    lines = {item.line.id: item for item in open_lines(order)}
    unknown = set(quantities) - set(lines)
    if unknown:
        raise Refused(_("A shipment takes lines of its own order only."))
    chosen: list[tuple[OrderLine, int]] = []
    for line_id, item in lines.items():
        raw = quantities.get(line_id, 0)
        sku = item.line.sku
        quantity = numbers.whole(
            raw if raw is not None and str(raw).strip() != "" else 0,
            minimum=0,
            maximum=orders.MAX_QUANTITY,
            message=_(
                "The quantity of %(sku)s is a whole number from 0 to %(most)s.",
                sku=sku,
                most=i18n.number(item.shippable),
            ),
            field=f"quantity-{line_id}",
        )
        if quantity > item.shippable:
            raise ShipmentRefused(
                _(
                    "%(quantity)s of %(sku)s is more than is open to ship: at most %(most)s "
                    "(ordered %(ordered)s, %(in_shipments)s already in shipments).",
                    quantity=i18n.number(quantity),
                    sku=sku,
                    most=i18n.number(item.shippable),
                    ordered=i18n.number(item.line.quantity),
                    in_shipments=i18n.number(item.in_shipments),
                ),
                f"quantity-{line_id}",
            )
        if quantity:
            chosen.append((item.line, quantity))
    if not chosen:
        raise Refused(_("A shipment needs at least one line: enter a quantity above 0."))
    carrier = clean_carrier(carrier_id)
    shipment = Shipment(
        number=f"TMP-{secrets.token_hex(8)}",  # numbered from its id once flushed
        order=order,
        carrier=carrier,
        tracking_number=clean_tracking(tracking_number),
        status="prepared",
        created_by=actor,
    )
    shipment.lines = [ShipmentLine(order_line_id=line.id, quantity=q) for line, q in chosen]
    db.session.add(shipment)
    db.session.flush()
    shipment.number = f"SH-{shipment.id:05d}"
    audit.record(
        "shipment.created",
        actor=actor,
        target=shipment,
        summary=f"Shipment {shipment.number} of order {order.number} created",
        after={
            "lines": [[line.sku, q] for line, q in chosen],
            "carrier": carrier.name if carrier else "",
            "tracking": shipment.tracking_number,
        },
        ip=ip,
    )
    _changed(shipment, order)
    webhooks.emit("shipment.created", shipment.id, company_id=order.company_id, order_id=order.id)
    return shipment


def update(
    shipment: Shipment,
    *,
    carrier_id: int | None,
    tracking_number: str,
    actor: User,
    ip: str = "",
) -> bool:
    """Change a shipment's carrier or tracking number (not once it is delivered)."""
    order = _lock(shipment.order)
    if shipment.status == "delivered":
        raise Refused(
            _(
                "Shipment %(number)s is delivered: its tracking stays as it was.",
                number=shipment.number,
            )
        )
    carrier = clean_carrier(carrier_id, current=shipment.carrier)
    tracking = clean_tracking(tracking_number)
    if shipment.status == "shipped" and _needs_tracking(carrier) and not tracking:
        raise ShipmentRefused(
            _(
                "Shipment %(number)s has left with %(carrier)s: it keeps a tracking number.",
                number=shipment.number,
                carrier=carrier.name,
            ),
            "tracking_number",
        )
    before = {
        "carrier": shipment.carrier.name if shipment.carrier else "",
        "tracking": shipment.tracking_number,
    }
    shipment.carrier, shipment.tracking_number = carrier, tracking
    after = {"carrier": carrier.name if carrier else "", "tracking": tracking}
    if before == after:
        return False
    audit.record(
        "shipment.changed",
        actor=actor,
        target=shipment,
        summary=f"Shipment {shipment.number} of order {order.number}: carrier or tracking",
        before=before,
        after=after,
        ip=ip,
    )
    _changed(shipment, order)
    return True


def mark_shipped(
    shipment: Shipment, *, actor: User, tracking_number: str | None = None, ip: str = ""
) -> None:
    """The shipment has left: with a tracking number when its carrier has a tracking link."""
    order = _lock(shipment.order)
    if shipment.status != "prepared":
        if shipment.status == "shipped":
            raise Refused(_("Shipment %(number)s is shipped.", number=shipment.number))
        raise Refused(_("Shipment %(number)s is delivered.", number=shipment.number))
    if order.status not in SHIPPABLE_ORDERS:
        raise Refused(
            _(
                "Order %(number)s is %(status)s: shipment %(shipment)s stays.",
                number=order.number,
                status=order.status,
                shipment=shipment.number,
            )
        )
    typed = clean_tracking(tracking_number)
    if typed:
        shipment.tracking_number = typed
    if _needs_tracking(shipment.carrier) and not shipment.tracking_number:
        raise ShipmentRefused(
            _(
                "Enter the tracking number %(carrier)s gave shipment %(number)s "
                "before marking it shipped.",
                carrier=shipment.carrier.name,
                number=shipment.number,
            ),
            "tracking_number",
        )
    shipment.status, shipment.shipped_at = "shipped", utcnow()
    audit.record(
        "shipment.shipped",
        actor=actor,
        target=shipment,
        summary=f"Shipment {shipment.number} of order {order.number} shipped",
        after={
            "carrier": shipment.carrier.name if shipment.carrier else "",
            "tracking": shipment.tracking_number,
        },
        ip=ip,
    )
    _changed(shipment, order)
    follow(order, actor=actor, note=f"Shipment {shipment.number}")
    _tell_the_buyer(shipment, order)


def _tell_the_buyer(shipment: Shipment, order: Order) -> None:
    """Mail the company's decision-makers that a parcel left, with its tracking and its
    delivery note (sent once the change commits, never for one rolled back)."""
    carrier = shipment.carrier.name if shipment.carrier else _("no carrier")
    lines = [
        _(
            "Shipment %(number)s of order %(order)s left on %(day)s with %(carrier)s.",
            number=shipment.number,
            order=order.number,
            day=i18n.day(shipment.shipped_at),
            carrier=carrier,
        )
    ]
    if shipment.tracking_number:
        link = link_of(shipment)
        if link:
            lines.append(
                _(
                    "Tracking number: %(tracking)s (%(link)s)",
                    tracking=shipment.tracking_number,
                    link=link,
                )
            )
        else:
            lines.append(_("Tracking number: %(tracking)s", tracking=shipment.tracking_number))
    lines.append(_("Its delivery note is attached; the order's page shows every shipment."))
    notify.company(
        order.company,
        "shop.order",
        _(
            "Order %(number)s: shipment %(shipment)s is on its way",
            number=order.number,
            shipment=shipment.number,
        ),
        i18n.join(*lines, sep="\n"),
        attach=notify.Attach("delivery_note", shipment),
    )


def mark_delivered(shipment: Shipment, *, actor: User, ip: str = "") -> None:
    """The shipment has arrived."""
    order = _lock(shipment.order)
    if shipment.status != "shipped":
        if shipment.status == "prepared":
            raise Refused(
                _(
                    "Shipment %(number)s is being prepared: only a shipped one is delivered.",
                    number=shipment.number,
                )
            )
        raise Refused(
            _(
                "Shipment %(number)s is delivered: only a shipped one is delivered.",
                number=shipment.number,
            )
        )
    shipment.status, shipment.delivered_at = "delivered", utcnow()
    audit.record(
        "shipment.delivered",
        actor=actor,
        target=shipment,
        summary=f"Shipment {shipment.number} of order {order.number} delivered",
        ip=ip,
    )
    _changed(shipment, order)
    follow(order, actor=actor, note=f"Shipment {shipment.number}")


def remove(shipment: Shipment, *, actor: User, ip: str = "") -> None:
    """Remove a shipment still being prepared: its quantities are open again."""
    order = _lock(shipment.order)
    if shipment.status != "prepared":
        raise Refused(
            _(
                "Shipment %(number)s has left: it stays on the order with its tracking.",
                number=shipment.number,
            )
        )
    audit.record(
        "shipment.removed",
        actor=actor,
        target=shipment,
        summary=f"Shipment {shipment.number} of order {order.number} removed before it left",
        before={"lines": [[sl.order_line.sku, sl.quantity] for sl in shipment.lines]},
        ip=ip,
    )
    _changed(shipment, order)
    db.session.delete(shipment)


def status_from_shipments(order: Order) -> str | None:
    """The status the shipments give the order, or None while nothing has left."""
    db.session.flush()
    items = open_lines(order)
    ordered = sum(item.line.quantity for item in items)
    shipped = sum(item.shipped for item in items)
    if shipped == 0:
        return None
    if shipped < ordered:
        return "partly_shipped"
    on_the_way = db.session.scalar(
        select(func.count(Shipment.id)).where(
            Shipment.order_id == order.id, Shipment.status != "delivered"
        )
    )
    return "delivered" if on_the_way == 0 else "shipped"


def follow(order: Order, *, actor: User | None, note: str = "") -> None:
    """Give the order the status its shipments say, recording the step in its history."""
    wanted = status_from_shipments(order)
    if wanted is not None and wanted != order.status:
        orders.follow(order, wanted, actor=actor, note=note)
