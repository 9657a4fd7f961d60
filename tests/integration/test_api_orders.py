"""Ordering through the API, end to end: a customer's token fills the cart and places the
order with an Idempotency-Key (sent twice: one order), quotes are asked for and accepted,
staff move orders and record payments (a payment sent twice: one payment), all through the
pages' own services and rules."""

import json
import threading
import urllib.request
from decimal import Decimal

from sqlalchemy import func, select

from core import tokens
from core.models import (
    AuditEntry,
    Cart,
    CustomerGroup,
    IdempotencyKey,
    Invoice,
    Order,
    Payment,
    Product,
    Quote,
    User,
)
from extensions import db
from tests.conftest import persona_api_token

ACME = "orders@acme.test"
FINANCE = "finance@portal.test"
WAREHOUSE = "warehouse@portal.test"


def bearer(email: str, **extra) -> dict:
    return {"Authorization": f"Bearer {persona_api_token(email)}", **extra}


def orders_of(slug: str) -> int:
    return db.session.scalar(
        select(func.count(Order.id)).join(Order.company).where(Order.company.has(slug=slug))
    )


def stock_of(sku: str) -> int:
    return db.session.scalar(select(Product.stock).where(Product.sku == sku))


def fill_cart(client, email: str = ACME, sku: str = "MCU-STM32F401", quantity: int = 10):
    added = client.post(
        "/api/v1/cart/lines", headers=bearer(email), json={"sku": sku, "quantity": quantity}
    )
    assert added.status_code == 200, added.get_data(as_text=True)
    return added.get_json()


def test_a_customer_token_orders_once_with_an_idempotency_key_sent_twice(client, ctx):
    before, stock = orders_of("acme"), stock_of("MCU-STM32F401")
    cart = fill_cart(client)
    assert cart["lines"][0]["quantity"] == 10
    body = {"customer_reference": "PO-4711", "note": "Gate 2, please"}
    headers = bearer(ACME, **{"Idempotency-Key": "order-PO-4711"})
    first = client.post("/api/v1/orders", headers=headers, json=body)
    assert first.status_code == 201, first.get_data(as_text=True)
    order = first.get_json()
    assert first.headers["Location"] == f"/api/v1/orders/{order['id']}"
    assert order["customer_reference"] == "PO-4711"
    assert order["status"] == "placed"
    assert [(ln["sku"], ln["quantity"]) for ln in order["lines"]] == [("MCU-STM32F401", 10)]
    # At the offer's price for this quantity, as the cart showed it (the pages' price).
    assert order["lines"][0]["unit_price"] == cart["lines"][0]["unit_price"]
    assert Decimal(order["totals"]["gross"]) > Decimal(order["totals"]["net"])
    # The retry (the answer was lost on the way, say): the same answer, nothing new.
    again = client.post("/api/v1/orders", headers=headers, json=body)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == order
    assert again.headers["Location"] == first.headers["Location"]
    assert orders_of("acme") == before + 1
    assert stock_of("MCU-STM32F401") == stock - 10
    # The same key with another body is a mistake of the client's: refused, nothing made.
    other = client.post("/api/v1/orders", headers=headers, json={"note": "another"})
    assert other.status_code == 422
    assert other.get_json()["type"] == "/api/v1/docs#problem-idempotency-mismatch"
    assert orders_of("acme") == before + 1
    # What is kept: the answer, per token, for a day.
    kept = db.session.scalar(select(IdempotencyKey))
    assert kept.idempotency_key == "order-PO-4711"
    assert kept.status_code == 201
    assert json.loads(kept.body)["id"] == order["id"]
    # The order is the storefront's: the person reads it there too.
    found = client.get(f"/api/v1/orders/{order['id']}", headers=bearer(ACME))
    assert found.status_code == 200
    assert found.get_json()["number"] == order["number"]


def test_keys_are_kept_per_token(client, ctx):
    owner = db.session.scalar(select(User).where(User.email == ACME))
    __, second = tokens.create(owner, "Second system", actor=owner)
    db.session.commit()
    fill_cart(client)
    headers = {"Idempotency-Key": "same-key"}
    first = client.post("/api/v1/orders", headers={**bearer(ACME), **headers}, json={})
    assert first.status_code == 201
    fill_cart(client)
    other = client.post(
        "/api/v1/orders", headers={"Authorization": f"Bearer {second}", **headers}, json={}
    )
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other.headers
    assert other.get_json()["id"] != first.get_json()["id"]


