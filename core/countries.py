"""Countries as ISO 3166-1 alpha-2 codes, named from Babel's CLDR data.

Addresses and the VAT rule (core.tax) store the code; pages show the name, in the
viewer's language (Flask-Babel's locale of the moment; English outside any request).
"""

from functools import cache

from babel import Locale

# CLDR lists regions and placeholders beside countries: not places one ships to.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}


def _current(locale: str | None) -> str:
    """The locale asked for, else the one of the moment (the request's, a mail's)."""
    if locale:
        return str(locale)
    from . import i18n

    return i18n.current_locale()


def names(locale: str | None = None) -> dict[str, str]:
    """Code → name of every country, sorted by name, in `locale` (default: the current)."""
    return _names(_current(locale))


@cache
def _names(locale: str) -> dict[str, str]:
    territories = Locale.parse(locale).territories
    found = {
        code: name
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }
    return dict(sorted(found.items(), key=lambda item: item[1]))


def name(code: str, locale: str | None = None) -> str:
    """A country's name, or its code when it is not one we know."""
    return names(locale).get(code or "", code or "")


def choices(locale: str | None = None) -> list[tuple[str, str]]:
    """(code, name) pairs for a select, sorted by name."""
    return list(names(locale).items())
