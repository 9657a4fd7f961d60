"""The back office, for the seller's staff."""

from flask import Blueprint

from blueprints.common import require_face

bp = Blueprint("office", __name__)
bp.before_request(require_face("staff"))

from . import (  # noqa: E402,F401  (routes register on import)
    acting,
    addresses,
    audit,
    carriers,
    contact_history,
    conversations,
    customers,
    dashboard,
    explain,
    exports,
    groups,
    imports,
    invoices,
    jobs,
    materials,
    orders,
    products,
    promotions,
    quotes,
    reports,
    roles,
    search,
    settings,
    shipments,
    shipping_methods,
    stock,
    tasks,
    users,
)
