"""Back-orders and the over-ordering dead end (issue 13, point 5).

A group that accepts back-orders (the demo's Standard) never has an order refused for
stock: it takes what there is, and the rest waits for a goods receipt, which serves it
first, oldest order first. A group without (Partner, Wholesale) is told in the cart which
lines may not be supplied in full, and offered to lower them or to ask for a quote; the
exact check is the order's own, at checkout, whose refusals are throttled per company.

For a group that sees levels, nothing here ever narrows the count below its band: not the
cart, not the quote form, not the order, its mails and pushes, nor a refusal.
"""

import re
import time
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, select, update

from core import addresses, delivery, orders, shipping_methods, stock, throttle
from core.events import subscribe, unsubscribe
from core.models import (
    AuditEntry,
    Cart,
    CustomerGroup,
    DeliveryAddress,
    LoginAttempt,
    Order,
    OrderLine,
    OutboxMail,
    Product,
    ShippingMethod,
    StockMovement,
)
from core.orders import LineRequest
from extensions import db
from tests.html import find
from tests.integration.test_quotes import decide, offer
from tests.records import company, user
from tests.sockets import drain, watch

MCU, CAP, USBC = "MCU-STM32F401", "CAP-1206-10U", "CON-USBC-16P"
STANDARD_DM = "orders@carpathia.test"  # Standard: levels, back-orders accepted (demo)
PARTNER_DM = "orders@baltic.test"  # Partner: levels, quotes, no back-orders
WHOLESALE_DM = "orders@acme.test"  # Wholesale: exact counts, quotes, no back-orders
ADMIN, WAREHOUSE, ANNA = "admin@portal.test", "warehouse@portal.test", "anna.sales@portal.test"
LIMIT = throttle.COMPANY_LIMITS["order_stock"].refusals


# --- helpers ------------------------------------------------------------------------------


def group(name: str) -> CustomerGroup:
    return db.session.scalar(select(CustomerGroup).where(CustomerGroup.name == name))


def product(sku: str) -> Product:
    db.session.expire_all()
    return db.session.scalar(select(Product).where(Product.sku == sku))


def set_stock(sku: str, count: int) -> None:
    db.session.execute(update(Product).where(Product.sku == sku).values(stock=count))
    db.session.commit()


def single_units(sku: str) -> None:
    """Sell the product by the unit, without a minimum: these tests try every quantity of
    a stock band, which CAP-1206-10U's demo pack of 10 would refuse before stock is asked
    (quantity rules: test_quantity_breaks.py)."""
    db.session.execute(
        update(Product).where(Product.sku == sku).values(min_quantity=1, order_multiple=1)
    )
    db.session.commit()


def fresh():
    db.session.rollback()
    db.session.expire_all()


def ready(slug: str) -> None:
    """The company can check out: a default delivery address and a shipping method its
    group may use (added when the demo has none), no reference required."""
    found = company(slug)
    if addresses.default_of(found.id) is None:
        db.session.add(
            DeliveryAddress(
                company_id=found.id,
                name=found.name,
                street="Lagerstraße 1",
                postcode="20457",
                city="Hamburg",
                country="DE",
                is_default=True,
            )
        )
    if not shipping_methods.allowed_for(found.group_id):
        method = db.session.scalar(
            select(ShippingMethod).where(ShippingMethod.name == "Back-order test parcel")
        ) or ShippingMethod(name="Back-order test parcel", price=Decimal("5.00"), lead_days=0)
        method.groups.append(found.group)
        db.session.add(method)
    found.reference_required = False
    db.session.commit()


def open_cart(email: str) -> Cart | None:
    fresh()
    return db.session.scalar(
        select(Cart).where(Cart.owner_id == user(email).id, Cart.status == "open")
    )


def add(c, sku: str, quantity, **kwargs):
    data = {"product_id": product(sku).id, "quantity": quantity}
    return c.send("POST", "/shop/cart/lines", data=data, **kwargs)


def line_of(email: str, sku: str):
    cart = open_cart(email)
    return next(ln for ln in cart.lines if ln.product_id == product(sku).id)


