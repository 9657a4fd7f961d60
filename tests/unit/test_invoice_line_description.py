"""An invoice's shipping line is stored in English ("Shipping: Express") and said in the
language of whoever reads the invoice (core.billing.line_description); a product's line
is its name as sold, whatever its words."""

from decimal import Decimal

import pytest
from flask_babel import force_locale, gettext

from core import billing
from core.models import InvoiceLine


def line(sku: str, description: str) -> InvoiceLine:
    return InvoiceLine(
        sku=sku,
        description=description,
        quantity=1,
        unit_price=Decimal("6.90"),
        line_total=Decimal("6.90"),
        vat_rate=Decimal("19"),
    )


def test_what_the_shipping_line_stores():
    assert billing.shipping_description("Express") == "Shipping: Express"
    assert billing.shipping_description("") == billing.shipping_description(None) == "Shipping"


def test_the_shipping_line_is_said_in_english_as_stored(bare_app):
    with bare_app.app_context(), force_locale("en"):
        assert str(billing.line_description(line("", "Shipping: Express"))) == "Shipping: Express"
        assert str(billing.line_description(line("", "Shipping"))) == "Shipping"


@pytest.mark.parametrize("locale", ["it", "nl", "fr", "pl", "ro"])
def test_the_shipping_line_is_said_in_the_readers_language(bare_app, locale):
    """The catalogue's words, whatever its translators wrote ("Wysyłka: Express")."""
    with bare_app.app_context(), force_locale(locale):
        named = gettext("Shipping: %(method)s", method="Express")
        unnamed = gettext("Shipping")
        shipped = billing.line_description(line("", "Shipping: Express"))
        bare = billing.line_description(line("", "Shipping"))
        assert str(shipped) == named and str(bare) == unnamed
    assert not named.startswith("Shipping") and unnamed != "Shipping"  # translated


def test_a_products_line_keeps_its_name(bare_app):
    with bare_app.app_context(), force_locale("pl"):
        for description in ("Shipping: crate of 10", "Shipping", "Mikrokontroler"):
            assert billing.line_description(line("SKU-1", description)) == description
        # A line without a SKU that is not the shipping line is shown as stored.
        assert billing.line_description(line("", "Handling fee")) == "Handling fee"
