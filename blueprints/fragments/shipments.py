"""Live regions of shipments, with the delivery note's context for both faces.

- `order-shipments-<order id>`: an order's shipments with their carrier, tracking link,
  status and lines, on the order page of both faces (the back office adds what its viewer
  may do). Rendered through the viewer's own scope, so another company's order renders
  as nothing.
- `shipment-<id>`: where one shipment stands (status, carrier, tracking), on its delivery
  note page in both faces.
- `shipments-table` (back office): the list of shipments, told to re-fetch itself.

Quantities shown are what was shipped of an order, never a stock figure.
"""

import re

from flask import render_template, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from blueprints.filters import day
from core import access, billing, countries, shipments
from core.carriers import active_carriers
from core.events import Event
from core.models import Company, Order, Shipment, ShipmentLine
from core.pagination import paginate
from extensions import db

from .orders import face_of
from .registry import RegionKind, affects, register, rendering_as

SHIPMENTS = "shipments/_order_shipments.html"
STANDING = "shipments/_standing.html"
PER_PAGE = 25


def may_see_shipments(user) -> bool:
    """Shipments are part of an order for whoever reads it, and for staff with shipping."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff:
        return access.can(user, "shipping.view")
    return access.may_read(user, "orders")


def may_ship(user) -> bool:
    """Staff who create shipments and mark them shipped and delivered."""
    return bool(user is not None and user.is_staff and access.can(user, "shipping.edit"))


def note_url(face: str, shipment: Shipment, *, pdf: bool = False) -> str:
    """The delivery note of a shipment, in this face."""
    if face == "office":
        endpoint = "office.shipment_pdf" if pdf else "office.shipment"
        return url_for(endpoint, shipment_id=shipment.id)
    endpoint = "shop.shipment_pdf" if pdf else "shop.shipment"
    return url_for(endpoint, order_id=shipment.order_id, shipment_id=shipment.id)


def _loaded(order_id: int) -> list[Shipment]:
    return list(
        db.session.scalars(
            select(Shipment)
            .where(Shipment.order_id == order_id)
            .options(
                joinedload(Shipment.carrier),
                selectinload(Shipment.lines).joinedload(ShipmentLine.order_line),
            )
            .order_by(Shipment.id)
        )
    )


def shipments_context(order: Order, user, **extra) -> dict:
    """What an order's shipments region shows to this person, in either face."""
    face = face_of(user)
    editor = may_ship(user)
    return {
        "face": face,
        "order": order,
        **order_page_shipments(order, user, face=face, editor=editor),
        **extra,
    }


def order_page_shipments(order: Order, user, *, face=None, editor=None) -> dict:
    """The shipments part of an order's page (its other keys are the order's own), or
    nothing for a person who may not see shipments."""
    if not may_see_shipments(user):
        return {"show_shipments": False}
    face = face or face_of(user)
    editor = may_ship(user) if editor is None else editor
    return {
        "show_shipments": True,
        "shipments": _loaded(order.id),
        "shipment_labels": shipments.STATUS_LABELS,
        "link_of": shipments.link_of,
        "note_url": lambda s, pdf=False: note_url(face, s, pdf=pdf),
        "may_ship": editor,
        "open_quantity": shipments.open_quantity(order) if editor else 0,
        "shippable_order": order.status in shipments.SHIPPABLE_ORDERS,
    }


def standing_context(shipment: Shipment, user, **extra) -> dict:
    """What a shipment's live standing (status, carrier, tracking) shows to this person."""
    editor = may_ship(user)
    context = {
        "face": face_of(user),
        "shipment": shipment,
        "labels": shipments.STATUS_LABELS,
        "link": shipments.link_of(shipment),
        "may_ship": editor,
    }
    if editor:
        context["carriers"] = active_carriers()
    return {**context, **extra}


def deliver_to(order: Order) -> dict:
    """Where the goods go: the order's delivery address as copied when it was placed, or
    the company's own address for an order placed before delivery addresses were kept."""
    if order.delivery_name:
        place = " ".join(p for p in (order.delivery_postcode, order.delivery_city) if p)
        lines = (order.delivery_street, place, countries.name(order.delivery_country))
        return {"name": order.delivery_name, "lines": [line for line in lines if line]}
    company = order.company
    address = company.address or ""
    if address.startswith(company.name):  # addresses often start with the name: print it once
        address = address[len(company.name) :].lstrip(" ,\n")
    place = " ".join(p for p in (company.postcode, company.city) if p)
    lines = [*address.splitlines(), place, countries.name(company.country)]
    return {"name": company.name, "lines": [line.strip() for line in lines if line.strip()]}


