"""People's accounts: invitations, activation, blocking, roles, reps, passwords."""

import secrets
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select

from extensions import db

from . import access, audit, events, i18n, mail, passwords, roles, settings
from .accounts import find_by_email, password_matches, set_password
from .errors import FieldRefused, Refused
from .i18n import _
from .models import Company, Invitation, PasswordReset, Role, User, utcnow
from .sessions import end_all_sessions, token_hash

LinkMaker = Callable[[str], str]


def normalise_email(raw: str) -> str:
    """A valid address in canonical form, or Refused with the reason."""
    try:
        checked = validate_email(
            (raw or "").strip(),
            check_deliverability=False,
            # Reserved test domains (the demo's *.test) are accepted outside production.
            test_environment=current_app.config["PORTAL_ENV"] != "production",
        )
    except EmailNotValidError as exc:
        raise Refused(_("That email address is not valid: %(reason)s", reason=str(exc))) from exc
    return checked.normalized.lower()


def _check_grantable(actor: User, chosen: list[Role], kind: str) -> None:
    if not chosen:
        raise Refused(_("Choose at least one role."))
    for role in chosen:
        if not access.may_grant_role(actor, role, kind):
            raise Refused(_("You cannot give the role “%(role)s”.", role=role.name))


def _new_invitation(person: User, actor: User | None) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        Invitation(
            user=person,
            token_hash=token_hash(token),
            invited_by=actor,
            created_at=now,
            expires_at=now + timedelta(hours=settings.invitation_hours()),
        )
    )
    return token


def _mail(person: User, subject, body, **options) -> None:
    """Mail one person directly: core.mail renders the lazy texts in the language of the
    moment, here the one they chose, else the request's (an invitee has chosen none yet:
    the inviter's language is the best guess)."""
    with i18n.in_language(person.language) if person.language else nullcontext():
        mail.send(person.email, subject, body, reader=person, **options)


def _mail_invitation(person: User, actor: User, token: str, link: LinkMaker) -> None:
    hours = settings.invitation_hours()
    where = person.company.name if person.company else _("the seller's back office")
    _mail(
        person,
        _("Your invitation to the trade portal"),
        _(
            "Hello %(name)s,\n\n%(actor)s has invited you to the trade portal (%(where)s).\n"
            "Choose your password here within %(hours)s hours:\n\n%(link)s\n\n"
            "The link works once. If you did not expect this message, ignore it.\n",
            name=person.name,
            actor=actor.name,
            where=where,
            hours=hours,
            link=link(token),
        ),
    )


def invite(
    *,
    email: str,
    name: str,
    kind: str,
    company: Company | None,
    chosen_roles: list[Role],
    actor: User,
    link: LinkMaker,
    ip: str = "",
) -> User:
    """Create an invited person and mail them a single-use, expiring activation link."""
    address = normalise_email(email)
    name = " ".join((name or "").split())
    if not name:
        raise Refused(_("Enter the person's name."))
    if len(name) > 120:
        raise Refused(_("A name has at most %(maximum)s characters.", maximum=120))
    if db.session.scalar(select(User.id).where(func.lower(User.email) == address)):
        raise Refused(_("There is already an account with this email address."))
    if kind == "customer" and company is None:
        raise Refused(_("Choose the person's company."))
    # company_id, not company: the object joins the session only once every check passed.
    person = User(
        email=address,
        name=name,
        kind=kind,
        company_id=company.id if company else None,
        status="invited",
    )
    if not access.can_manage_person(actor, person):
        raise Refused(_("You may not invite people here."))
    _check_grantable(actor, chosen_roles, kind)
    person.roles = list(chosen_roles)
    db.session.add(person)
    db.session.flush()
    token = _new_invitation(person, actor)
    _mail_invitation(person, actor, token, link)
    audit.record(
        "user.invited",
        actor=actor,
        target=person,
        ip=ip,
        summary=f"{address} invited" + (f" to {company.name}" if company else ""),
        after={"email": address, "roles": [r.name for r in chosen_roles]},
    )
    events.record(db.session, "user_created", person.id)
    return person


