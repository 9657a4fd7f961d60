"""Accessibility in a real browser: axe-core on the main pages of both faces, the skip
link, focus on the first field in error, and the keyboard path to the first product.

axe-core is vendored (static/vendor/axe-core-*.min.js, from the npm registry, pinned) and
injected by the tests only; no page of the portal loads it. A page fails on any
violation axe rates serious or critical.
"""

from pathlib import Path

import pytest

from tests.browser.personas import route_ids, signed_in_context, wait_settled
from tests.matrix_base import ADMIN

# The layout is the same on any database: .ci/run runs these on its SQLite pass only.
pytestmark = [pytest.mark.browser, pytest.mark.layout]

VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor"
(AXE,) = VENDOR.glob("axe-core-4.*.min.js")
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
CUSTOMER = "orders@acme.test"
FAILING = ("serious", "critical")

OFFICE_PAGES = {
    "overview": "/office/",
    "products": "/office/products",
    "product edit": "/office/products/{product}/edit",
    "stock": "/office/stock",
    "orders": "/office/orders",
    "order": "/office/orders/{acme_order}",
    "order with a conversation": "/office/orders/{talk_order}",
    "quotes": "/office/quotes",
    "quote with a conversation": "/office/quotes/{talk_quote}",
    "materials": "/office/quotes/materials",
    "material": "/office/quotes/materials/{material}",
    "invoices": "/office/invoices",
    "customers": "/office/customers",
    "customer": "/office/customers/{acme}",
    "placed for customers": "/office/acting",
    "users": "/office/users",
    "roles": "/office/roles",
    "settings": "/office/settings",
    "audit": "/office/audit",
    "jobs": "/office/jobs",
    "reports": "/office/reports",
    "imports": "/office/imports",
    "groups": "/office/groups",
    "group": "/office/groups/{standard}",
    "group breaks": "/office/groups/{wholesale}/prices/{product}/breaks",
    "explain a quantity": "/office/explain?company={acme}&sku=MCU-STM32F401&qty=100",
    "promotions": "/office/promotions",
    "shipments": "/office/shipments",
    "webhooks": "/account/webhooks",
    "tasks": "/office/tasks?who=all&status=any",
    "task": "/office/tasks/{acme_task}",
    "new task": "/office/tasks/new?company={acme}",
    "task calendar": "/office/tasks/calendar?who=all",
    "contact history": "/office/customers/{acme}/history",
}
SHOP_PAGES = {
    "catalogue": "/shop/",
    "catalogue filtered": "/shop/?category=capacitors&spec.Package=0603&in_stock=1",
    "catalogue table": "/shop/?category=capacitors&view=table",
    "catalogue cards": "/shop/?q=stm32&view=cards",
    "product": "/shop/products/{product}",
    "cart": "/shop/cart",
    "orders": "/shop/orders",
    "order": "/shop/orders/{acme_order}",
    "order with a conversation": "/shop/orders/{talk_order}",
    "quotes": "/shop/quotes",
    "quote with a conversation": "/shop/quotes/{talk_quote}",
    "new quote with custom parts": "/shop/quotes/new",
    "invoices": "/shop/invoices",
    "users": "/shop/users",
    "lists": "/shop/lists",
    "list": "/shop/lists/{acme_list}",
    "add to list": "/shop/lists/add?product_id={product}",
    "quick order": "/shop/quick-order",
    "account": "/account",
    "api tokens": "/account/tokens",
    "webhooks": "/account/webhooks",
    "webhook endpoint": "/account/webhooks/{acme_webhook}",
    "api reference": "/api/v1/docs",
}

# axe's findings rated serious or critical, as (rule id, impact, [target, ...]).
RUN_AXE = """async (failing) => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => failing.includes(v.impact))
    .map(v => [v.id, v.impact, v.nodes.map(n => n.target.join(' '))]);
}"""


@pytest.fixture(scope="module")
def ids(app):
    return route_ids(app)


@pytest.fixture(scope="module")
def contexts(browser, app, live_server):
    """One desktop browser context per persona, signed in once, for the whole module."""
    made = {}

    def context_for(email):
        if email not in made:
            made[email] = signed_in_context(
                browser, app, live_server, email, viewport=DESKTOP, bypass_csp=True
            )
        return made[email]

    yield context_for
    for context in made.values():
        context.close()


