"""Invoices numbered without gaps, and the payments against them."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Select, and_, case, func, or_, select, type_coerce, update
from sqlalchemy.sql import ColumnElement

from extensions import db

from . import access, audit, events, i18n, notify, numbers, settings, tax, webhooks
from .errors import FieldRefused, Refused
from .i18n import _
from .models import (
    CENT,
    Company,
    CreditNote,
    Invoice,
    InvoiceLine,
    Order,
    Payment,
    Sequence,
    User,
    utcnow,
)
from .models.base import Money


def next_number(name: str) -> int:
    """The next number of a gapless series ("invoice", "credit_note"), under a row lock
    held until the transaction ends.

    Invoices and credit notes are issued rarely; serialising them is the price of numbers
    without gaps (a rolled-back transaction gives its number back).
    """
    seq = db.session.scalar(
        select(Sequence)
        .where(Sequence.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if seq is None:
        seq = Sequence(name=name, next_value=1)
        db.session.add(seq)
        db.session.flush()
    value = seq.next_value
    seq.next_value = value + 1
    return value


def next_invoice_number() -> int:
    """The next invoice number (see next_number)."""
    return next_number("invoice")


# An invoice's shipping line keeps its words in English, as every invoice always kept them
# ("Shipping: Express"; the line has no kind of its own, and a SKU only when it sells a
# product): line_description says them in the language of whoever reads the invoice.
SHIPPING = "Shipping"
_SHIPPING_PREFIX = f"{SHIPPING}: "


def shipping_description(method_name: str | None) -> str:
    """What the shipping line of an invoice stores: "Shipping: Express", or "Shipping"."""
    return f"{_SHIPPING_PREFIX}{method_name}" if method_name else SHIPPING


def line_description(line: InvoiceLine):
    """An invoice line's description as its reader reads it: a product's name as it was
    sold, the shipping line translated (lazy: in the language of the page or PDF)."""
    description = line.description
    if line.sku:
        return description
    if description == SHIPPING:
        return _("Shipping")
    if description.startswith(_SHIPPING_PREFIX):
        return _("Shipping: %(method)s", method=description.removeprefix(_SHIPPING_PREFIX))
    return description


def build_invoice(order: Order, number: int, issued) -> Invoice:
    """An invoice copying the order's lines, due after the company's payment terms."""
    invoice = Invoice(
        number=number,
        company=order.company,
        order=order,
        issued_at=issued,
        due_on=(issued + timedelta(days=order.company.payment_terms_days)).date(),
        currency=order.currency,
        tax_kind=order.tax_kind,
    )
    invoice.lines = [
        InvoiceLine(
            sku=line.sku,
            description=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total=line.line_total,
            vat_rate=line.vat_rate,
        )
        for line in order.lines
    ]
    if order.shipping_price:  # shipping is billed as a line of its own
        invoice.lines.append(
            InvoiceLine(
                sku="",
                description=shipping_description(order.shipping_name),
                quantity=1,
                unit_price=order.shipping_price,
                line_total=order.shipping_price,
                vat_rate=order.shipping_vat_rate,
            )
        )
    figures = tax.of_invoice(invoice)
    invoice.net_total, invoice.vat_total, invoice.total = figures.net, figures.vat, figures.gross
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
    webhooks.emit("invoice.issued", invoice.id, company_id=order.company_id)
    notify.company(
        order.company,
        "shop.invoices",
        _(
            "Invoice %(number)s for order %(order)s",
            number=invoice.display_number,
            order=order.number,
        ),
        _(
            "Invoice %(number)s of %(total)s for order %(order)s is due on %(day)s.",
            number=invoice.display_number,
            total=i18n.money(invoice.total, invoice.currency),
            order=order.number,
            day=i18n.day(invoice.due_on),
        ),
        attach=notify.Attach("invoice", invoice),
    )
    return invoice


def void_for(order: Order, *, actor: User | None) -> None:
    """A cancelled order's invoice is voided (kept, numbered, marked void), never deleted.

    Not once money was received or credited against it: voiding would take that money out
    of every balance. The row is locked first, so a payment being recorded meanwhile is
    either seen here or waits and then finds the invoice void.
    """
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    if invoice is None or invoice.voided_at is not None:
        return
    invoice = lock_invoice(invoice)
    if invoice.paid_total > 0 or invoice.credited_total > 0:
        settled = invoice.paid_total + invoice.credited_total
        raise Refused(
            _(
                "Order %(order)s cannot be cancelled: %(amount)s was already paid "
                "or credited on invoice %(number)s. To give the money back, issue a credit "
                "note on the customer's account.",
                order=order.number,
                amount=i18n.money(settled, invoice.currency),
                number=invoice.display_number,
            )
        )
    invoice.voided_at = utcnow()
    audit.record(
        "invoice.voided",
        actor=actor,
        target=invoice,
        summary=f"Invoice {invoice.display_number} voided: order {order.number} cancelled",
    )
    events.record(db.session, "invoice_changed", invoice.id, company=order.company_id)


# --- statuses, lists and balances ------------------------------------------------------

# What a list can be narrowed to: the statuses of Invoice.status_on, plus "outstanding"
# (everything still owed, overdue included), which is what finance chases.
STATUS_FILTERS = {
    "outstanding": _("Outstanding"),
    "open": _("Open"),
    "partially-paid": _("Partially paid"),
    "overdue": _("Overdue"),
    "paid": _("Paid"),
    "void": _("Void"),
}
PAYMENT_METHODS = {
    "transfer": _("Bank transfer"),
    "card": _("Card"),
    "cash": _("Cash"),
    "cheque": _("Cheque"),
    "other": _("Other"),
}
REFERENCE_LENGTH = 80
_NUMBER = re.compile(r"(?:inv[-\s]?)?0*(\d{1,9})", re.IGNORECASE)


def today() -> date:
    """The portal's calendar day (UTC, like every stored time): due dates are compared to it."""
    return utcnow().date()


