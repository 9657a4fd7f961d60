"""Storefront orders: the company's own orders, each with its lines and history."""

from functools import wraps

from flask import abort, current_app, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.common import choice_arg, page_arg, render, search_arg
from core import access, orders
from core.models import Invoice, Order
from core.pagination import paginate
from extensions import db

from . import bp

PER_PAGE = 25
# Whoever builds carts or orders follows their company's orders.
READERS = ("shop.order", "shop.cart")


def reader_required(view):
    """Route guard: people who neither order nor build carts get a 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not access.can_any(current_user, READERS):
            abort(403, description="Your role does not include your company's orders.")
        return view(*args, **kwargs)

    return wrapped


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg("status", orders.STATUS_LABELS, "There is no order status “{value}”.")


def order_or_404(order_id: int) -> Order:
    """One of the company's own orders; another company's is simply not found."""
    order = orders.load_visible(current_user, order_id)
    if order is None:
        abort(404, description="Your company has no order with this number.")
    return order


def status_context(order: Order, **extra) -> dict:
    """What the order's status component (`order-<id>`, also pushed live) needs."""
    invoice = None
    if access.can(current_user, "shop.invoices"):
        invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    invoice_url = None
    if invoice is not None and "shop.invoice" in current_app.view_functions:
        invoice_url = url_for("shop.invoice", invoice_id=invoice.id)
    return {
        "order": order,
        "labels": orders.STATUS_LABELS,
        "invoice": invoice,
        "invoice_url": invoice_url,
        **extra,
    }


@bp.route("/orders", endpoint="orders")
@reader_required
def orders_list():
    """The company's orders, newest first, by status and searchable by number."""
    status, q, page = status_arg(), search_arg(), page_arg()
    stmt = orders.visible_orders(current_user).options(joinedload(Order.placed_by))
    if status:
        stmt = stmt.where(Order.status == status)
    if q:
        stmt = orders.search(stmt, q)
    listing = paginate(stmt.order_by(Order.created_at.desc(), Order.id.desc()), page, PER_PAGE)
    return render(
        "shop/orders/index.html",
        "shop/orders/_table.html",
        listing=listing,
        status=status,
        statuses=orders.STATUS_LABELS,
        q=q,
    )


@bp.route("/orders/<int:order_id>")
@reader_required
def order(order_id: int):
    """One of the company's orders: its lines at the prices of the moment, and history."""
    return render("shop/orders/show.html", **status_context(order_or_404(order_id)))
