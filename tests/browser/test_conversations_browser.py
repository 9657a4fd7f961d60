"""Conversations in a real browser: a customer writes on an order with a drawing attached,
the rep's open order page shows it without a reload, the rep downloads the file; a file
that is not accepted is refused in the form, and what was typed stays."""

import pytest
from sqlalchemy import select

from core import conversations
from core.models import Company, Order, User
from extensions import db
from tests.browser.personas import signed_in_context, wait_settled
from tests.conftest import wait_live

pytestmark = pytest.mark.browser

CUSTOMER = "orders@acme.test"
REP = "anna.sales@portal.test"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def acme_order_id(app) -> int:
    with app.app_context():
        acme = db.session.scalar(select(Company.id).where(Company.slug == "acme"))
        return db.session.scalar(
            select(Order.id).where(Order.company_id == acme).order_by(Order.id)
        )


def unread_for(app, email: str, order_id: int) -> int:
    with app.app_context():
        person = db.session.scalar(select(User).where(User.email == email))
        order = db.session.get(Order, order_id)
        return conversations.unread_counts(person, [order]).get(order_id, 0)


def test_a_message_with_a_file_reaches_the_rep_live_and_downloads(browser, app, live_server):
    order_id = acme_order_id(app)
    customer = signed_in_context(browser, app, live_server, CUSTOMER)
    rep = signed_in_context(browser, app, live_server, REP, accept_downloads=True)
    try:
        office = rep.new_page()
        office.goto(f"/office/orders/{order_id}")
        wait_live(office)
        shop = customer.new_page()
        shop.goto(f"/shop/orders/{order_id}")
        wait_live(shop)

        # A file that is not accepted: refused in the form, the text stays as typed.
        shop.get_by_label("Message").fill("Drawing for the second batch")
        files = shop.get_by_label("Files (optional)")
        files.set_input_files(
            {"name": "drawing.pdf", "mimeType": "application/pdf", "buffer": b"<html>"}
        )
        shop.get_by_role("button", name="Send").click()
        shop.wait_for_selector(".conversation .error-message")
        assert "not a file we accept" in shop.locator(".conversation .error-message").inner_text()
        assert shop.get_by_label("Message").input_value() == "Drawing for the second batch"

        files.set_input_files({"name": "batch-2.pdf", "mimeType": "application/pdf", "buffer": PDF})
        shop.get_by_role("button", name="Send").click()
        region = f"#order-conversation-{order_id}"
        shop.wait_for_selector(f"{region} >> text=Drawing for the second batch")
        wait_settled(shop)
        assert shop.get_by_label("Message").input_value() == ""
        assert shop.locator(".conversation .error-message").count() == 0

        # The rep's open page shows it without a reload, with the file to download.
        office.wait_for_selector(f"{region} >> text=Drawing for the second batch", timeout=5_000)
        # Seen there, so read: the live copy told the server (no unread badge in the list).
        wait_settled(office)
        office.wait_for_timeout(300)
        assert unread_for(app, REP, order_id) == 0
        with office.expect_download() as download:
            office.locator(region).get_by_role("link", name="batch-2.pdf").click()
        assert download.value.suggested_filename == "batch-2.pdf"
        with open(download.value.path(), "rb") as saved:
            assert saved.read() == PDF
    finally:
        customer.close()
        rep.close()
