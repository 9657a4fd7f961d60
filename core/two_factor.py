"""Two-factor sign-in: time-based codes (TOTP, RFC 6238) and ten one-time recovery codes.

A person enrols by scanning a QR code (drawn here as SVG by segno) into an authenticator
app and typing one code back; only then is two-factor on, and ten recovery codes are
shown, once. At sign-in the second step comes before any session exists (see
blueprints/auth). A code works once (the last time step used is kept), within one step
of clock drift; wrong codes are throttled like passwords (core.throttle).

The secret is stored encrypted with a key derived from SECRET_KEY, so a copy of the
database alone yields no codes. Changing SECRET_KEY therefore voids every secret: people
then sign in with a recovery code and enrol again (the README's "Security" says so).
Recovery codes are 80 random bits each, kept as their SHA-256.
"""

import base64
import hashlib
import re
import secrets
from datetime import UTC, datetime

import pyotp
import segno
from sqlalchemy import delete, func, select

from extensions import db

from . import access, audit, events, sealed
from .errors import FieldRefused, Refused
from .i18n import _
from .models import RecoveryCode, User, utcnow
from .sessions import end_all_sessions

ISSUER = "Trade portal"
RECOVERY_CODES = 10
DRIFT_STEPS = 1  # a code of the step before or after is accepted too (30 s of clock drift)
_TOTP_CODE = re.compile(r"[0-9]{6}")
_RECOVERY_CODE = re.compile(r"[A-Z2-7]{16}")


PURPOSE = "totp secrets"  # core.sealed's key for these


def _seal(secret: str) -> str:
    return sealed.seal(secret, PURPOSE)


def _unseal(text: str | None) -> str | None:
    """The person's TOTP secret, or None (none set, or sealed under another SECRET_KEY)."""
    return sealed.unseal(text, PURPOSE)


def is_enrolled(user: User) -> bool:
    return user.totp_enabled_at is not None


def _normalised(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normalised(code).encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    """Ten fresh recovery codes replace any earlier ones; returned once, as shown."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _unused in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode()
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_code_hash(raw)))
    return codes


def remaining_codes(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


# --- enrolment -----------------------------------------------------------------------------


def start(user: User) -> str:
    """A new secret to scan, kept (sealed) until a code confirms it; two-factor stays as it
    was until then. Returns the secret, to show as a QR code and as text."""
    if is_enrolled(user):
        raise Refused(_("Two-factor sign-in is already on. Turn it off first to use a new device."))
    secret = pyotp.random_base32()
    user.totp_secret = _seal(secret)
    user.totp_last_step = None
    return secret


def pending_secret(user: User) -> str | None:
    """The secret of an enrolment begun but not confirmed, if any."""
    return None if is_enrolled(user) else _unseal(user.totp_secret)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of an otpauth URI, as SVG markup (no script: it stays inside the CSP)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#111", light="#fff")


def _matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step this code belongs to, if it is valid now and not used before."""
    code = _normalised(code)
    if not _TOTP_CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(datetime.now(UTC))
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if (last_step is None or step > last_step) and secrets.compare_digest(
            totp.generate_otp(step), code
        ):
            return step
    return None


def confirm(user: User, code: str, *, ip: str = "") -> list[str]:
    """Turn two-factor on with the first code from the app; returns the recovery codes."""
    secret = pending_secret(user)
    if secret is None:
        raise Refused(_("Start again: scan the new QR code, then type the code it shows."))
    step = _matching_step(secret, code, None)
    if step is None:
        raise FieldRefused(
            _("That code does not match. Type the six digits your app shows now."), "code"
        )
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    audit.record(
        "auth.two_factor_enabled",
        actor=user,
        target=user,
        ip=ip,
        summary=f"{user.email} turned two-factor sign-in on",
    )
    return codes


# --- signing in ----------------------------------------------------------------------------


def verify(user: User, code: str) -> bool:
    """Is this a valid second factor for the person now? A code is used up by passing.

    Six digits are a TOTP code; sixteen letters and digits (dashes and spaces ignored)
    a recovery code.
    """
    if not is_enrolled(user):
        return False
    normalised = _normalised(code)
    if _RECOVERY_CODE.fullmatch(normalised):
        used = db.session.execute(
            RecoveryCode.__table__.update()
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _code_hash(normalised),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
        ).rowcount
        return used == 1
    secret = _unseal(user.totp_secret)
    if secret is None:
        return False
    step = _matching_step(secret, normalised, user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


# --- afterwards ----------------------------------------------------------------------------


def regenerate_codes(user: User, *, ip: str = "") -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    if not is_enrolled(user):
        raise Refused(_("Turn two-factor sign-in on first."))
    codes = _new_recovery_codes(user)
    audit.record(
        "auth.recovery_codes_renewed",
        actor=user,
        target=user,
        ip=ip,
        summary=f"{user.email} made new recovery codes",
    )
    return codes


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def turn_off(user: User, *, ip: str = "") -> None:
    """Turn one's own two-factor sign-in off, unless a role of theirs requires it."""
    if not is_enrolled(user):
        raise Refused(_("Two-factor sign-in is not on."))
    if access.must_use_two_factor(user):
        raise Refused(
            _(
                "Your role requires two-factor sign-in: it cannot be turned off. To use another "
                "device, ask an administrator to reset it, then enrol at your next sign-in."
            )
        )
    _clear(user)
    audit.record(
        "auth.two_factor_disabled",
        actor=user,
        target=user,
        ip=ip,
        summary=f"{user.email} turned two-factor sign-in off",
    )


def reset(person: User, *, actor: User, ip: str = "") -> None:
    """Another person's second factor, reset (a lost phone): their sessions end, and they
    enrol again at their next sign-in if a role of theirs requires it."""
    if not access.may_reset_second_factor(actor, person):
        raise Refused(_("You may not reset this person's two-factor sign-in."))
    if person.id == actor.id:
        raise Refused(_("Reset your own two-factor sign-in from your account page."))
    if not is_enrolled(person) and not person.totp_secret:
        raise Refused(_("%(name)s has no two-factor sign-in to reset.", name=person.name))
    _clear(person)
    end_all_sessions(person)
    audit.record(
        "auth.two_factor_reset",
        actor=actor,
        target=person,
        ip=ip,
        summary=f"Two-factor sign-in of {person.email} reset",
    )
    events.record(db.session, "user_changed", person.id)
