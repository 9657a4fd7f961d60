"""Server-side sessions: the cookie holds a random token, the database holds its hash.

Ending a session (logout, block, password change) is a database write, so a
replayed cookie is refused on its next request, in every process.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from extensions import db

from . import events
from .models import Company, LoginSession, Role, User, utcnow

# last_seen_at is refreshed at most this often, so browsing is not a write per request.
TOUCH_EVERY = timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def grant_session(
    user: User, token: str, *, hours: int, ip: str = "", user_agent: str = ""
) -> LoginSession:
    """A live session behind this token (sign-in; tests and benchmarks with known tokens)."""
    now = utcnow()
    record = LoginSession(
        token_hash=token_hash(token),
        user=user,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=hours),
        ip=ip[:45],
        user_agent=user_agent[:255],
    )
    db.session.add(record)
    return record


def open_session(user: User, *, hours: int, ip: str = "", user_agent: str = "") -> str:
    """Start a session for this person; returns the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    record = grant_session(user, token, hours=hours, ip=ip, user_agent=user_agent)
    user.last_login_at = record.created_at
    user.session_token = token
    events.record(db.session, "user_signed_in", user.id)  # lists show the last sign-in
    return token


def ends_at(record: LoginSession, *, idle_minutes: float) -> datetime:
    """When this session ends unless it is used again: idle limit or absolute lifetime.

    What resolve() refuses after this moment; an open page's socket closes at it.
    """
    return min(record.expires_at, record.last_seen_at + timedelta(minutes=idle_minutes))


def resolve(token: str, *, idle_minutes: int, now: datetime | None = None) -> User | None:
    """The active person behind a live session token, with what every page needs loaded.

    One statement loads the session, the person, their company and group, their
    roles and the roles' permissions.
    """
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    stmt = (
        select(LoginSession)
        .where(LoginSession.token_hash == token_hash(token))
        .options(
            joinedload(LoginSession.user).joinedload(User.company).joinedload(Company.group),
            joinedload(LoginSession.user).joinedload(User.roles).joinedload(Role.grants),
        )
    )
    record = db.session.execute(stmt).unique().scalar_one_or_none()
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        return None
    if record.last_seen_at <= now - timedelta(minutes=idle_minutes):
        return None
    user = record.user
    if user.status != "active":
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        # On its own connection: committing the request's session here would expire the
        # person just loaded and cost every such request its statements again.
        with db.engine.begin() as conn:
            conn.execute(
                update(LoginSession).where(LoginSession.id == record.id).values(last_seen_at=now)
            )
    user.session_token = token
    return user


def end_session(user: User, token: str) -> None:
    """Revoke one session (logout); its open pages are told they are signed out."""
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == token_hash(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    events.record(db.session, "sessions_revoked", user.id)


def end_all_sessions(user: User, *, keep_token: str | None = None) -> int:
    """Revoke every live session of a person (block, password change, last role removed)."""
    stmt = update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)
    )
    if keep_token:
        stmt = stmt.where(LoginSession.token_hash != token_hash(keep_token))
    events.record(db.session, "sessions_revoked", user.id)
    return db.session.execute(stmt.values(revoked_at=utcnow())).rowcount
