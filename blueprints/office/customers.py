"""Back-office customers: companies in one's scope, their details, group and lifecycle,
their reps, their people's access, and credit notes."""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.common import (
    checked_csrf,
    choice_arg,
    client_ip,
    go,
    is_htmx,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from blueprints.filters import money
from core import access, billing, credit_notes, groups, people, settings
from core import customers as company_service
from core.errors import Refused
from core.models import Company, CustomerGroup, Invoice, User
from core.orders import retrying
from core.pagination import paginate
from extensions import db

from . import bp
from .customers_forms import CompanyForm, CreditNoteForm
from .invoices import form_context, invoice_page_context, payment_form, scoped_invoice
from .people_forms import RepsForm, RolesForm
from .users import checked_form, invitation_link, invite_page, role_choices

STATUSES = {"active": "Active", "inactive": "Inactive"}
NOTES_PER_PAGE = 10


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


def terms_context(company: Company) -> dict:
    """What the company's group-and-terms panel shows (also pushed live)."""
    return {
        "company": company,
        "group": company.group,
        "group_prices": groups.price_count(company.group_id),
    }


def account_context(company: Company, page: int = 1) -> dict:
    """The company's account: balance and credit notes, newest first, a page at a time."""
    return {
        "company": company,
        "summary": billing.balance(company.id, billing.today()),
        "notes": paginate(credit_notes.of_company(company.id), page, NOTES_PER_PAGE),
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
    return context


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


def status_arg() -> str:
    """The `status` filter of the list (active or inactive companies); else a clear 400."""
    return choice_arg("status", STATUSES, "There is no customer status “{value}”.")


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
    """The create or edit page of a company, with the form as typed and its errors."""
    html = render_template("office/customers/form.html", form=form, company=company)
    return html, status


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
        )
        return form_page(form, None)
    form = CompanyForm(groups=groups)
    if not form.validate_on_submit():
        return form_page(form, None, 422)
    actor = current_user._get_current_object()  # the person, not the proxy, becomes a rep
    try:
        company = company_service.create(form.details(), actor=actor, ip=client_ip())
    except Refused as exc:
        db.session.rollback()
        form.refuse(exc)
        return form_page(form, None, 422)
    db.session.commit()
    flash(f"{company.name} created. Invite its people to give them access.", "info")
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
    try:
        changed = company_service.edit(company, form.details(), actor=current_user, ip=client_ip())
    except Refused as exc:
        db.session.rollback()
        form.refuse(exc)
        return form_page(form, scoped_company(company_id), 422)
    db.session.commit()
    if not changed:
        flash("Nothing to change.", "info")
    elif company.group_id != old_group.id:
        flash(
            f"{company.name} moved from {old_group.name} to {company.group.name}: its people "
            "now see that group's prices, promotions and stock.",
            "info",
        )
    else:
        flash(f"{company.name} saved.", "info")
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
        return render(
            "office/customers/_account.html",
            "office/customers/_account.html",
            **account_context(company, page),
        )
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
        "Sales reps saved.",
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
    message = f"{company.name} is inactive: reactivate the company before giving its people access."
    if part is not None:
        return answer(company, part, error=message)
    flash(message, "error")
    return redirect(url_for("office.customer", company_id=company.id))


def person_action(company_id: int, user_id: int, change, notice: str, *, grants=False):
    """A bare POST button (block, unblock, resend, revoke) on one of a company's people.

    `grants`: the action gives access, which an inactive company's people never get.
    """
    company = scoped_company(company_id)
    person = person_of(company, user_id)
    if not access.can_manage_person(current_user, person):
        abort(403, description="You may not manage this person.")
    checked_csrf()
    if grants and not company.is_active:
        return inactive_refusal(company, "people")
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
        "A new invitation was sent to {name}; older links no longer work.",
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
        "The invitation of {name} is revoked: the link no longer works.",
    )


# --- lifecycle: deactivate, reactivate, delete ---------------------------------------------


def lifecycle(company_id: int, change, notice):
    """A bare POST button on the company page: apply, commit, and say what happened."""
    company = scoped_company(company_id)
    checked_csrf()
    name = company.name
    try:
        result = change(company)
    except Refused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        target = url_for("office.customer", company_id=company_id)
    else:
        db.session.commit()
        flash(notice(name, result), "info")
        target = (
            url_for("office.customers")
            if result is None
            else url_for("office.customer", company_id=company_id)
        )
    return go(target, htmx_status=204)


def _people(n: int) -> str:
    """How many people, in words: 1 person, 3 people."""
    return f"{n} {'person' if n == 1 else 'people'}"


@bp.route("/customers/<int:company_id>/deactivate", methods=["POST"])
@permission_required("customers.delete")
def customer_deactivate(company_id: int):
    """Deactivate a company: its people are blocked and signed out everywhere at once."""
    return lifecycle(
        company_id,
        lambda c: company_service.deactivate(c, actor=current_user, ip=client_ip()),
        lambda name, n: f"{name} is inactive: {_people(n)} blocked and signed out.",
    )


