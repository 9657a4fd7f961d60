"""Live regions of the catalogue, products, stock and promotions.

- `offer-<product>`: price, promotion and stock of one product as a customer group sees
  it (the storefront's catalogue and product pages). A product the group may not see
  (archived, or hidden from it: core.visibility) is never rendered: no push.
- `product-status-<product>`: on a storefront product page, empty while the viewer's group
  may buy the product, "no longer available" once it may not (it is rendered only when the
  page resyncs, as all of a group's pages do when what the group sees changes).
- `product-<id>` (a row of the back-office product list), `stock-<id>` (a stock level)
  and `product-facts-<id>` (a product page's prices, group prices, cost, margin and
  stock): rendered per audience, since costs, stock and group prices each depend on a
  permission, so nobody receives a figure their page would not show.
- Lists, told to re-fetch themselves: `catalog-results`, `products-table`,
  `product-photos-<id>`, `stock-movements-<id>`, `low-stock`, `promotions-table`.
"""

import re

from flask import current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core import access, margins, photos, visibility
from core import products as products_service
from core.events import Event
from core.models import (
    Category,
    CustomerGroup,
    Product,
    promotion_categories,
    promotion_products,
)
from core.offer import offers_for
from extensions import db

from .registry import RegionKind, affects, register, rendering_as

OFFER = "shop/catalog/_offer.html"
STATUS = "shop/catalog/_status.html"
PRODUCT_ROW = "office/products/_row.html"
STOCK_LEVEL = "office/stock/_level.html"
FACTS = "office/products/_facts.html"
PHOTOS = "office/products/_photos.html"


# --- contexts, shared by the pages and the pushes ------------------------------------------


def row_context(user) -> dict:
    """What a back-office product row shows besides the product: costs, stock."""
    return {
        "show_costs": access.can(user, "finance.costs"),
        "show_stock": access.can(user, "stock.view"),
    }


def facts_context(product: Product, user) -> dict:
    """What the facts panel of a product shows to this person (pages and pushes)."""
    show_costs = access.can(user, "finance.costs")
    price_rows = []
    if access.can(user, "groups.view"):
        own = products_service.group_prices(product)
        for group in db.session.scalars(select(CustomerGroup).order_by(CustomerGroup.name)):
            price = own.get(group.id)
            pays = price if price is not None else product.base_price
            price_rows.append(
                {
                    "group": group,
                    "price": price,
                    "margin": margins.percent(pays, product.cost) if show_costs else None,
                }
            )
    return {
        "product": product,
        "show_costs": show_costs,
        "show_stock": access.can(user, "stock.view"),
        "price_rows": price_rows,
        "base_margin": margins.percent(product.base_price, product.cost) if show_costs else None,
    }


def photos_context(product: Product, **extra) -> dict:
    """What the photos component of a product page shows."""
    return {
        "product": product,
        "photos": list(product.photos),
        "thumb_name": photos.thumb_name,
        "max_photos": photos.MAX_PHOTOS,
        "max_size": photos.size_label(current_app.config["PHOTO_MAX_BYTES"]),
        **extra,
    }


# --- rendering for pushes -----------------------------------------------------------------


def _render_offers(connection, product_ids: list[int]) -> dict:
    group_id = connection.viewer.group_id
    group = db.session.get(CustomerGroup, group_id)
    shown = visibility.offered(group_id)  # on sale, and not hidden from the group
    products = list(db.session.scalars(select(Product).where(Product.id.in_(product_ids), *shown)))
    offers = offers_for(group, products)
    with rendering_as(connection):
        return {p.id: render_template(OFFER, product=p, offer=offers[p.id]) for p in products}


def _render_statuses(connection, product_ids: list[int]) -> dict:
    # Every id asked gets the same two answers: one not sold to the group, whether it
    # never existed, was archived or is hidden from it, reads "no longer available".
    shown = visibility.offered(connection.viewer.group_id)
    sold = set(db.session.scalars(select(Product.id).where(Product.id.in_(product_ids), *shown)))
    with rendering_as(connection):
        return {
            pid: render_template(STATUS, product_id=pid, available=pid in sold)
            for pid in product_ids
        }


