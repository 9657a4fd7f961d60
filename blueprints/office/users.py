"""Back-office staff users: list, invite, roles, blocking, invitations and assigned customers."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from blueprints.boundary import attempt
from blueprints.common import (
    checked_csrf,
    choice_arg,
    client_ip,
    invitation_link,
    is_htmx,
    or_404,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from core import access, people, two_factor
from core.models import Company, Invitation, User, company_reps, utcnow
from core.pagination import paginate
from extensions import db

from . import bp
from .people_forms import AssignmentsForm, RolesForm
from .people_pages import checked_form, invite_page, role_choices, role_notes

STATUSES = ("all", "active", "invited", "blocked")
# How each status filter reads: in the select, and (lower case) in the count of the list.
STATUS_LABELS = {
    "all": _l("Every status"),
    "active": _l("Active"),
    "invited": _l("Invited"),
    "blocked": _l("Blocked"),
}
STATUS_WORDS = {"active": _l("active"), "invited": _l("invited"), "blocked": _l("blocked")}


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg(
        "status",
        STATUSES,
        _("Unknown status filter. Choose one of: %(choices)s.", choices=", ".join(STATUSES)),
        default="all",
    )


def load_staff(user_id: int) -> User:
    """A staff person by id; a customer person's id or an unknown one is a 404."""
    person = or_404(db.session.get(User, user_id))
    return or_404(person if person.is_staff else None)


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
        "role_notes": role_notes(offered),
        "locked_roles": locked,
        "assignments_form": assignments_form,
        "assigned": [c for c in person.assigned_companies if c.id in visible_ids],
        "invitations": invitations,
        "has_pending": any(status == "pending" for __, status in invitations),
        "is_self": person.id == current_user.id,
        **extra,
    }


def answer(person: User, *, notice: str | None = None, error: str | None = None):
    """After a change: htmx gets the person's fragment back, a plain form a redirect."""
    if is_htmx():
        return render(
            "office/users/_person.html",
            code=422 if error else 200,
            **person_context(person, notice=notice, error=error),
        )
    flash(error or notice, "error" if error else "info")
    return redirect(url_for("office.user", user_id=person.id))


def run(person: User, change, notice: str):
    """Apply one service call; a refusal is undone and explained."""
    changed = attempt(change)
    if changed.refused:
        return answer(person, error=changed.message)
    return answer(person, notice=notice if changed.value is not False else _("Nothing to change."))


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
        status_labels=STATUS_LABELS,
        status_words=STATUS_WORDS,
        counts=counts,
    )


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
    offered, __ = role_choices(person)
    form, error = checked_form(RolesForm, "roles", [(r.id, r.name) for r in offered])
    if error:
        return answer(person, error=error)
    chosen = [r for r in offered if r.id in set(form.roles.data)]
    return run(
        person,
        lambda: people.set_roles(person, chosen, actor=current_user, ip=client_ip()),
        _("Roles saved.") if chosen else _("Roles removed: this person can no longer sign in."),
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
        _("Assigned customers saved."),
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
        _("Blocked: every session of this person has ended."),
    )


@bp.route("/users/<int:user_id>/unblock", methods=["POST"])
@permission_required("users.manage")
def user_unblock(user_id: int):
    """Let a blocked staff person sign in again."""
    return simple_action(
        user_id,
        lambda p: people.unblock(p, actor=current_user, ip=client_ip()),
        _("Unblocked."),
    )


@bp.route("/users/<int:user_id>/invitation/resend", methods=["POST"])
@permission_required("users.manage")
def user_resend(user_id: int):
    """Mail a new activation link; older links stop working."""
    return simple_action(
        user_id,
        lambda p: people.resend(p, actor=current_user, link=invitation_link, ip=client_ip()),
        _("A new invitation was sent; older links no longer work."),
    )


@bp.route("/users/<int:user_id>/invitation/revoke", methods=["POST"])
@permission_required("users.manage")
def user_revoke(user_id: int):
    """Withdraw a staff person's pending invitation."""
    return simple_action(
        user_id,
        lambda p: people.revoke(p, actor=current_user, ip=client_ip()),
        _("Invitation revoked: the link no longer works."),
    )


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
@permission_required("users.manage")
def user_two_factor_reset(user_id: int):
    """Reset a staff person's second factor (a lost phone): their sessions end."""
    return simple_action(
        user_id,
        lambda p: two_factor.reset(p, actor=current_user, ip=client_ip()),
        _("Two-factor sign-in reset: they set it up again at their next sign-in."),
    )
