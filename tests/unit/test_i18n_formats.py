"""core.i18n's formats under each of the portal's six languages, and its time zones.

Babel's CLDR data decides the spaces: a no-break space (U+00A0) before the euro sign in
most languages, a narrow no-break space (U+202F) between thousands in French. The
strings below are exactly what it gives, written with escapes so they can be read.
"""

from datetime import date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale

from blueprints.i18n import as_person
from core import i18n

NBSP = "\u00a0"  # no-break space
NNBSP = "\u202f"  # narrow no-break space
MINUS = "\u2212"  # minus sign
ZONE = "Europe/Rome"


def test_the_six_languages_are_offered():
    assert list(i18n.LANGUAGES) == ["en", "it", "nl", "fr", "pl", "ro"]
    assert i18n.DEFAULT_LANGUAGE == "en"


# --- money -------------------------------------------------------------------------------

MONEY = {
    # locale: (4.68, 0.0125 sub-cent, -4.68, 1234.5, 5)
    "en": ("€4.68", "€0.0125", f"{MINUS}€4.68", "€1,234.50", "€5.00"),
    "it": (
        f"4,68{NBSP}€",
        f"0,0125{NBSP}€",
        f"{MINUS}4,68{NBSP}€",
        f"1.234,50{NBSP}€",
        f"5,00{NBSP}€",
    ),
    "nl": (
        f"€{NBSP}4,68",
        f"€{NBSP}0,0125",
        f"€{NBSP}{MINUS}4,68",
        f"€{NBSP}1.234,50",
        f"€{NBSP}5,00",
    ),
    "fr": (
        f"4,68{NBSP}€",
        f"0,0125{NBSP}€",
        f"{MINUS}4,68{NBSP}€",
        f"1{NNBSP}234,50{NBSP}€",
        f"5,00{NBSP}€",
    ),
    "pl": (
        f"4,68{NBSP}€",
        f"0,0125{NBSP}€",
        f"{MINUS}4,68{NBSP}€",
        f"1{NBSP}234,50{NBSP}€",
        f"5,00{NBSP}€",
    ),
    # CLDR's Romanian symbol for the euro is "EUR", not "€".
    "ro": (
        f"4,68{NBSP}EUR",
        f"0,0125{NBSP}EUR",
        f"{MINUS}4,68{NBSP}EUR",
        f"1.234,50{NBSP}EUR",
        f"5,00{NBSP}EUR",
    ),
}


@pytest.mark.parametrize("locale", list(MONEY))
def test_money_in_each_language(in_app, locale):
    plain, sub_cent, negative, thousands, whole = MONEY[locale]
    with force_locale(locale):
        assert i18n.format_money(Decimal("4.68")) == plain
        assert i18n.format_money(Decimal("0.0125")) == sub_cent
        assert i18n.format_money(Decimal("-4.68")) == negative
        assert i18n.format_money(Decimal("1234.5")) == thousands
        assert i18n.format_money(5) == whole
        assert i18n.format_money(None) == "—"


def test_money_the_brief_examples(in_app):
    with force_locale("fr"):
        assert i18n.format_money(Decimal("4.68")) == "4,68\u00a0€"
    with force_locale("nl"):
        assert i18n.format_money(Decimal("4.68")) == "€\u00a04,68"
    with force_locale("en"):
        assert i18n.format_money(Decimal("4.68")) == "€4.68"
        assert i18n.format_money(Decimal("0.0125")) == "€0.0125"


def test_money_keeps_the_cents_and_at_most_four_decimals(in_app):
    with force_locale("en"):
        assert i18n.format_money(Decimal("4.6")) == "€4.60"
        assert i18n.format_money(Decimal("0")) == "€0.00"
        assert i18n.format_money(Decimal("0.125")) == "€0.125"
        assert i18n.format_money(Decimal("12.34567")) == "€12.3457"
        assert i18n.format_money(Decimal("-0.0125")) == f"{MINUS}€0.0125"
        assert "-" not in i18n.format_money(Decimal("-4.68"))


# --- numbers and percentages -----------------------------------------------------------

