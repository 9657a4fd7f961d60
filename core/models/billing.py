"""Invoices numbered without gaps, their lines, and the payments against them."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .base import Money, Percent, UnitPrice, utcnow


class Sequence(db.Model):
    """A gapless counter (invoice numbers), advanced under a row lock in the same transaction."""

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_value: Mapped[int] = mapped_column(default=1)


class Invoice(db.Model):
    """The bill for one order: a snapshot of its lines, due after the company's terms."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("total >= 0", name="total_not_negative"),
        Index("ix_invoices_company_issued", "company_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_on: Mapped[date]
    # What is owed: net (goods and shipping) plus VAT.
    total: Mapped[Decimal] = mapped_column(Money)
    net_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    vat_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax_kind: Mapped[str] = mapped_column(String(16), default="domestic")
    paid_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # What credit notes took off this invoice; what is owed is total - paid - credited.
    credited_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    voided_at: Mapped[datetime | None]

    company = relationship("Company")
    order = relationship("Order")
    lines = relationship("InvoiceLine", cascade="all, delete-orphan", order_by="InvoiceLine.id")
    payments = relationship(
        "Payment", cascade="all, delete-orphan", order_by="Payment.id", back_populates="invoice"
    )

    @property
    def display_number(self) -> str:
        return f"INV-{self.number:06d}"

    @property
    def balance(self) -> Decimal:
        return self.total - self.paid_total - self.credited_total

    def status_on(self, today: date) -> str:
        if self.voided_at:
            return "void"
        if self.paid_total + self.credited_total >= self.total:
            return "paid"
        if self.due_on < today:
            return "overdue"
        return "partially paid" if self.paid_total > 0 else "open"


class InvoiceLine(db.Model):
    """One billed line, copied from the order line."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice)
    line_total: Mapped[Decimal] = mapped_column(Money)
    vat_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0"))


class Payment(db.Model):
    """Money received against an invoice, in full or in part."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    received_on: Mapped[date]
    method: Mapped[str] = mapped_column(String(20), default="transfer")
    reference: Mapped[str] = mapped_column(String(80), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    invoice = relationship("Invoice", back_populates="payments")
    recorded_by = relationship("User")


class CreditNote(db.Model):
    """Money the seller gives back to a company (a return, a price correction, a goodwill
    gesture), numbered without gaps like invoices, optionally set against one invoice."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_credit_notes_company_issued", "company_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    # What the credit takes off the balance: net plus VAT at the rate of what it credits.
    amount: Mapped[Decimal] = mapped_column(Money)
    net_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    vat_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0"))
    vat_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    reason: Mapped[str] = mapped_column(String(500))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    company = relationship("Company")
    invoice = relationship("Invoice")
    issued_by = relationship("User")

    @property
    def display_number(self) -> str:
        return f"CN-{self.number:06d}"
