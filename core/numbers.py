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

from . import i18n
from .errors import FieldRefused
from .i18n import _

# Record ids are INTEGER columns: MariaDB's INT holds up to 2^31 - 1 (SQLite's 2^63 - 1),
# so a larger id names nothing on any database we run on.
MAX_ID = 2**31 - 1

_WHOLE = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")
_EXPONENT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+")
# No number we accept is written with more characters (leading zeros and decimals
# included); a longer text is refused before anything converts it.
MAX_CHARS = 40


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
        raise NumberRefused(_("Choose from the list."))
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
            or _(
                "%(label)s must be written out in digits, such as %(example)s, not as %(typed)s.",
                label=label,
                example=example,
                typed=quoted(text),
            ),
            field,
        )
    if len(text) > MAX_CHARS or not _DECIMAL.fullmatch(text):
        raise NumberRefused(
            not_a_number
            or _("%(label)s must be a number, such as %(example)s.", label=label, example=example),
            field,
        )
    value = Decimal(text)
    if value < minimum or (above and value == minimum):
        if out_of_range is None and minimum == 0 and not above:
            out_of_range_message = _("%(label)s cannot be negative.", label=label)
        elif out_of_range is None and above:
            out_of_range_message = _(
                "%(label)s must be more than %(minimum)s.",
                label=label,
                minimum=i18n.number(minimum),
            )
        elif out_of_range is None:
            out_of_range_message = _(
                "%(label)s must be at least %(minimum)s.", label=label, minimum=i18n.number(minimum)
            )
        else:
            out_of_range_message = out_of_range
        raise NumberRefused(out_of_range_message, field)
    if value > maximum or (below and value == maximum):
        if out_of_range is None and below:
            out_of_range = _(
                "%(label)s must be below %(maximum)s.", label=label, maximum=i18n.number(maximum)
            )
        elif out_of_range is None:
            out_of_range = _(
                "%(label)s must be at most %(maximum)s.", label=label, maximum=i18n.number(maximum)
            )
        raise NumberRefused(out_of_range, field)
    # Within the bounds, the value has few enough digits to be rounded exactly.
    step = Decimal(1).scaleb(-places)
    if value != value.quantize(step):
        raise NumberRefused(too_precise or _too_precise(label, places), field)
    return value.quantize(step)


def _too_precise(label, places: int):
    """The refusal of too many decimals: one whole sentence for each count of places."""
    if places == 0:
        return _("%(label)s has no decimals.", label=label)
    if places == 1:
        return _("%(label)s has at most one decimal.", label=label)
    if places == 2:
        return _("%(label)s has at most two decimals.", label=label)
    return _("%(label)s has at most %(places)s decimals.", label=label, places=places)
