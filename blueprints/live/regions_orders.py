"""Live regions of carts and orders (registered with regions.register and regions.affects).

- `order-<id>`: the status, invoice, next steps and history of one order, rendered per
  face and audience, always loaded through the viewer's own scope.
- `orders-table` (back office), `shop-orders-<company>` and `approvals-<company>`
  (storefront), `my-cart-<person>`: lists, refreshed by a signal and re-fetched through
  their own scoped views. The storefront ones carry the company (or person) in their
  id, and a socket asking for another company's (or person's) id gets none of them, so
  no page learns when another company orders.
"""

import re

from flask import render_template
from sqlalchemy import select

from blueprints.office.orders import status_context as office_context
from blueprints.shop.orders import status_context as shop_context
from core import orders
from core.events import Event
from core.models import Cart, CartLine, Order
from extensions import db

from . import regions
from .regions import RegionKind, rendering_as

ORDER_READERS = frozenset({"shop.order", "shop.cart"})
PRICE_TOPICS = ("price_changed", "product_removed", "product_created")


def _order_audience(connection):
    """Everything that changes how an order's status renders for this viewer."""
    v = connection.viewer
    if v.kind == "customer":
        if not v.permissions & ORDER_READERS:
            return None
        return ("customer", v.company_id, "shop.invoices" in v.permissions)
    if v.kind == "staff" and "orders.view" in v.permissions:
        return (
            "staff",
            v.scope,
            "orders.edit" in v.permissions,
            "finance.costs" in v.permissions,
            "invoices.view" in v.permissions,
        )
    return None


def _render_orders(connection, order_ids: list[int]) -> dict:
    """Each order's status fragment, for orders this viewer may see; nothing for others."""
    with rendering_as(connection) as user:
        if user is None:
            return {}
        found = orders.visible_orders(user).where(Order.id.in_(order_ids))
        if user.is_staff:
            template, context = "office/orders/_status.html", office_context
        else:
            template, context = "shop/orders/_status.html", shop_context
        # Pushed forms carry no CSRF field: the page's htmx sends its token in a header.
        return {
            o.id: render_template(template, **context(o), pushed=True)
            for o in db.session.scalars(found)
        }


def _own_list(kind_name: str, own):
    """A storefront list's audience: only a socket that watches its own id gets any.

    `own(viewer)` is the one id of this kind the viewer may watch (or None). The ids
    carry no capture group, so the hub's refresh signal names the whole id.
    """

    def audience(connection):
        v = connection.viewer
        mine = own(v) if v.kind == "customer" else None
        if mine is None:
            return None
        kind = next(k for k in regions.KINDS if k.name == kind_name)
        watched = {r for r in connection.watching if kind.key_of(r) is not None}
        if watched - {mine}:
            return None  # a crafted watch list naming another company or person
        return (kind_name, mine)

    return audience


def _orders_reader(v):
    return f"shop-orders-{v.company_id}" if v.permissions & ORDER_READERS else None


def _approver(v):
    return f"approvals-{v.company_id}" if "shop.approve" in v.permissions else None


def _cart_holder(v):
    return f"my-cart-{v.user_id}" if "shop.cart" in v.permissions else None


def _office_orders(connection):
    v = connection.viewer
    if v.kind != "staff" or "orders.view" not in v.permissions:
        return None
    return ("orders-table", v.scope)


regions.register(RegionKind("order", re.compile(r"order-(\d+)"), _order_audience, _render_orders))
regions.register(
    RegionKind("orders-table", re.compile(r"orders-table"), _office_orders, is_list=True)
)
regions.register(
    RegionKind(
        "shop-orders",
        re.compile(r"shop-orders-\d+"),
        _own_list("shop-orders", _orders_reader),
        is_list=True,
    )
)
regions.register(
    RegionKind(
        "approvals",
        re.compile(r"approvals-\d+"),
        _own_list("approvals", _approver),
        is_list=True,
    )
)
regions.register(
    RegionKind(
        "my-cart",
        re.compile(r"my-cart-\d+"),
        _own_list("my-cart", _cart_holder),
        is_list=True,
    )
)


def _data(event: Event) -> dict:
    return dict(event.data)


@regions.affects("order_changed")
def _order_regions(event: Event) -> set[str]:
    found = {f"order-{event.id}", "orders-table"}
    company = _data(event).get("company")
    if company is not None:
        found.add(f"shop-orders-{company}")
    return found


@regions.affects("cart_changed")
def _cart_regions(event: Event) -> set[str]:
    data = _data(event)
    found = set()
    if data.get("owner") is not None:
        found.add(f"my-cart-{data['owner']}")
    if data.get("request") and data.get("company") is not None:
        found.add(f"approvals-{data['company']}")
    return found


def _carts_holding(product_ids: set[int]) -> set[str]:
    """Open carts and pending requests holding these products: their prices changed."""
    if not product_ids:
        return set()
    rows = db.session.execute(
        select(Cart.owner_id, Cart.company_id, Cart.status)
        .join(CartLine, CartLine.cart_id == Cart.id)
        .where(CartLine.product_id.in_(product_ids), Cart.status.in_(("open", "submitted")))
        .distinct()
    )
    found = set()
    for owner_id, company_id, status in rows:
        found.add(f"my-cart-{owner_id}")
        if status == "submitted":
            found.add(f"approvals-{company_id}")
    return found


@regions.affects(*PRICE_TOPICS)
def _carts_of_product(event: Event) -> set[str]:
    return _carts_holding({event.id})


@regions.affects("promotion_changed")
def _carts_of_promotion(event: Event) -> set[str]:
    return _carts_holding(regions.products_of_promotion(event.id))
