"""In a real browser: a customer signs in, searches the catalogue and reads their price."""

import re

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("email", "price", "stock"),
    [("orders@acme.test", "€4.68", "4,217 in stock"), ("orders@baltic.test", "€5.70", "Many")],
)
def test_customer_searches_and_reads_the_group_price(sign_in, email, price, stock):
    page = sign_in(email)
    assert page.url.endswith("/shop/")
    page.fill("#q", "STM32F401")
    # The search runs through htmx as the person types; the URL follows the results.
    page.wait_for_url(re.compile(r"q=STM32F401"))
    offer = page.locator('[data-sku="MCU-STM32F401"]')
    offer.wait_for()
    assert page.locator(".product-card").count() == 1
    assert offer.locator(".price").first.inner_text() == price
    assert offer.locator(".stock").inner_text() == stock
    assert offer.get_attribute("id").startswith("offer-")


def test_wrong_password_in_the_browser_shows_the_generic_message(sign_in):
    page = sign_in("orders@acme.test", "wrong-password")
    assert page.url.endswith("/login")
    assert page.get_by_role("alert").inner_text() == "The email or password is not correct."


def test_no_script_is_blocked_by_the_content_security_policy(sign_in):
    page = sign_in("browse@carpathia.test")
    violations = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    page.reload()
    page.fill("#q", "capacitor")
    page.wait_for_url(re.compile(r"q=capacitor"))
    page.locator(".product-card").first.wait_for()
    assert violations == []
