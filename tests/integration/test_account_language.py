"""One's own language and time zone, chosen on the account page: the next page is in them,
a value not on the lists is refused with nothing kept, and the choice needs its CSRF token."""

import re

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape

from core import events, settings
from core.i18n import LANGUAGES
from core.models import User
from extensions import db
from tests.html import find
from tests.records import user

PERSON = "orders@acme.test"
STAFF = "admin@portal.test"


@pytest.fixture
def state(app):
    """Read the database in a fresh application context (never the one a request used)."""

    def read(fn):
        with app.app_context():
            return fn()

    return read


@pytest.fixture
def published():
    """Every event published after a commit during the test, as (topic, id)."""
    seen = []

    def collect(batch):
        seen.extend((e.topic, e.id) for e in batch)

    events.subscribe(collect)
    yield seen
    events.unsubscribe(collect)


def choice(email: str) -> tuple:
    person = user(email)
    return person.language, person.timezone


def page_language(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def save(client, language: str, zone: str = "", **kwargs):
    return client.send(
        "POST", "/account/preferences", data={"language": language, "timezone": zone}, **kwargs
    )


def test_the_account_page_offers_the_languages_and_zones_with_the_defaults_first(as_user):
    page = as_user(PERSON).get("/account").get_data(as_text=True)
    section = find(page, id="account-language")
    assert section.text == "Language and time zone"
    language = find(page, id="language")
    assert language.inner_html.startswith(
        '<option selected value="">Your browser\'s language</option>'
    )
    for code, name in LANGUAGES.items():
        assert f'<option lang="{code}" value="{code}">{name}</option>' in language.inner_html
    zone = find(page, id="timezone")
    assert zone.inner_html.startswith(
        '<option selected value="">The seller\'s time zone (Europe/Berlin)</option>'
    )
    assert '<option value="Europe/Warsaw">Europe/Warsaw</option>' in zone.inner_html
    assert "Times are shown in Europe/Berlin." in page


def test_picking_polish_makes_the_next_page_polish(as_user, state, published):
    c = as_user(PERSON)
    assert page_language(c.get("/account").get_data(as_text=True)) == "en"
    response = save(c, "pl")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert state(lambda: choice(PERSON)) == ("pl", None)
    person_id = state(lambda: user(PERSON).id)
    assert ("user_changed", person_id) in published
    page = c.get("/account").get_data(as_text=True)
    assert page_language(page) == "pl"
    assert '<option lang="pl" selected value="pl">Polski</option>' in page
    # Whatever the browser asks for: the person's own choice comes first.
    other = c.get("/shop/", headers={"Accept-Language": "it"}, follow_redirects=True)
    assert page_language(other.get_data(as_text=True)) == "pl"


def test_after_saving_the_notice_and_the_page_read_in_the_new_language(app, as_user):
    with app.test_request_context("/"), force_locale("fr"):
        notice = gettext("Your language and time zone are saved.")
        heading = gettext("Language and time zone")
    assert notice != "Your language and time zone are saved."  # the catalogue has them
    page = save(as_user(PERSON), "fr", follow_redirects=True).get_data(as_text=True)
    assert page_language(page) == "fr"
    assert str(escape(notice)) in page
    assert find(page, id="account-language").text == heading


def test_the_browsers_language_follows_accept_language(as_user, state):
    c = as_user(PERSON)
    save(c, "pl")
    response = save(c, "")
    assert response.status_code == 302
    assert state(lambda: choice(PERSON)) == (None, None)
    page = c.get("/account", headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert page_language(page) == "it"
    page = c.get("/account", headers={"Accept-Language": "de, en;q=0.5"}).get_data(as_text=True)
    assert page_language(page) == "en"


def test_the_time_zone_is_saved_and_shown(as_user, state):
    c = as_user(STAFF)
    assert save(c, "", "America/New_York").status_code == 302
    assert state(lambda: choice(STAFF)) == (None, "America/New_York")
    page = c.get("/account").get_data(as_text=True)
    assert "Times are shown in America/New_York." in page
    assert '<option selected value="America/New_York">America/New_York</option>' in page
    assert "Your language and time zone are saved." in page
    # Back to the seller's zone.
    assert save(c, "", "").status_code == 302
    assert state(lambda: choice(STAFF)) == (None, None)
    assert "Times are shown in Europe/Berlin." in c.get("/account").get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "zone", "field", "message"),
    [
        ("de", "", "language", "Choose a language from the list."),
        ("EN", "", "language", "Choose a language from the list."),
        ("<b>pl</b>", "", "language", "Choose a language from the list."),
        ("pl", "Mars/Olympus_Mons", "timezone", "Choose a time zone from the list."),
        ("pl", "europe/rome", "timezone", "Choose a time zone from the list."),
    ],
)
def test_a_value_not_on_the_lists_is_refused_and_nothing_changes(
    as_user, state, published, language, zone, field, message
):
    c = as_user(PERSON)
    save(c, "en", "Europe/Rome")  # English chosen: the refusal reads as asserted
    published.clear()
    response = save(c, language, zone)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = find(page, class_="field__error", role="alert")
    assert error.text == message
    assert f'id="{field}"' in find(page, class_="field field--error").inner_html
    assert state(lambda: choice(PERSON)) == ("en", "Europe/Rome")
    assert published == []
    assert "<b>pl</b>" not in page


def test_the_choice_needs_its_csrf_token(as_user, state):
    c = as_user(PERSON)
    response = save(c, "pl", "Europe/Warsaw", csrf=False)
    assert response.status_code == 400
    assert state(lambda: choice(PERSON)) == (None, None)


def test_signed_out_nobody_chooses(client):
    response = save(client, "pl")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_choice_is_only_ones_own(as_user, state):
    save(as_user(STAFF), "fr", "Europe/Paris")
    assert state(lambda: choice(STAFF)) == ("fr", "Europe/Paris")
    assert state(lambda: choice(PERSON)) == (None, None)
    page = as_user(PERSON).get("/account", headers={"Accept-Language": "en"})
    assert page_language(page.get_data(as_text=True)) == "en"


def test_every_offered_zone_is_accepted(ctx):
    assert all(settings.is_timezone(zone) for zone in settings.timezones())
    assert db.session.get(User, user(PERSON).id).timezone is None
