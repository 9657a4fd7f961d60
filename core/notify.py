"""Who hears about what: mail to the right people (live pushes go through core.events)."""

from sqlalchemy import select

from extensions import db

from . import access, mail
from .models import STAFF, Company, User


def people(recipients, subject: str, body: str) -> None:
    """Mail each active person once."""
    seen = set()
    for person in recipients:
        if person is None or person.status != "active" or person.email in seen:
            continue
        seen.add(person.email)
        mail.send(person.email, subject, f"Hello {person.name},\n\n{body}\n")


def company(company: Company, permission: str, subject: str, body: str, *, skip=None) -> None:
    """Mail the company's people who hold `permission` (e.g. decision-makers: shop.approve)."""
    members = db.session.scalars(
        select(User).where(User.company_id == company.id, User.status == "active")
    )
    skip_id = skip.id if skip is not None else None
    people((p for p in members if access.can(p, permission) and p.id != skip_id), subject, body)


def reps(company: Company, subject: str, body: str, *, permission: str) -> None:
    """Mail the company's assigned sales staff; a company nobody is assigned to goes to the
    staff who serve every customer with `permission` (e.g. quotes.edit), so nothing is lost."""
    assigned = [rep for rep in company.reps if rep.status == "active"]
    if not assigned:
        staff = db.session.scalars(select(User).where(User.kind == STAFF, User.status == "active"))
        assigned = [
            p for p in staff if access.can(p, permission) and access.can(p, "customers.all")
        ]
    people(assigned, subject, body)
