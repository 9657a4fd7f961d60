"""Lines of SKU and quantity that people bring: files with a header row, and the checks
every such line shares.

A shared list's import and the quick order read the same files the same way: CSV
(UTF-8, cells separated by `;` or `,`, core.imports.reading.decode's checks) or, where
the caller allows it, an Excel workbook (.xlsx, its first sheet, read by openpyxl).
Each row comes with its line number as a spreadsheet shows it (the header is line 1),
so every problem is reported where the person will look for it.
"""

import csv
import io
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from sqlalchemy import func, select

from extensions import db

from . import i18n, numbers, orders
from .i18n import _
from .imports.reading import FileProblem, Limits, decode, megabytes
from .models import Product
from .visibility import Hidden

XLSX_MAGIC = b"PK\x03\x04"
XLSX_COLUMNS = 26  # cells read per row of a workbook: A to Z is more than any line needs
XLSX_INFLATION = 20  # a workbook's parts may unpack to this many times the file's limit
SKU_LENGTH = 64


# --- reading a file -------------------------------------------------------------------------


def _delimiter(header_line: str) -> str:
    """`;` or `,`, whichever separates the header's cells (spreadsheets in many European
    locales write `;`)."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _csv_rows(data: bytes, max_bytes: int) -> Iterator[tuple[int, list[str]]]:
    text = decode(data, Limits(max_bytes=max_bytes))  # refused here, before any row
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    return ((reader.line_num, row) for row in reader)


def cell_text(value) -> str:
    """A workbook cell as the text a person sees in it: 10, not 10.0; a date as a date."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _not_a_workbook() -> FileProblem:
    return FileProblem(
        None,
        _(
            "This file cannot be read as an Excel workbook (.xlsx). Save it from your "
            "spreadsheet as “Excel Workbook (.xlsx)” or as CSV UTF-8, and upload it again."
        ),
    )


def _xlsx_rows(data: bytes, max_bytes: int) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's rows, each with its row number, as text."""
    # openpyxl is imported here: only a workbook upload needs it.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if len(data) > max_bytes:
        raise FileProblem(
            None,
            _(
                "The file is larger than %(size)s: split it into smaller "
                "files and import them one after the other.",
                size=megabytes(max_bytes),
            ),
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _not_a_workbook() from None
    if unpacked > max_bytes * XLSX_INFLATION:
        # A small file that unpacks to gigabytes (a zip bomb) is refused unread.
        raise FileProblem(
            None,
            _(
                "The workbook holds more than %(size)s of data: keep only the lines to "
                "order in it, or save it as CSV.",
                size=megabytes(max_bytes * XLSX_INFLATION),
            ),
        )
    try:
        with warnings.catch_warnings():  # a workbook's oddities (no default style) are no error
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise _not_a_workbook() from None
    return _sheet_rows(book)


def _sheet_rows(book) -> Iterator[tuple[int, list[str]]]:
    try:
        if not book.worksheets:
            return
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(max_col=XLSX_COLUMNS, values_only=True)
        number = 0
        while True:
            with warnings.catch_warnings():  # only around openpyxl, never across a yield
                warnings.simplefilter("ignore")
                row = next(rows, None)
            if row is None:
                return
            number += 1
            yield number, [cell_text(v) for v in row]
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise _not_a_workbook() from None
    finally:
        book.close()


def read_rows(
    data: bytes, *, max_bytes: int, workbooks: bool = False
) -> Iterator[tuple[int, list[str]]]:
    """A file's rows with their line numbers: CSV, or an .xlsx workbook when `workbooks`
    (a CSV-only caller gets decode's clear refusal of a workbook). Raises FileProblem."""
    if workbooks and data.startswith(XLSX_MAGIC):
        return _xlsx_rows(data, max_bytes)
    return _csv_rows(data, max_bytes)


def header_columns(cells: Iterable[str]) -> dict[str, int]:
    """A header row's column names (any case, a byte-order mark ignored) -> index."""
    columns: dict[str, int] = {}
    for i, cell in enumerate(cells):
        columns.setdefault(cell.strip().lower().lstrip("\ufeff").strip(), i)
    return columns


def cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    """The text of a named column in a row ("" when the row is short of it)."""
    i = columns.get(name)
    return cells[i].strip() if i is not None and i < len(cells) else ""


def blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


# --- the checks every line shares -----------------------------------------------------------


def quantity(raw: str) -> int:
    """A quantity as typed: a whole number from 1 to the most a line may hold, else a
    NumberRefused that quotes it and says what to write."""
    message = _(
        "“%(value)s” is not a quantity: write a whole number from 1 to %(maximum)s.",
        value=(raw or "")[:20],
        maximum=i18n.number(orders.MAX_QUANTITY),
    )
    return numbers.whole(raw, minimum=1, maximum=orders.MAX_QUANTITY, message=message)


def sku_refusal(sku: str, product: Product | None, hidden: Hidden | None = None) -> str | None:
    """Why a typed SKU cannot be taken (None: it can): none typed, none such, not sold.

    A product hidden from the person's group (`hidden`, core.visibility) is refused in the
    very words of an unknown SKU, so that its existence does not show.
    """
    shown = (sku or "").strip()[:SKU_LENGTH]
    if not shown:
        return _("Enter a SKU.")
    if product is None or (hidden is not None and hidden.hides(product)):
        return _("There is no product with the SKU “%(sku)s”.", sku=shown)
    if product.is_archived:
        return _("%(sku)s is not sold any more.", sku=product.sku)
    return None


def products_by_sku(skus: Iterable[str]) -> dict[str, Product]:
    """The products typed SKUs name, sold or not, keyed by the SKU in upper case.

    Two statements at most: SKUs as typed and in upper case through the unique index
    (MariaDB compares without case anyway), then, for those still missing, any case.
    """
    wanted = {s.strip().upper(): s.strip() for s in skus if s and 0 < len(s.strip()) <= 64}
    if not wanted:
        return {}
    keys = sorted(set(wanted) | set(wanted.values()))
    found = {
        p.sku.upper(): p for p in db.session.scalars(select(Product).where(Product.sku.in_(keys)))
    }
    missing = sorted(set(wanted) - set(found))
    if missing:
        stmt = select(Product).where(func.upper(Product.sku).in_(missing))
        found.update({p.sku.upper(): p for p in db.session.scalars(stmt)})
    return found
