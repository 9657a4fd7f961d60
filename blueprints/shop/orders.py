"""Storefront orders: the company's own orders, each with its lines and history."""

from flask_babel import gettext as _
from flask_login import current_user

from blueprints.common import choice_arg, or_404, page_arg, reader_required, render, search_arg
from blueprints.documents import order_document, pdf_answer
from blueprints.fragments.conversations import panel_context
from blueprints.fragments.orders import list_context, order_context
from blueprints.fragments.shipments import order_page_shipments
from core import attachments, custom_parts, orders

from . import bp


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg("status", orders.STATUS_LABELS, _("There is no order status “{value}”."))


@bp.route("/orders", endpoint="orders")
@reader_required("orders")
def orders_list():
    """The company's orders, newest first, by status and searchable by number."""
    context = list_context(current_user, status=status_arg(), q=search_arg(), page=page_arg())
    return render("shop/orders/index.html", "orders/_table.html", **context)


@bp.route("/orders/<int:order_id>")
@reader_required("orders")
def order(order_id: int):
    """One of the company's orders: its lines at the prices of the moment, and history."""
    found = or_404(orders.load_visible(current_user, order_id))
    context = order_context(found, current_user) | order_page_shipments(found, current_user)
    context |= panel_context(found, current_user)
    return render("shop/orders/show.html", **context)


@bp.route("/orders/<int:order_id>/drawings/<int:attachment_id>")
@reader_required("orders")
def order_drawing(order_id: int, attachment_id: int):
    """A drawing of a custom part on one of the company's orders, as a download."""
    found = or_404(orders.load_visible(current_user, order_id))
    return attachments.download_response(custom_parts.order_drawing_of(found, attachment_id))


@bp.route("/orders/<int:order_id>.pdf")
@reader_required("orders")
def order_pdf(order_id: int):
    """The order's confirmation as a PDF: the page's figures, to the page's readers."""
    found = or_404(orders.load_visible(current_user, order_id))
    return pdf_answer(order_document(order_context(found, current_user)))