def _pending(person: User) -> list[Invitation]:
    now = utcnow()
    return [
        i
        for i in db.session.scalars(select(Invitation).where(Invitation.user_id == person.id))
        if i.status_at(now) == "pending"
    ]


def first_admin(*, email: str, name: str, link: LinkMaker) -> tuple[User, str]:
    """The portal's first administrator, invited with the Admin preset (which requires
    two-factor sign-in), with the activation link. Only while nobody active can manage
    users and roles: after that, people are invited from the back office."""
    if roles.someone_keeps_control():
        raise Refused(_("Someone can already manage users: invite people from the back office."))
    address = normalise_email(email)
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise Refused(_("Give the administrator's name (at most 120 characters)."))
    if db.session.scalar(select(User.id).where(func.lower(User.email) == address)):
        raise Refused(_("There is already an account with this email address."))
    admin_role = roles.ensure_presets()["admin"]
    person = User(email=address, name=name, kind="staff", status="invited", roles=[admin_role])
    db.session.add(person)
    db.session.flush()
    token = _new_invitation(person, None)
    audit.record(
        "user.invited",
        actor=None,
        actor_email="(command line)",
        target=person,
        summary=f"{address} invited as the first administrator",
        after={"email": address, "roles": [admin_role.name]},
    )
    events.record(db.session, "user_created", person.id)
    return person, link(token)


def resend(person: User, *, actor: User, link: LinkMaker, ip: str = "") -> None:
    """A new link for someone who has not accepted yet; every older link stops working."""
    _guard(actor, person)
    if person.status != "invited":
        raise Refused(_("This person has already activated their account."))
    now = utcnow()
    for old in _pending(person):
        old.revoked_at = now
    token = _new_invitation(person, actor)
    _mail_invitation(person, actor, token, link)
    audit.record(
        "invitation.resent",
        actor=actor,
        target=person,
        ip=ip,
        summary=f"New invitation link for {person.email}",
    )
    events.record(db.session, "invitation_changed", person.id)


def revoke(person: User, *, actor: User, ip: str = "") -> None:
    """Withdraw every pending invitation of a person."""
    _guard(actor, person)
    pending = _pending(person)
    if not pending:
        raise Refused(_("There is no pending invitation to revoke."))
    now = utcnow()
    for old in pending:
        old.revoked_at = now
    audit.record(
        "invitation.revoked",
        actor=actor,
        target=person,
        ip=ip,
        summary=f"Invitation for {person.email} revoked",
    )
    events.record(db.session, "invitation_changed", person.id)


def find_invitation(token: str) -> tuple[Invitation | None, str]:
    """The invitation behind a link and its status: pending, accepted, revoked, expired, unknown."""
    if not token or len(token) > 100:
        return None, "unknown"
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    )
    if invitation is None:
        return None, "unknown"
    if invitation.user.status == "blocked":
        return invitation, "revoked"
    return invitation, invitation.status_at(utcnow())


def accept(invitation: Invitation, password: str, *, ip: str = "") -> User:
    """Activate the invited person with the password they chose; the link is used up."""
    if invitation.status_at(utcnow()) != "pending" or invitation.user.status != "invited":
        raise Refused(_("This invitation link can no longer be used."))
    person = invitation.user
    found = passwords.problems(password, email=person.email, name=person.name)
    if found:
        raise Refused(" ".join(str(problem) for problem in found))
    set_password(person, password)
    person.status = "active"
    invitation.accepted_at = utcnow()
    audit.record(
        "invitation.accepted",
        actor=person,
        target=person,
        ip=ip,
        summary=f"{person.email} activated their account",
    )
    events.record(db.session, "invitation_changed", person.id)
    return person


def _guard(actor: User, person: User) -> None:
    if not access.can_manage_person(actor, person):
        raise Refused(_("You may not manage this person."))


