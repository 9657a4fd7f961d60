"""Live regions of billing, with the invoice document's context for both faces.

- `invoice-<id>`: where one invoice stands (status, paid, balance due, payments), on the
  invoice page of both faces. Rendered through the viewer's own scope: an invoice the
  viewer may not see renders as nothing at all.
- `balance`: the storefront summary of the viewer's own company.
- `invoices-table` (office) and `shop-invoices` (storefront): lists, told to re-fetch
  themselves through their scoped views.
"""

import re

from flask import render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from core import access, billing, tax
from core.events import Event
from core.models import CreditNote, Invoice, Payment
from core.pagination import paginate
from extensions import db

from .orders import face_of
from .registry import RegionKind, affects, register, rendering_as

ACCOUNT = "invoices/_account.html"
BALANCE = "shop/invoices/_balance.html"
PER_PAGE = 25


def order_link(face: str):
    """How an invoice of this face links to its order."""
    return lambda order: url_for(f"{face}.order", order_id=order.id)


def account_context(invoice: Invoice, **extra) -> dict:
    """What the live account of an invoice shows (status, payments, balance due)."""
    return {
        "invoice": invoice,
        "today": billing.today(),
        "methods": billing.PAYMENT_METHODS,
        **extra,
    }


def invoice_context(invoice: Invoice, user, **extra) -> dict:
    """The invoice as issued, for its page in either face, with its live account."""
    return account_context(
        invoice,
        seller=billing.seller_details(),
        order_link=order_link(face_of(user)),
        **extra,
    )


def load_invoice(user, invoice_id: int) -> Invoice | None:
    """One invoice this person may see, with what its page shows; else None (a 404)."""
    return db.session.scalar(
        billing.visible_invoices(user)
        .where(Invoice.id == invoice_id)
        .options(
            joinedload(Invoice.company),
            joinedload(Invoice.order),
            selectinload(Invoice.lines),
            selectinload(Invoice.payments).joinedload(Payment.recorded_by),
        )
    )


def load_credit_note(user, note_id: int) -> CreditNote | None:
    """One credit note of a company this person may see; else None (a 404)."""
    return db.session.scalar(
        access.company_scope(user, select(CreditNote), CreditNote.company_id)
        .where(CreditNote.id == note_id)
        .options(joinedload(CreditNote.company), joinedload(CreditNote.invoice))
    )


def credit_note_context(note: CreditNote, user, **extra) -> dict:
    """A credit note as issued, for its page in either face and its PDF: the seller, the
    company credited, the invoice it is set against (linked for who may open it), and the
    legal mention of the sale it corrects (the invoice's, else the company's today)."""
    face = face_of(user)
    invoice_url = None
    if note.invoice_id is not None and access.may_read(user, "invoices"):
        invoice_url = url_for(f"{face}.invoice", invoice_id=note.invoice_id)
    if note.invoice is not None:
        mention = tax.MENTIONS.get(note.invoice.tax_kind, "")
    else:
        mention = tax.for_company(note.company).mention
    return {
        "face": face,
        "note": note,
        "seller": billing.seller_details(),
        "invoice_url": invoice_url,
        "mention": mention,
        **extra,
    }


def list_context(user, *, status: str, page: int, q: str = "", company=None) -> dict:
    """One page of the invoices this person may see, newest first, in either face.

    The back office may narrow it to one company (shown with its balance) and search it.
    """
    face = face_of(user)
    today = billing.today()
    stmt = (
        billing.visible_invoices(user)
        .join(Invoice.company)
        .options(contains_eager(Invoice.company), joinedload(Invoice.order))
    )
    if company is not None:
        stmt = stmt.where(Invoice.company_id == company.id)
    if status:
        stmt = stmt.where(billing.status_condition(status, today))
    if q:
        stmt = stmt.where(billing.search_condition(q))
    order = (Invoice.issued_at.desc(), Invoice.number.desc())
    return {
        "face": face,
        "listing": paginate(stmt.order_by(*order), page, PER_PAGE),
        "q": q,
        "status": status,
        "statuses": billing.STATUS_FILTERS,
        "company": company,
        "company_summary": billing.balance(company.id, today) if company is not None else None,
        "today": today,
        "order_link": order_link(face),
        "region": "invoices-table" if face == "office" else "shop-invoices",
    }


def _render_invoices(connection, invoice_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        if not access.may_read(user, "invoices"):
            return {}
        found = db.session.scalars(
            billing.visible_invoices(user)
            .where(Invoice.id.in_(invoice_ids))
            .options(selectinload(Invoice.payments).joinedload(Payment.recorded_by))
        )
        return {
            invoice.id: render_template(ACCOUNT, **account_context(invoice)) for invoice in found
        }


def _render_balance(connection, _keys) -> dict:
    with rendering_as(connection) as user:
        if not access.may_read(user, "invoices") or not user.is_customer:
            return {}
        summary = billing.balance(user.company_id, billing.today())
        return {"balance": render_template(BALANCE, summary=summary)}


register(RegionKind("invoice", re.compile(r"invoice-(\d+)"), _render_invoices))
register(RegionKind("balance", re.compile(r"balance"), _render_balance))
register(RegionKind("invoices-table", re.compile(r"invoices-table"), is_list=True))
register(RegionKind("shop-invoices", re.compile(r"shop-invoices"), is_list=True))


@affects("invoice_changed")
def _invoice_regions(event: Event) -> set[str]:
    # Every open balance and list is told, not only the invoice's company's: the bus
    # carries no audience, and each renders or re-fetches only what its viewer may see.
    return {f"invoice-{event.id}", "balance", "invoices-table", "shop-invoices"}


@affects("credit_note_issued")
def _credit_balances(event: Event) -> set[str]:
    # A credit note on the company's account changes its balance and invoice lists too.
    return {"balance", "invoices-table", "shop-invoices"}
