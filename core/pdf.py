"""Documents as PDF: invoices, credit notes, order confirmations, quotes, delivery notes.

This module lays a document out and knows nothing else: the web layer maps a document's
page context to a `Document` of display strings (blueprints/documents.py), so that the
PDF prints exactly the figures its page shows, formatted the same way.

fpdf2 draws it (pure Python, no system library), in DejaVu Sans shipped with the code
(core/data/fonts, Bitstream Vera licence beside it), so that every European name prints:
"Łódź Spółka", "Ștefan Țărână".

A document is drawn in the language of the moment (the request's, or the reader's for a
mail: core.notify): its own words (column heads, "page 1 of 2") are translated as they
are drawn, and the mapping's strings may be lazy messages, read then.
"""

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableCellFillMode
from fpdf.fonts import FontFace

from .i18n import N_, _

FONTS = Path(__file__).parent / "data" / "fonts"
FONT = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

MARGIN = 18  # mm, on every side of an A4 page
GREY = (110, 110, 110)
RULE = (200, 200, 200)
HEAD_FILL = (238, 238, 238)
STAMP_COLOUR = (200, 30, 30)

# The lines table's columns (heading, width in mm), 174 mm in all. A document without
# prices (a delivery note) has no price columns; one without VAT rates no VAT column.
# Headings are translated as the table is drawn.
PRICED_COLUMNS = (
    (N_("SKU"), 34),
    (N_("Description"), 68),
    (N_("Quantity"), 20),
    (N_("Unit price"), 26),
)
VAT_COLUMNS = (
    (N_("SKU"), 30),
    (N_("Description"), 58),
    (N_("Quantity"), 18),
    (N_("Unit price"), 24),
)
VAT_COLUMN = (N_("VAT"), 18)
AMOUNT_COLUMN = (N_("Amount"), 26)
UNPRICED_COLUMNS = ((N_("SKU"), 44), (N_("Description"), 106), (N_("Quantity"), 24))


@dataclass(frozen=True)
class Party:
    """Who sells or buys: a name in bold, then lines (address, VAT number, contact)."""

    name: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Line:
    """One line of the document; without a unit price and amount it is a line of goods
    only (a delivery note)."""

    sku: str
    description: str
    quantity: str
    unit_price: str | None = None
    amount: str | None = None
    vat: str | None = None  # the line's VAT rate, where the document prints one per line


@dataclass(frozen=True)
class Row:
    """One row of the totals block: a label and an amount; `strong` for what is owed."""

    label: str
    amount: str
    strong: bool = False


@dataclass(frozen=True)
class Document:
    """A document as printed, in display strings.

    `facts` are (label, value) pairs beside the title (dates, order, reference, status);
    `ship_to` is printed beside the buyer (where the goods go); `totals` are the rows
    under the lines (net, VAT per rate, gross, or one total) and `mentions` the legal
    texts under them ("Reverse charge ..."); `paragraphs` come last (how to pay, a note).
    `stamp` is printed large across every page ("VOID").
    """

    title: str
    number: str
    buyer: Party
    seller: Party | None = None
    buyer_heading: str = _("Customer")
    ship_to: Party | None = None
    ship_to_heading: str = _("Delivered to")
    facts: tuple[tuple[str, str], ...] = ()
    lines: tuple[Line, ...] = ()
    totals: tuple[Row, ...] = ()
    mentions: tuple[str, ...] = ()
    paragraphs: tuple[str, ...] = ()
    footer: str = ""
    stamp: str = ""

    @property
    def filename(self) -> str:
        """`INV-000123.pdf`: the number, with nothing a header or a file system chokes on."""
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", self.number).strip(".-") or "document"
        return f"{stem[:80]}.pdf"


_KEEP = {"\n"}
_DROPPED = {"Cc", "Cf", "Cs", "Co", "Cn"}  # controls, bidi overrides, surrogates, unassigned


def printable(text: str) -> str:
    """The text without control or format characters (a NUL, a right-to-left override):
    what a person typed is printed as it reads, never reordered or cut."""
    return "".join(
        ch for ch in str(text) if ch in _KEEP or unicodedata.category(ch) not in _DROPPED
    )


