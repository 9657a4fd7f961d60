"""Roles: named sets of permissions, created, renamed, changed and deleted with audit."""

from sqlalchemy import distinct, func, select

from extensions import db

from . import access, audit, events
from .errors import Refused
from .i18n import _, ngettext
from .models import Role, RolePermission, User, user_roles
from .sessions import end_all_sessions

KEEPER = frozenset({"users.manage", "roles.edit"})


def allowed_permissions(scope: str) -> frozenset[str]:
    return access.STAFF_PERMISSIONS if scope == "staff" else access.CUSTOMER_PERMISSIONS


def _clean_name(name: str, scope: str, role: Role | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Refused(_("Give the role a name."))
    if len(name) > 80:
        raise Refused(_("A role name has at most 80 characters."))
    clash = db.session.scalar(
        select(Role).where(func.lower(Role.name) == name.lower(), Role.scope == scope)
    )
    if clash is not None and clash is not role:
        raise Refused(_("There is already a role called “%(name)s”.", name=clash.name))
    return name


def _clean_permissions(permissions, scope: str) -> frozenset[str]:
    chosen = frozenset(permissions)
    unknown = chosen - allowed_permissions(scope)
    if unknown:
        raise Refused(
            _(
                "Unknown permissions for this kind of role: %(codes)s",
                codes=", ".join(sorted(unknown)),
            )
        )
    return chosen


def someone_keeps_control() -> bool:
    """At least one active staff person can still manage users and roles."""
    stmt = (
        select(User.id)
        .join(user_roles, user_roles.c.user_id == User.id)
        .join(RolePermission, RolePermission.role_id == user_roles.c.role_id)
        .where(User.kind == "staff", User.status == "active", RolePermission.permission.in_(KEEPER))
        .group_by(User.id)
        .having(func.count(distinct(RolePermission.permission)) == len(KEEPER))
        .limit(1)
    )
    return db.session.scalar(stmt) is not None


def ensure_control() -> None:
    db.session.flush()
    if not someone_keeps_control():
        raise Refused(
            _(
                "This change would leave nobody able to manage users and roles. "
                "Give those permissions to another active person first."
            )
        )


def create(name: str, scope: str, permissions, *, actor: User, ip: str = "") -> Role:
    """A new role with a unique name and permissions of its scope."""
    if scope not in ("staff", "customer"):
        raise Refused(_("A role is for staff or for customer people."))
    role = Role(name=_clean_name(name, scope), scope=scope)
    chosen = _clean_permissions(permissions, scope)
    role.grants = [RolePermission(permission=p) for p in sorted(chosen)]
    db.session.add(role)
    audit.record(
        "role.created",
        actor=actor,
        target=role,
        summary=f"Role {role.name} created",
        after={"name": role.name, "scope": scope, "permissions": sorted(chosen)},
        ip=ip,
    )
    events.record(db.session, "role_created", role.id, scope=scope)
    return role


def rename(role: Role, name: str, *, actor: User, ip: str = "") -> None:
    new = _clean_name(name, role.scope, role)
    if new == role.name:
        return
    before = role.name
    role.name = new
    audit.record(
        "role.renamed",
        actor=actor,
        target=role,
        summary=f"Role {before} renamed to {new}",
        before={"name": before},
        after={"name": new},
        ip=ip,
    )
    events.record(db.session, "role_changed", role.id)


def set_permissions(role: Role, permissions, *, actor: User, ip: str = "") -> bool:
    """Replace the role's permissions; every holder gets the change at once."""
    chosen = _clean_permissions(permissions, role.scope)
    before = role.permissions
    if chosen == before:
        return False
    role.grants = [g for g in role.grants if g.permission in chosen] + [
        RolePermission(permission=p) for p in sorted(chosen - before)
    ]
    if role.scope == "staff":
        ensure_control()
    audit.record(
        "role.permissions_changed",
        actor=actor,
        target=role,
        summary=f"Role {role.name}: +{len(chosen - before)} −{len(before - chosen)} permissions",
        before={"permissions": sorted(before)},
        after={"permissions": sorted(chosen)},
        ip=ip,
    )
    events.record(db.session, "role_changed", role.id)
    return True


def delete(role: Role, *, actor: User, reassign_to: Role | None = None, ip: str = "") -> None:
    """Delete a role; its holders move to `reassign_to`, or the role must not be held."""
    holders = list(role.holders)
    if holders and reassign_to is None:
        raise Refused(
            ngettext(
                "%(num)d person holds this role. "
                "Choose a role to give them instead, or change their roles first.",
                "%(num)d people hold this role. "
                "Choose a role to give them instead, or change their roles first.",
                len(holders),
            )
        )
    if reassign_to is not None:
        if reassign_to.id == role.id or reassign_to.scope != role.scope:
            raise Refused(_("Choose another role of the same kind to give its holders."))
        for person in holders:
            if reassign_to not in person.roles:
                person.roles.append(reassign_to)
    for person in holders:
        person.roles.remove(role)
    name = role.name
    db.session.delete(role)
    if role.scope == "staff":
        ensure_control()
    audit.record(
        "role.deleted",
        actor=actor,
        summary=f"Role {name} deleted",
        before={"name": name, "holders": [p.email for p in holders]},
        after={"reassigned_to": reassign_to.name if reassign_to else None},
        ip=ip,
    )
    for person in holders:
        events.record(db.session, "user_changed", person.id)
    events.record(db.session, "role_removed", role.id, scope=role.scope)
    if not holders:
        return
    # Everyone who lost their last role loses their sessions with it.
    for person in holders:
        if not person.roles:
            end_all_sessions(person)


def ensure_presets(*, two_factor: bool = True) -> dict[str, Role]:
    """The preset roles, created if missing (their permissions are not reset if edited).

    `two_factor`: whether a new preset keeps its requirement of two-factor sign-in (the
    Admin's); the demo data creates them without, so demo accounts sign in with a password.
    """
    roles = {r.preset: r for r in db.session.scalars(select(Role).where(Role.preset.is_not(None)))}
    for preset in access.PRESETS:
        if preset.key in roles:
            continue
        role = Role(
            name=preset.name,
            scope=preset.scope,
            preset=preset.key,
            description=preset.description,
            requires_two_factor=preset.two_factor and two_factor,
        )
        role.grants = [RolePermission(permission=p) for p in sorted(preset.permissions)]
        db.session.add(role)
        roles[preset.key] = role
    db.session.flush()
    return roles


def set_two_factor(role: Role, required: bool, *, actor: User, ip: str = "") -> bool:
    """Require (or stop requiring) two-factor sign-in of the role's holders: those without
    it set it up at their next sign-in."""
    if role.requires_two_factor == required:
        return False
    role.requires_two_factor = required
    audit.record(
        "role.two_factor_changed",
        actor=actor,
        target=role,
        ip=ip,
        summary=f"Role {role.name} {'requires' if required else 'no longer requires'} "
        "two-factor sign-in",
        before={"requires_two_factor": not required},
        after={"requires_two_factor": required},
    )
    events.record(db.session, "role_changed", role.id)
    return True
