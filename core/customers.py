"""Customer companies: created, edited, moved between groups, deactivated or deleted.

Moving a company to another group changes what its people are offered: the
`company_changed` event makes the live layer reload their open pages' viewers, so
prices, promotions and stock re-render with the new group's policy.

Deactivating a company blocks every one of its people through core.people.block (their
sessions end and open pages are signed out at once); reactivating unblocks exactly the
people the deactivation blocked, read from its audit entry. A company with orders,
quotes, invoices or credit notes is never deleted: its history is kept, and
deactivation is the way to end the relationship.
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from extensions import db

from . import access, audit, countries, events, i18n, people, tax
from .errors import FieldRefused, Refused
from .i18n import _, ngettext
from .models import (
    CENT,
    AuditEntry,
    Cart,
    Company,
    CreditNote,
    CustomerGroup,
    Invoice,
    Order,
    Quote,
    User,
)

NAME_LENGTH = 160
SLUG_LENGTH = 60
PHONE_LENGTH = 40
VAT_LENGTH = 40
ADDRESS_LENGTH = 1000
POSTCODE_LENGTH = 16
CITY_LENGTH = 100
MAX_TERMS_DAYS = 365
MAX_LIMIT = Decimal("1000000000")


class CompanyRefused(FieldRefused):
    """A company change the rules do not allow; `field` names the form field it is about."""


@dataclass(frozen=True)
class CompanyDetails:
    """What staff type about a company (the form's fields, before the rules are checked)."""

    name: str
    group_id: int | None
    email: str = ""
    phone: str = ""
    vat_number: str = ""
    address: str = ""
    payment_terms_days: int | None = None
    approval_limit: Decimal | None = None
    manages_own_users: bool = True
    postcode: str = ""
    city: str = ""
    country: str = ""
    reference_required: bool = False


# Letters that Unicode does not decompose into a base letter and an accent.
_FOLD = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l", "Ł": "L"})


def slug_for(name: str, *, taken=None) -> str:
    """A URL- and email-friendly slug from a name ("Øresund Tech AB" -> "oresund-tech-ab"),
    made unique with -2, -3... against `taken` (a set) or the companies table."""
    folded = unicodedata.normalize("NFKD", name.translate(_FOLD))
    base = re.sub(r"[^a-z0-9]+", "-", folded.encode("ascii", "ignore").decode().lower())
    base = base.strip("-")[: SLUG_LENGTH - 4].strip("-") or "company"

    def used(slug: str) -> bool:
        if taken is not None:
            return slug in taken
        return db.session.scalar(select(Company.id).where(Company.slug == slug)) is not None

    slug, n = base, 1
    while used(slug):
        n += 1
        slug = f"{base}-{n}"
    return slug


def _clean(details: CompanyDetails, company: Company | None) -> dict:
    """The column values of valid details, or CompanyRefused naming the first wrong field."""
    name = " ".join((details.name or "").split())
    if not name:
        raise CompanyRefused(_("Give the company a name."), "name")
    if len(name) > NAME_LENGTH:
        raise CompanyRefused(
            _("A name has at most %(maximum)s characters.", maximum=NAME_LENGTH), "name"
        )
    same_name = select(Company.id).where(func.lower(Company.name) == name.lower())
    if company is not None:
        same_name = same_name.where(Company.id != company.id)
    if db.session.scalar(same_name) is not None:
        raise CompanyRefused(_("There is already a customer named “%(name)s”.", name=name), "name")
    group = db.session.get(CustomerGroup, details.group_id) if details.group_id else None
    if group is None:
        raise CompanyRefused(_("Choose the company's customer group."), "group_id")
    email = (details.email or "").strip()
    if email:
        try:
            email = people.normalise_email(email)
        except Refused as exc:
            raise CompanyRefused(str(exc), "email") from exc
    phone = " ".join((details.phone or "").split())
    if len(phone) > PHONE_LENGTH:
        raise CompanyRefused(
            _("A phone number has at most %(maximum)s characters.", maximum=PHONE_LENGTH),
            "phone",
        )
    if phone and not re.fullmatch(r"[0-9+()./ -]+", phone):
        raise CompanyRefused(_("A phone number has digits, spaces and + ( ) - . / only."), "phone")
    country = (details.country or "").strip().upper()
    if country not in countries.names():
        raise CompanyRefused(_("Choose the company's country: it decides the VAT rule."), "country")
    vat = "".join((details.vat_number or "").split()).upper()
    if len(vat) > VAT_LENGTH:
        raise CompanyRefused(
            _("A VAT number has at most %(maximum)s characters.", maximum=VAT_LENGTH),
            "vat_number",
        )
    try:  # format and check digits, offline (python-stdnum)
        vat = tax.clean_vat_id(vat, country)
    except FieldRefused as exc:
        raise CompanyRefused(str(exc), "vat_number") from exc
    address = "\n".join(line.rstrip() for line in (details.address or "").strip().splitlines())
    if len(address) > ADDRESS_LENGTH:
        raise CompanyRefused(
            _("An address has at most %(maximum)s characters.", maximum=ADDRESS_LENGTH),
            "address",
        )
    postcode = " ".join((details.postcode or "").split())
    if len(postcode) > POSTCODE_LENGTH:
        raise CompanyRefused(
            _("A postcode has at most %(maximum)s characters.", maximum=POSTCODE_LENGTH),
            "postcode",
        )
    city = " ".join((details.city or "").split())
    if len(city) > CITY_LENGTH:
        raise CompanyRefused(
            _("A city has at most %(maximum)s characters.", maximum=CITY_LENGTH), "city"
        )
    terms = details.payment_terms_days
    if not isinstance(terms, int) or isinstance(terms, bool) or not 0 <= terms <= MAX_TERMS_DAYS:
        raise CompanyRefused(
            _(
                "Payment terms are a whole number of days from 0 to %(maximum)s.",
                maximum=MAX_TERMS_DAYS,
            ),
            "payment_terms_days",
        )
    limit = details.approval_limit
    if limit is not None:
        if not isinstance(limit, Decimal) or not limit.is_finite() or limit < 0:
            raise CompanyRefused(_("An approval limit is an amount from 0."), "approval_limit")
        if limit != limit.quantize(CENT):
            raise CompanyRefused(
                _("An amount has at most two decimals (whole cents)."), "approval_limit"
            )
        if limit >= MAX_LIMIT:
            raise CompanyRefused(
                _(
                    "An approval limit must be below %(maximum)s.",
                    maximum=i18n.number(MAX_LIMIT, 0),
                ),
                "approval_limit",
            )
    return {
        "name": name,
        "group_id": group.id,
        "email": email,
        "phone": phone,
        "vat_number": vat,
        "address": address,
        "postcode": postcode,
        "city": city,
        "country": country,
        "reference_required": bool(details.reference_required),
        "payment_terms_days": terms,
        "approval_limit": limit,
        "manages_own_users": bool(details.manages_own_users),
    }


def _shown(values: dict) -> dict:
    """Values as the audit log keeps them (text, the group by name)."""
    shown = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}
    group = db.session.get(CustomerGroup, values["group_id"])
    shown["group"] = group.name if group else None
    del shown["group_id"]
    return shown


