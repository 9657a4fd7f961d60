"""Issuing a credit note, from a company's page or an invoice's: the same form, the same
refusals, the same words afterwards."""

from flask_babel import gettext as _
from flask_login import current_user

from blueprints.boundary import attempt
from blueprints.common import client_ip
from blueprints.filters import money
from core import credit_notes
from core.models import Company, Invoice

from .customers_forms import CreditNoteForm


def issue_credit(company: Company, form: CreditNoteForm, invoice: Invoice | None):
    """Issue the note (replayed on a deadlock); the refusal lands on the form. None: refused."""
    actor = current_user._get_current_object()  # the person, not the proxy, on the row
    issued = attempt(
        lambda: credit_notes.issue(
            company,
            form.value,
            form.reason.data or "",
            invoice=invoice,
            actor=actor,
            ip=client_ip(),
        ),
        replay=True,
    )
    if issued.refused:
        form.refuse(issued.refusal)
    return issued.value


def credit_notice(note, invoice: Invoice | None) -> str:
    """What the person reads after issuing a credit note."""
    amount = money(note.amount, note.currency)
    if invoice is None:
        return _(
            "Credit note %(number)s of %(amount)s issued: it stays to the company's credit.",
            number=note.display_number,
            amount=amount,
        )
    return _(
        "Credit note %(number)s of %(amount)s issued against invoice %(invoice)s: "
        "%(balance)s remains open.",
        number=note.display_number,
        amount=amount,
        invoice=invoice.display_number,
        balance=money(invoice.balance),
    )
