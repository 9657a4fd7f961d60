"""Jinja filters for money, percentages, dates, countries and a document's VAT."""

from datetime import date, datetime
from decimal import Decimal

from core import countries, margins, tax

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def money(value, currency: str = "EUR") -> str:
    """€1,234.56; sub-cent unit prices keep up to four decimals (€0.0125)."""
    if value is None:
        return "—"
    value = Decimal(value)
    text = f"{value:,.4f}".rstrip("0")
    whole, _, frac = text.partition(".")
    frac = frac.ljust(2, "0")
    sign = "−" if value < 0 else ""
    return f"{sign}{CURRENCY_SYMBOLS.get(currency, currency + ' ')}{whole.lstrip('-')}.{frac}"


def percent(value) -> str:
    if value is None:
        return "—"
    text = f"{Decimal(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def margin(price, cost) -> str:
    """The margin of a price over its cost, as core.margins computes it: "59.4%" or "—"."""
    value = margins.percent(price, cost)
    return "—" if value is None else f"{value}%"


def day(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.date()
    return value.strftime("%d %b %Y") if isinstance(value, date) else str(value)


def moment(value) -> str:
    return value.strftime("%d %b %Y %H:%M") if value else "—"


def country(code: str) -> str:
    """A country's name from its ISO code (core.countries)."""
    return countries.name(code)


FILTERS = {
    "money": money,
    "percent": percent,
    "margin": margin,
    "day": day,
    "moment": moment,
    "country": country,
    # A document's net, VAT per rate and gross (core.tax): the one source of its figures.
    "order_taxes": tax.of_order,
    "invoice_taxes": tax.of_invoice,
    "vat_rate": tax.rate_label,
    "vat_rule": tax.for_company,
}