def set_quantity(c, email: str, sku: str, quantity, **kwargs):
    line = line_of(email, sku)
    return c.send("POST", f"/shop/cart/lines/{line.id}", data={"quantity": quantity}, **kwargs)


def checkout(c, email: str, *, htmx: bool = True):
    """Check out the open cart with the company's default address and cheapest method."""
    cart = open_cart(email)
    chosen = delivery.suggested(cart)
    db.session.rollback()
    data = {
        "note": "",
        "delivery_address": str(chosen.address_id or ""),
        "shipping_method": str(chosen.method_id or ""),
        "customer_reference": "PO-4711",
        "requested_date": "",
    }
    return c.send("POST", "/shop/cart/checkout", data=data, htmx=htmx)


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def place(slug: str, *lines: tuple[str, int]) -> Order:
    order = orders.place(
        company(slug),
        [LineRequest(product(sku).id, quantity) for sku, quantity in lines],
        placed_by=user(f"orders@{slug}.test"),
    )
    db.session.commit()
    return order


def backordered(order_id: int, sku: str) -> int:
    fresh()
    return db.session.scalar(
        select(OrderLine.backordered).where(OrderLine.order_id == order_id, OrderLine.sku == sku)
    )


def mails_to(email: str) -> list[OutboxMail]:
    fresh()
    return list(
        db.session.scalars(
            select(OutboxMail).where(OutboxMail.to_addr == email).order_by(OutboxMail.id)
        )
    )


# When things happened: "04 Dec 2026", "17:36", "2026-12-04". Their digits are no count
# (a push at 17:36 once "showed" a stock of 36).
MOMENTS = re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}\b|\b\d{1,2}:\d{2}\b|\b\d{4}-\d{2}-\d{2}\b")


def number_in(count: int, text: str) -> bool:
    """Does the text carry this number (as a number of its own, in any grouping), leaving
    out dates and clock times?"""
    text = MOMENTS.sub(" ", text)
    return re.search(rf"(?<![\d.,]){count:,}(?![\d.,]*\d)", text) is not None or (
        re.search(rf"(?<![\d.,]){count}(?![\d,.]*\d)", text) is not None
    )


def receive(c, sku: str, quantity, reference="DN-4711", **kwargs):
    return c.send(
        "POST",
        f"/office/stock/{product(sku).id}/receipt",
        data={"quantity": quantity, "reference": reference},
        **kwargs,
    )


# --- the group setting ----------------------------------------------------------------------


def test_the_group_form_sets_back_orders_audited_and_live(as_user, ctx):
    partner = group("Partner")
    manager = as_user("manager@portal.test")
    page = manager.get(f"/office/groups/{partner.id}").get_data(as_text=True)
    assert 'name="backorders_allowed"' in page
    seen = []
    subscribe(seen.extend)
    try:
        data = {
            "name": partner.name,
            "description": partner.description,
            "stock_display": partner.stock_display,
            "few_from": str(partner.few_from),
            "many_from": str(partner.many_from),
            "shows_promotions": "y",
            "quotes_allowed": "y",
            "backorders_allowed": "y",
        }
        response = manager.send("POST", f"/office/groups/{partner.id}", data=data)
    finally:
        unsubscribe(seen.extend)
    assert response.status_code == 302
    fresh()
    assert group("Partner").backorders_allowed is True
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "group.changed")
        .order_by(AuditEntry.id.desc())
    )
    assert (entry.before, entry.after) == (
        {"backorders_allowed": False},
        {"backorders_allowed": True},
    )
    assert any(e.topic == "group_changed" and e.id == partner.id for e in seen)
    listing = as_user("viewer@portal.test").get("/office/groups").get_data(as_text=True)
    row = find(listing, id=f"group-row-{partner.id}").text
    assert "Accepted" in row
    # Read-only viewers see the setting in words.
    facts = as_user("viewer@portal.test").get(f"/office/groups/{partner.id}")
    assert "Accepted: what is ordered beyond stock waits for goods in" in words(facts)


# --- placing with back-orders ---------------------------------------------------------------


