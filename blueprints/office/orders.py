"""Back-office orders: the scoped list, one order with its history, and moving it on; and
the carts of one's customers waiting for a second approval, which staff who may move
orders give in the company's stead."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.boundary import attempt
from blueprints.common import (
    choice_arg,
    company_arg,
    is_htmx,
    or_404,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from blueprints.documents import order_document, pdf_answer
from blueprints.fragments.conversations import panel_context
from blueprints.fragments.orders import (
    SECOND_APPROVALS,
    STATUS,
    list_context,
    order_context,
    second_approvals_context,
)
from blueprints.fragments.shipments import order_page_shipments
from core import attachments, carts, custom_parts, orders
from core.models import Order

from . import bp
from .approvals_pages import list_answer
from .orders_forms import MoveForm, SecondApprovalForm


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg("status", orders.STATUS_LABELS, _("There is no order status “%(value)s”."))


def order_or_404(order_id: int) -> Order:
    """An order of one of this person's customers; any other is a 404."""
    return or_404(orders.load_visible(current_user, order_id))


@bp.route("/orders", endpoint="orders")
@permission_required("orders.view")
def orders_list():
    """Orders of this person's customers, newest first, by status, by number or company."""
    context = list_context(current_user, status=status_arg(), q=search_arg(), page=page_arg())
    if not is_htmx():  # the table re-fetching itself needs only itself
        context |= {"second": second_approvals_context(current_user)}
    return render("office/orders/index.html", "orders/_table.html", **context)


@bp.route("/orders/<int:order_id>")
@permission_required("orders.view")
def order(order_id: int):
    """One order: lines at the prices of the moment, its invoice, history and next steps."""
    found = order_or_404(order_id)
    context = order_context(found, current_user) | order_page_shipments(found, current_user)
    context |= panel_context(found, current_user)
    return render("office/orders/show.html", **context)


@bp.route("/orders/<int:order_id>.pdf")
@permission_required("orders.view")
def order_pdf(order_id: int):
    """The order's confirmation as a PDF: the page's figures, to the page's readers."""
    return pdf_answer(order_document(order_context(order_or_404(order_id), current_user)))


@bp.route("/orders/<int:order_id>/drawings/<int:attachment_id>")
@permission_required("orders.view")
def order_drawing(order_id: int, attachment_id: int):
    """A drawing of a custom part on the order, as a download: those who make and ship it
    read it here without the quote."""
    found = order_or_404(order_id)
    return attachments.download_response(custom_parts.order_drawing_of(found, attachment_id))


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
            locked = or_404(orders.load_visible(current_user, order_id, lock=True))
            orders.move(locked, to, actor=current_user, note=note)
            return locked

        move = attempt(work, replay=True)
        error = move.message
        if not move.refused:
            moved = move.value
            notice = _(
                "Order %(number)s is %(status)s.",
                number=moved.number,
                status=str(orders.STATUS_LABELS[moved.status]).lower(),
            )
            if moved.status == "cancelled":
                notice += " " + _("Its stock is back on the shelf.")
    else:
        error = str(next(iter(form.errors.values()))[0])
    if is_htmx():
        found = order_or_404(order_id)
        return render(
            STATUS,
            code=422 if error else 200,
            **order_context(found, current_user, notice=notice, error=error),
        )
    flash(error or notice, "error" if error else "info")
    return redirect(url_for("office.order", order_id=order_id))


# --- second approvals ------------------------------------------------------------------


@bp.route("/orders/second-approvals")
@permission_required("orders.view")
def second_approvals():
    """Carts and quotes of one's customers (or of one, `company`) waiting for a second
    approval; the list re-fetches itself here."""
    context = second_approvals_context(current_user, company_arg())
    return render("office/orders/second_approvals.html", SECOND_APPROVALS, second=context)


@bp.route("/orders/second-approvals/carts/<int:cart_id>", methods=["POST"])
@permission_required("orders.edit")
def cart_second_approval(cart_id: int):
    """Give a customer's second approval of a cart in its stead: the order is placed in the
    requester's name, as a second decision-maker's approval places it."""
    company = company_arg()
    form = SecondApprovalForm()
    if not form.validate_on_submit():
        return list_answer(company, error=next(iter(form.errors.values()))[0])
    note = form.note.data
    approved = attempt(lambda: carts.approve_for_seller(current_user, cart_id, note), replay=True)
    if approved.refused:
        return list_answer(company, error=approved.message)
    return list_answer(company, placed=approved.value)
