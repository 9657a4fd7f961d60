"""The API never returns what the pages would hide: exact stock to a group shown levels (not
in the catalogue, a product, a cart, an order or an error), costs without finance.costs,
another company's records, customers outside a rep's scope, products hidden from a group."""

import json

from sqlalchemy import insert, select

from core.models import (
    Company,
    CustomerGroup,
    Invoice,
    Order,
    Product,
    Quote,
    Shipment,
    group_hidden_products,
)
from extensions import db
from tests.conftest import persona_api_token

ACME = "orders@acme.test"  # Wholesale: exact counts
BALTIC = "orders@baltic.test"  # Partner: levels
CARPATHIA = "orders@carpathia.test"  # Standard: levels, back-orders
MARCO = "marco.sales@portal.test"  # Carpathia and Delft only


def bearer(email: str) -> dict:
    return {"Authorization": f"Bearer {persona_api_token(email)}"}


def get(client, email: str, url: str, **query):
    answer = client.get(url, headers=bearer(email), query_string=query)
    return answer.status_code, answer.get_json(force=True)


def product(sku: str) -> Product:
    return db.session.scalar(select(Product).where(Product.sku == sku))


def walk(value):
    """Every (key, value) pair of a JSON document, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def keys_of(document) -> set[str]:
    return {key for key, __ in walk(document)}


def test_a_group_shown_levels_never_gets_a_count(client, ctx):
    cap = product("CAP-1206-10U")  # 36 in stock: "Few"
    for email in (BALTIC, CARPATHIA):
        status, page = get(client, email, "/api/v1/catalog", q="CAP-1206", limit=100)
        assert status == 200
        found = next(p for p in page["items"] if p["sku"] == "CAP-1206-10U")
        assert found["offer"]["stock"] == {"level": "few", "label": "Few"}
        assert "count" not in keys_of(page)
        status, one = get(client, email, f"/api/v1/catalog/{cap.id}")
        assert "count" not in keys_of(one)
        assert "36" not in json.dumps(one["offer"]["stock"])
    # The same product to a group shown counts: the count (the control).
    __, one = get(client, ACME, f"/api/v1/catalog/{cap.id}")
    assert one["offer"]["stock"]["count"] == cap.stock


def test_a_levels_group_learns_no_count_from_its_cart_or_a_refused_order(client, ctx):
    cap = product("CAP-1206-10U")
    added = client.post(
        "/api/v1/cart/lines", headers=bearer(BALTIC), json={"sku": cap.sku, "quantity": 1000}
    )
    assert added.status_code == 200
    cart = added.get_json()
    assert "count" not in keys_of(cart)
    refused = client.post("/api/v1/orders", headers=bearer(BALTIC), json={})
    assert refused.status_code == 422
    assert str(cap.stock) not in refused.get_data(as_text=True)


def test_back_ordered_quantities_only_where_the_group_sees_counts(client, ctx):
    """Carpathia's group takes back-orders but sees levels: which lines wait, not how many
    (ordered less back-ordered would be the stock of the moment)."""
    usb = product("CON-USBC-16P")  # out of stock
    assert usb.stock == 0
    client.post(
        "/api/v1/cart/lines", headers=bearer(CARPATHIA), json={"sku": usb.sku, "quantity": 30}
    )
    placed = client.post("/api/v1/orders", headers=bearer(CARPATHIA), json={})
    assert placed.status_code == 201, placed.get_data(as_text=True)
    line = placed.get_json()["lines"][0]
    assert line["backordered_waiting"] is True
    assert "backordered" not in line
    # Staff see how many wait.
    order_id = placed.get_json()["id"]
    __, seen = get(client, "warehouse@portal.test", f"/api/v1/orders/{order_id}")
    assert seen["lines"][0]["backordered"] == 30


def test_costs_only_with_finance_costs(client, ctx):
    mcu = product("MCU-STM32F401")
    for email in ("warehouse@portal.test", "anna.sales@portal.test", "viewer@portal.test"):
        __, staff_view = get(client, email, f"/api/v1/products/{mcu.id}")
        assert "cost" not in staff_view
        __, listed = get(client, email, "/api/v1/products", q="STM32F401")
        assert "cost" not in keys_of(listed)
        assert "3.9" not in json.dumps(listed)
    __, finance = get(client, "finance@portal.test", f"/api/v1/products/{mcu.id}")
    assert finance["cost"] == "3.9000"
    order = db.session.scalar(select(Order).order_by(Order.id))
    __, for_admin = get(client, "admin@portal.test", f"/api/v1/orders/{order.id}")
    assert "unit_cost" in for_admin["lines"][0]
    for email in ("viewer@portal.test", "warehouse@portal.test"):
        __, shown = get(client, email, f"/api/v1/orders/{order.id}")
        assert "unit_cost" not in keys_of(shown)
    # Customers never see a cost, whatever their role.
    acme_order = db.session.scalar(select(Order).where(Order.company.has(slug="acme")))
    __, own = get(client, ACME, f"/api/v1/orders/{acme_order.id}")
    assert "unit_cost" not in keys_of(own)
    # Nor stock, exact or not, on staff's view without stock.view (Finance).
    __, no_stock = get(client, "finance@portal.test", f"/api/v1/products/{mcu.id}")
    assert "stock" not in no_stock


def test_another_companys_records_are_not_found(client, ctx):
    acme = db.session.scalar(select(Company.id).where(Company.slug == "acme"))
    records = {
        "orders": db.session.scalar(select(Order.id).where(Order.company_id == acme)),
        "invoices": db.session.scalar(select(Invoice.id).where(Invoice.company_id == acme)),
        "quotes": db.session.scalar(select(Quote.id).where(Quote.company_id == acme)),
        "shipments": db.session.scalar(
            select(Shipment.id).join(Order).where(Order.company_id == acme)
        ),
    }
    for area, record in records.items():
        status, body = get(client, BALTIC, f"/api/v1/{area}/{record}")
        assert status == 404, area
        assert "Acme" not in json.dumps(body)
        status, listed = get(client, BALTIC, f"/api/v1/{area}", limit=100)
        assert status == 200
        assert record not in [item["id"] for item in listed["items"]]
        assert "Acme" not in json.dumps(listed)
    __, addresses = get(client, BALTIC, "/api/v1/addresses")
    acme_streets = {"Robotikweg 4", "Fabrikstraße 21"}
    assert not any(street in json.dumps(addresses) for street in acme_streets)


def test_a_rep_sees_only_assigned_customers(client, ctx):
    mine = set(
        db.session.scalars(select(Company.id).where(Company.slug.in_(("carpathia", "delft"))))
    )
    acme = db.session.scalar(select(Company.id).where(Company.slug == "acme"))
    status, listed = get(client, MARCO, "/api/v1/customers", limit=100)
    assert status == 200
    assert {c["id"] for c in listed["items"]} == mine
    assert get(client, MARCO, f"/api/v1/customers/{acme}")[0] == 404
    assert get(client, MARCO, f"/api/v1/customers/{acme}/people")[0] == 404
    for area in ("orders", "invoices", "quotes", "shipments"):
        __, page = get(client, MARCO, f"/api/v1/{area}", limit=100)
        companies = {item["company"]["id"] for item in page["items"] if "company" in item}
        assert companies <= mine, area
    __, orders = get(client, MARCO, "/api/v1/orders", company_id=acme)
    assert orders["items"] == []


def test_a_product_hidden_from_a_group_does_not_exist_for_it(client, ctx):
    mcu = product("MCU-STM32F401")
    partner = db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == "Partner"))
    db.session.execute(insert(group_hidden_products).values(group_id=partner, product_id=mcu.id))
    db.session.commit()
    status, page = get(client, BALTIC, "/api/v1/catalog", q="STM32F401", limit=100)
    assert status == 200
    assert "MCU-STM32F401" not in json.dumps(page)
    status, body = get(client, BALTIC, f"/api/v1/catalog/{mcu.id}")
    assert status == 404
    assert "STM32F401" not in json.dumps(body)
    added = client.post(
        "/api/v1/cart/lines", headers=bearer(BALTIC), json={"sku": mcu.sku, "quantity": 10}
    )
    assert added.status_code == 422
    by_id = client.post(
        "/api/v1/cart/lines", headers=bearer(BALTIC), json={"product_id": mcu.id, "quantity": 10}
    )
    assert by_id.status_code == 422
    asked = client.post(
        "/api/v1/quotes",
        headers=bearer(BALTIC),
        json={"lines": [{"product_id": mcu.id, "quantity": 100}]},
    )
    assert asked.status_code == 422
    # Another group still sees it (the control).
    assert get(client, ACME, f"/api/v1/catalog/{mcu.id}")[0] == 200


def test_trying_quantities_is_throttled_per_company_as_at_checkout(client, ctx):
    """Each refusal for stock answers "is there at least this many?": after five, the
    company waits (429), so a levels group cannot find the count by trying through the API."""
    cap = product("CAP-1206-10U")
    client.post(
        "/api/v1/cart/lines", headers=bearer(BALTIC), json={"sku": cap.sku, "quantity": 1000}
    )
    statuses = [
        client.post("/api/v1/orders", headers=bearer(BALTIC), json={}).status_code for _ in range(5)
    ]
    assert statuses == [422] * 5
    waiting = client.post("/api/v1/orders", headers=bearer(BALTIC), json={})
    assert waiting.status_code == 429
    assert int(waiting.headers["Retry-After"]) > 0
    assert waiting.headers["Content-Type"].startswith("application/problem+json")
    # Another company is not held back by this one's refusals.
    other = client.post("/api/v1/orders", headers=bearer("orders@acme.test"), json={})
    assert other.status_code != 429
