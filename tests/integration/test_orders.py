"""Orders: moved by staff in /office/orders (scoped to their customers), followed by customers
in /shop/orders, with who and when for each step, and live on every open page."""

import re
import time
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from core import billing, carts, orders, transaction
from core.models import (
    Company,
    Invoice,
    Order,
    Product,
    Shipment,
    StockMovement,
)
from extensions import db
from tests.delivery import choices as delivery_choices
from tests.delivery import form as delivery_form
from tests.html import find
from tests.records import company, fresh_order, pid, place, user
from tests.sockets import received_text, watch

MCU, CAP = "MCU-STM32F401", "CAP-1206-10U"
COMPANIES = {
    "acme": "Acme Robotics",
    "baltic": "Baltic Drones",
    "carpathia": "Carpathia Makers",
    "delft": "Delft Devices",
    "etna": "Etna Labs",
}


def stock_of(product_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Product.stock).where(Product.id == product_id))


def an_order(slug: str, status: str = "placed") -> Order:
    return db.session.scalar(
        select(Order)
        .join(Company, Company.id == Order.company_id)
        .where(Company.slug == slug, Order.status == status)
        .order_by(Order.id)
    )


def move(c, order_id: int, to: str, note: str = "", **kwargs):
    return c.send(
        "POST", f"/office/orders/{order_id}/move", data={"to": to, "note": note}, **kwargs
    )


def companies_in(html: str) -> set[str]:
    return {name for name in COMPANIES.values() if name in html}


# --- the back-office list ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("anna.sales@portal.test", {"Acme Robotics", "Baltic Drones"}),
        ("marco.sales@portal.test", {"Carpathia Makers", "Delft Devices"}),
        ("warehouse@portal.test", set(COMPANIES.values())),
        ("finance@portal.test", set(COMPANIES.values())),
    ],
)
def test_office_list_is_scoped_to_each_persons_customers(as_user, ctx, email, expected):
    html = as_user(email).get("/office/orders").get_data(as_text=True)
    table = find(html, id="orders-table")
    assert companies_in(table.inner_html) == expected
    visible = orders.visible_orders(user(email)).subquery()
    assert f"{db.session.scalar(select(func.count()).select_from(visible))} orders" in table.text


def test_office_list_searches_by_number_or_company_and_filters_by_status(as_user, ctx):
    c = as_user("manager@portal.test")
    target = an_order("baltic")
    digits = str(int(target.number.removeprefix("SO-")))
    for q in (target.number, digits, target.number.lower()):
        table = find(c.get(f"/office/orders?q={q}").get_data(as_text=True), id="orders-table")
        assert f'id="order-row-{target.id}"' in table.inner_html, q
    table = find(c.get("/office/orders?q=baltic").get_data(as_text=True), id="orders-table")
    assert companies_in(table.inner_html) == {"Baltic Drones"}
    html = c.get("/office/orders?status=delivered").get_data(as_text=True)
    statuses = set(
        re.findall(r'class="status status--(\w+)"', find(html, id="orders-table").inner_html)
    )
    assert statuses == {"delivered"}
    assert c.get("/office/orders?status=lost").status_code == 400
    assert "No order matches “zzz”" in c.get("/office/orders?q=zzz").get_data(as_text=True)


def test_office_list_fragment_refetches_itself_with_its_filters(as_user, ctx):
    response = as_user("anna.sales@portal.test").htmx("/office/orders?status=placed&q=acme")
    html = response.get_data(as_text=True)
    assert "<html" not in html and "HX-Request" in response.headers["Vary"]
    region = find(html, id="orders-table")
    assert "data-live" in region.attrs and region.attrs["hx-trigger"] == "live:refresh"
    assert region.attrs["hx-get"] == "/office/orders?status=placed&q=acme"


def test_office_list_pages(as_user, ctx):
    for _ in range(26):
        place("baltic", {MCU: 1})
    c = as_user("anna.sales@portal.test")
    first = c.get("/office/orders").get_data(as_text=True)
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = c.get("/office/orders?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and 'id="order-row-' in second
    assert c.get("/office/orders?page=x").status_code == 400


# --- one order in the back office ------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "slug"),
    [("marco.sales@portal.test", "acme"), ("anna.sales@portal.test", "carpathia")],
)
def test_an_order_of_someone_elses_customer_is_not_found(as_user, ctx, email, slug):
    order = an_order(slug)
    c = as_user(email)
    assert c.get(f"/office/orders/{order.id}").status_code == 404
    assert move(c, order.id, "confirmed").status_code == 404
    assert fresh_order(order.id).status == "placed"
    assert c.get("/office/orders/999999").status_code == 404


