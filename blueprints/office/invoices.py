"""Back-office invoices: the scoped list with balances, one invoice, and recording payments;
credit notes as issued; each document also as a PDF."""

from flask import (
    flash,
    redirect,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from blueprints.boundary import attempt
from blueprints.common import (
    choice_arg,
    company_arg,
    is_htmx,
    or_404,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from blueprints.documents import credit_note_document, invoice_document, pdf_answer
from blueprints.filters import money
from blueprints.fragments.billing import (
    account_context,
    credit_note_context,
    invoice_context,
    list_context,
    load_credit_note,
    load_invoice,
)
from core import access, billing, credit_notes
from core.models import Company, Invoice
from extensions import db

from . import bp
from .credit_pages import credit_notice, issue_credit
from .customers_forms import CreditNoteForm
from .invoices_forms import PaymentForm

PAYMENT = "office/invoices/_payment.html"


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg(
        "status", billing.STATUS_FILTERS, _("There is no invoice status “%(value)s”.")
    )


def scoped_invoice(invoice_id: int) -> Invoice:
    """An invoice of a company the signed-in person may see; any other is a 404."""
    return or_404(load_invoice(current_user, invoice_id))


def payment_form() -> PaymentForm:
    """An empty payment form, dated today."""
    return PaymentForm(formdata=None, received_on=billing.today())


def form_context(invoice: Invoice, form: PaymentForm, **extra) -> dict:
    """What the record-payment component shows (with the invoice's live account)."""
    return account_context(invoice, form=form, **extra)


def invoice_page_context(invoice: Invoice, form: PaymentForm, **extra) -> dict:
    """What the invoice page shows: the invoice as printed, with the record-payment form."""
    return invoice_context(invoice, current_user, form=form, **extra)


@bp.route("/invoices")
@permission_required("invoices.view")
def invoices():
    """Invoices of the companies in one's scope, by status, number or company name."""
    context = list_context(
        current_user, status=status_arg(), page=page_arg(), q=search_arg(), company=company_arg()
    )
    companies = db.session.execute(
        access.company_scope(current_user, select(Company.id, Company.name), Company.id).order_by(
            Company.name
        )
    ).all()
    return render(
        "office/invoices/index.html", "invoices/_table.html", companies=companies, **context
    )


@bp.route("/invoices/<int:invoice_id>")
@permission_required("invoices.view")
def invoice(invoice_id: int):
    """One invoice as printed, with its payments and, for finance, a form to record one."""
    found = scoped_invoice(invoice_id)
    return render("office/invoices/show.html", **invoice_page_context(found, payment_form()))


@bp.route("/invoices/<int:invoice_id>.pdf")
@permission_required("invoices.view")
def invoice_pdf(invoice_id: int):
    """The invoice as a PDF: the page's figures, to the page's readers."""
    return pdf_answer(invoice_document(invoice_context(scoped_invoice(invoice_id), current_user)))


@bp.route("/credit-notes/<int:note_id>")
@permission_required("invoices.view")
def credit_note(note_id: int):
    """One credit note of a company in one's scope, as issued."""
    found = or_404(load_credit_note(current_user, note_id))
    return render("office/invoices/credit_note.html", **credit_note_context(found, current_user))


@bp.route("/credit-notes/<int:note_id>.pdf")
@permission_required("invoices.view")
def credit_note_pdf(note_id: int):
    """The credit note as a PDF: the page's figures, to the page's readers."""
    found = or_404(load_credit_note(current_user, note_id))
    return pdf_answer(credit_note_document(credit_note_context(found, current_user)))


def payment_answer(invoice: Invoice, form: PaymentForm, *, notice: str = "", status: int = 200):
    """After a payment was posted: the component for htmx, else the page or a redirect."""
    if is_htmx():
        return render(
            PAYMENT,
            code=status,
            **form_context(invoice, form, notice=notice, with_account=status == 200),
        )
    if status == 200:
        flash(notice, "info")
        return redirect(url_for("office.invoice", invoice_id=invoice.id))
    return render("office/invoices/show.html", code=status, **invoice_page_context(invoice, form))


@bp.route("/invoices/<int:invoice_id>/payments", methods=["POST"])
@permission_required("invoices.edit")
def invoice_payment(invoice_id: int):
    """Record money received against the invoice, in full or in part."""
    found = scoped_invoice(invoice_id)
    form = PaymentForm()
    if not form.validate_on_submit():
        return payment_answer(found, form, status=422)
    actor = current_user._get_current_object()  # the person, not the proxy, on the row
    recorded = attempt(
        lambda: billing.record_payment(
            found,
            form.value,
            form.received_on.data,
            form.method.data,
            form.reference.data or "",
            actor=actor,
        ),
        replay=True,
    )
    if recorded.refused:
        form.refuse(recorded.refusal)
        return payment_answer(scoped_invoice(invoice_id), form, status=422)
    payment = recorded.value
    found = scoped_invoice(invoice_id)
    left = found.balance
    recorded = _("Payment of %(amount)s recorded.", amount=money(payment.amount, found.currency))
    if left > 0:
        rest = _("%(amount)s remains open.", amount=money(left, found.currency))
    else:
        rest = _("The invoice is paid in full.")
    notice = f"{recorded} {rest}"
    return payment_answer(found, payment_form(), notice=notice)


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
        context = form_context(invoice, payment_form())
        return render(
            "office/invoices/_credit.html",
            code=200 if ok else 422,
            # The payment form, out of band, brings the invoice's account with it.
            oob=[(PAYMENT, context | {"with_account": True})] if ok else [],
            invoice=invoice,
            credit_form=CreditNoteForm(formdata=None, fixed_invoice=invoice) if ok else form,
            notice=notice,
        )
    if ok:
        flash(notice, "info")
        return redirect(url_for("office.invoice", invoice_id=invoice.id))
    return render(
        "office/invoices/show.html",
        code=422,
        **invoice_page_context(invoice, payment_form(), credit_form=form),
    )


@bp.app_template_global("credit_notes_of")
def credit_notes_of(invoice: Invoice) -> list:
    """The credit notes set against an invoice (templates of both faces ask only when
    the invoice was credited, so an uncredited invoice costs no statement)."""
    return credit_notes.of_invoice(invoice.id) if invoice.credited_total else []


@bp.app_template_global("invoice_credit_form")
def invoice_credit_form(invoice: Invoice) -> CreditNoteForm:
    """A fresh credit note form for the invoice page (the invoice view does not build one)."""
    return CreditNoteForm(formdata=None, fixed_invoice=invoice)
