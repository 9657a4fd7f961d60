"""Storefront: quick order (lines of SKU and quantity into the cart) and reorder.

Whoever may build a cart (`shop.cart`) uses both; Browse-only people get a 403, staff
have no storefront, another company's order is a 404. The quick order is two plain
forms: "Check" shows every line as the person's group sees it at its quantity, with
its problems, and writes nothing; "Add to cart" sends the valid lines, checked again,
into the cart in one transaction. What was typed is given back whenever something is
refused, so nothing is lost to a typing error.
"""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.boundary import attempt
from blueprints.common import checked_csrf, or_404, permission_required, render
from core import orders, quick_order
from core.imports.reading import megabytes

from . import bp
from .quick_order_forms import AddForm, QuickOrderForm

CART = quick_order.CART


def page(form: QuickOrderForm, code: int = 200, **extra):
    """The quick order page: the form (as typed), and the check's table when there is one."""
    checked = extra.get("checked")
    add_form = None
    if checked is not None and checked.valid:
        add_form = AddForm(
            formdata=None, lines=quick_order.valid_text(checked), typed=form.lines.data or ""
        )
    return render(
        "shop/quick_order/index.html",
        code=code,
        form=form,
        add_form=add_form,
        limits={"lines": quick_order.MAX_LINES, "size": megabytes(quick_order.MAX_BYTES)},
        **extra,
    )


@bp.route("/quick-order", endpoint="quick_order")
@permission_required(CART)
def quick_order_page():
    """Paste lines of SKU and quantity, or upload a file of them."""
    return page(QuickOrderForm(formdata=None))


@bp.route("/quick-order", methods=["POST"])
@permission_required(CART)
def quick_order_check():
    """Every line matched and priced as the person's group sees it; nothing is added."""
    form = QuickOrderForm()
    if not form.validate_on_submit():
        return page(form, 422)
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        checked = quick_order.check_file(current_user, upload.read(quick_order.MAX_BYTES + 1))
    elif (form.lines.data or "").strip():
        checked = quick_order.check_text(current_user, form.lines.data)
    else:
        form.refuse(quick_order.nothing_typed())
        return page(form, 422)
    if not checked.lines and not checked.errors:  # a header line alone
        form.refuse(quick_order.nothing_typed())
        return page(form, 422)
    return page(form, 200 if checked.valid else 422, checked=checked)


@bp.route("/quick-order/cart", methods=["POST"])
@permission_required(CART)
def quick_order_add():
    """The checked lines into the cart, each by the cart's own rules; then the cart."""
    form = AddForm()
    typed = QuickOrderForm(formdata=None, lines=form.typed.data or form.lines.data or "")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            typed.form_errors.extend(str(e) for e in errors)
        return page(typed, 422)
    done = attempt(lambda: quick_order.to_cart(current_user, form.lines.data or ""))
    if done.refused:
        typed.refuse(done.refusal)
        return page(typed, 422)
    checked, outcome = done.value
    if not outcome.added:
        # Nothing went in: the lines as they stand now, and the text, stay on the page.
        typed.form_errors.append(_("Nothing went into your cart."))
        return page(typed, 422, checked=checked, outcome=outcome)
    went, not_in = quick_order.summary(outcome)
    flash(went, "info")
    if not_in:
        flash(not_in, "error")
    return redirect(url_for("shop.cart"))


@bp.route("/orders/<int:order_id>/reorder", methods=["POST"])
@permission_required(CART)
def order_reorder(order_id: int):
    """An order's lines back into the cart at today's offer; what cannot go in is named."""
    found = or_404(orders.load_visible(current_user, order_id))
    checked_csrf()
    done = attempt(lambda: quick_order.reorder(current_user, found))
    if done.refused:
        flash(done.message, "error")
        return redirect(url_for("shop.order", order_id=order_id))
    went, not_in = quick_order.summary(done.value)
    if went:
        flash(went, "info")
    if not_in:
        flash(not_in, "error")
    if not done.value.added:
        flash(_("Nothing went into your cart."), "error")
        return redirect(url_for("shop.order", order_id=order_id))
    return redirect(url_for("shop.cart"))
