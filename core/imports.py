"""CSV imports of products, stock levels and group prices: every line checked, then applied whole.

The file is read and every line checked before anything changes. The report names each
wrong line as a spreadsheet numbers it (the header is line 1), its column and what to
do; the first errors are kept with the job and all of them are counted. Nothing is
applied while any line is wrong, unless the person chose to apply the valid lines. The
changes then go in one transaction: all of them, or none.

A job runs in a background thread (`start`), or in the caller's thread when `inline`
(tests). Its progress is kept on the ImportJob row, so any process can show it, and
each step records an `import_progress` event that the job page follows live.
"""

import codecs
import csv
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from extensions import db

from . import access, audit, events
from .errors import Refused
from .models import (
    Category,
    CustomerGroup,
    GroupPrice,
    ImportJob,
    Product,
    StockMovement,
    User,
    search_key_of,
    utcnow,
)
from .orders import is_deadlock
from .pagination import Page, paginate
from .products import DESCRIPTION_LENGTH, NAME_LENGTH, UNIT_LENGTH, clean_price, clean_sku
from .stock import MAX_STOCK

log = logging.getLogger("portal.imports")

BATCH = 1_000  # rows per executemany, and per progress step while applying
REASON_LENGTH = 500
FILENAME_LENGTH = 255
STALE_AFTER = timedelta(minutes=30)  # a job still "running" after this has died with its process
APPLY_ATTEMPTS = 3  # a deadlock with a concurrent order replays the whole apply
RUNNING = ("queued", "validating", "applying")


# --- what can be imported ----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column a kind of import understands."""

    name: str
    required: bool
    help: str
    costs: bool = False  # only for people who may see costs


@dataclass(frozen=True)
class Kind:
    """A kind of import: who may run it, its columns, and hints for columns of other kinds."""

    key: str
    label: str
    permission: str
    columns: tuple[Column, ...]
    hints: dict[str, str] = field(default_factory=dict)

    def columns_for(self, may_see_costs: bool) -> tuple[Column, ...]:
        """The columns this person may use (no cost column without `finance.costs`)."""
        return tuple(c for c in self.columns if may_see_costs or not c.costs)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


_PRODUCT_COLUMNS = ("name", "category", "base_price", "cost", "description", "unit")
KINDS: dict[str, Kind] = {
    "products": Kind(
        "products",
        "Products",
        "products.edit",
        (
            Column("sku", True, "Finds the product; a new SKU creates a product."),
            Column("name", False, "Needed for a new product; at most 200 characters."),
            Column("category", False, "A category's name or slug, such as capacitors."),
            Column("base_price", False, "Needed for a new product: 12.50 or 0.0125."),
            Column("cost", False, "What the product costs you; new products get 0.", costs=True),
            Column("description", False, "At most 5,000 characters."),
            Column("unit", False, "pcs, reel, m…; new products get pcs."),
        ),
        {
            "stock": "Stock is set by a stock-levels import (sku, stock, reason): "
            "remove this column here.",
            "group": "Group prices have their own import (sku, group, price).",
            "price": "Name the column base_price; group prices have their own import "
            "(sku, group, price).",
            "id": "Products are found by their SKU: remove the id column.",
            "specs": "Specifications are edited on the product page, not imported.",
        },
    ),
    "stock": Kind(
        "stock",
        "Stock levels",
        "stock.edit",
        (
            Column("sku", True, "The product whose stock was counted."),
            Column("stock", True, "The counted stock: a whole number from 0."),
            Column("reason", False, "Why, such as “stocktake May”; the file name otherwise."),
        ),
        {
            **dict.fromkeys(
                _PRODUCT_COLUMNS,
                "A stock-levels file sets stock only (sku, stock, reason): remove this column, "
                "or import it with products.",
            ),
            **dict.fromkeys(("quantity", "qty", "level", "counted"), "Name the column stock."),
        },
    ),
    "group_prices": Kind(
        "group_prices",
        "Group prices",
        "groups.edit",
        (
            Column("sku", True, "The product."),
            Column("group", True, "The customer group's name, such as Wholesale."),
            Column("price", True, "The group's price; an empty cell removes the group price."),
        ),
        {
            "base_price": "Base prices are set by a products import: remove this column.",
            "group_price": "Name the column price.",
            "customer_group": "Name the column group.",
            "name": "A group-prices file has the columns sku, group and price: remove this column.",
        },
    ),
}


def may_import(user: User | None, kind: str) -> bool:
    """May this person run this kind of import?"""
    return kind in KINDS and access.can(user, KINDS[kind].permission)


def kinds_for(user: User | None) -> list[Kind]:
    """The kinds of import this person may run."""
    return [k for k in KINDS.values() if access.can(user, k.permission)]


# --- limits, lookups and the result of checking a file ------------------------------------


@dataclass(frozen=True)
class Limits:
    """How much one file may hold, and how a running job reports."""

    max_bytes: int = 30 * 1024 * 1024
    max_lines: int = 200_000
    max_errors: int = 1_000  # kept with the job; every error is counted
    progress_every: int = 2_000  # lines between progress reports
    live_events: int = 200  # above this many changed products, one catalogue_changed signal


