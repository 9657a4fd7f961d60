"""Shipments in real browsers: the warehouse ships half of an order with a tracking number,
and the buyer's open order page shows the shipment and its tracking link by itself."""

import re

import pytest
from sqlalchemy import select

from core import orders, transaction
from core.models import Company, Order, Product, User
from extensions import db
from tests.conftest import wait_live

pytestmark = pytest.mark.browser

WITHIN = 3000  # ms
TRACKING = "00340434161094015902"
LINES = {"MCU-STM32F401": 10, "CAP-1206-10U": 4}


def place_for_baltic() -> Order:
    """An order of Baltic Drones' decision-maker, placed as checkout places it."""
    company = db.session.scalar(select(Company).where(Company.slug == "baltic"))
    buyer = db.session.scalar(select(User).where(User.email == "orders@baltic.test"))
    requests = [
        orders.LineRequest(db.session.scalar(select(Product.id).where(Product.sku == sku)), qty)
        for sku, qty in LINES.items()
    ]
    order = transaction.committed(lambda: orders.place(company, requests, placed_by=buyer))
    return db.session.get(Order, order.id)


def test_the_warehouse_ships_half_and_the_buyer_sees_the_tracking_live(sign_in, ctx):
    order = place_for_baltic()
    region = f"#order-shipments-{order.id}"

    buyer = sign_in("orders@baltic.test")
    buyer.goto(f"/shop/orders/{order.id}")
    buyer.wait_for_function("() => window.htmx && document.body.dataset.page")
    wait_live(buyer)
    buyer.evaluate("window.__sameDocument = true")  # gone if the page reloads
    assert "Nothing has been prepared for shipping yet" in buyer.locator(region).inner_text()

    warehouse = sign_in("warehouse@portal.test")
    warehouse.goto(f"/office/orders/{order.id}")
    warehouse.locator(region).get_by_role("link", name="Create shipment").click()
    warehouse.wait_for_url(re.compile(rf"/office/orders/{order.id}/shipments/new$"))
    for line in order.lines:  # half of every line
        field = warehouse.locator(f"#quantity-{line.id}")
        assert field.input_value() == str(line.quantity)
        field.fill(str(line.quantity // 2))
    warehouse.select_option("select[name=carrier]", label="DHL Paket")
    warehouse.fill("input[name=tracking_number]", TRACKING)
    warehouse.get_by_role("button", name="Create shipment").click()
    warehouse.wait_for_url(re.compile(rf"/office/orders/{order.id}$"))
    shipment = warehouse.locator(f"{region} .shipment").first
    number = shipment.locator(".shipment__number").inner_text().strip()
    assert re.fullmatch(r"SH-\d{5}", number)

    # The buyer's open page shows the parcel being prepared, with its tracking link.
    mine = buyer.locator(f"{region} .shipment", has_text=number)
    mine.wait_for(timeout=WITHIN)
    link = mine.locator("a.tracking-link")
    assert link.inner_text().strip() == TRACKING
    assert link.get_attribute("href") == (
        f"https://www.dhl.de/en/privatkunden/dhl-sendungsverfolgung.html?piececode={TRACKING}"
    )
    assert "Being prepared" in mine.inner_text()
    assert "5" in mine.locator(".shipment-lines").inner_text()

    # It leaves: the buyer's page says so, and the order is partly shipped.
    shipment.get_by_role("button", name="Mark shipped").click()
    warehouse.locator(f"{region} .status--shipment-shipped").wait_for(timeout=WITHIN)
    buyer.locator(f"{region} .status--shipment-shipped").wait_for(timeout=WITHIN)
    buyer.locator(
        f"#order-{order.id} .order-status__now .status", has_text="Partly shipped"
    ).wait_for(timeout=WITHIN)
    assert buyer.evaluate("window.__sameDocument") is True
    assert buyer.locator(f"{region} a.tracking-link").inner_text().strip() == TRACKING
