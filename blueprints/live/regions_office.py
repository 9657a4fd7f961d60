"""Live regions of the back-office product and stock screens.

- `product-facts-<id>`: a product page's prices, group prices, cost and margin, stock and
  status, rendered per audience (costs, stock and group prices each depend on a
  permission), so nobody receives a figure their page would not show.
- `product-photos-<id>`, `stock-movements-<id>` and `low-stock`: lists, told to re-fetch
  themselves through their own views when photos, movements or stock change.
- Product edits refresh the storefront catalogue and the back-office product list (a new
  name or category changes what they list), beside the per-product regions regions.py
  already maps for `product_changed`.
"""

import re

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.office.products import facts_context
from core.events import Event
from core.models import Product
from extensions import db

from .regions import RegionKind, affects, register, rendering_as

FACTS_FIELDS = ("finance.costs", "stock.view", "groups.view")


def _staff_with(permission: str, *fields: str):
    def audience(connection):
        v = connection.viewer
        if v.kind != "staff" or permission not in v.permissions:
            return None
        return (permission, *(f in v.permissions for f in fields))

    return audience


def _render_facts(connection, product_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        if user is None:
            return {}
        found = db.session.scalars(
            select(Product).where(Product.id.in_(product_ids)).options(joinedload(Product.category))
        )
        return {
            p.id: render_template("office/products/_facts.html", **facts_context(p, user))
            for p in found
        }


register(
    RegionKind(
        "product-facts",
        re.compile(r"product-facts-(\d+)"),
        _staff_with("products.view", *FACTS_FIELDS),
        _render_facts,
    )
)
# Lists: ids without a capture group, so the refresh signal names the whole id.
register(
    RegionKind(
        "product-photos",
        re.compile(r"product-photos-\d+"),
        _staff_with("products.view"),
        is_list=True,
    )
)
register(
    RegionKind(
        "stock-movements",
        re.compile(r"stock-movements-\d+"),
        _staff_with("stock.view"),
        is_list=True,
    )
)
register(RegionKind("low-stock", re.compile(r"low-stock"), _staff_with("stock.view"), is_list=True))


@affects("stock_changed")
def _stock_regions(event: Event) -> set[str]:
    return {f"product-facts-{event.id}", f"stock-movements-{event.id}", "low-stock"}


@affects("price_changed")
def _price_regions(event: Event) -> set[str]:
    return {f"product-facts-{event.id}"}


@affects("product_changed")
def _edited_product(event: Event) -> set[str]:
    return {f"product-facts-{event.id}", "catalog-results", "products-table"}


@affects("product_created", "product_removed")
def _product_on_or_off_sale(event: Event) -> set[str]:
    # Archiving and restoring change the product page's status and the low-stock list.
    return {f"product-facts-{event.id}", "low-stock"}


@affects("photos_changed")
def _photo_regions(event: Event) -> set[str]:
    return {f"product-photos-{event.id}"}
