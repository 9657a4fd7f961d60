"""The catalogue: browse, search, sort, page, and one product's page."""

from flask import current_app, request
from flask_login import current_user
from sqlalchemy import false, select
from sqlalchemy.orm import selectinload

from blueprints.common import is_htmx, listing_args, or_404, render, search_arg
from blueprints.photos import send_photo
from core import catalog, catalog_filters, photos, visibility
from core.models import Product
from core.offer import GroupPolicy, offer_for
from extensions import db

from . import bp
from .catalog_state import TABLE, Where, filters_arg, view_arg

RESULTS = "shop/catalog/_results.html"
FACETS = "shop/catalog/_facets.html"
# Suggestions while typing: from this many characters, at most this many products.
SUGGEST_FROM = 3
SUGGESTIONS = 8


def _listing_args(categories):
    """Parse the catalogue's query string; a BadQuery becomes a clear 400 page."""
    q, sort, page = listing_args()
    category = None
    slug = request.args.get("category")
    if slug:
        category = or_404(next((c for c in categories if c.slug == slug), None))
    return q, sort, page, category


def visible_categories():
    """The category tree without what the viewer's group may not see (a hidden category's
    subcategories are hidden with it): its slugs are then unknown, a 404."""
    hidden = visibility.of_person(current_user)
    return [c for c in catalog.category_tree() if not hidden.hides_category(c)]


@bp.route("/", endpoint="catalog")
def catalog_page():
    """The catalogue as the viewer's group sees it: searched, narrowed by specifications
    and stock (with counts beside each value), as cards or a table."""
    categories = visible_categories()
    q, sort, page, category = _listing_args(categories)
    filters, view = filters_arg(), view_arg()
    policy = GroupPolicy.of(current_user.company.group)
    # The filter panel counts a category or a search; the whole catalogue asks for one.
    counted = bool(q or category)
    base = narrow = None
    if filters.active:
        # What the listing holds (nothing: a search no product matches), narrowed.
        base = catalog.listing_where(policy, q, category, categories)
        narrow = [*(base.where if base else [false()]), *catalog_filters.clauses(policy, filters)]
    listing = catalog.browse(
        policy,
        q=q,
        category=category,
        categories=categories,
        sort=sort,
        page=page,
        per_page=current_app.config["CATALOG_PAGE_SIZE"],
        narrow=narrow or (),
    )
    if counted and not filters.active:
        # The search's plan as the listing ran it: no second look at the index.
        base = catalog.listing_where(policy, q, category, categories, plan=listing.plan)
    facets = catalog_filters.Facets(counted=counted)
    if counted and base:
        # Counted exactly by the listing itself, unless narrowed or stopped at a cap.
        size = None if filters.active or listing.at_least else listing.total
        key = (q, category.id if category else None)
        facets = catalog_filters.count(policy, base, filters, size=size, key=key)
    where = Where(q, category, sort, filters, view, page)
    context = {
        "listing": listing,
        "categories": categories,
        "category": category,
        "q": q,
        "sort": sort,
        "sorts": catalog.SORTS,
        "where": where,
        "facets": facets,
        "counted": counted,
        "backorders": policy.backorders,
        "thumb_name": photos.thumb_name,
        "specs": (
            catalog_filters.key_specs([p.id for p, _offer in listing.rows]) if view == TABLE else {}
        ),
    }
    response = render("shop/catalog/index.html", RESULTS, oob=[(FACETS, context)], **context)
    if is_htmx() and request.headers.get("HX-Trigger") != "catalog-results":
        # The address bar shows the state as a link would say it (the form also sends its
        # empty and default fields); a live list's own refresh changes no address.
        response.headers["HX-Push-Url"] = where.here()
    return response


@bp.route("/products/<int:product_id>")
def product(product_id: int):
    """One product with its specs, photos and offer; a 404 when not sold to the group."""
    item = or_404(
        db.session.scalar(
            select(Product)
            .where(Product.id == product_id, *visibility.offered(current_user.company.group_id))
            .options(selectinload(Product.photos))
        )
    )
    offer = offer_for(current_user.company.group, item)
    return render(
        "shop/catalog/product.html", product=item, offer=offer, thumb_name=photos.thumb_name
    )


@bp.route("/photos/<path:filename>")
def photo(filename: str):
    """A photo (or thumbnail) of a product on sale; anything else is a 404."""
    return send_photo(filename)


@bp.route("/suggest", endpoint="catalog_suggest")
def suggest():
    """Up to eight products whose SKU or name holds what is being typed in the search box
    (the catalogue's own search, as the group sees it), as a list of links."""
    q = search_arg()
    found = []
    if len(q) >= SUGGEST_FROM:
        policy = GroupPolicy.of(current_user.company.group)
        listing = catalog.browse(policy, q=q, per_page=SUGGESTIONS)
        found = [product for product, _offer in listing.rows]
    return render(
        "shop/catalog/_suggestions.html",
        q=q,
        products=found,
        marked=_marked,
        too_short=0 < len(q) < SUGGEST_FROM,
    )


def _marked(text: str, q: str) -> list[tuple[str, bool]]:
    """`text` in pieces, those that match the search marked (as the search matches:
    ignoring case), for the template to escape piece by piece."""
    lowered, needle = text.lower(), q.lower()
    if not needle or len(lowered) != len(text):
        return [(text, False)]
    pieces, start = [], 0
    while (at := lowered.find(needle, start)) >= 0:
        if at > start:
            pieces.append((text[start:at], False))
        pieces.append((text[at : at + len(needle)], True))
        start = at + len(needle)
    if start < len(text):
        pieces.append((text[start:], False))
    return pieces