def seller_details() -> dict:
    """The seller's name, address, VAT number and bank printed on invoices (Setting "seller")."""
    return settings.seller()


def visible_invoices(user: User | None) -> Select:
    """Invoices of the companies this person may see (the caller checks the module permission)."""
    return access.company_scope(user, select(Invoice), Invoice.company_id)


def settled() -> ColumnElement:
    """What no longer has to be paid on an invoice: payments plus credit notes against it."""
    return Invoice.paid_total + Invoice.credited_total


def owed() -> ColumnElement:
    """The SQL twin of Invoice.balance: what the company still has to pay on an invoice."""
    return Invoice.total - settled()


def status_condition(status: str, on: date) -> ColumnElement[bool]:
    """The SQL twin of Invoice.status_on(on) for one of STATUS_FILTERS."""
    live = Invoice.voided_at.is_(None)
    unpaid = and_(live, settled() < Invoice.total)
    not_due = Invoice.due_on >= on
    # Like Invoice.status_on, "partially paid" means money was received: an invoice a credit
    # note has only reduced is still open.
    conditions = {
        "outstanding": unpaid,
        "open": and_(unpaid, Invoice.paid_total <= 0, not_due),
        "partially-paid": and_(unpaid, Invoice.paid_total > 0, not_due),
        "overdue": and_(unpaid, Invoice.due_on < on),
        "paid": and_(live, settled() >= Invoice.total),
        "void": Invoice.voided_at.is_not(None),
    }
    return conditions[status]


def search_condition(q: str) -> ColumnElement[bool]:
    """Invoices whose number ("INV-000012", "12") or company name matches; needs Company joined."""
    by_name = Company.name.icontains(q, autoescape=True)
    match = _NUMBER.fullmatch(q.strip())
    return or_(Invoice.number == int(match.group(1)), by_name) if match else by_name


@dataclass(frozen=True)
class Balance:
    """A company's account: what is owed (overdue included), what of it is late, what was paid.

    Void invoices count nowhere.
    """

    open_count: int
    open_amount: Decimal
    overdue_count: int
    overdue_amount: Decimal
    paid_count: int  # invoices paid in full
    paid_amount: Decimal  # everything received, part payments included
    # Credit notes not set against an invoice: money the company has to its credit.
    credit_count: int = 0
    credit_amount: Decimal = Decimal("0.00")


