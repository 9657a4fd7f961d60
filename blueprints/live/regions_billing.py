"""Live regions of billing (registered with regions.register and regions.affects).

- `invoice-<id>`: where one invoice stands (status, paid, balance due, payments), on the
  invoice page of both faces. Rendered through the viewer's own scope: an invoice the
  viewer may not see renders as nothing at all.
- `balance`: the storefront summary of the viewer's own company.
- `invoices-table` (office) and `shop-invoices` (storefront): lists, told to re-fetch
  themselves through their scoped views.
"""

import re

from flask import render_template
from sqlalchemy.orm import selectinload

from core import access, billing
from core.events import Event
from core.models import Invoice, Payment
from extensions import db

from .regions import RegionKind, affects, register, rendering_as


def _reads_invoices(user) -> bool:
    """The module permission of the person's face (scope is applied by the query)."""
    if user is None:
        return False
    return access.can(user, "shop.invoices" if user.is_customer else "invoices.view")


def _invoice_audience(connection):
    # Everything that changes the fragment: the face (staff see who recorded a payment)
    # and whose invoices may be seen (one company, or a staff scope; None = all).
    v = connection.viewer
    if v.kind == "customer" and "shop.invoices" in v.permissions:
        return ("customer", v.company_id)
    if v.kind == "staff" and "invoices.view" in v.permissions:
        return ("staff", v.scope)
    return None


def _render_invoices(connection, invoice_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        if not _reads_invoices(user):
            return {}
        found = db.session.scalars(
            billing.visible_invoices(user)
            .where(Invoice.id.in_(invoice_ids))
            .options(selectinload(Invoice.payments).joinedload(Payment.recorded_by))
        )
        today = billing.today()
        return {
            invoice.id: render_template(
                "shop/invoices/_account.html",
                invoice=invoice,
                today=today,
                methods=billing.PAYMENT_METHODS,
            )
            for invoice in found
        }


def _balance_audience(connection):
    v = connection.viewer
    if v.kind == "customer" and "shop.invoices" in v.permissions:
        return ("balance", v.company_id)
    return None


def _render_balance(connection, _keys) -> dict:
    with rendering_as(connection) as user:
        if not _reads_invoices(user) or not user.is_customer:
            return {}
        summary = billing.balance(user.company_id, billing.today())
        return {"balance": render_template("shop/invoices/_balance.html", summary=summary)}


def _staff_lists(connection):
    v = connection.viewer
    return ("invoices-table",) if v.kind == "staff" and "invoices.view" in v.permissions else None


def _customer_lists(connection):
    v = connection.viewer
    return ("shop-invoices",) if v.kind == "customer" and "shop.invoices" in v.permissions else None


register(RegionKind("invoice", re.compile(r"invoice-(\d+)"), _invoice_audience, _render_invoices))
register(RegionKind("balance", re.compile(r"balance"), _balance_audience, _render_balance))
register(RegionKind("invoices-table", re.compile(r"invoices-table"), _staff_lists, is_list=True))
register(RegionKind("shop-invoices", re.compile(r"shop-invoices"), _customer_lists, is_list=True))


@affects("invoice_changed")
def _invoice_regions(event: Event) -> set[str]:
    # Every open balance and list is told, not only the invoice's company's: the bus
    # carries no audience, and each renders or re-fetches only what its viewer may see.
    return {f"invoice-{event.id}", "balance", "invoices-table", "shop-invoices"}