def serious_violations(page) -> list[str]:
    """Runs axe on the page as it is; one line per serious or critical rule broken."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN_AXE, list(FAILING))
    return [
        f"{rule} ({impact}, {len(nodes)}): {', '.join(nodes[:8])}" for rule, impact, nodes in found
    ]


def open_page(context, url: str):
    page = context.new_page()
    response = page.goto(url, wait_until="load")
    assert response.status == 200, (url, response.status)
    wait_settled(page)
    return page


def check(page, label: str) -> None:
    violations = serious_violations(page)
    page.close()
    if violations:
        pytest.fail(
            f"{label}: {len(violations)} serious or critical axe rules broken:\n"
            + ("\n".join(violations)),
            pytrace=False,
        )


@pytest.mark.parametrize("name", OFFICE_PAGES)
def test_back_office_page_has_no_serious_axe_violation(contexts, ids, name):
    url = OFFICE_PAGES[name].format(**ids)
    check(open_page(contexts(ADMIN), url), f"back office {name} ({url})")


@pytest.mark.parametrize("name", SHOP_PAGES)
def test_storefront_page_has_no_serious_axe_violation(contexts, ids, name):
    url = SHOP_PAGES[name].format(**ids)
    check(open_page(contexts(CUSTOMER), url), f"storefront {name} ({url})")


def test_checkout_has_no_serious_axe_violation(contexts, ids):
    """The cart with a line in it shows the checkout form: delivery, method, note."""
    page = open_page(contexts(CUSTOMER), f"/shop/products/{ids['product']}")
    with page.expect_response(lambda r: r.url.endswith("/shop/cart/lines")):
        page.locator("form.add-to-cart button[type=submit]").first.click()
    page.goto("/shop/cart")
    wait_settled(page)
    assert page.locator("form.cart-action textarea[name=note]").count() == 1
    check(page, "storefront checkout (/shop/cart with a line)")


def checked_quick_order(context):
    """The quick order page with its table of checked lines (good lines and problems)."""
    page = open_page(context, "/shop/quick-order")
    page.fill(
        "textarea[name=lines]", "MCU-STM32F401 10\nCAP-1206-10U 15\nNOPE-1 2\nMCU-STM32F401 5"
    )
    with page.expect_navigation():
        page.locator("#quick-order-form button[type=submit]").click()
    assert page.locator("tr.quick-order-line").count() == 4
    return page


def test_quick_order_check_has_no_serious_axe_violation(contexts):
    check(checked_quick_order(contexts(CUSTOMER)), "storefront quick order, checked lines")


def test_quick_order_check_on_a_phone(browser, app, live_server):
    """The checked lines on a phone: no axe finding, and the table scrolls inside itself."""
    context = signed_in_context(
        browser, app, live_server, CUSTOMER, viewport=PHONE, bypass_csp=True
    )
    try:
        page = checked_quick_order(context)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the quick order page scrolls sideways by {overflow}px"
        check(page, "quick order's checked lines on a phone")
    finally:
        context.close()


# Pages whose tables are wider than a phone: there they scroll inside themselves, and a
# keyboard must be able to scroll them too.
PHONE_PAGES = [
    (ADMIN, "/office/orders"),
    (ADMIN, "/office/orders/{acme_order}"),
    (ADMIN, "/office/products"),
    (ADMIN, "/office/audit"),
    (ADMIN, "/office/jobs"),
    (ADMIN, "/office/reports"),
    (ADMIN, "/office/tasks/calendar?who=all"),
    (CUSTOMER, "/shop/orders/{acme_order}"),
    (CUSTOMER, "/shop/invoices"),
]


@pytest.mark.parametrize(("email", "url"), PHONE_PAGES)
def test_on_a_phone_a_page_has_no_serious_axe_violation(browser, app, live_server, ids, email, url):
    context = signed_in_context(browser, app, live_server, email, viewport=PHONE, bypass_csp=True)
    try:
        check(open_page(context, url.format(**ids)), f"{url} on a phone")
    finally:
        context.close()


def test_sign_in_page_has_no_serious_axe_violation(contexts):
    check(open_page(contexts(None), "/login"), "sign-in page (/login)")


@pytest.mark.parametrize(("email", "url"), [(ADMIN, "/office/"), (CUSTOMER, "/shop/")])
def test_the_skip_link_comes_first_and_moves_focus_to_main(contexts, email, url):
    page = open_page(contexts(email), url)
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.tagName, document.activeElement.getAttribute('href'),"
        " document.activeElement.innerText]"
    )
    assert focused[:2] == ["A", "#main"], focused
    assert page.locator(":focus").is_visible()  # shown when focused, not only to readers
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    assert page.evaluate("() => document.activeElement.tagName") == "MAIN"
    page.close()


def test_a_keyboard_person_reaches_the_first_product_in_five_tabs(contexts):
    page = open_page(contexts(CUSTOMER), "/shop/")
    first = page.locator(".product-card__name").first.get_attribute("href")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Enter")
    path = []
    for _ in range(5):
        page.keyboard.press("Tab")
        here = page.evaluate(
            "() => document.activeElement.getAttribute('href') ||"
            " document.activeElement.id || document.activeElement.tagName"
        )
        path.append(here)
        if here == first:
            break
    page.close()
    assert path[-1] == first, f"after the skip link, five Tabs go through {path}"


def test_a_refused_form_puts_focus_on_its_first_field_in_error(contexts, ids):
    """A whole-page form answered 422: focus lands on the first field marked invalid."""
    page = open_page(contexts(ADMIN), f"/office/products/{ids['product']}/edit")
    page.fill("input[name=name]", "")
    with page.expect_navigation():
        page.locator("form.product-form button.btn--primary").click()
    assert page.evaluate("() => document.activeElement.name") == "name"
    assert page.evaluate("() => document.activeElement.getAttribute('aria-invalid')") == "true"
    page.close()


def test_a_form_swapped_by_htmx_with_errors_puts_focus_on_its_first_field_in_error(contexts):
    page = open_page(contexts(ADMIN), "/office/settings")
    section = page.locator("#settings-thresholds")
    section.locator("input[name=few_from]").fill("3")
    section.locator("input[name=many_from]").fill("")
    with page.expect_response(lambda r: r.url.endswith("/settings/thresholds")) as answer:
        section.locator("button[type=submit]").click()
    assert answer.value.status == 422
    page.wait_for_function("() => document.activeElement.name === 'many_from'", timeout=2_000)
    page.close()