def balance(company_id: int, on: date) -> Balance:
    """The company's balance on a given day, in one SQL statement."""
    unpaid = settled() < Invoice.total
    late = and_(unpaid, Invoice.due_on < on)

    def amount(expression):
        return type_coerce(func.coalesce(func.sum(expression), 0), Money)

    unallocated = and_(CreditNote.company_id == company_id, CreditNote.invoice_id.is_(None))
    row = db.session.execute(
        select(
            func.count(case((unpaid, Invoice.id))),
            amount(case((unpaid, owed()), else_=0)),
            func.count(case((late, Invoice.id))),
            amount(case((late, owed()), else_=0)),
            func.count(case((settled() >= Invoice.total, Invoice.id))),
            amount(Invoice.paid_total),
            select(func.count(CreditNote.id)).where(unallocated).scalar_subquery(),
            select(amount(CreditNote.amount)).where(unallocated).scalar_subquery(),
        ).where(Invoice.company_id == company_id, Invoice.voided_at.is_(None))
    ).one()
    return Balance(*row)


# --- payments ----------------------------------------------------------------------------


class PaymentRefused(FieldRefused):
    """A payment the rules do not allow; `field` names the form field it is about."""


# Amounts are read with at most 15 digits before the decimal mark and 10 after it.
AMOUNT_LIMIT = Decimal(10**15)


def parse_amount(text: str) -> Decimal:
    """An amount as a person types it ("1 234,50", "€120.5") as a Decimal, or PaymentRefused.

    Whichever of "," and "." comes last is the decimal mark; any other is a thousands
    separator. Rounding is never done here: record_payment refuses sub-cent amounts.
    """
    cleaned = re.sub(r"[\s\u00a0\u202f€]|eur", "", (text or "").strip(), flags=re.IGNORECASE)
    mark = max(cleaned.rfind(","), cleaned.rfind("."))
    if mark >= 0:
        whole, fraction = cleaned[:mark], cleaned[mark + 1 :]
        cleaned = re.sub(r"[,.]", "", whole) + "." + fraction
    message = _("Enter the amount as a number, such as 120.50.")
    try:
        numbers.decimal(
            cleaned,
            label=_("The amount"),
            places=10,
            minimum=-AMOUNT_LIMIT,
            above=True,
            maximum=AMOUNT_LIMIT,
            not_a_number=message,
            out_of_range=message,
            too_precise=message,
        )
    except numbers.NumberRefused:
        raise PaymentRefused(message, "amount") from None
    return Decimal(cleaned)  # as typed (core.numbers has read it): never rounded here


def _check_payment(invoice: Invoice, amount, received_on, method: str, reference: str) -> None:
    """Every rule a payment must meet, with a message that says what to do."""
    if invoice.voided_at is not None:
        raise PaymentRefused(
            _(
                "Invoice %(number)s is void: no payment can be recorded against it.",
                number=invoice.display_number,
            )
        )
    if invoice.balance <= 0:
        raise PaymentRefused(
            _("Invoice %(number)s is already paid in full.", number=invoice.display_number)
        )
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise PaymentRefused(_("Enter the amount as a number, such as 120.50."), "amount")
    if amount <= 0:
        raise PaymentRefused(_("A payment is an amount above zero."), "amount")
    if amount != amount.quantize(CENT):
        raise PaymentRefused(_("An amount has at most two decimals (whole cents)."), "amount")
    if amount > invoice.balance:
        raise PaymentRefused(
            _(
                "%(amount)s is more than the open balance of %(balance)s: record at most "
                "the open balance.",
                amount=i18n.money(amount, invoice.currency),
                balance=i18n.money(invoice.balance, invoice.currency),
            ),
            "amount",
        )
    if not isinstance(received_on, date):
        raise PaymentRefused(_("Enter the day the money was received."), "received_on")
    if received_on > today():
        raise PaymentRefused(_("The day received cannot be in the future."), "received_on")
    placed = invoice.order.created_at.date()
    if received_on < placed:
        raise PaymentRefused(
            _(
                "The day received is before order %(order)s was placed (%(day)s).",
                order=invoice.order.number,
                day=i18n.day(placed),
            ),
            "received_on",
        )
    if method not in PAYMENT_METHODS:
        raise PaymentRefused(_("Choose how the money was paid."), "method")
    if len(reference) > REFERENCE_LENGTH:
        raise PaymentRefused(
            _("A reference has at most %(count)s characters.", count=REFERENCE_LENGTH),
            "reference",
        )