@pytest.mark.parametrize(
    ("email", "costs"),
    [
        ("manager@portal.test", True),
        ("finance@portal.test", True),
        ("anna.sales@portal.test", False),
        ("warehouse@portal.test", False),
    ],
)
def test_costs_and_margins_only_with_finance_costs(as_user, ctx, email, costs):
    order = an_order("acme")
    html = as_user(email).get(f"/office/orders/{order.id}").get_data(as_text=True)
    cost = order.lines[0].unit_cost
    assert ("Margin" in html) is costs and ("Unit cost" in html) is costs
    assert (f"€{cost:.4f}".rstrip("0") in html or f"€{cost:.2f}" in html) is costs


def test_confirming_issues_the_invoice_and_every_total_agrees(as_user, ctx):
    """Cart page, order, order lines and invoice agree to the cent."""
    requester, dm = as_user("request@acme.test"), as_user("orders@acme.test")
    for sku, qty in ((MCU, 37), (CAP, 11)):
        requester.send("POST", "/shop/cart/lines", data={"product_id": pid(sku), "quantity": qty})
    page = requester.get("/shop/cart").get_data(as_text=True)
    shown = Decimal(
        find(page, class_="cart-total").inner_html.split('data-total="')[1].split('"')[0]
    )
    assert (
        requester.send("POST", "/shop/cart/submit", data=delivery_form("acme")).status_code == 302
    )
    request = db.session.scalar(
        select(carts.Cart).where(carts.Cart.status == "submitted").order_by(carts.Cart.id.desc())
    )
    dm.send("POST", f"/shop/approvals/{request.id}/approve")
    db.session.expire_all()
    order = db.session.get(Order, db.session.get(carts.Cart, request.id).order_id)

    anna = as_user("anna.sales@portal.test")
    response = move(anna, order.id, "confirmed", htmx=True)
    assert response.status_code == 200
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    assert invoice is not None and invoice.display_number in response.get_data(as_text=True)
    assert shown == order.total == sum(ln.line_total for ln in order.lines)
    # Parcel, goods under its free-from 250.00: shipping is billed as a line of its own.
    assert order.shipping_name == "Parcel" and order.shipping_price == Decimal("6.90")
    assert invoice.net_total == order.net_total == order.total + order.shipping_price
    assert invoice.net_total == sum(ln.line_total for ln in invoice.lines)
    assert invoice.total == order.gross_total == order.net_total + order.vat_total
    goods = [ln for ln in invoice.lines if ln.sku]  # the shipping line has no SKU
    assert [ln.unit_price for ln in goods] == [ln.unit_price for ln in order.lines]
    assert [ln.description for ln in invoice.lines if not ln.sku] == ["Shipping: Parcel"]
    shop_page = dm.get(f"/shop/orders/{order.id}").get_data(as_text=True)
    assert f'data-total="{order.total}"' in shop_page


def test_each_step_records_who_and_when(as_user, ctx):
    order = an_order("acme")
    anna, warehouse = as_user("anna.sales@portal.test"), as_user("warehouse@portal.test")
    assert move(anna, order.id, "confirmed").status_code == 302
    # Shipping goes through shipments (tests/integration/test_shipments.py), never by hand.
    by_hand = move(warehouse, order.id, "shipped", htmx=True)
    assert by_hand.status_code == 422 and "through its shipments" in by_hand.get_data(as_text=True)
    quantities = {f"quantity-{line.id}": line.quantity for line in order.lines}
    created = warehouse.send(
        "POST", f"/office/orders/{order.id}/shipments/new", data={**quantities, "carrier": ""}
    )
    assert created.status_code == 302
    shipment = fresh_order(order.id).shipments[-1]
    assert warehouse.send("POST", f"/office/shipments/{shipment.id}/ship").status_code == 302
    assert warehouse.send("POST", f"/office/shipments/{shipment.id}/deliver").status_code == 302
    order = fresh_order(order.id)
    steps = [(e.status, e.user.email if e.user else None, e.note) for e in order.events][-3:]
    assert steps == [
        ("confirmed", "anna.sales@portal.test", ""),
        ("shipped", "warehouse@portal.test", f"Shipment {shipment.number}"),
        ("delivered", "warehouse@portal.test", f"Shipment {shipment.number}"),
    ]
    assert all(e.created_at is not None for e in order.events)
    html = as_user("orders@acme.test").get(f"/shop/orders/{order.id}").get_data(as_text=True)
    history = find(html, id=f"order-{order.id}").text
    assert "Anna Kowalska" in history and shipment.number in history and "Delivered" in history


