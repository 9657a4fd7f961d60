"""What the second approvals' views share (no routes): the list's answer once one is given.

Staff who may move a customer's orders give its second approval in its stead, from the
list "Waiting for a second approval" on the orders page or on the customer's page. Both
the cart and the quote views answer the same way: htmx gets the list back (with the
order placed, or 422 and why), a plain form the order's page or the list again.
"""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.common import is_htmx, render
from blueprints.fragments.orders import SECOND_APPROVALS, second_approvals_context
from core import i18n
from core.models import Company, Order


def list_answer(company: Company | None, *, placed: Order | None = None, error: str = ""):
    """After a second approval given from the list (of one company, or of all in scope)."""
    if is_htmx():
        context = second_approvals_context(current_user, company, placed=placed, error=error)
        return render(SECOND_APPROVALS, code=422 if error else 200, second=context)
    if error:
        flash(str(error), "error")
        if company is not None:
            return redirect(url_for("office.customer", company_id=company.id))
        return redirect(url_for("office.second_approvals"))
    flash(
        _(
            "Second approval given: order %(number)s of %(total)s %(currency)s is placed for "
            "%(company)s.",
            number=placed.number,
            total=i18n.format_number(placed.total, 2),
            currency=placed.currency,
            company=placed.company.name,
        ),
        "info",
    )
    return redirect(url_for("office.order", order_id=placed.id))
