"""Materials of custom parts: the list staff keep, under the quotes module (see it with
`quotes.view`, change it with `quotes.edit`)."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.boundary import apply, attempt
from blueprints.common import checked_csrf, go, permission_required, render
from blueprints.forms import EmptyForm
from core import custom_parts
from core.models import Material

from . import bp
from .materials_forms import MaterialForm


def list_context(form: MaterialForm) -> dict:
    return {"materials": custom_parts.materials(), "form": form}


@bp.route("/quotes/materials", endpoint="materials")
@permission_required("quotes.view")
def materials_list():
    """The materials customers choose for custom parts, and the form to add one."""
    return render("office/materials/index.html", **list_context(MaterialForm(formdata=None)))


@bp.post("/quotes/materials")
@permission_required("quotes.edit")
def material_create():
    """Add a material with the thicknesses it comes in; customers may choose it at once."""
    form = MaterialForm()
    if form.validate_on_submit():
        made = attempt(
            lambda: custom_parts.create_material(
                form.name.data or "", form.thicknesses.data or "", actor=current_user
            )
        )
        if not made.refused:
            flash(_("Material “%(name)s” added.", name=made.value.name), "info")
            return redirect(url_for("office.materials"))
        form.refuse(made.refusal)
    return render("office/materials/index.html", code=422, **list_context(form))


def page_context(material: Material, form: MaterialForm) -> dict:
    return {
        "material": material,
        "form": form,
        "used": custom_parts.is_used(material),
        "delete_form": EmptyForm(formdata=None),
    }


@bp.route("/quotes/materials/<int:material_id>")
@permission_required("quotes.view")
def material(material_id: int):
    """One material, and for those who answer quotes, its form."""
    found = custom_parts.load_material(material_id)
    form = MaterialForm(
        formdata=None,
        data={
            "name": found.name,
            "thicknesses": ", ".join(found.thicknesses),
            "active": found.active,
        },
    )
    return render("office/materials/show.html", **page_context(found, form))


@bp.post("/quotes/materials/<int:material_id>")
@permission_required("quotes.edit")
def material_save(material_id: int):
    """Save a material; lines already asked for keep the material and thickness they named."""
    found = custom_parts.load_material(material_id)
    form = MaterialForm()
    if form.validate_on_submit():
        saved = attempt(
            lambda: custom_parts.update_material(
                found,
                form.name.data or "",
                form.thicknesses.data or "",
                bool(form.active.data),
                actor=current_user,
            )
        )
        if not saved.refused:
            flash(_("Material saved."), "info")
            return redirect(url_for("office.material", material_id=material_id))
        form.refuse(saved.refusal)
        found = custom_parts.load_material(material_id)
    return render("office/materials/show.html", code=422, **page_context(found, form))


@bp.post("/quotes/materials/<int:material_id>/delete")
@permission_required("quotes.edit")
def material_delete(material_id: int):
    """Remove a material no quote line names; one that lines name is switched off instead."""
    found = custom_parts.load_material(material_id)
    checked_csrf()
    name = found.name
    outcome = apply(lambda: custom_parts.remove_material(found, actor=current_user))
    if outcome == "switched_off":
        flash(
            _(
                "“%(name)s” is named on quote lines, so it is kept and switched off: customers "
                "can no longer choose it.",
                name=name,
            ),
            "info",
        )
    else:
        flash(_("Material “%(name)s” removed.", name=name), "info")
    return go(url_for("office.materials"))
