"""Custom parts in a real browser, on a phone-sized screen: Acme's external draftsman (who
sees no prices) asks for a part made to a drawing, uploaded through the form; the sales rep
prices it in an offer, and the decision-maker accepts it into an order whose line is the
custom part."""

import pytest

from core.models import Order, Quote
from extensions import db
from tests.browser.personas import signed_in_context, wait_settled
from tests.costs import shows

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_a_drawing_is_asked_for_priced_and_accepted_into_an_order(
    browser, app, live_server, tmp_path
):
    drawing = tmp_path / "flange.pdf"
    drawing.write_bytes(PDF)
    contexts = [
        signed_in_context(browser, app, live_server, email, viewport=PHONE)
        for email in ("draftsman@acme.test", "anna.sales@portal.test", "orders@acme.test")
    ]
    draftsman, rep, buyer = (c.new_page() for c in contexts)
    try:
        draftsman.goto("/shop/quotes/new")
        draftsman.get_by_label("Description").fill("Flange, 6 holes M8, deburred")
        draftsman.get_by_label("Material and thickness").select_option(label="S235 steel, 5 mm")
        draftsman.locator("#custom-0-quantity").fill("25")
        draftsman.locator("#custom-0-drawings").set_input_files(str(drawing))
        assert draftsman.evaluate("document.documentElement.scrollWidth") <= 390
        draftsman.get_by_role("button", name="Send the request").click()
        draftsman.wait_for_url("**/shop/quotes/*")
        assert "Flange, 6 holes M8, deburred" in draftsman.content()
        quote_id = int(draftsman.url.rstrip("/").split("/")[-1])
        with app.app_context():
            number = db.session.get(Quote, quote_id).number
        assert draftsman.get_by_role("link", name="flange.pdf").count() == 1

        rep.goto(f"/office/quotes/{quote_id}")
        rep.get_by_label(f"Unit price for CUSTOM-{number}-1").fill("12.50")
        rep.get_by_role("button", name="Send the offer").click()
        rep.wait_for_selector("text=Your prices are with the customer.")

        # The draftsman's page follows the offer live, and still shows no price.
        draftsman.wait_for_selector("text=sees the prices and decides")
        assert not shows(draftsman.content(), "12.50", "12,50")

        buyer.goto(f"/shop/quotes/{quote_id}")
        assert "12.50" in buyer.content()
        wait_settled(buyer)
        buyer.once("dialog", lambda dialog: dialog.accept())
        buyer.get_by_role("button", name="Accept").first.click()
        buyer.wait_for_selector("text=placed at the quoted prices")
        with app.app_context():
            order = db.session.get(Order, db.session.get(Quote, quote_id).order_id)
            (line,) = order.lines
            assert (line.product_id, line.sku, line.quantity) == (None, f"CUSTOM-{number}-1", 25)
            assert line.name == "Flange, 6 holes M8, deburred, S235 steel 5 mm"
    finally:
        for context in contexts:
            context.close()
