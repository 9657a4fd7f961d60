"""Back-office invoices: the scoped list with balances, one invoice, and recording payments."""

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from blueprints.common import choice_arg, is_htmx, page_arg, permission_required, render, search_arg
from blueprints.filters import money
from core import access, billing
from core.errors import Refused
from core.models import Company, Invoice, Payment
from core.orders import retrying
from core.pagination import paginate
from extensions import db

from . import bp
from .invoices_forms import PaymentForm

PER_PAGE = 25


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg("status", billing.STATUS_FILTERS, "There is no invoice status “{value}”.")


def company_arg(malformed: str = "The company filter is a company number.") -> Company | None:
    """The `company` parameter: one of the person's companies, a 404 for any other."""
    raw = request.args.get("company", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        abort(400, description=malformed)
    company = access.load_company(current_user, int(raw))
    if company is None:
        abort(404, description="There is no customer with this number among yours.")
    return company


def order_link(order) -> str:
    """The back-office page of the invoice's order."""
    return url_for("office.order", order_id=order.id)


def scoped_invoice(invoice_id: int) -> Invoice:
    """An invoice of a company the signed-in person may see; any other is a 404."""
    invoice = db.session.scalar(
        billing.visible_invoices(current_user)
        .where(Invoice.id == invoice_id)
        .options(
            joinedload(Invoice.company),
            joinedload(Invoice.order),
            selectinload(Invoice.lines),
            selectinload(Invoice.payments).joinedload(Payment.recorded_by),
        )
    )
    if invoice is None:
        abort(404, description="There is no invoice with this number among yours.")
    return invoice


def payment_form() -> PaymentForm:
    """An empty payment form, dated today."""
    return PaymentForm(formdata=None, received_on=billing.today())


def form_context(invoice: Invoice, form: PaymentForm, **extra) -> dict:
    """What the record-payment component shows."""
    return {
        "invoice": invoice,
        "form": form,
        "today": billing.today(),
        "methods": billing.PAYMENT_METHODS,
        **extra,
    }


def invoice_page_context(invoice: Invoice, form: PaymentForm, **extra) -> dict:
    """What the invoice page shows: the invoice as printed, with the record-payment form."""
    return form_context(
        invoice, form, seller=billing.seller_details(), order_link=order_link, **extra
    )


@bp.route("/invoices")
@permission_required("invoices.view")
def invoices():
    """Invoices of the companies in one's scope, by status, number or company name."""
    q, page, status, company = search_arg(), page_arg(), status_arg(), company_arg()
    today = billing.today()
    stmt = (
        billing.visible_invoices(current_user)
        .join(Invoice.company)
        .options(contains_eager(Invoice.company), joinedload(Invoice.order))
    )
    if company is not None:
        stmt = stmt.where(Invoice.company_id == company.id)
    if status:
        stmt = stmt.where(billing.status_condition(status, today))
    if q:
        stmt = stmt.where(billing.search_condition(q))
    listing = paginate(
        stmt.order_by(Invoice.issued_at.desc(), Invoice.number.desc()), page, PER_PAGE
    )
    companies = db.session.execute(
        access.company_scope(current_user, select(Company.id, Company.name), Company.id).order_by(
            Company.name
        )
    ).all()
    return render(
        "office/invoices/index.html",
        "office/invoices/_table.html",
        listing=listing,
        q=q,
        status=status,
        company=company,
        companies=companies,
        summary=billing.balance(company.id, today) if company is not None else None,
        statuses=billing.STATUS_FILTERS,
        today=today,
        order_link=order_link,
    )


@bp.route("/invoices/<int:invoice_id>")
@permission_required("invoices.view")
def invoice(invoice_id: int):
    """One invoice as printed, with its payments and, for finance, a form to record one."""
    found = scoped_invoice(invoice_id)
    return render("office/invoices/show.html", **invoice_page_context(found, payment_form()))


def payment_answer(invoice: Invoice, form: PaymentForm, *, notice: str = "", status: int = 200):
    """After a payment was posted: the component for htmx, else the page or a redirect."""
    if is_htmx():
        html = render_template(
            "office/invoices/_payment.html",
            **form_context(invoice, form, notice=notice, oob=status == 200),
        )
        response = make_response(html, status)
        response.vary.add("HX-Request")
        return response
    if status == 200:
        flash(notice, "info")
        return redirect(url_for("office.invoice", invoice_id=invoice.id))
    page = render_template("office/invoices/show.html", **invoice_page_context(invoice, form))
    return page, status


@bp.route("/invoices/<int:invoice_id>/payments", methods=["POST"])
@permission_required("invoices.edit")
def invoice_payment(invoice_id: int):
    """Record money received against the invoice, in full or in part."""
    found = scoped_invoice(invoice_id)
    form = PaymentForm()
    if not form.validate_on_submit():
        return payment_answer(found, form, status=422)
    actor = current_user._get_current_object()  # the person, not the proxy, on the row
    try:
        payment = retrying(
            lambda: billing.record_payment(
                found,
                form.value,
                form.received_on.data,
                form.method.data,
                form.reference.data or "",
                actor=actor,
            )
        )
    except Refused as exc:  # retrying has rolled back: nothing changed
        form.refuse(exc)
        return payment_answer(scoped_invoice(invoice_id), form, status=422)
    found = scoped_invoice(invoice_id)
    left = found.balance
    notice = f"Payment of {money(payment.amount, found.currency)} recorded. " + (
        f"{money(left, found.currency)} remains open."
        if left > 0
        else "The invoice is paid in full."
    )
    return payment_answer(found, payment_form(), notice=notice)
