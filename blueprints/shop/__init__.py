"""The storefront, for the people of customer companies."""

from flask import Blueprint

from blueprints.common import require_face

bp = Blueprint("shop", __name__)
bp.before_request(require_face("customer"))

from . import (  # noqa: E402,F401
    addresses,
    cart,
    catalog,
    conversations,
    invoices,
    lists,
    orders,
    quick_order,
    quotes,
    shipments,
    users,
)
