"""Live lists of people and roles: the staff users, the roles, a company's own people.

- `users-table`: the back office's staff users (roles, status, assigned customers, last
  sign-in).
- `roles-table`: the staff and customer roles with their holders and permissions.
- `shop-users-<company>`: the storefront's list of a company's people. Like the other
  storefront lists it carries the company in its id, and a page asking for another
  company's id gets none of them (core.access: `own`).

All three are lists: a change sends a signal, and the page re-fetches the list through
its own view, so nobody receives a row they may not see.
"""

import re

from sqlalchemy import select

from core.events import Event
from core.models import Company, Role, User
from extensions import db

from .registry import RegionKind, affects, register

USERS = "users-table"
ROLES = "roles-table"

for _name, _pattern in (
    (USERS, r"users-table"),
    (ROLES, r"roles-table"),
    ("shop-users", r"shop-users-\d+"),
):
    register(RegionKind(_name, re.compile(_pattern), is_list=True))


def _person(person_id: int | None) -> tuple[str, int | None] | None:
    """The kind and company of a person, or None when they are gone."""
    if person_id is None:
        return None
    row = db.session.execute(select(User.kind, User.company_id).where(User.id == person_id)).first()
    return tuple(row) if row is not None else None


def _people_list(person_id: int | None) -> set[str]:
    """The list a person is a row of: the staff users, or their company's people."""
    found = _person(person_id)
    if found is None:
        return set()
    kind, company_id = found
    if kind == "staff":
        return {USERS}
    return {f"shop-users-{company_id}"} if company_id is not None else set()


def _every_company_list() -> set[str]:
    """Every company's list of people: a customer role's name shows in all of them."""
    return {f"shop-users-{cid}" for cid in db.session.scalars(select(Company.id))}


@affects("user_created", "user_changed")
def _person_and_roles(event: Event) -> set[str]:
    # Invited with roles, or roles changed: the roles' holder counts move too.
    found = _people_list(event.id)
    return found | {ROLES} if found else found


@affects("user_blocked", "invitation_changed")
def _person_row(event: Event) -> set[str]:
    return _people_list(event.id)


@affects("user_signed_in")
def _last_sign_in(event: Event) -> set[str]:
    # Only the staff list shows when someone last signed in.
    found = _person(event.id)
    return {USERS} if found is not None and found[0] == "staff" else set()


@affects("company_reps_changed")
def _assigned_counts(event: Event) -> set[str]:
    return {USERS}


@affects("company_removed")
def _holders_gone(event: Event) -> set[str]:
    # The company's people went with it, and with them their roles' holders.
    return {ROLES}


@affects("role_created", "role_changed", "role_removed")
def _role_lists(event: Event) -> set[str]:
    scope = dict(event.data).get("scope")
    if scope is None:  # role_changed names the role only: it is still there
        scope = db.session.scalar(select(Role.scope).where(Role.id == event.id))
    if scope == "staff":
        return {ROLES, USERS}  # the users list shows each person's role names
    if scope == "customer":
        return {ROLES} | _every_company_list()  # the role to give, by name, in every list
    return {ROLES}
