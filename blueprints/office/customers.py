"""Back-office customers: companies in one's scope, their details, group and lifecycle,
their reps, their people's access, and credit notes."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.boundary import attempt
from blueprints.common import (
    checked_csrf,
    choice_arg,
    client_ip,
    go,
    invitation_link,
    is_htmx,
    or_404,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from blueprints.fragments.customers import ACCOUNT, account_context, terms_context
from blueprints.fragments.delivery import book_context
from blueprints.fragments.orders import second_approvals_context
from core import access, billing, credit_notes, i18n, people, settings, two_factor
from core import customers as company_service
from core.models import Company, CustomerGroup, Invoice, User
from core.pagination import paginate
from extensions import db

from . import bp
from .acting_pages import acting_context
from .credit_pages import credit_notice, issue_credit
from .customers_forms import CompanyForm, CreditNoteForm
from .people_forms import RepsForm, RolesForm
from .people_pages import checked_form, invite_page, role_choices

STATUSES = {"active": _l("Active"), "inactive": _l("Inactive")}
PERSON_STATUSES = {"active": _l("active"), "invited": _l("invited"), "blocked": _l("blocked")}


def scoped_company(company_id: int) -> Company:
    """A company the signed-in person may see; any other is a 404."""
    return or_404(access.load_company(current_user, company_id))


def person_of(company: Company, user_id: int) -> User:
    """One of the company's people; anyone else (or nobody) is a 404."""
    return or_404(access.load_person(current_user, company.id, user_id))


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
    notes = {
        u.id: u.email
        if u.status == "active"
        else _(
            "%(email)s (%(status)s)",
            email=u.email,
            status=PERSON_STATUSES.get(u.status, u.status),
        )
        for u in candidates
    }
    return {"company": company, "reps_form": form, "rep_notes": notes, **extra}


