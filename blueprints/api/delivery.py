"""Shipments and delivery addresses through the API.

Shipments are part of the orders their reader may see (customers: their company's
orders; staff: with `shipping.view`, their customers' orders), as on the pages: what went,
with which carrier and tracking, never a stock figure. A company's address book is read by
those who choose an address at checkout and kept by its decision-makers
(`shop.addresses`), through core.addresses.
"""

from flask import url_for
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from blueprints.boundary import attempt
from blueprints.common import client_ip
from core import addresses, shipments
from core.models import Shipment, ShipmentLine

from . import bp
from .guard import customer_route, person, shipment_route
from .paging import PageArgs, after_id, listed, page_schema
from .present import address as address_of
from .present import shipment as shipment_of
from .problems import not_found, refused
from .schemas import AddressNew, AddressSchema, ShipmentSchema

ShipmentPage = page_schema(ShipmentSchema, "ShipmentPage")
AddressList = page_schema(AddressSchema, "AddressList")


@bp.route("/shipments")
@shipment_route
@bp.arguments(PageArgs, location="query")
@bp.response(200, ShipmentPage)
@bp.doc(tags=["Shipments"])
def shipments_list(args):
    """Shipments of the orders you may see, newest first."""
    stmt = shipments.visible_shipments(person()).options(
        contains_eager(Shipment.order),
        joinedload(Shipment.carrier),
        selectinload(Shipment.lines).joinedload(ShipmentLine.order_line),
    )
    found, cursor = after_id(stmt, Shipment.id, args)
    return listed([shipment_of(s) for s in found], cursor)


@bp.route("/shipments/<int:shipment_id>")
@shipment_route
@bp.response(200, ShipmentSchema)
@bp.doc(tags=["Shipments"])
def shipment(shipment_id: int):
    """One shipment: its lines, carrier and tracking."""
    found = shipments.load_visible(person(), shipment_id)
    if found is None:
        raise not_found()
    return shipment_of(found)


@bp.route("/addresses")
@customer_route("shop.addresses", "shop.order", "shop.cart")
@bp.response(200, AddressList)
@bp.doc(tags=["Delivery addresses"])
def addresses_list():
    """Your company's delivery addresses, the default first (all of them: one page)."""
    user = person()
    return {"items": [address_of(a) for a in addresses.book(user.company_id)], "next_cursor": None}


@bp.route("/addresses", methods=["POST"])
@customer_route("shop.addresses")
@bp.arguments(AddressNew)
@bp.response(201, AddressSchema)
@bp.doc(tags=["Delivery addresses"])
def address_create(body):
    """Add a delivery address (the first one, or one marked `is_default`, is the default)."""
    user = person()
    details = addresses.AddressDetails(**body)
    added = attempt(lambda: addresses.add(user.company, details, actor=user, ip=client_ip()))
    if added.refused:
        raise refused(added.refusal)
    found = added.value
    return address_of(found), 201, {"Location": url_for("api.addresses_list") + f"#{found.id}"}


@bp.route("/addresses/<int:address_id>", methods=["DELETE"])
@customer_route("shop.addresses")
@bp.response(204)
@bp.doc(tags=["Delivery addresses"])
def address_delete(address_id: int):
    """Delete a delivery address (the default only when it is the last one)."""
    user = person()
    found = addresses.load(user, user.company_id, address_id)
    if found is None:
        raise not_found()
    deleted = attempt(lambda: addresses.delete(found, actor=user, ip=client_ip()))
    if deleted.refused:
        raise refused(deleted.refusal)
    return "", 204
