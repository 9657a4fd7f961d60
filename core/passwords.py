"""What a new password must be: long enough, and not one everybody uses."""

import gzip
from functools import cache
from pathlib import Path

from .i18n import _, ngettext

MIN_LENGTH = 10
MAX_LENGTH = 128


@cache
def _common() -> frozenset[str]:
    path = Path(__file__).with_name("data") / "common-passwords.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """Clear messages for everything wrong with a new password (empty when it is fine).

    Plain text in the language of the moment (the request's: the person choosing the
    password reads them at once), so that callers may join them into one refusal.
    """
    found = []
    if len(password) < MIN_LENGTH:
        found.append(
            ngettext(
                "Use at least %(num)d character.", "Use at least %(num)d characters.", MIN_LENGTH
            )
        )
    if len(password) > MAX_LENGTH:
        found.append(
            ngettext(
                "Use at most %(num)d character.", "Use at most %(num)d characters.", MAX_LENGTH
            )
        )
    lowered = password.lower()
    if lowered in _common():
        found.append(_("This password is one of the most common ones; choose another."))
    local = email.split("@")[0].lower()
    personal = [p for p in [local, *name.lower().split()] if len(p) >= 4]
    if any(part in lowered for part in personal):
        found.append(_("Do not use your name or email address in your password."))
    if password and len(set(password)) < 4:
        found.append(_("Use more varied characters."))
    return [str(message) for message in found]
