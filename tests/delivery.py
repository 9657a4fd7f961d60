"""Checkout's delivery choices for tests: a demo company's default address and a shipping
method its group may use, as the service takes them or as the checkout form sends them.

Call inside an application context (the `ctx` fixture).
"""

from sqlalchemy import select

from core import delivery
from core.models import Company, DeliveryAddress, ShippingMethod
from extensions import db


def address_id(slug: str) -> int:
    """The company's default delivery address."""
    return db.session.scalar(
        select(DeliveryAddress.id)
        .join(Company, Company.id == DeliveryAddress.company_id)
        .where(Company.slug == slug, DeliveryAddress.is_default)
    )


def method_id(name: str = "Parcel") -> int:
    return db.session.scalar(select(ShippingMethod.id).where(ShippingMethod.name == name))


def choices(slug: str, method: str = "Parcel", **extra) -> delivery.Choices:
    """Choices for the service: the default address and `method`, as soon as possible."""
    return delivery.Choices(address_id=address_id(slug), method_id=method_id(method), **extra)


def form(slug: str, method: str = "Parcel", **extra) -> dict:
    """The checkout form's delivery fields: the default address and `method`."""
    return {
        "delivery_address": address_id(slug),
        "shipping_method": method_id(method),
        "customer_reference": "",
        "requested_date": "",
        **extra,
    }
