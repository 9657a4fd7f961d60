"""How tests recognise a cost or a margin in what the portal sends."""

import io
import re
from decimal import Decimal

from pypdf import PdfReader

PLANTED = Decimal("4321.9876")
# Every way the planted cost could be written: raw, rounded to the cent, with separators.
TRACES = ("4321.98", "4321.99", "4,321.98", "4,321.99", "4 321,99", "4321,99", "4.321,99")
HEADINGS = re.compile(r">\s*(Cost|Unit cost|Margin|Margin %|Gross margin)\s*<")
CSV_HEADINGS = re.compile(r"^[^\n]*\b(cost|unit_cost|margin)\b", re.IGNORECASE)


def shows(body: str, *numbers: str) -> bool:
    """Does `body` hold one of these numbers, not as the tail of a longer number? Every
    page's render time (data-rendered="1796543214.683") holds "4.68" about once in a
    thousand pages. (What follows may be more digits: a raw cost is "4321.9876".)"""
    return any(re.search(rf"(?<!\d){re.escape(n)}", body) for n in numbers)


def cost_shown(body: str) -> str | None:
    """What gives a cost away in this page, fragment, export or push (None: nothing)."""
    for trace in TRACES:
        if shows(body, trace):
            return trace
    heading = HEADINGS.search(body)
    if heading:
        return f"a {heading.group(1)!r} heading"
    if body.lstrip("\ufeff").startswith(("sku,", "number,", "order,", "invoice")):
        column = CSV_HEADINGS.search(body)
        if column:
            return f"a {column.group(1)!r} column"
    return None


def readable(response) -> str:
    """What a person reads of an answer: its text, or a PDF's text."""
    if response.mimetype == "application/pdf":
        pages = PdfReader(io.BytesIO(response.get_data())).pages
        return "\n".join(page.extract_text() for page in pages)
    return response.get_data(as_text=True)