def _products(product_ids: list[int]):
    return db.session.scalars(
        select(Product).where(Product.id.in_(product_ids)).options(joinedload(Product.category))
    )


def _render_rows(connection, product_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        context = row_context(user)
        return {
            p.id: render_template(PRODUCT_ROW, product=p, **context) for p in _products(product_ids)
        }


def _render_levels(connection, product_ids: list[int]) -> dict:
    with rendering_as(connection):
        products = db.session.scalars(select(Product).where(Product.id.in_(product_ids)))
        return {p.id: render_template(STOCK_LEVEL, product=p) for p in products}


def _render_facts(connection, product_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        if user is None:
            return {}
        return {
            p.id: render_template(FACTS, **facts_context(p, user)) for p in _products(product_ids)
        }


register(RegionKind("offer", re.compile(r"offer-(\d+)"), _render_offers))
register(RegionKind("product-status", re.compile(r"product-status-(\d+)"), _render_statuses))
register(RegionKind("product-row", re.compile(r"product-(\d+)"), _render_rows))
register(RegionKind("stock-level", re.compile(r"stock-(\d+)"), _render_levels))
register(RegionKind("product-facts", re.compile(r"product-facts-(\d+)"), _render_facts))
# Lists: ids without a capture group, so the refresh signal names the whole id.
for _name, _pattern in (
    ("catalog-results", r"catalog-results"),
    ("products-table", r"products-table"),
    ("product-photos", r"product-photos-\d+"),
    ("stock-movements", r"stock-movements-\d+"),
    ("low-stock", r"low-stock"),
    ("promotions-table", r"promotions-table"),
):
    register(RegionKind(_name, re.compile(_pattern), is_list=True))


# --- which events touch which regions -------------------------------------------------------


def products_of_promotion(promotion_id: int) -> set[int]:
    """Products a promotion covers, directly or through its categories (and their children)."""
    direct = set(
        db.session.scalars(
            select(promotion_products.c.product_id).where(
                promotion_products.c.promotion_id == promotion_id
            )
        )
    )
    categories = select(promotion_categories.c.category_id).where(
        promotion_categories.c.promotion_id == promotion_id
    )
    children = select(Category.id).where(Category.parent_id.in_(categories))
    via_category = set(
        db.session.scalars(
            select(Product.id).where(
                Product.category_id.in_(categories) | Product.category_id.in_(children)
            )
        )
    )
    return direct | via_category


@affects("stock_changed", "product_changed", "price_changed")
def _product_regions(event: Event) -> set[str]:
    return {f"offer-{event.id}", f"product-{event.id}", f"stock-{event.id}"}


@affects("stock_changed")
def _stock_regions(event: Event) -> set[str]:
    return {f"product-facts-{event.id}", f"stock-movements-{event.id}", "low-stock"}


@affects("price_changed")
def _price_regions(event: Event) -> set[str]:
    return {f"product-facts-{event.id}"}


@affects("product_changed")
def _edited_product(event: Event) -> set[str]:
    # A new name or category changes what the lists show.
    return {f"product-facts-{event.id}", "catalog-results", "products-table"}


@affects("product_created", "product_removed")
def _product_on_or_off_sale(event: Event) -> set[str]:
    # Archiving and restoring change the product page's status and the low-stock list.
    return {f"product-facts-{event.id}", "low-stock", "catalog-results", "products-table"}


@affects("photos_changed")
def _photo_regions(event: Event) -> set[str]:
    return {f"product-photos-{event.id}"}


@affects("catalogue_changed")
def _catalogue_lists(event: Event) -> set[str]:
    # The one signal of a large import, instead of an event per product.
    return {"catalog-results", "products-table", "low-stock"}


@affects("promotion_changed")
def _promotion_regions(event: Event) -> set[str]:
    # Any promotion change (and the clock starting or ending one) refreshes open lists.
    return {"promotions-table"} | {f"offer-{pid}" for pid in products_of_promotion(event.id)}
