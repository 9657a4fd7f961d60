"""The live region of a company's shared list.

- `list-<id>`: the list's name, description, lines and each line's offer as the viewer's
  group sees it (price with promotion, stock as a count or as levels), with the controls
  the viewer's rights give. Re-rendered per audience (core.access: the company, its
  group, and whether the viewer edits lists and builds carts) when a colleague changes
  the list, and when an offer of a product on it changes. Only the viewer's own
  company's lists are rendered: a page watching another company's list gets nothing.
"""

import re
from decimal import Decimal

from flask import render_template
from sqlalchemy import select

from core import access, lists
from core.events import Event
from core.models import ShoppingList, ShoppingListLine
from extensions import db

from .catalog import products_of_promotion
from .registry import RegionKind, affects, register, rendering_as

LIST = "shop/lists/_list.html"


def list_context(lst: ShoppingList, user, **extra) -> dict:
    """What the list region shows to this person (pages and pushes alike)."""
    items = lists.priced(lst, user)
    total = sum(
        (item.unit_price() * item.line.quantity for item in items if item.available),
        Decimal("0.00"),
    )
    return {
        "lst": lst,
        "items": items,
        "kit_total": total,
        "unavailable": [item for item in items if not item.available],
        "may_edit": lists.may_edit(user),
        "may_cart": access.can(user, "shop.cart"),
        **extra,
    }


def _render_lists(connection, list_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        if user is None or not user.is_customer:
            return {}
        found = db.session.scalars(
            select(ShoppingList).where(
                ShoppingList.id.in_(list_ids), ShoppingList.company_id == user.company_id
            )
        )
        return {lst.id: render_template(LIST, **list_context(lst, user)) for lst in found}


register(RegionKind("list", re.compile(r"list-(\d+)"), _render_lists))


def lists_showing(product_ids) -> set[str]:
    """The regions of the lists that have one of these products on them."""
    ids = list(product_ids)
    if not ids:
        return set()
    found = db.session.scalars(
        select(ShoppingListLine.list_id).where(ShoppingListLine.product_id.in_(ids)).distinct()
    )
    return {f"list-{list_id}" for list_id in found}


@affects("list_changed")
def _changed_list(event: Event) -> set[str]:
    return {f"list-{event.id}"}


@affects("stock_changed", "product_changed", "price_changed", "product_created", "product_removed")
def _offer_on_lists(event: Event) -> set[str]:
    # Whatever changes an offer region changes the lines showing that offer (archiving a
    # product makes its lines unavailable).
    return lists_showing([event.id])


@affects("promotion_changed")
def _promotion_on_lists(event: Event) -> set[str]:
    return lists_showing(products_of_promotion(event.id))


@affects("catalogue_changed")
def _catalogue_on_lists(event: Event) -> set[str]:
    # A large import's one signal, instead of an event per product: every list.
    return {f"list-{list_id}" for list_id in db.session.scalars(select(ShoppingList.id))}
