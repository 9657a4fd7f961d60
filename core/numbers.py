"""Numbers as people type them, in forms, addresses and imported files: one reading.

Python reads more than a person means: int() takes "١٢٣", "1_000" and 4,000 digits,
Decimal() takes "1e99", "NaN" and "-Infinity", and str.isdigit() says yes to "²", which
int() then refuses. A value beyond what a column holds fails in the database driver (an
OverflowError on SQLite), and a Decimal of 100 digits fails when it is rounded. So every
number that comes from outside is read here: ASCII digits, an optional sign and one
decimal point, within bounds, or a `NumberRefused` whose message says what to type.
Nothing here raises anything else, whatever the input.
"""

import re
from decimal import Decimal

from .errors import FieldRefused

# Record ids are INTEGER columns: MariaDB's INT holds up to 2^31 - 1 (SQLite's 2^63 - 1),
# so a larger id names nothing on any database we run on.
MAX_ID = 2**31 - 1

_WHOLE = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")
_EXPONENT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+")
# No number we accept is written with more characters (leading zeros and decimals
# included); a longer text is refused before anything converts it.
MAX_CHARS = 40
_DECIMALS = {0: "no decimals", 1: "at most one decimal", 2: "at most two decimals"}


class NumberRefused(FieldRefused):
    """A number that is not one, or outside its bounds; the message says what to type."""


def _text(raw) -> str:
    return raw.strip() if isinstance(raw, str) else "" if raw is None else str(raw).strip()


def quoted(text: str) -> str:
    """What was typed, quoted in a message: cut short, never echoed whole."""
    return f"“{text}”" if len(text) <= 20 else f"“{text[:19]}…”"


def record_id(raw) -> int | None:
    """A record's number from a form, a query or a URL: 1 to MAX_ID, else None.

    None names no record, so a caller answers it as it answers an unknown id.
    """
    text = _text(raw)
    if not text or len(text) > 10 or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def id_choice(raw) -> int:
    """A form choice's record id (WTForms `coerce`): a ValueError for anything else."""
    value = record_id(raw)
    if value is None:
        raise NumberRefused("Choose from the list.")
    return value


def whole(raw, *, minimum: int, maximum: int, message: str, field: str | None = None) -> int:
    """A whole number from `minimum` to `maximum`, typed in ASCII digits; else `message`."""
    text = _text(raw)
    if len(text) > MAX_CHARS or not _WHOLE.fullmatch(text):
        raise NumberRefused(message, field)
    value = int(text)
    if not minimum <= value <= maximum:
        raise NumberRefused(message, field)
    return value


def decimal(
    raw,
    *,
    label: str,
    places: int,
    maximum: Decimal,
    minimum: Decimal = Decimal(0),
    below: bool = True,
    above: bool = False,
    example: str = "12.50",
    field: str | None = None,
    not_a_number: str | None = None,
    out_of_range: str | None = None,
    too_precise: str | None = None,
) -> Decimal:
    """A decimal number with at most `places` decimals, between the bounds; else NumberRefused.

    `below`/`above`: the maximum/minimum itself is excluded. Written in digits with at
    most one decimal point: an exponent, NaN, an infinity or digits of another script
    are refused with a message that says how to write it. The messages say "{label} must
    be a number, such as {example}.", "... cannot be negative.", "... must be below
    {maximum}." and "... has at most {places} decimals." unless the caller gives its own.
    """
    text = _text(raw)
    if len(text) <= MAX_CHARS and _EXPONENT.fullmatch(text):
        raise NumberRefused(
            not_a_number
            or f"{label} must be written out in digits, such as {example}, not as {quoted(text)}.",
            field,
        )
    if len(text) > MAX_CHARS or not _DECIMAL.fullmatch(text):
        raise NumberRefused(not_a_number or f"{label} must be a number, such as {example}.", field)
    value = Decimal(text)
    if value < minimum or (above and value == minimum):
        if out_of_range is None and minimum == 0 and not above:
            out_of_range_message = f"{label} cannot be negative."
        elif out_of_range is None:
            word = "more than" if above else "at least"
            out_of_range_message = f"{label} must be {word} {minimum:,}."
        else:
            out_of_range_message = out_of_range
        raise NumberRefused(out_of_range_message, field)
    if value > maximum or (below and value == maximum):
        word = "below" if below else "at most"
        raise NumberRefused(out_of_range or f"{label} must be {word} {maximum:,}.", field)
    # Within the bounds, the value has few enough digits to be rounded exactly.
    step = Decimal(1).scaleb(-places)
    if value != value.quantize(step):
        written = _DECIMALS.get(places, f"at most {places} decimals")
        raise NumberRefused(too_precise or f"{label} has {written}.", field)
    return value.quantize(step)
