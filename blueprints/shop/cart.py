"""Storefront cart: building it, checking out, and the approval of colleagues' requests."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.boundary import attempt
from blueprints.common import (
    go,
    is_htmx,
    or_404,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from blueprints.forms import EmptyForm
from core import access, carts
from core.models import Cart, Order, Product
from core.pagination import paginate
from extensions import db

from . import bp
from .orders_forms import AddToCartForm, NoteForm, QuantityForm, RejectForm

PER_PAGE = 25
SHOWS = {"pending": "Waiting for a decision", "decided": "Decided"}


def first_error(form) -> str:
    """The first validation message of a form, for a one-line answer."""
    for errors in form.errors.values():
        if errors:
            return errors[0]
    return "The form was not sent correctly. Reload the page and try again."


def pending_count() -> int:
    """Requests of the person's company waiting for a decision (for decision-makers)."""
    if not access.can(current_user, "shop.approve"):
        return 0
    stmt = carts.visible_requests(current_user).where(Cart.status == carts.PENDING)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def cart_context(**extra) -> dict:
    """What the cart component shows: the open cart priced now, and one's own requests."""
    cart = carts.open_cart(current_user)
    requests = carts.requests_of(current_user)
    return {
        "pricing": carts.priced(cart) if cart and cart.lines else None,
        "requests": requests,
        "request_totals": carts.totals_of(requests),
        "company": current_user.company,
        "may_order": access.can(current_user, "shop.order"),
        "pending": pending_count(),
        "note_form": NoteForm(formdata=None),
        **extra,
    }


def cart_answer(*, notice: str = "", error: str = ""):
    """After a change: htmx gets the cart component back, a plain form a redirect."""
    if is_htmx():
        return render(
            "shop/cart/_cart.html",
            code=422 if error else 200,
            **cart_context(notice=notice, error=error),
        )
    flash(error or notice, "error" if error else "info")
    return redirect(url_for("shop.cart"))


def change_cart(change, notice: str):
    """Run one cart service; a refusal is undone and said."""
    changed = attempt(change)
    if changed.refused:
        return cart_answer(error=changed.message)
    return cart_answer(notice=notice)


def own_line(line_id: int):
    """A line of the person's own open cart; anyone else's (or none) is a 404."""
    return or_404(carts.find_line(current_user, line_id))


@bp.route("/cart")
@permission_required("shop.cart")
def cart():
    """The person's open cart at today's prices, and their requests for approval."""
    return render("shop/cart/index.html", "shop/cart/_cart.html", **cart_context())


@bp.route("/cart/lines", methods=["POST"])
@permission_required("shop.cart")
def cart_add():
    """Add a quantity of a product to the cart (from the catalogue or a product page)."""
    form = AddToCartForm()
    product_id = form.product_id.data if not form.product_id.errors else None
    if not isinstance(product_id, int):
        abort(400, description="Choose a product to add to your cart.")
    product = or_404(
        db.session.scalar(select(Product).where(Product.id == product_id, Product.sold()))
    )
    error = notice = ""
    if form.validate_on_submit():
        quantity = form.quantity.data
        added = attempt(lambda: carts.add(current_user, product.id, quantity))
        error = added.message
        if not added.refused:
            notice = f"{quantity:,} × {product.sku} added to your cart."
    else:
        error = first_error(form)
    if is_htmx():
        return render(
            "shop/cart/_add.html",
            code=422 if error else 200,
            product=product,
            notice=notice,
            error=error,
            in_cart=carts.quantity_in_cart(current_user, product.id),
        )
    flash(error or notice, "error" if error else "info")
    if error:
        return redirect(url_for("shop.product", product_id=product.id))
    return redirect(url_for("shop.cart"))


@bp.route("/cart/lines/<int:line_id>", methods=["POST"])
@permission_required("shop.cart")
def cart_line(line_id: int):
    """Change a line's quantity (0 takes the product out)."""
    line = own_line(line_id)
    sku = line.product.sku
    form = QuantityForm()
    if not form.validate_on_submit():
        return cart_answer(error=first_error(form))
    quantity = form.quantity.data
    return change_cart(
        lambda: carts.set_quantity(current_user, line_id, quantity),
        f"{sku}: quantity {quantity:,}." if quantity else f"{sku} is out of your cart.",
    )


@bp.route("/cart/lines/<int:line_id>/remove", methods=["POST"])
@permission_required("shop.cart")
def cart_remove(line_id: int):
    """Take a product out of the cart."""
    sku = own_line(line_id).product.sku
    if not EmptyForm().validate_on_submit():
        abort(400, description="The form was not sent correctly. Reload the page and try again.")
    return change_cart(lambda: carts.remove(current_user, line_id), f"{sku} is out of your cart.")


