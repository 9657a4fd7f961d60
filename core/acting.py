"""Acting for a customer: staff open the storefront as one person of a customer company.

Two modes (core.access): ACTING builds carts, places orders and asks for quotes in the
person's name through the storefront's own services (the company's offer, quantity rules,
VAT, addresses, shipping methods and approval rules), each record keeping who acted
(`acting_staff_id`); VIEWING shows the storefront as the person sees it, and nothing in
it changes.

Whom a staff session opens the storefront as lives on that session's row
(login_sessions.acting_for_id, acting_mode, acting_since), so that it holds in every
process, ends with the session (sign-out, block, expiry), and starting or ending it is
a write every process hears: kept sessions are forgotten (core.sessions.CHANGED) and the
staff member's open sockets are read again (the CHANGED event here).

Approvals: acting lends the person's own rights and nothing more. Staff acting for a
requester build and submit the cart, which then goes through the company's approval rules
like any of the requester's (a decision-maker approves it, two above the approval limit);
acting for a decision-maker, they check out as the decision-maker would, within the same
limit. The seller's second approval is never given by the staff member who acted.
"""

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from extensions import db

from . import access, audit, events, sessions
from .errors import Refused
from .i18n import _
from .models import Cart, Company, LoginSession, Order, Quote, User, utcnow

# The event of a staff session starting or ending its storefront person (id: the staff
# member): the live layer re-reads that person's sockets, closing a view that ended.
CHANGED = "acting_changed"

STARTED = {
    access.ACTING: "customer.acting_started",
    access.VIEWING: "customer.view_as_started",
}
ENDED = {
    access.ACTING: "customer.acting_ended",
    access.VIEWING: "customer.view_as_ended",
}
# Why it ended, as the audit log keeps it (data, in English).
EXITED = "exit"
SIGNED_OUT = "signed out"
ACCESS_LOST = "access lost"
REPLACED = "another person chosen"

# Where an acting session begins in the storefront (the office form's choices).
STARTS = ("catalog", "cart", "quick_order", "quote")


def candidates(staff: User, company: Company, mode: str) -> list[User]:
    """The company's people this staff member may open the storefront as, in this mode."""
    people = db.session.scalars(
        select(User)
        .where(User.company_id == company.id, User.status == "active")
        .options(selectinload(User.roles))
        .order_by(User.name, User.id)
    )
    return [person for person in people if access.may_assume(staff, person, mode)]


def _session_of(staff: User, token: str | None) -> LoginSession | None:
    if not token:
        return None
    return db.session.scalar(
        select(LoginSession).where(
            LoginSession.token_hash == sessions.token_hash(token),
            LoginSession.user_id == staff.id,
            LoginSession.revoked_at.is_(None),
        )
    )


def start(staff: User, token: str | None, person: User, mode: str, *, ip: str = "") -> None:
    """Open the storefront as `person` in this staff session (`token`), until it ends.

    Audited; a person already chosen is let go first (and that is audited too).
    """
    if not access.may_assume(staff, person, mode):
        if mode == access.ACTING:
            raise Refused(
                _(
                    "%(name)s cannot be acted for: choose an active person of the company "
                    "who may order or ask for quotes.",
                    name=person.name,
                )
            )
        raise Refused(_("%(name)s is not an active person of this company.", name=person.name))
    record = _session_of(staff, token)
    if record is None:
        raise Refused(_("Your session has ended: sign in again."))
    if record.acting_for_id is not None:
        _end(staff, record, REPLACED, ip)
    record.acting_for_id = person.id
    record.acting_mode = mode
    record.acting_since = utcnow()
    company = person.company
    what = (
        f"{staff.name} acts for {person.name} ({company.name})"
        if mode == access.ACTING
        else f"{staff.name} views the storefront as {person.name} ({company.name})"
    )
    audit.record(
        STARTED[mode],
        actor=staff,
        target=person,
        summary=what,
        after={"person": person.email, "company": company.name},
        ip=ip,
    )
    events.record(db.session, CHANGED, staff.id)


