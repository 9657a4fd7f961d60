"""Live updates in real browsers: pushes arrive within a second, rendered per viewer;
a page whose socket closes for good says why."""

import re

import pytest

from tests.conftest import wait_live

pytestmark = pytest.mark.browser

WITHIN = 1000  # ms


def open_catalogue(page, query):
    page.goto(f"/shop/?q={query}")
    # Live once the socket has told the server what this page shows.
    page.wait_for_function("() => window.htmx && document.body.dataset.page")
    wait_live(page)


def test_stock_change_reaches_each_group_in_its_own_form(sign_in):
    wholesale = sign_in("orders@acme.test")
    partner = sign_in("orders@baltic.test")
    warehouse = sign_in("warehouse@portal.test")
    open_catalogue(wholesale, "MCU-STM32F401")
    open_catalogue(partner, "MCU-STM32F401")
    offer = '[data-sku="MCU-STM32F401"] .stock'
    assert wholesale.locator(offer).inner_text() == "4,217 in stock"
    assert partner.locator(offer).inner_text() == "Many"

    warehouse.goto("/office/stock?q=MCU-STM32F401")
    row = warehouse.locator("tr", has=warehouse.locator("text=MCU-STM32F401"))
    row.locator("input[name=counted]").fill("37")
    row.locator("input[name=reason]").fill("Stocktake")
    row.locator("button[type=submit]").click()
    warehouse.wait_for_selector("text=Saved")

    # No reload: the pages change by themselves.
    wholesale.wait_for_function(
        "s => document.querySelector(s).innerText === '37 in stock'", arg=offer, timeout=WITHIN
    )
    partner.wait_for_function(
        "s => document.querySelector(s).innerText === 'Few'", arg=offer, timeout=WITHIN
    )
    assert "37" not in partner.locator('[data-sku="MCU-STM32F401"]').inner_text()


def test_search_results_stay_live(sign_in):
    wholesale = sign_in("orders@acme.test")
    warehouse = sign_in("warehouse@portal.test")
    wholesale.goto("/shop/")
    wholesale.fill("#q", "CAP-1206-10U")
    wholesale.wait_for_url(re.compile(r"q=CAP-1206-10U"))
    wait_live(wholesale)
    warehouse.goto("/office/stock?q=CAP-1206-10U")
    row = warehouse.locator("tr", has=warehouse.locator("text=CAP-1206-10U"))
    row.locator("input[name=counted]").fill("12")
    row.locator("input[name=reason]").fill("Damaged reel")
    row.locator("button[type=submit]").click()
    wholesale.wait_for_function(
        "() => document.querySelector('[data-sku=\"CAP-1206-10U\"] .stock').innerText"
        " === '12 in stock'",
        timeout=WITHIN,
    )


def test_signing_out_in_another_tab_tells_the_open_page(sign_in):
    page = sign_in("orders@baltic.test")
    open_catalogue(page, "MCU-STM32F401")
    other = page.context.new_page()
    other.goto("/shop/")
    other.get_by_role("button", name="Sign out").click()
    other.wait_for_url(re.compile(r"/login"))

    page.wait_for_selector("#live-status:not([hidden])", timeout=WITHIN)
    status = page.locator("#live-status").inner_text()
    assert "You were signed out" in status and "blocked" not in status
    page.wait_for_selector("body[data-live-closed='1008']", state="attached", timeout=WITHIN)


def test_a_page_beyond_the_sockets_a_session_may_hold_says_what_to_do(app, sign_in, monkeypatch):
    monkeypatch.setitem(app.config, "WS_MAX_PER_SESSION", 2)
    first = sign_in("orders@delft.test")  # lands on the catalogue: one socket
    wait_live(first)
    second = first.context.new_page()
    open_catalogue(second, "CAP-1206-10U")
    third = first.context.new_page()
    third.goto("/shop/")
    third.wait_for_selector("#live-status:not([hidden])", timeout=5000)
    assert "too many pages of the portal are open" in third.locator("#live-status").inner_text()
    third.wait_for_selector("body[data-live-closed='4429']", state="attached", timeout=WITHIN)
    for page in (first, second):  # the pages already open stay live
        assert page.evaluate("document.body.dataset.liveState") == "watching"
