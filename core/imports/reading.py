"""Limits, lookups and the result of checking a file; reading the file and its header."""

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from extensions import db

from .. import access, i18n
from ..i18n import _, ngettext
from ..models import Category, CustomerGroup, Product, User
from .kinds import Kind

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
            found.group_names = tuple(name for __, name in rows)
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

    def add(self, line: int | None, column: str, message) -> None:
        """Count an error and keep it while there is room (its text, as read now: the
        report is kept in the language of the person who imports)."""
        self.error_count += 1
        if len(self.errors) < self.max_errors:
            self.errors.append({"line": line, "column": column, "message": str(message)})

    def stop(self, line: int | None, column: str, message) -> "Checked":
        """A problem with the whole file: nothing of it will be applied."""
        self.add(line, column, message)
        self.fatal = True
        self.rows = []
        return self


class FileProblem(Exception):
    """The file as a whole cannot be read as this kind of import."""

    def __init__(self, line: int | None, message, column: str = ""):
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


# --- reading the file -------------------------------------------------------------------------

_NOT_CSV = (
    (b"PK\x03\x04", _("an Excel workbook (.xlsx) or another zip file")),
    (b"\xd0\xcf\x11\xe0", _("an old Excel workbook (.xls)")),
    (b"%PDF", _("a PDF document")),
)
_SAVE_AS = _("In your spreadsheet choose File › Save As › “CSV UTF-8 (Comma delimited)”")
_SEPARATORS = ((";", _("semicolons")), ("\t", _("tabs")), ("|", _("vertical bars")))


def megabytes(size: int) -> str:
    """A limit in bytes as people say it: 30 MB, 64 KB, 900 bytes (in the reader's
    language and number format)."""
    if size >= 1024 * 1024:
        return str(_("%(size)s MB", size=i18n.format_number(round(size / (1024 * 1024)))))
    if size >= 1024:
        return str(_("%(size)s KB", size=i18n.format_number(round(size / 1024))))
    return str(ngettext("%(size)s byte", "%(size)s bytes", size, size=i18n.format_number(size)))


def decode(data: bytes, limits: Limits) -> str:
    """The file as text: UTF-8, with or without a byte-order mark; anything else is refused."""
    if len(data) > limits.max_bytes:
        raise FileProblem(
            None,
            _(
                "The file is larger than %(size)s: split it into smaller "
                "files and import them one after the other.",
                size=megabytes(limits.max_bytes),
            ),
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem(
            1,
            _(
                "The file is UTF-16 text, not UTF-8. %(save_as)s and upload it again.",
                save_as=_SAVE_AS,
            ),
        )
    data = data.removeprefix(codecs.BOM_UTF8)
    if not data.strip():
        raise FileProblem(None, _("The file is empty: there is nothing to import."))
    for magic, what in _NOT_CSV:
        if data.startswith(magic):
            raise FileProblem(
                None,
                _(
                    "This is %(what)s, not a CSV file. %(save_as)s and upload that.",
                    what=what,
                    save_as=_SAVE_AS,
                ),
            )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        try:
            data.decode("cp1252")
            windows = True
        except UnicodeDecodeError:
            windows = False
        values = {"byte": f"0x{data[exc.start]:02X}", "line": line, "save_as": _SAVE_AS}
        raise FileProblem(
            line,
            _(
                "The file is not UTF-8: byte %(byte)s on line %(line)s cannot be read. "
                "It looks like a Windows (ANSI) file. %(save_as)s and upload it again.",
                **values,
            )
            if windows
            else _(
                "The file is not UTF-8: byte %(byte)s on line %(line)s cannot be read. "
                "%(save_as)s and upload it again.",
                **values,
            ),
        ) from None
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")  # old Mac line ends: one per line, as csv reads them
    nul = text.find("\x00")
    if nul >= 0:
        raise FileProblem(
            text.count("\n", 0, nul) + 1,
            _(
                "The file contains NUL characters: it is not plain CSV text (UTF-16, or a "
                "binary file?). %(save_as)s and upload it again.",
                save_as=_SAVE_AS,
            ),
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
                    _(
                        "The columns are separated by %(name)s, not commas. %(save_as)s, or "
                        "replace the %(name)s with commas.",
                        name=name,
                        save_as=_SAVE_AS,
                    ),
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
                    _(
                        "The column “%(name)s” appears twice (columns %(first)s and "
                        "%(second)s): keep one.",
                        name=shown,
                        first=letter(index[key]),
                        second=letter(i),
                    ),
                )
            )
        elif key not in known:
            unknown += 1
            names = ", ".join(c.name for c in kind.columns_for(lookups.may_see_costs))
            hint = kind.hints.get(key) or _(
                "A %(kind)s file has the columns %(names)s.",
                kind=str(kind.title).lower(),
                names=names,
            )
            problems.append(
                (shown, _("Unknown column “%(name)s”. %(hint)s", name=shown, hint=hint))
            )
        elif known[key].costs and not lookups.may_see_costs:
            problems.append(
                (
                    key,
                    _(
                        "The file has a cost column, but your role does not include costs and "
                        "margins: remove the column and upload the file again."
                    ),
                )
            )
        else:
            index[key] = i
    if unknown and unknown == len([c for c in cells if column_key(c)]):
        names = ",".join(kind.required)
        raise FileProblem(
            1,
            _(
                "The first line must name the columns (for example %(names)s); this file has "
                "none that a %(kind)s import knows. Does it start with data instead?",
                names=names,
                kind=str(kind.title).lower(),
            ),
        )
    reported = {column_key(p[0]) for p in problems}
    for name in kind.required:
        if name not in index and name not in reported:
            problems.append(
                (
                    name,
                    _(
                        "The column “%(name)s” is missing: a %(kind)s file needs %(required)s.",
                        name=name,
                        kind=str(kind.title).lower(),
                        required=", ".join(kind.required),
                    ),
                )
            )
    if not problems and kind.key == "products" and set(index) == {"sku"}:
        problems.append(
            ("", _("Besides sku, the file needs a column to set, such as name or base_price."))
        )
    if problems:
        raise HeaderProblems(problems)
    return index


class HeaderProblems(Exception):
    """Several problems with the header line, reported together."""

    def __init__(self, problems: list[tuple]):
        super().__init__(problems[0][1])
        self.problems = problems
