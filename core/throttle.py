"""Throttling of everything that tries to prove who one is, from the recorded attempts.

Each kind of attempt (a password at sign-in, a second-factor code, the current password
when changing it, a request for a reset link) has its own limits. Failures count per
account *from one client* and per client: someone guessing from one address never locks
the account's owner out from another (the README's "Security" section). Reset requests
also count per account over all clients, so nobody can fill a person's mailbox; a
request beyond that is answered like any other and sends nothing.

A client is the address the request came from, as the trusted proxies say (PROXY_HOPS).

Orders refused for want of stock count per company (`company_wait`, `note_company`): a
refusal answers "is there at least this many?", so a group that sees only levels could
find the count by trying quantities at checkout. After COMPANY_LIMITS' number in its
window, every order of the company waits (429) until the oldest refusal leaves it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import delete, func, select

from extensions import db

from .i18n import ngettext
from .models import LoginAttempt, utcnow


@dataclass(frozen=True)
class Limit:
    """Failures allowed within `window`: of one account from one client, from one client
    whatever the account, and (when set) of one account from anywhere."""

    per_pair: int
    per_client: int
    window: timedelta
    per_account: int | None = None


LIMITS = {
    "sign_in": Limit(per_pair=5, per_client=30, window=timedelta(minutes=15)),
    "second_factor": Limit(per_pair=5, per_client=30, window=timedelta(minutes=15)),
    "password_change": Limit(per_pair=5, per_client=30, window=timedelta(minutes=15)),
    "reset": Limit(per_pair=3, per_client=10, window=timedelta(hours=1), per_account=3),
    # Unknown quote links (core.quote_links) from one client: nobody guesses a token.
    "quote_link": Limit(per_pair=20, per_client=20, window=timedelta(minutes=15)),
}


@dataclass(frozen=True)
class CompanyLimit:
    """Refusals of one company allowed within `window`, whoever of its people tried."""

    refusals: int
    window: timedelta


COMPANY_LIMITS = {
    "order_stock": CompanyLimit(refusals=5, window=timedelta(minutes=15)),
}


def _key(email: str) -> str:
    return (email or "").strip().lower()[:254]


def _wait(conditions, limit: int, window: timedelta, now: datetime) -> int:
    """Minutes until the oldest counted failure leaves the window, if the limit is reached."""
    count, oldest = db.session.execute(
        select(func.count(LoginAttempt.id), func.min(LoginAttempt.created_at)).where(
            *conditions, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > now - window
        )
    ).one()
    if count < limit or oldest is None:
        return 0
    return max(1, ceil((oldest + window - now).total_seconds() / 60))


def wait_minutes(kind: str, email: str, ip: str, now: datetime | None = None) -> int:
    """Minutes until another attempt of this kind is allowed; 0 when it is allowed now."""
    limit = LIMITS[kind]
    now = now or utcnow()
    same_kind = LoginAttempt.kind == kind
    account, client = LoginAttempt.email == _key(email), LoginAttempt.ip == ip[:45]
    waits = [
        _wait((same_kind, account, client), limit.per_pair, limit.window, now),
        _wait((same_kind, client), limit.per_client, limit.window, now),
    ]
    if limit.per_account is not None:
        waits.append(_wait((same_kind, account), limit.per_account, limit.window, now))
    return max(waits)


def client_wait(kind: str, ip: str, now: datetime | None = None) -> int:
    """Minutes until this client may try this kind again, whatever the account."""
    limit = LIMITS[kind]
    conditions = (LoginAttempt.kind == kind, LoginAttempt.ip == ip[:45])
    return _wait(conditions, limit.per_client, limit.window, now or utcnow())


def note(kind: str, email: str, ip: str, *, succeeded: bool) -> None:
    """Record an attempt. A success clears that account's failures from that client only,
    so a success elsewhere never resets what a guesser has spent."""
    email, ip = _key(email), ip[:45]
    if succeeded:
        db.session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.kind == kind,
                LoginAttempt.email == email,
                LoginAttempt.ip == ip,
                LoginAttempt.succeeded.is_(False),
            )
        )
    db.session.add(LoginAttempt(kind=kind, email=email, ip=ip, succeeded=succeeded))


def _company_key(company_id: int) -> str:
    # Kept in the attempts' account column: a company is never an email address.
    return f"company:{company_id}"


def company_wait(kind: str, company_id: int, now: datetime | None = None) -> int:
    """Minutes until this company may try this kind again; 0 when it may now."""
    limit = COMPANY_LIMITS[kind]
    conditions = (LoginAttempt.kind == kind, LoginAttempt.email == _company_key(company_id))
    return _wait(conditions, limit.refusals, limit.window, now or utcnow())


def note_company(kind: str, company_id: int, ip: str = "") -> None:
    """Record one refusal of this company's (a success never clears them)."""
    db.session.add(
        LoginAttempt(kind=kind, email=_company_key(company_id), ip=(ip or "")[:45], succeeded=False)
    )


# What a throttled person reads, by what was counted: one whole sentence each, so that
# every language words it its own way (and its plural follows the minutes).
_WAIT_MESSAGES = {
    "sign-in attempts": lambda n: ngettext(
        "Too many sign-in attempts. Wait %(num)d minute and try again.",
        "Too many sign-in attempts. Wait %(num)d minutes and try again.",
        n,
    ),
    "two-factor codes": lambda n: ngettext(
        "Too many two-factor codes. Wait %(num)d minute and try again.",
        "Too many two-factor codes. Wait %(num)d minutes and try again.",
        n,
    ),
    "wrong passwords": lambda n: ngettext(
        "Too many wrong passwords. Wait %(num)d minute and try again.",
        "Too many wrong passwords. Wait %(num)d minutes and try again.",
        n,
    ),
    "wrong current passwords": lambda n: ngettext(
        "Too many wrong current passwords. Wait %(num)d minute and try again.",
        "Too many wrong current passwords. Wait %(num)d minutes and try again.",
        n,
    ),
    "reset requests from your network": lambda n: ngettext(
        "Too many reset requests from your network. Wait %(num)d minute and try again.",
        "Too many reset requests from your network. Wait %(num)d minutes and try again.",
        n,
    ),
    "orders refused for want of stock at your company": lambda n: ngettext(
        "Too many orders refused for want of stock at your company. "
        "Wait %(num)d minute and try again.",
        "Too many orders refused for want of stock at your company. "
        "Wait %(num)d minutes and try again.",
        n,
    ),
}


def wait_message(minutes: int, what: str = "sign-in attempts"):
    """What a throttled person reads: how long to wait (lazy, in the reader's language).

    `what` names what was counted, one of _WAIT_MESSAGES' keys; any other gets a
    general sentence.
    """
    message = _WAIT_MESSAGES.get(what)
    if message is not None:
        return message(minutes)
    return ngettext(
        "Too many attempts. Wait %(num)d minute and try again.",
        "Too many attempts. Wait %(num)d minutes and try again.",
        minutes,
    )
