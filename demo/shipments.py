"""The demo's carriers, and shipments with tracking for the orders that left the warehouse.

Loaded after the trade history, from its orders: each shipped or delivered order gets the
shipments its status says (everything in shipments that left, on the days its history
says), a few delivered orders in two parcels, and Carpathia's confirmed order is shipped in
part (one parcel gone, one being prepared). Tracking numbers come from a random generator
of this module's own, so the shared one, and every other demo figure, stays as it was.
"""

import random
from datetime import timedelta

from sqlalchemy import select

from core.models import Carrier, Company, Order, OrderEvent, Shipment, ShipmentLine, User
from extensions import db

CARRIERS = (
    # name, tracking link template ("" for a forwarder without tracking), active
    (
        "DHL Paket",
        "https://www.dhl.de/en/privatkunden/dhl-sendungsverfolgung.html?piececode={tracking}",
        True,
    ),
    ("UPS", "https://www.ups.com/track?tracknum={tracking}", True),
    ("Spedition Kraus (pallet freight)", "", True),
)
PARTLY_SHIPPED = "carpathia"  # whose confirmed order is shipped in part
SEED = 20261204


def _tracking(rng: random.Random, carrier: Carrier) -> str:
    if carrier.name.startswith("DHL"):
        return "00340434" + "".join(rng.choice("0123456789") for _ in range(12))
    if carrier.name == "UPS":
        return "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRTVWXY") for _ in range(16))
    return f"KR-{rng.randrange(10**5, 10**6)}"  # the forwarder's own reference, no link


def _step(order: Order, status: str):
    return next((e.created_at for e in order.events if e.status == status), None)


def _shipment(order, carrier, rng, lines, *, status, created, shipped=None, delivered=None, by):
    shipment = Shipment(
        number=f"TMP-{order.id}-{len(order.shipments)}",
        order=order,
        carrier=carrier,
        tracking_number="" if status == "prepared" else _tracking(rng, carrier),
        status=status,
        created_at=created,
        shipped_at=shipped,
        delivered_at=delivered,
        created_by=by,
    )
    shipment.lines = [ShipmentLine(order_line_id=line.id, quantity=q) for line, q in lines]
    db.session.add(shipment)
    db.session.flush()
    shipment.number = f"SH-{shipment.id:05d}"
    return shipment


def build_shipments(now) -> dict[str, Carrier]:
    """Carriers, and shipments consistent with every order's status."""
    rng = random.Random(SEED)
    carriers = {}
    for name, template, active in CARRIERS:
        carriers[name] = Carrier(name=name, tracking_url=template, is_active=active)
        db.session.add(carriers[name])
    db.session.flush()
    dhl, ups, freight = (carriers[name] for name, _, _ in CARRIERS)
    warehouse = db.session.scalar(select(User).where(User.email == "warehouse@portal.test"))

    gone = db.session.scalars(
        select(Order).where(Order.status.in_(("shipped", "delivered"))).order_by(Order.id)
    ).all()
    for n, order in enumerate(gone):
        shipped_at = _step(order, "shipped") or order.created_at
        delivered_at = _step(order, "delivered") if order.status == "delivered" else None
        status = order.status
        carrier = (dhl, ups, dhl, freight)[n % 4]
        created = shipped_at - timedelta(hours=3)
        lines = [(line, line.quantity) for line in order.lines]
        if status == "delivered" and len(lines) > 1 and n % 3 == 0:
            # Two parcels, a day apart: both delivered.
            first, rest = lines[:1], lines[1:]
            _shipment(
                order,
                carrier,
                rng,
                first,
                status=status,
                created=created,
                shipped=shipped_at,
                delivered=delivered_at,
                by=warehouse,
            )
            later = min(shipped_at + timedelta(days=1), delivered_at)
            _shipment(
                order,
                ups,
                rng,
                rest,
                status=status,
                created=later - timedelta(hours=2),
                shipped=later,
                delivered=delivered_at,
                by=warehouse,
            )
        else:
            _shipment(
                order,
                carrier,
                rng,
                lines,
                status=status,
                created=created,
                shipped=shipped_at,
                delivered=delivered_at,
                by=warehouse,
            )

    _partly_shipped(now, dhl, rng, warehouse)
    db.session.flush()
    return carriers


def _partly_shipped(now, carrier, rng, warehouse) -> None:
    """One order shipped in part: a parcel gone with tracking, another being prepared."""
    order = db.session.scalar(
        select(Order)
        .join(Company, Company.id == Order.company_id)
        .where(Company.slug == PARTLY_SHIPPED, Order.status == "confirmed")
        .order_by(Order.id)
    )
    lines = list(order.lines)
    if len(lines) > 1:
        gone, prepared = [(lines[0], lines[0].quantity)], [(lines[1], lines[1].quantity)]
    else:  # one line: half of it gone, the rest not yet prepared
        gone, prepared = [(lines[0], max(lines[0].quantity // 2, 1))], []
    if gone[0][1] >= lines[0].quantity and len(lines) == 1:
        raise RuntimeError("the demo's partly shipped order has nothing left to ship")
    confirmed = _step(order, "confirmed") or order.created_at
    shipped_at = min(confirmed + timedelta(days=1), now - timedelta(hours=2))
    _shipment(
        order,
        carrier,
        rng,
        gone,
        status="shipped",
        created=shipped_at - timedelta(hours=3),
        shipped=shipped_at,
        by=warehouse,
    )
    if prepared:
        _shipment(
            order,
            carrier,
            rng,
            prepared,
            status="prepared",
            created=now - timedelta(hours=1),
            by=warehouse,
        )
    order.status = "partly_shipped"
    order.events.append(
        OrderEvent(status="partly_shipped", user=warehouse, created_at=shipped_at, note="")
    )
