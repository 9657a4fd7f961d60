"""Back office: shipping methods (the "Shipping" module), kept with `shipping.edit`.

A method's price, free-above value, lead time, whether it is offered, and which customer
groups may use it decide what checkout offers. A method named by orders is deactivated
rather than deleted.
"""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from blueprints.boundary import attempt
from blueprints.common import (
    checked_csrf,
    client_ip,
    go,
    or_404,
    page_arg,
    permission_required,
    render,
)
from core import access, shipping_methods
from core.models import CustomerGroup, Order, ShippingMethod
from core.pagination import paginate
from extensions import db

from . import bp
from .shipping_methods_forms import MethodForm

PER_PAGE = 25


def all_groups() -> list[CustomerGroup]:
    return list(db.session.scalars(select(CustomerGroup).order_by(CustomerGroup.name)))


def load_method(method_id: int) -> ShippingMethod:
    """A shipping method, or a 404 (methods are not scoped to customers)."""
    return or_404(shipping_methods.load(method_id))


def order_count(method: ShippingMethod) -> int:
    return db.session.scalar(
        select(func.count(Order.id)).where(Order.shipping_method_id == method.id)
    )


def method_page(method: ShippingMethod | None, form: MethodForm, status: int = 200):
    """The page of one method (or of a new one), with its form as typed."""
    return render(
        "office/shipping_methods/method.html",
        code=status,
        method=method,
        form=form,
        orders=order_count(method) if method is not None else 0,
        may_edit=access.can(current_user, "shipping.edit"),
    )


@bp.route("/shipping-methods", endpoint="shipping_methods")
@permission_required("shipping.view")
def shipping_methods_list():
    """Every shipping method with its price, free-above value, lead time and groups."""
    listing = paginate(shipping_methods.listing(), page_arg(), PER_PAGE)
    return render(
        "office/shipping_methods/index.html",
        "office/shipping_methods/_table.html",
        listing=listing,
    )


@bp.route("/shipping-methods/new", methods=["GET", "POST"])
@permission_required("shipping.edit")
def shipping_method_create():
    """Create a shipping method and choose the groups that may use it."""
    groups = all_groups()
    if request.method == "GET":
        form = MethodForm(formdata=None, groups=groups)
        form.groups.data = [g.id for g in groups]  # offered to every group unless unticked
        return method_page(None, form)
    form = MethodForm(groups=groups)
    if not form.validate_on_submit():
        return method_page(None, form, 422)
    created = attempt(
        lambda: shipping_methods.create(form.details(), actor=current_user, ip=client_ip())
    )
    if created.refused:
        form.refuse(created.refusal)
        return method_page(None, form, 422)
    method = created.value
    flash(_("Shipping method “%(name)s” created.", name=method.name), "info")
    return redirect(url_for("office.shipping_methods"))


def filled_form(method: ShippingMethod) -> MethodForm:
    """A method's form as it is saved."""
    form = MethodForm(formdata=None, groups=all_groups())
    form.name.data = method.name
    form.price.data = f"{method.price:.2f}"
    form.free_above.data = f"{method.free_above:.2f}" if method.free_above is not None else ""
    form.lead_days.data = str(method.lead_days)
    form.is_active.data = method.is_active
    form.groups.data = [g.id for g in method.groups]
    return form


@bp.route("/shipping-methods/<int:method_id>")
@permission_required("shipping.view")
def shipping_method(method_id: int):
    """One shipping method: its terms (editable with shipping.edit) and its use by orders."""
    method = load_method(method_id)
    return method_page(method, filled_form(method))


@bp.route("/shipping-methods/<int:method_id>", methods=["POST"])
@permission_required("shipping.edit")
def shipping_method_update(method_id: int):
    """Change a method; orders already placed keep their shipping as it was."""
    method = load_method(method_id)
    form = MethodForm(groups=all_groups())
    if not form.validate_on_submit():
        return method_page(method, form, 422)
    edited = attempt(
        lambda: shipping_methods.edit(method, form.details(), actor=current_user, ip=client_ip())
    )
    if edited.refused:
        form.refuse(edited.refusal)
        return method_page(load_method(method_id), form, 422)
    flash(
        _("“%(name)s” saved.", name=method.name) if edited.value else _("Nothing to change."),
        "info",
    )
    return redirect(url_for("office.shipping_method", method_id=method.id))


@bp.route("/shipping-methods/<int:method_id>/active", methods=["POST"])
@permission_required("shipping.edit")
def shipping_method_active(method_id: int):
    """Offer a method at checkout again (`active=1`), or stop offering it (`active=0`)."""
    method = load_method(method_id)
    checked_csrf()
    wanted = request.form.get("active", "")
    if wanted not in ("0", "1"):
        flash(_("Say whether the method is offered (1) or not (0)."), "error")
        return go(url_for("office.shipping_method", method_id=method.id), htmx_status=204)
    active = wanted == "1"
    switched = attempt(
        lambda: shipping_methods.set_active(method, active, actor=current_user, ip=client_ip())
    )
    if switched.refused:
        flash(switched.message, "error")
    elif not switched.value and active:
        flash(_("“%(name)s” already is offered.", name=method.name), "info")
    elif not switched.value:
        flash(_("“%(name)s” already is not offered.", name=method.name), "info")
    elif active:
        flash(_("“%(name)s” is offered at checkout again.", name=method.name), "info")
    else:
        flash(
            _(
                "“%(name)s” is no longer offered at checkout; orders placed with it keep it.",
                name=method.name,
            ),
            "info",
        )
    return go(url_for("office.shipping_method", method_id=method.id), htmx_status=204)


@bp.route("/shipping-methods/<int:method_id>/delete", methods=["POST"])
@permission_required("shipping.edit")
def shipping_method_delete(method_id: int):
    """Delete a method no order names; one that orders name is deactivated instead."""
    method = load_method(method_id)
    checked_csrf()
    name = method.name
    deleted = attempt(lambda: shipping_methods.delete(method, actor=current_user, ip=client_ip()))
    if deleted.refused:
        flash(deleted.message, "error")
        return go(url_for("office.shipping_method", method_id=method_id), htmx_status=204)
    if deleted.value:
        flash(_("Shipping method “%(name)s” deleted.", name=name), "info")
        return go(url_for("office.shipping_methods"), htmx_status=204)
    flash(
        _(
            "“%(name)s” was used by orders, so it is kept for them and deactivated: it is no "
            "longer offered at checkout.",
            name=name,
        ),
        "info",
    )
    return go(url_for("office.shipping_method", method_id=method_id), htmx_status=204)
