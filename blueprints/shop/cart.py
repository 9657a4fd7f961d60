"""Storefront cart: building it, checking out, and the approval of colleagues' requests."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
    unchanged,
)
from blueprints.forms import EmptyForm
from core import access, carts, i18n, visibility
from core.models import Cart, Order, Product
from core.pagination import paginate
from extensions import db

from . import bp, stock_refusals
from .checkout import delivery_choice, field_errors, person_today, refusal_errors
from .orders_forms import AddToCartForm, CheckoutForm, NoteForm, QuantityForm, RejectForm

PER_PAGE = 25
SHOWS = {"pending": _l("Waiting for a decision"), "decided": _l("Decided")}


def first_error(form) -> str:
    """The first validation message of a form, for a one-line answer."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return _("The form was not sent correctly. Reload the page and try again.")


def pending_count() -> int:
    """Requests of the person's company waiting for a decision (for decision-makers)."""
    if not access.can(current_user, "shop.approve"):
        return 0
    stmt = carts.visible_requests(current_user).where(Cart.status == carts.PENDING)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def alone(pricing: carts.PricedCart | None, deciding: bool) -> str:
    """Whether the company lacks a decision-maker for an approval this cart needs: "you"
    when the signed-in person gives the first one (checking out or approving), "yes" when
    someone else does, "" when nothing is missing."""
    if pricing is None:
        return ""
    me = current_user._get_current_object() if deciding else None
    if not carts.short_of_approvers(pricing.cart, pricing.total, deciding=me):
        return ""
    first = deciding or pricing.cart.first_approver_id == current_user.id
    return "you" if first else "yes"


def cart_context(
    *, typed: dict | None = None, choice_errors: dict | None = None, typed_note="", **extra
) -> dict:
    """What the cart component shows: the open cart priced now, its delivery choices (as
    kept, or as just typed when something was refused), and one's own requests."""
    cart = carts.open_cart(current_user)
    requests = carts.requests_of(current_user)
    pricing = carts.priced(cart) if cart and cart.lines else None
    may_order = access.can(current_user, "shop.order")
    choice = None
    if pricing is not None:
        choice = delivery_choice(cart, pricing, typed=typed, errors=choice_errors)
    return {
        "pricing": pricing,
        "choice": choice,
        "typed_note": typed_note,
        "alone": alone(pricing, deciding=may_order),
        "requests": requests,
        "request_totals": carts.totals_of(requests),
        "company": current_user.company,
        "may_order": may_order,
        "pending": pending_count(),
        "note_form": NoteForm(formdata=None),
        **extra,
    }


def cart_answer(
    *, notice: str = "", error: str = "", form: CheckoutForm | None = None, refusal=None
):
    """After a change: htmx gets the cart component back, a plain form a redirect.

    `form`: a checkout or submission that was refused comes back as typed, each wrong
    delivery choice marked (a plain form gets the page again, so nothing typed is lost).
    """
    kept = {}
    if form is not None and error:
        kept = {
            "typed": form.typed(),
            "choice_errors": field_errors(form) | refusal_errors(refusal),
            "typed_note": (form.note.data or "")[: carts.NOTE_LENGTH],
        }
    if is_htmx():
        return render(
            "shop/cart/_cart.html",
            code=422 if error else 200,
            **cart_context(notice=notice, error=error, **kept),
        )
    if kept:
        return render("shop/cart/index.html", code=422, **cart_context(error=error, **kept))
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
        abort(400, description=_("Choose a product to add to your cart."))
    shown = visibility.offered(current_user.company.group_id)  # hidden from the group: 404
    product = or_404(db.session.scalar(select(Product).where(Product.id == product_id, *shown)))
    error = notice = ""
    if form.validate_on_submit():
        quantity = form.quantity.data
        added = attempt(lambda: carts.add(current_user, product.id, quantity))
        error = added.message
        if not added.refused:
            notice = _(
                "%(quantity)s × %(sku)s added to your cart.",
                quantity=i18n.format_number(quantity),
                sku=product.sku,
            )
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
        _("%(sku)s: quantity %(quantity)s.", sku=sku, quantity=i18n.format_number(quantity))
        if quantity
        else _("%(sku)s is out of your cart.", sku=sku),
    )


@bp.route("/cart/lines/<int:line_id>/remove", methods=["POST"])
@permission_required("shop.cart")
def cart_remove(line_id: int):
    """Take a product out of the cart."""
    sku = own_line(line_id).product.sku
    if not EmptyForm().validate_on_submit():
        abort(400, description=_("The form was not sent correctly. Reload the page and try again."))
    return change_cart(
        lambda: carts.remove(current_user, line_id), _("%(sku)s is out of your cart.", sku=sku)
    )


@bp.route("/cart/choices", methods=["POST"])
@permission_required("shop.cart")
def cart_choices():
    """Keep checkout's delivery choices on the open cart as they are made; htmx gets the
    summary beside the order button back, out of band."""
    form = CheckoutForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400, description=_("The form has expired. Reload the page and try again."))
        for name in form.errors:  # keep what reads well, leave the rest as it was
            getattr(form, name).data = ""
    kept = attempt(lambda: carts.keep_choices(current_user, form.choices()))
    if not is_htmx():
        return redirect(url_for("shop.cart"))
    cart = carts.open_cart(current_user)
    if kept.refused or not kept.value or cart is None or not cart.lines:
        return unchanged()
    choice = delivery_choice(cart, carts.priced(cart))
    return render("shop/cart/_summary.html", choice=choice)


