"""Checking lines: every line of a file read, checked and parsed; nothing is written."""

import csv
import re
from collections.abc import Callable
from decimal import Decimal

from .. import i18n, numbers, tax
from ..errors import Refused
from ..i18n import _
from ..products import (
    DESCRIPTION_LENGTH,
    NAME_LENGTH,
    UNIT_LENGTH,
    clean_breaks,
    clean_price,
    clean_sku,
)
from ..stock import MAX_STOCK
from .kinds import KINDS
from .reading import (
    Checked,
    FileProblem,
    HeaderProblems,
    Limits,
    Lookups,
    _physical_lines,
    column_key,
    decode,
    letter,
    read_header,
)

REASON_LENGTH = 500
# Stock cells are read within these bounds first (what lies beyond is not plausible).
_STOCK_READ = Decimal(10**12)


def _shown(value: str) -> str:
    """A cell quoted in a message: cut short, never echoed whole."""
    return value if len(value) <= 40 else value[:39] + "…"


def _found(message, value: str):
    """A message about a cell, with the cell quoted after it."""
    return _("%(text)s Found “%(value)s”.", text=message, value=_shown(value))


def _price(value: str, label) -> Decimal:
    """clean_price's rules (core.products), with the cell quoted in the message."""
    try:
        return clean_price(value, label)
    except Refused as exc:
        raise Refused(_found(str(exc), value)) from None


def _products_checker(index: dict[str, int], lookups: Lookups, checked: Checked):
    """Lines of a products file -> (line, sku, id or None, name, category id, base price,
    cost, description, unit, tax class), each None when the file leaves it as it is."""
    at = index.get
    i_sku, i_name, i_cat = index["sku"], at("name"), at("category")
    i_base, i_cost, i_desc, i_unit = at("base_price"), at("cost"), at("description"), at("unit")
    i_tax = at("tax_class")
    seen: dict[str, int] = {}

    def check(line: int, cells: list[str]) -> None:
        errors = checked.error_count
        raw = cells[i_sku].strip()
        sku = raw.upper()
        product_id = lookups.skus.get(sku)
        if not raw:
            checked.add(line, "sku", _("Give the SKU."))
        elif product_id is None:
            try:
                sku = clean_sku(raw)
            except Refused as exc:
                checked.add(line, "sku", _found(str(exc), raw))
        if sku and sku in seen:
            checked.add(
                line,
                "sku",
                _(
                    "SKU %(sku)s is already on line %(line)s: one line per SKU.",
                    sku=_shown(sku),
                    line=seen[sku],
                ),
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
                    _(
                        "A name has at most %(maximum)s characters; this has %(length)s.",
                        maximum=NAME_LENGTH,
                        length=len(name),
                    ),
                )
        if new and name is None:
            checked.add(line, "name", _("A new product needs a name."))

        category_id = None
        if i_cat is not None and (value := cells[i_cat].strip()):
            found = lookups.categories.get(" ".join(value.split()).casefold())
            if not found:
                checked.add(
                    line,
                    "category",
                    _(
                        "There is no category “%(value)s”: use a category's name or slug.",
                        value=_shown(value),
                    ),
                )
            elif len(found) > 1:
                checked.add(
                    line,
                    "category",
                    _("“%(value)s” names several categories: use the slug.", value=_shown(value)),
                )
            else:
                category_id = found[0]

        base_price = None
        if i_base is not None and (value := cells[i_base].strip()):
            try:
                base_price = _price(value, _("The base price"))
            except Refused as exc:
                checked.add(line, "base_price", str(exc))
        elif new:
            checked.add(line, "base_price", _("A new product needs a base price."))

        cost = None
        if i_cost is not None and (value := cells[i_cost].strip()):
            try:
                cost = _price(value, _("The cost"))
            except Refused as exc:
                checked.add(line, "cost", str(exc))

        description = None
        if i_desc is not None and (value := cells[i_desc].strip()):
            description = value.replace("\r\n", "\n")
            if len(description) > DESCRIPTION_LENGTH:
                checked.add(
                    line,
                    "description",
                    _(
                        "A description has at most %(maximum)s characters; this has %(length)s.",
                        maximum=i18n.format_number(DESCRIPTION_LENGTH),
                        length=i18n.format_number(len(description)),
                    ),
                )

        unit = None
        if i_unit is not None and (value := cells[i_unit]).strip():
            unit = " ".join(value.split())
            if len(unit) > UNIT_LENGTH:
                checked.add(
                    line,
                    "unit",
                    _("A unit has at most %(maximum)s characters.", maximum=UNIT_LENGTH),
                )

        tax_class = None
        if i_tax is not None and (value := cells[i_tax].strip()):
            tax_class = value.lower()
            if tax_class not in tax.TAX_CLASSES:
                checked.add(
                    line,
                    "tax_class",
                    _(
                        "The VAT class is standard, reduced or zero, not “%(value)s”.",
                        value=_shown(value),
                    ),
                )

        if checked.error_count == errors:
            checked.rows.append(
                (
                    line,
                    sku,
                    product_id,
                    name,
                    category_id,
                    base_price,
                    cost,
                    description,
                    unit,
                    tax_class,
                )
            )

    return check