NUMBERS = {
    # locale: (12345.5, 1234.5 with 2 digits, 1234 with 0 digits)
    "en": ("12,345.5", "1,234.50", "1,234"),
    "it": ("12.345,5", "1.234,50", "1.234"),
    "nl": ("12.345,5", "1.234,50", "1.234"),
    "fr": (f"12{NNBSP}345,5", f"1{NNBSP}234,50", f"1{NNBSP}234"),
    "pl": (f"12{NBSP}345,5", f"1{NBSP}234,50", f"1{NBSP}234"),
    "ro": ("12.345,5", "1.234,50", "1.234"),
}

PERCENTS = {
    "en": "12.5%",
    "it": "12,5%",
    "nl": "12,5%",
    "fr": f"12,5{NBSP}%",
    "pl": "12,5%",
    "ro": f"12,5{NBSP}%",
}


@pytest.mark.parametrize("locale", list(NUMBERS))
def test_numbers_in_each_language(in_app, locale):
    free, two_digits, no_digits = NUMBERS[locale]
    with force_locale(locale):
        assert i18n.format_number(Decimal("12345.5")) == free
        assert i18n.format_number(Decimal("1234.5"), 2) == two_digits
        assert i18n.format_number(Decimal("1234"), 0) == no_digits
        assert i18n.format_number(7) == "7"
        assert i18n.format_number(None) == "—"


@pytest.mark.parametrize("locale", list(PERCENTS))
def test_percentages_in_each_language(in_app, locale):
    with force_locale(locale):
        assert i18n.format_percent(Decimal("12.5")) == PERCENTS[locale]
        assert i18n.format_percent(None) == "—"


# --- days and moments ------------------------------------------------------------------

DAYS = {
    "en": "04 Dec 2026",
    "it": "04 dic 2026",
    "nl": "04 dec 2026",
    "fr": "04 déc. 2026",
    "pl": "04 gru 2026",  # grudzień, abbreviated
    "ro": "04 dec. 2026",
}

# 10:00 UTC in Rome: 12:00 in summer (CEST, +2), 11:00 in winter (CET, +1).
MOMENTS = {
    "en": ("01 Jul 2026 12:00", "15 Jan 2026 11:00"),
    "it": ("01 lug 2026 12:00", "15 gen 2026 11:00"),
    "nl": ("01 jul 2026 12:00", "15 jan 2026 11:00"),
    "fr": ("01 juil. 2026 12:00", "15 janv. 2026 11:00"),
    "pl": ("01 lip 2026 12:00", "15 sty 2026 11:00"),
    "ro": ("01 iul. 2026 12:00", "15 ian. 2026 11:00"),
}


@pytest.mark.parametrize("locale", list(DAYS))
def test_days_in_each_language(in_app, locale):
    with force_locale(locale):
        assert i18n.format_day(date(2026, 12, 4)) == DAYS[locale]
        assert i18n.format_day(None) == "—"


def test_a_polish_day_has_the_polish_month(in_app):
    with force_locale("pl"):
        assert i18n.format_day(date(2026, 12, 4)) == "04 gru 2026"
        assert i18n.format_day(date(2026, 1, 15)) == "15 sty 2026"


@pytest.mark.parametrize("locale", list(MOMENTS))
def test_moments_show_the_local_hour_in_each_language(in_request, locale):
    summer, winter = MOMENTS[locale]
    with as_person(locale, ZONE):
        assert i18n.format_moment(datetime(2026, 7, 1, 10, 0)) == summer
        assert i18n.format_moment(datetime(2026, 1, 15, 10, 0)) == winter
        assert i18n.format_moment(None) == "—"


def test_a_moment_follows_the_persons_zone(in_request):
    stored = datetime(2026, 7, 1, 10, 0)
    with as_person("en", "Europe/Lisbon"):
        assert i18n.format_moment(stored) == "01 Jul 2026 11:00"
    with as_person("en", "Europe/Bucharest"):
        assert i18n.format_moment(stored) == "01 Jul 2026 13:00"
    with as_person("en", "UTC"):
        assert i18n.format_moment(stored) == "01 Jul 2026 10:00"


def test_a_day_of_a_stored_time_is_the_local_day(in_request):
    with as_person("en", ZONE):
        # 23:30 UTC on New Year's Eve is already the next year in Rome.
        assert i18n.format_day(datetime(2026, 12, 31, 23, 30)) == "01 Jan 2027"
        assert i18n.format_day(datetime(2026, 12, 31, 22, 30)) == "31 Dec 2026"


# --- time zones: stored UTC <-> the viewer's local time ---------------------------------

