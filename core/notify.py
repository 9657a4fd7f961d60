"""Who hears about what: mail to the right people (live pushes go through core.events)."""

from sqlalchemy import select

from extensions import db

from . import access, mail
from .models import Company, User


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


def reps(company: Company, subject: str, body: str) -> None:
    """Mail the company's assigned sales staff."""
    people(company.reps, subject, body)
