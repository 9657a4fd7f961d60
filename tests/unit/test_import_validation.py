"""The import validation table: every kind of bad input gets a clear error on the right line.

core.imports.check() reads and checks a whole file without touching the database; the
lookups it needs (SKUs, categories, groups, whether costs may be seen) are given here.
Line numbers are a spreadsheet's: the header is line 1.
"""

import codecs
from decimal import Decimal

import pytest

from core import imports

LOOKUPS = imports.Lookups(
    skus={"MCU-1": 1, "CAP-2": 2, "RES-3": 3},
    categories={"capacitors": (10,), "passive components": (11,), "other": (12, 13)},
    groups={"wholesale": 1, "partner": 2, "standard": 3},
    group_names=("Partner", "Standard", "Wholesale"),
    may_see_costs=True,
)
NO_COSTS = imports.Lookups(skus=LOOKUPS.skus, categories=LOOKUPS.categories)


def run(kind, data, lookups=LOOKUPS, **limits):
    if isinstance(data, str):
        data = data.encode()
    return imports.check(kind, data, lookups, imports.Limits(**limits))


# (case, kind, file, [(line, column, part of the message)], the whole file refused?)
BAD = [
    (
        "Windows-1252 file",
        "stock",
        b"sku,stock\nMCU-1,5\nCAP-2,3\nCAF\xc9-1,3\n",
        [(4, "", "not UTF-8: byte 0xC9 on line 4")],
        True,
    ),
    (
        "UTF-16 file",
        "stock",
        codecs.BOM_UTF16_LE + "sku,stock\n".encode("utf-16-le"),
        [(1, "", "UTF-16")],
        True,
    ),
    (
        "UTF-16 without a mark",
        "stock",
        "sku,stock\nMCU-1,5\n".encode("utf-16-le"),
        [(1, "", "NUL characters")],
        True,
    ),
    (
        "Excel workbook",
        "products",
        b"PK\x03\x04\x14\x00\x06\x00rest-of-zip",
        [(None, "", "Excel workbook (.xlsx)")],
        True,
    ),
    ("PDF", "products", b"%PDF-1.7\n...", [(None, "", "a PDF document")], True),
    ("empty file", "stock", b"", [(None, "", "The file is empty")], True),
    ("only blank lines", "stock", b" \r\n\r\n", [(None, "", "The file is empty")], True),
    ("only a byte-order mark", "stock", codecs.BOM_UTF8, [(None, "", "The file is empty")], True),
    ("header only", "stock", "sku,stock\n", [(None, "", "a header but no lines")], True),
    ("header and blank lines", "stock", "sku,stock\n,\n\n", [(None, "", "a header but no")], True),
    ("semicolons", "stock", "sku;stock\nMCU-1;5\n", [(1, "", "separated by semicolons")], True),
    ("tabs", "stock", "sku\tstock\nMCU-1\t5\n", [(1, "", "separated by tabs")], True),
    ("empty first line", "stock", "\nsku,stock\nMCU-1,5\n", [(1, "", "it is empty")], True),
    (
        "data without a header",
        "stock",
        "MCU-1,5\nCAP-2,4\n",
        [(1, "", "The first line must name the columns (for example sku,stock)")],
        True,
    ),
    (
        "missing column",
        "stock",
        "sku,reason\nMCU-1,count\n",
        [(1, "stock", "The column “stock” is missing")],
        True,
    ),
    (
        "unknown column, named",
        "stock",
        "sku,stock,colour\nMCU-1,5,red\n",
        [(1, "colour", "Unknown column “colour”. A stock levels file has the columns sku, stock")],
        True,
    ),
    (
        "a column of another import, with where it belongs",
        "products",
        "sku,name,base_price,stock\nNEW-1,New,1.00,5\n",
        [(1, "stock", "stock-levels import")],
        True,
    ),
    (
        "every header problem at once",
        "group_prices",
        "sku,sku,customer_group\n",
        [
            (1, "sku", "appears twice (columns A and B)"),
            (1, "customer_group", "Name the column group"),
            (1, "group", "The column “group” is missing"),
            (1, "price", "The column “price” is missing"),
        ],
        True,
    ),
    (
        "a cost column without the costs permission",
        "products",
        "sku,name,base_price,cost\nNEW-1,New,1.00,0.50\n",
        [(1, "cost", "your role does not include costs and margins")],
        True,
    ),
    (
        "products file that sets nothing",
        "products",
        "sku\nMCU-1\n",
        [(1, "", "Besides sku, the file needs a column to set")],
        True,
    ),
    (
        "duplicate SKU, in any letter case",
        "stock",
        "sku,stock\nMCU-1,5\nCAP-2,1\nmcu-1,7\n",
        [(4, "sku", "SKU MCU-1 is already on line 2")],
        False,
    ),
    (
        "duplicate SKU in a products file",
        "products",
        "sku,name,base_price\nNEW-1,A,1\nNEW-1,B,2\n",
        [(3, "sku", "already on line 2")],
        False,
    ),
    (
        "duplicate product and group",
        "group_prices",
        "sku,group,price\nMCU-1,Wholesale,1\nMCU-1,wholesale,2\nMCU-1,Partner,3\n",
        [(3, "sku", "The wholesale price of MCU-1 is already on line 2")],
        False,
    ),
    (
        "unknown SKU",
        "stock",
        "sku,stock\nNOPE-9,5\n",
        [(2, "sku", "no product with SKU NOPE-9")],
        False,
    ),
    ("missing SKU", "stock", "sku,stock\n,5\n", [(2, "sku", "Give the SKU")], False),
    (
        "unknown category",
        "products",
        "sku,category\nMCU-1,Flux capacitors\n",
        [(2, "category", "There is no category “Flux capacitors”")],
        False,
    ),
    (
        "a category name that names several",
        "products",
        "sku,category\nMCU-1,Other\n",
        [(2, "category", "names several categories: use the slug")],
        False,
    ),
    (
        "unknown group",
        "group_prices",
        "sku,group,price\nMCU-1,Retail,1.00\n",
        [(2, "group", "There is no customer group “Retail”; the groups are Partner, Standard")],
        False,
    ),
    (
        "missing group",
        "group_prices",
        "sku,group,price\nMCU-1,,1.00\n",
        [(2, "group", "Give the customer group")],
        False,
    ),
    (
        "negative price",
        "products",
        "sku,base_price\nMCU-1,-1.00\n",
        [(2, "base_price", "The base price cannot be negative. Found “-1.00”")],
        False,
    ),
    (
        "non-numeric price",
        "products",
        "sku,base_price\nMCU-1,twelve\n",
        [(2, "base_price", "must be a number, such as 12.50. Found “twelve”")],
        False,
    ),
    (
        "decimal comma",
        "group_prices",
        'sku,group,price\nMCU-1,Partner,"12,50"\n',
        [(2, "price", "The price must be a number")],
        False,
    ),
    (
        "currency sign",
        "products",
        "sku,base_price\nMCU-1,€12.50\n",
        [(2, "base_price", "must be a number")],
        False,
    ),
    (
        "over-precise price",
        "products",
        "sku,base_price\nMCU-1,0.00125\n",
        [(2, "base_price", "has at most 4 decimals")],
        False,
    ),
    (
        "implausible price",
        "products",
        "sku,cost\nMCU-1,2000000\n",
        [(2, "cost", "must be below 1,000,000")],
        False,
    ),
    (
        "negative cost",
        "products",
        "sku,cost\nMCU-1,-0.10\n",
        [(2, "cost", "The cost cannot be negative")],
        False,
    ),
    (
        "non-integer stock",
        "stock",
        "sku,stock\nMCU-1,12.5\n",
        [(2, "stock", "Stock must be a whole number, such as 120. Found “12.5”")],
        False,
    ),
    (
        "negative stock",
        "stock",
        "sku,stock\nMCU-1,-3\n",
        [(2, "stock", "cannot be negative")],
        False,
    ),
    ("text as stock", "stock", "sku,stock\nMCU-1,lots\n", [(2, "stock", "whole number")], False),
    (
        "missing stock",
        "stock",
        "sku,stock\nMCU-1,\n",
        [(2, "stock", "Give the counted stock")],
        False,
    ),
    (
        "implausible stock",
        "stock",
        "sku,stock\nMCU-1,99999999\n",
        [(2, "stock", "Stock above 10,000,000 is not plausible")],
        False,
    ),
    (
        "over-long name",
        "products",
        "sku,name\nMCU-1," + "n" * 201 + "\n",
        [(2, "name", "A name has at most 200 characters; this has 201")],
        False,
    ),
    (
        "over-long description",
        "products",
        "sku,description\nMCU-1," + "d" * 5001 + "\n",
        [(2, "description", "at most 5,000 characters; this has 5,001")],
        False,
    ),
    (
        "over-long unit",
        "products",
        "sku,unit\nMCU-1," + "u" * 17 + "\n",
        [(2, "unit", "A unit has at most 16 characters")],
        False,
    ),
    (
        "over-long reason",
        "stock",
        "sku,stock,reason\nMCU-1,1," + "r" * 501 + "\n",
        [(2, "reason", "at most 500 characters")],
        False,
    ),
    (
        "over-long new SKU",
        "products",
        "sku,name,base_price\n" + "S" * 65 + ",Name,1\n",
        [(2, "sku", "A SKU has at most 64 characters")],
        False,
    ),
    (
        "a new SKU with spaces",
        "products",
        "sku,name,base_price\nNEW 1,Name,1\n",
        [(2, "sku", "A SKU uses letters, digits")],
        False,
    ),
    (
        "a new product needs a name and a base price",
        "products",
        "sku,name,base_price\nNEW-1,,\n",
        [(2, "name", "A new product needs a name"), (2, "base_price", "needs a base price")],
        False,
    ),
    (
        "an unquoted comma",
        "stock",
        "sku,stock,reason\nMCU-1,5,counted, twice\n",
        [(2, "", "This line has 4 cells but the header names 3 columns")],
        False,
    ),
    (
        "unbalanced quotes",
        "stock",
        'sku,stock,reason\nMCU-1,5,"counted" twice\nCAP-2,1,ok\n',
        [(2, "", "quotes are not balanced")],
        False,
    ),
    (
        "a value under a column without a name",
        "stock",
        "sku,stock,,\nMCU-1,5,,oops\n",
        [(2, "D", "A value in column D, which has no name in the header")],
        False,
    ),
    (
        "every wrong line reported, on its own line number, after a blank one",
        "stock",
        "sku,stock\nMCU-1,1\n\nCAP-2,x\nRES-3,-1\nNOPE,2\n",
        [
            (4, "stock", "whole number"),
            (5, "stock", "cannot be negative"),
            (6, "sku", "no product with SKU NOPE"),
        ],
        False,
    ),
]