def block(person: User, *, actor: User, ip: str = "") -> None:
    """Block at once: every session ends and every open page is signed out."""
    _guard(actor, person)
    if person.id == actor.id:
        raise Refused(_("You cannot block yourself."))
    if person.status == "blocked":
        return
    before = person.status
    person.status = "blocked"
    person.blocked_at = utcnow()
    for pending in _pending(person):
        pending.revoked_at = utcnow()
    if person.is_staff:
        roles.ensure_control()
    end_all_sessions(person)
    audit.record(
        "user.blocked",
        actor=actor,
        target=person,
        ip=ip,
        summary=f"{person.email} blocked",
        before={"status": before},
        after={"status": "blocked"},
    )
    events.record(db.session, "user_blocked", person.id)


def unblock(person: User, *, actor: User, ip: str = "") -> None:
    """Let a blocked person in again (an unactivated one gets a new invitation instead)."""
    _guard(actor, person)
    if person.status != "blocked":
        return
    person.status = "active" if person.password_hash else "invited"
    person.blocked_at = None
    audit.record(
        "user.unblocked",
        actor=actor,
        target=person,
        ip=ip,
        summary=f"{person.email} unblocked",
        before={"status": "blocked"},
        after={"status": person.status},
    )
    events.record(db.session, "user_changed", person.id)


def set_roles(person: User, chosen: list[Role], *, actor: User, ip: str = "") -> bool:
    """Give a person exactly these roles. Losing the last role ends their sessions."""
    _guard(actor, person)
    before = sorted(r.name for r in person.roles)
    current = {r.id for r in person.roles}
    wanted = {r.id for r in chosen}
    if current == wanted:
        return False
    if person.id == actor.id:
        raise Refused(_("You cannot change your own roles."))
    # Only the roles that change need to be within the giver's rights.
    for role in chosen:
        if role.id not in current and not access.may_grant_role(actor, role, person.kind):
            raise Refused(_("You cannot give the role “%(role)s”.", role=role.name))
    for role in person.roles:
        if role.id not in wanted and not access.may_grant_role(actor, role, person.kind):
            raise Refused(_("You cannot take away the role “%(role)s”.", role=role.name))
    person.roles = list(chosen)
    person.__dict__.pop("_permissions", None)
    if person.is_staff:
        roles.ensure_control()
    if not chosen:
        end_all_sessions(person)
    audit.record(
        "user.roles_changed",
        actor=actor,
        target=person,
        ip=ip,
        summary=f"Roles of {person.email} changed",
        before={"roles": before},
        after={"roles": sorted(r.name for r in chosen)},
    )
    events.record(db.session, "user_changed", person.id)
    return True


def set_reps(company: Company, reps: list[User], *, actor: User, ip: str = "") -> bool:
    """Assign the company to exactly these sales staff (several reps per company)."""
    if not access.can(actor, "users.manage"):
        raise Refused(_("You may not assign customers to staff."))
    if any(not rep.is_staff for rep in reps):
        raise Refused(_("Only staff can be assigned to a customer."))
    before = sorted(r.email for r in company.reps)
    after = sorted(r.email for r in reps)
    if before == after:
        return False
    company.reps = list(reps)
    audit.record(
        "customer.reps_changed",
        actor=actor,
        target=company,
        ip=ip,
        summary=f"Sales reps of {company.name} changed",
        before={"reps": before},
        after={"reps": after},
    )
    events.record(db.session, "company_reps_changed", company.id)
    return True


def change_password(person: User, current: str, new: str, *, keep_token: str, ip: str = "") -> None:
    """Change one's own password; every other session of theirs ends."""
    if not password_matches(person, current):
        raise FieldRefused(_("Your current password is not correct."), "current")
    if new == current:
        raise FieldRefused(_("Choose a password different from the current one."), "password")
    found = passwords.problems(new, email=person.email, name=person.name)
    if found:
        raise FieldRefused(" ".join(str(problem) for problem in found), "password")
    set_password(person, new)
    end_all_sessions(person, keep_token=keep_token)
    audit.record(
        "auth.password_changed",
        actor=person,
        target=person,
        ip=ip,
        summary=f"{person.email} changed their password",
    )


