"""In real browsers: invitation to sign-in, modules by role, and blocking with immediate effect."""

import re

import pytest
from sqlalchemy import select

from core.models import OutboxMail, User
from extensions import db
from tests.conftest import wait_live

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Granite-Harbour-Lamp-57"


def test_invite_activate_sign_in_and_block(app, sign_in, browser, live_server):
    admin = sign_in("admin@portal.test")
    admin.goto("/office/users/invite")
    admin.fill("input[name=name]", "Wanda Lager")
    admin.fill("input[name=email]", "wanda.lager@portal.test")
    admin.locator("label.check", has_text="Warehouse").locator("input").check()
    admin.get_by_role("button", name=re.compile("invit", re.I)).click()
    admin.wait_for_url(re.compile(r"/office/users/\d+$"))

    with app.app_context():
        mail = db.session.scalar(
            select(OutboxMail).where(OutboxMail.to_addr == "wanda.lager@portal.test")
        )
        link = re.search(r"https?://\S+(/invitations/\S+)", mail.body).group(1)
        person_id = db.session.scalar(
            select(User.id).where(User.email == "wanda.lager@portal.test")
        )

    context = browser.new_context(base_url=live_server)
    try:
        person = context.new_page()
        person.goto(link)
        person.fill("input[name=password]", NEW_PASSWORD)
        person.fill("input[name=confirm]", NEW_PASSWORD)
        person.get_by_role("button", name="Activate my account").click()
        person.wait_for_url(re.compile(r"/login"))
        person.fill("input[name=email]", "wanda.lager@portal.test")
        person.fill("input[name=password]", NEW_PASSWORD)
        person.click("button[type=submit]")
        person.wait_for_url(re.compile(r"/office/$"))
        modules = person.locator("#nav a").all_inner_texts()
        assert "Products" in modules and "Stock" in modules
        for hidden in ("Staff users", "Roles", "Audit log", "Customers"):
            assert hidden not in modules
        assert person.goto("/office/users").status == 403
        person.goto("/office/")
        wait_live(person)

        admin.on("dialog", lambda dialog: dialog.accept())
        admin.goto(f"/office/users/{person_id}")
        admin.get_by_role("button", name="Block").click()
        admin.wait_for_selector("text=blocked")

        # The open page says so within a second, and the next click lands on sign-in.
        person.wait_for_selector("#live-status:not([hidden])", timeout=1000)
        assert "signed out" in person.locator("#live-status").inner_text()
        assert "Your access was blocked" in person.locator("#live-status").inner_text()
        # A clean close the page does not retry (a broken one is 1006, and reconnects).
        person.wait_for_selector("body[data-live-closed='1008']", state="attached", timeout=1000)
        person.locator("#nav a", has_text="Products").click()
        person.wait_for_url(re.compile(r"/login"))
    finally:
        context.close()


def test_role_edit_changes_an_open_navigation_within_a_second(sign_in):
    finance = sign_in("finance@portal.test")
    wait_live(finance)
    assert "Stock" not in finance.locator("#nav").inner_text()
    admin = sign_in("admin@portal.test")
    admin.goto("/office/roles")
    admin.get_by_role("link", name="Finance").first.click()
    admin.locator("input[name=permissions][value='stock.view']").check()
    admin.get_by_role("button", name="Save permissions").click()
    admin.wait_for_selector("text=Saved")
    finance.wait_for_function(
        "() => document.querySelector('#nav').innerText.includes('Stock')", timeout=1000
    )
