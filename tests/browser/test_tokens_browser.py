"""API tokens in a real browser: a person makes a token on their account page, copies it
from the one page that shows it, a system uses it, and revoking it (after the browser's
confirmation) shuts the system out at once."""

import json
import urllib.error
import urllib.request

import pytest

from tests.browser.personas import signed_in_context

pytestmark = pytest.mark.browser

CUSTOMER = "orders@acme.test"


def call(live_server: str, token: str) -> int:
    """The status a system gets for the person's cart with this token."""
    request = urllib.request.Request(
        f"{live_server}/api/v1/cart", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.loads(response.read())
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_token_is_made_shown_once_used_and_revoked(browser, app, live_server):
    context = signed_in_context(browser, app, live_server, CUSTOMER)
    try:
        page = context.new_page()
        page.goto("/account")
        page.get_by_role("link", name="Your API tokens").click()
        page.get_by_label("Name").fill("ERP purchasing")
        page.get_by_label("Expires after (days)").fill("90")
        page.get_by_role("button", name="Create token").click()
        token = page.locator("#token-value").input_value()
        assert token.startswith("ptk_")
        assert call(live_server, token) == 200

        # Shown once: the list names it by its prefix only, with its last use.
        page.goto("/account/tokens")
        assert page.locator("#token-value").count() == 0
        row = page.locator("tr", has_text="ERP purchasing")
        assert token not in page.content()
        assert "Never used" not in row.inner_text()

        # Dismissing the confirmation changes nothing.
        page.once("dialog", lambda dialog: dialog.dismiss())
        row.get_by_role("button", name="Revoke").click()
        assert call(live_server, token) == 200

        page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="Revoke").click()
        page.wait_for_selector("text=is revoked: it no longer opens anything")
        assert "Revoked" in page.locator("tr", has_text="ERP purchasing").inner_text()
        assert call(live_server, token) == 401
    finally:
        context.close()
