"""VAT: the rate each sale bears, and how a document's VAT is summed and rounded.

Prices are net everywhere (B2B buyers compare net prices). The rule, in one place:

- a buyer in the seller's country pays the seller's rate for the product's tax class;
- a buyer in another EU country with a valid VAT ID pays 0 %: the supply is an exempt
  intra-Community supply and the buyer accounts for the VAT ("Reverse charge");
- a buyer in another EU country without a valid VAT ID pays the seller's rate;
- a buyer outside the EU pays 0 %: an export.

VAT IDs are checked offline with python-stdnum (format and check digits; whether a tax
office registered the number is VIES's to say, which is not asked here).

Rounding: line amounts are net, to the cent. A document's VAT is worked out per rate,
on the sum of its net amounts at that rate, rounded half up to the cent once; gross is
net plus VAT. So a document's VAT never drifts by a cent per line.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from . import i18n
from .errors import FieldRefused
from .i18n import _
from .models import CENT

# The 27 member states by ISO 3166 code (Greece's VAT IDs start EL, its country code GR).
EU = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip
VAT_PREFIX = {"GR": "EL"}
TAX_CLASSES = {
    "standard": _("Standard rate"),
    "reduced": _("Reduced rate"),
    "zero": _("Zero rate"),
}
DOMESTIC, REVERSE_CHARGE, NO_VAT_ID, EXPORT = "domestic", "reverse_charge", "no_vat_id", "export"
MENTIONS = {
    DOMESTIC: "",
    NO_VAT_ID: "",
    REVERSE_CHARGE: _(
        "Reverse charge: intra-Community supply exempt from VAT (Article 138 of Council "
        "Directive 2006/112/EC); VAT is due by the buyer."
    ),
    EXPORT: _(
        "Export: supply outside the EU exempt from VAT (Article 146 of Council "
        "Directive 2006/112/EC)."
    ),
}
LABELS = {
    DOMESTIC: _("Domestic sale: the seller's VAT rates"),
    NO_VAT_ID: _("EU buyer without a valid VAT ID: the seller's VAT rates"),
    REVERSE_CHARGE: _("EU buyer with a valid VAT ID: 0 %, reverse charge"),
    EXPORT: _("Buyer outside the EU: 0 %, export"),
}


def vat_id_valid(vat_id: str, country: str) -> bool:
    """Is this a well-formed VAT ID (check digits and all) of a business in `country`?"""
    if not vat_id or country not in EU:
        return False
    try:
        number = eu_vat.validate(vat_id)
    except ValidationError:
        return False
    return number[:2] == VAT_PREFIX.get(country, country)


def clean_vat_id(raw: str, country: str, field: str = "vat_number") -> str:
    """A VAT ID as stored (compact, with its country prefix), or "" for none.

    A number that is not a valid ID of `country` is refused with the reason.
    """
    text = (raw or "").strip().upper()
    if not text:
        return ""
    prefix = VAT_PREFIX.get(country, country)
    if country not in EU:
        raise FieldRefused(
            _(
                "A VAT ID is checked for EU countries only: leave it empty for a buyer "
                "outside the EU."
            ),
            field,
        )
    compact = eu_vat.compact(text if text[:2].isalpha() else prefix + text)
    if compact[:2] != prefix:
        raise FieldRefused(
            _("A VAT ID of this country starts with %(prefix)s.", prefix=prefix), field
        )
    if not vat_id_valid(compact, country):
        raise FieldRefused(
            _(
                "%(number)s is not a valid VAT ID: check its digits (format and check digit).",
                number=compact,
            ),
            field,
        )
    return compact


@dataclass(frozen=True)
class Treatment:
    """How VAT applies to one buyer: the kind of sale, the rate per tax class, the mention."""

    kind: str
    rates: dict[str, Decimal]

    @property
    def mention(self) -> str:
        return MENTIONS[self.kind]

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    def rate(self, tax_class: str) -> Decimal:
        return self.rates[tax_class]


def treatment(
    *,
    seller_country: str,
    seller_rates: dict[str, Decimal],
    buyer_country: str,
    buyer_vat_id: str = "",
) -> Treatment:
    """The rule: see the module's docstring."""
    if buyer_country == seller_country:
        kind = DOMESTIC
    elif buyer_country in EU:
        kind = REVERSE_CHARGE if vat_id_valid(buyer_vat_id, buyer_country) else NO_VAT_ID
    else:
        kind = EXPORT
    if kind in (DOMESTIC, NO_VAT_ID):
        rates = {c: Decimal(seller_rates.get(c, 0)) for c in TAX_CLASSES}
        rates["zero"] = Decimal(0)
    else:
        rates = dict.fromkeys(TAX_CLASSES, Decimal(0))
    return Treatment(kind, rates)


