"""Live regions of quotes (registered with regions.register and regions.affects).

- `quote-<id>`: status, terms and timeline, rendered once per audience. The renderer loads
  the quotes through the viewer's own scope, so a quote outside it renders as nothing.
- `quote-actions-<id>`: what one person may do now holds their CSRF token and rights, so it
  is never rendered here: the viewers who may see the quote get a signal and the panel
  re-fetches itself through its view (which answers 204 when nothing changed).
- `quotes-table` (back office) and `shop-quotes` (storefront): lists, refreshed by signal.
"""

import re

from flask import render_template

from core import access, quotes
from core.events import Event

from . import regions
from .regions import RegionKind, affects, register, rendering_as


def _audience(connection):
    """Everything the region's markup depends on: whose company (or which scope), and costs."""
    v = connection.viewer
    if v.kind == "customer":
        return ("customer", v.company_id) if "shop.quote" in v.permissions else None
    if v.kind == "staff" and "quotes.view" in v.permissions:
        return ("staff", v.scope, "finance.costs" in v.permissions)
    return None


def _visible(user, quote_ids: list[int]):
    """The quotes among these that this person may see now; none for the wrong rights."""
    if user is None:
        return []
    needed = "shop.quote" if user.is_customer else "quotes.view"
    if not access.can(user, needed):
        return []
    return quotes.load_many(user, quote_ids)


def _render_quotes(connection, quote_ids: list[int]) -> dict:
    from blueprints.office import quotes as office_views
    from blueprints.shop import quotes as shop_views

    with rendering_as(connection) as user:
        found = _visible(user, quote_ids)
        if user is None or not found:
            return {}
        if user.is_customer:
            return {
                q.id: render_template("shop/quotes/_quote.html", **shop_views.region_context(q))
                for q in found
            }
        costs = access.can(user, "finance.costs")
        return {
            q.id: render_template(
                "office/quotes/_quote.html", **office_views.region_context(q, show_costs=costs)
            )
            for q in found
        }


def _signal_actions(connection, quote_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        return {
            q.id: regions.refresh_signal(ACTIONS, f"quote-actions-{q.id}")
            for q in _visible(user, quote_ids)
        }


def _staff_lists(connection):
    v = connection.viewer
    return ("quotes-table",) if v.kind == "staff" and "quotes.view" in v.permissions else None


def _customer_lists(connection):
    v = connection.viewer
    return ("shop-quotes",) if v.kind == "customer" and "shop.quote" in v.permissions else None


QUOTE = register(RegionKind("quote", re.compile(r"quote-(\d+)"), _audience, _render_quotes))
ACTIONS = register(
    RegionKind("quote-actions", re.compile(r"quote-actions-(\d+)"), _audience, _signal_actions)
)
register(RegionKind("quotes-table", re.compile(r"quotes-table"), _staff_lists, is_list=True))
register(RegionKind("shop-quotes", re.compile(r"shop-quotes"), _customer_lists, is_list=True))


@affects("quote_changed")
def _quote_regions(event: Event) -> set[str]:
    return {f"quote-{event.id}", f"quote-actions-{event.id}", "quotes-table", "shop-quotes"}
