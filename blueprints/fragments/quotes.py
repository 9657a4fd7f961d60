"""Live regions of quotes, with the quote document's context for both faces.

- `quote-<id>`: status, terms and timeline, rendered once per audience. The renderer
  loads the quotes through the viewer's own scope, so a quote outside it renders as nothing.
- `quote-actions-<id>`: what one person may do now holds their CSRF token and rights, so
  it is never rendered here: the viewers who may see the quote get a signal and the panel
  re-fetches itself through its view (which answers 204 when nothing changed).
- `quotes-table` (back office) and `shop-quotes` (storefront): lists, refreshed by signal.
"""

import re

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core import access, quotes
from core.events import Event
from core.models import Quote
from core.offer import offers_for
from core.pagination import paginate
from extensions import db

from .orders import face_of
from .registry import RegionKind, affects, refresh_signal, register, rendering_as

QUOTE = "quotes/_quote.html"
PER_PAGE = 25
# The status filter of each face's list, in that face's words.
FILTERS = {
    "office": {
        "": _l("Any status"),
        "seller": _l("Waiting for us"),
        "customer": _l("Waiting for the customer"),
    },
    "shop": {
        "": _l("Any status"),
        "customer": _l("Waiting for you"),
        "seller": _l("Waiting for the seller"),
    },
}
for _face_filters in FILTERS.values():
    _face_filters.update(
        {
            "requested": _l("Requested"),
            "offered": _l("Offered"),
            "countered": _l("Countered"),
            "accepted": _l("Accepted"),
            "rejected": _l("Rejected"),
            "withdrawn": _l("Withdrawn"),
            "expired": _l("Expired"),
        }
    )


def quote_terms(quote: Quote, face: str) -> dict:
    """What the quote region shows whoever reads it: its status, timeline, lines with the
    group's offers, totals and taxes (the viewer's rights are added by the caller)."""
    return {
        "face": face,
        "quote": quote,
        "status": quotes.shown_status(quote),
        "turn": quotes.turn(quote),
        "steps": quotes.timeline(quote),
        "asked": quotes.asked_prices(quote),
        "offers": offers_for(
            quote.company.group, [line.product for line in quote.lines if not line.is_custom]
        ),
        "total": quotes.total(quote),
        "taxes": quotes.taxes(quote),
        "line_total": quotes.line_total,
        "labels": quotes.STATUS_LABELS,
    }


def quote_context(quote: Quote, user) -> dict:
    """What a quote's live region shows to this person: the same for a whole audience."""
    face = face_of(user)
    return quote_terms(quote, face) | {
        "order_link": url_for(f"{face}.order", order_id=quote.order_id)
        if quote.order_id is not None
        else None,
        "show_costs": access.can(user, "finance.costs"),
        "prices": access.sees_prices(user),
    }


def waiting_for_seller(user) -> int:
    """How many quotes in this person's scope wait for the seller's answer."""
    stmt = access.company_scope(
        user,
        select(func.count(Quote.id)).where(quotes.FILTERS["seller"](quotes.today())),
        Quote.company_id,
    )
    return db.session.scalar(stmt) or 0


def list_context(user, *, status: str, q: str, page: int) -> dict:
    """One page of the quotes this person may see, in either face."""
    face = face_of(user)
    listing = paginate(quotes.listing(user, status=status, q=q), page, PER_PAGE)
    context = {
        "face": face,
        "listing": listing,
        "q": q,
        "status": status,
        "filters": FILTERS[face],
        "turn": quotes.turn,
        "shown_status": quotes.shown_status,
        "total": quotes.total,
        "labels": quotes.STATUS_LABELS,
        "region": "quotes-table" if face == "office" else "shop-quotes",
        "prices": access.sees_prices(user),
        "search_label": (
            _("Search by quote number or company")
            if face == "office"
            else _("Search by quote number")
        ),
    }
    if face == "office":
        context["waiting"] = waiting_for_seller(user)
    return context


def _visible(user, quote_ids: list[int]):
    """The quotes among these that this person may see now; none for the wrong rights."""
    if user is None or not access.may_read(user, "quotes"):
        return []
    return quotes.load_many(user, quote_ids)


def _render_quotes(connection, quote_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        return {
            q.id: render_template(QUOTE, **quote_context(q, user))
            for q in _visible(user, quote_ids)
        }


def _signal_actions(connection, quote_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        return {q.id: refresh_signal(f"quote-actions-{q.id}") for q in _visible(user, quote_ids)}


register(RegionKind("quote", re.compile(r"quote-(\d+)"), _render_quotes))
register(RegionKind("quote-actions", re.compile(r"quote-actions-(\d+)"), _signal_actions))
register(RegionKind("quotes-table", re.compile(r"quotes-table"), is_list=True))
register(RegionKind("shop-quotes", re.compile(r"shop-quotes"), is_list=True))


@affects("quote_changed")
def _quote_regions(event: Event) -> set[str]:
    return {f"quote-{event.id}", f"quote-actions-{event.id}", "quotes-table", "shop-quotes"}
