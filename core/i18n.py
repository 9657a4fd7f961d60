"""Words the domain shows to people, translated when shown, in the viewer's language.

The domain raises refusals and builds labels long before anyone reads them, and one
message may reach people of several languages (a push, a mail). So its strings are
lazy: `_("Not enough stock for %(sku)s.", sku=sku)` keeps the English message id and
its values, and becomes text in the language of the request, push or mail that shows it
(Flask-Babel's locale of the moment). Outside any application it reads as English.

`N_` only marks a string for extraction, for tables whose values are translated where
they are shown (`gettext(value)`).
"""

from flask_babel import LazyString, lazy_gettext, lazy_ngettext
from markupsafe import escape


def _escaped(self):
    return escape(str(self))


# Flask-Babel's lazy strings pass themselves off as safe markup (their __html__ returns
# the text as is), so a lazy message carrying a person's input ("No product %(sku)s")
# would reach a page as HTML. They are text: escaped like any other.
LazyString.__html__ = _escaped

LANGUAGES = {
    "en": "English",
    "it": "Italiano",
    "nl": "Nederlands",
    "fr": "Français",
    "pl": "Polski",
    "ro": "Română",
}
DEFAULT_LANGUAGE = "en"


def _(message: str, **values):
    """A message translated when it is shown; `%(name)s` placeholders take `values`."""
    return lazy_gettext(message, **values)


def ngettext(singular: str, plural: str, num: int, **values):
    """A message with a singular and a plural form, chosen by `num` in the language shown."""
    return lazy_ngettext(singular, plural, num, **values)


def N_(message: str) -> str:
    """Marks a string for the catalogue without translating it here."""
    return message


# Formats by locale (Babel's CLDR data), for pages, pushes, PDFs and mails alike. The
# eager ones format in the language and time zone of the moment; the lazy ones when
# shown, for messages built before their reader is known (a mail's body, a refusal).

MINUS = "\u2212"  # a true minus sign (U+2212) reads better than a hyphen


def current_locale() -> str:
    """The language of the moment: the request's, a push's or a mail's ("en" outside)."""
    from flask_babel import get_locale

    return str(get_locale() or DEFAULT_LANGUAGE)


def format_pattern(day, pattern: str) -> str:
    """A day in a CLDR pattern in the current language ("EEE d MMM yyyy": Tue 8 Dec 2026,
    mar. 8 déc. 2026), for the places that name a day their own way."""
    from babel.dates import format_date

    return format_date(day, pattern, locale=current_locale())


def format_money(value, currency: str = "EUR") -> str:
    """€1,234.56 in English, 1 234,56 € in French, € 1.234,56 in Dutch; sub-cent unit
    prices keep up to four decimals (€0.0125); None is a dash."""
    from decimal import Decimal

    from babel.numbers import format_currency

    if value is None:
        return "—"
    amount = Decimal(value).quantize(Decimal("0.0001")).normalize()
    text = format_currency(
        amount, currency, locale=current_locale(), currency_digits=False, decimal_quantization=False
    )
    # At least the cents, whatever the value's own digits ("€5.00", not "€5").
    if amount == amount.to_integral_value():
        text = format_currency(amount, currency, locale=current_locale())
    return text.replace("-", MINUS, 1) if amount < 0 else text


def format_number(value, digits: int | None = None) -> str:
    """12,345.5 in English, 12 345,5 in French; `digits` fixes the decimals."""
    from decimal import Decimal

    from babel.numbers import format_decimal

    if value is None:
        return "—"
    if digits is None:
        return format_decimal(value, locale=current_locale(), decimal_quantization=False)
    return format_decimal(
        Decimal(value).quantize(Decimal(1).scaleb(-digits)),
        format="#,##0." + "0" * digits if digits else "#,##0",
        locale=current_locale(),
    )


def format_percent(value) -> str:
    """A percentage given in percent (12.5 -> "12.5%", "12,5 %" in French)."""
    from decimal import Decimal

    from babel.numbers import format_percent as babel_percent

    if value is None:
        return "—"
    return babel_percent(Decimal(value) / 100, locale=current_locale(), decimal_quantization=False)


def format_day(value) -> str:
    """04 Dec 2026 (04 déc. 2026, 04 gru 2026); a datetime is read in the viewer's zone."""
    from datetime import date, datetime

    from babel.dates import format_date

    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = to_local(value).date()
    if not isinstance(value, date):
        return str(value)
    return format_date(value, "dd MMM yyyy", locale=current_locale())


def format_moment(value) -> str:
    """04 Dec 2026 14:05 in the viewer's time zone (stored times are UTC)."""
    from babel.dates import format_datetime

    if value is None:
        return "—"
    return format_datetime(to_local(value), "dd MMM yyyy HH:mm", locale=current_locale())


def _zone():
    """The viewer's zone as a zoneinfo zone (Flask-Babel hands out pytz ones, whose
    `replace(tzinfo=...)` would pick a historical local mean time)."""
    from zoneinfo import ZoneInfo

    from flask_babel import get_timezone

    return ZoneInfo(str(get_timezone()))


def to_local(value):
    """A stored (naive UTC) time as a naive time in the viewer's zone."""
    from datetime import UTC

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone()).replace(tzinfo=None)


def to_utc(value):
    """A naive time entered in the viewer's zone as a naive UTC time, as stored."""
    from datetime import UTC

    aware = value.replace(tzinfo=_zone()) if value.tzinfo is None else value
    return aware.astimezone(UTC).replace(tzinfo=None)


def money(value, currency: str = "EUR"):
    """format_money when shown: for a message whose reader is not known yet."""
    from flask_babel import LazyString

    return LazyString(format_money, value, currency)


def day(value):
    """format_day when shown."""
    from flask_babel import LazyString

    return LazyString(format_day, value)


def number(value, digits: int | None = None):
    """format_number when shown."""
    from flask_babel import LazyString

    return LazyString(format_number, value, digits)


def _joined(sep, parts) -> str:
    return str(sep).join(str(part) for part in parts)


def join(*parts, sep=""):
    """Several parts (lazy messages, lazy amounts or plain text) as one text, put
    together when shown: each part in the language of its reader (a mail's body of
    several sentences, every copy rendered by core.notify in its recipient's language)."""
    from flask_babel import LazyString

    return LazyString(_joined, sep, parts)


def in_language(code: str | None):
    """Translate and format in this person's language for a while (a mail to them).
    Outside an application context, a no-op."""
    from flask_babel import force_locale

    return force_locale(code if code in LANGUAGES else DEFAULT_LANGUAGE)
