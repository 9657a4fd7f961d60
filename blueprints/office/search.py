"""The back office's global search: products, customers, orders, quotes and invoices.

Each section only for those who may see its module, and always within their scope
(core.search); what they may not see is not hinted at, not even by a count.
"""

from flask import url_for
from flask_babel import lazy_gettext as _
from flask_login import current_user

from blueprints.common import render, search_arg
from core import billing, orders, quotes
from core import search as search_service

from . import bp

# Section -> (heading, what it is searched by, the list page that searches it by `q`).
SECTIONS = {
    "products": (_("Products"), _("products by SKU or name"), "office.products"),
    "customers": (_("Customers"), _("customers by name or VAT ID"), "office.customers"),
    "orders": (_("Orders"), _("orders by number or the customer’s reference"), "office.orders"),
    "quotes": (_("Quotes"), _("quotes by number"), "office.quotes"),
    "invoices": (_("Invoices"), _("invoices by number"), "office.invoices"),
}


def results_context(q: str) -> dict:
    """What the results show: each section the person may search, with its first hits."""
    keys = search_service.sections_for(current_user)
    sections = search_service.search(current_user, q)
    return {
        "q": q,
        "searchable": keys,
        "sections": sections,
        "found": sum(s.total for s in sections),
        "titles": {key: SECTIONS[key][0] for key in keys},
        "hints": [SECTIONS[key][1] for key in keys],
        "see_all": {key: url_for(SECTIONS[key][2], q=q) for key in keys} if q else {},
        "order_labels": orders.STATUS_LABELS,
        "quote_labels": quotes.STATUS_LABELS,
        "quote_status": quotes.shown_status,
        "today": billing.today(),
        "limit": search_service.LIMIT,
    }


@bp.route("/search", endpoint="search")
def search():
    """Search everything one may see at once; htmx gets the results alone as one types."""
    return render(
        "office/search/index.html", "office/search/_results.html", **results_context(search_arg())
    )
