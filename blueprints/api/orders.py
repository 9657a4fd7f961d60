"""Carts and orders through the API: the same services as the storefront and the office.

A customer person's system fills the person's open cart (the one the storefront shows)
and orders it: checkout runs core.carts.checkout, so the approval limit, the delivery
choices, the prices of the offer and the stock rules are the pages' own. Above the
company's approval limit the cart waits for a second decision-maker (202). Orders refused
for want of stock count against the company as at checkout (blueprints/shop/stock_refusals:
trying quantities must not reveal a count the group does not see).

Staff read the orders of their customers and move them as the office does.
"""

import dataclasses

from flask import jsonify, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from blueprints.boundary import attempt
from blueprints.shop.checkout import person_today
from core import carts, delivery, orders
from core.errors import FieldRefused
from core.models import Order

from . import bp, refusals
from .guard import customer_route, person, reader_route, staff_route
from .idempotency import idempotent
from .lookup import product_id_for
from .paging import PageArgs, after_id, listed, page_schema
from .present import cart as cart_of
from .present import order as order_of
from .present import order_summary
from .problems import Problem, not_found, refused
from .schemas import (
    AwaitingApprovalSchema,
    CartLineChange,
    CartLineNew,
    CartSchema,
    CheckoutSchema,
    OrderListArgs,
    OrderMove,
    OrderSchema,
    OrderSummarySchema,
)

OrderPage = page_schema(OrderSummarySchema, "OrderPage")


def current_cart():
    user = person()
    found = carts.open_cart(user)
    priced = carts.priced(found) if found is not None and found.lines else None
    return cart_of(priced, found)


# --- the cart ------------------------------------------------------------------------------


@bp.route("/cart")
@customer_route("shop.cart")
@bp.response(200, CartSchema)
@bp.doc(tags=["Cart"])
def cart():
    """Your open cart at today's prices (empty when you have none)."""
    return current_cart()


@bp.route("/cart/lines", methods=["POST"])
@customer_route("shop.cart")
@bp.arguments(CartLineNew)
@bp.response(200, CartSchema)
@bp.doc(tags=["Cart"])
def cart_add(body):
    """Add a quantity of a product (by `product_id` or `sku`) to your open cart."""
    user = person()
    product_id = product_id_for(user, body)
    added = attempt(lambda: carts.add(user, product_id, body["quantity"]))
    if added.refused:
        raise refused(added.refusal)
    return current_cart()


@bp.route("/cart/lines/<int:line_id>", methods=["PATCH"])
@customer_route("shop.cart")
@bp.arguments(CartLineChange)
@bp.response(200, CartSchema)
@bp.doc(tags=["Cart"])
def cart_line(body, line_id: int):
    """Change a line's quantity (0 takes it out)."""
    user = person()
    if carts.find_line(user, line_id) is None:
        raise not_found()
    changed = attempt(lambda: carts.set_quantity(user, line_id, body["quantity"]))
    if changed.refused:
        raise refused(changed.refusal)
    return current_cart()


@bp.route("/cart/lines/<int:line_id>", methods=["DELETE"])
@customer_route("shop.cart")
@bp.response(200, CartSchema)
@bp.doc(tags=["Cart"])
def cart_remove(line_id: int):
    """Take a line out of your open cart."""
    user = person()
    if carts.find_line(user, line_id) is None:
        raise not_found()
    removed = attempt(lambda: carts.remove(user, line_id))
    if removed.refused:
        raise refused(removed.refusal)
    return current_cart()


# --- orders ----------------------------------------------------------------------------


class OrderQuery(OrderListArgs, PageArgs):
    pass