def test_an_order_takes_what_there_is_and_back_orders_the_rest(ctx):
    mcu_before = product(MCU).stock
    order = place("carpathia", (CAP, 50), (MCU, 10), (USBC, 1_000_000))
    fresh()
    assert backordered(order.id, CAP) == 14  # 36 taken
    assert backordered(order.id, MCU) == 0
    assert backordered(order.id, USBC) == 1_000_000  # nothing there: all of it waits
    assert product(CAP).stock == 0 and product(MCU).stock == mcu_before - 10
    moved = db.session.execute(
        select(StockMovement.product_id, StockMovement.delta)
        .where(StockMovement.order_id == order.id)
        .order_by(StockMovement.product_id)
    ).all()
    assert sorted(delta for _, delta in moved) == [-36, -10]  # no movement for USBC
    placed = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "order.placed").order_by(AuditEntry.id.desc())
    )
    assert next(line for line in placed.after["lines"] if line[0] == CAP)[-1] == "14 back-ordered"


def test_the_cart_and_order_of_a_levels_group_never_tell_the_count(as_user, ctx):
    ready("carpathia")
    c = as_user(STANDARD_DM)
    assert add(c, USBC, 3, htmx=True).status_code == 200  # out of stock, yet accepted
    assert add(c, CAP, 60, htmx=True).status_code == 200
    cart = c.get("/shop/cart").get_data(as_text=True)
    assert "Can be back-ordered" in cart
    assert "what is not in stock when you order will be back-ordered" in cart
    assert not number_in(36, words_of(cart)) and not number_in(24, words_of(cart))
    response = checkout(c, STANDARD_DM)
    assert response.status_code == 200 and "/shop/orders/" in response.headers["HX-Redirect"]
    order_id = int(response.headers["HX-Redirect"].rstrip("/").split("/")[-1])
    assert backordered(order_id, CAP) == 24 and backordered(order_id, USBC) == 3
    page = c.get(f"/shop/orders/{order_id}").get_data(as_text=True)
    region = find(page, id=f"order-{order_id}").text
    assert "Back-ordered" in region and "all or part of the line" in region
    assert not re.search(r"\d[\d,]*\s+back-ordered", region)
    mail = mails_to(STANDARD_DM)[-1]
    assert "back-ordered" in mail.body
    assert not number_in(24, mail.body) and not number_in(36, mail.body)
    # Staff see the quantities.
    office = as_user(ADMIN).get(f"/office/orders/{order_id}").get_data(as_text=True)
    staff_region = find(office, id=f"order-{order_id}").text
    assert "24 back-ordered" in staff_region and "3 back-ordered" in staff_region


def words_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_group_that_sees_counts_sees_back_ordered_quantities(as_user, ctx):
    wholesale = group("Wholesale")
    wholesale.backorders_allowed = True
    db.session.commit()
    ready("acme")
    c = as_user(WHOLESALE_DM)
    add(c, CAP, 40, htmx=True)
    cart = c.get("/shop/cart").get_data(as_text=True)
    assert "4 will be back-ordered" in words_of(cart)
    response = checkout(c, WHOLESALE_DM)
    order_id = int(response.headers["HX-Redirect"].rstrip("/").split("/")[-1])
    region = find(c.get(f"/shop/orders/{order_id}").get_data(as_text=True), id=f"order-{order_id}")
    assert "4 back-ordered" in region.text
    assert "4 × CAP-1206-10U" in mails_to(WHOLESALE_DM)[-1].body


# --- goods in -------------------------------------------------------------------------------


