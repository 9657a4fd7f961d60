"""Back-office settings: seller details on invoices, defaults, invitation lifetime."""

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import delete, select, text

from core import settings
from core.models import (
    AuditEntry,
    Company,
    Invitation,
    Invoice,
    OutboxMail,
    Role,
    Setting,
    User,
)
from extensions import db
from tests.html import find

ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"

SELLER = {
    "name": "Southwind Parts AG",
    "address": "Bahnhofstrasse 1\r\n8001 Zürich\r\nSwitzerland",
    "vat_number": "che-123.456.789",
    "email": "billing@southwind.test",
    "phone": "+41 44 123 45 67",
    "bank_name": "Zürcher Kantonalbank",
    "iban": "ch93 0076 2011 6238 5295 7",
    "bic": "zkbkchzz80a",
    "footer": "Registered in Zürich, CHE-123.456.789",
}


def snapshot() -> tuple:
    """Every row a settings route could write, to prove that nothing was written."""
    db.session.rollback()
    rows = db.session.execute(select(Setting.key, Setting.value).order_by(Setting.key)).all()
    audited = db.session.scalar(text("SELECT COUNT(*) FROM audit_log"))
    return tuple(rows), audited


def settings_entries() -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "settings.changed")
            .order_by(AuditEntry.id)
        )
    )


def errors(html: str) -> str:
    found = re.findall(r'<p class="(?:field__error|flash flash--error)"[^>]*>(.*?)</p>', html, re.S)
    return unescape(" ".join(found))


