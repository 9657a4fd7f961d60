"""Carts and orders in real browsers: a request, its approval, and the order live elsewhere."""

import re
import time
from urllib.parse import urlsplit

import pytest

from tests.conftest import wait_live

pytestmark = pytest.mark.browser

WITHIN = 2000  # ms
NOTE = "Browser test: arm controller batch"


def live(page, path: str) -> None:
    """Open a page and wait until its socket has told the server what it shows."""
    page.goto(path)
    page.wait_for_function("() => window.htmx && document.body.dataset.page")
    wait_live(page)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads


def test_requester_submits_the_decision_maker_approves_the_rep_sees_it_live(sign_in):
    requester = sign_in("request@acme.test")
    requester.goto("/shop/?q=CAP-1206-10U")
    card = requester.locator("li.product-card", has=requester.locator('[data-sku="CAP-1206-10U"]'))
    card.locator("input[name=quantity]").fill("10")  # sold from 10, in packs of 10
    card.locator("button", has_text="Add to cart").click()
    card.get_by_text("10 × CAP-1206-10U added to your cart").wait_for()
    requester.goto("/shop/products/1")
    requester.locator("form.add-to-cart button").click()
    requester.get_by_text("added to your cart").wait_for()

    live(requester, "/shop/cart")
    assert requester.locator(".cart-lines tbody tr").count() == 2
    total = requester.locator(".cart-total strong").inner_text()
    requester.fill("#submit-note", NOTE)
    requester.locator("button", has_text="Submit for approval").click()
    requester.get_by_text("Your cart is sent for approval").wait_for()
    request_row = requester.locator("#requests-title + table tbody tr").first
    assert "Waiting for approval" in request_row.inner_text()

    rep = sign_in("anna.sales@portal.test")
    live(rep, "/office/orders")
    rows_before = rep.locator("#orders-table tbody tr").count()

    decider = sign_in("orders@acme.test")
    decider.goto("/shop/approvals")
    decider.locator("tr", has_text=NOTE).get_by_role("link", name="Review").click()
    assert decider.locator(".cart-total strong").inner_text() == total
    decider.locator("button", has_text="Approve and place the order").click()
    approved_at = time.monotonic()
    decider.wait_for_url(re.compile(r"/shop/orders/\d+$"))
    number = decider.locator("h1").inner_text().removeprefix("Order ").strip()
    assert re.fullmatch(r"SO-\d{5}", number)
    assert decider.locator(".order-total").inner_text() == total

    # The new order appears in the rep's open back office, without a reload.
    rep.locator("#orders-table tbody tr", has_text=number).wait_for(timeout=WITHIN)
    assert time.monotonic() - approved_at < WITHIN / 1000 + 1
    assert rep.evaluate("window.__sameDocument") is True
    assert rep.locator("#orders-table tbody tr").count() == rows_before + 1
    row = rep.locator("#orders-table tbody tr", has_text=number)
    assert "Acme Robotics" in row.inner_text() and "Ravi Menon" in row.inner_text()

    # ... and the requester's open cart page shows the decision by itself.
    requester.locator("#requests-title + table tbody tr", has_text="Ordered").first.wait_for(
        timeout=WITHIN
    )
    assert requester.evaluate("window.__sameDocument") is True


def test_staff_move_reaches_the_customers_open_order_page(sign_in):
    customer = sign_in("orders@acme.test")
    customer.goto("/shop/orders?status=placed")
    customer.locator("[id^=shop-orders-] tbody a").first.click()
    customer.wait_for_url(re.compile(r"/shop/orders/\d+$"))
    path = urlsplit(customer.url).path
    order_id = path.rsplit("/", 1)[1]
    live(customer, path)
    status = customer.locator(f"#order-{order_id} .order-status__now .status")
    assert status.inner_text() == "Placed"

    rep = sign_in("anna.sales@portal.test")
    rep.goto(f"/office/orders/{order_id}")
    rep.locator("button", has_text="Confirm").click()
    rep.locator(f"#order-{order_id} .order-status__now .status", has_text="Confirmed").wait_for()
    customer.locator(
        f"#order-{order_id} .order-status__now .status", has_text="Confirmed"
    ).wait_for(timeout=WITHIN)
    assert customer.evaluate("window.__sameDocument") is True
    assert "Anna Kowalska" in customer.locator(f"#order-{order_id}").inner_text()
