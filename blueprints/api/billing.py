"""Invoices, payments and credit notes through the API, through core.billing and
core.credit_notes as the pages do: customer people with `shop.invoices` read their
company's, staff with `invoices.view` their customers'; staff with `invoices.edit` record
payments (with an Idempotency-Key, safe to retry) and issue credit notes.
"""

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.boundary import attempt
from blueprints.common import client_ip
from blueprints.documents import invoice_document, pdf_answer
from blueprints.fragments.billing import invoice_context, load_invoice
from core import access, billing, credit_notes
from core.models import CreditNote, Invoice

from . import bp
from .guard import person, reader_route, staff_route
from .idempotency import idempotent
from .paging import PageArgs, after_id, listed, page_schema
from .present import credit_note as credit_note_of
from .present import invoice as invoice_of
from .present import invoice_summary, payment
from .problems import not_found, refused
from .schemas import (
    CreditNoteNew,
    CreditNoteSchema,
    InvoiceListArgs,
    InvoiceSchema,
    InvoiceSummarySchema,
    PaymentNew,
    PaymentSchema,
)

InvoicePage = page_schema(InvoiceSummarySchema, "InvoicePage")
CreditNotePage = page_schema(CreditNoteSchema, "CreditNotePage")


class InvoiceQuery(InvoiceListArgs, PageArgs):
    pass


def own_invoice(invoice_id: int) -> Invoice:
    found = load_invoice(person(), invoice_id)
    if found is None:
        raise not_found()
    return found


@bp.route("/invoices")
@reader_route("invoices")
@bp.arguments(InvoiceQuery, location="query")
@bp.response(200, InvoicePage)
@bp.doc(tags=["Invoices"])
def invoices_list(args):
    """The invoices you may see, newest first, by status."""
    stmt = billing.visible_invoices(person()).options(joinedload(Invoice.company))
    if args["status"]:
        stmt = stmt.where(billing.status_condition(args["status"], billing.today()))
    if args["company_id"] is not None:
        stmt = stmt.where(Invoice.company_id == args["company_id"])
    found, cursor = after_id(stmt, Invoice.id, args)
    return listed([invoice_summary(i) for i in found], cursor)


@bp.route("/invoices/<int:invoice_id>")
@reader_route("invoices")
@bp.response(200, InvoiceSchema)
@bp.doc(tags=["Invoices"])
def invoice(invoice_id: int):
    """One invoice as issued, with its payments and what is still owed."""
    return invoice_of(own_invoice(invoice_id))


@bp.route("/invoices/<int:invoice_id>.pdf")
@reader_route("invoices")
@bp.response(200, content_type="application/pdf")
@bp.doc(tags=["Invoices"])
def invoice_pdf(invoice_id: int):
    """The invoice as a PDF: the page's document, to the page's readers."""
    found = own_invoice(invoice_id)
    return pdf_answer(invoice_document(invoice_context(found, person())))


@bp.route("/invoices/<int:invoice_id>/payments", methods=["POST"])
@staff_route("invoices.edit")
@idempotent
@bp.arguments(PaymentNew)
@bp.response(201, PaymentSchema)
@bp.doc(tags=["Invoices"])
def payment_record(body, invoice_id: int):
    """Record money received against an invoice, never above its balance. Send an
    `Idempotency-Key` so that a retry never records the payment twice."""
    user = person()
    found = own_invoice(invoice_id)
    recorded = attempt(
        lambda: billing.record_payment(
            found,
            body["amount"],
            body["received_on"],
            body["method"],
            body["reference"],
            actor=user,
        ),
        replay=True,
    )
    if recorded.refused:
        raise refused(recorded.refusal)
    location = url_for("api.invoice", invoice_id=invoice_id)
    return payment(recorded.value), 201, {"Location": location}


@bp.route("/credit-notes")
@staff_route("invoices.view")
@bp.arguments(PageArgs, location="query")
@bp.response(200, CreditNotePage)
@bp.doc(tags=["Invoices"])
def credit_notes_list(args):
    """Credit notes of your customers, newest first."""
    stmt = access.company_scope(person(), select(CreditNote), CreditNote.company_id).options(
        joinedload(CreditNote.company)
    )
    found, cursor = after_id(stmt, CreditNote.id, args)
    return listed([credit_note_of(n) for n in found], cursor)


@bp.route("/invoices/<int:invoice_id>/credit-notes", methods=["POST"])
@staff_route("invoices.edit")
@bp.arguments(CreditNoteNew)
@bp.response(201, CreditNoteSchema)
@bp.doc(tags=["Invoices"])
def credit_note_issue(body, invoice_id: int):
    """Credit the invoice's company against this invoice (at most its open balance)."""
    user = person()
    found = own_invoice(invoice_id)
    issued = attempt(
        lambda: credit_notes.issue(
            found.company,
            body["amount"],
            body["reason"],
            invoice=found,
            actor=user,
            ip=client_ip(),
        ),
        replay=True,
    )
    if issued.refused:
        raise refused(issued.refusal)
    return credit_note_of(issued.value), 201
