"""Live pages in a real browser: a group's price list takes someone else's change without
wiping the price being typed, the page says when live updates pause and come back (in
its own words, and not after a sign-out), and a quote's "with the seller" goes when the
seller answers."""

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import abort
from playwright.sync_api import expect
from sqlalchemy import select

from core import people, products, quotes
from core.models import CustomerGroup, Product, Quote
from extensions import db
from tests.browser.personas import signed_in_context
from tests.conftest import wait_live
from tests.records import pid, user

pytestmark = pytest.mark.browser

ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"
LIVE = 3000  # ms: a push and its re-fetch land well within this
PHONE = {"width": 390, "height": 844}
(AXE,) = (Path(__file__).resolve().parents[2] / "static" / "vendor").glob("axe-core-4.*.min.js")
# axe's serious or critical findings on one element, as "rule: target" lines.
AXE_ON = """async (selector) => {
  const result = await axe.run(selector, {resultTypes: ['violations']});
  return result.violations
    .filter(v => ['serious', 'critical'].includes(v.impact))
    .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
}"""
COUNT_SWAPS = """() => {
  window.liveSwaps = 0;
  document.addEventListener('htmx:afterSwap', () => { window.liveSwaps += 1; });
}"""


def wholesale() -> int:
    return db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == "Wholesale"))


def set_wholesale_price(product_id: int, price: str) -> None:
    """Someone else saves a Wholesale price (on the product's page, say)."""
    found = db.session.get(Product, product_id)
    products.set_prices(found, actor=user(ADMIN), group_prices={wholesale(): price})
    db.session.commit()


def test_a_typed_price_survives_someone_elses_change_to_the_list(browser, app, live_server, ctx):
    group = wholesale()
    context = signed_in_context(browser, app, live_server, MANAGER)
    page = context.new_page()
    page.goto(f"/office/groups/{group}/prices?q=CAP-1206")
    wait_live(page)
    page.evaluate(COUNT_SWAPS)

    typed_id = pid("CAP-1206-10U")
    other_id = next(
        int(row_id.rsplit("-", 1)[1])
        for row_id in page.eval_on_selector_all("tr[id^=price-row-]", "rows => rows.map(r => r.id)")
        if row_id != f"price-row-{typed_id}"
    )
    typed = page.locator(f"input[name=price-{typed_id}]")
    other = page.locator(f"input[name=price-{other_id}]")
    typed.fill("0.1111")  # typing, not saved: the focus is in it
    typed.press("ArrowLeft")
    typed.press("ArrowLeft")

    # Another row changes: it shows the new price, the row being typed in stays as it is.
    set_wholesale_price(other_id, "0.0999")
    expect(other).to_have_value("0.0999", timeout=LIVE)
    expect(typed).to_have_value("0.1111")
    expect(typed).to_be_focused()
    assert page.evaluate("document.activeElement.selectionStart") == 4

    # The typed row's own price changes meanwhile: the typed price still stands, and the
    # save says what happened instead of overwriting it blindly.
    swaps = page.evaluate("window.liveSwaps")
    set_wholesale_price(typed_id, "0.1300")
    page.wait_for_function("n => window.liveSwaps > n", arg=swaps, timeout=LIVE)
    expect(typed).to_have_value("0.1111")
    page.get_by_role("button", name="Save the edited prices").click()
    expect(page.locator(f"#price-row-{typed_id}")).to_contain_text(
        "Someone changed this price meanwhile"
    )
    expect(typed).to_have_value("0.1111")  # the answer keeps what was typed

    # Saved again, now over the price they were told of: the notice stays through the
    # re-fetch that their own change causes.
    notice = page.locator(".group-prices > .flash[role=status]")
    with page.expect_response(lambda r: "shown=" in r.url, timeout=LIVE) as refetched:
        page.get_by_role("button", name="Save the edited prices").click()
        expect(notice).to_have_text("1 group price saved.")
    page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=LIVE)
    expect(notice).to_have_text("1 group price saved.")
    if refetched.value.request.url.endswith(page.locator(".group-prices").get_attribute("hx-get")):
        assert refetched.value.status == 204  # drawn after the save: nothing new to show
    context.close()