def test_a_refused_order_keeps_no_key_and_may_be_sent_again(client, ctx):
    headers = bearer(ACME, **{"Idempotency-Key": "empty-cart"})
    refused = client.post("/api/v1/orders", headers=headers, json={})
    assert refused.status_code == 422  # the cart is empty
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 0
    fill_cart(client)
    placed = client.post("/api/v1/orders", headers=headers, json={})
    assert placed.status_code == 201
    assert "Idempotent-Replayed" not in placed.headers


def test_the_same_order_sent_twice_at_once_is_placed_once(app, live_server, ctx):
    """Two requests with one key at the same moment: one order; the other gets its answer
    (or is told to try again), never a second order."""
    client = app.test_client()
    fill_cart(client)
    before = orders_of("acme")
    answers = []

    def send():
        request = urllib.request.Request(
            f"{live_server}/api/v1/orders",
            data=b"{}",
            method="POST",
            headers={
                **bearer(ACME, **{"Idempotency-Key": "at-once"}),
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answers.append((response.status, json.loads(response.read())))
        except urllib.error.HTTPError as error:
            answers.append((error.code, json.loads(error.read())))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    db.session.rollback()
    assert orders_of("acme") == before + 1
    statuses = sorted(status for status, __ in answers)
    assert statuses in ([201, 201], [201, 409], [201, 422]), answers
    placed = [body["id"] for status, body in answers if status == 201]
    assert len(set(placed)) == 1


def test_above_the_approval_limit_the_order_waits_for_a_second_decision_maker(client, ctx):
    before = orders_of("acme")
    cart = fill_cart(client, quantity=2000)
    assert Decimal(cart["total"]) > Decimal("5000")  # Acme's approval limit
    answer = client.post("/api/v1/orders", headers=bearer(ACME), json={})
    assert answer.status_code == 202, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["status"] == "awaiting_approval"
    assert body["total"] == cart["total"]
    assert db.session.get(Cart, body["cart_id"]).status == "submitted"
    assert orders_of("acme") == before


def test_delivery_choices_are_checked_like_checkout(client, ctx):
    fill_cart(client)
    wrong = client.post("/api/v1/orders", headers=bearer(ACME), json={"delivery_address_id": 999})
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"][0]["field"] == "delivery_address_id"


def test_cart_lines_change_and_go(client, ctx):
    cart = fill_cart(client)
    line = cart["lines"][0]["id"]
    changed = client.patch(
        f"/api/v1/cart/lines/{line}", headers=bearer(ACME), json={"quantity": 20}
    )
    assert changed.get_json()["lines"][0]["quantity"] == 20
    gone = client.delete(f"/api/v1/cart/lines/{line}", headers=bearer(ACME))
    assert gone.status_code == 200
    assert gone.get_json()["lines"] == []
    # Another person's line is not there for this token.
    other = fill_cart(client, email="request@acme.test")
    theirs = other["lines"][0]["id"]
    assert client.delete(f"/api/v1/cart/lines/{theirs}", headers=bearer(ACME)).status_code == 404


def test_a_quote_is_asked_for_and_an_offer_accepted(client, ctx):
    asked = client.post(
        "/api/v1/quotes",
        headers=bearer(ACME),
        json={"lines": [{"sku": "CAP-1206-10U", "quantity": 5000}], "note": "Yearly volume"},
    )
    assert asked.status_code == 201, asked.get_data(as_text=True)
    quote = asked.get_json()
    assert quote["status"] == "requested"
    assert quote["turn"] == "staff"
    assert quote["lines"][0]["unit_price"] is None
    listed = client.get("/api/v1/quotes", headers=bearer(ACME)).get_json()["items"]
    assert quote["id"] in [q["id"] for q in listed]
    offered = db.session.scalar(select(Quote).where(Quote.number == "QT-00002"))
    for line in offered.lines:  # goods in, so that the order can take its stock
        line.product.stock = 100_000
    db.session.commit()
    before = orders_of("acme")
    seen = client.get(f"/api/v1/quotes/{offered.id}", headers=bearer(ACME)).get_json()
    accepted = client.post(
        f"/api/v1/quotes/{offered.id}/accept",
        headers=bearer(ACME),
        json={"latest_round_id": seen["latest_round_id"]},
    )
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    body = accepted.get_json()
    assert body["status"] == "ordered"
    assert body["quote"]["status"] == "accepted"
    assert orders_of("acme") == before + 1
    prices = {ln["sku"]: ln["unit_price"] for ln in seen["lines"]}
    assert {ln["sku"]: ln["unit_price"] for ln in body["order"]["lines"]} == prices
    # Accepted once: a second acceptance is refused by the quote's own rules.
    again = client.post(f"/api/v1/quotes/{offered.id}/accept", headers=bearer(ACME), json={})
    assert again.status_code == 422


def test_staff_move_an_order_and_its_stock_comes_back(client, ctx):
    fill_cart(client)
    placed = client.post("/api/v1/orders", headers=bearer(ACME), json={}).get_json()
    stock = stock_of("MCU-STM32F401")
    moved = client.post(
        f"/api/v1/orders/{placed['id']}/moves",
        headers=bearer(WAREHOUSE),
        json={"to": "cancelled", "note": "Customer called"},
    )
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert moved.get_json()["status"] == "cancelled"
    assert stock_of("MCU-STM32F401") == stock + 10
    wrong = client.post(
        f"/api/v1/orders/{placed['id']}/moves", headers=bearer(WAREHOUSE), json={"to": "confirmed"}
    )
    assert wrong.status_code == 422
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "order.cancelled")
        .order_by(AuditEntry.id.desc())
    )
    assert entry is not None and "tests" in entry.summary  # the persona token's name