def test_a_receipt_serves_back_orders_oldest_first_then_stock(as_user, ctx):
    first = place("carpathia", (CAP, 50))  # takes 36, 14 wait
    second = place("carpathia", (CAP, 10))  # takes 0, 10 wait
    cap = product(CAP).id
    before = db.session.scalar(select(func.count()).select_from(StockMovement))
    warehouse = as_user(WAREHOUSE)
    response = receive(warehouse, CAP, 20, htmx=True)
    assert response.status_code == 200
    notice = words(response)
    assert "20 × CAP-1206-10U (DN-4711)" in notice and "0 to stock" in notice
    assert first.number in notice and second.number in notice
    assert backordered(first.id, CAP) == 0 and backordered(second.id, CAP) == 4
    assert product(CAP).stock == 0
    moved = db.session.execute(
        select(
            StockMovement.kind,
            StockMovement.delta,
            StockMovement.stock_before,
            StockMovement.stock_after,
            StockMovement.order_id,
        )
        .where(StockMovement.product_id == cap)
        .order_by(StockMovement.id.desc())
        .limit(3)
    ).all()
    assert moved[::-1] == [
        ("receipt", 20, 0, 20, None),
        ("receipt", -14, 20, 6, first.id),
        ("receipt", -6, 6, 0, second.id),
    ]
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "stock.received")
        .order_by(AuditEntry.id.desc())
    )
    assert entry.after["back-orders served"] == [[first.number, 14], [second.number, 6]]
    assert entry.actor.email == WAREHOUSE
    # The rest of the next receipt goes to stock.
    receive(warehouse, CAP, 30, reference="DN-4712")
    assert backordered(second.id, CAP) == 0 and product(CAP).stock == 26
    assert db.session.scalar(select(func.count()).select_from(StockMovement)) == before + 5
    # The buyer heard, without quantities (Standard sees levels).
    told = [m for m in mails_to(STANDARD_DM) if "back-ordered goods came in" in m.subject]
    assert len(told) == 3
    assert all(not number_in(14, m.body) and not number_in(6, m.body) for m in told)
    # The history reads as goods received, each served order by its number.
    history = warehouse.get(f"/office/stock/{cap}").get_data(as_text=True)
    assert "Goods received" in history and f"Back-order of order {first.number} served" in history


def test_served_orders_of_other_reps_customers_stay_unnamed(as_user, ctx):
    order = place("carpathia", (CAP, 40))  # Marco's customer, not Anna's
    stock.receive(product(CAP).id, 4, reference="DN-7", actor=user(WAREHOUSE))
    db.session.commit()
    history = unescape(as_user(ANNA).get(f"/office/stock/{product(CAP).id}").get_data(as_text=True))
    assert "A customer's back-order served" in history
    assert order.number not in history and "Carpathia" not in history
    admin = as_user(ADMIN).get(f"/office/stock/{product(CAP).id}").get_data(as_text=True)
    assert f"Back-order of order {order.number} served (DN-7)" in admin


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"quantity": "0", "reference": "DN-1"}, "whole number from 1"),
        ({"quantity": "5", "reference": ""}, "delivery note"),
        ({"quantity": "5", "reference": "x" * 101}, "at most 100 characters"),
        ({"quantity": "1e3", "reference": "DN-1"}, "whole number"),
    ],
)
def test_a_receipt_is_checked_and_changes_nothing_when_wrong(as_user, ctx, data, message):
    cap = product(CAP)
    before = cap.stock
    response = as_user(WAREHOUSE).send(
        "POST", f"/office/stock/{cap.id}/receipt", data=data, htmx=True
    )
    assert response.status_code == 422 and message in words(response)
    assert product(CAP).stock == before


def test_a_receipt_pushes_the_served_order_live_without_numbers(connect, ctx):
    order = place("carpathia", (CAP, 50))
    buyer = connect(STANDARD_DM)
    watch(buyer, {f"order-{order.id}"})
    time.sleep(0.3)
    stock.receive(product(CAP).id, 20, reference="DN-9", actor=user(WAREHOUSE))
    db.session.commit()
    pushed = "".join(drain(buyer, 2.0, expect=1))
    assert f'id="order-{order.id}"' in pushed
    assert "Back-ordered" not in pushed  # served in full: nothing waits any more
    assert not number_in(14, words_of(pushed)) and not number_in(36, words_of(pushed))


def test_cancelling_returns_only_what_was_taken(ctx):
    order = place("carpathia", (CAP, 50))  # 36 taken, 14 wait
    orders.move(db.session.get(Order, order.id), "cancelled", actor=user(ADMIN))
    db.session.commit()
    assert product(CAP).stock == 36
    # A cancelled order is served no more: the receipt goes to stock.
    receipt = stock.receive(product(CAP).id, 5, reference="DN-5", actor=user(WAREHOUSE))
    db.session.commit()
    assert receipt.served == [] and product(CAP).stock == 41