@dataclass(frozen=True)
class RateLine:
    """What a document holds at one VAT rate."""

    rate: Decimal
    net: Decimal
    vat: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True)
class Totals:
    """A document's net, VAT per rate and gross, with the mention it must print."""

    lines: tuple[RateLine, ...]
    mention: str = ""

    @property
    def net(self) -> Decimal:
        return sum((line.net for line in self.lines), Decimal("0.00"))

    @property
    def vat(self) -> Decimal:
        return sum((line.vat for line in self.lines), Decimal("0.00"))

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


def vat_of(net: Decimal, rate: Decimal) -> Decimal:
    """VAT on a net amount at a rate (percent), half up to the cent."""
    return (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def totals(amounts: Iterable[tuple[Decimal, Decimal]], mention: str = "") -> Totals:
    """Sum (rate, net) amounts into a document's totals: VAT once per rate, rounded."""
    by_rate: dict[Decimal, Decimal] = {}
    for rate, net in amounts:
        key = Decimal(rate).normalize()
        by_rate[key] = by_rate.get(key, Decimal("0.00")) + Decimal(net)
    lines = tuple(
        RateLine(rate, net.quantize(CENT), vat_of(net, rate))
        for rate, net in sorted(by_rate.items(), reverse=True)
    )
    return Totals(lines, mention)


# The portal's seller and buyers ---------------------------------------------------------

# Shipping follows the goods it carries (an ancillary supply): the standard rate of the
# sale's treatment.
SHIPPING_CLASS = "standard"


def for_buyer(country: str, vat_id: str = "") -> Treatment:
    """The treatment of a sale to a buyer in `country` with `vat_id`, by today's settings."""
    from . import settings  # settings reads rows; this module's rule needs none of it

    seller_country, rates = settings.vat()
    return treatment(
        seller_country=seller_country,
        seller_rates=rates,
        buyer_country=country or seller_country,
        buyer_vat_id=vat_id,
    )


def for_company(company) -> Treatment:
    return for_buyer(company.country, company.vat_number)


def apply(order) -> None:
    """Fix the order's VAT as the rule gives it now: kept with the order from then on.

    Each line's tax class was copied from its product, its rate is the company's treatment's;
    shipping bears the rate of SHIPPING_CLASS; the order's VAT is rounded once per rate.
    """
    rule = for_company(order.company)
    order.tax_kind = rule.kind
    order.buyer_country = order.company.country
    order.buyer_vat_number = order.company.vat_number or ""
    for line in order.lines:  # each line's tax class was copied from its product
        line.vat_rate = rule.rate(line.tax_class or "standard")
    order.shipping_vat_rate = rule.rate(SHIPPING_CLASS)
    order.vat_total = of_order(order).vat


def of_order(order) -> Totals:
    """An order's net, VAT per rate and gross, from the rates it was placed with."""
    amounts = [(line.vat_rate, line.line_total) for line in order.lines]
    if order.shipping_price:
        amounts.append((order.shipping_vat_rate, order.shipping_price))
    return totals(amounts, MENTIONS.get(order.tax_kind, ""))


def of_invoice(invoice) -> Totals:
    """An invoice's net, VAT per rate and gross, from its lines (shipping is one of them)."""
    return totals(
        ((line.vat_rate, line.line_total) for line in invoice.lines),
        MENTIONS.get(invoice.tax_kind, ""),
    )


def of_lines(company, lines: Iterable[tuple[str, Decimal]]) -> Totals:
    """What a cart or quote would bear today: (tax class, net amount) pairs for `company`."""
    rule = for_company(company)
    return totals(((rule.rate(tax_class), net) for tax_class, net in lines), rule.mention)


def credit_rate(invoice, company) -> Decimal:
    """The rate a credit note bears: its invoice's goods rate when it has one rate, else
    the company's standard rate today."""
    if invoice is not None:
        rates = {line.vat_rate for line in invoice.lines}
        if len(rates) == 1:
            return rates.pop()
        return for_buyer(invoice.company.country, invoice.company.vat_number).rate("standard")
    return for_company(company).rate("standard")


def net_of(gross: Decimal, rate: Decimal) -> Decimal:
    """The net part of a gross amount at a rate, half up to the cent (VAT is the rest)."""
    return (gross * 100 / (100 + Decimal(rate))).quantize(CENT, rounding=ROUND_HALF_UP)


def rate_label(rate: Decimal) -> str:
    """A rate as documents print it: "19 %", "7 %", "0 %", "5.5 %" ("5,5 %" in Polish)."""
    return f"{i18n.format_number(Decimal(rate).normalize())} %"
