"""Storefront: a company's own people, managed by its decision-makers."""

from collections.abc import Callable, Iterable

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from blueprints.boundary import attempt
from blueprints.common import (
    client_ip,
    invitation_link,
    is_htmx,
    or_404,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from blueprints.forms import EmptyForm
from core import access, people, settings
from core.models import Invitation, Role, User, utcnow
from core.pagination import paginate
from extensions import db

from . import bp
from .users_forms import InviteForm, RoleChoiceForm

PER_PAGE = 25


def grantable_roles() -> list[Role]:
    """Customer roles the signed-in person may give: never above their own rights."""
    roles = db.session.scalars(select(Role).where(Role.scope == "customer").order_by(Role.name))
    return [r for r in roles if access.may_grant_role(current_user, r, "customer")]


def customer_role(role_id: int | None) -> Role | None:
    """A customer role by id; whether this person may give it is for core.people to say."""
    if not role_id:
        return None
    return db.session.scalar(select(Role).where(Role.id == role_id, Role.scope == "customer"))


def latest_invitations(persons: Iterable[User]) -> dict[int, Invitation]:
    """The newest invitation of each invited person in `persons`, in one statement."""
    ids = [p.id for p in persons if p.status == "invited"]
    if not ids:
        return {}
    found = db.session.scalars(
        select(Invitation)
        .where(Invitation.user_id.in_(ids))
        .order_by(Invitation.created_at, Invitation.id)
    )
    return {invitation.user_id: invitation for invitation in found}


def row_context(persons: Iterable[User]) -> dict:
    """What `_person.html` needs besides the person: links' states and the roles to offer."""
    persons = list(persons)
    return {
        "invitations": latest_invitations(persons),
        "now": utcnow(),
        "roles": grantable_roles(),
    }


def colleague(user_id: int) -> User:
    """One person of the viewer's own company; anyone else's is simply not found."""
    return or_404(access.load_person(current_user, current_user.company_id, user_id))


def answer(person: User, *, notice: str = "", error: str = ""):
    """The outcome of one action on a person, for htmx or for a plain form.

    htmx gets the person's row back (422 with the reason when refused, which
    base.html swaps); a plain form gets the message flashed over the list.
    """
    if is_htmx():
        return render(
            "shop/users/_person.html",
            code=422 if error else 200,
            person=person,
            notice=notice,
            error=error,
            **row_context([person]),
        )
    flash(error or notice, "error" if error else "info")
    return redirect(url_for("shop.users"))


def act(person: User, change: Callable[[], object], notice: Callable[[], str]):
    """Run one service call; a refusal is undone and said."""
    if not EmptyForm().validate_on_submit():
        abort(400, description=_("The form was not sent correctly. Reload the page and try again."))
    changed = attempt(change)
    if changed.refused:
        return answer(person, error=changed.message)
    return answer(person, notice=notice())


@bp.route("/users")
@permission_required("shop.users")
def users():
    """The people of the viewer's own company, searchable by name or email."""
    q, page = search_arg(), page_arg()
    stmt = (
        access.visible_people(current_user, current_user.company_id)
        .options(selectinload(User.roles))
        .order_by(User.name, User.id)
    )
    if q:
        stmt = stmt.where(
            or_(User.name.icontains(q, autoescape=True), User.email.icontains(q, autoescape=True))
        )
    listing = paginate(stmt, page, PER_PAGE)
    return render(
        "shop/users/index.html",
        "shop/users/_people.html",
        listing=listing,
        q=q,
        **row_context(listing.items),
    )


@bp.route("/users/invite", methods=["GET", "POST"])
@permission_required("shop.users")
def user_invite():
    """Invite a colleague, who receives a single-use link to choose a password."""
    roles = grantable_roles()
    form = InviteForm()
    form.role.choices = [(r.id, r.name) for r in roles]
    refused = ""
    if form.validate_on_submit():
        chosen = customer_role(form.role.data)
        invited = attempt(
            lambda: people.invite(
                email=form.email.data,
                name=form.name.data,
                kind="customer",
                # Never from the form: one may only invite into one's own company.
                company=current_user.company,
                chosen_roles=[chosen] if chosen else [],
                actor=current_user,
                link=invitation_link,
                ip=client_ip(),
            )
        )
        if not invited.refused:
            hours = settings.invitation_hours()
            flash(
                _(
                    "Invitation sent to %(email)s. The link works once, for %(hours)s hours.",
                    email=invited.value.email,
                    hours=hours,
                ),
                "info",
            )
            return redirect(url_for("shop.users"))
        refused = invited.message
    status = 422 if refused or form.errors else 200
    return render("shop/users/invite.html", form=form, roles=roles, refused=refused, code=status)


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@permission_required("shop.users")
def user_roles(user_id: int):
    """Give a colleague another role, within the giver's own rights."""
    person = colleague(user_id)
    form = RoleChoiceForm()
    if not form.validate_on_submit():
        return answer(person, error=_("Choose one of the roles offered."))
    chosen = customer_role(form.role.data)
    if chosen is None:
        return answer(person, error=_("Choose one of the roles offered."))
    return act(
        person,
        lambda: people.set_roles(person, [chosen], actor=current_user, ip=client_ip()),
        lambda: _("%(name)s now has the role “%(role)s”.", name=person.name, role=chosen.name),
    )


@bp.route("/users/<int:user_id>/block", methods=["POST"])
@permission_required("shop.users")
def user_block(user_id: int):
    """Block a colleague: every session of theirs ends at once."""
    person = colleague(user_id)
    return act(
        person,
        lambda: people.block(person, actor=current_user, ip=client_ip()),
        lambda: _("%(name)s is blocked and signed out everywhere.", name=person.name),
    )


@bp.route("/users/<int:user_id>/unblock", methods=["POST"])
@permission_required("shop.users")
def user_unblock(user_id: int):
    """Let a blocked colleague in again."""
    person = colleague(user_id)
    return act(
        person,
        lambda: people.unblock(person, actor=current_user, ip=client_ip()),
        lambda: (
            _("%(name)s can sign in again.", name=person.name)
            if person.status == "active"
            # Never activated: blocking withdrew their link, so they need a new one.
            else _("%(name)s is unblocked. Send them a new invitation link.", name=person.name)
        ),
    )


@bp.route("/users/<int:user_id>/invitation/resend", methods=["POST"])
@permission_required("shop.users")
def user_resend(user_id: int):
    """Mail a new activation link; every older link stops working."""
    person = colleague(user_id)
    return act(
        person,
        lambda: people.resend(person, actor=current_user, link=invitation_link, ip=client_ip()),
        lambda: _(
            "A new link is on its way to %(email)s; older links no longer work.",
            email=person.email,
        ),
    )


@bp.route("/users/<int:user_id>/invitation/revoke", methods=["POST"])
@permission_required("shop.users")
def user_revoke(user_id: int):
    """Withdraw a pending invitation: its link stops working."""
    person = colleague(user_id)
    return act(
        person,
        lambda: people.revoke(person, actor=current_user, ip=client_ip()),
        lambda: _(
            "The invitation of %(email)s is withdrawn; its link no longer works.",
            email=person.email,
        ),
    )
