"""The catalogue's filters and views in a real browser: suggestions while typing, picked
by keyboard; a filter value ticked, with as many results as its count said; "Add to cart"
following a live stock change; the table view and the filter panel on a phone; axe on
the open suggestions."""

import re

import pytest

from tests.browser.personas import signed_in_context, wait_settled
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_phone_layout import MEASURE
from tests.conftest import wait_live

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ACME = "orders@acme.test"
WITHIN = 2000  # ms


@pytest.fixture
def open_as(browser, app, live_server):
    """Factory: a page of a new context signed in as `email`, at `viewport`, on `url`."""
    contexts = []

    def make(email, url, viewport=DESKTOP, **options):
        context = signed_in_context(browser, app, live_server, email, viewport=viewport, **options)
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        wait_settled(page)
        return page

    yield make
    for context in contexts:
        context.close()


def test_typing_suggests_products_and_the_keyboard_opens_one(open_as):
    page = open_as(ACME, "/shop/", bypass_csp=True)  # for axe, injected below
    box = page.locator("#q")
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("stm32f4", delay=40)
    options = page.locator("#q-suggestions [role=option]")
    options.first.wait_for(state="visible", timeout=WITHIN)
    assert box.get_attribute("aria-expanded") == "true"
    names = [" ".join(t.split()) for t in options.all_inner_texts()]
    assert names and all("stm32f4" in name.lower() for name in names)
    assert page.locator("#q-suggestions-status").inner_text().startswith(f"{len(names)} suggestion")
    # Axe on the open list: combobox and listbox as a screen reader meets them.
    assert serious_violations(page) == []

    box.press("ArrowDown")
    box.press("ArrowDown")
    second = options.nth(1)
    assert second.get_attribute("aria-selected") == "true"
    assert options.first.get_attribute("aria-selected") == "false"
    assert box.get_attribute("aria-activedescendant") == second.get_attribute("id")
    assert page.evaluate("() => document.activeElement.id") == "q"  # focus stays in the box
    name = second.locator(".suggestion__name").inner_text()
    href = second.get_attribute("href")
    box.press("Enter")
    page.wait_for_url(re.compile(re.escape(href) + "$"), timeout=WITHIN)
    assert page.locator("h1").inner_text() == name

    # Escape closes the list and leaves what was typed.
    page.goto("/shop/")
    page.locator("#q").press_sequentially("cap-0603", delay=40)
    page.locator("#q-suggestions [role=option]").first.wait_for(state="visible", timeout=WITHIN)
    page.locator("#q").press("Escape")
    assert page.locator("#q-suggestions").is_hidden()
    assert page.locator("#q").get_attribute("aria-expanded") == "false"
    assert page.locator("#q").input_value() == "cap-0603"


def test_a_ticked_value_gives_as_many_results_as_its_count(open_as):
    page = open_as(ACME, "/shop/?category=capacitors")
    value = page.locator('#catalog-facets input[name="spec.Package"][value="0603"]')
    label = page.locator(f'label[for="{value.get_attribute("id")}"]').inner_text()
    count = int(re.search(r"\((\d+)\)", label).group(1))
    assert 0 < count <= 24
    value.check()
    page.wait_for_url(re.compile(r"category=capacitors&spec\.Package=0603$"), timeout=WITHIN)
    page.wait_for_function(
        "n => document.querySelectorAll('#catalog-results .product-card').length === n",
        arg=count,
        timeout=WITHIN,
    )
    wait_settled(page)
    skus = page.locator("#catalog-results [data-sku]").evaluate_all(
        "els => els.map(e => e.dataset.sku)"
    )
    assert len(skus) == count and all("-0603-" in sku for sku in skus)
    assert page.locator(".results__count").inner_text().startswith(f"{count} product")
    # The panel came back with the page (out of band), the value ticked and still focused.
    ticked = page.locator('#catalog-facets input[name="spec.Package"][value="0603"]')
    assert ticked.is_checked()
    assert page.evaluate("() => document.activeElement.value") == "0603"

    # "In stock only" narrows further, and each count in the panel says what it gives.
    page.locator("#in-stock").check()
    page.wait_for_url(re.compile(r"in_stock=1"), timeout=WITHIN)
    wait_settled(page)
    in_stock = page.locator(f'label[for="{ticked.get_attribute("id")}"]').inner_text()
    shown = page.locator("#catalog-results .product-card").count()
    assert f"({shown})" in in_stock
    # Back and forward: the URL holds the state, a reload shows the same.
    page.reload()
    wait_settled(page)
    assert page.locator("#catalog-results .product-card").count() == shown
    assert page.locator("#in-stock").is_checked()


def test_add_to_cart_follows_a_live_stock_change(open_as):
    page = open_as(ACME, "/shop/?q=CON-USBC-16P")
    wait_live(page)
    offer = page.locator('[data-sku="CON-USBC-16P"]')
    pid = offer.get_attribute("id").removeprefix("offer-")
    add, why = page.locator(f"#add-{pid}"), page.locator(".order-why")
    assert offer.get_attribute("data-orderable") == "false"
    assert add.is_hidden() and why.is_visible()
    assert why.get_by_role("link", name="Ask for a quote").is_visible()

    warehouse = open_as("warehouse@portal.test", "/office/stock?q=CON-USBC-16P")
    row = warehouse.locator("tr", has=warehouse.locator("text=CON-USBC-16P"))
    row.locator("input[name=counted]").fill("25")
    row.locator("input[name=reason]").fill("Goods received")
    row.locator("button[type=submit]").click()
    warehouse.wait_for_selector("text=Saved")

    add.wait_for(state="visible", timeout=WITHIN)
    assert why.is_hidden()
    assert page.locator('[data-sku="CON-USBC-16P"] .stock').inner_text() == "25 in stock"
    add.locator("button[type=submit]").click()
    page.wait_for_selector(f"#add-{pid} [role=status]", timeout=WITHIN)
    assert "added to your cart" in page.locator(f"#add-{pid} [role=status]").inner_text()


def fits(page) -> None:
    measured = page.evaluate(MEASURE)
    assert measured["overflow"] == 0, measured["culprits"]


def test_the_table_view_and_the_filter_panel_fit_a_phone(open_as):
    page = open_as(ACME, "/shop/?category=capacitors&view=table&spec.Package=0603", PHONE)
    assert page.locator(".catalog-table").is_visible()
    fits(page)
    # The panel folds behind its button, like the categories, and opens in place.
    toggles = page.locator(".catalog__toggle")
    assert toggles.count() == 2 and not page.locator("#catalog-facets").is_visible()
    toggles.nth(1).click()
    assert page.locator("#catalog-facets").is_visible()
    fits(page)
    # The table's last column, reached by scrolling the table itself.
    orderable = page.locator('.catalog-table__row:has([data-orderable="true"])').first
    last = orderable.locator(".catalog-table__order")
    last.scroll_into_view_if_needed()
    assert last.locator("button[type=submit]").is_visible()
    # The choice of a table is kept: the catalogue's next visit shows one.
    page.goto("/shop/?category=resistors")
    assert page.locator(".catalog-table").is_visible()
    fits(page)
