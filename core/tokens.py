"""Personal access tokens of the integration API: made, listed, revoked, and checked.

A token is `ptk_<prefix>_<secret>`: twelve hex characters that find its row, and 256
random bits. Only its SHA-256 is stored (a secret of that entropy needs no slow hash): a
copy of the database lets nobody call the API. A token acts as its owner, with exactly
the owner's permissions, record scope and customer group as they are at each request, and
optionally only reads. It is dead at once when revoked, when it expires, when its owner is
blocked (or not yet active) and when the owner's company is deactivated.

`authenticate` runs on a connection of its own and commits at once: the use it records
(last use, and the request counted in the token's rate-limit window) stays although the
request it admits may be refused and rolled back, and a request beyond the limit never
opens the request's own transaction.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import case, select, update

from extensions import db

from . import audit
from .errors import FieldRefused, Refused
from .i18n import _
from .models import ApiToken, Company, User, utcnow

SCHEME = "ptk"
_FORMAT = re.compile(r"ptk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
NAME_LENGTH = 80
MAX_EXPIRY_DAYS = 3650
MAX_ACTIVE = 25  # live tokens per person: each is a way in, kept to what one can oversee


def digest(raw: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(raw.encode()).hexdigest()


def prefix_of(raw: str) -> str | None:
    """The lookup prefix of a well-formed token, else None (never a database query)."""
    match = _FORMAT.fullmatch(raw or "")
    return match.group(1) if match else None


def new_secret() -> tuple[str, str]:
    """(prefix, whole token) for a new token."""
    prefix = secrets.token_hex(6)
    return prefix, f"{SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"


def is_live(token: ApiToken, now: datetime | None = None) -> bool:
    return token.status_at(now or utcnow()) == "active"


def clean_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise FieldRefused(_("Give the token a name, such as the system that will use it."), "name")
    if len(name) > NAME_LENGTH:
        raise FieldRefused(
            _("A token's name has at most %(count)s characters.", count=NAME_LENGTH), "name"
        )
    return name


def clean_expiry(days) -> int | None:
    if days in (None, ""):
        return None
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise FieldRefused(
            _(
                "A token expires after 1 to %(most)s days, or never (leave it empty).",
                most=MAX_EXPIRY_DAYS,
            ),
            "expires_days",
        )
    return days


def create(
    owner: User,
    name: str,
    *,
    read_only: bool = False,
    expires_days: int | None = None,
    actor: User | None,
    ip: str = "",
    actor_email: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token of `owner`'s, and the token itself (shown once, never kept)."""
    if owner.status != "active":
        raise Refused(_("Only an active account can have API tokens."))
    name = clean_name(name)
    days = clean_expiry(expires_days)
    now = utcnow()
    live = [t for t in tokens_of(owner) if is_live(t, now)]
    if any(t.name.casefold() == name.casefold() for t in live):
        raise FieldRefused(
            _("You already have a token named “%(name)s”: choose another name.", name=name),
            "name",
        )
    if len(live) >= MAX_ACTIVE:
        raise Refused(
            _(
                "You have %(count)s live tokens, the most one person may hold: revoke one "
                "you no longer use first.",
                count=MAX_ACTIVE,
            )
        )
    prefix, raw = new_secret()
    token = ApiToken(
        user_id=owner.id,
        name=name,
        prefix=prefix,
        token_hash=digest(raw),
        read_only=bool(read_only),
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
        last_used_ip="",
        window_count=0,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "token.created",
        actor=actor,
        actor_email=actor_email,
        target=token,
        summary=f"API token “{name}” created for {owner.email}",
        after={
            "name": name,
            "owner": owner.email,
            "read_only": bool(read_only),
            "expires_at": token.expires_at.isoformat(timespec="minutes")
            if token.expires_at
            else None,
        },
        ip=ip,
    )
    return token, raw


def tokens_of(owner: User) -> list[ApiToken]:
    """A person's tokens, newest first (revoked and expired ones too)."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == owner.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def load_own(owner: User, token_id: int) -> ApiToken | None:
    """One of the person's own tokens, else None (someone else's is a 404)."""
    return db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == owner.id)
    )


def revoke(token: ApiToken, *, actor: User, ip: str = "") -> None:
    """Dead from the next request on; the row stays, so the list shows what was."""
    if token.revoked_at is not None:
        raise Refused(_("This token is already revoked."))
    token.revoked_at = utcnow()
    audit.record(
        "token.revoked",
        actor=actor,
        target=token,
        summary=f"API token “{token.name}” revoked",
        before={"status": "active"},
        after={"status": "revoked", "name": token.name},
        ip=ip,
    )


# --- checking a token at each request ----------------------------------------------------


@dataclass(frozen=True)
class Admitted:
    """A live token admitted for one request: whose, which, and what is left of its limit."""

    token_id: int
    user_id: int
    name: str
    read_only: bool
    limit: int
    remaining: int
    reset_seconds: int


@dataclass(frozen=True)
class Throttled:
    """A live token past its rate limit: how many seconds until its window ends."""

    token_id: int
    limit: int
    retry_after: int


def authenticate(
    raw: str, *, ip: str, limit: int, window_seconds: int, now: datetime | None = None
) -> Admitted | Throttled | None:
    """Check a token and count this request against its rate limit, on a connection of its
    own (committed at once); None: no such live token of an active person."""
    prefix = prefix_of(raw)
    if prefix is None:
        return None
    now = now or utcnow()
    window = timedelta(seconds=window_seconds)
    with db.engine.begin() as conn:
        row = conn.execute(
            select(
                ApiToken.id,
                ApiToken.user_id,
                ApiToken.name,
                ApiToken.token_hash,
                ApiToken.read_only,
                ApiToken.expires_at,
                ApiToken.revoked_at,
                User.status,
                User.company_id,
                Company.is_active,
            )
            .join(User, User.id == ApiToken.user_id)
            .outerjoin(Company, Company.id == User.company_id)
            .where(ApiToken.prefix == prefix)
        ).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest(raw)):
            return None
        if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            return None
        if row.status != "active" or (row.company_id is not None and not row.is_active):
            return None
        fresh = ApiToken.window_started_at.is_(None) | (ApiToken.window_started_at <= now - window)
        # The count is set first, reading the window's start as it was: MariaDB assigns
        # left to right and sees the values already set (SQLite sees the old ones).
        conn.execute(
            update(ApiToken)
            .where(ApiToken.id == row.id)
            .ordered_values(
                (ApiToken.window_count, case((fresh, 1), else_=ApiToken.window_count + 1)),
                (ApiToken.window_started_at, case((fresh, now), else_=ApiToken.window_started_at)),
                (ApiToken.last_used_at, now),
                (ApiToken.last_used_ip, (ip or "")[:45]),
            )
            .execution_options(synchronize_session=False)
        )
        count, started = conn.execute(
            select(ApiToken.window_count, ApiToken.window_started_at).where(ApiToken.id == row.id)
        ).one()
    reset = max(1, ceil((started + window - now).total_seconds()))
    if count > limit:
        return Throttled(row.id, limit, reset)
    return Admitted(row.id, row.user_id, row.name, bool(row.read_only), limit, limit - count, reset)
