"""Back-office customers: companies in one's scope, their reps, and their people's access."""

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.common import (
    client_ip,
    is_htmx,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from blueprints.forms import EmptyForm
from core import access, people
from core.errors import Refused
from core.models import Company, GroupPrice, User
from core.pagination import paginate
from extensions import db

from . import bp
from .people_forms import RepsForm, RolesForm
from .users import checked_form, invitation_link, invite_page, role_choices


def scoped_company(company_id: int) -> Company:
    """A company the signed-in person may see; any other is a 404."""
    company = access.load_company(current_user, company_id)
    if company is None:
        abort(404, description="There is no customer with this number among yours.")
    return company


def person_of(company: Company, user_id: int) -> User:
    """One of the company's people; anyone else (or nobody) is a 404."""
    person = db.session.get(User, user_id)
    if person is None or person.company_id != company.id:
        abort(404, description="This company has no such person.")
    return person


def rep_candidates(company: Company) -> list[User]:
    """Active staff, and whoever serves the company now (so saving never drops them unseen)."""
    stmt = select(User).where(
        User.kind == "staff",
        or_(User.status == "active", User.id.in_([r.id for r in company.reps])),
    )
    return list(db.session.scalars(stmt.order_by(User.name, User.id)))


def reps_context(company: Company, **extra) -> dict:
    """What the sales reps component shows."""
    candidates = rep_candidates(company)
    form = RepsForm(formdata=None, reps=[r.id for r in company.reps])
    form.reps.choices = [(u.id, u.name) for u in candidates]
    notes = {u.id: u.email + ("" if u.status == "active" else f" ({u.status})") for u in candidates}
    return {"company": company, "reps_form": form, "rep_notes": notes, **extra}


def people_context(company: Company, **extra) -> dict:
    """What the company's people component shows, with a roles form per person."""
    members = list(
        db.session.scalars(
            select(User)
            .where(User.company_id == company.id)
            .options(selectinload(User.roles))
            .order_by(User.name, User.id)
        )
    )
    forms = {}
    for person in members:
        offered, locked = role_choices(person)
        form = RolesForm(formdata=None, roles=[r.id for r in person.roles])
        form.roles.choices = [(r.id, r.name) for r in offered]
        forms[person.id] = (form, locked)
    return {
        "company": company,
        "members": members,
        "role_forms": forms,
        "invitations": people.invitation_statuses(members),
        **extra,
    }


def company_context(company: Company) -> dict:
    """The company page: policy summary, reps and people."""
    priced = db.session.scalar(
        select(func.count(GroupPrice.id)).where(GroupPrice.group_id == company.group_id)
    )
    return {
        **reps_context(company),
        **people_context(company),
        "group": company.group,
        "group_prices": priced or 0,
    }


def answer(company: Company, part: str, *, notice: str | None = None, error: str | None = None):
    """After a change: htmx gets the changed component back, a plain form a redirect."""
    if is_htmx():
        context = (reps_context if part == "reps" else people_context)(
            company, notice=notice, error=error
        )
        response = make_response(
            render_template(f"office/customers/_{part}.html", **context), 422 if error else 200
        )
        response.vary.add("HX-Request")
        return response
    flash(error or notice, "error" if error else "info")
    return redirect(url_for("office.customer", company_id=company.id))


def run(company: Company, part: str, change, notice: str):
    """Apply one service call: commit once on success, roll back and explain on refusal."""
    try:
        result = change()
    except Refused as exc:
        db.session.rollback()
        return answer(company, part, error=str(exc))
    db.session.commit()
    return answer(company, part, notice=notice if result is not False else "Nothing to change.")


@bp.route("/customers")
@permission_required("customers.view")
def customers():
    """The customer companies this person may see, searchable by name."""
    q, page = search_arg(), page_arg()
    stmt = access.visible_companies(current_user).options(
        joinedload(Company.group), selectinload(Company.reps)
    )
    if q:
        stmt = stmt.where(Company.name.icontains(q, autoescape=True))
    listing = paginate(stmt.order_by(Company.name, Company.id), page)
    ids = [c.id for c in listing.items]
    counts = dict(
        db.session.execute(
            select(User.company_id, func.count())
            .where(User.company_id.in_(ids))
            .group_by(User.company_id)
        ).all()
    )
    return render(
        "office/customers/index.html",
        "office/customers/_table.html",
        listing=listing,
        q=q,
        counts=counts,
    )


@bp.route("/customers/<int:company_id>")
@permission_required("customers.view")
def customer(company_id: int):
    """One customer company: its group's policy, terms, reps and people."""
    company = scoped_company(company_id)
    return render("office/customers/show.html", **company_context(company))


@bp.route("/customers/<int:company_id>/reps", methods=["POST"])
@permission_required("users.manage")
def customer_reps(company_id: int):
    """Make exactly the checked staff people the company's sales reps."""
    company = scoped_company(company_id)
    candidates = rep_candidates(company)
    form, error = checked_form(RepsForm, "reps", [(u.id, u.name) for u in candidates])
    if error:
        return answer(company, "reps", error=error)
    chosen = [u for u in candidates if u.id in set(form.reps.data)]
    return run(
        company,
        "reps",
        lambda: people.set_reps(company, chosen, actor=current_user, ip=client_ip()),
        "Sales reps saved.",
    )


@bp.route("/customers/<int:company_id>/people/invite", methods=["GET", "POST"])
@permission_required("portal.grant")
@permission_required("customers.view")
def customer_invite(company_id: int):
    """Give a new person of the company portal access: they get an activation link."""
    company = scoped_company(company_id)
    return invite_page(
        "customer",
        company,
        "office/customers/invite.html",
        lambda person: url_for("office.customer", company_id=company.id),
        company=company,
    )


def person_action(company_id: int, user_id: int, change, notice: str):
    """A bare POST button (block, unblock, resend, revoke) on one of a company's people."""
    company = scoped_company(company_id)
    person = person_of(company, user_id)
    if not access.can_manage_person(current_user, person):
        abort(403, description="You may not manage this person.")
    if not EmptyForm().validate_on_submit():
        abort(400, description="The form has expired. Reload the page and try again.")
    return run(company, "people", lambda: change(person), notice.format(name=person.name))


@bp.route("/customers/<int:company_id>/people/<int:user_id>/roles", methods=["POST"])
@permission_required("portal.grant")
@permission_required("customers.view")
def customer_person_roles(company_id: int, user_id: int):
    """Give one of the company's people exactly the checked roles."""
    company = scoped_company(company_id)
    person = person_of(company, user_id)
    offered, _ = role_choices(person)
    form, error = checked_form(RolesForm, "roles", [(r.id, r.name) for r in offered])
    if error:
        return answer(company, "people", error=error)
    chosen = [r for r in offered if r.id in set(form.roles.data)]
    return run(
        company,
        "people",
        lambda: people.set_roles(person, chosen, actor=current_user, ip=client_ip()),
        f"Roles of {person.name} saved."
        if chosen
        else f"{person.name} has no role left and can no longer sign in.",
    )


@bp.route("/customers/<int:company_id>/people/<int:user_id>/block", methods=["POST"])
@permission_required("portal.grant")
@permission_required("customers.view")
def customer_person_block(company_id: int, user_id: int):
    """Block one of the company's people: every session of theirs ends at once."""
    return person_action(
        company_id,
        user_id,
        lambda p: people.block(p, actor=current_user, ip=client_ip()),
        "{name} is blocked: every session of theirs has ended.",
    )


@bp.route("/customers/<int:company_id>/people/<int:user_id>/unblock", methods=["POST"])
@permission_required("portal.grant")
@permission_required("customers.view")
def customer_person_unblock(company_id: int, user_id: int):
    """Let one of the company's people sign in again."""
    return person_action(
        company_id,
        user_id,
        lambda p: people.unblock(p, actor=current_user, ip=client_ip()),
        "{name} is unblocked.",
    )


@bp.route("/customers/<int:company_id>/people/<int:user_id>/invitation/resend", methods=["POST"])
@permission_required("portal.grant")
@permission_required("customers.view")
def customer_person_resend(company_id: int, user_id: int):
    """Mail one of the company's people a new activation link; older links stop working."""
    return person_action(
        company_id,
        user_id,
        lambda p: people.resend(p, actor=current_user, link=invitation_link, ip=client_ip()),
        "A new invitation was sent to {name}; older links no longer work.",
    )


@bp.route("/customers/<int:company_id>/people/<int:user_id>/invitation/revoke", methods=["POST"])
@permission_required("portal.grant")
@permission_required("customers.view")
def customer_person_revoke(company_id: int, user_id: int):
    """Withdraw the pending invitation of one of the company's people."""
    return person_action(
        company_id,
        user_id,
        lambda p: people.revoke(p, actor=current_user, ip=client_ip()),
        "The invitation of {name} is revoked: the link no longer works.",
    )
