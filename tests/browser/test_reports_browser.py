"""Financial reports in a real browser: the manager's open report page follows the trade live."""

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from blueprints.filters import money
from core import billing, reports
from core.models import Invoice, Order, User
from extensions import db
from tests.conftest import wait_live

pytestmark = pytest.mark.browser

WITHIN = 3000  # ms
MANAGER = "manager@portal.test"
FINANCE = "finance@portal.test"


def text_is(page, selector: str, expected: str) -> None:
    """Wait until the element's text is exactly `expected` (without reloading)."""
    page.wait_for_function(
        "([s, t]) => document.querySelector(s)?.innerText.trim() === t",
        arg=[selector, expected],
        timeout=WITHIN,
    )


def figure(page, name: str) -> str:
    return page.locator(f"[data-figure={name}]").inner_text().strip()


def test_an_order_in_the_shop_updates_the_managers_open_reports(sign_in, ctx):
    manager = sign_in(MANAGER)
    manager.goto("/office/reports")
    manager.wait_for_function("() => window.htmx && document.body.dataset.page")
    wait_live(manager)
    manager.evaluate("window.__sameDocument = true")  # gone if the page reloads
    filters = reports.default_filters(billing.today())
    staff = db.session.scalar(select(User).where(User.email == MANAGER))
    before = reports.sales_by_period(staff, filters)
    margin_before = reports.margins(staff, filters).total.margin
    assert figure(manager, "revenue") == money(before.revenue)
    assert figure(manager, "orders") == str(before.orders)
    etna_before = manager.locator("#report-customers tr", has_text="Etna Labs").inner_text()

    # A customer orders through the storefront, in a browser of their own.
    customer = sign_in("orders@etna.test")
    customer.goto("/shop/?q=CAP-1206-10U")
    card = customer.locator("li.product-card", has=customer.locator('[data-sku="CAP-1206-10U"]'))
    card.locator("input[name=quantity]").fill("10")  # sold from 10, in packs of 10
    card.locator("button", has_text="Add to cart").click()
    card.get_by_text("added to your cart").wait_for()
    customer.goto("/shop/cart")
    customer.locator("button", has_text="Place the order").click()
    customer.wait_for_url(re.compile(r"/shop/orders/\d+$"))
    order_id = int(customer.url.rsplit("/", 1)[1])
    db.session.rollback()
    order = db.session.get(Order, order_id)
    assert order.company.slug == "etna" and order.status == "placed"

    # The manager's page follows without a reload: totals, customers, margins.
    text_is(manager, "[data-figure=orders]", str(before.orders + 1))
    text_is(manager, "[data-figure=revenue]", money(before.revenue + order.total))
    etna_after = manager.locator("#report-customers tr", has_text="Etna Labs").inner_text()
    assert etna_after != etna_before
    margin = (
        margin_before
        + order.total
        - sum((line.unit_cost * line.quantity for line in order.lines), Decimal(0)).quantize(
            Decimal("0.01")
        )
    )
    text_is(manager, "[data-figure=margin]", money(margin))
    assert manager.locator("#chart-sales rect.chart__bar").count() == 12
    # The regions kept the page's filters when they re-fetched themselves.
    assert (
        manager.locator("#report-sales")
        .get_attribute("hx-get")
        .startswith("/office/reports/sales?from=")
    )
    assert manager.evaluate("window.__sameDocument") is True


def test_a_payment_updates_the_ageing_report_on_an_open_page(sign_in, ctx):
    finance = sign_in(FINANCE)
    finance.goto("/office/reports/ageing")
    finance.wait_for_function("() => window.htmx && document.body.dataset.page")
    wait_live(finance)
    finance.evaluate("window.__sameDocument = true")
    person = db.session.scalar(select(User).where(User.email == FINANCE))
    owed = reports.ageing(person, billing.today()).total
    assert figure(finance, "owed") == money(owed)
    invoice = db.session.scalar(
        select(Invoice)
        .where(billing.status_condition("outstanding", billing.today()))
        .order_by(Invoice.id)
    )
    billing.record_payment(invoice, Decimal("1.00"), billing.today(), "transfer", "", actor=person)
    db.session.commit()
    text_is(finance, "[data-figure=owed]", money(owed - Decimal("1.00")))
    assert finance.evaluate("window.__sameDocument") is True
