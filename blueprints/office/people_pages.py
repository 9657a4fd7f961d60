"""What the staff-user pages and a company's people pages share: the roles a person may be
given, the invitation form, and checking a posted choice against what was offered."""

from flask import flash, redirect
from flask_babel import gettext as _
from flask_babel import gettext as translated
from flask_login import current_user
from sqlalchemy import select

from blueprints.boundary import attempt
from blueprints.common import client_ip, invitation_link, render
from core import access, people
from core.models import Role, User
from extensions import db

from .people_forms import InviteForm, field_for


def roles_of_kind(kind: str) -> list[Role]:
    """Every role for staff, or every role for customer people, by name."""
    return list(db.session.scalars(select(Role).where(Role.scope == kind).order_by(Role.name)))


def grantable_roles(kind: str) -> list[Role]:
    """The roles of that kind the signed-in person may give."""
    return [r for r in roles_of_kind(kind) if access.may_grant_role(current_user, r, kind)]


def role_choices(person: User) -> tuple[list[Role], set[int]]:
    """Roles offered on a person's form, and those among them the actor may not change.

    A role the actor may not give stays offered while the person holds it, so that
    saving the form keeps it rather than failing on it.
    """
    held = {r.id for r in person.roles}
    offered, locked = [], set()
    for role in roles_of_kind(person.kind):
        if access.may_grant_role(current_user, role, person.kind):
            offered.append(role)
        elif role.id in held:
            offered.append(role)
            locked.add(role.id)
    return offered, locked


def role_notes(roles) -> dict[int, str]:
    """Each role's description, in the reader's language where it is a preset's (those
    are in the catalogue); a description someone wrote stays as written."""
    return {r.id: translated(r.description) if r.description else r.description for r in roles}


def checked_form(form_class, field: str, choices) -> tuple:
    """A posted form validated against the choices it offered; (form, error message)."""
    form = form_class()
    getattr(form, field).choices = choices
    if form.validate_on_submit():
        return form, None
    errors = [str(e) for errors in form.errors.values() for e in errors]
    return form, " ".join(errors) or _("The form was not valid.")


def invite_page(kind: str, for_company, template: str, done, **context):
    """The invite form of either kind of person; `done(person)` is where success leads."""
    roles = grantable_roles(kind)
    form = InviteForm()
    form.roles.choices = [(r.id, r.name) for r in roles]
    if form.validate_on_submit():
        chosen = [r for r in roles if r.id in set(form.roles.data)]
        invited = attempt(
            lambda: people.invite(
                email=form.email.data,
                name=form.name.data,
                kind=kind,
                company=for_company,
                chosen_roles=chosen,
                actor=current_user,
                link=invitation_link,
                ip=client_ip(),
            )
        )
        if not invited.refused:
            flash(_("Invitation sent to %(email)s.", email=invited.value.email), "info")
            return redirect(done(invited.value))
        target = field_for(form, invited.refusal)
        (target.errors if target else form.form_errors).append(invited.message)
    status = 422 if form.errors or form.form_errors else 200
    notes = role_notes(roles)
    return render(template, form=form, notes=notes, code=status, **context)
