"""Viewing the storefront as a customer person, in a real browser: from the customer's
office page a sales rep opens the storefront as one of its people; every page says so in a
banner, its live channel renders for that person, nothing that would change something is
enabled (browsing and searching are), and leaving the view returns to the office."""

import pytest
from playwright.sync_api import expect

from tests.browser.personas import signed_in_context
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_phone_layout import MEASURE, PHONE
from tests.conftest import wait_live
from tests.records import company, user

pytestmark = pytest.mark.browser

ANNA = "anna.sales@portal.test"
PERSON = "orders@acme.test"
WITHIN = 5000  # ms


@pytest.fixture
def rep_page(browser, app, live_server):
    """Anna's browser (axe may be injected: the page's own CSP is bypassed for it)."""
    context = signed_in_context(browser, app, live_server, ANNA, bypass_csp=True)
    yield context.new_page()
    context.close()


def test_a_rep_views_the_storefront_as_a_customer_person_and_leaves(rep_page, app):
    with app.app_context():
        acme = company("acme").id
        person_id, person_name = user(PERSON).id, user(PERSON).name
    page = rep_page
    page.goto(f"/office/customers/{acme}")
    page.select_option("#view-person", str(person_id))
    page.click("text=View as this person")
    page.wait_for_url("**/shop/")

    banner = page.locator("[data-acting=view]")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(f"viewing the storefront as {person_name} of Acme Robotics")
    # The page's live channel is the person's, read within the rep's reach.
    assert f"as={person_id}" in page.locator("body").get_attribute("ws-connect")
    wait_live(page)

    # Nothing that would change something is enabled; the exit and sign-out are.
    adds = page.locator("form[action='/shop/cart/lines'] button")
    assert adds.count() > 0
    for index in range(adds.count()):
        expect(adds.nth(index)).to_be_disabled(timeout=WITHIN)
    expect(page.locator("[data-acting=view] button")).to_be_enabled()
    expect(page.locator(".who button")).to_be_enabled()

    # Browsing and searching stay open: the search box is a reading form.
    page.fill("input[name=q]", "MCU-STM32F401")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-sku='MCU-STM32F401']", timeout=WITHIN)
    expect(page.locator("[data-acting=view]")).to_be_visible()
    for index in range(adds.count()):
        expect(adds.nth(index)).to_be_disabled(timeout=WITHIN)

    # The banner reads well to assistive technology, as every page must.
    assert serious_violations(page) == []

    page.click("[data-acting=view] button")
    page.wait_for_url(f"**/office/customers/{acme}")
    expect(page.locator("[data-acting]")).to_have_count(0)
    assert page.goto("/shop/").status == 403


def test_the_banner_fits_a_phone(browser, app, live_server):
    """Acting for a person on a 390 px phone: the banner wraps, nothing scrolls sideways."""
    with app.app_context():
        acme, person_id = company("acme").id, user(PERSON).id
    context = signed_in_context(browser, app, live_server, ANNA, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"/office/customers/{acme}")
        page.select_option("#act-person", str(person_id))
        page.click("text=Act for this customer")
        page.wait_for_url("**/shop/")
        for url in ("/shop/", "/shop/cart", "/office/"):
            page.goto(url)
            expect(page.locator("[data-acting=act]")).to_be_visible()
            assert page.evaluate(MEASURE)["overflow"] == 0, url
        page.click("[data-acting=act] button")
        page.wait_for_url(f"**/office/customers/{acme}")
    finally:
        context.close()
