"""Storefront invoices: the company's balance, its invoices, one printable invoice, and
the credit notes it was given; each document also as a PDF."""

from flask_babel import gettext as _
from flask_login import current_user

from blueprints.common import choice_arg, or_404, page_arg, permission_required, render
from blueprints.documents import credit_note_document, invoice_document, pdf_answer
from blueprints.fragments.billing import (
    credit_note_context,
    invoice_context,
    list_context,
    load_credit_note,
    load_invoice,
)
from core import billing

from . import bp


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg("status", billing.STATUS_FILTERS, _("There is no invoice status “{value}”."))


@bp.route("/invoices")
@permission_required("shop.invoices")
def invoices():
    """The company's balance and its invoices, newest first, by status."""
    context = list_context(current_user, status=status_arg(), page=page_arg())
    summary = billing.balance(current_user.company_id, context["today"])
    return render("shop/invoices/index.html", "invoices/_table.html", summary=summary, **context)


@bp.route("/invoices/<int:invoice_id>")
@permission_required("shop.invoices")
def invoice(invoice_id: int):
    """One of the company's invoices, as issued and printable, with the payments received."""
    found = or_404(load_invoice(current_user, invoice_id))
    return render("shop/invoices/show.html", **invoice_context(found, current_user))


@bp.route("/invoices/<int:invoice_id>.pdf")
@permission_required("shop.invoices")
def invoice_pdf(invoice_id: int):
    """The invoice as a PDF: the page's figures, to the page's readers."""
    found = or_404(load_invoice(current_user, invoice_id))
    return pdf_answer(invoice_document(invoice_context(found, current_user)))


@bp.route("/credit-notes/<int:note_id>")
@permission_required("shop.invoices")
def credit_note(note_id: int):
    """One of the company's credit notes, as issued."""
    found = or_404(load_credit_note(current_user, note_id))
    return render("shop/invoices/credit_note.html", **credit_note_context(found, current_user))


@bp.route("/credit-notes/<int:note_id>.pdf")
@permission_required("shop.invoices")
def credit_note_pdf(note_id: int):
    """The credit note as a PDF: the page's figures, to the page's readers."""
    found = or_404(load_credit_note(current_user, note_id))
    return pdf_answer(credit_note_document(credit_note_context(found, current_user)))
