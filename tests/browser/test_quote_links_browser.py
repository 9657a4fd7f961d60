"""A quote sent by mail, in a real browser: staff send it from the quote's page (after the
browser's confirmation), the contact opens the link on a phone without signing in, reads
the quote with no axe finding and no sideways scrolling, and accepts it; the staff page
then shows the link used."""

import re

import pytest
from sqlalchemy import select, update

from core.models import Company, OutboxMail, Product, Quote
from extensions import db
from tests.browser.personas import signed_in_context, wait_settled
from tests.browser.test_accessibility import PHONE, serious_violations
from tests.matrix_base import ADMIN

pytestmark = pytest.mark.browser

CONTACT = "jane.buyer@acme-robotics.example"


def acme_quote(app) -> tuple[int, str]:
    """The demo's offered Acme quote, with stock enough for all its lines."""
    with app.app_context():
        quote = db.session.scalar(
            select(Quote)
            .join(Company, Company.id == Quote.company_id)
            .where(Company.slug == "acme", Quote.status == "offered")
            .order_by(Quote.id)
        )
        ids = [line.product_id for line in quote.lines]
        db.session.execute(update(Product).where(Product.id.in_(ids)).values(stock=100_000))
        db.session.commit()
        return quote.id, quote.number


def mailed_token(app) -> str:
    with app.app_context():
        mail = db.session.scalar(
            select(OutboxMail).where(OutboxMail.to_addr == CONTACT).order_by(OutboxMail.id.desc())
        )
        return re.search(r"/q/([A-Za-z0-9_-]{20,})", mail.body).group(1)


def test_staff_send_a_quote_and_the_contact_accepts_it_on_a_phone(browser, app, live_server):
    quote_id, number = acme_quote(app)
    staff = signed_in_context(browser, app, live_server, ADMIN)
    contact = browser.new_context(base_url=live_server, viewport=PHONE, bypass_csp=True)
    try:
        page = staff.new_page()
        page.goto(f"/office/quotes/{quote_id}")
        panel = page.locator(f"#quote-mail-{quote_id}")
        panel.get_by_label("Contact's name").fill("Jane Buyer")
        panel.get_by_label("Contact's e-mail address").fill(CONTACT)
        page.once("dialog", lambda dialog: dialog.accept())
        panel.get_by_role("button", name="Send the quote").click()
        page.wait_for_selector(f"text=is sent to {CONTACT}")
        assert panel.locator(".quote-mail__link--open").count() == 1

        phone = contact.new_page()
        response = phone.goto(f"/q/{mailed_token(app)}")
        assert response.status == 200
        wait_settled(phone)
        assert number in phone.content()
        overflow = phone.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the link page scrolls sideways by {overflow}px"
        assert serious_violations(phone) == []
        phone.get_by_role("button", name=re.compile("Accept and order")).click()
        phone.wait_for_selector("text=Thank you")
        assert "is placed at the quoted prices" in phone.content()

        page.reload()
        assert panel.locator(".quote-mail__link--used").count() == 1
    finally:
        contact.close()
        staff.close()


def test_the_send_by_mail_panel_fits_a_phone(browser, app, live_server):
    quote_id, _number = acme_quote(app)
    context = signed_in_context(browser, app, live_server, ADMIN, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"/office/quotes/{quote_id}")
        panel = page.locator(f"#quote-mail-{quote_id}")
        panel.get_by_label("Contact's name").fill("Jane Buyer")
        panel.get_by_label("Contact's e-mail address").fill(CONTACT)
        page.once("dialog", lambda dialog: dialog.accept())
        panel.get_by_role("button", name="Send the quote").click()
        page.wait_for_selector(f"text=is sent to {CONTACT}")
        box = panel.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        overflow = panel.evaluate("(el) => el.scrollWidth - el.clientWidth")
        assert overflow <= 0, f"the panel scrolls sideways by {overflow}px"
    finally:
        context.close()