def test_a_move_the_order_does_not_allow_is_refused_and_changes_nothing(as_user, ctx):
    order = an_order("acme", "delivered")
    events = len(order.events)
    response = move(as_user("anna.sales@portal.test"), order.id, "cancelled", htmx=True)
    assert response.status_code == 422
    assert "cannot become cancelled" in response.get_data(as_text=True)
    order = fresh_order(order.id)
    assert order.status == "delivered" and len(order.events) == events
    bad = move(as_user("anna.sales@portal.test"), order.id, "teleported", htmx=True)
    assert bad.status_code == 422


def test_cancelling_restores_stock_records_movements_and_voids_the_invoice(as_user, ctx):
    mcu, cap = pid(MCU), pid(CAP)
    before = stock_of(mcu), stock_of(cap)
    order = place("acme", {MCU: 7, CAP: 3})
    assert (stock_of(mcu), stock_of(cap)) == (before[0] - 7, before[1] - 3)
    anna = as_user("anna.sales@portal.test")
    move(anna, order.id, "confirmed")
    response = move(anna, order.id, "cancelled", note="Customer changed plans")
    assert response.status_code == 302
    assert (stock_of(mcu), stock_of(cap)) == before
    returned = db.session.scalars(
        select(StockMovement).where(
            StockMovement.order_id == order.id, StockMovement.kind == "cancellation"
        )
    ).all()
    assert sorted((m.product_id, m.delta, m.user.email) for m in returned) == sorted(
        [(mcu, 7, "anna.sales@portal.test"), (cap, 3, "anna.sales@portal.test")]
    )
    assert all(m.stock_after - m.stock_before == m.delta for m in returned)
    order = fresh_order(order.id)
    assert order.status == "cancelled" and order.events[-1].note == "Customer changed plans"
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    assert invoice.voided_at is not None
    # A second cancel is refused: the stock comes back once.
    again = move(anna, order.id, "cancelled", htmx=True)
    assert again.status_code == 422
    assert (stock_of(mcu), stock_of(cap)) == before