def flashes(html: str) -> str:
    return unescape(" ".join(re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', html, re.S)))


def field_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    if match is None:
        match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\s*(.*?)</textarea>', html, re.S)
    assert match is not None, f"no field {name}"
    return unescape(match.group(1))


def first_invoice_id(slug: str) -> int:
    return db.session.scalar(
        select(Invoice.id)
        .join(Company, Company.id == Invoice.company_id)
        .where(Company.slug == slug)
        .order_by(Invoice.id)
        .limit(1)
    )


# The page -------------------------------------------------------------------------------


def test_the_admin_sees_every_section_filled_with_what_is_saved(as_user, ctx):
    html = as_user(ADMIN).get("/office/settings").get_data(as_text=True)
    for section in ("seller", "thresholds", "terms", "invitations"):
        assert (
            f'action="/office/settings/{section}"'
            in find(html, id=f"settings-{section}").inner_html
        )
    assert field_value(html, "name") == "Northwind Components GmbH"
    assert field_value(html, "address") == "Hafenstraße 12\n20457 Hamburg\nGermany"
    # The demo saved its bank as one line; the form splits the IBAN out of it.
    assert field_value(html, "iban") == "DE89 3704 0044 0532 0130 00"
    assert field_value(html, "few_from") == "1" and field_value(html, "many_from") == "50"
    assert field_value(html, "days") == "30" and field_value(html, "hours") == "72"


def test_the_manager_reads_settings_but_has_no_form(as_user, ctx):
    html = as_user(MANAGER).get("/office/settings").get_data(as_text=True)
    assert "<form" not in find(html, class_="settings-page").inner_html
    assert "not change them" in html
    assert "Northwind Components GmbH" in find(html, id="settings-seller").text
    assert "IBAN DE89 3704 0044 0532 0130 00" in find(html, id="settings-seller").text
    assert "30 days" in find(html, id="settings-terms").text
    before = snapshot()
    manager = as_user(MANAGER)
    assert manager.send("POST", "/office/settings/terms", data={"days": "10"}).status_code == 403
    assert manager.send("POST", "/office/settings/seller", data=SELLER).status_code == 403
    assert snapshot() == before


# Seller details ---------------------------------------------------------------------------


def test_seller_details_are_saved_tidied_audited_and_printed_on_invoices(as_user, ctx):
    admin = as_user(ADMIN)
    response = admin.send("POST", "/office/settings/seller", htmx=True, data=SELLER)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="settings-seller"') and "<html" not in html
    assert "Seller details saved." in flashes(html)
    saved = settings.seller()
    assert saved["iban"] == "CH93 0076 2011 6238 5295 7"
    assert saved["bic"] == "ZKBKCHZZ80A" and saved["vat_number"] == "CHE-123.456.789"
    assert saved["address"] == "Bahnhofstrasse 1\n8001 Zürich\nSwitzerland"
    assert saved["bank"] == "Zürcher Kantonalbank, IBAN CH93 0076 2011 6238 5295 7, BIC ZKBKCHZZ80A"
    assert field_value(html, "iban") == "CH93 0076 2011 6238 5295 7"  # the form shows it tidied

    [entry] = settings_entries()
    assert entry.actor_email == ADMIN and entry.summary == "Seller details on invoices changed"
    assert entry.before["name"] == "Northwind Components GmbH"
    assert (
        entry.after["name"] == "Southwind Parts AG" and entry.after["phone"] == "+41 44 123 45 67"
    )
    assert entry.before["phone"] == ""

    for client, url in (
        (as_user("finance@portal.test"), f"/office/invoices/{first_invoice_id('acme')}"),
        (as_user("orders@acme.test"), f"/shop/invoices/{first_invoice_id('acme')}"),
    ):
        sheet = find(client.get(url).get_data(as_text=True), class_="invoice-sheet").text
        assert "Southwind Parts AG" in sheet and "Northwind" not in sheet
        assert "Bahnhofstrasse 1" in sheet and "CHE-123.456.789" in sheet
        assert "billing@southwind.test" in sheet
        assert "+41 44 123 45 67" in sheet and "Registered in Zürich" in sheet


def test_saving_the_same_details_again_changes_nothing(as_user, ctx):
    admin = as_user(ADMIN)
    admin.send("POST", "/office/settings/seller", htmx=True, data=SELLER)
    before = snapshot()
    html = admin.send("POST", "/office/settings/seller", htmx=True, data=SELLER).get_data(
        as_text=True
    )
    assert "Nothing to change." in flashes(html)
    assert snapshot() == before


def test_without_htmx_a_section_redirects_to_itself(as_user, ctx):
    admin = as_user(ADMIN)
    response = admin.send("POST", "/office/settings/seller", data=SELLER)
    assert response.status_code == 302
    assert response.headers["Location"] == "/office/settings#settings-seller"
    assert "Seller details saved." in flashes(admin.get("/office/settings").get_data(as_text=True))
    wrong = admin.send("POST", "/office/settings/seller", data={**SELLER, "name": ""})
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "<html" in page
    assert "Enter the seller's name as invoices should print it." in errors(page)


BAD_SELLER = [
    ("name", "", "Enter the seller's name as invoices should print it."),
    ("name", "x" * 121, "This has at most 120 characters; it has 121."),
    ("address", "  ", "Enter the seller's postal address."),
    ("address", "\n".join(f"Line {n}" for n in range(7)), "An address has at most 6 lines."),
    ("vat_number", "DE!", "Enter the VAT number as letters and digits, such as DE123456789."),
    ("vat_number", "ABCDEFG", "Enter the VAT number as letters and digits"),
    ("email", "billing at southwind", "That email address is not valid"),
    ("phone", "call us", "Enter the phone number in digits"),
    ("iban", "DE88 3704 0044 0532 0130 00", "This IBAN's check digits do not match"),
    ("iban", "12345", "An IBAN is a country code, two check digits and up to 30 letters"),
    ("bic", "ZKB", "A BIC has 8 or 11 letters and digits, such as COBADEFFXXX."),
    ("footer", "x" * 501, "This has at most 500 characters; it has 501."),
]


@pytest.mark.parametrize(
    ("field", "value", "message"), BAD_SELLER, ids=[f"{f}-{m[:25]}" for f, _, m in BAD_SELLER]
)
def test_bad_seller_details_are_explained_and_nothing_is_saved(as_user, ctx, field, value, message):
    before = snapshot()
    response = as_user(ADMIN).send(
        "POST", "/office/settings/seller", htmx=True, data={**SELLER, field: value}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in errors(html), errors(html)
    assert "Nothing was saved" in html
    assert snapshot() == before
    # What was typed stays in the form, to be corrected rather than typed again.
    assert field_value(html, "phone" if field != "phone" else "name") == (
        SELLER["phone"] if field != "phone" else SELLER["name"]
    )


def test_several_mistakes_are_shown_together(as_user, ctx):
    before = snapshot()
    html = (
        as_user(ADMIN)
        .send(
            "POST",
            "/office/settings/seller",
            htmx=True,
            data={**SELLER, "name": "", "iban": "DE00 1234", "bic": "?"},
        )
        .get_data(as_text=True)
    )
    found = errors(html)
    assert "Enter the seller's name" in found and "An IBAN is" in found and "A BIC has" in found
    assert snapshot() == before


# Defaults for new groups and companies --------------------------------------------------


def test_stock_levels_for_new_groups(as_user, ctx):
    html = (
        as_user(ADMIN)
        .send(
            "POST",
            "/office/settings/thresholds",
            htmx=True,
            data={"few_from": "5", "many_from": "200"},
        )
        .get_data(as_text=True)
    )
    assert "Stock levels saved." in flashes(html)
    assert html.lstrip().startswith('<section id="settings-thresholds"')
    assert settings.stock_thresholds() == (5, 200)
    [entry] = settings_entries()
    assert entry.before == {"few_from": 1, "many_from": 50}
    assert entry.after == {"few_from": 5, "many_from": 200}


@pytest.mark.parametrize(
    ("few", "many", "message"),
    [
        ("-1", "50", "“Few” cannot start below 0 units."),
        ("20", "20", "“Many” must start above where “Few” starts (20 units)."),
        ("30", "10", "“Many” must start above where “Few” starts"),
        ("one", "50", "Enter a whole number of units, such as 1."),
        ("1", "", "Enter where “Many” starts, such as 50."),
        ("1", "2000000", "“Many” starts at 1,000,000 units at most."),
    ],
)
def test_bad_stock_levels_are_refused(as_user, ctx, few, many, message):
    before = snapshot()
    response = as_user(ADMIN).send(
        "POST", "/office/settings/thresholds", htmx=True, data={"few_from": few, "many_from": many}
    )
    assert response.status_code == 422
    assert message in errors(response.get_data(as_text=True))
    assert snapshot() == before and settings.stock_thresholds() == (1, 50)


def test_payment_terms_for_new_customers(as_user, ctx):
    html = (
        as_user(ADMIN)
        .send("POST", "/office/settings/terms", htmx=True, data={"days": "45"})
        .get_data(as_text=True)
    )
    assert "Payment terms saved." in flashes(html)
    assert settings.payment_terms_days() == 45
    [entry] = settings_entries()
    assert (entry.before, entry.after) == ({"days": 30}, {"days": 45})
    as_user(ADMIN).send("POST", "/office/settings/terms", htmx=True, data={"days": "0"})
    assert settings.payment_terms_days() == 0  # due on receipt is a term too


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("366", "Payment terms are from 0 (on receipt) to 365 days."),
        ("-5", "Payment terms are from 0 (on receipt) to 365 days."),
        ("thirty", "Enter a whole number of days, such as 30."),
        ("", "Enter a number of days, such as 30."),
        ("7.5", "Enter a whole number of days, such as 30."),
    ],
)
def test_bad_payment_terms_are_refused(as_user, ctx, days, message):
    before = snapshot()
    response = as_user(ADMIN).send("POST", "/office/settings/terms", htmx=True, data={"days": days})
    assert response.status_code == 422
    assert message in errors(response.get_data(as_text=True))
    assert snapshot() == before


# Invitation lifetime ----------------------------------------------------------------------


def test_new_invitations_use_the_saved_lifetime(as_user, ctx):
    admin = as_user(ADMIN)
    html = admin.send(
        "POST", "/office/settings/invitations", htmx=True, data={"hours": "5"}
    ).get_data(as_text=True)
    assert "Invitation lifetime saved." in flashes(html)
    [entry] = settings_entries()
    assert (entry.before, entry.after) == ({"hours": 72}, {"hours": 5})

    # A staff invitation through the back office ...
    warehouse = db.session.scalar(select(Role.id).where(Role.preset == "warehouse"))
    response = admin.send(
        "POST",
        "/office/users/invite",
        data={"name": "Nadia Berg", "email": "nadia@portal.test", "roles": [warehouse]},
    )
    assert response.status_code == 302
    db.session.rollback()
    person = db.session.scalar(select(User).where(User.email == "nadia@portal.test"))
    invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == person.id))
    lifetime = invitation.expires_at - invitation.created_at
    assert timedelta(hours=4, minutes=59) < lifetime <= timedelta(hours=5)
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_addr == "nadia@portal.test"))
    assert "within 5 hours" in mail.body

    # ... and a customer's decision-maker inviting a colleague in the storefront.
    buyer = as_user("orders@acme.test")
    requester = db.session.scalar(select(Role.id).where(Role.preset == "requester"))
    response = buyer.send(
        "POST",
        "/shop/users/invite",
        data={"name": "Nina New", "email": "nina@acme.test", "role": requester},
    )
    assert response.status_code == 302
    assert "The link works once, for 5 hours." in flashes(
        buyer.get(response.headers["Location"]).get_data(as_text=True)
    )
    db.session.rollback()
    nina = db.session.scalar(select(User).where(User.email == "nina@acme.test"))
    invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == nina.id))
    assert invitation.expires_at - invitation.created_at <= timedelta(hours=5)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("0", "An invitation stays valid from 1 to 720 hours (30 days)."),
        ("721", "An invitation stays valid from 1 to 720 hours (30 days)."),
        ("a day", "Enter a whole number of hours, such as 72."),
        ("", "Enter a number of hours, such as 72."),
    ],
)
def test_bad_invitation_lifetimes_are_refused(as_user, ctx, hours, message):
    before = snapshot()
    response = as_user(ADMIN).send(
        "POST", "/office/settings/invitations", htmx=True, data={"hours": hours}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in errors(html)
    assert field_value(html, "hours") == hours  # what was typed is kept
    assert snapshot() == before and settings.invitation_hours() == 72


def test_without_a_saved_lifetime_the_configuration_applies(app, ctx):
    db.session.execute(delete(Setting).where(Setting.key == settings.INVITATION_HOURS))
    db.session.commit()
    app.config["INVITATION_HOURS"] = 9
    try:
        assert settings.invitation_hours() == 9
    finally:
        app.config["INVITATION_HOURS"] = 72
