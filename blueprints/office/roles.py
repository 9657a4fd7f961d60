"""Back-office roles: named permission sets for staff and for customer people."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from blueprints.boundary import attempt
from blueprints.common import client_ip, go, is_htmx, or_404, permission_required, render
from blueprints.forms import EmptyForm
from core import access
from core import roles as role_service
from core.audit import changes, summary_text
from core.models import AuditEntry, Role, User, user_roles
from extensions import db

from . import bp
from .people_pages import translated
from .roles_forms import RoleCreateForm, RoleDeleteForm, RoleRenameForm

SCOPE_TITLES = {"staff": _l("Staff roles"), "customer": _l("Customer roles")}
# "No staff roles yet." / "No customer roles yet."
SCOPE_EMPTY = {"staff": _l("No staff roles yet."), "customer": _l("No customer roles yet.")}


def modules_for(role: Role) -> list[access.Module]:
    """The catalogue modules a role of this kind may grant (storefront ones for customers)."""
    return [m for m in access.MODULES if m.scope == role.scope]


def load_role(role_id: int) -> Role:
    return or_404(db.session.get(Role, role_id))


def holders_of(role: Role) -> list[User]:
    stmt = (
        select(User)
        .join(user_roles, user_roles.c.user_id == User.id)
        .where(user_roles.c.role_id == role.id)
        .options(selectinload(User.company))
        .order_by(User.name, User.email)
    )
    return list(db.session.scalars(stmt))


def other_roles(role: Role) -> list[Role]:
    stmt = select(Role).where(Role.scope == role.scope, Role.id != role.id).order_by(Role.name)
    return list(db.session.scalars(stmt))


def history_of(role: Role, limit: int = 8) -> list[AuditEntry]:
    """The latest audit entries about this role (not about an earlier role with its id)."""
    # SQLite may give a deleted role's id to a new one; entries older than the role are
    # someone else's. Whole seconds, because MariaDB stores DATETIME without fractions.
    since = role.created_at.replace(microsecond=0)
    stmt = (
        select(AuditEntry)
        .where(
            AuditEntry.target_type == Role.__tablename__,
            AuditEntry.target_id == role.id,
            AuditEntry.created_at >= since,
        )
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def refuse(message: str, to: str, navigate=redirect):
    """Nothing of the refused change was kept; the person reads why on the next page."""
    flash(message, "error")
    return navigate(to)


def form_errors(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def description_of(role: Role) -> str:
    """A role's description in the reader's language where it is a preset's (those are in
    the catalogue); one someone wrote stays as written."""
    return translated(role.description) if role.description else ""


def permissions_fragment(role: Role, *, checked=None, saved=None, error=None, status=200):
    """The permission grid of one role, alone: the answer to its own htmx form."""
    return render(
        "office/roles/_permissions.html",
        code=status,
        role=role,
        modules=modules_for(role),
        checked=role.permissions if checked is None else checked,
        saved=saved,
        error=error,
    )


@bp.route("/roles")
@permission_required("roles.view")
def roles():
    """Staff and customer roles, with their holders and permission counts."""
    holder_counts = (
        select(user_roles.c.role_id, func.count(user_roles.c.user_id).label("holders"))
        .group_by(user_roles.c.role_id)
        .subquery()
    )
    stmt = (
        select(Role, func.coalesce(holder_counts.c.holders, 0))
        .outerjoin(holder_counts, holder_counts.c.role_id == Role.id)
        .order_by(Role.name)
    )
    sections = {scope: [] for scope in SCOPE_TITLES}
    for role, holders in db.session.execute(stmt):
        sections[role.scope].append((role, holders))
    return render(
        "office/roles/index.html",
        "office/roles/_table.html",
        sections=sections,
        titles=SCOPE_TITLES,
        empty=SCOPE_EMPTY,
        description_of=description_of,
        totals={
            "staff": len(access.STAFF_PERMISSIONS),
            "customer": len(access.CUSTOMER_PERMISSIONS),
        },
        form=RoleCreateForm(formdata=None),
    )


@bp.post("/roles")
@permission_required("roles.edit")
def role_create():
    """Create an empty role, then open its page to choose its permissions."""
    form = RoleCreateForm()
    if not form.validate_on_submit():
        return refuse(form_errors(form), url_for("office.roles"))
    created = attempt(
        lambda: role_service.create(
            form.name.data, form.scope.data, [], actor=current_user, ip=client_ip()
        )
    )
    if created.refused:
        return refuse(created.message, url_for("office.roles"))
    role = created.value
    flash(_("Role “%(name)s” created. Choose what it allows.", name=role.name), "info")
    return redirect(url_for("office.role", role_id=role.id))


@bp.route("/roles/<int:role_id>")
@permission_required("roles.view")
def role(role_id: int):
    """One role: its permission grid, name, holders, recent changes, and deletion."""
    role = load_role(role_id)
    holders = holders_of(role)
    rename_form = RoleRenameForm(formdata=None, data={"name": role.name})
    delete_form = RoleDeleteForm(formdata=None).offer(other_roles(role), held=bool(holders))
    return render(
        "office/roles/role.html",
        role=role,
        modules=modules_for(role),
        checked=role.permissions,
        holders=holders,
        history=history_of(role) if access.can(current_user, "audit.view") else [],
        changes=changes,
        summary_text=summary_text,
        description_of=description_of,
        rename_form=rename_form,
        delete_form=delete_form,
        saved=None,
        error=None,
    )


@bp.post("/roles/<int:role_id>/name")
@permission_required("roles.edit")
def role_rename(role_id: int):
    """Rename a role; names are unique among roles of the same kind."""
    role = load_role(role_id)
    back = url_for("office.role", role_id=role.id)
    form = RoleRenameForm()
    if not form.validate_on_submit():
        return refuse(form_errors(form), back)
    before = role.name
    renamed = attempt(
        lambda: role_service.rename(role, form.name.data, actor=current_user, ip=client_ip())
    )
    if renamed.refused:
        return refuse(renamed.message, back)
    if role.name != before:
        flash(
            _("Role “%(before)s” is now called “%(name)s”.", before=before, name=role.name), "info"
        )
    return redirect(back)


@bp.post("/roles/<int:role_id>/two-factor")
@permission_required("roles.edit")
def role_two_factor(role_id: int):
    """Require two-factor sign-in of the role's holders (or stop requiring it)."""
    role = load_role(role_id)
    back = url_for("office.role", role_id=role.id)
    if not EmptyForm().validate_on_submit():
        return refuse(_("The form has expired. Reload the page and try again."), back)
    required = request.form.get("required") == "1"
    changed = attempt(
        lambda: role_service.set_two_factor(role, required, actor=current_user, ip=client_ip())
    )
    if changed.refused:
        return refuse(changed.message, back)
    if changed.value:
        flash(
            _(
                "Holders of “%(name)s” now sign in with two-factor; those without it set it "
                "up at their next sign-in.",
                name=role.name,
            )
            if required
            else _("Holders of “%(name)s” may sign in with a password alone.", name=role.name),
            "info",
        )
    return redirect(back)


