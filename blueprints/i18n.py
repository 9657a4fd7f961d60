"""Which language and time zone a request, a push or a mail is rendered in.

A person's own choice (account page) comes first; until they make one, the browser's
Accept-Language decides among the portal's languages, then English. Times are shown in
the person's zone, or the seller's (Settings) until they pick one. A live push or a
mail has no browser to ask: the socket's viewer or the recipient carries both.
"""

from contextlib import contextmanager
from pathlib import Path

from flask import Flask, g, has_app_context, has_request_context, request
from flask_login import current_user

from core import i18n, settings
from extensions import babel

CATALOGUES = Path(i18n.__file__).resolve().parent / "translations"


def person_locale(person) -> str | None:
    code = getattr(person, "language", None)
    return code if code in i18n.LANGUAGES else None


def select_locale() -> str:
    forced = g.get("i18n_locale") if has_app_context() else None
    if forced:
        return forced
    if has_request_context():
        if current_user and current_user.is_authenticated:
            own = person_locale(current_user)
            if own:
                return own
        best = request.accept_languages.best_match(list(i18n.LANGUAGES))
        if best:
            return best
    return i18n.DEFAULT_LANGUAGE


def select_timezone() -> str:
    forced = g.get("i18n_zone") if has_app_context() else None
    if forced:
        return forced
    if has_request_context() and current_user and current_user.is_authenticated:
        own = getattr(current_user, "timezone", None)
        if own:
            return own
    return settings.timezone()


@contextmanager
def as_person(locale: str | None, zone: str | None):
    """Render in this language and zone for a while (a socket's viewer, a mail's reader)."""
    from flask_babel import refresh

    saved = g.get("i18n_locale"), g.get("i18n_zone")
    g.i18n_locale = locale if locale in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    g.i18n_zone = zone or settings.timezone()
    refresh()
    try:
        yield
    finally:
        g.i18n_locale, g.i18n_zone = saved
        refresh()


def compile_catalogues(directory: Path = CATALOGUES) -> int:
    """Compile each catalogue whose .mo is missing or older than its .po; how many were.

    The install compiles them (setup.py); this covers a checkout whose catalogues changed
    since, and is a no-op (six stat calls) otherwise.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = 0
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name)
        try:
            with mo.open("wb") as target:
                write_mo(target, catalogue)
        except OSError:  # an installed, read-only tree: the install compiled them
            continue
        compiled += 1
    return compiled


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", i18n.DEFAULT_LANGUAGE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(CATALOGUES)
    compile_catalogues()
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    from core import i18n as formats

    app.jinja_env.globals.update(
        current_language=formats.current_locale,
        languages=i18n.LANGUAGES,
    )


# The catalogues: extracted from the code, one per language, compiled by the install.

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = ("_", "gettext", "ngettext:1,2", "lazy_gettext", "_l", "lazy_ngettext:1,2", "N_")


def extract(pot: Path) -> None:
    """Every marked message of the code and templates into one template catalogue."""
    from babel.messages.frontend import CommandLineInterface

    args = ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "--no-location"]
    args += ["--omit-header", "--sort-output", "-o", str(pot)]
    for keyword in KEYWORDS:
        args += ["-k", keyword]
    CommandLineInterface().run([*args, str(ROOT)])


def update_catalogues(directory: Path = CATALOGUES) -> dict[str, int]:
    """Bring every language's catalogue up to the code's messages: new ones arrive empty
    (to be translated), removed ones become obsolete; never guessed (no fuzzy matching).
    Returns, per language, how many messages still lack a translation."""
    from babel.messages.frontend import CommandLineInterface

    pot = directory / "messages.pot"
    extract(pot)
    missing = {}
    for code in i18n.LANGUAGES:
        if code == i18n.DEFAULT_LANGUAGE:
            continue
        po = directory / code / "LC_MESSAGES" / "messages.po"
        action = "update" if po.exists() else "init"
        args = ["pybabel", "-q", action, "-i", str(pot), "-d", str(directory), "-l", code]
        if action == "update":
            args += ["--no-fuzzy-matching", "--ignore-obsolete"]
        CommandLineInterface().run(args)
        missing[code] = len(untranslated(po))
    compile_catalogues(directory)
    return missing


def untranslated(po: Path) -> list[str]:
    """The messages of a catalogue with no translation, or a fuzzy one."""
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        catalogue = read_po(source, locale=po.parent.parent.name)
    return [
        str(m.id)
        for m in catalogue
        if m.id and (m.fuzzy or not (all(m.string) if m.pluralizable else m.string))
    ]
