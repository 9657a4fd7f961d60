"""Webhook payloads: the API's own representations of a record, for the endpoint's owner.

core.webhooks renders each delivery's `data` at its first try through these: the same
loaders the API's routes use (a record the owner may not see is None, and the delivery is
not sent) and the same presenters and schemas, so a payload reads exactly like the API's
answer about the record would for that person: their offer and stock form, their costs
only with `finance.costs`, another company's records never.
"""

from blueprints.fragments.billing import load_invoice
from blueprints.fragments.shipments import may_see_shipments
from core import access, orders, shipments, visibility, webhooks
from core.models import Payment, Product, User, WebhookDelivery
from core.offer import offer_for
from extensions import db

from .present import invoice as invoice_of
from .present import order as order_of
from .present import payment as payment_of
from .present import product_summary, staff_product
from .present import shipment as shipment_of
from .schemas import (
    InvoiceSchema,
    OrderSchema,
    PaymentSchema,
    ProductSchema,
    ShipmentSchema,
    StaffProductSchema,
)


@webhooks.renders("order.placed", "order.status_changed")
def _order(owner: User, delivery: WebhookDelivery) -> dict | None:
    found = orders.load_visible(owner, delivery.subject_id)
    if found is None:
        return None
    data = {"order": OrderSchema().dump(order_of(found, owner))}
    if "previous_status" in delivery.data:
        data["previous_status"] = delivery.data["previous_status"]
    return data


@webhooks.renders("shipment.created")
def _shipment(owner: User, delivery: WebhookDelivery) -> dict | None:
    if not may_see_shipments(owner):
        return None
    found = shipments.load_visible(owner, delivery.subject_id)
    if found is None:
        return None
    return {"shipment": ShipmentSchema().dump(shipment_of(found))}


@webhooks.renders("invoice.issued")
def _invoice(owner: User, delivery: WebhookDelivery) -> dict | None:
    found = load_invoice(owner, delivery.subject_id)
    if found is None:
        return None
    return {"invoice": InvoiceSchema().dump(invoice_of(found))}


@webhooks.renders("payment.received")
def _payment(owner: User, delivery: WebhookDelivery) -> dict | None:
    paid = db.session.get(Payment, delivery.subject_id)
    found = load_invoice(owner, paid.invoice_id) if paid is not None else None
    if found is None:
        return None
    return {
        "payment": PaymentSchema().dump(payment_of(paid)),
        "invoice": InvoiceSchema().dump(invoice_of(found)),
    }


def _product_for(owner: User, product: Product) -> dict | None:
    """The product as the owner's API answers show it: staff the back office's record, a
    customer their group's offer (levels stay levels), hidden products never."""
    if owner.is_staff:
        return StaffProductSchema().dump(staff_product(product, owner))
    group = owner.company.group if owner.company is not None else None
    if group is None or not visibility.available(product, group.id):
        return None
    found = offer_for(group, product)
    return ProductSchema().dump(product_summary(product, found, access.sees_prices(owner)))


@webhooks.renders("stock.changed")
def _stock(owner: User, delivery: WebhookDelivery) -> dict | None:
    product = db.session.get(Product, delivery.subject_id)
    shown = _product_for(owner, product) if product is not None else None
    if shown is None:
        return None
    data = {"product": shown}
    if owner.is_staff:  # the move itself, in counts: only for those who see counts
        data["stock_before"] = delivery.data.get("before")
        data["stock_after"] = delivery.data.get("after")
    return data


@webhooks.renders("price.changed")
def _price(owner: User, delivery: WebhookDelivery) -> dict | None:
    product = db.session.get(Product, delivery.subject_id)
    shown = _product_for(owner, product) if product is not None else None
    return {"product": shown} if shown is not None else None