def create(details: CompanyDetails, *, actor: User, ip: str = "") -> Company:
    """A new customer company. Staff who only see assigned customers become its sales rep,
    so that they can go on serving the company they just created."""
    values = _clean(details, None)
    company = Company(slug=slug_for(values["name"]), **values)
    if not access.sees_all_customers(actor):
        company.reps = [actor]
    db.session.add(company)
    db.session.flush()
    audit.record(
        "customer.created",
        actor=actor,
        target=company,
        ip=ip,
        summary=f"Customer {company.name} created",
        after=_shown(values) | {"reps": [r.email for r in company.reps]},
    )
    events.record(db.session, "company_created", company.id)
    return company


def edit(company: Company, details: CompanyDetails, *, actor: User, ip: str = "") -> bool:
    """Change a company's details; moving it to another group changes its people's offer live.

    Returns False when nothing changed.
    """
    values = _clean(details, company)
    current = {key: getattr(company, key) for key in values}
    changed = {key for key, value in values.items() if value != current[key]}
    if not changed:
        return False
    before, after = _shown(current), _shown(values)
    for key in changed:
        setattr(company, key, values[key])
    shown_keys = {"group" if key == "group_id" else key for key in changed}
    moved = " (moved to another group)" if "group_id" in changed else ""
    audit.record(
        "customer.changed",
        actor=actor,
        target=company,
        ip=ip,
        summary=f"Customer {company.name} changed{moved}",
        before={k: before[k] for k in sorted(shown_keys)},
        after={k: after[k] for k in sorted(shown_keys)},
    )
    # The company's people may now see another offer (group) or other rights (own users).
    events.record(db.session, "company_changed", company.id)
    return True