def stop(staff: User, token: str | None, reason: str, *, ip: str = "") -> User | None:
    """End what this staff session opens the storefront as; returns whom (None: nobody)."""
    record = _session_of(staff, token)
    if record is None or record.acting_for_id is None:
        return None
    return _end(staff, record, reason, ip)


def _end(staff: User, record: LoginSession, reason: str, ip: str) -> User | None:
    person = db.session.get(User, record.acting_for_id)
    mode = record.acting_mode
    if person is not None and mode in ENDED:
        since = record.acting_since
        minutes = int((utcnow() - since).total_seconds() // 60) if since is not None else None
        company = person.company.name if person.company is not None else ""
        audit.record(
            ENDED[mode],
            actor=staff,
            target=person,
            summary=f"{staff.name} stopped for {person.name} ({company}): {reason}",
            after={
                "person": person.email,
                "company": company,
                "reason": reason,
                "minutes": minutes,
            },
            ip=ip,
        )
    record.acting_for_id = None
    record.acting_mode = None
    record.acting_since = None
    events.record(db.session, CHANGED, staff.id)
    return person


def resume(staff: User) -> User | None:
    """The person this staff member's session opens the storefront as, assumed for this
    request (core.access.assume), if the staff member still may; None otherwise.

    Read on every storefront request, never kept: losing `customers.act`, the customer's
    assignment or the person's access ends it at the next request.
    """
    assumed = getattr(staff, "session_assumed", None)
    if assumed is None:
        return None
    person = db.session.scalar(
        select(User)
        .where(User.id == assumed.person_id)
        .options(
            joinedload(User.company).joinedload(Company.group),
            selectinload(User.roles),
        )
    )
    if person is None or not access.may_assume(staff, person, assumed.mode):
        return None
    return access.assume(person, staff, assumed.mode)


# --- who placed it ------------------------------------------------------------------------


def _person_of(record) -> User | None:
    if isinstance(record, Order):
        return record.placed_by
    if isinstance(record, Quote):
        return record.requested_by
    if isinstance(record, Cart):
        return record.owner
    raise TypeError(f"no person places a {type(record).__name__}")


def by_whom(record) -> str:
    """Who placed an order, asked for a quote or built a cart, as both faces read it:
    the person, or "Anna Sales for Olga Orders (Acme Robotics)" when staff acted."""
    person, staff = _person_of(record), record.acting_staff
    if staff is None:
        return person.name if person is not None else ""
    if person is None:
        return staff.name
    company = person.company.name if person.company is not None else ""
    return str(
        _(
            "%(staff)s for %(person)s (%(company)s)",
            staff=staff.name,
            person=person.name,
            company=company,
        )
    )


def told(record):
    """The sentence a mail about the record adds when staff placed it ("" otherwise)."""
    staff, person = record.acting_staff, _person_of(record)
    if staff is None or person is None:
        return ""
    if isinstance(record, Order):
        return _(
            "%(staff)s, of the seller's staff, placed this order for %(person)s.",
            staff=staff.name,
            person=person.name,
        )
    if isinstance(record, Quote):
        return _(
            "%(staff)s, of the seller's staff, asked for this quote for %(person)s.",
            staff=staff.name,
            person=person.name,
        )
    return _(
        "%(staff)s, of the seller's staff, prepared this cart for %(person)s.",
        staff=staff.name,
        person=person.name,
    )


# --- what a staff member placed for customers -----------------------------------------------

KINDS = {"orders": Order, "quotes": Quote, "carts": Cart}


def placed_by_staff(staff: User, kind: str) -> Select:
    """The orders, quotes or carts this staff member placed for customers, newest first,
    among the customers they may see now."""
    model = KINDS[kind]
    stmt = select(model).where(model.acting_staff_id == staff.id)
    stmt = access.company_scope(staff, stmt, model.company_id)
    newest = model.updated_at if model is Cart else model.created_at
    person = {Order: Order.placed_by, Quote: Quote.requested_by, Cart: Cart.owner}[model]
    loads = [joinedload(model.company), joinedload(person)]
    if model is Cart:
        loads.append(selectinload(Cart.lines))  # their totals (core.carts.totals_of)
    return stmt.options(*loads).order_by(newest.desc(), model.id.desc())
