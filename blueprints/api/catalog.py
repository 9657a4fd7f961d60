"""The catalogue as a customer person's group sees it: products with their offer.

The same listing and the same offer as the storefront (core.catalog.browse, core.offer):
the group's prices, the promotions it may see, stock as a count only for a group shown
counts, and nothing the group may not see (core.visibility): a hidden product is a 404.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from core import access, catalog, visibility
from core.catalog import PageAt, Seek
from core.models import Product
from core.offer import GroupPolicy, offer_for
from extensions import db

from . import bp
from .guard import customer_route, person
from .paging import PageArgs, bad_cursor, decode, encode, listed, page_schema
from .present import product_detail, product_summary
from .problems import Problem, not_found
from .schemas import CatalogArgs, ProductDetailSchema, ProductSchema

ProductPage = page_schema(ProductSchema, "ProductPage")


class CatalogQuery(CatalogArgs, PageArgs):
    pass


def visible_categories(user):
    hidden = visibility.of_person(user)
    return [c for c in catalog.category_tree() if not hidden.hides_category(c)]


@bp.route("/catalog")
@customer_route()
@bp.arguments(CatalogQuery, location="query")
@bp.response(200, ProductPage)
@bp.doc(tags=["Catalogue"])
def catalog_list(args):
    """The catalogue, by name, as your group sees it (search with `q`, narrow by `category`)."""
    user = person()
    categories = visible_categories(user)
    category = None
    if args["category"]:
        category = next((c for c in categories if c.slug == args["category"]), None)
        if category is None:
            raise Problem(404, _("There is no category “%(slug)s”.", slug=args["category"][:40]))
    q = args["q"].strip()
    at = decode(args.get("cursor"))
    page = 1
    if at is not None:
        if not isinstance(at, dict) or not isinstance(at.get("p"), int):
            raise bad_cursor()
        page = PageAt(max(1, min(at["p"], catalog.MAX_PAGE)), Seek.decode(at.get("at")))
    listing = catalog.browse(
        GroupPolicy.of(user.company.group),
        q=q,
        category=category,
        categories=categories,
        sort="name",
        page=page,
        per_page=args["limit"],
    )
    priced = access.sees_prices(user)  # without shop.prices: no price in any offer
    items = [product_summary(p, offer, priced) for p, offer in listing.rows]
    cursor = None
    if listing.has_next and items:
        cursor = encode({"p": int(listing.page) + 1, "at": None if q else listing.next_at})
    return listed(items, cursor)


@bp.route("/catalog/<int:product_id>")
@customer_route()
@bp.response(200, ProductDetailSchema)
@bp.doc(tags=["Catalogue"])
def catalog_product(product_id: int):
    """One product with its description, specifications and your offer."""
    user = person()
    product = db.session.scalar(
        select(Product).where(Product.id == product_id, *visibility.offered(user.company.group_id))
    )
    if product is None:
        raise not_found()
    found = offer_for(user.company.group, product)
    return product_detail(product, found, access.sees_prices(user))
