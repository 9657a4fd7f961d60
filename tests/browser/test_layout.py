"""The layout in a real browser: the back office's modules grouped in a sidebar, the menu
button that folds the navigation on a phone, and the catalogue's folded categories."""

import pytest

from tests.browser.personas import signed_in_context, wait_settled
from tests.matrix_base import ADMIN

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
CUSTOMER = "orders@acme.test"


@pytest.fixture
def open_as(browser, app, live_server):
    """Factory: a page of a new context signed in as `email`, at `viewport`, on `url`."""
    contexts = []

    def make(email, viewport, url):
        context = signed_in_context(browser, app, live_server, email, viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        wait_settled(page)
        return page

    yield make
    for context in contexts:
        context.close()


def test_the_back_office_groups_its_modules_by_area_beside_the_page(open_as):
    page = open_as(ADMIN, DESKTOP, "/office/orders")
    areas = page.locator("#nav .nav__area").all_inner_texts()
    assert [a.lower() for a in areas] == ["sales", "catalogue", "operations", "administration"]
    sales = page.locator("#nav ul[aria-labelledby=nav-area-sales] a").all_inner_texts()
    assert sales == ["Orders", "Quotes", "Invoices & payments", "Customers", "Tasks"]
    assert page.locator("#nav a[aria-current=page]").inner_text() == "Orders"
    # A sidebar left of the page, and a header of one line.
    nav, main = page.locator("#nav").bounding_box(), page.locator("#main").bounding_box()
    assert nav["x"] + nav["width"] <= main["x"] + 1
    assert page.locator(".topbar").bounding_box()["height"] < 70
    assert not page.locator("#menu-toggle").is_visible()


def test_areas_with_nothing_to_open_are_left_out(open_as):
    page = open_as("warehouse@portal.test", DESKTOP, "/office/")
    areas = [a.lower() for a in page.locator("#nav .nav__area").all_inner_texts()]
    assert "administration" not in areas and "catalogue" in areas


@pytest.mark.parametrize(("email", "url"), [(ADMIN, "/office/"), (CUSTOMER, "/shop/orders")])
def test_on_a_phone_the_navigation_folds_behind_the_menu_button(open_as, email, url):
    page = open_as(email, PHONE, url)
    button = page.locator("#menu-toggle")
    assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert button.get_attribute("aria-controls") == "nav"
    assert not page.locator("#nav").is_visible()
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    assert page.locator("#nav").is_visible() and page.locator(".who").is_visible()
    page.locator("#nav a").first.focus()
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"
    assert not page.locator("#nav").is_visible()
    assert page.evaluate("() => document.activeElement.id") == "menu-toggle"


def test_the_catalogue_folds_its_categories_behind_a_button_on_a_phone(open_as):
    phone = open_as(CUSTOMER, PHONE, "/shop/")
    toggle = phone.locator(".catalog__toggle").first  # then the filters' own
    assert toggle.is_visible() and not phone.locator(".categories").first.is_visible()
    toggle.click()
    assert phone.locator(".categories a", has_text="All products").is_visible()
    desktop = open_as(CUSTOMER, DESKTOP, "/shop/")
    assert not desktop.locator(".catalog__toggle").first.is_visible()
    assert not desktop.locator(".catalog__toggle").last.is_visible()
    assert desktop.locator(".categories a", has_text="All products").is_visible()
