"""core.numbers: every number from outside is read one way, and nothing but a refusal
comes out of anything typed."""

from decimal import Decimal

import pytest

from core import imports, numbers
from core.products import clean_price

NOT_NUMBERS = [
    "",
    " ",
    "abc",
    "NaN",
    "-nan",
    "sNaN",
    "Infinity",
    "-inf",
    "0x1F",
    "1_000",
    "1 000",
    "١٢٣",  # Arabic-Indic digits: Decimal() and int() read them
    "１２",  # full-width digits
    "²",  # str.isdigit() says yes, int() refuses it
    "½",
    "1.",
    "1.2.3",
    "--1",
    "\x00",
    "9" * 100_000,
    "1." + "9" * 100_000,
]
EXPONENTS = ["1e99", "1E9", "-1e-99", "1.5e2", ".5e1", "1e999999999"]


@pytest.mark.parametrize("raw", NOT_NUMBERS + EXPONENTS)
def test_anything_but_a_plain_decimal_is_refused_with_a_message(raw):
    with pytest.raises(numbers.NumberRefused) as refused:
        numbers.decimal(raw, label="The price", places=4, maximum=Decimal(10**6))
    message = str(refused.value)
    if raw in EXPONENTS:
        assert message.startswith("The price must be written out in digits, such as 12.50")
    else:
        assert message == "The price must be a number, such as 12.50."


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-0.01", "The price cannot be negative."),
        ("1000000", "The price must be below 1,000,000."),
        ("9" * 39, "The price must be below 1,000,000."),
        ("1.23456", "The price has at most 4 decimals."),
        ("0." + "0" * 37 + "1", "The price has at most 4 decimals."),
    ],
)
def test_numbers_out_of_bounds_say_which_bound(raw, message):
    with pytest.raises(numbers.NumberRefused, match=message):
        numbers.decimal(raw, label="The price", places=4, maximum=Decimal(10**6))


@pytest.mark.parametrize(
    ("raw", "value"),
    [("12.5", "12.5000"), (" 0.0125 ", "0.0125"), (".5", "0.5000"), ("+3", "3.0000")],
)
def test_plain_decimals_are_read_and_rounded_to_their_places(raw, value):
    assert numbers.decimal(raw, label="x", places=4, maximum=Decimal(100)) == Decimal(value)
    assert str(clean_price(raw)) == value


@pytest.mark.parametrize(
    "raw", ["", "1.0", "-", "1e3", "١٢٣", "²", "0x10", "1_0", "9" * 41, "9" * 5000, "11"]
)
def test_whole_numbers_are_ascii_digits_within_bounds(raw):
    with pytest.raises(numbers.NumberRefused, match=r"^Say 1 to 10\.$"):
        numbers.whole(raw, minimum=1, maximum=10, message="Say 1 to 10.")


def test_whole_numbers_read():
    assert numbers.whole(" 7 ", minimum=1, maximum=10, message="") == 7
    assert numbers.whole("-3", minimum=-5, maximum=10, message="") == -3


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        ("1", 1),
        ("0042", 42),
        (str(numbers.MAX_ID), numbers.MAX_ID),
        (str(numbers.MAX_ID + 1), None),
        (str(2**63), None),
        ("9" * 40, None),
        ("0", None),
        ("-1", None),
        ("١٢٣", None),
        ("²", None),
        ("", None),
        (None, None),
    ],
)
def test_record_ids_are_what_an_integer_column_holds(raw, found):
    assert numbers.record_id(raw) == found


def test_the_importer_refuses_prices_that_are_not_plain_numbers_line_by_line():
    """An exponent or NaN in a file is a line error, never an import that fails."""
    lookups = imports.Lookups(skus={}, may_see_costs=True)
    text = "sku,name,base_price,cost\nA-1,One,1e99,1\nA-2,Two,NaN,1\nA-3,Three,5,-Infinity\n"
    checked = imports.check("products", text.encode(), lookups, imports.Limits())
    assert checked.rows == []
    assert [(e["line"], e["column"]) for e in checked.errors] == [
        (2, "base_price"),
        (3, "base_price"),
        (4, "cost"),
    ]
    assert "written out in digits" in checked.errors[0]["message"]
    assert "must be a number" in checked.errors[1]["message"]
    stock = imports.check("stock", b"sku,stock\nA-1,1e99\n", lookups, imports.Limits())
    assert "whole number" in stock.errors[-1]["message"]