@bp.post("/roles/<int:role_id>/permissions")
@permission_required("roles.edit")
def role_permissions(role_id: int):
    """Save the whole set of a role's permissions; every holder gets it at once."""
    role = load_role(role_id)
    back = url_for("office.role", role_id=role.id)
    # The grid is a list of checkbox codes, so the form only carries the CSRF check;
    # core.roles refuses codes outside the catalogue for this kind of role.
    if not EmptyForm().validate_on_submit():
        return refuse(_("The form has expired. Reload the page and try again."), back)
    chosen = request.form.getlist("permissions")
    saved = attempt(
        lambda: role_service.set_permissions(role, chosen, actor=current_user, ip=client_ip())
    )
    if saved.refused:
        if not is_htmx():
            return refuse(saved.message, back)
        # Keep the person's ticks on screen so they see what to correct; the message
        # says that nothing was saved.
        known = frozenset(chosen) & role_service.allowed_permissions(role.scope)
        return permissions_fragment(role, checked=known, error=saved.message, status=422)
    if is_htmx():
        return permissions_fragment(
            role, saved=_("Saved.") if saved.value else _("No changes to save.")
        )
    flash(
        _("Permissions of “%(name)s”: saved.", name=role.name)
        if saved.value
        else _("Permissions of “%(name)s”: no changes to save.", name=role.name),
        "info",
    )
    return redirect(back)


@bp.post("/roles/<int:role_id>/delete")
@permission_required("roles.edit")
def role_delete(role_id: int):
    """Delete a role, giving its holders another role of the same kind if it is held."""
    role = load_role(role_id)
    back = url_for("office.role", role_id=role.id)
    form = RoleDeleteForm().offer(other_roles(role), held=True)
    # htmx (the confirm dialog) must load the next page whole, not swap it into the form.
    if not form.validate_on_submit():
        return refuse(form_errors(form), back, go)
    reassign_to = db.session.get(Role, form.reassign_to.data) if form.reassign_to.data else None
    name = role.name
    deleted = attempt(
        lambda: role_service.delete(
            role, actor=current_user, reassign_to=reassign_to, ip=client_ip()
        )
    )
    if deleted.refused:
        return refuse(deleted.message, back, go)
    flash(
        _(
            "Role “%(name)s” deleted. Its holders now have “%(other)s”.",
            name=name,
            other=reassign_to.name,
        )
        if reassign_to
        else _("Role “%(name)s” deleted.", name=name),
        "info",
    )
    return go(url_for("office.roles"))
