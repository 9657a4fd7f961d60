"""Invoices numbered without gaps, and the payments against them."""

from datetime import timedelta

from sqlalchemy import select

from extensions import db

from . import audit, events, notify
from .models import Invoice, InvoiceLine, Order, Sequence, User, utcnow


def next_invoice_number() -> int:
    """The next invoice number, under a row lock held until the transaction ends.

    Invoices are issued rarely; serialising them is the price of numbers without gaps
    (a rolled-back transaction gives its number back).
    """
    seq = db.session.scalar(
        select(Sequence)
        .where(Sequence.name == "invoice")
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if seq is None:
        seq = Sequence(name="invoice", next_value=1)
        db.session.add(seq)
        db.session.flush()
    value = seq.next_value
    seq.next_value = value + 1
    return value


def build_invoice(order: Order, number: int, issued) -> Invoice:
    """An invoice copying the order's lines, due after the company's payment terms."""
    invoice = Invoice(
        number=number,
        company=order.company,
        order=order,
        issued_at=issued,
        due_on=(issued + timedelta(days=order.company.payment_terms_days)).date(),
        total=order.total,
        currency=order.currency,
    )
    invoice.lines = [
        InvoiceLine(
            sku=line.sku,
            description=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total=line.line_total,
        )
        for line in order.lines
    ]
    return invoice


def issue_for(order: Order, *, actor: User | None) -> Invoice:
    """The order's invoice (issued once, when the order is confirmed or shipped)."""
    existing = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    if existing is not None:
        return existing
    invoice = build_invoice(order, next_invoice_number(), utcnow())
    db.session.add(invoice)
    db.session.flush()
    audit.record(
        "invoice.issued",
        actor=actor,
        target=invoice,
        summary=f"Invoice {invoice.display_number} for order {order.number}: {invoice.total}",
    )
    events.record(db.session, "invoice_changed", invoice.id, company=order.company_id)
    notify.company(
        order.company,
        "shop.invoices",
        f"Invoice {invoice.display_number} for order {order.number}",
        f"Invoice {invoice.display_number} of {invoice.total} {invoice.currency} for order "
        f"{order.number} is due on {invoice.due_on:%d %b %Y}.",
    )
    return invoice


def void_for(order: Order, *, actor: User | None) -> None:
    """A cancelled order's invoice is voided (kept, numbered, marked void), never deleted."""
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    if invoice is None or invoice.voided_at is not None:
        return
    invoice.voided_at = utcnow()
    audit.record(
        "invoice.voided",
        actor=actor,
        target=invoice,
        summary=f"Invoice {invoice.display_number} voided: order {order.number} cancelled",
    )
    events.record(db.session, "invoice_changed", invoice.id, company=order.company_id)
