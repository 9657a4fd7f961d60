"""Order to cash in real browsers (issue 13's walk-through): Baltic's decision-maker checks
out with a delivery address, a reference and the express method; the warehouse ships half
with a tracking number; the buyer's open order page shows the shipment and its tracking
link without a reload; the invoice, issued when the goods left, says "Reverse charge" in
its PDF."""

import io
import re

import pytest
from pypdf import PdfReader

from tests.conftest import wait_live

pytestmark = pytest.mark.browser

WITHIN = 3000  # ms
TRACKING = "00340434161094015999"


def test_checkout_ship_half_track_live_and_a_reverse_charge_invoice(sign_in):
    buyer = sign_in("orders@baltic.test")
    buyer.goto("/shop/?q=MCU-STM32F401")
    card = buyer.locator("li.product-card", has=buyer.locator('[data-sku="MCU-STM32F401"]'))
    card.locator("input[name=quantity]").fill("10")
    card.locator("button", has_text="Add to cart").click()
    card.get_by_text("added to your cart").wait_for()

    buyer.goto("/shop/cart")
    buyer.wait_for_function("() => window.htmx && document.body.dataset.page")
    wait_live(buyer)
    assert buyer.locator("#checkout-address option:checked").inner_text().strip()
    buyer.locator(".check", has_text="Express").locator("input").check()
    buyer.wait_for_function(
        "() => document.querySelector('#checkout-summary').textContent.includes('Express')"
    )
    buyer.fill("#checkout-reference", "PO-O2C-7")
    with buyer.expect_response(lambda r: r.url.endswith("/shop/cart/choices")):
        buyer.locator("#checkout-note").click()  # leaving the field keeps it on the cart
    buyer.locator("button", has_text="Place the order").click()
    buyer.wait_for_url(re.compile(r"/shop/orders/\d+$"))
    order_id = int(buyer.url.rsplit("/", 1)[1])
    delivery = buyer.locator(".order-delivery").inner_text()
    assert "Express" in delivery and "PO-O2C-7" in delivery and "Lithuania" in delivery
    buyer.wait_for_function("() => window.htmx && document.body.dataset.page")
    wait_live(buyer)
    buyer.evaluate("window.__sameDocument = true")  # gone if the page reloads
    region = f"#order-shipments-{order_id}"

    warehouse = sign_in("warehouse@portal.test")
    warehouse.goto(f"/office/orders/{order_id}")
    warehouse.locator(region).get_by_role("link", name="Create shipment").click()
    warehouse.wait_for_url(re.compile(rf"/office/orders/{order_id}/shipments/new$"))
    field = warehouse.locator("input[id^=quantity-]").first
    assert field.input_value() == "10"
    field.fill("5")  # half
    warehouse.select_option("select[name=carrier]", label="DHL Paket")
    warehouse.fill("input[name=tracking_number]", TRACKING)
    warehouse.get_by_role("button", name="Create shipment").click()
    warehouse.wait_for_url(re.compile(rf"/office/orders/{order_id}$"))
    warehouse.locator(f"{region} .shipment").first.get_by_role(
        "button", name="Mark shipped"
    ).click()
    warehouse.locator(f"{region} .status--shipment-shipped").wait_for(timeout=WITHIN)

    # The buyer's open page: the shipment, its tracking link, the order partly shipped.
    buyer.locator(f"{region} .status--shipment-shipped").wait_for(timeout=WITHIN)
    link = buyer.locator(f"{region} a.tracking-link")
    assert link.inner_text().strip() == TRACKING
    assert TRACKING in (link.get_attribute("href") or "")
    buyer.locator(
        f"#order-{order_id} .order-status__now .status", has_text="Partly shipped"
    ).wait_for(timeout=WITHIN)
    assert buyer.evaluate("window.__sameDocument") is True

    # The invoice was issued when the goods left, and its link arrived with the push; its
    # PDF says "Reverse charge".
    invoice_link = buyer.locator(f"#order-{order_id} a", has_text=re.compile(r"INV-\d{6}"))
    invoice_link.wait_for(timeout=WITHIN)
    invoice_link.click()
    buyer.wait_for_url(re.compile(r"/shop/invoices/\d+$"))
    pdf = buyer.request.get(buyer.url + ".pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "Reverse charge" in text and "PO-O2C-7" in text and "VAT 0 %" in text
