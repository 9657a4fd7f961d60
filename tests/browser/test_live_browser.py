"""Live updates in real browsers: pushes arrive within a second, rendered per viewer."""

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
    assert wholesale.locator(offer).inner_text() == "4217 in stock"
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
