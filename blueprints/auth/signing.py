"""What the sign-in pages share: where a person lands, the sign-in waiting for its second
step, and opening the session once every step has passed.

Between the password and the second factor (or the compulsory enrolment) no session
exists: the signed cookie only says who passed the password, when, and where to go
next, for a few minutes.
"""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from blueprints.boundary import keep_changes
from blueprints.common import client_ip
from core import audit, sessions, throttle
from core.models import User, utcnow
from extensions import db

PENDING = "pending_sign_in"
PENDING_MINUTES = 5


def home_for(user) -> str:
    """Staff land in the back office, customer people in the storefront."""
    return url_for("office.dashboard") if user.is_staff else url_for("shop.catalog")


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative '//'."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def _stamp(user: User) -> str:
    """Changes when the password does: a pending sign-in dies with the old password."""
    return user.password_changed_at.isoformat() if user.password_changed_at else ""


def hold(user: User, *, enrol: bool) -> None:
    """The password passed; the second step (or enrolment) comes before any session."""
    session.clear()
    session[PENDING] = {
        "user": user.id,
        "at": utcnow().isoformat(),
        "stamp": _stamp(user),
        "next": safe_next(request.args.get("next")) or "",
        "enrol": enrol,
    }


def held(*, enrol: bool) -> User | None:
    """The person whose sign-in waits for this step, if it is recent and still theirs."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or bool(pending.get("enrol")) != enrol:
        return None
    try:
        at = datetime.fromisoformat(pending["at"])
        user = db.session.get(User, int(pending["user"]))
    except (KeyError, TypeError, ValueError):
        return None
    if utcnow() - at > timedelta(minutes=PENDING_MINUTES):
        return None
    if user is None or user.status != "active" or _stamp(user) != pending.get("stamp"):
        return None
    return user


def start_again():
    """The sign-in waiting for this step has expired (or never began): back to the start."""
    flash(_("Sign in again: the first step has expired."), "info")
    return redirect(url_for("auth.login"))


def wrong_password(summary: str) -> None:
    """A wrong password of the signed-in person's own (changing it, turning two-factor
    off): counted like a sign-in failure and audited, although the answer is an error.
    `summary` is a constant marked N_ (the audit log translates it where it shows it)."""
    throttle.note("password_change", current_user.email, client_ip(), succeeded=False)
    audit.record(
        "auth.password_change_failed",
        actor=current_user,
        target=current_user,
        ip=client_ip(),
        summary=summary,
    )
    keep_changes()


def pending_next() -> str:
    """Where the person was going when the sign-in asked for its next step."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return ""
    return safe_next(pending.get("next")) or ""


def open_session(user: User, *, how: str = "") -> str:
    """Every step passed: a new session, the person signed in; returns where to go (where
    they were going when the sign-in began)."""
    target = pending_next() or safe_next(request.args.get("next"))
    session.clear()
    ip = client_ip()
    throttle.note("sign_in", user.email, ip, succeeded=True)
    sessions.open_session(
        user,
        hours=current_app.config["SESSION_ABSOLUTE_HOURS"],
        ip=ip,
        user_agent=request.user_agent.string,
    )
    login_user(user)
    audit.record(
        "auth.sign_in",
        actor=user,
        target=user,
        ip=ip,
        summary=f"{user.email} signed in{how}",
    )
    return target or home_for(user)