@dataclass
class Lookups:
    """What checking lines needs from the database, loaded once per file."""

    skus: dict[str, int]  # SKU in upper case -> product id
    categories: dict[str, tuple[int, ...]] = field(default_factory=dict)  # slug or name
    groups: dict[str, int] = field(default_factory=dict)  # casefolded name -> id
    group_names: tuple[str, ...] = ()
    may_see_costs: bool = False

    @classmethod
    def load(cls, kind: str, actor: User) -> "Lookups":
        """SKUs always; categories for products, groups for group prices."""
        skus = {
            sku.upper(): pid for pid, sku in db.session.execute(select(Product.id, Product.sku))
        }
        found = cls(skus=skus, may_see_costs=access.can(actor, "finance.costs"))
        if kind == "products":
            keys: dict[str, set[int]] = {}
            for cid, slug, name in db.session.execute(
                select(Category.id, Category.slug, Category.name)
            ):
                for key in {slug.casefold(), " ".join(name.split()).casefold()}:
                    keys.setdefault(key, set()).add(cid)
            found.categories = {key: tuple(sorted(ids)) for key, ids in keys.items()}
        if kind == "group_prices":
            rows = db.session.execute(
                select(CustomerGroup.id, CustomerGroup.name).order_by(CustomerGroup.name)
            ).all()
            found.groups = {name.casefold(): gid for gid, name in rows}
            found.group_names = tuple(name for _, name in rows)
        return found


@dataclass
class Checked:
    """What checking a file found: the valid lines, parsed, and every error."""

    max_errors: int = 1_000
    rows: list[tuple] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # the first max_errors, in line order
    error_count: int = 0
    bad_lines: int = 0
    lines: int = 0  # lines with content after the header
    fatal: bool = False  # the file itself is wrong: no line can be applied

    def add(self, line: int | None, column: str, message: str) -> None:
        """Count an error and keep it while there is room."""
        self.error_count += 1
        if len(self.errors) < self.max_errors:
            self.errors.append({"line": line, "column": column, "message": message})

    def stop(self, line: int | None, column: str, message: str) -> "Checked":
        """A problem with the whole file: nothing of it will be applied."""
        self.add(line, column, message)
        self.fatal = True
        self.rows = []
        return self


class FileProblem(Exception):
    """The file as a whole cannot be read as this kind of import."""

    def __init__(self, line: int | None, message: str, column: str = ""):
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


# --- reading the file -------------------------------------------------------------------------

_NOT_CSV = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"%PDF", "a PDF document"),
)
_SAVE_AS = "In your spreadsheet choose File › Save As › “CSV UTF-8 (Comma delimited)”"
_SEPARATORS = ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars"))


def megabytes(size: int) -> str:
    """A limit in bytes as people say it: 30 MB, 64 KB, 900 bytes."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):,.0f} MB"
    return f"{size / 1024:,.0f} KB" if size >= 1024 else f"{size:,} bytes"


def decode(data: bytes, limits: Limits) -> str:
    """The file as text: UTF-8, with or without a byte-order mark; anything else is refused."""
    if len(data) > limits.max_bytes:
        raise FileProblem(
            None,
            f"The file is larger than {megabytes(limits.max_bytes)}: split it into smaller "
            "files and import them one after the other.",
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem(1, f"The file is UTF-16 text, not UTF-8. {_SAVE_AS} and upload it again.")
    data = data.removeprefix(codecs.BOM_UTF8)
    if not data.strip():
        raise FileProblem(None, "The file is empty: there is nothing to import.")
    for magic, what in _NOT_CSV:
        if data.startswith(magic):
            raise FileProblem(None, f"This is {what}, not a CSV file. {_SAVE_AS} and upload that.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = ""
        try:
            data.decode("cp1252")
            hint = " It looks like a Windows (ANSI) file."
        except UnicodeDecodeError:
            pass
        raise FileProblem(
            line,
            f"The file is not UTF-8: byte 0x{data[exc.start]:02X} on line {line} cannot be "
            f"read.{hint} {_SAVE_AS} and upload it again.",
        ) from None
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")  # old Mac line ends: one per line, as csv reads them
    nul = text.find("\x00")
    if nul >= 0:
        raise FileProblem(
            text.count("\n", 0, nul) + 1,
            f"The file contains NUL characters: it is not plain CSV text (UTF-16, or a "
            f"binary file?). {_SAVE_AS} and upload it again.",
        )
    return text


def _physical_lines(text: str) -> Iterator[str]:
    """The text line by line, each with its newline, as the csv module wants them.

    Slices of the one string, not io.StringIO, which would hold a UCS-4 copy of it.
    """
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def letter(index: int) -> str:
    """A spreadsheet's column letter: 0 -> A, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def column_key(raw: str) -> str:
    """How a header cell is matched: "Base price", "base-price" and "BASE_PRICE" are one."""
    return "_".join(raw.strip().casefold().replace("-", " ").replace("_", " ").split())


