"""Storefront invoices: the company's balance, its invoices, and one printable invoice."""

from flask_login import current_user

from blueprints.common import choice_arg, or_404, page_arg, permission_required, render
from blueprints.fragments.billing import invoice_context, list_context, load_invoice
from core import billing

from . import bp


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg("status", billing.STATUS_FILTERS, "There is no invoice status “{value}”.")


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