@dataclass(frozen=True)
class DecisionMakers:
    """Who at a company may give its approvals: approve carts, and accept quotes."""

    carts: list[User]
    quotes: list[User]

    @property
    def people(self) -> list[User]:
        """Everyone who may give one kind of approval or the other, once each."""
        seen = {p.id: p for p in self.carts}
        seen.update({p.id: p for p in self.quotes})
        return sorted(seen.values(), key=lambda p: (p.name, p.id))

    @property
    def short(self) -> bool:
        """Fewer than two for one kind: above the approval limit it stops at "1 of 2"."""
        return len(self.carts) < 2 or len(self.quotes) < 2


def decision_makers(company: Company) -> DecisionMakers:
    """The company's active people who may approve its carts and accept its quotes."""
    return DecisionMakers(
        carts=access.approvers(company.id, "cart"), quotes=access.approvers(company.id, "quote")
    )


def history(company: Company) -> dict[str, int]:
    """What the company has traded: counts of orders, quotes, invoices and credit notes."""
    counts = {}
    for label, model in (
        ("order", Order),
        ("quote", Quote),
        ("invoice", Invoice),
        ("credit note", CreditNote),
    ):
        counts[label] = db.session.scalar(
            select(func.count(model.id)).where(model.company_id == company.id)
        )
    return {label: n for label, n in counts.items() if n}


# Each kind of record history() counts, in words (its keys stay the records' names).
_COUNTED = {
    "order": lambda n: ngettext("%(num)d order", "%(num)d orders", n),
    "quote": lambda n: ngettext("%(num)d quote", "%(num)d quotes", n),
    "invoice": lambda n: ngettext("%(num)d invoice", "%(num)d invoices", n),
    "credit note": lambda n: ngettext("%(num)d credit note", "%(num)d credit notes", n),
}


def describe(counts: dict[str, int]):
    """The counts of history() in words: 6 orders, 7 quotes and 4 invoices (lazy: in the
    reader's language)."""
    parts = [_COUNTED[label](n) for label, n in counts.items()]
    listed = parts[0]
    for part in parts[1:-1]:
        listed = _("%(list)s, %(item)s", list=listed, item=part)
    if len(parts) > 1:
        listed = _("%(list)s and %(last)s", list=listed, last=parts[-1])
    return listed


