"""Who hears about what: mail to the right people (live pushes go through core.events).

A notification about a document may carry it (`attach=Attach("invoice", invoice)`): the
mail then holds the PDF its reader's page prints, drawn by the job that delivers the
mail (core.mail), after the change commits, in the reader's language. The web layer
draws documents from their pages' context, so it registers one renderer per kind
(`renders`); core never imports it. Without a renderer for the kind, the mail goes
without the file.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from extensions import db

from . import access, i18n, mail
from .i18n import _
from .models import STAFF, Company, CreditNote, Invoice, Order, Quote, Shipment, User

log = logging.getLogger("portal.mail")


@dataclass(frozen=True)
class Attach:
    """A document to attach: its kind ("invoice", "credit_note", "order", "quote") and record."""

    kind: str
    record: object


# kind -> (record, reader) -> the file; registered by blueprints/documents.py.
_RENDERERS: dict[str, Callable[[object, User], mail.Attachment]] = {}


def renders(kind: str):
    """Decorator: `fn(record, reader) -> mail.Attachment` draws this kind of document."""

    def decorator(fn):
        _RENDERERS[kind] = fn
        return fn

    return decorator


# kind -> the model its documents are drawn from (a mail carries the record's id).
MODELS: dict[str, type] = {
    "invoice": Invoice,
    "credit_note": CreditNote,
    "order": Order,
    "quote": Quote,
    "delivery_note": Shipment,
}


def _document(attach: Attach | None) -> tuple[str, int] | None:
    """(kind, id) of the document a mail is to carry, if this kind can be drawn."""
    if attach is None or attach.kind not in _RENDERERS:
        return None
    if getattr(attach.record, "id", None) is None:
        db.session.flush()
    return attach.kind, attach.record.id


def draw(kind: str, record_id: int, reader_id: int | None) -> mail.Attachment | None:
    """The document for this reader, as their page prints it (a mail's job draws it in
    their language); None when the kind, the record or the reader is gone. What differs
    between readers of one face (costs, exact stock) never prints on a document."""
    renderer = _RENDERERS.get(kind)
    model = MODELS.get(kind)
    if renderer is None or model is None or reader_id is None:
        return None
    record = db.session.get(model, record_id)
    reader = db.session.get(User, reader_id)
    if record is None or reader is None:
        return None
    return renderer(record, reader)


def people(recipients, subject: str, body: str, *, attach: Attach | None = None) -> None:
    """Mail each active person once (with the document, if one is attached)."""
    seen = set()
    document = _document(attach)
    for person in recipients:
        if person is None or person.status != "active" or person.email in seen:
            continue
        seen.add(person.email)
        # Each copy in its reader's language, numbers and dates in its formats, the
        # document too (a person who picked none reads the portal's default language).
        with i18n.in_language(person.language):
            mail.send(
                person.email,
                str(subject),
                str(_("Hello %(name)s,", name=person.name)) + f"\n\n{body}\n",
                reader=person,
                document=document,
            )


def company(
    company: Company,
    permission: str,
    subject: str,
    body: str,
    *,
    skip=None,
    attach: Attach | None = None,
) -> None:
    """Mail the company's people who hold `permission` (e.g. decision-makers: shop.approve)."""
    members = db.session.scalars(
        select(User).where(User.company_id == company.id, User.status == "active")
    )
    skip_id = skip.id if skip is not None else None
    people(
        (p for p in members if access.can(p, permission) and p.id != skip_id),
        subject,
        body,
        attach=attach,
    )


def reps(company: Company, subject: str, body: str, *, permission: str) -> None:
    """Mail the company's assigned staff who hold `permission` (e.g. quotes.edit: the sales
    reps, not a Partner who only reads); a company nobody such is assigned to goes to the
    staff who serve every customer with `permission`, so nothing is lost."""
    assigned = [
        rep for rep in company.reps if rep.status == "active" and access.can(rep, permission)
    ]
    if not assigned:
        staff = db.session.scalars(select(User).where(User.kind == STAFF, User.status == "active"))
        assigned = [
            p for p in staff if access.can(p, permission) and access.can(p, "customers.all")
        ]
    people(assigned, subject, body)
