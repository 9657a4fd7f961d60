"""Webhooks in a real browser: a decision-maker registers their ERP's endpoint, copies the
signing secret from the one page that shows it, sends a test event that a real HTTPS
receiver checks with it, watches the delivery log fill in live while an order placed
elsewhere is delivered, and renews the secret after the browser's confirmation."""

import json

import pytest
from standardwebhooks import Webhook

from core import orders
from core.models import Product, User
from extensions import db
from tests.browser.personas import signed_in_context, wait_settled
from tests.webhook_receiver import receiving

pytestmark = pytest.mark.browser

CUSTOMER = "orders@acme.test"


@pytest.fixture
def receiver(app, tmp_path, monkeypatch):
    with receiving(app, tmp_path, monkeypatch) as found:
        yield found


def place_order(app) -> int:
    with app.app_context():
        buyer = db.session.query(User).filter_by(email=CUSTOMER).one()
        mcu = db.session.query(Product).filter_by(sku="MCU-STM32F401").one()
        order = orders.place(buyer.company, [orders.LineRequest(mcu.id, 3)], placed_by=buyer)
        db.session.commit()
        return order.id


def test_an_endpoint_is_registered_tested_followed_live_and_its_secret_renewed(
    browser, app, live_server, receiver
):
    context = signed_in_context(browser, app, live_server, CUSTOMER)
    try:
        page = context.new_page()
        page.goto("/account")
        page.get_by_role("link", name="Webhook endpoints").click()
        page.get_by_label("Address (URL)").fill(receiver.url)
        page.get_by_label("Description").fill("ERP order intake")
        page.get_by_label("Order placed").check()
        page.get_by_role("button", name="Create endpoint").click()
        secret = page.locator("#webhook-secret-value").input_value()
        assert secret.startswith("whsec_")

        page.get_by_role("button", name="Send a test event").click()
        page.wait_for_selector("text=A test event is on its way")
        (test,) = receiver.wait_for(1)
        assert Webhook(secret).verify(test.body, test.headers)["type"] == "webhook.test"
        assert secret not in page.content()  # shown once, on the page that made it
        wait_settled(page)

        # An order placed elsewhere: the open log shows its delivery without a reload.
        order_id = place_order(app)
        message = receiver.wait_for(2)[-1]
        assert json.loads(message.body)["data"]["order"]["id"] == order_id
        log = page.locator("[id^=webhook-deliveries-]")
        log.locator("tr", has_text="Order placed").wait_for()
        assert "Delivered" in log.locator("tr", has_text="Order placed").inner_text()

        # A new secret only after the confirmation; then only the new one checks.
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="New signing secret").click()
        renewed = page.locator("#webhook-secret-value")
        renewed.wait_for()
        fresh = renewed.input_value()
        assert fresh.startswith("whsec_") and fresh != secret
        place_order(app)
        last = receiver.wait_for(3)[-1]
        assert Webhook(fresh).verify(last.body, last.headers)["type"] == "order.placed"
        with pytest.raises(Exception, match="signature"):
            Webhook(secret).verify(last.body, last.headers)
    finally:
        context.close()
