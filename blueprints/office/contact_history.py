"""A customer's contact history on its back-office page: messages, mails, quotes, orders
and tasks in one timeline, newest first (core.contact_history), as far as the viewer may
read each; its pages are fetched here."""

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from blueprints.common import or_404, page_arg, permission_required, render
from core import access, contact_history

from . import bp

PER_PAGE = 20
KINDS = {
    "message": _l("Message"),
    "mail": _l("Mail sent"),
    "quote": _l("Quote"),
    "order": _l("Order"),
    "task": _l("Task"),
}
HISTORY = "office/customers/_history.html"


def history_context(company, page: int = 1) -> dict:
    """What the contact history section shows: one page of the timeline."""
    return {
        "company": company,
        "timeline": contact_history.timeline(current_user, company, page, PER_PAGE),
        "history_kinds": KINDS,
    }


@bp.route("/customers/<int:company_id>/history")
@permission_required("customers.view")
def customer_history(company_id: int):
    """A page of the customer's contact history (the section's pager fetches it)."""
    company = or_404(access.load_company(current_user, company_id))
    context = history_context(company, page_arg())
    return render("office/customers/history.html", HISTORY, **context)


@bp.context_processor
def contact_history_section() -> dict:
    """`contact_history(company)`: the section as the customer page includes it."""

    def section(company) -> Markup:
        if not access.can(current_user, "customers.view"):
            return Markup("")
        html = render_template(HISTORY, **history_context(company))
        return Markup(html)  # noqa: S704  (a rendered template, escaped by Jinja)

    return {"contact_history": section}