def read_header(kind: Kind, cells: list[str], lookups: Lookups) -> dict[str, int]:
    """Column name -> index; every problem with the header is reported at once."""
    if len(cells) == 1:
        for separator, name in _SEPARATORS:
            if separator in cells[0]:
                raise FileProblem(
                    1,
                    f"The columns are separated by {name}, not commas. {_SAVE_AS}, or "
                    f"replace the {name} with commas.",
                )
    known = {c.name: c for c in kind.columns}
    index: dict[str, int] = {}
    problems: list[tuple[str, str]] = []
    unknown = 0
    for i, raw in enumerate(cells):
        key = column_key(raw)
        if not key:
            continue
        shown = raw.strip()[:40]
        if key in index:
            problems.append(
                (
                    shown,
                    f"The column “{shown}” appears twice (columns {letter(index[key])} and "
                    f"{letter(i)}): keep one.",
                )
            )
        elif key not in known:
            unknown += 1
            names = ", ".join(c.name for c in kind.columns_for(lookups.may_see_costs))
            hint = kind.hints.get(key) or f"A {kind.label.lower()} file has the columns {names}."
            problems.append((shown, f"Unknown column “{shown}”. {hint}"))
        elif known[key].costs and not lookups.may_see_costs:
            problems.append(
                (
                    key,
                    "The file has a cost column, but your role does not include costs and "
                    "margins: remove the column and upload the file again.",
                )
            )
        else:
            index[key] = i
    if unknown and unknown == len([c for c in cells if column_key(c)]):
        names = ",".join(kind.required)
        raise FileProblem(
            1,
            f"The first line must name the columns (for example {names}); this file has "
            "none that a "
            f"{kind.label.lower()} import knows. Does it start with data instead?",
        )
    reported = {column_key(p[0]) for p in problems}
    for name in kind.required:
        if name not in index and name not in reported:
            problems.append(
                (
                    name,
                    f"The column “{name}” is missing: a {kind.label.lower()} file needs "
                    f"{', '.join(kind.required)}.",
                )
            )
    if not problems and kind.key == "products" and set(index) == {"sku"}:
        problems.append(
            ("", "Besides sku, the file needs a column to set, such as name or base_price.")
        )
    if problems:
        raise HeaderProblems(problems)
    return index


class HeaderProblems(Exception):
    """Several problems with the header line, reported together."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(problems[0][1])
        self.problems = problems


# --- checking lines -------------------------------------------------------------------------


def _shown(value: str) -> str:
    """A cell quoted in a message: cut short, never echoed whole."""
    return value if len(value) <= 40 else value[:39] + "…"


def _price(value: str, label: str) -> Decimal:
    """clean_price's rules (core.products), with the cell quoted in the message."""
    try:
        return clean_price(value, label)
    except Refused as exc:
        raise Refused(f"{exc} Found “{_shown(value)}”.") from None


def _products_checker(index: dict[str, int], lookups: Lookups, checked: Checked):
    """Lines of a products file -> (line, sku, id or None, name, category id, base price,
    cost, description, unit), each None when the file leaves it as it is."""
    at = index.get
    i_sku, i_name, i_cat = index["sku"], at("name"), at("category")
    i_base, i_cost, i_desc, i_unit = at("base_price"), at("cost"), at("description"), at("unit")
    seen: dict[str, int] = {}

    def check(line: int, cells: list[str]) -> None:
        errors = checked.error_count
        raw = cells[i_sku].strip()
        sku = raw.upper()
        product_id = lookups.skus.get(sku)
        if not raw:
            checked.add(line, "sku", "Give the SKU.")
        elif product_id is None:
            try:
                sku = clean_sku(raw)
            except Refused as exc:
                checked.add(line, "sku", f"{exc} Found “{_shown(raw)}”.")
        if sku and sku in seen:
            checked.add(
                line, "sku", f"SKU {_shown(sku)} is already on line {seen[sku]}: one line per SKU."
            )
        elif sku:
            seen[sku] = line
        new = product_id is None

        name = None
        if i_name is not None and (value := cells[i_name]).strip():
            name = " ".join(value.split())
            if len(name) > NAME_LENGTH:
                checked.add(
                    line,
                    "name",
                    f"A name has at most {NAME_LENGTH} characters; this has {len(name)}.",
                )
        if new and name is None:
            checked.add(line, "name", "A new product needs a name.")

        category_id = None
        if i_cat is not None and (value := cells[i_cat].strip()):
            found = lookups.categories.get(" ".join(value.split()).casefold())
            if not found:
                checked.add(
                    line,
                    "category",
                    f"There is no category “{_shown(value)}”: use a category's name or slug.",
                )
            elif len(found) > 1:
                checked.add(
                    line, "category", f"“{_shown(value)}” names several categories: use the slug."
                )
            else:
                category_id = found[0]

        base_price = None
        if i_base is not None and (value := cells[i_base].strip()):
            try:
                base_price = _price(value, "The base price")
            except Refused as exc:
                checked.add(line, "base_price", str(exc))
        elif new:
            checked.add(line, "base_price", "A new product needs a base price.")

        cost = None
        if i_cost is not None and (value := cells[i_cost].strip()):
            try:
                cost = _price(value, "The cost")
            except Refused as exc:
                checked.add(line, "cost", str(exc))

        description = None
        if i_desc is not None and (value := cells[i_desc].strip()):
            description = value.replace("\r\n", "\n")
            if len(description) > DESCRIPTION_LENGTH:
                checked.add(
                    line,
                    "description",
                    f"A description has at most {DESCRIPTION_LENGTH:,} characters; "
                    f"this has {len(description):,}.",
                )

        unit = None
        if i_unit is not None and (value := cells[i_unit]).strip():
            unit = " ".join(value.split())
            if len(unit) > UNIT_LENGTH:
                checked.add(line, "unit", f"A unit has at most {UNIT_LENGTH} characters.")

        if checked.error_count == errors:
            checked.rows.append(
                (line, sku, product_id, name, category_id, base_price, cost, description, unit)
            )

    return check


