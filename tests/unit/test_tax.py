"""The VAT rule and the rounding of a document's VAT, on tables of worked examples."""

from decimal import Decimal

import pytest

from core import tax
from core.errors import FieldRefused

D = Decimal
GERMAN = {"standard": D("19"), "reduced": D("7"), "zero": D("0")}


@pytest.mark.parametrize(
    ("country", "vat_id", "kind", "standard", "mention"),
    [
        ("DE", "", tax.DOMESTIC, D("19"), ""),
        ("DE", "DE136695976", tax.DOMESTIC, D("19"), ""),  # a VAT ID changes nothing at home
        ("LT", "LT100001919017", tax.REVERSE_CHARGE, D("0"), "Reverse charge"),
        ("NL", "NL004495445B01", tax.REVERSE_CHARGE, D("0"), "Reverse charge"),
        ("IT", "IT00743110157", tax.REVERSE_CHARGE, D("0"), "Article 138"),
        ("RO", "", tax.NO_VAT_ID, D("19"), ""),
        ("RO", "RO18547291", tax.NO_VAT_ID, D("19"), ""),  # a wrong check digit is no ID
        ("NL", "DE136695976", tax.NO_VAT_ID, D("19"), ""),  # another country's ID
        ("CH", "", tax.EXPORT, D("0"), "Export"),
        ("US", "", tax.EXPORT, D("0"), "Article 146"),
    ],
)
def test_the_rule(country, vat_id, kind, standard, mention):
    found = tax.treatment(
        seller_country="DE", seller_rates=GERMAN, buyer_country=country, buyer_vat_id=vat_id
    )
    assert found.kind == kind
    assert found.rate("standard") == standard
    assert found.rate("zero") == 0
    assert mention in found.mention
    if kind in (tax.DOMESTIC, tax.NO_VAT_ID):
        assert found.rate("reduced") == D("7")


@pytest.mark.parametrize(
    ("amounts", "lines", "net", "vat", "gross"),
    [
        # One rate: 100.00 + 0.05 at 19 %: VAT on 100.05 = 19.0095 -> 19.01.
        ([(19, "100.00"), (19, "0.05")], [(19, "100.05", "19.01")], "100.05", "19.01", "119.06"),
        # Per document, not per line: three lines of 0.03 at 19 % are 0.0171 -> 0.02 of VAT
        # (per line it would be 3 x 0.01 = 0.03).
        ([(19, "0.03")] * 3, [(19, "0.09", "0.02")], "0.09", "0.02", "0.11"),
        # Half up: 2.50 at 19 % is 0.475 -> 0.48.
        ([(19, "2.50")], [(19, "2.50", "0.48")], "2.50", "0.48", "2.98"),
        # Two rates, each rounded once: 10.10 at 19 % (1.919 -> 1.92), 5.05 at 7 % (0.3535
        # -> 0.35).
        (
            [(19, "10.10"), (7, "5.05")],
            [(19, "10.10", "1.92"), (7, "5.05", "0.35")],
            "15.15",
            "2.27",
            "17.42",
        ),
        # Reverse charge and exports: everything at 0 %.
        ([(0, "4680.00"), (0, "12.34")], [(0, "4692.34", "0.00")], "4692.34", "0.00", "4692.34"),
    ],
)
def test_a_documents_vat_is_rounded_once_per_rate(amounts, lines, net, vat, gross):
    found = tax.totals((D(rate), D(amount)) for rate, amount in amounts)
    assert [(int(line.rate), str(line.net), str(line.vat)) for line in found.lines] == [
        (rate, n, v) for rate, n, v in lines
    ]
    assert (str(found.net), str(found.vat), str(found.gross)) == (net, vat, gross)
    assert all(isinstance(x, Decimal) for x in (found.net, found.vat, found.gross))


@pytest.mark.parametrize(
    ("raw", "country", "stored"),
    [
        ("DE136695976", "DE", "DE136695976"),
        ("de 136 695 976", "DE", "DE136695976"),
        ("136695976", "DE", "DE136695976"),  # the prefix is added
        ("LT100001919017", "LT", "LT100001919017"),
        ("", "RO", ""),
    ],
)
def test_vat_ids_are_stored_compact(raw, country, stored):
    assert tax.clean_vat_id(raw, country) == stored


@pytest.mark.parametrize(
    ("raw", "country", "message"),
    [
        ("DE136695977", "DE", "not a valid VAT ID"),
        ("NL004495445B01", "DE", "starts with DE"),
        ("CHE123456789", "CH", "EU countries only"),
        ("EL123", "GR", "not a valid VAT ID"),
    ],
)
def test_wrong_vat_ids_are_refused_with_the_reason(raw, country, message):
    with pytest.raises(FieldRefused, match=message):
        tax.clean_vat_id(raw, country)