NO_COST_CASES = {"a cost column without the costs permission"}


@pytest.mark.parametrize(
    ("case", "kind", "data", "expected", "fatal"),
    [pytest.param(*row, id=row[0]) for row in BAD],
)
def test_bad_input_is_reported_clearly(case, kind, data, expected, fatal):
    checked = run(kind, data, NO_COSTS if case in NO_COST_CASES else LOOKUPS)
    found = [(e["line"], e["column"], e["message"]) for e in checked.errors]
    assert len(found) == len(expected), found
    for (line, column, message), (want_line, want_column, part) in zip(
        found, expected, strict=True
    ):
        assert (line, column) == (want_line, want_column), found
        assert part in message, (part, message)
    assert checked.error_count == len(expected)
    assert checked.fatal is fatal
    if fatal:
        assert checked.rows == []  # nothing of an unreadable file can be applied


def test_cost_column_refused_without_costs_permission():
    checked = run("products", "sku,name,base_price,cost\nNEW-1,New,1.00,0.50\n", NO_COSTS)
    assert checked.fatal and checked.rows == []
    assert checked.errors[0]["column"] == "cost"
    allowed = run("products", "sku,name,base_price,cost\nNEW-1,New,1.00,0.50\n", LOOKUPS)
    assert allowed.errors == [] and allowed.rows[0][6] == Decimal("0.5000")


