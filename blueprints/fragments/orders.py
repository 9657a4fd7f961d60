"""Live regions of carts and orders, with the order document's context for both faces.

- `order-<id>`: the status, invoice, next steps and history of one order, rendered per
  audience, always loaded through the viewer's own scope.
- `orders-table` (back office), `shop-orders-<company>` and `approvals-<company>`
  (storefront), `my-cart-<person>`: lists, refreshed by a signal and re-fetched through
  their own scoped views. The storefront ones carry the company (or person) in their
  id, and a socket asking for another company's (or person's) id gets none of them, so
  no page learns when another company orders.
- `second-approvals` (the orders page) and `second-approvals-<company>` (a customer's
  page): carts and quotes of the viewer's customers waiting for a second approval,
  which staff who may move orders give in the company's stead; lists too.
"""

import re

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core import access, carts, delivery, margins, orders, quotes
from core.events import Event
from core.models import Cart, CartLine, Company, Invoice, Order
from core.pagination import paginate
from extensions import db

from .catalog import products_of_promotion
from .registry import RegionKind, affects, register, rendering_as

STATUS = "orders/_status.html"
SECOND_APPROVALS = "office/orders/_second_approvals.html"
PER_PAGE = 25


def face_of(user) -> str:
    """The face a person works in: the back office for staff, the storefront for customers."""
    return "office" if user.is_staff else "shop"


def order_context(order: Order, user, **extra) -> dict:
    """What an order's page and its live status show to this person, in either face."""
    face = face_of(user)
    invoice = None
    if access.sees_order_invoice(user):
        invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    invoice_url = None
    endpoint = f"{face}.invoice"
    if (
        invoice is not None
        and access.may_read(user, "invoices")
        and endpoint in current_app.view_functions
    ):
        invoice_url = url_for(endpoint, invoice_id=invoice.id)
    may_move = access.can(user, "orders.edit")
    return {
        "face": face,
        "order": order,
        "labels": orders.STATUS_LABELS,
        "moves": orders.MOVE_LABELS,
        "next_states": orders.next_states(order) if may_move else (),
        "may_move": may_move,
        "invoice": invoice,
        "invoice_url": invoice_url,
        "margin": margins.of_order(order) if access.can(user, "finance.costs") else None,
        # Quantities only for staff and groups that see counts (orders.backorders_seen).
        "backorders": orders.backorders_seen(order, user),
        "delivery_lines": delivery.order_address(order),
        **extra,
    }


def list_context(user, *, status: str, q: str, page: int) -> dict:
    """One page of the orders this person may see, newest first, in either face."""
    face = face_of(user)
    stmt = orders.visible_orders(user).options(joinedload(Order.placed_by))
    if face == "office":
        stmt = stmt.options(joinedload(Order.company))
    if status:
        stmt = stmt.where(Order.status == status)
    if q:
        stmt = orders.search(stmt, q)
    listing = paginate(stmt.order_by(Order.created_at.desc(), Order.id.desc()), page, PER_PAGE)
    return {
        "face": face,
        "listing": listing,
        "status": status,
        "statuses": orders.STATUS_LABELS,
        "q": q,
        "endpoint": f"{face}.orders",
        "region": "orders-table" if face == "office" else f"shop-orders-{user.company_id}",
        "search_label": (
            _("Search by order number or company")
            if face == "office"
            else _("Search by order number")
        ),
    }


def second_approvals_context(user, company: Company | None = None, **extra) -> dict:
    """Carts and quotes of this person's customers (or of one company) that wait for a
    second approval, with who gave the first and whether anyone else at the company can
    give the second. Quotes only for those who see quotes."""
    company_id = company.id if company is not None else None
    waiting = carts.waiting_for_second(user, company_id)
    totals = carts.totals_of(waiting)
    seen_quotes = (
        quotes.waiting_for_second(user, company_id) if access.can(user, "quotes.view") else []
    )
    stuck = {("cart", c.id) for c in waiting if carts.short_of_approvers(c, totals[c.id])}
    stuck |= {("quote", q.id) for q in seen_quotes if quotes.short_of_approvers(q)}
    return {
        "company": company,
        "region": "second-approvals" if company is None else f"second-approvals-{company.id}",
        "waiting_carts": waiting,
        "cart_totals": totals,
        "waiting_quotes": seen_quotes,
        "quote_total": quotes.total,
        "first_approval": quotes.first_approval,
        "latest_round": quotes.latest_round,
        "stuck": stuck,
        "may_give": access.can(user, access.SECOND_APPROVER),
        "notice": "",
        "error": "",
        "placed": None,
        **extra,
    }


def _render_orders(connection, order_ids: list[int]) -> dict:
    """Each order's status fragment, for orders this viewer may see; nothing for others."""
    with rendering_as(connection) as user:
        if user is None or not access.may_read(user, "orders"):
            return {}
        found = orders.visible_orders(user).where(Order.id.in_(order_ids))
        # Pushed forms carry no CSRF field: the page's htmx sends its token in a header.
        return {
            o.id: render_template(STATUS, **order_context(o, user), pushed=True)
            for o in db.session.scalars(found)
        }


register(RegionKind("order", re.compile(r"order-(\d+)"), _render_orders))
for _name, _pattern in (
    ("orders-table", r"orders-table"),
    ("shop-orders", r"shop-orders-\d+"),
    ("approvals", r"approvals-\d+"),
    ("my-cart", r"my-cart-\d+"),
    ("second-approvals", r"second-approvals|second-approvals-\d+"),
):
    register(RegionKind(_name, re.compile(_pattern), is_list=True))


def _data(event: Event) -> dict:
    return dict(event.data)


@affects("order_changed")
def _order_regions(event: Event) -> set[str]:
    found = {f"order-{event.id}", "orders-table"}
    company = _data(event).get("company")
    if company is not None:
        found.add(f"shop-orders-{company}")
    return found


@affects("cart_changed")
def _cart_regions(event: Event) -> set[str]:
    data = _data(event)
    found = set()
    if data.get("owner") is not None:
        found.add(f"my-cart-{data['owner']}")
    if data.get("request") and data.get("company") is not None:
        found.add(f"approvals-{data['company']}")
    return found


@affects("cart_changed", "quote_changed")
def _second_approval_lists(event: Event) -> set[str]:
    """A request or a quote moved: it may start or stop waiting for a second approval."""
    data = _data(event)
    if event.topic == "cart_changed" and not data.get("request"):
        return set()  # an open cart is its owner's alone
    company = data.get("company")
    return {"second-approvals"} | ({f"second-approvals-{company}"} if company else set())


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


# Stock too: whether a line can be supplied in full (the cart's warnings) follows it.
@affects("price_changed", "product_removed", "product_created", "stock_changed")
def _carts_of_product(event: Event) -> set[str]:
    return _carts_holding({event.id})


@affects("promotion_changed")
def _carts_of_promotion(event: Event) -> set[str]:
    return _carts_holding(products_of_promotion(event.id))