def test_an_order_paid_in_part_is_not_cancelled_and_nothing_changes(as_user, ctx):
    """Voiding a paid invoice would drop the money from every balance: refused, with the way
    to give it back."""
    mcu = pid(MCU)
    order = place("acme", {MCU: 5})
    anna = as_user("anna.sales@portal.test")
    move(anna, order.id, "confirmed")
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    billing.record_payment(
        invoice,
        Decimal("10.00"),
        billing.today(),
        "transfer",
        "part",
        actor=user("finance@portal.test"),
    )
    db.session.commit()
    movements = select(func.count()).select_from(StockMovement)
    stock, moved = stock_of(mcu), db.session.scalar(movements)
    response = move(anna, order.id, "cancelled", htmx=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "cannot be cancelled: €10.00 was already paid or credited" in text
    assert "credit note on the customer" in text
    db.session.expire_all()
    assert fresh_order(order.id).status == "confirmed" and stock_of(mcu) == stock
    assert db.session.scalar(movements) == moved
    assert db.session.get(Invoice, invoice.id).voided_at is None


def test_read_only_order_people_see_no_buttons_and_cannot_move(as_user, ctx):
    order = an_order("acme")
    for email in ("finance@portal.test", "viewer@portal.test"):
        c = as_user(email)
        html = c.get(f"/office/orders/{order.id}").get_data(as_text=True)
        assert "/move" not in html
        assert move(c, order.id, "confirmed").status_code == 403
    assert fresh_order(order.id).status == "placed"


def test_movers_see_the_next_steps_only(as_user, ctx):
    order = an_order("acme", "shipped")
    anna = as_user("anna.sales@portal.test")
    html = anna.get(f"/office/orders/{order.id}").get_data(as_text=True)
    region = find(html, id=f"order-{order.id}")
    assert "data-live" in region.attrs
    # Its shipments deliver it; only an order shipped before shipments were kept is marked
    # delivered by hand.
    assert re.findall(r'name="to" value="(\w+)"', region.inner_html) == []
    db.session.execute(delete(Shipment).where(Shipment.order_id == order.id))
    db.session.commit()
    html = anna.get(f"/office/orders/{order.id}").get_data(as_text=True)
    region = find(html, id=f"order-{order.id}")
    assert re.findall(r'name="to" value="(\w+)"', region.inner_html) == ["delivered"]
    placed = an_order("acme")
    html = (
        as_user("anna.sales@portal.test").get(f"/office/orders/{placed.id}").get_data(as_text=True)
    )
    region = find(html, id=f"order-{placed.id}").inner_html
    assert re.findall(r'name="to" value="(\w+)"', region) == ["confirmed", "cancelled"]
    assert "hx-confirm" in region and 'name="csrf_token"' in region


# --- the storefront -----------------------------------------------------------------------


@pytest.mark.parametrize("email", ["orders@baltic.test", "request@baltic.test"])
def test_customers_see_their_own_companys_orders_only(as_user, ctx, email):
    c = as_user(email)
    html = c.get("/shop/orders").get_data(as_text=True)
    region = find(html, id=f"shop-orders-{company('baltic').id}")
    numbers = set(re.findall(r"SO-\d{5}", region.inner_html))
    own = {
        o.number
        for o in db.session.scalars(select(Order).where(Order.company_id == company("baltic").id))
    }
    assert numbers == own
    acme = an_order("acme")
    assert c.get(f"/shop/orders/{acme.id}").status_code == 404
    assert c.get(f"/shop/orders/{an_order('baltic').id}").status_code == 200


def test_browse_only_people_have_no_orders(as_user, ctx):
    c = as_user("browse@baltic.test")
    assert c.get("/shop/orders").status_code == 403
    assert c.get(f"/shop/orders/{an_order('baltic').id}").status_code == 403


def test_shop_order_page_shows_lines_and_live_status_without_staff_tools(as_user, ctx):
    order = an_order("acme", "confirmed")
    html = as_user("orders@acme.test").get(f"/shop/orders/{order.id}").get_data(as_text=True)
    region = find(html, id=f"order-{order.id}")
    assert "data-live" in region.attrs and "Confirmed" in region.text
    assert "/move" not in html and "Unit cost" not in html and "Margin" not in html
    assert f'data-total="{order.total}"' in html
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    assert invoice.display_number in region.text


def test_shop_list_filters_and_searches(as_user, ctx):
    c = as_user("orders@acme.test")
    delivered = c.get("/shop/orders?status=delivered").get_data(as_text=True)
    assert set(re.findall(r'class="status status--(\w+)"', delivered)) == {"delivered"}
    target = an_order("acme")
    found = c.get(f"/shop/orders?q={target.number}").get_data(as_text=True)
    assert re.findall(r'id="order-row-(\d+)"', found) == [str(target.id)]
    assert c.get("/shop/orders?status=nope").status_code == 400
    assert "No order matches" in c.get("/shop/orders?q=SO-99999").get_data(as_text=True)


# --- live ----------------------------------------------------------------------------------


def test_an_order_move_reaches_each_face_in_its_own_form_and_scope(connect, ctx):
    order = an_order("acme")
    acme, region = company("acme").id, f"order-{order.id}"
    sockets = {
        "anna.sales@portal.test": {region, "orders-table"},
        "marco.sales@portal.test": {region},
        "finance@portal.test": {region},
        "orders@acme.test": {region, f"shop-orders-{acme}"},
        "request@acme.test": {region},
        "browse@acme.test": {region},
        # A crafted watch list: another company's order and list.
        "orders@baltic.test": {region, f"shop-orders-{acme}"},
    }
    opened = {email: connect(email) for email in sockets}
    for email, regions in sockets.items():
        watch(opened[email], regions)
    time.sleep(0.3)
    orders.move(order, "confirmed", actor=user("manager@portal.test"))
    db.session.commit()
    got = {email: received_text(ws, 1.5) for email, ws in opened.items()}

    anna = got["anna.sales@portal.test"]
    assert f'id="{region}"' in anna and "Confirmed" in anna and "Cancel order" in anna
    assert 'data-refresh="orders-table"' in anna
    assert 'name="csrf_token"' not in anna  # a push carries no token of another session
    assert got["marco.sales@portal.test"] == ""
    finance = got["finance@portal.test"]
    assert f'id="{region}"' in finance and "Cancel order" not in finance
    dm = got["orders@acme.test"]
    assert f'id="{region}"' in dm and "Confirmed" in dm and "Cancel order" not in dm
    assert f'data-refresh="shop-orders-{acme}"' in dm
    assert f'id="{region}"' in got["request@acme.test"]
    assert got["browse@acme.test"] == ""
    assert got["orders@baltic.test"] == ""  # neither the order nor a signal of Acme's list


def test_requests_and_decisions_refresh_the_right_pages_only(connect, ctx):
    acme = company("acme").id
    requester = user("request@acme.test")
    watchers = {
        "orders@acme.test": {f"approvals-{acme}"},
        "request@acme.test": {f"my-cart-{requester.id}"},
        "orders@baltic.test": {f"approvals-{acme}"},
        "request@baltic.test": {f"my-cart-{requester.id}"},
    }
    opened = {email: connect(email) for email in watchers}
    for email, regions in watchers.items():
        watch(opened[email], regions)
    time.sleep(0.3)
    carts.add(requester, pid(MCU), 3)
    db.session.commit()
    assert f'data-refresh="my-cart-{requester.id}"' in received_text(opened["request@acme.test"])
    assert (
        received_text(opened["orders@acme.test"], 0.3) == ""
    )  # an open cart is nobody else's news
    carts.submit(requester, "please", delivery_choices("acme"))
    db.session.commit()
    assert f'data-refresh="approvals-{acme}"' in received_text(opened["orders@acme.test"])
    request = db.session.scalar(
        select(carts.Cart).where(carts.Cart.owner_id == requester.id).order_by(carts.Cart.id.desc())
    )
    transaction.committed(lambda: carts.approve(user("orders@acme.test"), request.id))
    assert f'data-refresh="my-cart-{requester.id}"' in received_text(opened["request@acme.test"])
    assert received_text(opened["orders@baltic.test"], 0.3) == ""
    assert received_text(opened["request@baltic.test"], 0.3) == ""


def test_a_price_change_refreshes_the_carts_holding_the_product(connect, ctx):
    from core import products

    holder = user("request@baltic.test")
    product = carts.open_cart(holder).lines[0].product
    ws = connect("request@baltic.test")
    watch(ws, {f"my-cart-{holder.id}", f"offer-{product.id}"})
    time.sleep(0.3)
    products.set_prices(product, actor=None, base_price=str(product.base_price + 1))
    db.session.commit()
    messages = received_text(ws)
    assert (
        f'data-refresh="my-cart-{holder.id}"' in messages and f'id="offer-{product.id}"' in messages
    )


def test_stock_taken_by_an_order_updates_open_offers(connect, ctx):
    product = pid(CAP)
    ws = connect("orders@acme.test")
    watch(ws, {f"offer-{product}"})
    time.sleep(0.3)
    left = stock_of(product)
    place("baltic", {CAP: 2})
    assert f"{left - 2} in stock" in received_text(ws)


def test_search_helper_matches_numbers_and_companies(ctx):
    target = an_order("delft")
    stmt = orders.search(select(Order), target.number.removeprefix("SO-").lstrip("0"))
    assert target.id in db.session.scalars(stmt.with_only_columns(Order.id)).all()
    stmt = orders.search(select(Order.id), "delft")
    ids = set(db.session.scalars(stmt))
    assert ids == set(
        db.session.scalars(select(Order.id).where(Order.company_id == company("delft").id))
    )
