"""Who is behind a socket, as a small immutable snapshot safe to share between threads."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core import access
from core.models import Company, LoginSession, Role, User, company_reps, utcnow
from extensions import db


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
    permissions = frozenset(p for p in access.PERMISSIONS if access.can(user, p))
    scope = None
    if user.is_customer:
        scope = frozenset({user.company_id})
    elif not access.sees_all_customers(user):
        scope = frozenset(
            db.session.scalars(
                select(company_reps.c.company_id).where(company_reps.c.user_id == user.id)
            )
        )
    return Viewer(
        user_id=user.id,
        token_hash=token_hash,
        kind=user.kind,
        company_id=user.company_id,
        group_id=user.company.group_id if user.company else None,
        permissions=permissions,
        scope=scope,
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
