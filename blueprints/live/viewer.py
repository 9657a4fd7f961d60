"""Who is behind a socket, as a small immutable snapshot safe to share between threads."""

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.i18n import person_locale
from core import access, i18n, sessions
from core.events import Event
from core.models import Company, LoginSession, Role, User, user_roles, utcnow
from extensions import db

# Events that change who may see what: the hub reloads the viewers they concern.
ACCESS_TOPICS = frozenset(
    {
        "user_blocked",
        "user_changed",
        "role_changed",
        "company_reps_changed",
        "company_changed",
        "group_changed",
        "sessions_revoked",
    }
)
# Access events after which the viewers concerned get all their regions afresh, even when
# their rights did not change: their offer did (new reps' lists, a group's new policy).
RESYNC_TOPICS = frozenset({"company_reps_changed", "group_changed"})

# Why a socket's session ended, as the page is told (the close reason and its notice).
BLOCKED = "blocked"
SIGNED_OUT = "signed out"


@dataclass(frozen=True)
class Viewer:
    """Everything that decides what a socket's person may receive."""

    user_id: int
    token_hash: str
    kind: str
    company_id: int | None
    group_id: int | None
    permissions: frozenset[str]  # effective: what access.can() grants right now
    scope: frozenset[int] | None  # companies a staff person sees; None = all
    # When the session ends unless it is used again (idle limit or absolute lifetime): the
    # socket re-reads its session then. Not part of what the person may see.
    ends_at: datetime = field(default=datetime.max, compare=False)
    # The language and time zone its pushes are rendered in: the person's own, else what
    # the page's browser asked for when the socket opened ("" zone: the seller's).
    locale: str = i18n.DEFAULT_LANGUAGE
    zone: str = ""
    browser_locale: str | None = field(default=None, compare=False)


def _idle_minutes() -> float:
    return current_app.config["SESSION_IDLE_MINUTES"]


def _ended(record: LoginSession | None, status: str | None, now: datetime) -> str | None:
    """Why this session no longer carries its person (None: it still does)."""
    if status == "blocked":
        return BLOCKED
    if record is None or record.revoked_at is not None or status != "active":
        return SIGNED_OUT
    if sessions.ends_at(record, idle_minutes=_idle_minutes()) <= now:
        return SIGNED_OUT
    return None


def session_viewer(
    user_id: int, token_hash: str, browser_locale: str | None = None
) -> tuple[Viewer | None, str | None]:
    """The viewer behind a live session, or None and why it ended (BLOCKED, SIGNED_OUT).

    The session ends when it is revoked (sign-out, block, password change), passes its
    idle limit or absolute lifetime, or its person is no longer active.
    """
    record = db.session.scalar(
        select(LoginSession)
        .where(LoginSession.token_hash == token_hash, LoginSession.user_id == user_id)
        .options(
            joinedload(LoginSession.user).joinedload(User.company).joinedload(Company.group),
            joinedload(LoginSession.user).joinedload(User.roles).joinedload(Role.grants),
        )
    )
    if record is None:
        status = db.session.scalar(select(User.status).where(User.id == user_id))
        return None, _ended(None, status, utcnow())
    user = record.user
    why = _ended(record, user.status, utcnow())
    if why is not None:
        return None, why
    user.__dict__.pop("_permissions", None)
    viewer = Viewer(
        user_id=user.id,
        token_hash=token_hash,
        kind=user.kind,
        company_id=user.company_id,
        group_id=user.company.group_id if user.company else None,
        permissions=access.effective_permissions(user),
        scope=access.scope_of(user),
        ends_at=sessions.ends_at(record, idle_minutes=_idle_minutes()),
        locale=person_locale(user) or browser_locale or i18n.DEFAULT_LANGUAGE,
        zone=user.timezone or "",
        browser_locale=browser_locale,
    )
    return viewer, None


def load_viewer(user_id: int, token_hash: str) -> Viewer | None:
    """The viewer behind a live session, or None when the session or person has ended."""
    return session_viewer(user_id, token_hash)[0]


def ended_sessions(token_hashes: set[str]) -> dict[str, str]:
    """Which of these sessions have ended, and why (BLOCKED or SIGNED_OUT).

    One statement per 500 sessions, whatever the number of sockets behind them.
    """
    ended: dict[str, str] = {}
    hashes = sorted(token_hashes)
    now = utcnow()
    for start in range(0, len(hashes), 500):
        chunk = hashes[start : start + 500]
        rows = db.session.execute(
            select(LoginSession, User.status)
            .join(User, User.id == LoginSession.user_id)
            .where(LoginSession.token_hash.in_(chunk))
        ).all()
        found = {record.token_hash: (record, status) for record, status in rows}
        for token_hash in chunk:
            record, status = found.get(token_hash, (None, None))
            why = _ended(record, status, now)
            if why is not None:
                ended[token_hash] = why
    return ended


def concerned(event: Event, connections: list) -> list:
    """The sockets whose viewer an access event may have changed."""
    if event.topic in ("user_blocked", "user_changed", "sessions_revoked"):
        return [c for c in connections if c.viewer.user_id == event.id]
    if event.topic == "role_changed":
        holders = set(
            db.session.scalars(select(user_roles.c.user_id).where(user_roles.c.role_id == event.id))
        )
        return [c for c in connections if c.viewer.user_id in holders]
    if event.topic == "company_reps_changed":
        return [c for c in connections if c.viewer.kind == "staff" and c.viewer.scope is not None]
    if event.topic == "company_changed":
        return [c for c in connections if c.viewer.company_id == event.id]
    if event.topic == "group_changed":
        return [
            c for c in connections if c.viewer.kind == "customer" and c.viewer.group_id == event.id
        ]
    return []