@bp.route("/orders")
@reader_route("orders")
@bp.arguments(OrderQuery, location="query")
@bp.response(200, OrderPage)
@bp.doc(tags=["Orders"])
def orders_list(args):
    """The orders you may see, newest first: your company's, or your customers' (staff)."""
    user = person()
    stmt = orders.visible_orders(user).options(
        joinedload(Order.company), joinedload(Order.placed_by)
    )
    if args["status"]:
        stmt = stmt.where(Order.status == args["status"])
    if args["company_id"] is not None:
        stmt = stmt.where(Order.company_id == args["company_id"])
    found, cursor = after_id(stmt, Order.id, args)
    return listed([order_summary(o) for o in found], cursor)


def load_order(order_id: int, *, lock: bool = False) -> Order:
    found = orders.load_visible(person(), order_id, lock=lock)
    if found is None:
        raise not_found()
    return found


@bp.route("/orders/<int:order_id>")
@reader_route("orders")
@bp.response(200, OrderSchema)
@bp.doc(tags=["Orders"])
def order(order_id: int):
    """One order: its lines at the prices of the moment it was placed, delivery, totals
    with VAT, and its shipments."""
    return order_of(load_order(order_id), person())


@bp.route("/orders", methods=["POST"])
@customer_route("shop.order")
@idempotent
@bp.arguments(CheckoutSchema)
@bp.response(201, OrderSchema)
@bp.alt_response(202, schema=AwaitingApprovalSchema)
@bp.doc(tags=["Orders"])
def order_place(body):
    """Order your open cart, to the address and by the method given (absent: those the cart
    keeps, else your company's default address and the cheapest method). Above your
    company's approval limit it waits for a second decision-maker (202). Send an
    `Idempotency-Key` so that a retry never orders twice."""
    user = person()
    refusals.check_wait(user)
    found = carts.open_cart(user)
    if found is None or not found.lines:
        raise Problem(
            422, _("Your cart is empty: add products from the catalogue first."), kind="refused"
        )
    choices = delivery.suggested(found)  # what the checkout form starts with
    given = {
        "address_id": body.get("delivery_address_id", choices.address_id),
        "method_id": body.get("shipping_method_id", choices.method_id),
        "reference": body.get("customer_reference", choices.reference),
        "requested_date": body.get("requested_date", choices.requested_date),
    }
    choices = dataclasses.replace(choices, **given)
    placed = attempt(
        lambda: carts.checkout(user, body["note"], choices, today=person_today()), replay=True
    )
    if placed.refused:
        refusals.count(user, placed.refusal)
        raise refused(_named(placed.refusal))
    result = placed.value
    if isinstance(result, Order):
        location = url_for("api.order", order_id=result.id)
        return order_of(result, user), 201, {"Location": location}
    waiting = carts.priced(result)
    detail = _(
        "Your order is above your company's approval limit: it now waits for a second "
        "decision-maker to approve it."
    )
    # A response of its own: @bp.response would dump it again as an order.
    pending = {"status": "awaiting_approval", "cart_id": result.id, "total": waiting.total}
    return jsonify(AwaitingApprovalSchema().dump({**pending, "detail": detail})), 202


def _named(refusal):
    """Checkout's field names as the API's (the form's names differ)."""
    names = {
        "delivery_address": "delivery_address_id",
        "shipping_method": "shipping_method_id",
        "customer_reference": "customer_reference",
        "requested_date": "requested_date",
    }
    field = getattr(refusal, "field", None)
    if field in names:
        return FieldRefused(str(refusal), names[field])
    return refusal


@bp.route("/orders/<int:order_id>/moves", methods=["POST"])
@staff_route("orders.edit")
@bp.arguments(OrderMove)
@bp.response(200, OrderSchema)
@bp.doc(tags=["Orders"])
def order_move(body, order_id: int):
    """Move an order on by hand (confirm, cancel: its stock goes back on the shelf), as the
    office does; shipping and delivery follow its shipments."""
    user = person()
    load_order(order_id)

    def work():
        locked = load_order(order_id, lock=True)
        orders.move(locked, body["to"], actor=user, note=body["note"])
        return locked

    moved = attempt(work, replay=True)
    if moved.refused:
        raise refused(moved.refusal)
    return order_of(load_order(order_id), user)
