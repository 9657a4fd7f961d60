"""People's accounts: passwords, authentication, and one's language and time zone."""

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from extensions import db

from . import events, i18n, settings
from .errors import FieldRefused
from .i18n import _
from .models import User, utcnow

# Checked when no account matches, so an unknown email costs as much time as a wrong password.
_DUMMY_HASH: dict[str, str] = {}


def _off_the_loop(fn, *args):
    """Run CPU-heavy scrypt off a gevent worker's event loop (a real OS thread), so one
    sign-in does not stall every socket that worker holds. Plain threads need nothing."""
    try:
        from gevent import get_hub, monkey
    except ImportError:
        return fn(*args)
    if not monkey.is_module_patched("threading"):
        return fn(*args)
    return get_hub().threadpool.apply(fn, args)


def hash_password(password: str) -> str:
    return _off_the_loop(
        generate_password_hash, password, current_app.config["PASSWORD_HASH_METHOD"]
    )


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASH:
        _DUMMY_HASH[method] = generate_password_hash("not a password", method=method)
    return _DUMMY_HASH[method]


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def password_matches(user: User, password: str) -> bool:
    """Is this the person's password? (scrypt, off a gevent worker's loop)."""
    if not user.password_hash:
        return False
    return _off_the_loop(check_password_hash, user.password_hash, password or "")


def authenticate(email: str, password: str) -> User | None:
    """The active person with this email and password, or None (always one hash check)."""
    user = find_by_email(email or "")
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    matches = _off_the_loop(check_password_hash, stored, password or "")
    if user is None or not user.password_hash or not matches or user.status != "active":
        return None
    return user


def set_preferences(user: User, *, language: str | None, zone: str | None) -> bool:
    """One's own language and time zone; None (or "") is the browser's language and the
    seller's zone. The person's open pages follow (their pushes are rendered in them).
    False when nothing changed; a value not on the lists is refused, nothing kept."""
    language, zone = language or None, zone or None
    if language is not None and (not isinstance(language, str) or language not in i18n.LANGUAGES):
        raise FieldRefused(_("Choose a language from the list."), "language")
    if zone is not None and not settings.is_timezone(zone):
        raise FieldRefused(_("Choose a time zone from the list."), "timezone")
    if (user.language, user.timezone) == (language, zone):
        return False
    user.language, user.timezone = language, zone
    events.record(db.session, "user_changed", user.id)
    return True
