"""Matrix rows of shipments, their delivery notes and carriers (merged by
test_authorization_matrix).

Record ids come from the demo: the first shipment of an Acme order (Anna's customer, not
Marco's), an Acme order still placed (to ship from), and the first carrier. Shipping
staff (`shipping.edit`: Admin, Store manager, Warehouse) change things; every preset of
staff sees them (`shipping.view`), sales staff only for their customers; customers see
their own orders' delivery notes as they see the orders.
"""

from sqlalchemy import select

from core.models import Carrier, Company, Order, Shipment
from tests.matrix_base import (
    ADMIN,
    ANNA,
    DECISION_MAKERS,
    FINANCE,
    MANAGER,
    MARCO,
    REQUESTERS,
    VIEWER,
    WAREHOUSE,
    office,
    shop,
)

SHIPPERS = (ADMIN, MANAGER, WAREHOUSE)
ALL_SHIPPING_VIEWERS = (ADMIN, MANAGER, ANNA, MARCO, WAREHOUSE, FINANCE, VIEWER)
ACME_SHIPMENT_VIEWERS = (ADMIN, MANAGER, ANNA, WAREHOUSE, FINANCE, VIEWER)
ACME_READERS = ("orders@acme.test", "request@acme.test")
NOT_ACME = tuple(e for e in DECISION_MAKERS + REQUESTERS if e not in ACME_READERS)


def _acme(session):
    return select(Company.id).where(Company.slug == "acme").scalar_subquery()


def ids(session) -> dict:
    """Demo records the rows' URLs need."""
    shipment = session.execute(
        select(Shipment.id, Shipment.order_id)
        .join(Order, Order.id == Shipment.order_id)
        .where(Order.company_id == _acme(session))
        .order_by(Shipment.id)
    ).first()
    return {
        "acme_shipment": shipment.id,
        "acme_shipped_order": shipment.order_id,
        "acme_open_order": session.scalar(
            select(Order.id)
            .where(Order.company_id == _acme(session), Order.status == "placed")
            .order_by(Order.id)
        ),
        "carrier": session.scalar(select(Carrier.id).order_by(Carrier.id)),
    }


SHIPMENT = "/office/shipments/{acme_shipment}"
NOTE = "/shop/orders/{acme_shipped_order}/shipments/{acme_shipment}"

ROWS = {
    ("office.shipments", "GET"): ("/office/shipments", office(ALL_SHIPPING_VIEWERS, ok=200)),
    ("office.shipment", "GET"): (
        SHIPMENT,
        office(ACME_SHIPMENT_VIEWERS, not_found=(MARCO,), ok=200),
    ),
    ("office.shipment_pdf", "GET"): (
        SHIPMENT + ".pdf",
        office(ACME_SHIPMENT_VIEWERS, not_found=(MARCO,), ok=200),
    ),
    ("office.shipment_save", "POST"): (SHIPMENT, office(SHIPPERS)),
    ("office.shipment_ship", "POST"): (SHIPMENT + "/ship", office(SHIPPERS)),
    ("office.shipment_deliver", "POST"): (SHIPMENT + "/deliver", office(SHIPPERS)),
    ("office.shipment_remove", "POST"): (SHIPMENT + "/remove", office(SHIPPERS)),
    ("office.shipment_new", "GET"): (
        "/office/orders/{acme_open_order}/shipments/new",
        office(SHIPPERS, ok=200),
    ),
    ("office.shipment_new", "POST"): (
        "/office/orders/{acme_open_order}/shipments/new",
        office(SHIPPERS),
    ),
    ("office.carriers", "GET"): ("/office/carriers", office(ALL_SHIPPING_VIEWERS, ok=200)),
    ("office.carrier_create", "POST"): ("/office/carriers", office(SHIPPERS)),
    ("office.carrier", "GET"): (
        "/office/carriers/{carrier}",
        office(ALL_SHIPPING_VIEWERS, ok=200),
    ),
    ("office.carrier_save", "POST"): ("/office/carriers/{carrier}", office(SHIPPERS)),
    ("office.carrier_delete", "POST"): ("/office/carriers/{carrier}/delete", office(SHIPPERS)),
    ("shop.shipment", "GET"): (NOTE, shop(ACME_READERS, not_found=NOT_ACME, ok=200)),
    ("shop.shipment_pdf", "GET"): (
        NOTE + ".pdf",
        shop(ACME_READERS, not_found=NOT_ACME, ok=200),
    ),
}