def delete_company(company: Company, *, actor: User, ip: str = "") -> None:
    """Remove a company that never traded, with its people and their carts.

    Its people's open pages are signed out. A company with a history is refused:
    deactivate it instead.
    """
    traded = history(company)
    if traded:
        raise CompanyRefused(
            _(
                "%(company)s has %(history)s: a company with a trading history cannot be "
                "deleted, so that its records stay complete. Deactivate it instead: its people "
                "can then no longer sign in.",
                company=company.name,
                history=describe(traded),
            )
        )
    members = list(db.session.scalars(select(User).where(User.company_id == company.id)))
    name = company.name
    before = {
        "name": company.name,
        "group": company.group.name,
        "people": sorted(p.email for p in members),
        "reps": sorted(r.email for r in company.reps),
    }
    for cart in db.session.scalars(select(Cart).where(Cart.company_id == company.id)):
        db.session.delete(cart)
    db.session.flush()
    for person in members:
        # Their sessions go with them (ON DELETE CASCADE); this closes their open pages.
        events.record(db.session, "sessions_revoked", person.id)
        db.session.delete(person)
    company.reps = []
    db.session.flush()
    audit.record(
        "customer.deleted",
        actor=actor,
        target=company,
        ip=ip,
        summary=f"Customer {name} deleted",
        before=before,
    )
    events.record(db.session, "company_removed", company.id)
    db.session.delete(company)
    db.session.flush()


def deactivate(company: Company, *, actor: User, ip: str = "") -> int:
    """End the company's access: every one of its people is blocked (sessions end, open
    pages are signed out, pending invitations stop working). Returns how many were blocked."""
    if not company.is_active:
        raise CompanyRefused(_("%(company)s is already inactive.", company=company.name))
    members = list(
        db.session.scalars(
            select(User)
            .where(User.company_id == company.id, User.status != "blocked")
            .order_by(User.id)
        )
    )
    if members and not access.can(actor, "portal.grant"):
        raise CompanyRefused(
            _(
                "Deactivating blocks the company's people, which takes the permission to "
                "manage customer people's portal access."
            )
        )
    for person in members:
        people.block(person, actor=actor, ip=ip)
    company.is_active = False
    audit.record(
        "customer.deactivated",
        actor=actor,
        target=company,
        ip=ip,
        summary=f"Customer {company.name} deactivated: {len(members)} people blocked",
        before={"is_active": True},
        # Reactivation reads `blocked` back to give access to exactly these people again.
        after={"is_active": False, "blocked": [p.id for p in members]},
    )
    events.record(db.session, "company_changed", company.id)
    return len(members)


def _blocked_by_deactivation(company: Company) -> list[int]:
    """The people the latest deactivation of this company blocked."""
    # Entries older than the company belong to an earlier company with the same id (SQLite
    # reuses ids); whole seconds, because MariaDB stores DATETIME without fractions.
    entry = db.session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.action == "customer.deactivated",
            AuditEntry.target_type == Company.__tablename__,
            AuditEntry.target_id == company.id,
            AuditEntry.created_at >= company.created_at.replace(microsecond=0),
        )
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(1)
    )
    blocked = (entry.after or {}).get("blocked", []) if entry is not None else []
    return [i for i in blocked if isinstance(i, int)]


def reactivate(company: Company, *, actor: User, ip: str = "") -> int:
    """Let the company trade again: the people its deactivation blocked are unblocked
    (anyone blocked on their own before stays blocked). Returns how many."""
    if company.is_active:
        raise CompanyRefused(_("%(company)s is already active.", company=company.name))
    ids = _blocked_by_deactivation(company)
    if ids and not access.can(actor, "portal.grant"):
        raise CompanyRefused(
            _(
                "Reactivating unblocks the company's people, which takes the permission to "
                "manage customer people's portal access."
            )
        )
    members = (
        list(
            db.session.scalars(
                select(User)
                .where(User.id.in_(ids), User.company_id == company.id, User.status == "blocked")
                .order_by(User.id)
            )
        )
        if ids
        else []
    )
    company.is_active = True
    for person in members:
        people.unblock(person, actor=actor, ip=ip)
    audit.record(
        "customer.reactivated",
        actor=actor,
        target=company,
        ip=ip,
        summary=f"Customer {company.name} reactivated: {len(members)} people unblocked",
        before={"is_active": False},
        after={"is_active": True, "unblocked": [p.email for p in members]},
    )
    events.record(db.session, "company_changed", company.id)
    return len(members)