@bp.route("/cart/submit", methods=["POST"])
@permission_required("shop.cart")
def cart_submit():
    """Send the cart, with its delivery choices, to the company's decision-makers."""
    form = CheckoutForm()
    if not form.validate_on_submit():
        return cart_answer(error=first_error(form), form=form)
    submitted = attempt(
        lambda: carts.submit(current_user, form.note.data, form.choices(), today=person_today())
    )
    if submitted.refused:
        return cart_answer(error=submitted.message, form=form, refusal=submitted.refusal)
    return cart_answer(
        notice=_("Your cart is sent for approval. Your company's decision-makers have been told.")
    )


@bp.route("/cart/checkout", methods=["POST"])
@permission_required("shop.order")
def checkout():
    """Order the cart to the chosen address, by the chosen method (above the approval limit
    it waits for a second decision-maker)."""
    form = CheckoutForm()
    if not form.validate_on_submit():
        return cart_answer(error=first_error(form), form=form)
    too_many = stock_refusals.throttled()
    if too_many is not None:
        return too_many
    checked_out = attempt(
        lambda: carts.checkout(current_user, form.note.data, form.choices(), today=person_today()),
        replay=True,
    )
    if checked_out.refused:
        stock_refusals.count(checked_out.refusal)
        return cart_answer(error=checked_out.message, form=form, refusal=checked_out.refusal)
    result = checked_out.value
    if isinstance(result, Order):
        flash(
            _(
                "Order %(number)s is placed: %(total)s %(currency)s.",
                number=result.number,
                total=i18n.format_number(result.total, 2),
                currency=result.currency,
            ),
            "info",
        )
        return go(url_for("shop.order", order_id=result.id))
    notice = _(
        "Your order is above your company's approval limit: it now waits for a second "
        "decision-maker to approve it."
    )
    if carts.short_of_approvers(result, carts.priced(result).total):
        notice = _(
            "Your order is above your company's approval limit and nobody else at your "
            "company can give the second approval: the seller's staff have been asked to give "
            "it, and the order is placed as soon as they do."
        )
    return cart_answer(notice=notice)


# --- approvals -------------------------------------------------------------------------


def show_arg() -> str:
    """Which requests the approvals list shows; anything unknown is a clear 400."""
    show = request.args.get("show") or "pending"
    if show not in SHOWS:
        abort(400, description=_("Show either the requests waiting for a decision, or decided."))
    return show


def request_or_404(cart_id: int) -> Cart:
    """A request of the person's own company; another company's is a 404."""
    return carts.load_request(current_user, cart_id)


def approval_context(
    cart: Cart, *, typed: dict | None = None, choice_errors: dict | None = None, **extra
) -> dict:
    """The request page: lines at today's offers, the delivery the requester chose (which
    the approver may change), the decision so far, and the forms."""
    pricing = carts.priced(cart)
    deciding = (
        cart.status == carts.PENDING
        and access.can(current_user, "shop.approve")
        and current_user.id not in (cart.owner_id, cart.first_approver_id)
    )
    return {
        "cart": cart,
        "pricing": pricing,
        "alone": alone(pricing, deciding) if cart.status == carts.PENDING else "",
        "choice": delivery_choice(cart, pricing, typed=typed, errors=choice_errors),
        "company": current_user.company,
        "note_form": NoteForm(formdata=None),
        "reject_form": RejectForm(formdata=None),
        **extra,
    }


def decision_refused(cart: Cart, error: str, form: CheckoutForm | None = None, refusal=None):
    """A refused decision: the decision component (htmx) or the page again, with why; an
    approval's delivery choices come back as typed, the wrong one marked."""
    kept = {}
    if form is not None and form.sent_choices():
        kept = {
            "typed": form.typed(),
            "choice_errors": field_errors(form) | refusal_errors(refusal),
        }
    if is_htmx():
        return render(
            "shop/cart/_decision.html", code=422, **approval_context(cart, error=error, **kept)
        )
    if kept:
        return render(
            "shop/cart/approval.html", code=422, **approval_context(cart, error=error, **kept)
        )
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
    """Approve a request with its delivery choices (as the requester made them, or as the
    approver changes them): the order is placed (or waits for a second decision-maker)."""
    cart = request_or_404(cart_id)
    form = CheckoutForm()
    if not form.validate_on_submit():
        return decision_refused(cart, first_error(form), form)
    too_many = stock_refusals.throttled()
    if too_many is not None:
        return too_many
    choices = form.choices() if form.sent_choices() else None
    approved = attempt(
        lambda: carts.approve(current_user, cart_id, form.note.data, choices, today=person_today()),
        replay=True,
    )
    if approved.refused:
        stock_refusals.count(approved.refusal)
        return decision_refused(request_or_404(cart_id), approved.message, form, approved.refusal)
    order = approved.value
    if order is None:
        waiting = carts.load_request(current_user, cart_id)
        flash(
            _(
                "Your approval is recorded. The order is above your company's approval limit "
                "and nobody else at your company can give the second approval: the seller's "
                "staff have been asked to give it."
            )
            if carts.short_of_approvers(waiting, carts.priced(waiting).total)
            else _(
                "Your approval is recorded. The order is above your company's approval limit: "
                "a second decision-maker must approve it too."
            ),
            "info",
        )
        return go(url_for("shop.approvals"))
    flash(
        _(
            "Approved: order %(number)s is placed for %(name)s.",
            number=order.number,
            name=order.placed_by.name,
        ),
        "info",
    )
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
    flash(
        _("The request of %(name)s is rejected; they have been told why.", name=cart.owner.name),
        "info",
    )
    return go(url_for("shop.approvals"))