def people_context(company: Company, **extra) -> dict:
    """What the company's people component shows, with a roles form per person."""
    members = list(
        db.session.scalars(
            access.visible_people(current_user, company.id)
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


def credit_form(company: Company, *, posted: bool = False) -> CreditNoteForm:
    """The company page's credit note form (empty, or as posted), offering its open invoices."""
    invoices = credit_notes.open_invoices(company.id)
    if posted:
        return CreditNoteForm(invoices=invoices)
    return CreditNoteForm(formdata=None, invoices=invoices)


def company_context(company: Company) -> dict:
    """The company page: policy summary, terms, account, reps, people and lifecycle."""
    context = {**reps_context(company), **people_context(company), **terms_context(company)}
    if access.can(current_user, "invoices.view"):
        context |= account_context(company)
    if access.can(current_user, "invoices.edit"):
        context["credit_form"] = credit_form(company)
    if access.can(current_user, "customers.delete"):
        history = company_service.history(company)
        context["history"] = company_service.describe(history) if history else ""
    if access.can(current_user, "orders.view"):
        context["second"] = second_approvals_context(current_user, company)
    context |= book_context(company, current_user)  # the delivery addresses
    context |= acting_context(company)  # acting for its people, viewing as them
    return context


def answer(company: Company, part: str, *, notice: str | None = None, error: str | None = None):
    """After a change: htmx gets the changed component back, a plain form a redirect."""
    if is_htmx():
        context = (reps_context if part == "reps" else people_context)(
            company, notice=notice, error=error
        )
        return render(f"office/customers/_{part}.html", code=422 if error else 200, **context)
    flash(error or notice, "error" if error else "info")
    return redirect(url_for("office.customer", company_id=company.id))


def run(company: Company, part: str, change, notice: str):
    """Apply one service call; a refusal is undone and explained."""
    changed = attempt(change)
    if changed.refused:
        return answer(company, part, error=changed.message)
    notice = notice if changed.value is not False else _("Nothing to change.")
    return answer(company, part, notice=notice)


def status_arg() -> str:
    """The `status` filter of the list (active or inactive companies); else a clear 400."""
    return choice_arg("status", STATUSES, _("There is no customer status “{value}”."))


@bp.route("/customers")
@permission_required("customers.view")
def customers():
    """The customer companies this person may see, searchable by name, active or not."""
    q, page, status = search_arg(), page_arg(), status_arg()
    stmt = access.visible_companies(current_user).options(
        joinedload(Company.group), selectinload(Company.reps)
    )
    if q:
        stmt = stmt.where(Company.name.icontains(q, autoescape=True))
    if status:
        stmt = stmt.where(Company.is_active.is_(status == "active"))
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
        status=status,
        statuses=STATUSES,
        counts=counts,
    )


def all_groups() -> list[CustomerGroup]:
    """Every customer group, by name (a company may be put in any of them)."""
    return list(db.session.scalars(select(CustomerGroup).order_by(CustomerGroup.name)))


def form_page(form: CompanyForm, company: Company | None, status: int = 200):
    """The create or edit page of a company, with the form as typed and its errors, and
    who at the company may give its approvals (the approval limit needs two)."""
    deciders = company_service.decision_makers(company) if company is not None else None
    return render(
        "office/customers/form.html", form=form, company=company, deciders=deciders, code=status
    )


def limit_warning(company: Company) -> str | None:
    """What a limit means for a company with too few decision-makers to approve twice."""
    if company.approval_limit is None:
        return None
    deciders = company_service.decision_makers(company)
    if not deciders.short:
        return None
    who = ", ".join(p.name for p in deciders.people) or _("none yet")
    return _(
        "%(name)s has fewer than two decision-makers (active: %(who)s). Orders and "
        "quote acceptances above its approval limit of %(limit)s "
        "will wait at “1 of 2”: invite a second decision-maker, or give the second approval "
        "from Orders, Waiting for a second approval (staff who may move orders).",
        name=company.name,
        who=who,
        limit=i18n.format_money(company.approval_limit),
    )


@bp.route("/customers/new", methods=["GET", "POST"])
@permission_required("customers.edit")
def customer_create():
    """Create a customer company: its group, contact details and terms."""
    groups = all_groups()
    if request.method == "GET":
        # No group is preselected: which offer a new customer gets is a choice to make.
        form = CompanyForm(
            formdata=None,
            groups=groups,
            payment_terms_days=settings.payment_terms_days(),
            manages_own_users=True,
            country=settings.vat()[0],  # most customers are the seller's neighbours
        )
        return form_page(form, None)
    form = CompanyForm(groups=groups)
    if not form.validate_on_submit():
        return form_page(form, None, 422)
    actor = current_user._get_current_object()  # the person, not the proxy, becomes a rep
    created = attempt(lambda: company_service.create(form.details(), actor=actor, ip=client_ip()))
    if created.refused:
        form.refuse(created.refusal)
        return form_page(form, None, 422)
    company = created.value
    flash(_("%(name)s created. Invite its people to give them access.", name=company.name), "info")
    warning = limit_warning(company)
    if warning:
        flash(warning, "warning")
    return redirect(url_for("office.customer", company_id=company.id))


@bp.route("/customers/<int:company_id>/edit", methods=["GET", "POST"])
@permission_required("customers.edit")
def customer_edit(company_id: int):
    """Change a company's details, terms or group (its people's open pages follow live)."""
    company = scoped_company(company_id)
    groups = all_groups()
    if request.method == "GET":
        form = CompanyForm(formdata=None, obj=company, groups=groups)
        form.approval_limit.data = (
            f"{company.approval_limit:.2f}" if company.approval_limit is not None else ""
        )
        return form_page(form, company)
    form = CompanyForm(groups=groups)
    if not form.validate_on_submit():
        return form_page(form, company, 422)
    old_group = company.group
    edited = attempt(
        lambda: company_service.edit(company, form.details(), actor=current_user, ip=client_ip())
    )
    if edited.refused:
        form.refuse(edited.refusal)
        return form_page(form, scoped_company(company_id), 422)
    if not edited.value:
        flash(_("Nothing to change."), "info")
    elif company.group_id != old_group.id:
        flash(
            _(
                "%(name)s moved from %(old)s to %(new)s: its people "
                "now see that group's prices, promotions and stock.",
                name=company.name,
                old=old_group.name,
                new=company.group.name,
            ),
            "info",
        )
    else:
        flash(_("%(name)s saved.", name=company.name), "info")
    warning = limit_warning(company)
    if warning:
        flash(warning, "warning")
    return redirect(url_for("office.customer", company_id=company.id))


@bp.route("/customers/<int:company_id>")
@permission_required("customers.view")
def customer(company_id: int):
    """One customer company: its group's policy, terms, account, reps and people."""
    company = scoped_company(company_id)
    return render("office/customers/show.html", **company_context(company))


@bp.route("/customers/<int:company_id>/account")
@permission_required("invoices.view")
@permission_required("customers.view")
def customer_account(company_id: int):
    """The company's balance and credit notes (a live list: it re-fetches itself here)."""
    company = scoped_company(company_id)
    page = page_arg()
    if is_htmx():
        return render(ACCOUNT, **account_context(company, page))
    context = company_context(company) | account_context(company, page)
    return render("office/customers/show.html", **context)


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
        _("Sales reps saved."),
    )