def _product_of(lookups: Lookups, checked: Checked, line: int, raw: str) -> int | None:
    """The id of an existing product named by a SKU cell, or None with the error noted."""
    sku = raw.strip().upper()
    if not sku:
        checked.add(line, "sku", "Give the SKU.")
        return None
    product_id = lookups.skus.get(sku)
    if product_id is None:
        checked.add(line, "sku", f"There is no product with SKU {_shown(sku)}.")
    return product_id


def _stock_checker(index: dict[str, int], lookups: Lookups, checked: Checked):
    """Lines of a stock file -> (line, product id, counted stock, reason or None)."""
    i_sku, i_stock, i_reason = index["sku"], index["stock"], index.get("reason")
    seen: dict[int, int] = {}

    def check(line: int, cells: list[str]) -> None:
        errors = checked.error_count
        product_id = _product_of(lookups, checked, line, cells[i_sku])
        if product_id is not None:
            if product_id in seen:
                checked.add(
                    line,
                    "sku",
                    f"SKU {_shown(cells[i_sku].strip().upper())} is already on line "
                    f"{seen[product_id]}: one line per SKU.",
                )
            else:
                seen[product_id] = line
        value = cells[i_stock].strip()
        counted = None
        if not value:
            checked.add(line, "stock", "Give the counted stock: a whole number from 0.")
        else:
            try:
                number = Decimal(value)
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite() or number != number.to_integral_value():
                checked.add(
                    line,
                    "stock",
                    f"Stock must be a whole number, such as 120. Found “{_shown(value)}”.",
                )
            elif number < 0:
                checked.add(line, "stock", f"Stock cannot be negative. Found “{_shown(value)}”.")
            elif number > MAX_STOCK:
                checked.add(
                    line, "stock", f"Stock above {MAX_STOCK:,} is not plausible; check the number."
                )
            else:
                counted = int(number)
        reason = None
        if i_reason is not None and (raw := cells[i_reason]).strip():
            reason = " ".join(raw.split())
            if len(reason) > REASON_LENGTH:
                checked.add(line, "reason", f"A reason has at most {REASON_LENGTH} characters.")
        if checked.error_count == errors:
            checked.rows.append((line, product_id, counted, reason))

    return check


def _group_prices_checker(index: dict[str, int], lookups: Lookups, checked: Checked):
    """Lines of a group-prices file -> (line, product id, group id, price or None to remove)."""
    i_sku, i_group, i_price = index["sku"], index["group"], index["price"]
    seen: dict[tuple[int, int], int] = {}
    names = ", ".join(lookups.group_names)

    def check(line: int, cells: list[str]) -> None:
        errors = checked.error_count
        product_id = _product_of(lookups, checked, line, cells[i_sku])
        raw = " ".join(cells[i_group].split())
        group_id = None
        if not raw:
            checked.add(line, "group", f"Give the customer group: {names}.")
        else:
            group_id = lookups.groups.get(raw.casefold())
            if group_id is None:
                checked.add(
                    line,
                    "group",
                    f"There is no customer group “{_shown(raw)}”; the groups are {names}.",
                )
        if product_id is not None and group_id is not None:
            pair = (product_id, group_id)
            if pair in seen:
                checked.add(
                    line,
                    "sku",
                    f"The {_shown(raw)} price of {_shown(cells[i_sku].strip().upper())} is "
                    f"already on line {seen[pair]}: one line per product and group.",
                )
            else:
                seen[pair] = line
        value = cells[i_price].strip()
        price = None
        if value:
            try:
                price = _price(value, "The price")
            except Refused as exc:
                checked.add(line, "price", str(exc))
        if checked.error_count == errors:
            checked.rows.append((line, product_id, group_id, price))

    return check


CHECKERS = {
    "products": _products_checker,
    "stock": _stock_checker,
    "group_prices": _group_prices_checker,
}


def estimate_lines(data: bytes) -> int:
    """Lines after the header, counted cheaply (a cell may span lines: an upper bound)."""
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return max(0, lines - 1)


