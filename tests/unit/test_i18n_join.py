"""core.i18n.join: a text of several parts (lazy messages, lazy amounts, plain text) put
together when it is shown, each part in the language of that moment (a mail's body)."""

from decimal import Decimal

from flask_babel import force_locale
from markupsafe import Markup, escape

from core import i18n

NBSP = "\u00a0"


def test_parts_are_joined_in_the_language_they_are_shown_in(in_app):
    text = i18n.join(
        i18n._("Total: %(total)s.", total=i18n.money(Decimal("1234.5"))),
        "\n",
        i18n.number(Decimal("12.5")),
        " × SKU-1",
    )
    with force_locale("en"):
        assert str(text) == "Total: €1,234.50.\n12.5 × SKU-1"
    with force_locale("nl"):
        assert str(text) == f"Total: €{NBSP}1.234,50.\n12,5 × SKU-1"


def test_a_separator_goes_between_the_parts_only(in_app):
    assert str(i18n.join("a", "b", "c", sep="\n")) == "a\nb\nc"
    assert str(i18n.join("a", sep="\n")) == "a"
    assert str(i18n.join()) == "" and not i18n.join()


def test_joins_nest_and_take_any_value(in_app):
    inner = i18n.join("- ", 3, " × ", i18n.money(Decimal("0.0125")))
    assert str(i18n.join("Lines:", inner, inner, sep="\n")) == (
        "Lines:\n- 3 × €0.0125\n- 3 × €0.0125"
    )


def test_the_parts_are_read_when_shown_not_when_joined(in_app):
    with force_locale("fr"):
        joined = i18n.join("Pay ", i18n.money(Decimal("5")))
    # Joined under French, shown in English: the English reader reads English.
    assert str(joined) == "Pay €5.00"
    with force_locale("fr"):
        assert str(joined) == f"Pay 5,00{NBSP}€"


def test_a_joined_text_is_text_on_a_page(in_app):
    joined = i18n.join("<b>", "Fish & Chips")
    assert escape(joined) == Markup("&lt;b&gt;Fish &amp; Chips")
    assert "x" + joined == "x<b>Fish & Chips" and joined + "!" == "<b>Fish & Chips!"
