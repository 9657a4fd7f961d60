"""The catalogue filters' rules on tables of cases: what "in stock only" keeps for each
kind of group, how a query string becomes filters, and how values sort."""

import pytest
from werkzeug.datastructures import MultiDict

from core.catalog import BadQuery
from core.catalog_filters import (
    MAX_CHOSEN,
    Facet,
    FacetValue,
    Filters,
    least_in_stock,
    natural_key,
    parse,
    value_key,
)
from core.offer import GroupPolicy, stock_view


def policy(display: str, few_from: int, many_from: int = 50, backorders=False) -> GroupPolicy:
    return GroupPolicy(1, True, display, few_from, many_from, backorders)


POLICIES = [
    policy("exact", 1),
    policy("exact", 0),
    policy("exact", 5),
    policy("levels", 1),
    policy("levels", 0),
    policy("levels", 10),
    policy("levels", 10, backorders=True),
]


@pytest.mark.parametrize("group", POLICIES, ids=lambda p: f"{p.stock_display}-{p.few_from}")
def test_in_stock_only_keeps_exactly_what_the_group_sees_as_available(group):
    least = least_in_stock(group)
    for stock in range(0, 60):
        assert (stock >= least) == stock_view(group, stock).available, (group, stock)


def test_in_stock_only_for_an_exact_group_is_stock_above_zero():
    assert least_in_stock(policy("exact", 1)) == 1
    assert least_in_stock(policy("exact", 0)) == 1  # "0 in stock" is out of stock
    assert least_in_stock(policy("levels", 10)) == 10  # below "Few": "Out of stock"


def test_a_query_string_becomes_sorted_filters():
    args = MultiDict(
        [
            ("spec.Package", "0805"),
            ("spec.Package", "0603"),
            ("spec.Package", " 0603 "),  # the same value, as products write it
            ("spec.Voltage", "16  V"),
            ("spec.Empty", ""),
            ("in_stock", "1"),
            ("q", "cap"),
        ]
    )
    filters = parse(args)
    assert filters.specs == (("Package", ("0603", "0805")), ("Voltage", ("16 V",)))
    assert filters.in_stock and filters.active and filters.chosen_count == 3
    assert filters.args() == {
        "spec.Package": ["0603", "0805"],
        "spec.Voltage": ["16 V"],
        "in_stock": "1",
    }
    assert filters.without("Package", "0603").specs == (
        ("Package", ("0805",)),
        ("Voltage", ("16 V",)),
    )
    assert filters.without("Voltage").specs == (("Package", ("0603", "0805")),)
    assert not parse(MultiDict([("in_stock", "0")])).active
    assert not Filters().active


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([("spec.", "x")], "needs the specification's name"),
        ([("spec." + "n" * 61, "x")], "at most 60 characters"),
        ([("spec.Package", "v" * 201)], "at most 200 characters"),
        ([("in_stock", "yes")], "either on (1) or off (0)"),
        ([("spec.Package", str(i)) for i in range(MAX_CHOSEN + 1)], "Too many filters"),
        ([(f"spec.N{i}", "x") for i in range(11)], "Too many filters"),
    ],
)
def test_malformed_filters_are_refused_with_a_reason(bare_app, args, message):
    with bare_app.test_request_context(), pytest.raises(BadQuery) as refused:
        parse(MultiDict(args))
    assert message in str(refused.value)


def test_values_sort_as_a_person_reads_them():
    values = ["1 µF", "100 nF", "22 pF", "10 µF", "4.7 kΩ", "10 Ω", "1 MΩ", "100 kΩ", "0 Ω"]
    values += ["1206", "0402", "0603", "SOT-223", "SOT-23", "2 MB", "512 KB", "16 KB", "5 m"]
    assert sorted(values, key=natural_key) == [
        "0402",
        "0603",
        "1206",
        "16 KB",
        "512 KB",
        "2 MB",
        "22 pF",
        "100 nF",
        "1 µF",
        "10 µF",
        "5 m",
        "0 Ω",
        "10 Ω",
        "4.7 kΩ",
        "100 kΩ",
        "1 MΩ",
        "SOT-23",
        "SOT-223",
    ]


def test_a_facet_shows_its_first_values_and_every_chosen_one_before_show_more():
    values = tuple(
        FacetValue(str(n), 1, n in (2, 9), value_key("Pins", str(n))) for n in range(1, 11)
    )
    facet = Facet("Pins", values)
    assert [v.value for v in facet.shown] == ["1", "2", "3", "4", "5", "6", "9"]
    assert [v.value for v in facet.folded] == ["7", "8", "10"]
    assert facet.chosen_count == 2


def test_value_keys_are_safe_ids_and_differ_per_name():
    key = value_key('Pa"ck<age>', "0603")
    assert key.isalnum() and len(key) == 12
    assert key != value_key("Package", "0603") != value_key("Package", "0805")


def test_natural_key_takes_only_ascii_digits_as_numbers():
    # "²" is a digit to str.isdigit() and not to Decimal: a hostile filter value gave a 500.
    for value in ("²", "x²", "١٢٣", "5²V"):
        natural_key(value)  # no error
    assert sorted(["10 V", "²", "2 V"], key=natural_key) == ["2 V", "10 V", "²"]
