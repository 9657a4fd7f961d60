"""Who is behind a socket, as a small immutable snapshot safe to share between threads."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core import access
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


def load_viewer(user_id: int, token_hash: str) -> Viewer | None:
    """The viewer behind a live session, or None when the session or person has ended."""
    record = db.session.scalar(
        select(LoginSession)
        .where(LoginSession.token_hash == token_hash, LoginSession.user_id == user_id)
        .options(
            joinedload(LoginSession.user).joinedload(User.company).joinedload(Company.group),
            joinedload(LoginSession.user).joinedload(User.roles).joinedload(Role.grants),
        )
    )
    now = utcnow()
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        return None
    user = record.user
    if user.status != "active":
        return None
    user.__dict__.pop("_permissions", None)
    return Viewer(
        user_id=user.id,
        token_hash=token_hash,
        kind=user.kind,
        company_id=user.company_id,
        group_id=user.company.group_id if user.company else None,
        permissions=access.effective_permissions(user),
        scope=access.scope_of(user),
    )


def live_tokens(token_hashes: set[str]) -> set[str]:
    """Which of these sessions are still live (not revoked, not expired, person active)."""
    found: set[str] = set()
    hashes = sorted(token_hashes)
    for start in range(0, len(hashes), 500):
        found |= set(
            db.session.scalars(
                select(LoginSession.token_hash)
                .join(User, User.id == LoginSession.user_id)
                .where(
                    LoginSession.token_hash.in_(hashes[start : start + 500]),
                    LoginSession.revoked_at.is_(None),
                    LoginSession.expires_at > utcnow(),
                    User.status == "active",
                )
            )
        )
    return found


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
