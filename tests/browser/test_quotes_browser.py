"""A quote negotiated in real browsers, each side seeing the other's moves without a reload."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.models import Order, Product, Quote
from extensions import db
from tests.conftest import wait_live

pytestmark = pytest.mark.browser

LIVE = 2000  # ms: a push lands well within this


def settle(page):
    """Wait until the page's socket has told the server which regions it shows."""
    page.wait_for_function("() => window.htmx && document.body.dataset.page")
    wait_live(page)


def fill_prices(page, prices):
    inputs = page.locator(".quote-form__price input:not([type=hidden])")
    expect(inputs).to_have_count(len(prices))
    for i, price in enumerate(prices):
        inputs.nth(i).fill(price)


def test_a_quote_goes_through_a_counter_offer_round_and_is_accepted_into_an_order(sign_in, ctx):
    stock_before = {
        sku: db.session.scalar(select(Product.stock).where(Product.sku == sku))
        for sku in ("MCU-STM32F401", "CAP-1206-10U")
    }

    # The requester asks for two products.
    requester = sign_in("request@acme.test")
    requester.goto("/shop/quotes/new")
    requester.fill("#lines-0-sku", "MCU-STM32F401")
    requester.fill("#lines-0-quantity", "200")
    requester.fill("#lines-1-sku", "cap-1206-10u")
    requester.fill("#lines-1-quantity", "30")
    requester.fill("#note", "For the spring batch")
    requester.click("button[value=check]")
    expect(requester.locator(".quote-request__lines")).to_contain_text("STM32F401 microcontroller")
    requester.click("text=Send the request")
    requester.wait_for_url(re.compile(r"/shop/quotes/\d+$"))
    quote_id = int(requester.url.rsplit("/", 1)[1])
    region, actions = f"#quote-{quote_id}", f"#quote-actions-{quote_id}"
    expect(requester.locator(region)).to_contain_text("Requested")

    # The decision-maker has the quote open while the sales rep answers.
    buyer = sign_in("orders@acme.test")
    buyer.on("dialog", lambda dialog: dialog.accept())
    buyer.goto(f"/shop/quotes/{quote_id}")
    expect(buyer.locator(actions)).to_contain_text("Waiting for the seller")
    settle(buyer)

    anna = sign_in("anna.sales@portal.test")
    anna.goto(f"/office/quotes/{quote_id}")
    expect(anna.locator(actions)).to_contain_text("Your offer")
    settle(anna)
    fill_prices(anna, ["4.90", "0.115"])
    anna.fill(f"#offer-note-{quote_id}", "Our volume price")
    anna.click("text=Send the offer")
    expect(anna.locator(actions)).to_contain_text("Waiting for the customer")

    # Live on the buyer's open page: the new round, the status, and the moves now possible.
    expect(buyer.locator(region)).to_contain_text("offered prices", timeout=LIVE)
    expect(buyer.locator(region)).to_contain_text("€4.90", timeout=LIVE)
    expect(buyer.locator(f"{region} .status")).to_have_text("Offered", timeout=LIVE)
    expect(buyer.locator(actions)).to_contain_text("Accept and order (€983.45)", timeout=LIVE)

    # The buyer counters; Anna's open page shows it without a reload.
    fill_prices(buyer, ["4.60", "0.10"])
    buyer.fill(f"#counter-note-{quote_id}", "Could you go a little lower?")
    buyer.click("text=Send the counter-offer")
    expect(buyer.locator(actions)).to_contain_text("Waiting for the seller")
    expect(anna.locator(region)).to_contain_text("made a counter-offer", timeout=LIVE)
    expect(anna.locator(region)).to_contain_text("€4.90 → €4.60", timeout=LIVE)
    expect(anna.locator(actions)).to_contain_text("Your answer to the counter-offer", timeout=LIVE)

    # Anna meets them part-way; the buyer sees it and accepts.
    fill_prices(anna, ["4.75", "0.105"])
    anna.click("text=Send the counter-offer")
    expect(anna.locator(actions)).to_contain_text("Waiting for the customer")
    expect(buyer.locator(region)).to_contain_text("€4.60 → €4.75", timeout=LIVE)
    accept = buyer.locator(f"{actions} button", has_text="Accept and order")
    expect(accept).to_contain_text("€953.15", timeout=LIVE)
    accept.click()
    expect(buyer.locator(actions)).to_contain_text("is placed at the quoted prices")
    expect(buyer.locator(f"{region} .status")).to_have_text("Accepted")
    expect(anna.locator(f"{region} .status")).to_have_text("Accepted", timeout=LIVE)

    db.session.expire_all()
    quote = db.session.get(Quote, quote_id)
    order = db.session.get(Order, quote.order_id)
    assert quote.status == "accepted" and order.quote_id == quote_id
    assert [r.action for r in quote.rounds] == ["request", "offer", "counter", "counter", "accept"]
    assert {ln.sku: (ln.quantity, ln.unit_price) for ln in order.lines} == {
        "MCU-STM32F401": (200, Decimal("4.75")),
        "CAP-1206-10U": (30, Decimal("0.105")),
    }
    assert order.total == Decimal("953.15")  # 950.00 + 3.15
    for sku, quantity in (("MCU-STM32F401", 200), ("CAP-1206-10U", 30)):
        stock = db.session.scalar(select(Product.stock).where(Product.sku == sku))
        assert stock == stock_before[sku] - quantity