def _one_line(text: str) -> str:
    return " ".join(printable(text).split())


def _language() -> str:
    """The document's language tag: the locale it is drawn in ("en" outside a request)."""
    from . import i18n

    return i18n.current_locale().replace("_", "-")


class _Sheet(FPDF):
    """An A4 page with the document's stamp behind it and its number in the footer."""

    def __init__(self, document: Document):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.document = document
        for style, name in FONT_FILES.items():
            self.add_font(FONT, style, str(FONTS / name))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + 8)
        self.set_title(f"{document.title} {document.number}")
        if document.seller is not None:
            self.set_author(_one_line(document.seller.name))
        self.set_creator("Trade portal")
        self.set_lang(_language())

    def header(self):
        if self.document.stamp:
            self._stamp(_one_line(self.document.stamp).upper())

    def _stamp(self, text: str) -> None:
        """The stamp across the page, drawn first so the document reads through it."""
        size = 130
        self.set_font(FONT, "B", size)
        while size > 20 and self.get_string_width(text) > 190:
            size -= 5
            self.set_font(FONT, "B", size)
        width = self.get_string_width(text)
        cx, cy = self.w / 2, self.h / 2
        # Baseline a third of the font's height (pt to mm) below the centre: the capitals
        # then sit across the middle of the page.
        with (
            self.local_context(fill_opacity=0.16, text_color=STAMP_COLOUR),
            self.rotation(35, x=cx, y=cy),
        ):
            self.text(cx - width / 2, cy + size * 0.35 / 2.83, text)
        self.set_xy(MARGIN, MARGIN)

    def footer(self):
        self.set_y(-MARGIN - 2)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*GREY)
        if self.document.footer:
            self.multi_cell(
                0, 3.4, printable(self.document.footer), align="C", new_x="LMARGIN", new_y="NEXT"
            )
        page = _(
            "%(title)s %(number)s · page %(page)s of %(pages)s",
            title=self.document.title,
            number=self.document.number,
            page=self.page_no(),
            pages="{nb}",  # fpdf2's alias for the page count, filled in at the end
        )
        self.cell(0, 4, _one_line(page), align="C")
        self.set_text_color(0, 0, 0)


def _party(pdf: _Sheet, party: Party, x: float, width: float, *, size: float = 9) -> None:
    pdf.set_x(x)
    pdf.set_font(FONT, "B", size + 2)
    pdf.multi_cell(width, 5.2, _one_line(party.name), new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "", size)
    for line in party.lines:
        for part in printable(line).splitlines() or [""]:
            if part.strip():
                pdf.set_x(x)
                pdf.multi_cell(width, 4.2, part.strip(), new_x="LEFT", new_y="NEXT")