def note_context(shipment: Shipment, user, **extra) -> dict:
    """The delivery note of a shipment, for its page in either face and for its PDF.

    No prices: what went, where to, for which order, with which carrier.
    """
    face = face_of(user)
    order = shipment.order
    standing = standing_context(shipment, user)
    when = shipment.shipped_at or shipment.created_at
    # Lazy labels: a note may be drawn for a reader other than the request's (a mail's PDF).
    facts = [
        (_l("Date"), day(when)),
        (_l("Order"), order.number),
        (_l("Your reference"), order.customer_reference),
        (_l("Carrier"), shipment.carrier.name if shipment.carrier else ""),
        (_l("Tracking"), shipment.tracking_number),
        (_l("Status"), shipments.STATUS_LABELS[shipment.status]),
    ]
    lines = [(sl.order_line, sl.quantity) for sl in shipment.lines]
    return {
        **standing,
        "order": order,
        "seller": billing.seller_details(),
        "facts": [(label, value) for label, value in facts if value],
        "deliver_to": deliver_to(order),
        "lines": lines,
        "items": sum(quantity for __, quantity in lines),
        "order_url": url_for(f"{face}.order", order_id=order.id),
        "pdf_url": note_url(face, shipment, pdf=True),
        **extra,
    }


def load_shipment(user, shipment_id: int, *, order_id: int | None = None) -> Shipment | None:
    """One shipment this person may see (of this order, if given); else None (a 404)."""
    if not may_see_shipments(user):
        return None
    stmt = (
        shipments.visible_shipments(user)
        .where(Shipment.id == shipment_id)
        .options(
            contains_eager(Shipment.order),
            joinedload(Shipment.carrier),
            selectinload(Shipment.lines).joinedload(ShipmentLine.order_line),
        )
    )
    if order_id is not None:
        stmt = stmt.where(Shipment.order_id == order_id)
    return db.session.scalar(stmt)


STATUS_FILTERS = shipments.STATUS_LABELS


def list_context(user, *, status: str, q: str, page: int) -> dict:
    """One page of the shipments of this person's customers, newest first."""
    stmt = (
        shipments.visible_shipments(user)
        .join(Company, Company.id == Order.company_id)
        .options(
            contains_eager(Shipment.order).contains_eager(Order.company),
            joinedload(Shipment.carrier),
        )
    )
    if status:
        stmt = stmt.where(Shipment.status == status)
    if q:
        text = q.strip()
        stmt = stmt.where(
            or_(
                Shipment.number.icontains(text, autoescape=True),
                Shipment.tracking_number.icontains(text, autoescape=True),
                Order.number.icontains(text, autoescape=True),
                Company.name.icontains(text, autoescape=True),
            )
        )
    listing = paginate(
        stmt.order_by(Shipment.created_at.desc(), Shipment.id.desc()), page, PER_PAGE
    )
    return {
        "listing": listing,
        "status": status,
        "statuses": STATUS_FILTERS,
        "q": q,
        "link_of": shipments.link_of,
    }


# --- live -------------------------------------------------------------------------------


def _render_order_shipments(connection, order_ids: list[int]) -> dict:
    """Each order's shipments, for orders this viewer may see; nothing for others."""
    with rendering_as(connection) as user:
        if user is None or not access.may_read(user, "orders") or not may_see_shipments(user):
            return {}
        found = db.session.scalars(
            access.company_scope(user, select(Order), Order.company_id).where(
                Order.id.in_(order_ids)
            )
        )
        return {
            o.id: render_template(SHIPMENTS, **shipments_context(o, user), pushed=True)
            for o in found
        }


def _render_standing(connection, shipment_ids: list[int]) -> dict:
    """Each shipment's standing, for shipments this viewer may see; nothing for others."""
    with rendering_as(connection) as user:
        if user is None or not may_see_shipments(user):
            return {}
        found = db.session.scalars(
            shipments.visible_shipments(user)
            .where(Shipment.id.in_(shipment_ids))
            .options(joinedload(Shipment.carrier))
        )
        return {
            s.id: render_template(STANDING, **standing_context(s, user), pushed=True) for s in found
        }


register(
    RegionKind("order-shipments", re.compile(r"order-shipments-(\d+)"), _render_order_shipments)
)
register(RegionKind("shipment", re.compile(r"shipment-(\d+)"), _render_standing))
register(RegionKind("shipments-table", re.compile(r"shipments-table"), is_list=True))


def _data(event: Event) -> dict:
    return dict(event.data)


@affects("shipment_changed")
def _shipment_regions(event: Event) -> set[str]:
    found = {f"shipment-{event.id}", "shipments-table"}
    order = _data(event).get("order")
    if order is not None:
        found.add(f"order-shipments-{order}")
    return found


@affects("order_changed")
def _order_shipments(event: Event) -> set[str]:
    # The order's status decides whether it may ship (and "Create shipment" shows).
    return {f"order-shipments-{event.id}"}
