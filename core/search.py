"""The back office's global search: products, customers, orders, quotes and invoices.

Each section is searched only for holders of its module's permission, and always within
the person's scope (core.access.company_scope): a sales rep never learns that another
rep's customer has an order numbered so, not even by a count. Each section brings its
first hits and how many matched in all, for a link to its list page.
"""

import re
from dataclasses import dataclass

from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from extensions import db

from . import access, billing, catalog, orders
from .models import Company, Invoice, Order, Quote, User
from .work_queue import count_of

LIMIT = 10
# Section -> the permission it needs, in page order.
SECTIONS: dict[str, str] = {
    "products": "products.view",
    "customers": "customers.view",
    "orders": "orders.view",
    "quotes": "quotes.view",
    "invoices": "invoices.view",
}
_ORDER_NUMBER = re.compile(r"(?:so[-\s]?)?0*(\d{1,9})", re.IGNORECASE)
_QUOTE_NUMBER = re.compile(r"(?:qt[-\s]?)?0*(\d{1,9})", re.IGNORECASE)
_INVOICE_NUMBER = re.compile(r"(?:inv[-\s]?)?0*(\d{1,9})", re.IGNORECASE)
_VAT_NOISE = re.compile(r"[\s.\-/]")


@dataclass(frozen=True)
class Section:
    """One module's hits: the first `LIMIT`, and how many matched in all."""

    key: str
    hits: list
    total: int

    @property
    def more(self) -> bool:
        return self.total > len(self.hits)


def sections_for(user: User | None) -> list[str]:
    """The sections this person may search, in page order."""
    if user is None or not getattr(user, "is_staff", False):
        return []
    return [key for key, permission in SECTIONS.items() if access.can(user, permission)]


def _section(key: str, stmt: Select, limit: int) -> Section:
    hits = list(db.session.scalars(stmt.limit(limit)).unique())
    total = len(hits) if len(hits) < limit else count_of(stmt)
    return Section(key, hits, total)


def products(user: User, q: str, limit: int = LIMIT) -> Section:
    """Products on sale whose SKU or name holds `q`: the product list's own search."""
    found = catalog.browse(None, q=q, sort="name", page=1, per_page=limit)
    return Section("products", [product for product, _offer in found.rows], found.total)


def vat_text(q: str) -> str:
    """`q` as VAT IDs are stored (compact, upper case), or "" when it cannot be part of one."""
    compact = _VAT_NOISE.sub("", q).upper()
    return compact if len(compact) >= 2 and compact.isalnum() else ""


def customers(user: User, q: str, limit: int = LIMIT) -> Section:
    """Companies in the person's scope whose name or VAT ID holds `q`."""
    match = Company.name.icontains(q, autoescape=True)
    vat = vat_text(q)
    if vat:
        match = or_(match, Company.vat_number.contains(vat, autoescape=True))
    stmt = (
        access.visible_companies(user)
        .join(Company.group)
        .options(contains_eager(Company.group))
        .where(match)
        .order_by(Company.name, Company.id)
    )
    return _section("customers", stmt, limit)


def _number_match(column, pattern: re.Pattern, prefix: str, q: str):
    """`column` holds `q`, or is the number `q` names without its prefix or zeros (12, so-12)."""
    conditions = [column.icontains(q, autoescape=True)]
    number = pattern.fullmatch(q.strip())
    if number:
        conditions.append(column == f"{prefix}-{int(number.group(1)):05d}")
    return or_(*conditions)


def orders_matching(user: User, q: str) -> Select:
    """Orders in the person's scope by number or the customer's own reference, newest first."""
    match = or_(
        _number_match(Order.number, _ORDER_NUMBER, "SO", q),
        Order.customer_reference.icontains(q, autoescape=True),
    )
    return (
        orders.visible_orders(user)
        .where(match)
        .options(joinedload(Order.company))
        .order_by(Order.created_at.desc(), Order.id.desc())
    )


def quotes_matching(user: User, q: str) -> Select:
    """Quotes in the person's scope by number, newest first."""
    stmt = select(Quote).where(_number_match(Quote.number, _QUOTE_NUMBER, "QT", q))
    return (
        access.company_scope(user, stmt, Quote.company_id)
        .options(selectinload(Quote.rounds), joinedload(Quote.company))
        .order_by(Quote.created_at.desc(), Quote.id.desc())
    )


def invoices_matching(user: User, q: str) -> Select:
    """Invoices in the person's scope by number (INV-000012, 000012 or 12), newest first."""
    number = _INVOICE_NUMBER.fullmatch(q.strip())
    # As the invoices list reads a number; an invoice has no other text to search here.
    match = Invoice.number == int(number.group(1)) if number else false()
    return (
        billing.visible_invoices(user)
        .where(match)
        .options(joinedload(Invoice.company))
        .order_by(Invoice.issued_at.desc(), Invoice.number.desc())
    )


# Section -> how it is searched: (person, q, limit) -> Section.
_SEARCHES = {
    "products": products,
    "customers": customers,
    "orders": lambda user, q, limit: _section("orders", orders_matching(user, q), limit),
    "quotes": lambda user, q, limit: _section("quotes", quotes_matching(user, q), limit),
    "invoices": lambda user, q, limit: _section("invoices", invoices_matching(user, q), limit),
}


def search(user: User | None, q: str, limit: int = LIMIT) -> list[Section]:
    """Each section this person may search, with its hits for `q` (none for an empty `q`)."""
    q = (q or "").strip()
    if not q:
        return []
    return [_SEARCHES[key](user, q, limit) for key in sections_for(user)]