def test_a_payment_sent_twice_with_its_key_is_recorded_once(client, ctx):
    invoice = db.session.scalar(
        select(Invoice)
        .where(
            Invoice.voided_at.is_(None),
            Invoice.total - Invoice.paid_total - Invoice.credited_total >= 20,
        )
        .order_by(Invoice.id)
    )
    paid = invoice.paid_total
    body = {
        "amount": "10.00",
        "received_on": "2026-12-01",
        "method": "transfer",
        "reference": "B-1",
    }
    headers = bearer(FINANCE, **{"Idempotency-Key": "bank-line-1"})
    first = client.post(f"/api/v1/invoices/{invoice.id}/payments", headers=headers, json=body)
    assert first.status_code == 201, first.get_data(as_text=True)
    again = client.post(f"/api/v1/invoices/{invoice.id}/payments", headers=headers, json=body)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    recorded = db.session.scalars(
        select(Payment).where(Payment.invoice_id == invoice.id, Payment.reference == "B-1")
    ).all()
    assert len(recorded) == 1
    read = client.get(f"/api/v1/invoices/{invoice.id}", headers=bearer(FINANCE)).get_json()
    assert Decimal(read["paid_total"]) == paid + Decimal("10.00")
    too_much = client.post(
        f"/api/v1/invoices/{invoice.id}/payments",
        headers=bearer(FINANCE),
        json={**body, "amount": "999999.00"},
    )
    assert too_much.status_code == 422


def test_the_invoice_pdf_is_the_pages_document(client, ctx):
    invoice = db.session.scalar(
        select(Invoice).where(Invoice.company.has(slug="acme")).order_by(Invoice.id)
    )
    answer = client.get(f"/api/v1/invoices/{invoice.id}.pdf", headers=bearer(ACME))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.get_data().startswith(b"%PDF")
    assert answer.headers["ETag"]