def test_valid_lines_are_parsed_next_to_the_wrong_ones():
    checked = run("stock", "sku,stock,reason\nMCU-1,5,count\nCAP-2,x,\nRES-3,7,\n")
    assert checked.lines == 3 and checked.bad_lines == 1
    assert checked.rows == [(2, 1, 5, "count"), (4, 3, 7, None)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\ufeffsku,stock\nMCU-1,5\n", id="UTF-8 with a byte-order mark"),
        pytest.param("SKU,Stock\r\nMCU-1,5\r\n", id="Excel's line ends and capitals"),
        pytest.param("sku,stock,,\nMCU-1,5,,\n", id="trailing empty columns"),
        pytest.param("sku,stock,reason\nMCU-1,5\n", id="trailing empty cells left out"),
        pytest.param(" Sku , STOCK \nmcu-1, 5 \n", id="spaces around names and values"),
        pytest.param("sku,stock\nMCU-1,5.0\n", id="a whole number with a decimal point"),
        pytest.param('"sku","stock"\n"MCU-1","5"\n', id="every cell quoted"),
        pytest.param("sku,stock\rMCU-1,5\r", id="old Mac line ends"),
    ],
)
def test_what_spreadsheets_write_is_read(text):
    checked = run("stock", text)
    assert checked.errors == []
    assert [(r[1], r[2]) for r in checked.rows] == [(1, 5)]