def lock_invoice(invoice: Invoice) -> Invoice:
    """The invoice row locked and read afresh, so that two people changing its balance at
    once cannot both take the same open balance."""
    return db.session.scalar(
        select(Invoice)
        .where(Invoice.id == invoice.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def add_to_invoice(
    locked: Invoice,
    column: str,
    amount: Decimal,
    *,
    says_why: Callable[[], None],
    refused: type[PaymentRefused],
) -> None:
    """Raise a locked invoice's `paid_total` or `credited_total` by `amount`, never above its
    total. If the invoice changed meanwhile, `says_why()` raises the refusal that explains it,
    or else `refused` says that it changed."""
    # Conditional as well as locked: SQLite ignores FOR UPDATE, and this keeps the rule
    # "never above the total" true there too. Rounded to the cent because SQLite adds
    # NUMERIC values as floats (MariaDB's DECIMAL is exact either way).
    raised = func.round(getattr(Invoice, column) + amount, 2)
    paid = raised if column == "paid_total" else Invoice.paid_total
    credited = raised if column == "credited_total" else Invoice.credited_total
    done = db.session.execute(
        update(Invoice)
        .where(
            Invoice.id == locked.id,
            Invoice.voided_at.is_(None),
            paid + credited <= Invoice.total,
        )
        .values({column: raised})
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(locked)
    if done != 1:
        says_why()
        raise refused(_("The invoice changed meanwhile. Reload it and try again."))


def record_payment(
    invoice: Invoice,
    amount: Decimal,
    received_on: date,
    method: str,
    reference: str,
    *,
    actor: User,
) -> Payment:
    """Record money received against an invoice, in full or in part, never above its balance.

    The invoice row is locked and read afresh, so two people recording at once cannot
    both take the same open balance. Raises PaymentRefused and changes nothing when a
    rule is broken; the caller rolls back (orders.retrying does).
    """
    locked = lock_invoice(invoice)
    reference = (reference or "").strip()
    _check_payment(locked, amount, received_on, method, reference)
    before = locked.paid_total
    add_to_invoice(
        locked,
        "paid_total",
        amount,
        says_why=lambda: _check_payment(locked, amount, received_on, method, reference),
        refused=PaymentRefused,
    )
    payment = Payment(
        amount=amount,
        received_on=received_on,
        method=method,
        reference=reference,
        recorded_by=actor,
    )
    locked.payments.append(payment)
    db.session.flush()
    audit.record(
        "payment.recorded",
        actor=actor,
        target=locked,
        summary=(
            f"Payment of {amount:.2f} {locked.currency} on invoice {locked.display_number} "
            f"({locked.company.name})"
        ),
        before={"paid_total": str(before)},
        after={
            "paid_total": str(locked.paid_total),
            "amount": str(amount),
            "received_on": received_on.isoformat(),
            "method": method,
            "reference": reference,
        },
    )
    events.record(db.session, "invoice_changed", locked.id, company=locked.company_id)
    webhooks.emit(
        "payment.received", payment.id, company_id=locked.company_id, invoice_id=locked.id
    )
    # A receipt for the customer's accounts people: the same people invoices are mailed to.
    remaining = locked.balance
    if remaining > 0:
        rest = _(
            "%(amount)s remains open, due on %(day)s.",
            amount=i18n.money(remaining, locked.currency),
            day=i18n.day(locked.due_on),
        )
    else:
        rest = _("The invoice is now paid in full. Thank you.")
    notify.company(
        locked.company,
        "shop.invoices",
        _("Payment received for invoice %(number)s", number=locked.display_number),
        _(
            "We received %(amount)s on %(day)s for invoice %(number)s. %(rest)s",
            amount=i18n.money(amount, locked.currency),
            day=i18n.day(received_on),
            number=locked.display_number,
            rest=rest,
        ),
    )
    return payment