@bp.route("/customers/<int:company_id>/reactivate", methods=["POST"])
@permission_required("customers.delete")
def customer_reactivate(company_id: int):
    """Reactivate a company: the people its deactivation blocked may sign in again."""
    return lifecycle(
        company_id,
        lambda c: company_service.reactivate(c, actor=current_user, ip=client_ip()),
        lambda name, n: f"{name} is active again: {_people(n)} unblocked.",
    )


@bp.route("/customers/<int:company_id>/delete", methods=["POST"])
@permission_required("customers.delete")
def customer_delete(company_id: int):
    """Delete a company that never traded, with its people; any other is refused."""
    return lifecycle(
        company_id,
        lambda c: company_service.delete_company(c, actor=current_user, ip=client_ip()),
        lambda name, _: f"{name} was deleted, with its people's accounts.",
    )


# --- credit notes ------------------------------------------------------------------------


def credit_answer(company: Company, form: CreditNoteForm, *, notice: str = "", status: int = 200):
    """After a credit note was posted on the company page: the component (and, on success,
    the account region out of band) for htmx; a redirect or the page otherwise."""
    if is_htmx():
        context = {"company": company, "credit_form": form, "notice": notice}
        html = render_template("office/customers/_credit.html", **context)
        if status == 200 and access.can(current_user, "invoices.view"):
            html += render_template(
                "office/customers/_account.html", **account_context(company), oob=True
            )
        response = make_response(html, status)
        response.vary.add("HX-Request")
        return response
    if status == 200:
        flash(notice, "info")
        return redirect(url_for("office.customer", company_id=company.id))
    context = company_context(company) | {"credit_form": form}
    return render_template("office/customers/show.html", **context), status


def issue_credit(company: Company, form: CreditNoteForm, invoice: Invoice | None):
    """Issue the note (replayed on a deadlock); the refusal lands on the form. None: refused."""
    actor = current_user._get_current_object()  # the person, not the proxy, on the row
    try:
        return retrying(
            lambda: credit_notes.issue(
                company,
                form.value,
                form.reason.data or "",
                invoice=invoice,
                actor=actor,
                ip=client_ip(),
            )
        )
    except Refused as exc:  # retrying has rolled back: nothing changed
        form.refuse(exc)
        return None


def credit_notice(note, invoice: Invoice | None) -> str:
    """What the person reads after issuing a credit note."""
    text = f"Credit note {note.display_number} of {money(note.amount, note.currency)} issued"
    if invoice is None:
        return text + ": it stays to the company's credit."
    return (
        f"{text} against invoice {invoice.display_number}: {money(invoice.balance)} remains open."
    )


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
            form.invoice.errors.append("Choose one of this company's open invoices.")
            return credit_answer(company, form, status=422)
    note = issue_credit(company, form, invoice)
    company = scoped_company(company_id)
    if note is None:
        return credit_answer(company, form, status=422)
    invoice = db.session.get(Invoice, note.invoice_id) if note.invoice_id else None
    return credit_answer(company, credit_form(company), notice=credit_notice(note, invoice))


@bp.route("/invoices/<int:invoice_id>/credit-notes", methods=["POST"])
@permission_required("invoices.edit")
def invoice_credit_note(invoice_id: int):
    """Credit part or all of an invoice's open balance."""
    invoice = scoped_invoice(invoice_id)
    form = CreditNoteForm(fixed_invoice=invoice)
    note = issue_credit(invoice.company, form, invoice) if form.validate_on_submit() else None
    invoice = scoped_invoice(invoice_id)
    ok = note is not None
    notice = credit_notice(note, invoice) if ok else ""
    if is_htmx():
        html = render_template(
            "office/invoices/_credit.html",
            invoice=invoice,
            credit_form=CreditNoteForm(formdata=None, fixed_invoice=invoice) if ok else form,
            notice=notice,
        )
        if ok:
            context = form_context(invoice, payment_form())
            html += render_template("shop/invoices/_account.html", **context, oob=True)
            html += render_template("office/invoices/_payment.html", **context, payment_oob=True)
        response = make_response(html, 200 if ok else 422)
        response.vary.add("HX-Request")
        return response
    if ok:
        flash(notice, "info")
        return redirect(url_for("office.invoice", invoice_id=invoice.id))
    page = render_template(
        "office/invoices/show.html",
        **invoice_page_context(invoice, payment_form(), credit_form=form),
    )
    return page, 422


@bp.app_template_global("credit_notes_of")
def credit_notes_of(invoice: Invoice) -> list:
    """The credit notes set against an invoice (templates of both faces ask only when
    the invoice was credited, so an uncredited invoice costs no statement)."""
    return credit_notes.of_invoice(invoice.id) if invoice.credited_total else []


@bp.app_template_global("invoice_credit_form")
def invoice_credit_form(invoice: Invoice) -> CreditNoteForm:
    """A fresh credit note form for the invoice page (the invoice view does not build one)."""
    return CreditNoteForm(formdata=None, fixed_invoice=invoice)