# (stored UTC, shown in Rome) on either side of both of 2026's changes: clocks go forward
# at 01:00 UTC on 29 March (02:00 -> 03:00 local) and back at 01:00 UTC on 25 October
# (03:00 -> 02:00 local). The local hour skipped in spring and the one repeated in autumn
# are left out: the first does not exist, the second is ambiguous.
ACROSS_DST = [
    (datetime(2026, 1, 15, 10, 0), datetime(2026, 1, 15, 11, 0)),
    (datetime(2026, 3, 29, 0, 30), datetime(2026, 3, 29, 1, 30)),
    (datetime(2026, 3, 29, 1, 30), datetime(2026, 3, 29, 3, 30)),
    (datetime(2026, 7, 1, 10, 0), datetime(2026, 7, 1, 12, 0)),
    (datetime(2026, 10, 24, 23, 30), datetime(2026, 10, 25, 1, 30)),
    (datetime(2026, 10, 25, 2, 30), datetime(2026, 10, 25, 3, 30)),
]


@pytest.mark.parametrize(("stored", "local"), ACROSS_DST)
def test_to_local_across_a_dst_change(in_request, stored, local):
    with as_person("en", ZONE):
        assert i18n.to_local(stored) == local


# Flask-Babel 4 hands out pytz zones: `replace(tzinfo=pytz_zone)` would take the zone's
# first offset in history (Rome's local mean time, +00:50) and make 12:00 in Rome in July
# 11:10 UTC. core.i18n converts through zoneinfo; these cases hold it there.


@pytest.mark.parametrize(("stored", "local"), ACROSS_DST)
def test_to_utc_across_a_dst_change(in_request, stored, local):
    with as_person("en", ZONE):
        assert i18n.to_utc(local) == stored


@pytest.mark.parametrize(("stored", "local"), ACROSS_DST)
def test_to_utc_and_to_local_round_trip(in_request, stored, local):
    with as_person("en", ZONE):
        assert i18n.to_local(i18n.to_utc(local)) == local
        assert i18n.to_utc(i18n.to_local(stored)) == stored


def test_to_utc_in_utc_changes_nothing(in_request):
    with as_person("en", "UTC"):
        moment = datetime(2026, 3, 29, 1, 30)
        assert i18n.to_utc(moment) == moment
        assert i18n.to_local(moment) == moment


# --- lazy formats and messages ---------------------------------------------------------


def test_lazy_formats_take_the_language_they_are_shown_in(in_app):
    total = i18n.money(Decimal("4.68"))
    quantity = i18n.number(Decimal("12345.5"))
    when = i18n.day(date(2026, 12, 4))
    with force_locale("fr"):
        assert str(total) == f"4,68{NBSP}€"
        assert str(quantity) == f"12{NNBSP}345,5"
        assert str(when) == "04 déc. 2026"
    with force_locale("en"):
        assert str(total) == "€4.68"
        assert str(quantity) == "12,345.5"
        assert str(when) == "04 Dec 2026"


def test_a_lazy_message_formats_its_values_when_shown(in_app):
    message = i18n._("Total: %(total)s.", total=i18n.money(Decimal("4.68")))
    with force_locale("nl"):
        assert str(message) == f"Total: €{NBSP}4,68."
    with force_locale("en"):
        assert str(message) == "Total: €4.68."


def test_in_language_formats_in_that_language_and_falls_back_to_english(in_app):
    with i18n.in_language("pl"):
        assert i18n.format_day(date(2026, 12, 4)) == "04 gru 2026"
    with i18n.in_language("xx"):
        assert i18n.format_money(Decimal("4.68")) == "€4.68"
    with i18n.in_language(None):
        assert i18n.format_money(Decimal("4.68")) == "€4.68"


def test_n_marks_without_translating():
    assert i18n.N_("Open") == "Open"


def test_a_lazy_message_is_text_on_a_page_never_markup(in_request):
    # A refusal carrying what a person typed must not reach the page as HTML.
    from flask import render_template_string

    message = i18n._("No product %(sku)s.", sku="<script>alert(1)</script>")
    html = render_template_string("<p>{{ message }}</p>", message=message)
    assert html == "<p>No product &lt;script&gt;alert(1)&lt;/script&gt;.</p>"
    label = i18n._("Groups & prices")
    assert render_template_string("{{ label }}", label=label) == "Groups &amp; prices"