def request_password_reset(email: str, *, minutes: int, link: LinkMaker, ip: str = "") -> None:
    """Mail a single-use link to choose a new password to the active account behind this
    address, if there is one. Nothing comes back: the caller answers the same either way.

    A newer link replaces any earlier one. Invited people use their invitation, blocked
    people get nothing.
    """
    person = find_by_email(email or "")
    if person is None or person.status != "active":
        return
    now = utcnow()
    for earlier in db.session.scalars(
        select(PasswordReset).where(
            PasswordReset.user_id == person.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.revoked_at.is_(None),
        )
    ):
        earlier.revoked_at = now
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordReset(
            user_id=person.id,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
            ip=ip[:45],
        )
    )
    _mail(
        person,
        _("Choose a new password for the trade portal"),
        _(
            "Hello %(name)s,\n\nSomeone (we hope you) asked to reset the password of your "
            "trade portal account. Choose a new one here within %(minutes)s minutes:\n\n"
            "%(link)s\n\nThe link works once. If you did not ask for it, ignore this message: "
            "your password stays as it is.\n",
            name=person.name,
            minutes=minutes,
            link=link(token),
        ),
    )
    audit.record(
        "auth.password_reset_requested",
        actor=None,
        actor_email=person.email,
        target=person,
        ip=ip,
        summary=f"Password reset link sent to {person.email}",
    )


def find_password_reset(token: str) -> PasswordReset | None:
    """The reset behind a link, if it can still be used (unused, not replaced, not expired)."""
    if not token or len(token) > 100:
        return None
    reset = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == token_hash(token))
    )
    if reset is None or not reset.usable_at(utcnow()) or reset.user.status != "active":
        return None
    return reset


def reset_password(reset: PasswordReset, password: str, *, ip: str = "") -> User:
    """Set the new password through a reset link; the link is used up and every session
    and open page of the person ends."""
    person = reset.user
    if not reset.usable_at(utcnow()) or person.status != "active":
        raise Refused(_("This link can no longer be used. Ask for a new one."))
    found = passwords.problems(password, email=person.email, name=person.name)
    if found:
        raise FieldRefused(" ".join(str(problem) for problem in found), "password")
    set_password(person, password)
    reset.used_at = utcnow()
    end_all_sessions(person)
    audit.record(
        "auth.password_reset",
        actor=person,
        target=person,
        ip=ip,
        summary=f"{person.email} chose a new password through a reset link",
    )
    return person


def set_assignments(person: User, companies: list[Company], *, actor: User, ip: str = "") -> bool:
    """Assign a staff person to exactly these customers, among those the actor may see.

    Each company whose reps change goes through set_reps (with its audit entry);
    assignments to companies outside the actor's sight are left as they are.
    """
    if not access.can(actor, "users.manage"):
        raise Refused(_("You may not assign customers to staff."))
    if not person.is_staff:
        raise Refused(_("Only staff can be assigned to a customer."))
    visible = list(db.session.scalars(access.visible_companies(actor)))
    wanted = {c.id for c in companies}
    if not wanted <= {c.id for c in visible}:
        raise Refused(_("You may not assign a customer you cannot see."))
    current = {c.id for c in person.assigned_companies}
    changed = False
    for company in visible:
        if (company.id in current) == (company.id in wanted):
            continue
        others = [rep for rep in company.reps if rep.id != person.id]
        reps = [*others, person] if company.id in wanted else others
        changed |= set_reps(company, reps, actor=actor, ip=ip)
    return changed


def invitation_statuses(people: list[User]) -> dict[int, str]:
    """The status of each person's latest invitation (pending, accepted, revoked, expired)."""
    if not people:
        return {}
    now = utcnow()
    latest: dict[int, Invitation] = {}
    stmt = (
        select(Invitation)
        .where(Invitation.user_id.in_([p.id for p in people]))
        .order_by(Invitation.created_at, Invitation.id)
    )
    for invitation in db.session.scalars(stmt):
        latest[invitation.user_id] = invitation
    return {user_id: invitation.status_at(now) for user_id, invitation in latest.items()}