# --- without back-orders: the cart says so, and offers a way forward ------------------------


def test_a_levels_cart_warns_from_the_band_and_offers_to_lower_or_quote(as_user, ctx):
    single_units(CAP)
    c = as_user(PARTNER_DM)
    add(c, CAP, 49, htmx=True)
    cart = words_of(c.get("/shop/cart").get_data(as_text=True))
    assert "whether all 49 can be supplied is checked when you order" in cart
    assert "Lower to" not in cart and "More than" not in cart
    response = set_quantity(c, PARTNER_DM, CAP, 5000, htmx=True)
    html = response.get_data(as_text=True)
    assert "More than “Few” can promise: at most 49 can be in stock." in words_of(html)
    assert "Lower to 49" in html and "1 line may not be supplied in full" in words_of(html)
    link = re.search(r'href="(/shop/quotes/new\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert "sku=CAP-1206-10U" in link and "qty=5000" in link
    prefilled = c.get(link).get_data(as_text=True)
    assert 'value="CAP-1206-10U"' in prefilled and 'value="5000"' in prefilled
    # The button sets the line to what the band can promise.
    line = line_of(PARTNER_DM, CAP)
    lowered = c.send("POST", f"/shop/cart/lines/{line.id}", data={"quantity": 49}, htmx=True)
    assert lowered.status_code == 200 and line_of(PARTNER_DM, CAP).quantity == 49


def test_a_group_that_sees_counts_is_warned_with_the_count(as_user, ctx):
    c = as_user(WHOLESALE_DM)
    add(c, CAP, 40, htmx=True)
    cart = c.get("/shop/cart").get_data(as_text=True)
    assert "More than there is in stock: 36 can be supplied." in words_of(cart)
    # CAP-1206-10U comes in packs of 10 (demo): lowered to whole packs, 36 is 30.
    assert "Lower to 30" in cart and "Lower to 36" not in cart


def test_a_group_without_quotes_gets_no_quote_link(as_user, ctx):
    standard = group("Standard")
    standard.backorders_allowed = False
    db.session.commit()
    c = as_user(STANDARD_DM)
    add(c, CAP, 60, htmx=True)
    html = c.get("/shop/cart").get_data(as_text=True)
    # "Few" promises at most 49; in whole packs of 10 (demo) that is 40.
    assert "Lower to 40" in html and "/shop/quotes/new" not in html


def test_the_quote_prefill_reads_skus_with_their_quantities(as_user):
    c = as_user("request@baltic.test")
    page = c.get(
        "/shop/quotes/new?sku=CAP-1206-10U&qty=60&sku=MCU-STM32F401&qty=1e3&sku=&qty=9"
    ).get_data(as_text=True)
    assert 'value="CAP-1206-10U"' in page and 'value="60"' in page
    assert 'value="MCU-STM32F401"' in page and 'value="1e3"' not in page


# --- refusals, throttled per company --------------------------------------------------------


def test_refused_checkouts_are_throttled_per_company(as_user, ctx):
    single_units(CAP)
    for slug in ("baltic", "delft"):
        ready(slug)
    c = as_user(PARTNER_DM)
    add(c, CAP, 200, htmx=True)
    for _ in range(LIMIT):
        response = checkout(c, PARTNER_DM)
        assert response.status_code == 422
        message = find(response.get_data(as_text=True), class_="flash flash--error").text
        assert "Not enough stock of CAP-1206-10U" in message and not number_in(36, message)
    response = checkout(c, PARTNER_DM)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(15 * 60)
    assert "Too many orders refused for want of stock" in words(response)
    assert not number_in(36, words(response))
    # Whatever the quantity: a sure success waits too.
    set_quantity(c, PARTNER_DM, CAP, 1)
    assert checkout(c, PARTNER_DM).status_code == 429
    assert checkout(c, PARTNER_DM, htmx=False).status_code == 429
    fresh()
    throttled = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "order.throttled")
    ).all()
    assert len(throttled) == 3 and throttled[0].actor.email == PARTNER_DM
    # Another company is not held up.
    delft = as_user("orders@delft.test")
    add(delft, CAP, 200, htmx=True)
    assert checkout(delft, "orders@delft.test").status_code == 422
    # Once the oldest refusal leaves the window, the company orders again.
    key = f"company:{company('baltic').id}"
    for attempt in db.session.scalars(select(LoginAttempt).where(LoginAttempt.email == key)):
        attempt.created_at -= timedelta(minutes=16)
    db.session.commit()
    response = checkout(c, PARTNER_DM)
    assert response.status_code == 200 and "HX-Redirect" in response.headers


