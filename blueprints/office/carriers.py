"""Carriers: the companies shipments go with, each with its tracking link template."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from blueprints.boundary import apply, attempt
from blueprints.common import checked_csrf, client_ip, go, or_404, permission_required, render
from blueprints.forms import EmptyForm
from core import carriers as service
from core.models import Carrier, Shipment
from extensions import db

from . import bp
from .shipments_forms import CarrierForm


def load_carrier(carrier_id: int) -> Carrier:
    """One carrier; an unknown number is a 404."""
    return or_404(db.session.get(Carrier, carrier_id))


def list_context(form: CarrierForm) -> dict:
    """Every carrier by name, active ones first, with how many shipments name each."""
    found = list(
        db.session.scalars(select(Carrier).order_by(Carrier.is_active.desc(), Carrier.name))
    )
    used = dict(
        db.session.execute(
            select(Shipment.carrier_id, func.count(Shipment.id)).group_by(Shipment.carrier_id)
        ).all()
    )
    return {"carriers": found, "used": used, "form": form, "example": service.tracking_link}


@bp.route("/carriers", endpoint="carriers")
@permission_required("shipping.view")
def carriers_list():
    """Carriers, and for those who ship, the form to add one."""
    form = CarrierForm(formdata=None)
    return render("office/carriers/index.html", **list_context(form))


@bp.post("/carriers")
@permission_required("shipping.edit")
def carrier_create():
    """Add a carrier: a name, a tracking link template (https, with {tracking})."""
    form = CarrierForm()
    if form.validate_on_submit():
        created = attempt(
            lambda: service.create(form.details(), actor=current_user, ip=client_ip())
        )
        if not created.refused:
            flash(_("Carrier “%(name)s” added.", name=created.value.name), "info")
            return redirect(url_for("office.carriers"))
        form.refuse(created.refusal)
    return render("office/carriers/index.html", code=422, **list_context(form))


def page_context(carrier: Carrier, form: CarrierForm) -> dict:
    return {
        "carrier": carrier,
        "form": form,
        "used": service.shipments_of(carrier),
        "delete_form": EmptyForm(formdata=None),
        "example": service.tracking_link(carrier.tracking_url, "1Z999AA10123456784"),
    }


@bp.route("/carriers/<int:carrier_id>")
@permission_required("shipping.view")
def carrier(carrier_id: int):
    """One carrier: its tracking link with an example, and for those who ship, its form."""
    found = load_carrier(carrier_id)
    form = CarrierForm(
        formdata=None,
        data={"name": found.name, "tracking_url": found.tracking_url, "is_active": found.is_active},
    )
    return render("office/carriers/show.html", **page_context(found, form))


@bp.post("/carriers/<int:carrier_id>")
@permission_required("shipping.edit")
def carrier_save(carrier_id: int):
    """Save a carrier's changes; shipments going with it show its new name and link."""
    found = load_carrier(carrier_id)
    form = CarrierForm()
    if form.validate_on_submit():
        saved = attempt(
            lambda: service.update(found, form.details(), actor=current_user, ip=client_ip())
        )
        if not saved.refused:
            flash(_("Carrier saved.") if saved.value else _("Nothing to change."), "info")
            return redirect(url_for("office.carrier", carrier_id=carrier_id))
        form.refuse(saved.refusal)
        found = load_carrier(carrier_id)
    return render("office/carriers/show.html", code=422, **page_context(found, form))


@bp.post("/carriers/<int:carrier_id>/delete")
@permission_required("shipping.edit")
def carrier_delete(carrier_id: int):
    """Delete a carrier no shipment names; one that shipments name is deactivated instead."""
    found = load_carrier(carrier_id)
    checked_csrf()
    name = found.name
    outcome = apply(lambda: service.delete(found, actor=current_user, ip=client_ip()))
    if outcome == "deactivated":
        flash(
            _(
                "“%(name)s” is named by shipments, so it is kept and deactivated: new shipments "
                "cannot use it.",
                name=name,
            ),
            "info",
        )
    else:
        flash(_("Carrier “%(name)s” deleted.", name=name), "info")
    # The confirm dialog posts through htmx: it loads the list whole, not into the form.
    return go(url_for("office.carriers"))