def test_staff_create_and_change_a_product_and_its_prices(client, ctx):
    made = client.post(
        "/api/v1/products",
        headers=bearer(WAREHOUSE),
        json={
            "sku": "RES-API-1K",
            "name": "Resistor 1 kΩ (API)",
            "base_price": "0.02",
            "stock": 500,
        },
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    product = made.get_json()
    assert product["stock"] == 500
    assert "cost" not in product  # the warehouse holds no finance.costs
    costly = client.post(
        "/api/v1/products",
        headers=bearer(WAREHOUSE),
        json={"sku": "RES-API-2K", "name": "Resistor 2 kΩ", "base_price": "0.02", "cost": "0.01"},
    )
    assert costly.status_code == 403
    changed = client.patch(
        f"/api/v1/products/{product['id']}", headers=bearer(WAREHOUSE), json={"name": "Resistor 1k"}
    )
    assert changed.get_json()["name"] == "Resistor 1k"
    priced = client.patch(
        f"/api/v1/products/{product['id']}/prices",
        headers=bearer("manager@portal.test"),
        json={
            "base_price": "0.03",
            "breaks": [{"min_quantity": 100, "price": "0.025"}],
            "group_prices": {"1": "0.02"},
        },
    )
    assert priced.status_code == 200, priced.get_data(as_text=True)
    body = priced.get_json()
    assert body["base_price"] == "0.0300"
    assert body["breaks"] == [{"min_quantity": 100, "price": "0.0250"}]
    assert body["group_prices"][0]["price"] == "0.0200"
    group_by_warehouse = client.patch(
        f"/api/v1/products/{product['id']}/prices",
        headers=bearer(WAREHOUSE),
        json={"group_prices": {"1": "0.01"}},
    )
    assert group_by_warehouse.status_code == 403  # groups.edit
    breaks_by_warehouse = client.patch(
        f"/api/v1/products/{product['id']}/prices",
        headers=bearer(WAREHOUSE),
        json={"group_breaks": {"1": []}},
    )
    assert breaks_by_warehouse.status_code == 403  # groups.edit


def test_staff_set_a_group_s_own_quantity_breaks_all_or_nothing(client, ctx):
    mcu = db.session.scalar(select(Product).where(Product.sku == "MCU-STM32F401"))
    url = f"/api/v1/products/{mcu.id}/prices"
    manager = bearer("manager@portal.test")
    wholesale = db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == "Wholesale"))
    standard = db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == "Standard"))
    rows = [{"min_quantity": 50, "price": "4.90"}, {"min_quantity": 500, "price": "4.50"}]
    set_ = client.patch(url, headers=manager, json={"group_breaks": {str(wholesale): rows}})
    assert set_.status_code == 200, set_.get_data(as_text=True)
    (own,) = [g for g in set_.get_json()["group_prices"] if g["group_id"] == wholesale]
    assert own["breaks"] == [
        {"min_quantity": 50, "price": "4.9000"},
        {"min_quantity": 500, "price": "4.5000"},
    ]
    # Standard has no price of its own for it: refused with the reason, and nothing of
    # the request is kept, not even the base price sent with it.
    refused = client.patch(
        url,
        headers=manager,
        json={"base_price": "9.99", "group_breaks": {str(standard): rows}},
    )
    assert refused.status_code == 422
    assert "price of its own" in refused.get_json()["detail"]
    db.session.expire_all()
    assert str(db.session.get(Product, mcu.id).base_price) != "9.9900"
    unknown = client.patch(url, headers=manager, json={"group_breaks": {"999999": []}})
    assert unknown.status_code == 422
    cleared = client.patch(url, headers=manager, json={"group_breaks": {str(wholesale): []}})
    (own,) = [g for g in cleared.get_json()["group_prices"] if g["group_id"] == wholesale]
    assert own["breaks"] == []


def test_staff_adjust_and_receive_stock(client, ctx):
    product = db.session.scalar(select(Product).where(Product.sku == "CON-USBC-16P"))
    adjusted = client.post(
        f"/api/v1/stock/{product.id}/adjustments",
        headers=bearer(WAREHOUSE),
        json={"counted": 12, "reason": "Stocktake"},
    )
    assert adjusted.status_code == 200, adjusted.get_data(as_text=True)
    assert adjusted.get_json()["stock"] == 12
    received = client.post(
        f"/api/v1/stock/{product.id}/receipts",
        headers=bearer(WAREHOUSE),
        json={"quantity": 100, "reference": "GRN-77"},
    )
    assert received.status_code == 200
    body = received.get_json()
    assert body["stock"] + body["to_backorders"] == 112