@bp.route("/customers/<int:company_id>/people/invite", methods=["GET", "POST"])
@permission_required("portal.grant")
@permission_required("customers.view")
def customer_invite(company_id: int):
    """Give a new person of the company portal access: they get an activation link."""
    company = scoped_company(company_id)
    if not company.is_active:
        return inactive_refusal(company)
    return invite_page(
        "customer",
        company,
        "office/customers/invite.html",
        lambda person: url_for("office.customer", company_id=company.id),
        company=company,
    )


def inactive_refusal(company: Company, part: str | None = None):
    """Nobody of an inactive company gets access: say so, and change nothing."""
    message = _(
        "%(name)s is inactive: reactivate the company before giving its people access.",
        name=company.name,
    )
    if part is not None:
        return answer(company, part, error=message)
    flash(message, "error")
    return redirect(url_for("office.customer", company_id=company.id))


def person_action(company_id: int, user_id: int, change, notice, *, grants=False):
    """A bare POST button (block, unblock, resend, revoke) on one of a company's people.

    `notice(name)`: what to say once done. `grants`: the action gives access, which an
    inactive company's people never get.
    """
    company = scoped_company(company_id)
    person = person_of(company, user_id)
    if not access.can_manage_person(current_user, person):
        abort(403)
    checked_csrf()
    if grants and not company.is_active:
        return inactive_refusal(company, "people")
    return run(company, "people", lambda: change(person), notice(person.name))


@bp.route("/customers/<int:company_id>/people/<int:user_id>/roles", methods=["POST"])
@permission_required("portal.grant")
@permission_required("customers.view")
def customer_person_roles(company_id: int, user_id: int):
    """Give one of the company's people exactly the checked roles."""
    company = scoped_company(company_id)
    person = person_of(company, user_id)
    offered, __ = role_choices(person)
    form, error = checked_form(RolesForm, "roles", [(r.id, r.name) for r in offered])
    if error:
        return answer(company, "people", error=error)
    chosen = [r for r in offered if r.id in set(form.roles.data)]
    return run(
        company,
        "people",
        lambda: people.set_roles(person, chosen, actor=current_user, ip=client_ip()),
        _("Roles of %(name)s saved.", name=person.name)
        if chosen
        else _("%(name)s has no role left and can no longer sign in.", name=person.name),
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
        lambda name: _("%(name)s is blocked: every session of theirs has ended.", name=name),
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
        lambda name: _("%(name)s is unblocked.", name=name),
        grants=True,
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
        lambda name: _(
            "A new invitation was sent to %(name)s; older links no longer work.", name=name
        ),
        grants=True,
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
        lambda name: _(
            "The invitation of %(name)s is revoked: the link no longer works.", name=name
        ),
    )


@bp.route("/customers/<int:company_id>/people/<int:user_id>/two-factor/reset", methods=["POST"])
@permission_required("users.manage")
@permission_required("customers.view")
def customer_person_two_factor_reset(company_id: int, user_id: int):
    """Reset the second factor of one of the company's people (a lost phone)."""
    return person_action(
        company_id,
        user_id,
        lambda p: two_factor.reset(p, actor=current_user, ip=client_ip()),
        lambda name: _(
            "The two-factor sign-in of %(name)s is reset: their sessions have ended.", name=name
        ),
    )