def _product_of(lookups: Lookups, checked: Checked, line: int, raw: str) -> int | None:
    """The id of an existing product named by a SKU cell, or None with the error noted."""
    sku = raw.strip().upper()
    if not sku:
        checked.add(line, "sku", _("Give the SKU."))
        return None
    product_id = lookups.skus.get(sku)
    if product_id is None:
        checked.add(line, "sku", _("There is no product with SKU %(sku)s.", sku=_shown(sku)))
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
                    _(
                        "SKU %(sku)s is already on line %(line)s: one line per SKU.",
                        sku=_shown(cells[i_sku].strip().upper()),
                        line=seen[product_id],
                    ),
                )
            else:
                seen[product_id] = line
        value = cells[i_stock].strip()
        counted = None
        if not value:
            checked.add(line, "stock", _("Give the counted stock: a whole number from 0."))
        else:
            whole = _found(_("Stock must be a whole number, such as 120."), value)
            implausible = _(
                "Stock above %(maximum)s is not plausible; check the number.",
                maximum=i18n.number(MAX_STOCK),
            )
            try:  # "5.0" is how some spreadsheets write 5
                number = numbers.decimal(
                    value,
                    label=_("Stock"),
                    places=0,
                    minimum=-_STOCK_READ,
                    maximum=_STOCK_READ,
                    not_a_number=whole,
                    out_of_range=implausible,
                    too_precise=whole,
                )
            except numbers.NumberRefused as exc:
                checked.add(line, "stock", str(exc))
            else:
                if number < 0:
                    checked.add(line, "stock", _found(_("Stock cannot be negative."), value))
                elif number > MAX_STOCK:
                    checked.add(line, "stock", implausible)
                else:
                    counted = int(number)
        reason = None
        if i_reason is not None and (raw := cells[i_reason]).strip():
            reason = " ".join(raw.split())
            if len(reason) > REASON_LENGTH:
                checked.add(
                    line,
                    "reason",
                    _("A reason has at most %(maximum)s characters.", maximum=REASON_LENGTH),
                )
        if checked.error_count == errors:
            checked.rows.append((line, product_id, counted, reason))

    return check


BREAK_SEPARATORS = re.compile(r"[\s;|]+")


def parse_breaks(cell: str) -> list[tuple[int, Decimal]]:
    """A breaks cell, "10:5.00 100:4.80" (quantity, colon, price; items apart by spaces,
    ";" or "|"), as core.products.clean_breaks takes them; Refused says what is wrong."""
    rows = []
    for item in BREAK_SEPARATORS.split(cell.strip()):
        if not item:
            continue
        quantity, colon, price = item.partition(":")
        if not colon:
            quantity, colon, price = item.partition("=")
        if not colon or not quantity or not price:
            raise Refused(
                _(
                    "Write each break as quantity:price, such as 10:5.00, apart by spaces "
                    "(not %(typed)s).",
                    typed=_shown(item),
                )
            )
        rows.append((quantity, price))
    return clean_breaks(rows)


