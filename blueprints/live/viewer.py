"""Who is behind a socket, as a small immutable snapshot safe to share between threads."""

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.i18n import person_locale
from core import access, acting, i18n, sessions
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
        acting.CHANGED,
    }
)
# Access events after which the viewers concerned get all their regions afresh, even when
# their rights did not change: their offer did (new reps' lists, a group's new policy).
RESYNC_TOPICS = frozenset({"company_reps_changed", "group_changed"})

# Why a socket's session ended, as the page is told (the close reason and its notice).
BLOCKED = "blocked"
SIGNED_OUT = "signed out"
# The storefront a staff session opened for a customer person closed (exit, access lost).
VIEW_ENDED = "view ended"


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
    # A storefront page a staff member opened as a customer person (core.acting): the
    # viewer is that person, with what core.access.assume lends; `acting_id` is the staff
    # member, whose session (token_hash) it is, and `acting_mode` "act" or "view".
    acting_id: int | None = None
    acting_mode: str = ""


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


_SHARED: dict = {}  # equal frozensets of permissions and scopes, kept once


def _shared(values: frozenset) -> frozenset:
    """One object for equal sets: 10,000 sockets of a few roles hold a few sets."""
    if len(_SHARED) > 10_000:
        _SHARED.clear()
    return _SHARED.setdefault(values, values)


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
        permissions=_shared(frozenset(access.effective_permissions(user))),
        scope=None if (scope := access.scope_of(user)) is None else _shared(frozenset(scope)),
        ends_at=sessions.ends_at(record, idle_minutes=_idle_minutes()),
        locale=person_locale(user) or browser_locale or i18n.DEFAULT_LANGUAGE,
        zone=user.timezone or "",
        browser_locale=browser_locale,
    )
    return viewer, None


def assumed_viewer(
    staff_id: int, token_hash: str, person_id: int, browser_locale: str | None = None
) -> tuple[Viewer | None, str | None]:
    """The viewer of a storefront page a staff session opened as a customer person, or None
    and why: the staff session ended (BLOCKED, SIGNED_OUT), or it no longer opens the
    storefront as this person, or the staff member no longer may (VIEW_ENDED).

    The person's regions, as core.access.assume lends them: never more than the person
    sees, nor more than the staff member may read of that customer. The language and time
    zone are the staff member's: they read the pushes.
    """
    staff_viewer, why = session_viewer(staff_id, token_hash, browser_locale)
    if staff_viewer is None:
        return None, why
    record = db.session.scalar(
        select(LoginSession).where(
            LoginSession.token_hash == token_hash, LoginSession.user_id == staff_id
        )
    )  # read by session_viewer already, with its person: no second statement for them
    assumed = sessions.assumed_of(record) if record is not None else None
    if assumed is None or assumed.person_id != person_id:
        return None, VIEW_ENDED
    person = db.session.scalar(
        select(User)
        .where(User.id == person_id)
        .options(
            joinedload(User.company).joinedload(Company.group),
            joinedload(User.roles).joinedload(Role.grants),
        )
    )
    if person is None:
        return None, VIEW_ENDED
    staff = record.user
    for someone in (staff, person):  # their rights as they are now, not as first read
        someone.__dict__.pop("_permissions", None)
    if not access.may_assume(staff, person, assumed.mode):
        return None, VIEW_ENDED
    access.assume(person, staff, assumed.mode)
    viewer = Viewer(
        user_id=person.id,
        token_hash=token_hash,
        kind=person.kind,
        company_id=person.company_id,
        group_id=person.company.group_id,
        permissions=_shared(frozenset(access.effective_permissions(person))),
        scope=_shared(frozenset({person.company_id})),
        ends_at=staff_viewer.ends_at,
        locale=staff_viewer.locale,
        zone=staff_viewer.zone,
        browser_locale=browser_locale,
        acting_id=staff_id,
        acting_mode=assumed.mode,
    )
    return viewer, None


def reload_viewer(viewer: Viewer) -> tuple[Viewer | None, str | None]:
    """The viewer of the same socket read afresh, or None and why its session ended."""
    if viewer.acting_id is not None:
        return assumed_viewer(
            viewer.acting_id, viewer.token_hash, viewer.user_id, viewer.browser_locale
        )
    return session_viewer(viewer.user_id, viewer.token_hash, viewer.browser_locale)


def session_states(token_hashes: list[str]) -> dict:
    """Sessions' own states and their people's status, in one light statement: whether
    each still carries its person, and until when (`ended`, `state_ends_at`), without
    their rights. A session not found is absent."""
    rows = db.session.execute(
        select(
            LoginSession.token_hash,
            LoginSession.user_id,
            LoginSession.revoked_at,
            LoginSession.expires_at,
            LoginSession.last_seen_at,
            User.status,
        )
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_hash.in_(token_hashes))
    )
    return {row.token_hash: row for row in rows}


def ended(state) -> str | None:
    """Why the session of this `session_states` row (None: not found) no longer carries its
    person; None when it does."""
    return _ended(state, state.status if state is not None else None, utcnow())


def state_ends_at(state) -> datetime:
    """When the session of this `session_states` row ends unless it is used again."""
    return sessions.ends_at(state, idle_minutes=_idle_minutes())


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
    """The sockets whose viewer an access event may have changed (a storefront page opened
    by staff for a customer person: the staff member's events, and the person's)."""
    if event.topic in ("user_blocked", "user_changed", "sessions_revoked", acting.CHANGED):
        return [c for c in connections if event.id in (c.viewer.user_id, c.viewer.acting_id)]
    if event.topic == "role_changed":
        holders = set(
            db.session.scalars(select(user_roles.c.user_id).where(user_roles.c.role_id == event.id))
        )
        return [
            c for c in connections if c.viewer.user_id in holders or c.viewer.acting_id in holders
        ]
    if event.topic == "company_reps_changed":
        return [
            c
            for c in connections
            if (c.viewer.kind == "staff" and c.viewer.scope is not None)
            or c.viewer.acting_id is not None
        ]
    if event.topic == "company_changed":
        return [c for c in connections if c.viewer.company_id == event.id]
    if event.topic == "group_changed":
        return [
            c for c in connections if c.viewer.kind == "customer" and c.viewer.group_id == event.id
        ]
    return []
