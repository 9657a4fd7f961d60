"""Back-office orders: the scoped list, one order with its history, and moving it on."""

from decimal import Decimal

from flask import abort, current_app, flash, make_response, redirect, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.common import choice_arg, is_htmx, page_arg, permission_required, render, search_arg
from core import access, orders
from core.errors import NotFound, Refused
from core.models import CENT, Invoice, Order
from core.pagination import paginate
from extensions import db

from . import bp
from .orders_forms import MoveForm

PER_PAGE = 25


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg("status", orders.STATUS_LABELS, "There is no order status “{value}”.")


def order_or_404(order_id: int) -> Order:
    """An order of one of this person's customers; any other is a 404."""
    order = orders.load_visible(current_user, order_id)
    if order is None:
        abort(404, description="There is no order with this number among your customers'.")
    return order


def status_context(order: Order, **extra) -> dict:
    """What the order's status component (`order-<id>`, also pushed live) needs."""
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    invoice_url = None
    if (
        invoice is not None
        and access.can(current_user, "invoices.view")
        and "office.invoice" in current_app.view_functions
    ):
        invoice_url = url_for("office.invoice", invoice_id=invoice.id)
    return {
        "order": order,
        "labels": orders.STATUS_LABELS,
        "moves": orders.MOVE_LABELS,
        "next_states": orders.next_states(order),
        "may_move": access.can(current_user, "orders.edit"),
        "invoice": invoice,
        "invoice_url": invoice_url,
        **extra,
    }


def margins(order: Order) -> dict:
    """Cost and margin of the order, only for those who may see costs."""
    if not access.can(current_user, "finance.costs"):
        return {}
    cost = sum((line.unit_cost * line.quantity for line in order.lines), Decimal(0))
    cost = cost.quantize(CENT)
    margin = order.total - cost
    percent = (margin / order.total * 100).quantize(Decimal("0.1")) if order.total else None
    return {"cost": cost, "margin": margin, "margin_percent": percent}


@bp.route("/orders", endpoint="orders")
@permission_required("orders.view")
def orders_list():
    """Orders of this person's customers, newest first, by status, by number or company."""
    status, q, page = status_arg(), search_arg(), page_arg()
    stmt = orders.visible_orders(current_user).options(
        joinedload(Order.company), joinedload(Order.placed_by)
    )
    if status:
        stmt = stmt.where(Order.status == status)
    if q:
        stmt = orders.search(stmt, q)
    listing = paginate(stmt.order_by(Order.created_at.desc(), Order.id.desc()), page, PER_PAGE)
    return render(
        "office/orders/index.html",
        "office/orders/_table.html",
        listing=listing,
        status=status,
        statuses=orders.STATUS_LABELS,
        q=q,
    )


@bp.route("/orders/<int:order_id>")
@permission_required("orders.view")
def order(order_id: int):
    """One order: lines at the prices of the moment, its invoice, history and next steps."""
    found = order_or_404(order_id)
    return render("office/orders/show.html", **status_context(found), **margins(found))


@bp.route("/orders/<int:order_id>/move", methods=["POST"])
@permission_required("orders.edit")
def order_move(order_id: int):
    """Move an order on (confirm, ship, deliver) or cancel it, which returns its stock."""
    order_or_404(order_id)
    form = MoveForm()
    error = notice = ""
    if form.validate_on_submit():
        to, note = form.to.data, form.note.data

        def work():
            # Locked and re-read: a second person moving it meanwhile is refused clearly.
            locked = orders.load_visible(current_user, order_id, lock=True)
            if locked is None:
                raise NotFound("There is no such order.")
            orders.move(locked, to, actor=current_user, note=note)
            return locked

        try:
            moved = orders.retrying(work)
        except NotFound as exc:
            abort(404, description=str(exc))
        except Refused as exc:
            error = str(exc)
        else:
            notice = f"Order {moved.number} is {orders.STATUS_LABELS[moved.status].lower()}."
            if moved.status == "cancelled":
                notice += " Its stock is back on the shelf."
    else:
        error = next(iter(form.errors.values()))[0]
    if is_htmx():
        found = order_or_404(order_id)
        response = make_response(
            render(
                "office/orders/_status.html",
                "office/orders/_status.html",
                **status_context(found, notice=notice, error=error),
            )
        )
        response.status_code = 422 if error else 200
        return response
    flash(error or notice, "error" if error else "info")
    return redirect(url_for("office.order", order_id=order_id))
