"""Back-office staff users: list, invite, roles, blocking, invitations and assigned customers."""

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from blueprints.common import (
    checked_csrf,
    choice_arg,
    client_ip,
    is_htmx,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from core import access, people
from core.errors import Refused
from core.models import Company, Invitation, Role, User, company_reps, utcnow
from core.pagination import paginate
from extensions import db

from . import bp
from .people_forms import AssignmentsForm, InviteForm, RolesForm, field_for

STATUSES = ("all", "active", "invited", "blocked")


def invitation_link(token: str) -> str:
    """The activation link mailed to an invited person."""
    return url_for("auth.accept_invitation", token=token, _external=True)


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg(
        "status",
        STATUSES,
        "Unknown status filter. Choose one of: " + ", ".join(STATUSES) + ".",
        default="all",
    )


def load_staff(user_id: int) -> User:
    """A staff person by id; a customer person's id or an unknown one is a 404."""
    person = db.session.get(User, user_id)
    if person is None or not person.is_staff:
        abort(404, description="There is no staff user with this number.")
    return person


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


def person_context(person: User, **extra) -> dict:
    """Everything the person page and its fragment show."""
    offered, locked = role_choices(person)
    roles_form = RolesForm(formdata=None, roles=[r.id for r in person.roles])
    roles_form.roles.choices = [(r.id, r.name) for r in offered]
    companies = list(
        db.session.scalars(access.visible_companies(current_user).order_by(Company.name))
    )
    assignments_form = AssignmentsForm(
        formdata=None, companies=[c.id for c in person.assigned_companies]
    )
    assignments_form.companies.choices = [(c.id, c.name) for c in companies]
    visible_ids = {c.id for c in companies}
    now = utcnow()
    invitations = [
        (invitation, invitation.status_at(now))
        for invitation in db.session.scalars(
            select(Invitation)
            .where(Invitation.user_id == person.id)
            .options(selectinload(Invitation.invited_by))
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    ]
    return {
        "person": person,
        "roles_form": roles_form,
        "role_notes": {r.id: r.description for r in offered},
        "locked_roles": locked,
        "assignments_form": assignments_form,
        "assigned": [c for c in person.assigned_companies if c.id in visible_ids],
        "invitations": invitations,
        "has_pending": any(status == "pending" for _, status in invitations),
        "is_self": person.id == current_user.id,
        **extra,
    }


def answer(person: User, *, notice: str | None = None, error: str | None = None):
    """After a change: htmx gets the person's fragment back, a plain form a redirect."""
    if is_htmx():
        html = render_template(
            "office/users/_person.html", **person_context(person, notice=notice, error=error)
        )
        response = make_response(html, 422 if error else 200)
        response.vary.add("HX-Request")
        return response
    flash(error or notice, "error" if error else "info")
    return redirect(url_for("office.user", user_id=person.id))


def run(person: User, change, notice: str):
    """Apply one service call: commit once on success, roll back and explain on refusal."""
    try:
        result = change()
    except Refused as exc:
        db.session.rollback()
        return answer(person, error=str(exc))
    db.session.commit()
    return answer(person, notice=notice if result is not False else "Nothing to change.")


def checked_form(form_class, field: str, choices) -> tuple:
    """A posted form validated against the choices it offered; (form, error message)."""
    form = form_class()
    getattr(form, field).choices = choices
    if form.validate_on_submit():
        return form, None
    errors = [e for errors in form.errors.values() for e in errors]
    return form, " ".join(errors) or "The form was not valid."


@bp.route("/users")
@permission_required("users.view")
def users():
    """Staff people, searchable by name or email and filtered by status."""
    q, status, page = search_arg(), status_arg(), page_arg()
    stmt = select(User).where(User.kind == "staff").options(selectinload(User.roles))
    if q:
        stmt = stmt.where(
            or_(User.name.icontains(q, autoescape=True), User.email.icontains(q, autoescape=True))
        )
    if status != "all":
        stmt = stmt.where(User.status == status)
    listing = paginate(stmt.order_by(User.name, User.id), page)
    # Assigned customers are counted among those the viewer may see.
    counts = dict(
        db.session.execute(
            access.company_scope(
                current_user,
                select(company_reps.c.user_id, func.count())
                .where(company_reps.c.user_id.in_([u.id for u in listing.items]))
                .group_by(company_reps.c.user_id),
                company_reps.c.company_id,
            )
        ).all()
    )
    return render(
        "office/users/index.html",
        "office/users/_table.html",
        listing=listing,
        q=q,
        status=status,
        statuses=STATUSES,
        counts=counts,
    )


def invite_page(kind: str, for_company, template: str, done, **context):
    """The invite form of either kind of person; `done(person)` is where success leads."""
    roles = grantable_roles(kind)
    form = InviteForm()
    form.roles.choices = [(r.id, r.name) for r in roles]
    if form.validate_on_submit():
        chosen = [r for r in roles if r.id in set(form.roles.data)]
        try:
            person = people.invite(
                email=form.email.data,
                name=form.name.data,
                kind=kind,
                company=for_company,
                chosen_roles=chosen,
                actor=current_user,
                link=invitation_link,
                ip=client_ip(),
            )
        except Refused as exc:
            db.session.rollback()
            target = field_for(form, str(exc))
            (target.errors if target else form.form_errors).append(str(exc))
        else:
            db.session.commit()
            flash(f"Invitation sent to {person.email}.", "info")
            return redirect(done(person))
    status = 422 if form.errors or form.form_errors else 200
    notes = {r.id: r.description for r in roles}
    return render_template(template, form=form, notes=notes, **context), status


@bp.route("/users/invite", methods=["GET", "POST"])
@permission_required("users.manage")
def user_invite():
    """Invite a staff person: they get a single-use link to choose their password."""
    return invite_page(
        "staff",
        None,
        "office/users/invite.html",
        lambda person: url_for("office.user", user_id=person.id),
    )


@bp.route("/users/<int:user_id>")
@permission_required("users.view")
def user(user_id: int):
    """One staff person: roles, status, invitations and assigned customers."""
    person = load_staff(user_id)
    return render("office/users/show.html", "office/users/_person.html", **person_context(person))


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@permission_required("users.manage")
def user_roles(user_id: int):
    """Give a staff person exactly the checked roles."""
    person = load_staff(user_id)
    offered, _ = role_choices(person)
    form, error = checked_form(RolesForm, "roles", [(r.id, r.name) for r in offered])
    if error:
        return answer(person, error=error)
    chosen = [r for r in offered if r.id in set(form.roles.data)]
    return run(
        person,
        lambda: people.set_roles(person, chosen, actor=current_user, ip=client_ip()),
        "Roles saved." if chosen else "Roles removed: this person can no longer sign in.",
    )


@bp.route("/users/<int:user_id>/customers", methods=["POST"])
@permission_required("users.manage")
def user_customers(user_id: int):
    """Assign a staff person exactly the checked customer companies."""
    person = load_staff(user_id)
    companies = list(db.session.scalars(access.visible_companies(current_user)))
    form, error = checked_form(AssignmentsForm, "companies", [(c.id, c.name) for c in companies])
    if error:
        return answer(person, error=error)
    chosen = [c for c in companies if c.id in set(form.companies.data)]
    return run(
        person,
        lambda: people.set_assignments(person, chosen, actor=current_user, ip=client_ip()),
        "Assigned customers saved.",
    )


def simple_action(user_id: int, change, notice: str):
    """A bare POST button (block, unblock, resend, revoke) on one staff person."""
    person = load_staff(user_id)
    checked_csrf()
    return run(person, lambda: change(person), notice)


@bp.route("/users/<int:user_id>/block", methods=["POST"])
@permission_required("users.manage")
def user_block(user_id: int):
    """Block a staff person: every session of theirs ends at once."""
    return simple_action(
        user_id,
        lambda p: people.block(p, actor=current_user, ip=client_ip()),
        "Blocked: every session of this person has ended.",
    )


@bp.route("/users/<int:user_id>/unblock", methods=["POST"])
@permission_required("users.manage")
def user_unblock(user_id: int):
    """Let a blocked staff person sign in again."""
    return simple_action(
        user_id,
        lambda p: people.unblock(p, actor=current_user, ip=client_ip()),
        "Unblocked.",
    )


@bp.route("/users/<int:user_id>/invitation/resend", methods=["POST"])
@permission_required("users.manage")
def user_resend(user_id: int):
    """Mail a new activation link; older links stop working."""
    return simple_action(
        user_id,
        lambda p: people.resend(p, actor=current_user, link=invitation_link, ip=client_ip()),
        "A new invitation was sent; older links no longer work.",
    )


@bp.route("/users/<int:user_id>/invitation/revoke", methods=["POST"])
@permission_required("users.manage")
def user_revoke(user_id: int):
    """Withdraw a staff person's pending invitation."""
    return simple_action(
        user_id,
        lambda p: people.revoke(p, actor=current_user, ip=client_ip()),
        "Invitation revoked: the link no longer works.",
    )
