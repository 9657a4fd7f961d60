"""The back office's start page and product list: costs only for those allowed."""

import pytest

from tests.html import find, find_all


@pytest.mark.parametrize(
    ("email", "sees_cost"),
    [
        ("admin@portal.test", True),
        ("manager@portal.test", True),
        ("finance@portal.test", True),
        ("anna.sales@portal.test", False),
        ("warehouse@portal.test", False),
        ("viewer@portal.test", False),
    ],
)
def test_costs_and_margins_only_with_the_costs_permission(as_user, email, sees_cost):
    html = as_user(email).get("/office/products?q=MCU-STM32F401").get_data(as_text=True)
    headers = [th.text for th in find_all(html, class_="num")]
    assert ("Cost" in headers) is sees_cost
    assert ("Margin" in headers) is sees_cost
    assert ("€3.90" in html) is sees_cost  # the cost of MCU-STM32F401


def test_office_search_and_exact_stock(as_user):
    html = (
        as_user("warehouse@portal.test")
        .get("/office/products?q=CAP-1206-10U")
        .get_data(as_text=True)
    )
    assert "1 product for" in html
    cells = [td.text for td in find_all(html, class_="num")]
    assert "36" in cells  # staff with stock permission see the exact count


def test_office_fragment_for_htmx(as_user):
    response = as_user("manager@portal.test").htmx("/office/products?q=STM32")
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="products-table"')
    assert "<html" not in html


def test_navigation_lists_only_permitted_existing_modules(as_user):
    nav_warehouse = find(
        as_user("warehouse@portal.test").get("/office/").get_data(as_text=True), id="nav"
    )
    assert "Products" in nav_warehouse.text
    nav_finance = find(
        as_user("finance@portal.test").get("/office/").get_data(as_text=True), id="nav"
    )
    assert "Products" in nav_finance.text


def test_dashboard_counts_only_what_the_person_may_see(as_user):
    finance = as_user("finance@portal.test").get("/office/").get_data(as_text=True)
    assert "Out of stock" not in finance  # no stock permission
    warehouse = as_user("warehouse@portal.test").get("/office/").get_data(as_text=True)
    assert "Out of stock" in warehouse