def test_refused_quote_acceptances_count_and_are_throttled(as_user, ctx):
    from core import quotes

    ready("baltic")
    found = quotes.request(company("baltic"), [(product(USBC).id, 25)], actor=user(PARTNER_DM))
    db.session.commit()
    quote_id = found.id
    assert offer(as_user(ANNA), quote_id, ["0.70"]).status_code == 200
    dm = as_user(PARTNER_DM)
    for _ in range(LIMIT):
        response = decide(dm, quote_id, "accept")
        assert response.status_code == 422 and f"Not enough stock of {USBC}" in words(response)
    response = decide(dm, quote_id, "accept")
    assert response.status_code == 429
    fresh()
    refused = select(func.count()).select_from(LoginAttempt)
    assert db.session.scalar(refused.where(LoginAttempt.kind == "order_stock")) == LIMIT


# --- the oracle: no sequence of answers narrows the count below its band --------------------


def _normalise(html: str) -> str:
    """An answer without what differs between two runs of the same requests: CSRF tokens,
    record ids (after "-" or "/"), times of day, and when the page was rendered."""
    html = re.sub(r'(csrf_token"[^>]*?value=")[^"]*', r"\1", html)
    html = re.sub(r'("X-CSRFToken": ")[^"]*', r"\1", html)
    html = re.sub(r'(data-rendered=")[^"]*', r"\1", html)  # when the page was rendered
    html = re.sub(r"(?<=[-/])\d+", "N", html)
    return re.sub(r"\b\d{2}:\d{2}\b", "HH:MM", html)


def _restore(app) -> None:
    """Back to the demo database, as between two tests."""
    template, tracker = app.extensions["test_template"]
    db.session.remove()
    template.restore(tracker.take())


def _probe(app, as_user, count: int) -> tuple[list[str], list[int], list[str]]:
    """Every answer Baltic (Partner: levels, Few from 1, Many from 50) gets while trying
    1 to 50 of CAP-1206-10U in the cart, the quote form and checkout, with `count` in stock.

    Returns the answers of the cart and quote form (normalised, in order), the statuses
    of the checkout probes (a binary search for the count), and the refusals' messages.
    """
    _restore(app)
    set_stock(CAP, count)
    single_units(CAP)
    ready("baltic")
    c = as_user(PARTNER_DM)
    answers = []
    for quantity in range(1, 51):
        answers.append(add(c, CAP, quantity, htmx=True))
    for quantity in range(1, 51):
        answers.append(set_quantity(c, PARTNER_DM, CAP, quantity, htmx=True))
        answers.append(c.get("/shop/cart"))
        answers.append(c.htmx("/shop/cart"))
    for quantity in range(1, 51):
        data = {"action": "check", "note": "", "lines-0-sku": CAP}
        data["lines-0-quantity"] = str(quantity)
        answers.append(c.send("POST", "/shop/quotes/new", data=data))
        answers.append(c.get(f"/shop/quotes/new?sku={CAP}&qty={quantity}"))
    answers.append(c.get(f"/shop/products/{product(CAP).id}"))
    # Checkout: 50, refused whatever the count in "Few", is compared whole; then a binary
    # search, whose outcomes may differ between counts, until the throttle answers.
    set_quantity(c, PARTNER_DM, CAP, 50)
    first = checkout(c, PARTNER_DM)
    answers.append(first)
    statuses, refusals = [first.status_code], []
    low, high = 1, 49
    while True:
        quantity = (low + high) // 2 if low <= high else 50
        if open_cart(PARTNER_DM) is None or not open_cart(PARTNER_DM).lines:
            add(c, CAP, quantity)
        else:
            set_quantity(c, PARTNER_DM, CAP, quantity)
        response = checkout(c, PARTNER_DM)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
        if response.status_code == 422:
            refusals.append(find(response.get_data(as_text=True), class_="flash flash--error").text)
            high = quantity - 1
        else:
            assert response.status_code == 200, response.get_data(as_text=True)
            low = quantity + 1
        assert len(statuses) < 40
    assert all(r.status_code < 500 for r in answers)
    return [_normalise(r.get_data(as_text=True)) for r in answers], statuses, refusals