@bp.route("/cart/submit", methods=["POST"])
@permission_required("shop.cart")
def cart_submit():
    """Send the cart to the company's decision-makers for approval."""
    form = NoteForm()
    if not form.validate_on_submit():
        return cart_answer(error=first_error(form))
    return change_cart(
        lambda: carts.submit(current_user, form.note.data),
        "Your cart is sent for approval. Your company's decision-makers have been told.",
    )


@bp.route("/cart/checkout", methods=["POST"])
@permission_required("shop.order")
def checkout():
    """Order the cart (above the approval limit it waits for a second decision-maker)."""
    form = NoteForm()
    if not form.validate_on_submit():
        return cart_answer(error=first_error(form))
    checked_out = attempt(lambda: carts.checkout(current_user, form.note.data), replay=True)
    if checked_out.refused:
        return cart_answer(error=checked_out.message)
    result = checked_out.value
    if isinstance(result, Order):
        flash(f"Order {result.number} is placed: {result.total:,} {result.currency}.", "info")
        return go(url_for("shop.order", order_id=result.id))
    return cart_answer(
        notice="Your order is above your company's approval limit: it now waits for a "
        "second decision-maker to approve it."
    )


# --- approvals -------------------------------------------------------------------------


def show_arg() -> str:
    """Which requests the approvals list shows; anything unknown is a clear 400."""
    show = request.args.get("show") or "pending"
    if show not in SHOWS:
        abort(400, description="Show either the requests waiting for a decision, or decided.")
    return show


def request_or_404(cart_id: int) -> Cart:
    """A request of the person's own company; another company's is a 404."""
    return carts.load_request(current_user, cart_id)


def approval_context(cart: Cart, **extra) -> dict:
    """The request page: lines at today's offers, the decision so far, and the forms."""
    return {
        "cart": cart,
        "pricing": carts.priced(cart),
        "company": current_user.company,
        "note_form": NoteForm(formdata=None),
        "reject_form": RejectForm(formdata=None),
        **extra,
    }


def decision_refused(cart: Cart, error: str):
    """A refused decision: the decision component (htmx) or the page again, with why."""
    if is_htmx():
        return render("shop/cart/_decision.html", code=422, **approval_context(cart, error=error))
    flash(error, "error")
    return redirect(url_for("shop.approval", cart_id=cart.id))


@bp.route("/approvals")
@permission_required("shop.approve")
def approvals():
    """Colleagues' requests waiting for a decision (or decided), searchable by requester."""
    show, q, page = show_arg(), search_arg(), page_arg()
    stmt = carts.visible_requests(current_user).options(
        joinedload(Cart.owner), selectinload(Cart.lines), joinedload(Cart.first_approver)
    )
    if show == "pending":
        stmt = stmt.where(Cart.status == carts.PENDING).order_by(
            Cart.submitted_at.desc(), Cart.id.desc()
        )
    else:
        stmt = stmt.where(Cart.status.in_(carts.DECIDED)).order_by(
            Cart.decided_at.desc(), Cart.id.desc()
        )
    if q:
        stmt = carts.search_requests(stmt, q)
    listing = paginate(stmt, page, PER_PAGE)
    return render(
        "shop/cart/approvals.html",
        "shop/cart/_approvals.html",
        listing=listing,
        totals=carts.totals_of(listing.items),
        show=show,
        shows=SHOWS,
        q=q,
    )


@bp.route("/approvals/<int:cart_id>")
@permission_required("shop.approve")
def approval(cart_id: int):
    """One colleague's request: its lines at today's offers, approve or reject."""
    cart = request_or_404(cart_id)
    return render("shop/cart/approval.html", **approval_context(cart))


@bp.route("/approvals/<int:cart_id>/approve", methods=["POST"])
@permission_required("shop.approve")
def approve(cart_id: int):
    """Approve a request: the order is placed (or waits for a second decision-maker)."""
    cart = request_or_404(cart_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return decision_refused(cart, first_error(form))
    approved = attempt(lambda: carts.approve(current_user, cart_id, form.note.data), replay=True)
    if approved.refused:
        return decision_refused(request_or_404(cart_id), approved.message)
    order = approved.value
    if order is None:
        flash(
            "Your approval is recorded. The order is above your company's approval limit: "
            "a second decision-maker must approve it too.",
            "info",
        )
        return go(url_for("shop.approvals"))
    flash(f"Approved: order {order.number} is placed for {order.placed_by.name}.", "info")
    return go(url_for("shop.order", order_id=order.id))


@bp.route("/approvals/<int:cart_id>/reject", methods=["POST"])
@permission_required("shop.approve")
def reject(cart_id: int):
    """Reject a request with a note the requester reads."""
    cart = request_or_404(cart_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return decision_refused(cart, first_error(form))
    rejected = attempt(lambda: carts.reject(current_user, cart_id, form.note.data))
    if rejected.refused:
        return decision_refused(request_or_404(cart_id), rejected.message)
    flash(f"The request of {cart.owner.name} is rejected; they have been told why.", "info")
    return go(url_for("shop.approvals"))
