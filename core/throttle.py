"""Sign-in throttling per account and per address, from the recorded attempts."""

from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import func, select

from extensions import db

from .models import LoginAttempt, utcnow

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5
PER_ADDRESS = 30


def _failures_since(column, value: str, since: datetime) -> tuple[int, datetime | None]:
    count, oldest = db.session.execute(
        select(func.count(LoginAttempt.id), func.min(LoginAttempt.created_at)).where(
            column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > since
        )
    ).one()
    return count, oldest


def wait_minutes(email: str, ip: str, now: datetime | None = None) -> int:
    """Minutes until another attempt is allowed; 0 when it is allowed now."""
    now = now or utcnow()
    since = now - WINDOW
    waits = []
    for column, value, limit in (
        (LoginAttempt.email, email.strip().lower()[:254], PER_ACCOUNT),
        (LoginAttempt.ip, ip[:45], PER_ADDRESS),
    ):
        count, oldest = _failures_since(column, value, since)
        if count >= limit and oldest is not None:
            waits.append(max(1, ceil((oldest + WINDOW - now).total_seconds() / 60)))
    return max(waits, default=0)


def note(email: str, ip: str, *, succeeded: bool) -> None:
    """Record an attempt; a success clears the account's failures."""
    email = email.strip().lower()[:254]
    if succeeded:
        db.session.execute(
            LoginAttempt.__table__.delete().where(
                LoginAttempt.email == email, LoginAttempt.succeeded.is_(False)
            )
        )
    db.session.add(LoginAttempt(email=email, ip=ip[:45], succeeded=succeeded))