def _group_prices_checker(index: dict[str, int], lookups: Lookups, checked: Checked):
    """Lines of a group-prices file -> (line, product id, group id, price or None to remove,
    breaks: None to leave them (no breaks column), else the group's breaks to keep)."""
    i_sku, i_group, i_price = index["sku"], index["group"], index["price"]
    i_breaks = index.get("breaks")
    seen: dict[tuple[int, int], int] = {}
    names = ", ".join(lookups.group_names)

    def check(line: int, cells: list[str]) -> None:
        errors = checked.error_count
        product_id = _product_of(lookups, checked, line, cells[i_sku])
        raw = " ".join(cells[i_group].split())
        group_id = None
        if not raw:
            checked.add(line, "group", _("Give the customer group: %(names)s.", names=names))
        else:
            group_id = lookups.groups.get(raw.casefold())
            if group_id is None:
                checked.add(
                    line,
                    "group",
                    _(
                        "There is no customer group “%(group)s”; the groups are %(names)s.",
                        group=_shown(raw),
                        names=names,
                    ),
                )
        if product_id is not None and group_id is not None:
            pair = (product_id, group_id)
            if pair in seen:
                checked.add(
                    line,
                    "sku",
                    _(
                        "The %(group)s price of %(sku)s is already on line %(line)s: "
                        "one line per product and group.",
                        group=_shown(raw),
                        sku=_shown(cells[i_sku].strip().upper()),
                        line=seen[pair],
                    ),
                )
            else:
                seen[pair] = line
        value = cells[i_price].strip()
        price = None
        if value:
            try:
                price = _price(value, _("The price"))
            except Refused as exc:
                checked.add(line, "price", str(exc))
        breaks = None
        if i_breaks is not None:
            cell = cells[i_breaks].strip()
            try:
                breaks = parse_breaks(cell) if cell else []
            except Refused as exc:
                checked.add(line, "breaks", str(exc))
            if breaks and not value:
                checked.add(
                    line,
                    "breaks",
                    _("Breaks go with a group price: give the price, or clear the breaks."),
                )
        if checked.error_count == errors:
            checked.rows.append((line, product_id, group_id, price, breaks))

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
                _(
                    "The first line must name the columns (for example %(names)s); it is empty.",
                    names=",".join(kind.required),
                ),
            )
        index = read_header(kind, header, lookups)
    except csv.Error:
        return checked.stop(1, "", _("The first line cannot be read as CSV: check its quotes."))
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
                    _(
                        "A cell from line %(line)s on runs on for more than %(maximum)s "
                        'characters: a quote (") opened and never closed? Nothing after it '
                        "can be read.",
                        line=line,
                        maximum=i18n.format_number(csv.field_size_limit()),
                    ),
                )
            checked.lines += 1
            checked.bad_lines += 1
            checked.add(
                line,
                "",
                _(
                    "This line's quotes are not balanced: a cell with a quote (\") in it must "
                    'be in quotes, with the quote doubled ("").'
                ),
            )
            continue
        if not any(cell.strip() for cell in cells):
            continue  # an empty row, as spreadsheets leave them
        if checked.lines >= limits.max_lines:
            return checked.stop(
                None,
                "",
                _(
                    "The file has more than %(maximum)s lines: split it into files of "
                    "at most %(maximum)s lines and import them one after the other.",
                    maximum=i18n.format_number(limits.max_lines),
                ),
            )
        checked.lines += 1
        errors = checked.error_count
        if len(cells) > width:
            if any(cell.strip() for cell in cells[width:]):
                checked.add(
                    line,
                    "",
                    _(
                        "This line has %(cells)s cells but the header names %(width)s columns: "
                        "a value with a comma in it must be in double quotes.",
                        cells=len(cells),
                        width=width,
                    ),
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
                    _(
                        "A value in column %(column)s, which has no name in the header: "
                        "name the column or empty it.",
                        column=letter(i),
                    ),
                )
        if checked.error_count == errors:
            check_line(line, cells)
        if checked.error_count != errors:
            checked.bad_lines += 1
        if progress is not None and checked.lines % every == 0:
            progress(checked.lines)
    if checked.lines == 0:
        return checked.stop(None, "", _("The file has a header but no lines to import."))
    return checked
