"""Server-side sessions: the cookie holds a random token, the database holds its hash.

Ending a session (logout, block, password change) is a database write, so a
replayed cookie is refused on its next request, in every process. A session resolved a
moment ago may be reused by the same process for a few seconds (KeptSessions), never
across a committed change to what it loaded: every such write is an event (CHANGED)
that each process hears before it reuses anything again.
"""

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, select, update
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session, joinedload

from extensions import db

from . import events, transaction
from .models import Company, CustomerGroup, LoginSession, Role, RolePermission, User, utcnow

# last_seen_at is refreshed at most this often, so browsing is not a write per request.
TOUCH_EVERY = timedelta(seconds=60)
# The event of a committed write to what resolve() loads (people, their sessions, roles,
# companies, groups): every process forgets the sessions it kept (KeptSessions).
CHANGED = "session_data_changed"
_WATCHED_TABLES = frozenset(
    {
        "users",
        "user_roles",
        "roles",
        "role_permissions",
        "login_sessions",
        "companies",
        "customer_groups",
    }
)
_WATCHED_CLASSES = (User, Role, RolePermission, LoginSession, Company, CustomerGroup)
_TOUCH = "portal_session_touch"


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


@dataclass(frozen=True)
class Assumed:
    """Whom a staff session opens the storefront as (core.acting): "act" or "view"."""

    person_id: int
    mode: str
    since: datetime | None


def assumed_of(record: LoginSession) -> Assumed | None:
    """What this session opens the storefront as, if anything."""
    if record.acting_for_id is None or not record.acting_mode:
        return None
    return Assumed(record.acting_for_id, record.acting_mode, record.acting_since)


@dataclass(frozen=True)
class _Kept:
    generation: int
    until: float  # time.monotonic()
    session_id: int
    expires_at: datetime
    last_seen_at: datetime
    user: User  # detached: every request gets its own copy (Session.merge, no statement)
    # Kept with the session it belongs to: starting or ending it writes login_sessions,
    # which every process hears as CHANGED (see below), so it is never reused stale.
    assumed: Assumed | None = None


class KeptSessions:
    """Sessions resolved in this process, reused for a few seconds by the next requests.

    Resolving reads five tables in one joined statement, on every request (about a tenth
    of a catalogue page's CPU on MariaDB; bench/load.py). A kept session is reused only
    while its caller's access generation is the one it was read under: the caller bumps
    it at once for every access change committed here (block, sign-out, roles, company,
    group, the person's own settings) and on hearing one from another process, and gives
    no generation at all while it could miss one (Redis away), when nothing is reused.
    KEEP_SECONDS bounds what a change made with no event could leave behind.
    """

    KEEP_SECONDS = 5.0
    LIMIT = 10_000

    def __init__(self):
        self._kept: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    def get(self, key: str, generation: int) -> _Kept | None:
        hit = self._kept.get(key)
        if hit is None or hit.generation != generation or hit.until <= time.monotonic():
            return None
        return hit

    def keep(self, key: str, entry: _Kept) -> None:
        with self._lock:
            if len(self._kept) >= self.LIMIT:
                now = time.monotonic()
                self._kept = {k: e for k, e in self._kept.items() if e.until > now}
                if len(self._kept) >= self.LIMIT:
                    self._kept.clear()
            self._kept[key] = entry

    def seen(self, key: str, entry: _Kept, at: datetime) -> None:
        """The session's last use was written: the kept copy says so too."""
        with self._lock:
            if self._kept.get(key) is entry:
                self._kept[key] = _Kept(
                    entry.generation,
                    entry.until,
                    entry.session_id,
                    entry.expires_at,
                    at,
                    entry.user,
                    entry.assumed,
                )

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


def _detached_copy(user: User) -> User | None:
    """A copy of the person with what resolve() loaded, in no session (None if it cannot)."""
    scratch = Session()
    try:
        copy = scratch.merge(user, load=False)
        scratch.expunge_all()
        return copy
    except InvalidRequestError:  # changed already in this request: not a copy to keep
        return None
    finally:
        scratch.close()


def resolve(
    token: str,
    *,
    idle_minutes: int,
    now: datetime | None = None,
    kept: KeptSessions | None = None,
    generation: int | None = None,
) -> User | None:
    """The active person behind a live session token, with what every page needs loaded.

    One statement loads the session, the person, their company and group, their
    roles and the roles' permissions; with `kept` and a `generation`, a session resolved
    a moment ago under the same generation is reused without a statement (KeptSessions).
    A staff person comes with whom the session opens the storefront as (`session_assumed`);
    that person is loaded, and their access checked, by each storefront request itself
    (blueprints/acting.py), never kept.
    """
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    key = token_hash(token)
    if kept is not None and generation is not None:
        hit = kept.get(key, generation)
        idle_since = now - timedelta(minutes=idle_minutes)
        if hit is not None and hit.expires_at > now and hit.last_seen_at > idle_since:
            if now - hit.last_seen_at >= TOUCH_EVERY:
                _touch(hit.session_id, now)
                kept.seen(key, hit, now)
            user = db.session.merge(hit.user, load=False)
            user.session_token = token
            user.session_assumed = hit.assumed
            return user
    stmt = (
        select(LoginSession)
        .where(LoginSession.token_hash == key)
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
    last_seen = record.last_seen_at
    if now - last_seen >= TOUCH_EVERY:
        _touch(record.id, now)
        last_seen = now
    assumed = assumed_of(record) if user.is_staff else None
    if kept is not None and generation is not None and (copy := _detached_copy(user)):
        until = time.monotonic() + kept.KEEP_SECONDS
        kept.keep(
            key, _Kept(generation, until, record.id, record.expires_at, last_seen, copy, assumed)
        )
    user.session_token = token
    user.session_assumed = assumed
    return user


def _touch(session_id: int, now: datetime) -> None:
    """Refresh a session's last use on the request's own connection, never a second one.

    A request that took a second connection while holding its first could wait for the
    pool forever once every pooled connection is held by such requests. When nothing has
    been written yet (the usual case: the person is resolved first), the touch commits at
    once, so the row lock is not held while the page renders and the same person's other
    requests do not queue behind it; the objects just loaded stay loaded. Otherwise it
    joins the request's transaction, which the request boundary commits.
    """
    session = db.session()
    alone = not transaction.wrote(session)
    session.execute(
        update(LoginSession).where(LoginSession.id == session_id).values(last_seen_at=now),
        # Not a change any kept session must be forgotten for (see _statement).
        execution_options={"synchronize_session": False, _TOUCH: True},
    )
    if not alone:
        return
    kept = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = kept


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


# --- what makes kept sessions stale -----------------------------------------------------
# Every write through the ORM to the tables resolve() reads records CHANGED, whoever makes
# it and whether or not its service records an event of its own: a flush of a changed
# object, or an UPDATE, INSERT or DELETE statement run through the session (the touch of
# last use excepted). The event is published after commit like any other.


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context) -> None:
    changed = (*session.new, *session.deleted, *session.dirty)
    if any(
        isinstance(obj, _WATCHED_CLASSES) and (obj not in session.dirty or session.is_modified(obj))
        for obj in changed
    ):
        events.record(session, CHANGED)


@event.listens_for(Session, "do_orm_execute")
def _statement(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    if state.execution_options.get(_TOUCH) or state.local_execution_options.get(_TOUCH):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _WATCHED_TABLES:
        events.record(state.session, CHANGED)
