"""Credit notes: money the seller gives back to a company, numbered without gaps.

A credit note is either set against one of the company's invoices (it then lowers what
is owed on that invoice, never below zero) or left on the company's account as credit.
Numbers come from the "credit_note" sequence (CN-000001), like invoice numbers.
"""

from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from extensions import db

from . import audit, events, i18n, notify, tax
from .billing import PaymentRefused, add_to_invoice, lock_invoice, next_number, owed
from .i18n import _
from .models import CENT, Company, CreditNote, Invoice, User

REASON_LENGTH = 500
MAX_AMOUNT = Decimal("1000000000")  # far above any real credit, well inside NUMERIC(14, 2)


class CreditRefused(PaymentRefused):
    """A credit note the rules do not allow; `field` names the form field it is about."""


def _check(company: Company, amount, reason: str, invoice: Invoice | None) -> None:
    """Every rule a credit note must meet, with a message that says what to do."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise CreditRefused(_("Enter the amount as a number, such as 120.50."), "amount")
    if amount <= 0:
        raise CreditRefused(_("A credit note is an amount above zero."), "amount")
    if amount != amount.quantize(CENT):
        raise CreditRefused(_("An amount has at most two decimals (whole cents)."), "amount")
    if amount >= MAX_AMOUNT:
        raise CreditRefused(
            _("A credit note must be below %(most)s.", most=i18n.number(MAX_AMOUNT, 0)),
            "amount",
        )
    if not reason:
        raise CreditRefused(_("Say why the company is credited."), "reason")
    if len(reason) > REASON_LENGTH:
        raise CreditRefused(
            _("A reason has at most %(count)s characters.", count=REASON_LENGTH), "reason"
        )
    if invoice is None:
        return
    if invoice.company_id != company.id:
        raise CreditRefused(_("Choose one of this company's invoices."), "invoice")
    if invoice.voided_at is not None:
        raise CreditRefused(
            _(
                "Invoice %(number)s is void: nothing can be credited against it.",
                number=invoice.display_number,
            ),
            "invoice",
        )
    if invoice.balance <= 0:
        raise CreditRefused(
            _(
                "Invoice %(number)s has no open balance left to credit.",
                number=invoice.display_number,
            ),
            "invoice",
        )
    if amount > invoice.balance:
        raise CreditRefused(
            _(
                "%(amount)s is more than the open balance of invoice %(number)s "
                "(%(balance)s): credit at most the open balance, or issue the "
                "credit note without an invoice.",
                amount=i18n.money(amount, invoice.currency),
                number=invoice.display_number,
                balance=i18n.money(invoice.balance, invoice.currency),
            ),
            "amount",
        )


def _credit_invoice(
    invoice: Invoice, amount: Decimal, company: Company, reason: str
) -> tuple[Invoice, Decimal]:
    """Raise the invoice's credited total under a row lock, never above what is owed.

    Returns the invoice read afresh and its credited total before."""
    locked = lock_invoice(invoice)
    _check(company, amount, reason, locked)
    before = locked.credited_total
    add_to_invoice(
        locked,
        "credited_total",
        amount,
        says_why=lambda: _check(company, amount, reason, locked),
        refused=CreditRefused,
    )
    return locked, before


def issue(
    company: Company,
    amount: Decimal,
    reason: str,
    *,
    invoice: Invoice | None = None,
    actor: User,
    ip: str = "",
) -> CreditNote:
    """Credit a company, optionally against one of its invoices (at most its open balance).

    Raises CreditRefused and changes nothing when a rule is broken; the caller rolls back
    (orders.retrying does, and replays the whole issue on a deadlock).
    """
    reason = " ".join((reason or "").split())
    _check(company, amount, reason, None)
    credited = before = None
    if invoice is not None:
        credited, before = _credit_invoice(invoice, amount, company, reason)
    # The amount is what comes off the balance, VAT included, at the rate of what it credits.
    rate = tax.credit_rate(credited, company)
    net = tax.net_of(amount, rate)
    note = CreditNote(
        number=next_number("credit_note"),
        company_id=company.id,
        invoice_id=credited.id if credited is not None else None,
        amount=amount,
        net_amount=net,
        vat_rate=rate,
        vat_amount=amount - net,
        reason=reason,
        currency=credited.currency if credited is not None else "EUR",
        issued_by_id=actor.id,
    )
    db.session.add(note)
    db.session.flush()
    against = f" against invoice {credited.display_number}" if credited is not None else ""
    changes = {"amount": str(amount), "reason": reason}
    if credited is not None:
        changes |= {
            "invoice": credited.display_number,
            "credited_total": str(credited.credited_total),
        }
    audit.record(
        "credit_note.issued",
        actor=actor,
        target=note,
        ip=ip,
        summary=(
            f"Credit note {note.display_number} of {amount:.2f} {note.currency} to "
            f"{company.name}{against}"
        ),
        before={"credited_total": str(before)} if credited is not None else None,
        after=changes,
    )
    if credited is not None:
        events.record(db.session, "invoice_changed", credited.id, company=company.id)
    events.record(db.session, "credit_note_issued", note.id, company=company.id)
    if credited is not None:
        said = _(
            "We have credited %(amount)s to %(company)s against invoice %(number)s.",
            amount=i18n.money(amount, note.currency),
            company=company.name,
            number=credited.display_number,
        )
        rest = _(
            "%(amount)s remains open on the invoice.",
            amount=i18n.money(credited.balance, credited.currency),
        )
    else:
        said = _(
            "We have credited %(amount)s to %(company)s.",
            amount=i18n.money(amount, note.currency),
            company=company.name,
        )
        rest = _("The amount stays to your credit on your account.")
    notify.company(
        company,
        "shop.invoices",
        _("Credit note %(number)s", number=note.display_number),
        i18n.join(said, _("Reason: %(reason)s", reason=reason), rest, sep="\n"),
        attach=notify.Attach("credit_note", note),
    )
    return note


def of_company(company_id: int) -> Select:
    """The company's credit notes, newest first, with their invoice and issuer loaded."""
    return (
        select(CreditNote)
        .where(CreditNote.company_id == company_id)
        .options(joinedload(CreditNote.invoice), joinedload(CreditNote.issued_by))
        .order_by(CreditNote.issued_at.desc(), CreditNote.number.desc())
    )


def of_invoice(invoice_id: int) -> list[CreditNote]:
    """The credit notes set against one invoice, oldest first (as they lowered it)."""
    return list(
        db.session.scalars(
            select(CreditNote)
            .where(CreditNote.invoice_id == invoice_id)
            .order_by(CreditNote.number)
        )
    )


def open_invoices(company_id: int) -> list[Invoice]:
    """The company's invoices that still have an open balance (what may be credited)."""
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.company_id == company_id, Invoice.voided_at.is_(None), owed() > 0)
            .order_by(Invoice.number)
        )
    )
