"""Storefront invoices: the company's balance, its invoices, and one printable invoice."""

from flask import abort, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from blueprints.common import choice_arg, page_arg, permission_required, render
from core import billing
from core.models import Invoice
from core.pagination import paginate
from extensions import db

from . import bp

PER_PAGE = 25


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg("status", billing.STATUS_FILTERS, "There is no invoice status “{value}”.")


def order_link(order) -> str:
    """The storefront page of the invoice's order."""
    return url_for("shop.order", order_id=order.id)


def own_invoice(invoice_id: int) -> Invoice:
    """An invoice of the viewer's own company; another company's is simply not found."""
    invoice = db.session.scalar(
        billing.visible_invoices(current_user)
        .where(Invoice.id == invoice_id)
        .options(
            joinedload(Invoice.company),
            joinedload(Invoice.order),
            selectinload(Invoice.lines),
            selectinload(Invoice.payments),
        )
    )
    if invoice is None:
        abort(404, description="Your company has no invoice with this number.")
    return invoice


@bp.route("/invoices")
@permission_required("shop.invoices")
def invoices():
    """The company's balance and its invoices, newest first, by status."""
    page, status = page_arg(), status_arg()
    today = billing.today()
    stmt = billing.visible_invoices(current_user).options(joinedload(Invoice.order))
    if status:
        stmt = stmt.where(billing.status_condition(status, today))
    listing = paginate(
        stmt.order_by(Invoice.issued_at.desc(), Invoice.number.desc()), page, PER_PAGE
    )
    return render(
        "shop/invoices/index.html",
        "shop/invoices/_table.html",
        listing=listing,
        status=status,
        statuses=billing.STATUS_FILTERS,
        summary=billing.balance(current_user.company_id, today),
        today=today,
        order_link=order_link,
    )


@bp.route("/invoices/<int:invoice_id>")
@permission_required("shop.invoices")
def invoice(invoice_id: int):
    """One of the company's invoices, as issued and printable, with the payments received."""
    found = own_invoice(invoice_id)
    return render(
        "shop/invoices/show.html",
        invoice=found,
        seller=billing.seller_details(),
        today=billing.today(),
        methods=billing.PAYMENT_METHODS,
        order_link=order_link,
    )
