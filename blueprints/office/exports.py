"""CSV exports of products, orders and invoices, within the viewer's field and record rights."""

from flask_babel import gettext as _
from flask_login import current_user

from blueprints.common import (
    audited_csv,
    choice_arg,
    company_arg,
    permission_required,
    search_arg,
)
from core import billing, exports, orders

from . import bp


@bp.route("/exports/products")
@permission_required("products.view")
def export_products():
    """The product list as CSV, searched like the list; cost only with finance.costs."""
    status = choice_arg(
        "status", exports.PRODUCT_STATUSES, _("There is no product status “{value}”.")
    )
    q = search_arg()
    header, rows = exports.product_rows(current_user, q=q, status=status)
    return audited_csv("Products", header, rows, {"status": status, "search": q})


@bp.route("/exports/orders")
@permission_required("orders.view")
def export_orders():
    """The orders of one's customers as CSV, filtered like the list; margins for finance."""
    status = choice_arg("status", orders.STATUS_LABELS, _("There is no order status “{value}”."))
    q = search_arg()
    header, rows = exports.order_rows(current_user, status=status, q=q)
    return audited_csv("Orders", header, rows, {"status": status, "search": q})


@bp.route("/exports/invoices")
@permission_required("invoices.view")
def export_invoices():
    """The invoices of one's customers as CSV, filtered like the list, with balances."""
    status = choice_arg(
        "status", billing.STATUS_FILTERS, _("There is no invoice status “{value}”.")
    )
    q, company = search_arg(), company_arg()
    header, rows = exports.invoice_rows(
        current_user,
        status=status,
        q=q,
        company_id=company.id if company is not None else None,
    )
    return audited_csv(
        "Invoices",
        header,
        rows,
        {"status": status, "search": q, "company": company.name if company else ""},
    )
