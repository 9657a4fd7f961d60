"""The seller's time zone on the settings page: saved, audited, refused when unknown."""

import re
from html import unescape

import pytest
from sqlalchemy import select, text

from core import settings
from core.models import AuditEntry, Setting
from core.settings import SettingRefused
from extensions import db
from tests.html import find

ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"


def snapshot() -> tuple:
    """Every row a settings route could write, to prove that nothing was written."""
    db.session.rollback()
    rows = db.session.execute(select(Setting.key, Setting.value).order_by(Setting.key)).all()
    audited = db.session.scalar(text("SELECT COUNT(*) FROM audit_log"))
    return tuple(rows), audited


def errors(html: str) -> str:
    found = re.findall(r'<p class="(?:field__error|flash flash--error)"[^>]*>(.*?)</p>', html, re.S)
    return unescape(" ".join(found))


def selected_zone(html: str) -> str | None:
    match = re.search(r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', html)
    return next((g for g in match.groups() if g), None) if match else None


def test_the_section_offers_every_zone_with_the_saved_one_chosen(as_user, ctx):
    html = as_user(ADMIN).get("/office/settings").get_data(as_text=True)
    section = find(html, id="settings-timezone").inner_html
    assert 'action="/office/settings/timezone"' in section
    assert selected_zone(section) == settings.timezone() == settings.TIMEZONE_DEFAULT
    offered = re.findall(r'<option[^>]*value="([^"]+)"', section)
    assert offered == settings.timezones()


def test_saving_a_zone_changes_the_sellers_zone_and_is_audited(as_user, ctx):
    response = as_user(ADMIN).send(
        "POST", "/office/settings/timezone", htmx=True, data={"timezone": "America/New_York"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="settings-timezone"') and "<html" not in html
    assert "Time zone saved." in html
    assert settings.timezone() == "America/New_York"
    assert selected_zone(html) == "America/New_York"
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "settings.changed")
        .order_by(AuditEntry.id.desc())
    )
    assert entry.actor_email == ADMIN
    assert entry.before == {"timezone": settings.TIMEZONE_DEFAULT}
    assert entry.after == {"timezone": "America/New_York"}


def test_without_htmx_the_section_redirects_to_itself(as_user, ctx):
    admin = as_user(ADMIN)
    response = admin.send("POST", "/office/settings/timezone", data={"timezone": "Europe/Rome"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/office/settings#settings-timezone"
    assert settings.timezone() == "Europe/Rome"


def test_saving_the_same_zone_again_changes_nothing(as_user, ctx):
    before = snapshot()
    html = (
        as_user(ADMIN)
        .send(
            "POST",
            "/office/settings/timezone",
            htmx=True,
            data={"timezone": settings.TIMEZONE_DEFAULT},
        )
        .get_data(as_text=True)
    )
    assert "Nothing to change." in html
    assert snapshot() == before


def test_an_unknown_zone_is_refused_with_a_clear_message_and_changes_nothing(as_user, ctx):
    before = snapshot()
    for zone in ("Mars/Olympus_Mons", "", "europe/berlin"):
        response = as_user(ADMIN).send(
            "POST", "/office/settings/timezone", htmx=True, data={"timezone": zone}
        )
        assert response.status_code == 422
        message = errors(response.get_data(as_text=True))
        assert "Nothing was saved" in message
        assert "Choose a time zone" in message
    assert snapshot() == before and settings.timezone() == settings.TIMEZONE_DEFAULT


def test_the_service_refuses_an_unknown_zone_too(ctx):
    with pytest.raises(SettingRefused) as refused:
        settings.set_timezone("Mars/Olympus_Mons", actor=None)
    assert str(refused.value) == "Choose a time zone from the list."
    assert refused.value.field == "timezone"
    db.session.rollback()
    assert settings.timezone() == settings.TIMEZONE_DEFAULT


def test_a_person_without_the_settings_permission_cannot_change_it(as_user, ctx):
    before = snapshot()
    manager = as_user(MANAGER)  # reads settings, may not change them
    html = manager.get("/office/settings").get_data(as_text=True)
    section = find(html, id="settings-timezone")
    assert "<form" not in section.inner_html and settings.TIMEZONE_DEFAULT in section.text
    response = manager.send(
        "POST", "/office/settings/timezone", htmx=True, data={"timezone": "Europe/Rome"}
    )
    assert response.status_code == 403
    response = as_user("orders@acme.test").send(
        "POST", "/office/settings/timezone", data={"timezone": "Europe/Rome"}
    )
    assert response.status_code in (403, 404)
    assert snapshot() == before and settings.timezone() == settings.TIMEZONE_DEFAULT