def test_a_role_being_chosen_survives_a_colleague_being_blocked(browser, app, live_server, ctx):
    context = signed_in_context(browser, app, live_server, "orders@acme.test")
    page = context.new_page()
    page.goto("/shop/users")
    wait_live(page)
    requester, browser_only = user("request@acme.test"), user("browse@acme.test")
    choice = page.locator(f"#role-{requester.id}")
    chosen = choice.locator("option", has_text="Browse-only").get_attribute("value")
    choice.select_option(chosen)  # chosen, not yet saved with "Change"

    people.block(browser_only, actor=user(ADMIN))  # someone else, in the back office
    db.session.commit()
    expect(page.locator(f"#person-{browser_only.id}")).to_contain_text("Blocked", timeout=LIVE)
    expect(choice).to_have_value(chosen)

    # The row kept still works; its answer stays through the refresh its change causes.
    page.evaluate(COUNT_SWAPS)
    row = page.locator(f"#person-{requester.id}")
    row.get_by_role("button", name="Change").click()
    page.wait_for_function("() => window.liveSwaps >= 2", timeout=LIVE)  # answer, refresh
    page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=LIVE)
    expect(row.locator("[role=status]")).to_contain_text("now has the role “Browse-only”")
    context.close()


def test_the_page_says_when_live_updates_pause_and_when_they_are_back(
    browser, app, live_server, monkeypatch
):
    context = signed_in_context(browser, app, live_server, ADMIN, viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    page.goto("/office/users")
    wait_live(page)
    banner = page.locator("#live-connection")
    expect(banner).to_be_hidden()
    # Reconnect attempts a moment apart, not the extension's growing back-off.
    page.evaluate("() => { htmx.config.wsReconnectDelay = () => 50; }")

    # The server goes away and, for now, refuses new sockets.
    refused = []

    def unavailable():
        refused.append(time.monotonic())
        abort(503)

    handshake = list(app.before_request_funcs.get("live", []))
    monkeypatch.setitem(app.before_request_funcs, "live", [unavailable, *handshake])
    app.extensions["live_hub"].close_all()

    expect(banner).to_have_text("Live updates paused: reconnecting\u2026", timeout=LIVE)
    expect(banner).to_be_visible()
    assert banner.get_attribute("role") == "status"
    box = banner.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.add_script_tag(path=str(AXE))
    assert page.evaluate(AXE_ON, "#live-connection") == []
    deadline = time.monotonic() + 5
    while len(refused) < 2 and time.monotonic() < deadline:  # it keeps trying meanwhile
        time.sleep(0.02)
    assert len(refused) >= 2
    expect(banner).to_have_text("Live updates paused: reconnecting\u2026")

    # The server takes sockets again: the page is back, says so, then stops saying it.
    monkeypatch.setitem(app.before_request_funcs, "live", handshake)
    expect(banner).to_have_text("Live updates are back.", timeout=LIVE)
    page.wait_for_selector("body[data-live-state=watching]", state="attached", timeout=LIVE)
    assert page.evaluate(AXE_ON, "#live-connection") == []
    expect(banner).to_be_hidden(timeout=10_000)
    context.close()


def test_the_indicator_speaks_the_pages_language(browser, app, live_server):
    """Its words are the page's (base.html's #portal-texts), not the script's."""
    context = signed_in_context(browser, app, live_server, ADMIN)
    page = context.new_page()
    page.goto("/office/roles")
    wait_live(page)
    texts = page.locator("#portal-texts")
    assert texts.get_attribute("data-paused") == "Live updates paused: reconnecting\u2026"
    assert texts.get_attribute("data-failed") == "Something went wrong (%(status)s)."
    page.evaluate(
        """() => {
          const texts = document.getElementById('portal-texts').dataset;
          texts.paused = 'Pause (test)';
          texts.back = 'Back (test)';
          htmx.config.wsReconnectDelay = () => 50;
        }"""
    )
    app.extensions["live_hub"].close_all()
    expect(page.locator("#live-connection")).to_have_text(
        re.compile(r"^(Pause|Back) \(test\)$"), timeout=LIVE
    )
    expect(page.locator("#live-connection")).to_have_text("Back (test)", timeout=LIVE)
    context.close()


def test_the_request_is_with_the_seller_until_the_seller_answers(browser, app, live_server, ctx):
    context = signed_in_context(browser, app, live_server, "request@acme.test")
    page = context.new_page()
    page.goto("/shop/quotes/new")
    page.fill("#lines-0-sku", "CAP-1206-10U")
    page.fill("#lines-0-quantity", "500")
    page.click("text=Send the request")
    page.wait_for_url(re.compile(r"/shop/quotes/\d+$"))
    quote_id = int(page.url.rsplit("/", 1)[1])
    wait_live(page)
    panel = page.locator(f"#quote-actions-{quote_id}")
    expect(panel).to_contain_text("is with the seller; you will hear back")
    expect(page.locator("main > .flash")).to_have_count(0)  # said by the state, not a flash

    # The seller answers (from their own page): the notice goes, the customer's move shows.
    found = db.session.get(Quote, quote_id)
    quotes.answer(
        quote_id,
        {line.id: "0.11" for line in found.lines},
        quotes.today() + timedelta(days=10),
        actor=user("anna.sales@portal.test"),
        seen=quotes.latest_round(found).id,
    )
    db.session.commit()
    expect(panel).to_contain_text("Your move", timeout=LIVE)
    expect(panel).not_to_contain_text("with the seller")
    expect(page.locator("main")).not_to_contain_text("with the seller")
    context.close()


def test_signing_out_elsewhere_is_no_lost_connection(sign_in):
    page = sign_in("orders@baltic.test")
    page.goto("/shop/")
    wait_live(page)
    page.evaluate(
        """() => {
          window.bannerShown = [];
          const banner = document.getElementById('live-connection');
          new MutationObserver(() => {
            if (!banner.hidden) { window.bannerShown.push(banner.textContent); }
          }).observe(banner, {attributes: true, childList: true, characterData: true});
        }"""
    )
    other = page.context.new_page()
    other.goto("/shop/")
    other.get_by_role("button", name="Sign out").click()
    other.wait_for_url(re.compile(r"/login"))

    page.wait_for_selector("body[data-live-closed='1008']", state="attached", timeout=LIVE)
    expect(page.locator("#live-status")).to_contain_text("You were signed out")
    expect(page.locator("#live-connection")).to_be_hidden()
    assert page.evaluate("window.bannerShown") == []


def test_a_page_reconnects_after_a_jittered_capped_delay(browser, app, live_server):
    """After the n-th failed try, a delay drawn from [0, min(cap, base * 2^n)) ms: a lone
    page is soon back, a restarted worker's thousands of pages come spread out."""
    from blueprints.live import RECONNECT_BASE_MS, RECONNECT_CAP_MS

    context = signed_in_context(browser, app, live_server, ADMIN)
    page = context.new_page()
    page.goto("/office/roles")
    wait_live(page)
    spans = page.evaluate(
        """() => {
          const delay = htmx.config.wsReconnectDelay;
          const spans = [];
          for (let retries = 0; retries < 12; retries++) {
            let low = Infinity, high = -Infinity;
            for (let i = 0; i < 400; i++) {
              const d = delay(retries);
              low = Math.min(low, d);
              high = Math.max(high, d);
            }
            spans.push([low, high]);
          }
          return spans;
        }"""
    )
    for retries, (low, high) in enumerate(spans):
        bound = min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2**retries)
        assert 0 <= low < 0.1 * bound, (retries, low)  # full jitter: from about zero
        assert 0.9 * bound < high < bound, (retries, high)  # up to the bound, capped

    # The ws extension asks the page's policy when the server goes away.
    page.evaluate(
        """() => {
          const policy = htmx.config.wsReconnectDelay;
          window.reconnectAsked = [];
          htmx.config.wsReconnectDelay = (retries) => {
            window.reconnectAsked.push(retries);
            return Math.min(policy(retries), 50);
          };
        }"""
    )
    app.extensions["live_hub"].close_all()
    page.wait_for_function("() => window.reconnectAsked.length >= 1", timeout=LIVE)
    page.wait_for_selector("body[data-live-state=watching]", state="attached", timeout=LIVE)
    assert page.evaluate("window.reconnectAsked[0]") == 0
    context.close()
