"""Finding what a request names: a product by id or SKU, as the person's group may see it."""

from flask_babel import gettext as _
from sqlalchemy import select

from core import visibility
from core.models import Product
from extensions import db

from .problems import Problem


def product_id_for(user, body: dict) -> int:
    """The product a body names by `product_id` or by `sku` (exactly one of them). A SKU
    the group may not see is answered as one not sold, like any unknown SKU."""
    has_id, has_sku = body.get("product_id") is not None, bool(body.get("sku"))
    if has_id == has_sku:
        message = _("Name the product by product_id or by sku (one of them).")
        raise Problem(
            422,
            message,
            kind="validation",
            errors=[{"in": "json", "field": "product_id", "messages": [message]}],
        )
    if has_id:
        return body["product_id"]
    found = db.session.scalar(
        select(Product.id).where(
            Product.sku == body["sku"].strip(), *visibility.offered(user.company.group_id)
        )
    )
    if found is None:
        raise Problem(
            422,
            _("There is no product with SKU “%(sku)s” in your catalogue.", sku=body["sku"][:64]),
            kind="refused",
            errors=[{"in": "json", "field": "sku", "messages": [_("Unknown SKU.")]}],
        )
    return found
