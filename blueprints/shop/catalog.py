"""The catalogue: browse, search, sort, page, and one product's page."""

from flask import current_app, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints.common import listing_args, or_404, render
from blueprints.photos import send_photo
from core import catalog, photos
from core.models import Product
from core.offer import GroupPolicy, offer_for
from extensions import db

from . import bp


def _listing_args(categories):
    """Parse the catalogue's query string; a BadQuery becomes a clear 400 page."""
    q, sort, page = listing_args()
    category = None
    slug = request.args.get("category")
    if slug:
        category = or_404(next((c for c in categories if c.slug == slug), None))
    return q, sort, page, category


@bp.route("/", endpoint="catalog")
def catalog_page():
    """The catalogue as the viewer's group sees it."""
    categories = catalog.category_tree()
    q, sort, page, category = _listing_args(categories)
    listing = catalog.browse(
        GroupPolicy.of(current_user.company.group),
        q=q,
        category=category,
        categories=categories,
        sort=sort,
        page=page,
        per_page=current_app.config["CATALOG_PAGE_SIZE"],
    )
    return render(
        "shop/catalog/index.html",
        "shop/catalog/_results.html",
        listing=listing,
        categories=categories,
        category=category,
        q=q,
        sort=sort,
        sorts=catalog.SORTS,
    )


@bp.route("/products/<int:product_id>")
def product(product_id: int):
    """One product with its specs, photos and offer."""
    item = or_404(
        db.session.scalar(
            select(Product)
            .where(Product.id == product_id, Product.sold())
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
