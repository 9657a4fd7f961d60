"""What a catalogue link keeps (search, category, sort, filters, view), read from the query
string and written back into links; the catalogue's views use it (no routes here)."""

from dataclasses import dataclass, field, replace

from flask import abort, request, session, url_for
from flask_babel import gettext as _

from core import catalog, catalog_filters
from core.catalog_filters import Filters
from core.models import Category

CARDS, TABLE = "cards", "table"
VIEWS = (CARDS, TABLE)
VIEW_KEPT = "catalog_view"  # the person's last choice, in their session


def filters_arg() -> Filters:
    """The filters of the query string; a malformed one is a clear 400."""
    try:
        return catalog_filters.parse(request.args)
    except catalog.BadQuery as exc:
        abort(400, description=str(exc))


def view_arg() -> str:
    """Cards or table: as the link says (and then remembered for the person's session),
    else as they last chose; anything else is a clear 400."""
    raw = request.args.get("view", "")
    if raw:
        if raw not in VIEWS:
            abort(400, description=_("Unknown view: choose cards or table."))
        if session.get(VIEW_KEPT) != raw:
            session[VIEW_KEPT] = raw
        return raw
    kept = session.get(VIEW_KEPT)
    return kept if kept in VIEWS else CARDS


@dataclass(frozen=True)
class Where:
    """One state of the catalogue, as its links carry it."""

    q: str = ""
    category: Category | None = None
    sort: str = "name"
    filters: Filters = field(default_factory=Filters)
    view: str = CARDS
    page: int = 1

    def args(self, **changes) -> dict:
        """The query arguments of this state with `changes` (page and at apply once)."""
        page, at = changes.pop("page", None), changes.pop("at", None)
        state = replace(self, **changes)
        found = {
            "q": state.q or None,
            "category": state.category.slug if state.category else None,
            "sort": state.sort if state.sort != "name" else None,
            **state.filters.args(),
            # A table is said in the link; cards only when they replace a kept table.
            "view": state.view if state.view == TABLE or "view" in changes else None,
            "page": page if page and page > 1 else None,
            "at": at,
        }
        return {key: value for key, value in found.items() if value not in (None, "", [])}

    def url(self, **changes) -> str:
        """The catalogue's address for this state with `changes`."""
        return url_for("shop.catalog", **self.args(**changes))

    def page_url(self, page: int, at: str | None = None) -> str:
        """A page of this very listing (the pager's links)."""
        return self.url(page=page, at=at)

    def here(self) -> str:
        """This page itself (what a live list re-fetches)."""
        return self.url(page=self.page)

    def category_url(self, category: Category | None) -> str:
        """Another category (or all products): the search and "in stock only" stay; the
        chosen specifications belong to this listing's values, so they go."""
        return self.url(category=category, filters=Filters(in_stock=self.filters.in_stock))

    def without_url(self, name: str | None = None, value: str | None = None) -> str:
        """Without one chosen value (name and value), or without "in stock only" (no
        name)."""
        if name is None:
            return self.url(filters=replace(self.filters, in_stock=False))
        return self.url(filters=self.filters.without(name, value))

    def cleared_url(self) -> str:
        """Without any filter."""
        return self.url(filters=Filters())