def test_header_names_are_matched_loosely():
    checked = run("products", "SKU,Base Price,base-price\nMCU-1,1,2\n")
    assert [e["message"] for e in checked.errors] == [
        "The column “base-price” appears twice (columns B and C): keep one."
    ]


def test_group_price_cell_left_empty_removes_it():
    checked = run("group_prices", "sku,group,price\nMCU-1,Partner,\nCAP-2,Wholesale,0.0125\n")
    assert checked.errors == []
    # The last item is the breaks cell: None when the file has no breaks column (the
    # group's breaks are left as they are).
    assert checked.rows == [(2, 1, 2, None, None), (3, 2, 1, Decimal("0.0125"), None)]


def test_products_lines_create_or_update():
    checked = run(
        "products",
        "sku,name,category,base_price,unit\n"
        "mcu-1,,capacitors,2.5,\n"
        "new-9,Widget,Passive  components,1,reel\n",
    )
    assert checked.errors == []
    assert checked.rows == [
        (2, "MCU-1", 1, None, 10, Decimal("2.5000"), None, None, None, None),
        (3, "NEW-9", None, "Widget", 11, Decimal("1.0000"), None, None, "reel", None),
    ]


def test_a_products_vat_class_is_read_and_checked():
    checked = run(
        "products",
        "sku,tax_class\nMCU-1,Reduced\nCAP-2,\nRES-3,super-reduced\n",
    )
    assert [row[-1] for row in checked.rows] == ["reduced", None]
    assert [(e["line"], e["column"]) for e in checked.errors] == [(4, "tax_class")]
    assert "standard, reduced or zero" in checked.errors[0]["message"]


def test_too_large_a_file_states_the_limit():
    checked = run("stock", "sku,stock\n" + "MCU-1,5\n" * 20, max_bytes=100)
    assert checked.fatal
    assert checked.errors[0]["message"].startswith("The file is larger than")


def test_too_many_lines_states_the_limit():
    lines = "".join(f"MCU-{i},5\n" for i in range(4))
    checked = run("stock", "sku,stock\n" + lines, max_lines=3)
    assert checked.fatal and checked.rows == []
    assert "more than 3 lines" in checked.errors[-1]["message"]


def test_a_quote_never_closed_stops_the_reading():
    data = 'sku,stock,reason\nMCU-1,5,"unclosed\n' + ("x" * 1000 + "\n") * 140 + "CAP-2,1,ok\n"
    checked = run("stock", data)
    assert checked.fatal and checked.rows == []
    assert "opened and never closed" in checked.errors[-1]["message"]
    assert checked.errors[-1]["line"] == 2


def test_every_error_is_counted_and_the_first_ones_kept():
    lines = "".join(f"MCU-1,bad{i}\n" for i in range(10))
    checked = run("stock", "sku,stock\n" + lines, max_errors=4)
    assert checked.error_count == 19  # 10 bad numbers and 9 repeated SKUs
    assert len(checked.errors) == 4
    assert [e["line"] for e in checked.errors] == [2, 3, 3, 4]


def test_progress_is_reported_every_n_lines():
    seen = []
    lines = "".join("MCU-1,5\n" for _ in range(10))
    imports.check(
        "stock",
        ("sku,stock\n" + lines).encode(),
        LOOKUPS,
        imports.Limits(progress_every=4),
        seen.append,
    )
    assert seen == [4, 8]


@pytest.mark.parametrize(
    ("index", "name"), [(0, "A"), (3, "D"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ")]
)
def test_spreadsheet_column_letters(index, name):
    assert imports.letter(index) == name