def test_no_sequence_of_answers_narrows_the_count_below_its_band(app, as_user, ctx):
    seven, statuses_7, refusals_7 = _probe(app, as_user, 7)
    thirty_one, statuses_31, refusals_31 = _probe(app, as_user, 31)
    # Cart, quote form, product page and the first checkout: the same answers, word for
    # word, whether 7 or 31 are in stock (both "Few").
    assert len(seven) == len(thirty_one)
    differing = [i for i, (a, b) in enumerate(zip(seven, thirty_one, strict=True)) if a != b]
    assert differing == [], seven[differing[0]][:4000] if differing else ""
    # Checkout answers "yes" or "no" and nothing more, and only a few times: refusals stop
    # at the company's limit, then every try waits (429) whatever the quantity.
    for statuses, refusals in ((statuses_7, refusals_7), (statuses_31, refusals_31)):
        assert statuses[-1] == 429
        assert statuses.count(422) == LIMIT  # the first probe at 50 included
        assert len(refusals) == LIMIT - 1
        assert len(set(refusals)) == 1
    assert refusals_7[0] == refusals_31[0]
    assert refusals_7[0].startswith("Not enough stock of CAP-1206-10U")
    assert 200 in statuses_31 and 200 in statuses_7  # the search did place orders
    for count in (7, 31):
        assert not number_in(count, refusals_7[0])


# --- the demo --------------------------------------------------------------------------------


def test_the_demo_has_one_back_order_consistent_with_stock(ctx):
    assert group("Standard").backorders_allowed is True
    assert group("Partner").backorders_allowed is False
    assert group("Wholesale").backorders_allowed is False
    waiting = db.session.scalars(select(OrderLine).where(OrderLine.backordered > 0)).all()
    assert len(waiting) == 1
    line = waiting[0]
    order = db.session.get(Order, line.order_id)
    assert order.company.group.name == "Standard" and order.status in ("placed", "confirmed")
    assert 0 < line.backordered < line.quantity
    item = db.session.get(Product, line.product_id)
    assert item.stock == 0 and item.sku not in (MCU, CAP, USBC)
    moved = db.session.scalars(
        select(StockMovement)
        .where(StockMovement.product_id == item.id)
        .order_by(StockMovement.created_at, StockMovement.id)
    ).all()
    assert sum(m.delta for m in moved) == 0 and moved[-1].stock_after == 0
    taken = next(m for m in moved if m.order_id == order.id)
    assert -taken.delta == line.quantity - line.backordered
    # DESIGN's figures stay.
    assert (product(MCU).stock, product(CAP).stock, product(USBC).stock) == (4217, 36, 0)


def test_a_back_ordered_quantity_ships_only_once_received(as_user, ctx):
    """Shippable = ordered - in shipments - still back-ordered (core.shipments.open_lines)."""
    from core import shipments
    from core.errors import Refused

    order = place("carpathia", (CAP, 50))  # takes 36, 14 wait
    line = order.lines[0]
    assert [item.shippable for item in shipments.open_lines(order)] == [36]
    with pytest.raises(Refused):
        shipments.create(order, {line.id: 37}, carrier_id=None, actor=user(WAREHOUSE))
    db.session.rollback()
    shipments.create(order, {line.id: 36}, carrier_id=None, actor=user(WAREHOUSE))
    db.session.commit()
    assert [item.shippable for item in shipments.open_lines(order)] == [0]
    receive(as_user(WAREHOUSE), CAP, 14)
    fresh()
    order = db.session.get(Order, order.id)
    assert [item.shippable for item in shipments.open_lines(order)] == [14]
