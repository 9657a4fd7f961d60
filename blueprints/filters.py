"""Jinja filters for money, percentages, dates, countries and a document's VAT."""

from core import billing, countries, i18n, margins, tax


def money(value, currency: str = "EUR") -> str:
    """€1,234.56, 1 234,56 € in French: the viewer's locale (core.i18n.format_money)."""
    return i18n.format_money(value, currency)


def percent(value) -> str:
    return i18n.format_percent(value)


def margin(price, cost) -> str:
    """The margin of a price over its cost, as core.margins computes it: "59.4%" or "—"."""
    return i18n.format_percent(margins.percent(price, cost))


def number(value, digits: int | None = None) -> str:
    return i18n.format_number(value, digits)


def day(value) -> str:
    return i18n.format_day(value)


def moment(value) -> str:
    """A stored time in the viewer's zone and format."""
    return i18n.format_moment(value)


def country(code: str) -> str:
    """A country's name from its ISO code (core.countries)."""
    return countries.name(code)


FILTERS = {
    "money": money,
    "percent": percent,
    "number": number,
    "margin": margin,
    "day": day,
    "moment": moment,
    "country": country,
    # A document's net, VAT per rate and gross (core.tax): the one source of its figures.
    "order_taxes": tax.of_order,
    "invoice_taxes": tax.of_invoice,
    # An invoice line's description in the viewer's language (its shipping line).
    "invoice_line": billing.line_description,
    "vat_rate": tax.rate_label,
    "vat_rule": tax.for_company,
}
