"""Checkout's delivery choices in a real browser: Baltic's decision-maker picks an address,
Express and a reference; each choice is kept on the cart as it is made (the summary beside
the button follows without a reload), survives a reload, and reaches the order."""

import re

import pytest

from tests.conftest import wait_live

pytestmark = pytest.mark.browser


def test_a_decision_maker_checks_out_with_express_and_a_reference(sign_in):
    buyer = sign_in("orders@baltic.test")
    buyer.goto("/shop/?q=MCU-STM32F401")
    card = buyer.locator("li.product-card", has=buyer.locator('[data-sku="MCU-STM32F401"]'))
    card.locator("input[name=quantity]").fill("10")  # 10 x 5.70 = 57.00, under Parcel's 250
    card.locator("button", has_text="Add to cart").click()
    card.get_by_text("added to your cart").wait_for()

    buyer.goto("/shop/cart")
    buyer.wait_for_function("() => window.htmx && document.body.dataset.page")
    wait_live(buyer)
    buyer.evaluate("window.__sameDocument = true")
    summary = buyer.locator("#checkout-summary")
    assert "Parcel" in summary.inner_text() and "€6.90" in summary.inner_text()
    assert buyer.locator("#checkout-address option:checked").inner_text().startswith("Warehouse")

    # Choosing Express is kept at once: the summary follows, the page stays.
    buyer.locator(".check", has_text="Express").locator("input").check()
    buyer.wait_for_function(
        "() => document.querySelector('#checkout-summary').textContent.includes('Express')"
    )
    assert "€19.50" in summary.inner_text() and "€76.50" in summary.inner_text()
    buyer.fill("#checkout-reference", "PO-BROWSER-1")
    with buyer.expect_response(lambda r: r.url.endswith("/shop/cart/choices")):
        buyer.locator("#checkout-note").click()  # leaving the field sends the change
    assert buyer.evaluate("window.__sameDocument") is True

    # A reload keeps what was chosen.
    buyer.reload()
    assert buyer.locator(".check", has_text="Express").locator("input").is_checked()
    assert buyer.locator("#checkout-reference").input_value() == "PO-BROWSER-1"

    buyer.locator("button", has_text="Place the order").click()
    buyer.wait_for_url(re.compile(r"/shop/orders/\d+$"))
    delivery = buyer.locator(".order-delivery").inner_text()
    assert "Warehouse" in delivery and "Vilnius" in delivery and "Lithuania" in delivery
    assert "Express · €19.50" in delivery and "PO-BROWSER-1" in delivery