def check(
    kind_key: str,
    data: bytes,
    lookups: Lookups,
    limits: Limits = Limits(),
    progress: Callable[[int], None] | None = None,
) -> Checked:
    """Read and check every line of a file; nothing is written. `progress(lines)` is
    called every `limits.progress_every` lines."""
    kind = KINDS[kind_key]
    checked = Checked(max_errors=limits.max_errors)
    try:
        text = decode(data, limits)
    except FileProblem as exc:
        return checked.stop(exc.line, exc.column, exc.message)
    reader = csv.reader(_physical_lines(text), strict=True)
    try:
        header = next(reader, [])
        if not any(cell.strip() for cell in header):
            raise FileProblem(
                1,
                "The first line must name the columns (for example "
                f"{','.join(kind.required)}); it is empty.",
            )
        index = read_header(kind, header, lookups)
    except csv.Error:
        return checked.stop(1, "", "The first line cannot be read as CSV: check its quotes.")
    except FileProblem as exc:
        return checked.stop(exc.line, exc.column, exc.message)
    except HeaderProblems as exc:
        for column, message in exc.problems:
            checked.add(1, column, message)
        checked.fatal = True
        return checked

    width = len(header)
    unnamed = [i for i, cell in enumerate(header) if not column_key(cell)]
    check_line = CHECKERS[kind.key](index, lookups, checked)
    every = max(1, limits.progress_every)
    line = 1
    while True:
        line += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                return checked.stop(
                    line,
                    "",
                    f"A cell from line {line} on runs on for more than "
                    f'{csv.field_size_limit():,} characters: a quote (") opened and never '
                    "closed? Nothing after it can be read.",
                )
            checked.lines += 1
            checked.bad_lines += 1
            checked.add(
                line,
                "",
                "This line's quotes are not balanced: a cell with a quote (\") in it must be "
                'in quotes, with the quote doubled ("").',
            )
            continue
        if not any(cell.strip() for cell in cells):
            continue  # an empty row, as spreadsheets leave them
        if checked.lines >= limits.max_lines:
            return checked.stop(
                None,
                "",
                f"The file has more than {limits.max_lines:,} lines: split it into files of "
                f"at most {limits.max_lines:,} lines and import them one after the other.",
            )
        checked.lines += 1
        errors = checked.error_count
        if len(cells) > width:
            if any(cell.strip() for cell in cells[width:]):
                checked.add(
                    line,
                    "",
                    f"This line has {len(cells)} cells but the header names {width} columns: "
                    "a value with a comma in it must be in double quotes.",
                )
                checked.bad_lines += 1
                continue
            cells = cells[:width]
        elif len(cells) < width:
            cells = cells + [""] * (width - len(cells))  # trailing empty cells left out
        for i in unnamed:
            if cells[i].strip():
                checked.add(
                    line,
                    letter(i),
                    f"A value in column {letter(i)}, which has no name in the header: "
                    "name the column or empty it.",
                )
        if checked.error_count == errors:
            check_line(line, cells)
        if checked.error_count != errors:
            checked.bad_lines += 1
        if progress is not None and checked.lines % every == 0:
            progress(checked.lines)
    if checked.lines == 0:
        return checked.stop(None, "", "The file has a header but no lines to import.")
    return checked


# --- jobs ----------------------------------------------------------------------------------------


def clean_filename(raw: str | None) -> str:
    """The uploaded file's own name, without any folder, for the job's title."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:FILENAME_LENGTH] or "upload.csv"


def create_job(actor: User, kind: str, filename: str, *, apply_valid: bool) -> ImportJob:
    """A queued import of `kind` by `actor`; the caller commits, then calls start()."""
    if not may_import(actor, kind):
        raise Refused("Your role does not include this import.")
    job = ImportJob(
        kind=kind,
        user_id=actor.id,
        filename=clean_filename(filename),
        apply_valid=apply_valid,
        status="queued",
        errors=[],
    )
    db.session.add(job)
    db.session.flush()
    return job


def load_job(user: User | None, job_id: int) -> ImportJob | None:
    """One of this person's own imports, of a kind they may still run; else None (a 404)."""
    if user is None or not getattr(user, "id", None):
        return None
    job = db.session.scalar(
        select(ImportJob).where(ImportJob.id == job_id, ImportJob.user_id == user.id)
    )
    if job is None or not may_import(user, job.kind):
        return None
    return job


def recent_jobs(user: User, page: int, per_page: int = 20) -> Page:
    """This person's imports, newest first."""
    stmt = select(ImportJob).where(ImportJob.user_id == user.id)
    return paginate(stmt.order_by(ImportJob.created_at.desc(), ImportJob.id.desc()), page, per_page)


def error_page(job: ImportJob, page: int, per_page: int = 50) -> Page:
    """One page of the errors kept with the job."""
    kept = job.errors or []
    start = (page - 1) * per_page
    return Page(kept[start : start + per_page], len(kept), page, per_page)


@dataclass(frozen=True)
class Progress:
    """Where a job stands, as its page shows it."""

    state: str  # a status, or "stalled" for a job whose process died
    title: str
    detail: str
    percent: int | None  # None: under way, but how far cannot be told
    running: bool


TITLES = {
    "queued": "Waiting to start",
    "validating": "Checking lines",
    "applying": "Applying",
    "done": "Applied",
    "rejected": "Nothing applied",
    "failed": "Failed",
    "stalled": "Stopped",
}