def _head(pdf: _Sheet, doc: Document) -> None:
    """The seller on the left; the title, number and facts on the right."""
    top = pdf.get_y()
    left_width = 92
    right_x = MARGIN + left_width + 6
    right_width = pdf.w - MARGIN - right_x
    if doc.seller is not None:
        _party(pdf, doc.seller, MARGIN, left_width)
    left_end = pdf.get_y()

    pdf.set_xy(right_x, top)
    pdf.set_font(FONT, "B", 17)
    pdf.multi_cell(right_width, 7.5, _one_line(doc.title), new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(right_width, 6, _one_line(doc.number), new_x="LEFT", new_y="NEXT")
    pdf.ln(1.5)
    label_width = 30
    for label, value in doc.facts:
        y = pdf.get_y()
        pdf.set_xy(right_x, y)
        pdf.set_font(FONT, "", 8.5)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(label_width, 4.4, _one_line(label), new_x="RIGHT", new_y="TOP")
        pdf.set_text_color(0, 0, 0)
        pdf.set_xy(right_x + label_width, y)
        pdf.multi_cell(right_width - label_width, 4.4, _one_line(value), new_x="LEFT")
        pdf.set_y(max(pdf.get_y(), y + 4.4))
    pdf.set_y(max(left_end, pdf.get_y()) + 8)


def _addressed(pdf: _Sheet, heading: str, party: Party, x: float, width: float) -> float:
    """A heading in small capitals over a party; returns where it ends."""
    pdf.set_x(x)
    pdf.set_font(FONT, "", 8)
    pdf.set_text_color(*GREY)
    pdf.cell(width, 4.5, _one_line(heading).upper(), new_x="LEFT", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    _party(pdf, party, x, width, size=9.5)
    return pdf.get_y()


def _buyer(pdf: _Sheet, doc: Document) -> None:
    """The buyer, and beside it where the goods go (when the document says)."""
    top = pdf.get_y()
    end = _addressed(pdf, doc.buyer_heading, doc.buyer, MARGIN, 84)
    if doc.ship_to is not None:
        pdf.set_y(top)
        end = max(end, _addressed(pdf, doc.ship_to_heading, doc.ship_to, MARGIN + 92, 82))
    pdf.set_xy(MARGIN, end + 6)


def _lines(pdf: _Sheet, doc: Document) -> None:
    priced = any(line.unit_price is not None or line.amount is not None for line in doc.lines)
    with_vat = priced and any(line.vat is not None for line in doc.lines)
    if with_vat:
        columns = (*VAT_COLUMNS, VAT_COLUMN, AMOUNT_COLUMN)
    elif priced:
        columns = (*PRICED_COLUMNS, AMOUNT_COLUMN)
    else:
        columns = UNPRICED_COLUMNS
    align = ["LEFT", "LEFT", *(["RIGHT"] * (len(columns) - 2))]
    pdf.set_font(FONT, "", 8.5)
    pdf.set_draw_color(*RULE)
    with pdf.table(
        col_widths=tuple(width for __, width in columns),
        text_align=tuple(align),
        headings_style=FontFace(family=FONT, emphasis="BOLD", fill_color=HEAD_FILL),
        cell_fill_color=HEAD_FILL,
        cell_fill_mode=TableCellFillMode.NONE,
        line_height=4.6,
        padding=(1.2, 1.5),
        borders_layout="HORIZONTAL_LINES",
        first_row_as_headings=True,
        repeat_headings=1,
    ) as table:
        table.row([str(_(label)) for label, __ in columns])
        for line in doc.lines:
            cells = [line.sku, line.description, line.quantity]
            if priced:
                cells.append(line.unit_price or "—")
            if with_vat:
                cells.append(line.vat or "—")
            if priced:
                cells.append(line.amount or "—")
            table.row([printable(cell) for cell in cells])
    pdf.ln(3)


def _totals(pdf: _Sheet, doc: Document) -> None:
    label_width, amount_width = 70, 34
    x = pdf.w - MARGIN - label_width - amount_width
    for row in doc.totals:
        if pdf.will_page_break(7):
            pdf.add_page()
        pdf.set_x(x)
        if row.strong:
            pdf.set_draw_color(0, 0, 0)
            pdf.line(x, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
            pdf.ln(0.8)
            pdf.set_x(x)
        pdf.set_font(FONT, "B" if row.strong else "", 10 if row.strong else 9)
        pdf.cell(label_width, 6 if row.strong else 5, _one_line(row.label), align="R")
        pdf.cell(amount_width, 6 if row.strong else 5, _one_line(row.amount), align="R")
        pdf.ln()
    pdf.ln(3)


def _texts(pdf: _Sheet, texts: tuple[str, ...], size: float) -> None:
    pdf.set_font(FONT, "", size)
    for text in texts:
        text = printable(text).strip()
        if text:
            pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)


def render(document: Document) -> bytes:
    """The document as PDF bytes: seller and title, buyer, lines, totals, mentions, text."""
    pdf = _Sheet(document)
    pdf.alias_nb_pages()
    pdf.add_page()
    _head(pdf, document)
    _buyer(pdf, document)
    if document.lines:
        _lines(pdf, document)
    if document.totals:
        _totals(pdf, document)
    _texts(pdf, document.mentions, 8.5)
    _texts(pdf, document.paragraphs, 9.5)
    return bytes(pdf.output())