# --- lifecycle: deactivate, reactivate, delete ---------------------------------------------


def lifecycle(company_id: int, change, notice):
    """A bare POST button on the company page: apply it and say what happened."""
    company = scoped_company(company_id)
    checked_csrf()
    name = company.name
    changed = attempt(lambda: change(company))
    if changed.refused:
        flash(changed.message, "error")
        target = url_for("office.customer", company_id=company_id)
    else:
        flash(notice(name, changed.value), "info")
        target = (
            url_for("office.customers")
            if changed.value is None
            else url_for("office.customer", company_id=company_id)
        )
    return go(target, htmx_status=204)


@bp.route("/customers/<int:company_id>/deactivate", methods=["POST"])
@permission_required("customers.delete")
def customer_deactivate(company_id: int):
    """Deactivate a company: its people are blocked and signed out everywhere at once."""
    return lifecycle(
        company_id,
        lambda c: company_service.deactivate(c, actor=current_user, ip=client_ip()),
        lambda name, n: ngettext(
            "%(name)s is inactive: %(num)d person blocked and signed out.",
            "%(name)s is inactive: %(num)d people blocked and signed out.",
            n,
            name=name,
        ),
    )


@bp.route("/customers/<int:company_id>/reactivate", methods=["POST"])
@permission_required("customers.delete")
def customer_reactivate(company_id: int):
    """Reactivate a company: the people its deactivation blocked may sign in again."""
    return lifecycle(
        company_id,
        lambda c: company_service.reactivate(c, actor=current_user, ip=client_ip()),
        lambda name, n: ngettext(
            "%(name)s is active again: %(num)d person unblocked.",
            "%(name)s is active again: %(num)d people unblocked.",
            n,
            name=name,
        ),
    )


@bp.route("/customers/<int:company_id>/delete", methods=["POST"])
@permission_required("customers.delete")
def customer_delete(company_id: int):
    """Delete a company that never traded, with its people; any other is refused."""
    return lifecycle(
        company_id,
        lambda c: company_service.delete_company(c, actor=current_user, ip=client_ip()),
        lambda name, __: _("%(name)s was deleted, with its people's accounts.", name=name),
    )


# --- credit notes ------------------------------------------------------------------------


def credit_answer(company: Company, form: CreditNoteForm, *, notice: str = "", status: int = 200):
    """After a credit note was posted on the company page: the component (and, on success,
    the account region out of band) for htmx; a redirect or the page otherwise."""
    if is_htmx():
        account = status == 200 and access.can(current_user, "invoices.view")
        return render(
            "office/customers/_credit.html",
            code=status,
            oob=[(ACCOUNT, account_context(company))] if account else [],
            company=company,
            credit_form=form,
            notice=notice,
        )
    if status == 200:
        flash(notice, "info")
        return redirect(url_for("office.customer", company_id=company.id))
    context = company_context(company) | {"credit_form": form}
    return render("office/customers/show.html", code=status, **context)


@bp.route("/customers/<int:company_id>/credit-notes", methods=["POST"])
@permission_required("invoices.edit")
@permission_required("customers.view")
def customer_credit_note(company_id: int):
    """Credit the company, on its account or against one of its open invoices."""
    company = scoped_company(company_id)
    form = credit_form(company, posted=True)
    if not form.validate_on_submit():
        return credit_answer(company, form, status=422)
    invoice = None
    if form.invoice.data is not None:
        invoice = db.session.scalar(
            billing.visible_invoices(current_user).where(
                Invoice.id == form.invoice.data, Invoice.company_id == company.id
            )
        )
        if invoice is None:
            form.invoice.errors.append(_("Choose one of this company's open invoices."))
            return credit_answer(company, form, status=422)
    note = issue_credit(company, form, invoice)
    company = scoped_company(company_id)
    if note is None:
        return credit_answer(company, form, status=422)
    invoice = db.session.get(Invoice, note.invoice_id) if note.invoice_id else None
    return credit_answer(company, credit_form(company), notice=credit_notice(note, invoice))
