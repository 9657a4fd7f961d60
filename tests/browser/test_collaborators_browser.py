"""An external collaborator in a real browser, on a 390 px phone: the catalogue shows
"Price on request" and no cart, a product's "Ask for a quote" leads to the request form,
which sends the request without a price column; a price change pushed live to the open
catalogue still shows no price."""

import pytest

from core import products
from core.models import Product
from extensions import db
from tests.browser.personas import signed_in_context, wait_settled
from tests.conftest import wait_live

pytestmark = pytest.mark.browser

DRAFTSMAN = "draftsman@acme.test"
MCU = "MCU-STM32F401"
PHONE = {"viewport": {"width": 390, "height": 844}}


def test_a_draftsman_prepares_a_request_and_never_sees_a_price(browser, app, live_server):
    context = signed_in_context(browser, app, live_server, DRAFTSMAN, **PHONE)
    try:
        page = context.new_page()
        page.goto(f"/shop/?q={MCU}")
        wait_settled(page)
        offer = page.locator(".offer").first
        assert "Price on request" in offer.inner_text()
        body = page.inner_text("body")
        assert "€" not in body and "Add to cart" not in body
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the catalogue is {width} px wide on a phone"

        # A price change reaches the open page live, still without a price.
        wait_live(page)
        with app.app_context():
            found = db.session.query(Product).filter_by(sku=MCU).one()
            products.set_prices(found, actor=None, base_price="7.10")
            db.session.commit()
        page.wait_for_timeout(800)
        assert "7.10" not in page.inner_text("body") and "€" not in page.inner_text("body")

        page.get_by_role("link", name=f"Ask for a quote {MCU}").first.click()
        page.wait_for_url("**/shop/quotes/new**")
        assert "Your price now" not in page.inner_text("body")
        page.locator("input[name='lines-0-quantity']").fill("250")
        page.get_by_role("button", name="Send the request").click()
        page.wait_for_url("**/shop/quotes/*")
        text = page.inner_text("body")
        assert "250" in text and "€" not in text
        assert "is with the seller" in text
    finally:
        context.close()