def progress_of(job: ImportJob, now=None) -> Progress:
    """The job's state, a line about it, and how far along it is (0 to 100)."""
    now = now or utcnow()
    status = job.status
    if status in RUNNING and job.created_at and now - job.created_at > STALE_AFTER:
        return Progress(
            "stalled",
            TITLES["stalled"],
            "This import stopped before it finished (the server may have restarted). "
            "Nothing was applied: upload the file again.",
            0,
            False,
        )
    total = max(job.total_lines or 0, 1)
    if status == "queued":
        return Progress(status, TITLES[status], "The file is waiting to be read.", None, True)
    if status == "validating":
        done = job.processed_lines or 0
        percent = min(99, done * 100 // total)
        detail = f"Checked {done:,} of about {job.total_lines:,} lines."
        return Progress(status, TITLES[status], detail, percent, True)
    if status == "applying":
        # While applying, total_lines is the number of lines to apply.
        done = job.applied_lines or 0
        if not done:
            detail = f"Applying {job.total_lines:,} lines: nothing is final until all are."
            return Progress(status, TITLES[status], detail, None, True)
        detail = f"Applied {done:,} of {job.total_lines:,} lines: nothing is final until all are."
        return Progress(status, TITLES[status], detail, min(99, done * 100 // total), True)
    return Progress(status, TITLES[status], job.message or "", 100, False)


# --- running a job -------------------------------------------------------------------------------


class Reporter:
    """Writes a running job's progress in short transactions of its own, and tells the page.

    While applying on SQLite the applying transaction holds the database's only write
    lock, so progress is written only while checking there (the page says "Applying").
    """

    def __init__(self, job_id: int, every: int):
        self.job_id = job_id
        self.every = max(1, every)
        self.applied = 0
        self.live_apply = db.engine.dialect.name != "sqlite"

    def write(self, **values) -> None:
        """One progress step, committed apart from the import itself."""
        session = Session(db.engine)
        try:
            session.execute(
                update(ImportJob.__table__)
                .where(ImportJob.__table__.c.id == self.job_id)
                .values(**values)
            )
            events.record(session, "import_progress", self.job_id)
            session.commit()
        except Exception:  # progress is a courtesy: it must never fail the import
            session.rollback()
            log.warning("could not record the progress of import %s", self.job_id, exc_info=True)
        finally:
            session.close()
        time.sleep(0)  # under gevent, let the other greenlets (sockets) run

    def checking(self, total: int) -> None:
        """The check begins; `total` is the estimated number of lines."""
        self.write(status="validating", total_lines=total, processed_lines=0)

    def checked(self, lines: int) -> None:
        """`lines` lines checked so far."""
        self.write(processed_lines=lines)

    def applying(self, lines: int, total: int) -> None:
        """The check is over; the changes are about to be written (nothing written yet, so
        this step can be recorded on SQLite too)."""
        self.applied = 0
        self.write(status="applying", processed_lines=lines, total_lines=total, applied_lines=0)

    def step(self, count: int) -> None:
        """`count` more lines applied."""
        before = self.applied
        self.applied += count
        if self.live_apply and self.applied // self.every != before // self.every:
            self.write(applied_lines=self.applied)
        else:
            time.sleep(0)


_threads: dict[int, threading.Thread] = {}
_threads_lock = threading.Lock()


def start(app, job_id: int, data: bytes, limits: Limits, *, inline: bool = False) -> None:
    """Run a committed job: in a background thread with its own app context, or right here."""
    if inline:
        run(job_id, data, limits)
        return
    thread = threading.Thread(
        target=_run_in_context, args=(app, job_id, data, limits), name=f"import-{job_id}"
    )
    thread.daemon = True  # an interrupted import applies nothing: its transaction never commits
    with _threads_lock:
        _threads[job_id] = thread
    thread.start()


def _run_in_context(app, job_id: int, data: bytes, limits: Limits) -> None:
    try:
        with app.app_context():
            run(job_id, data, limits)
    finally:
        with _threads_lock:
            _threads.pop(job_id, None)


def wait(job_id: int, timeout: float | None = None) -> bool:
    """Until a job started in this process has finished; False if it is still running."""
    with _threads_lock:
        thread = _threads.get(job_id)
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()


def run(job_id: int, data: bytes, limits: Limits) -> None:
    """Check the file, then apply it or reject it; the job row says how it went."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status not in RUNNING:
        return
    actor = db.session.get(User, job.user_id) if job.user_id else None
    if actor is not None:
        actor.__dict__.pop("_permissions", None)  # rights as they are now, not when it was queued
    kind = KINDS[job.kind]
    reporter = Reporter(job_id, limits.progress_every)
    try:
        if actor is None or not may_import(actor, job.kind):
            checked = Checked().stop(None, "", "Your role no longer includes this import.")
        else:
            lookups = Lookups.load(job.kind, actor)
            db.session.commit()  # end the reading transaction before the long check
            reporter.checking(estimate_lines(data))
            checked = check(job.kind, data, lookups, limits, progress=reporter.checked)
        job = _fresh_job(job_id)
        if checked.fatal or not checked.rows or (checked.error_count and not job.apply_valid):
            _reject(job, actor, kind, checked)
            db.session.commit()
            return
        _apply_retrying(job_id, actor, kind, checked, reporter, limits)
    except Exception:
        db.session.rollback()
        log.exception("import %s failed", job_id)
        _fail(job_id, "The import stopped on an unexpected error. Nothing was applied.")


def _fresh_job(job_id: int) -> ImportJob:
    """The job as the progress steps (other transactions) left it: a stale copy would take
    a final value equal to what it last saw for no change, and skip writing it."""
    return db.session.get(ImportJob, job_id, populate_existing=True)


class Changed(Exception):
    """The catalogue changed between checking and applying: a line no longer fits."""


def _apply_retrying(job_id, actor, kind, checked, reporter, limits) -> None:
    """Apply in one transaction; a deadlock with a concurrent order replays it."""
    for attempt in range(1, APPLY_ATTEMPTS + 1):
        try:
            reporter.applying(checked.lines, len(checked.rows))
            job = _fresh_job(job_id)
            counts = APPLIERS[kind.key](job, actor, checked.rows, reporter, limits)
            _finish(job, actor, kind, checked, counts)
            db.session.commit()
            return
        except OperationalError as exc:
            db.session.rollback()
            if not is_deadlock(exc) or attempt == APPLY_ATTEMPTS:
                raise
            log.warning("import %s deadlocked, applying again (attempt %d)", job_id, attempt)
        except (Changed, IntegrityError) as exc:
            db.session.rollback()
            detail = str(exc) if isinstance(exc, Changed) else ""
            _fail(
                job_id,
                "Someone changed the catalogue while the import ran"
                + (f" ({detail})" if detail else "")
                + ". Nothing was applied: upload the file again.",
            )
            return


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{value:,} {name}" for name, value in counts.items() if value)


def _record_errors(job: ImportJob, checked: Checked) -> None:
    job.total_lines = checked.lines
    job.processed_lines = checked.lines
    job.error_count = checked.error_count
    job.errors = checked.errors
    job.finished_at = utcnow()


def _reject(job: ImportJob, actor: User | None, kind: Kind, checked: Checked) -> None:
    """Nothing applied: say why, keep the errors, audit it, tell the page."""
    _record_errors(job, checked)
    job.status = "rejected"
    job.applied_lines = 0
    if checked.fatal:
        job.message = "Nothing was applied: " + checked.errors[0]["message"]
    elif not checked.rows:
        job.message = (
            f"Nothing was applied: every line has errors ({_plural(checked.bad_lines, 'line')})."
        )
    else:
        job.message = (
            f"Nothing was applied: {checked.bad_lines:,} of {_plural(checked.lines, 'line')} "
            "have errors. Correct them and upload the file again, or tick “Apply the valid "
            "lines” to leave them out."
        )
    audit.record(
        "import.rejected",
        actor=actor,
        target=job,
        summary=f"{kind.label} import {job.filename} rejected: {checked.bad_lines:,} of "
        f"{_plural(checked.lines, 'line')} wrong"
        if not checked.fatal
        else f"{kind.label} import {job.filename} rejected: the file cannot be read",
        after={
            "kind": job.kind,
            "file": job.filename,
            "lines": checked.lines,
            "wrong_lines": checked.bad_lines,
            "errors": checked.error_count,
        },
    )
    events.record(db.session, "import_progress", job.id)


def _finish(job: ImportJob, actor: User, kind: Kind, checked: Checked, counts: dict) -> None:
    """Applied: the job's counts and message, the audit entry and the event, in the same
    transaction as the changes."""
    _record_errors(job, checked)
    job.status = "done"
    job.applied_lines = len(checked.rows)
    job.message = f"{_plural(len(checked.rows), 'line')} applied: {_summary(counts)}."
    if checked.bad_lines:
        job.message += f" {_plural(checked.bad_lines, 'line')} with errors left out."
    audit.record(
        "import.applied",
        actor=actor,
        target=job,
        summary=f"{kind.label} import {job.filename}: {_plural(len(checked.rows), 'line')} "
        f"applied" + (f", {checked.bad_lines:,} left out" if checked.bad_lines else ""),
        after={
            "kind": job.kind,
            "file": job.filename,
            "lines": checked.lines,
            "applied": len(checked.rows),
            "wrong_lines": checked.bad_lines,
            **counts,
        },
    )
    events.record(db.session, "import_progress", job.id)


def _fail(job_id: int, message: str) -> None:
    """The import could not finish: nothing of it was applied; record that and say so."""
    try:
        job = _fresh_job(job_id)
        job.status = "failed"
        job.message = message
        job.finished_at = utcnow()
        events.record(db.session, "import_progress", job_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("could not record the failure of import %s", job_id)


def _chunks(items: list, size: int = BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _large(count: int, limits: Limits) -> bool:
    """Too many changed products for one event each: open pages get one signal instead."""
    return count > limits.live_events


def _announce(changes: dict[str, set[int]], count: int, limits: Limits) -> None:
    """Per-product events for a modest import; one bounded signal for a large one."""
    if not count:
        return
    if _large(count, limits):
        events.record(db.session, "catalogue_changed")
        return
    for topic, ids in changes.items():
        for product_id in sorted(ids):
            events.record(db.session, topic, product_id)


def _new_product(row: tuple, now) -> dict:
    """The columns of a product a line creates (Core insert: search_key is set here)."""
    _line, sku, _id, name, category_id, base, cost, description, unit = row
    return {
        "sku": sku,
        "name": name,
        "description": description or "",
        "category_id": category_id,
        "base_price": base,
        "cost": cost if cost is not None else Decimal(0),
        "stock": 0,
        "unit": unit or "pcs",
        "specs": {},
        "is_archived": False,
        "search_key": search_key_of(sku, name),
        "created_at": now,
        "updated_at": now,
    }


_UPDATED = ("name", "category_id", "base_price", "cost", "description", "unit")


def _apply_products(job, actor, rows, reporter: Reporter, limits: Limits) -> dict[str, int]:
    """Create new SKUs, update existing ones where a value changes; costs stay unless given."""
    table = Product.__table__
    now = utcnow()
    creating = [row for row in rows if row[2] is None]
    for chunk in _chunks(creating):
        # Rows are built a batch at a time: 100,000 dicts at once would double the memory.
        db.session.execute(insert(table), [_new_product(row, now) for row in chunk])
        reporter.step(len(chunk))
    # Existing products in id order, as orders lock them: the two never wait in a circle.
    existing = sorted((row for row in rows if row[2] is not None), key=lambda row: row[2])
    statement = update(table).where(table.c.id == bindparam("_id"))
    priced, changed = set(), set()
    for chunk in _chunks(existing):
        current = {
            found.id: found
            for found in db.session.execute(
                select(table.c.id, *(table.c[name] for name in _UPDATED)).where(
                    table.c.id.in_([row[2] for row in chunk])
                )
            )
        }
        values = []
        for _line, sku, product_id, *given in chunk:
            old = current.get(product_id)
            if old is None:
                raise Changed(f"{sku} was deleted")
            new = {
                name: value if value is not None else getattr(old, name)
                for name, value in zip(_UPDATED, given, strict=True)
            }
            if all(new[name] == getattr(old, name) for name in _UPDATED):
                continue
            (priced if new["base_price"] != old.base_price else changed).add(product_id)
            values.append(
                {
                    "_id": product_id,
                    **new,
                    "search_key": search_key_of(sku, new["name"]),
                    "updated_at": now,
                }
            )
        if values:
            db.session.execute(statement, values)
        reporter.step(len(chunk))
    updated = len(priced) + len(changed)
    count = len(creating) + updated
    created: set[int] = set()
    if creating and not _large(count, limits):
        skus = [row[1] for row in creating]
        created = set(db.session.scalars(select(table.c.id).where(table.c.sku.in_(skus))))
    _announce(
        {"product_created": created, "price_changed": priced, "product_changed": changed},
        count,
        limits,
    )
    return {
        "created": len(creating),
        "updated": updated,
        "unchanged": len(existing) - updated,
    }


def _apply_stock(job, actor, rows, reporter: Reporter, limits: Limits) -> dict[str, int]:
    """Set each product's stock to the counted level, with a movement saying who and why."""
    table = Product.__table__
    now = utcnow()
    levels: dict[int, int] = {}
    ids = sorted({row[1] for row in rows})
    for chunk in _chunks(ids):
        # Locked in id order, as orders lock them: counted levels are not overtaken.
        for product_id, level in db.session.execute(
            select(table.c.id, table.c.stock)
            .where(table.c.id.in_(chunk))
            .order_by(table.c.id)
            .with_for_update()
        ):
            levels[product_id] = level
    default_reason = f"Stock import {job.filename}"[:REASON_LENGTH]
    updates, movements = [], []
    for _line, product_id, counted, reason in rows:
        before = levels.get(product_id)
        if before is None:
            raise Changed("a product was deleted")
        if before == counted:
            continue
        updates.append({"_id": product_id, "stock": counted, "updated_at": now})
        movements.append(
            {
                "product_id": product_id,
                "kind": "import",
                "delta": counted - before,
                "stock_before": before,
                "stock_after": counted,
                "reason": reason or default_reason,
                "user_id": actor.id,
                "order_id": None,
                "created_at": now,
            }
        )
    updates.sort(key=lambda u: u["_id"])
    statement = update(table).where(table.c.id == bindparam("_id"))
    for chunk in _chunks(updates):
        db.session.execute(statement, chunk)
        reporter.step(len(chunk))
    for chunk in _chunks(movements):
        db.session.execute(insert(StockMovement.__table__), chunk)
    reporter.step(len(rows) - len(updates))
    _announce({"stock_changed": {u["_id"] for u in updates}}, len(updates), limits)
    return {"changed": len(updates), "unchanged": len(rows) - len(updates)}


def _apply_group_prices(job, actor, rows, reporter: Reporter, limits: Limits) -> dict[str, int]:
    """Add, change or remove each group price; an empty price removes it."""
    table = GroupPrice.__table__
    now = utcnow()
    existing: dict[tuple[int, int], tuple[int, Decimal]] = {}
    for chunk in _chunks(sorted({row[1] for row in rows})):
        for price_id, group_id, product_id, price in db.session.execute(
            select(table.c.id, table.c.group_id, table.c.product_id, table.c.price).where(
                table.c.product_id.in_(chunk)
            )
        ):
            existing[(group_id, product_id)] = (price_id, price)
    inserts, updates, deletes = [], [], []
    touched: set[int] = set()
    for _line, product_id, group_id, price in rows:
        current = existing.get((group_id, product_id))
        if price is None:
            if current is not None:
                deletes.append({"_id": current[0]})
                touched.add(product_id)
        elif current is None:
            inserts.append(
                {"group_id": group_id, "product_id": product_id, "price": price, "updated_at": now}
            )
            touched.add(product_id)
        elif current[1] != price:
            updates.append({"_id": current[0], "price": price, "updated_at": now})
            touched.add(product_id)
    for chunk in _chunks(inserts):
        db.session.execute(insert(table), chunk)
        reporter.step(len(chunk))
    updates.sort(key=lambda u: u["_id"])
    for chunk in _chunks(updates):
        db.session.execute(update(table).where(table.c.id == bindparam("_id")), chunk)
        reporter.step(len(chunk))
    for chunk in _chunks(deletes):
        db.session.execute(delete(table).where(table.c.id == bindparam("_id")), chunk)
        reporter.step(len(chunk))
    unchanged = len(rows) - len(inserts) - len(updates) - len(deletes)
    reporter.step(unchanged)
    _announce({"price_changed": touched}, len(touched), limits)
    return {
        "added": len(inserts),
        "changed": len(updates),
        "removed": len(deletes),
        "unchanged": unchanged,
    }


APPLIERS = {
    "products": _apply_products,
    "stock": _apply_stock,
    "group_prices": _apply_group_prices,
}


def template_header(kind: str, may_see_costs: bool) -> list[str]:
    """The columns of an empty file to fill in, for this person."""
    return [c.name for c in KINDS[kind].columns_for(may_see_costs)]
