"""Quotes: a customer asks, the seller answers, counter-offers follow, and one becomes an order.

Whose turn it is follows from the status and from who made the last priced round:

- requested: the seller's turn; the seller offers or declines.
- offered, or countered by the seller: the customer's turn; they counter, accept or reject.
- countered by the customer: the seller's turn; the seller counters or declines.
- accepted, rejected, withdrawn, expired: closed, nobody's turn.
- Withdrawing is the customer's at any turn while the quote is open.

An offer lapses when it is the customer's turn and its validity date has passed: it then
shows as expired and cannot be accepted or countered (the customer asks again). Only a
customer's decision-maker (`shop.order`) accepts or rejects; the requester of a quote or a
decision-maker withdraws it. The seller agrees to a counter-offer by answering with its
prices; only the customer turns a quote into an order.

QuoteLine.unit_price is the seller's standing price, the one an acceptance orders at; a
customer's counter-offer lives in its round. Rounds are written once and never changed.
Every move names the latest round its author saw (`seen`): a move made on a page that
is out of date is refused, so nobody accepts or answers terms they have not read.

Above the company's approval limit two different decision-makers accept: the first
acceptance is an approval round, the second places the order. When the company has no
second one, the seller's staff who may move its orders give the second approval in its
stead (`approve_for_seller`), along the same path.

Every move locks the quote first; callers commit through core.orders.retrying, which
replays the whole move when the database reports a deadlock (or SQLite a busy lock).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select, and_, event, func, or_, select, update
from sqlalchemy.orm import selectinload

from extensions import db

from . import (
    access,
    acting,
    audit,
    custom_parts,
    delivery,
    events,
    i18n,
    notify,
    orders,
    tax,
    visibility,
)
from .errors import NotFound, Refused
from .i18n import N_, _
from .models import (
    CENT,
    Company,
    Order,
    Product,
    Quote,
    QuoteLine,
    QuoteRound,
    QuoteRoundLine,
    Sequence,
    User,
    utcnow,
)
from .products import clean_price

SELLER, CUSTOMER = "staff", "customer"
OPEN = ("requested", "offered", "countered")
PRICED = ("offer", "counter")
MAX_LINES = 50
MAX_NOTE = 2000
MAX_VALIDITY_DAYS = 365

STATUS_LABELS = {
    "requested": _("Requested"),
    "offered": _("Offered"),
    "countered": _("Countered"),
    "accepted": _("Accepted"),
    "rejected": _("Rejected"),
    "expired": _("Expired"),
    "withdrawn": _("Withdrawn"),
}
# What a round did, after its author's name in the timeline; in English in the audit
# log, translated where the timeline shows it (Step.label).
ACTION_LABELS = {
    "request": N_("asked for a quote"),
    "offer": N_("offered prices"),
    "counter": N_("made a counter-offer"),
    "accept": N_("accepted"),
    "approve": N_("approved; a second decision-maker must accept"),
    "reject": N_("rejected"),
    "withdraw": N_("withdrew the request"),
    "expire": N_("expired"),
}


def _noted(note: str):
    """A mail's closing paragraph quoting the note, or nothing."""
    return i18n.join("\n\n", _("Note: %(note)s", note=note)) if note else ""


class QuoteRoundIsFinal(RuntimeError):
    """Raised when code tries to change or remove a round of a negotiation."""


@event.listens_for(QuoteRound, "before_update")
@event.listens_for(QuoteRoundLine, "before_update")
def _refuse_update(mapper, connection, target):
    raise QuoteRoundIsFinal("a quote's rounds are written once and never changed")


@event.listens_for(QuoteRound, "before_delete")
@event.listens_for(QuoteRoundLine, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise QuoteRoundIsFinal("a quote's rounds are never removed")


def today() -> date:
    """The date validity is judged by (UTC, like every timestamp of the portal)."""
    return utcnow().date()


# --- whose turn ----------------------------------------------------------------------------


def last_priced(quote: Quote) -> QuoteRound | None:
    """The latest round that proposed prices (an offer or a counter-offer), if any."""
    priced = [r for r in quote.rounds if r.action in PRICED]
    return max(priced, key=lambda r: r.id) if priced else None


def latest_round(quote: Quote) -> QuoteRound | None:
    """The newest round: every move names it, so nobody acts on a page out of date."""
    return max(quote.rounds, key=lambda r: r.id) if quote.rounds else None


def _awaits(quote: Quote) -> str | None:
    """Whose move it is by the status alone, before looking at the validity date."""
    if quote.status == "requested":
        return SELLER
    if quote.status == "offered":
        return CUSTOMER
    if quote.status == "countered":
        last = last_priced(quote)
        return CUSTOMER if last is not None and last.side == SELLER else SELLER
    return None


def needs_two_approvals(quote: Quote) -> bool:
    """Above the company's approval limit, accepting takes two different decision-makers."""
    limit = quote.company.approval_limit
    amount = total(quote)
    return limit is not None and amount is not None and amount > limit


def first_approval(quote: Quote) -> QuoteRound | None:
    """The standing first approval: the newest round, when it is one (any later move voids it)."""
    latest = latest_round(quote)
    return latest if latest is not None and latest.action == "approve" else None


def short_of_approvers(quote: Quote, *, deciding: User | None = None) -> bool:
    """Would accepting this quote stop at "1 of 2" for want of a second decision-maker?

    `deciding`: a decision-maker about to accept. When the company has too few, only the
    seller's staff can give the second approval.
    """
    if not needs_two_approvals(quote):
        return False
    first = first_approval(quote)
    taken = {first.author_id if first else None, deciding.id if deciding else None}
    given = first is not None or deciding is not None
    others = [p for p in access.approvers(quote.company_id, "quote") if p.id not in taken]
    return len(others) < (1 if given else 2)


def waits_for_second(quote: Quote, on: date | None = None) -> bool:
    """Open on the customer's turn, above the limit, with its first approval standing."""
    return (
        turn(quote, on) == CUSTOMER
        and needs_two_approvals(quote)
        and first_approval(quote) is not None
    )


def is_expired(quote: Quote, on: date | None = None) -> bool:
    """Stored as expired, or an offer awaiting the customer whose validity has passed."""
    if quote.status == "expired":
        return True
    on = on or today()
    return _awaits(quote) == CUSTOMER and quote.valid_until is not None and quote.valid_until < on


def turn(quote: Quote, on: date | None = None) -> str | None:
    """Who must move next, "staff" or "customer"; None once the quote is closed."""
    if is_expired(quote, on):
        return None
    return _awaits(quote)


def shown_status(quote: Quote, on: date | None = None) -> str:
    """The status as people see it: a lapsed offer shows as expired."""
    return "expired" if is_expired(quote, on) else quote.status


def is_open(quote: Quote, on: date | None = None) -> bool:
    """Someone may still move."""
    return turn(quote, on) is not None


# --- the same rules as SQL, for lists and filters ---------------------------------------------


def _last_priced_side():
    return (
        select(QuoteRound.side)
        .where(QuoteRound.quote_id == Quote.id, QuoteRound.action.in_(PRICED))
        .order_by(QuoteRound.id.desc())
        .limit(1)
        .correlate(Quote)
        .scalar_subquery()
    )


def _awaits_customer():
    return or_(
        Quote.status == "offered",
        and_(Quote.status == "countered", _last_priced_side() == SELLER),
    )


def _awaits_seller():
    return or_(
        Quote.status == "requested",
        and_(Quote.status == "countered", _last_priced_side() == CUSTOMER),
    )


def _still_valid(on: date):
    return or_(Quote.valid_until.is_(None), Quote.valid_until >= on)


FILTERS: dict[str, Callable[[date], object]] = {
    "seller": lambda on: _awaits_seller(),
    "customer": lambda on: and_(_awaits_customer(), _still_valid(on)),
    "requested": lambda on: Quote.status == "requested",
    "offered": lambda on: and_(Quote.status == "offered", _still_valid(on)),
    "countered": lambda on: and_(
        Quote.status == "countered",
        or_(_last_priced_side() == CUSTOMER, _still_valid(on)),
    ),
    "accepted": lambda on: Quote.status == "accepted",
    "rejected": lambda on: Quote.status == "rejected",
    "withdrawn": lambda on: Quote.status == "withdrawn",
    "expired": lambda on: or_(
        Quote.status == "expired", and_(_awaits_customer(), Quote.valid_until < on)
    ),
}


def listing(user: User, *, status: str = "", q: str = "") -> Select:
    """Quotes this person may see, newest first, narrowed by a status filter and a search.

    The search matches the quote number, and for staff also the company's name.
    """
    if status and status not in FILTERS:
        raise Refused(_("Unknown status filter."))
    stmt = access.company_scope(user, select(Quote).join(Quote.company), Quote.company_id)
    if status:
        stmt = stmt.where(FILTERS[status](today()))
    if q:
        match = Quote.number.icontains(q, autoescape=True)
        if user.is_staff:
            match = or_(match, Company.name.icontains(q, autoescape=True))
        stmt = stmt.where(match)
    return stmt.options(
        selectinload(Quote.rounds),
        selectinload(Quote.lines),
        selectinload(Quote.company),
        selectinload(Quote.requested_by),
    ).order_by(Quote.created_at.desc(), Quote.id.desc())


def waiting_for_second(user: User, company_id: int | None = None, limit: int = 50) -> list[Quote]:
    """Open quotes of the companies in this person's scope whose latest round is a first
    approval still valid: they wait for the second, oldest first."""
    latest_action = (
        select(QuoteRound.action)
        .where(QuoteRound.quote_id == Quote.id)
        .order_by(QuoteRound.id.desc())
        .limit(1)
        .correlate(Quote)
        .scalar_subquery()
    )
    stmt = select(Quote).where(
        latest_action == "approve", FILTERS["customer"](today()), Quote.status.in_(OPEN)
    )
    if company_id is not None:
        stmt = stmt.where(Quote.company_id == company_id)
    stmt = access.company_scope(user, stmt, Quote.company_id)
    found = db.session.scalars(
        stmt.order_by(Quote.updated_at, Quote.id)
        .limit(limit)
        .options(
            selectinload(Quote.rounds),
            selectinload(Quote.lines),
            selectinload(Quote.company),
        )
    )
    return [quote for quote in found if waits_for_second(quote)]


def load(user: User, quote_id: int) -> Quote:
    """One quote within this person's scope (their company, or their customers); else NotFound."""
    stmt = access.company_scope(user, select(Quote).where(Quote.id == quote_id), Quote.company_id)
    quote = db.session.scalar(stmt)
    if quote is None:
        raise NotFound(_("There is no such quote among yours."))
    return quote


def load_many(user: User, quote_ids: Iterable[int]) -> list[Quote]:
    """The quotes among these ids that this person may see (the live layer's loader)."""
    stmt = access.company_scope(
        user, select(Quote).where(Quote.id.in_(list(quote_ids))), Quote.company_id
    )
    return list(db.session.scalars(stmt.options(selectinload(Quote.rounds))))


# --- reading a quote ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One line in one round: its quantity, and the price before and after this round.

    `product` is None for a custom part; `sku` and `name` say what the line is either way.
    """

    product: Product | None
    sku: str
    name: str
    quantity: int
    old: Decimal | None
    new: Decimal | None

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class Step:
    """One round of the timeline with what it changed."""

    round: QuoteRound
    changes: tuple[Change, ...]

    @property
    def label(self) -> str:
        if self.round.action == "reject" and self.round.side == SELLER:
            return _("declined to quote")
        if self.round.action == "accept" and self.round.side == SELLER:
            return _("gave the second approval for the customer; the order is placed")
        return _(ACTION_LABELS[self.round.action])


def timeline(quote: Quote) -> list[Step]:
    """Every round, oldest first, each line with the price the round before proposed."""
    standing: dict[str, Decimal] = {}
    custom = {ln.key: ln for ln in quote.lines if ln.is_custom}
    steps = []
    for rnd in sorted(quote.rounds, key=lambda r: r.id):
        changes = []
        for line in rnd.lines:
            old = standing.get(line.key)
            new = line.unit_price if line.unit_price is not None else old
            if line.product is not None:
                sku, name = line.product.sku, line.product.name
            else:
                part = custom.get(line.key)
                sku, name = (part.sku, part.title) if part is not None else ("", "")
            changes.append(Change(line.product, sku, name, line.quantity, old, new))
            if line.unit_price is not None:
                standing[line.key] = line.unit_price
        steps.append(Step(rnd, tuple(changes)))
    return steps


def line_total(price: Decimal | None, quantity: int) -> Decimal | None:
    """What core.orders.place charges for a line: price times quantity, to the cent, half up."""
    if price is None:
        return None
    return (price * quantity).quantize(CENT, ROUND_HALF_UP)


def total(quote: Quote) -> Decimal | None:
    """The order total an acceptance would give now; None while a line has no price."""
    totals = [line_total(line.unit_price, line.quantity) for line in quote.lines]
    return None if not totals or None in totals else sum(totals, Decimal(0))


def taxes(quote: Quote):
    """What an acceptance would bear now: net, VAT per rate, gross (core.tax); None while
    a line has no price."""
    amounts = [(line.tax_class, line_total(line.unit_price, line.quantity)) for line in quote.lines]
    if not amounts or any(net is None for _, net in amounts):
        return None
    return tax.of_lines(quote.company, amounts)


def asked_prices(quote: Quote) -> dict[str, Decimal]:
    """Line key (QuoteLine.key) → what the customer's counter-offer asks, while it awaits
    the seller."""
    last = last_priced(quote)
    if last is None or last.side != CUSTOMER:
        return {}
    return {ln.key: ln.unit_price for ln in last.lines if ln.unit_price is not None}


def round_line(line: QuoteLine, unit_price: Decimal | None) -> QuoteRoundLine:
    """A round's copy of a quote line at a price: by product, or by the custom line itself."""
    if line.is_custom:
        return QuoteRoundLine(quote_line=line, quantity=line.quantity, unit_price=unit_price)
    return QuoteRoundLine(product=line.product, quantity=line.quantity, unit_price=unit_price)


def find_products(skus: Iterable[str], group_id: int | None = None) -> dict[str, Product]:
    """Upper-cased SKU → product, among products still sold (to the group `group_id`: one
    hidden from it is not found, core.visibility), in one statement."""
    wanted = {s.strip().upper() for s in skus if s and s.strip()}
    if not wanted:
        return {}
    shown = visibility.offered(group_id)
    found = db.session.scalars(select(Product).where(func.upper(Product.sku).in_(wanted), *shown))
    return {p.sku.upper(): p for p in found}


# --- changing a quote --------------------------------------------------------------------------


def _note(text: str | None) -> str:
    note = (text or "").strip()
    if len(note) > MAX_NOTE:
        raise Refused(_("A note has at most %(count)s characters.", count=MAX_NOTE))
    return note


def _next_number() -> str:
    """QT-00042, from a counter advanced by one atomic UPDATE (it locks the row until commit)."""
    advanced = db.session.execute(
        update(Sequence)
        .where(Sequence.name == "quote")
        .values(next_value=Sequence.next_value + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if advanced:
        value = db.session.scalar(select(Sequence.next_value).where(Sequence.name == "quote")) - 1
    else:  # a database without the demo's counter: start after the quotes it holds
        value = (db.session.scalar(select(func.max(Quote.id))) or 0) + 1
        db.session.add(Sequence(name="quote", next_value=value + 1))
        db.session.flush()
    return f"QT-{value:05d}"


def _lock(quote_id: int) -> Quote:
    """The quote, locked for this transaction and read fresh with its rounds and lines.

    Writing first takes the row's lock on every database (SQLite ignores FOR UPDATE and
    only locks at the first write): from here on the move reads the latest state, and
    nobody else moves the quote until this transaction ends.
    """
    claimed = db.session.execute(
        update(Quote)
        .where(Quote.id == quote_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise NotFound(_("There is no such quote."))
    quote = db.session.scalar(
        select(Quote)
        .where(Quote.id == quote_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    # What was loaded before the lock may be stale: read the collections again.
    db.session.expire(quote, ["rounds", "lines"])
    return quote


def _check_side(quote: Quote, actor: User, side: str) -> None:
    """The actor belongs on this side of this quote (views check scope first; this is the net)."""
    if not access.may_act_on_quote(actor, quote, side):
        raise NotFound(_("There is no such quote among yours."))


def _check_moment(quote: Quote, side: str | None, seen: int | None) -> None:
    """Refuse a move out of turn (side None: any turn), on a closed quote, or unseen rounds."""
    if seen is not None:
        latest = latest_round(quote)
        if latest is None or latest.id != seen:
            raise Refused(
                _("The quote changed while you had it open: review the latest round and try again.")
            )
    if quote.status not in OPEN:
        raise Refused(
            _(
                "This quote is %(status)s: nothing more can be done with it.",
                status=quote.status,
            )
        )
    if is_expired(quote):
        raise Refused(
            _(
                "This offer was valid until %(day)s and has expired: it can no longer be "
                "accepted or countered. Ask for a new quote.",
                day=i18n.day(quote.valid_until),
            )
        )
    whose = _awaits(quote)
    if side is not None and whose != side:
        raise Refused(
            _("It is the seller's turn: wait for their answer.")
            if whose == SELLER
            else _("It is the customer's turn: wait for their answer.")
        )


def _record(quote: Quote, action: str, actor: User | None, summary: str, **changes) -> None:
    audit.record(f"quote.{action}", actor=actor, target=quote, summary=summary, **changes)
    events.record(db.session, "quote_changed", quote.id, company=quote.company_id)


def _customer_side(quote: Quote) -> list[User]:
    """Who hears of the seller's answers: the requester and the company's decision-makers."""
    members = db.session.scalars(
        select(User).where(User.company_id == quote.company_id, User.status == "active")
    )
    deciders = [p for p in members if access.can(p, "shop.order")]
    return [quote.requested_by, *deciders]


def _tell_customer(quote: Quote, subject: str, body: str, link, *, attach=None) -> None:
    """Tell the customer's side; whoever sees no prices (an external collaborator who
    asked) hears only that the quote moved on, without its figures or its document."""
    where = f"\n\n{link(quote)}" if link else ""
    told = [p for p in _customer_side(quote) if p is not None]
    heading = _("Quote %(number)s: %(subject)s", number=quote.number, subject=subject)
    notify.people(
        [p for p in told if access.sees_prices(p)], heading, i18n.join(body, where), attach=attach
    )
    unpriced = [p for p in told if not access.sees_prices(p)]
    if unpriced:
        moved = _(
            "Quote %(number)s has moved on. Its prices are for your company's "
            "decision-makers to see.",
            number=quote.number,
        )
        notify.people(unpriced, heading, i18n.join(moved, where))


def _tell_seller(quote: Quote, subject: str, body: str, link) -> None:
    where = f"\n\n{link(quote)}" if link else ""
    notify.reps(
        quote.company,
        _(
            "Quote %(number)s (%(company)s): %(subject)s",
            number=quote.number,
            company=quote.company.name,
            subject=subject,
        ),
        i18n.join(body, where),
        permission="quotes.edit",
    )


def _prices_of(quote: Quote, prices: dict[int, object]) -> dict[int, Decimal]:
    """Line id → a clean unit price for every line of the quote, and nothing else."""
    ids = {line.id for line in quote.lines}
    if set(prices) != ids:
        raise Refused(_("Give a unit price for every line of the quote."))
    clean = {}
    for line in quote.lines:
        sku = line.sku
        price = clean_price(prices[line.id], _("The unit price of %(sku)s", sku=sku))
        if price <= 0:
            raise Refused(_("The unit price of %(sku)s must be more than zero.", sku=sku))
        clean[line.id] = price
    return clean


def request(
    company: Company,
    asks: list[tuple[int, int]],
    *,
    actor: User,
    note: str = "",
    link: Callable[[Quote], str] | None = None,
    custom: Iterable[custom_parts.CustomAsk] = (),
) -> Quote:
    """A customer asks for prices: (product id, quantity) lines, custom parts (core.
    custom_parts) and a note; the seller's turn."""
    custom = list(custom)
    if not (actor.is_customer and actor.company_id == company.id):
        raise Refused(_("You can only ask for quotes for your own company."))
    if not access.can(actor, "shop.quote"):
        raise Refused(_("Your company's terms do not include quotations."))
    if not asks and not custom:
        raise Refused(_("Add at least one product with a quantity."))
    if len(asks) + len(custom) > MAX_LINES:
        raise Refused(_("A quote has at most %(count)s lines.", count=MAX_LINES))
    quantities: dict[int, int] = {}
    for product_id, quantity in asks:
        if not isinstance(quantity, int) or not 1 <= quantity <= orders.MAX_QUANTITY:
            raise Refused(
                _(
                    "Quantities are whole numbers from 1 to %(most)s.",
                    most=i18n.number(orders.MAX_QUANTITY),
                )
            )
        if product_id in quantities:
            raise Refused(_("A product appears twice: put its whole quantity on one line."))
        quantities[product_id] = quantity
    for part in custom:
        if not isinstance(part.quantity, int) or not 1 <= part.quantity <= orders.MAX_QUANTITY:
            raise Refused(
                _(
                    "Quantities are whole numbers from 1 to %(most)s.",
                    most=i18n.number(orders.MAX_QUANTITY),
                )
            )
    shown = visibility.offered(company.group_id)  # hidden from the group: as not sold
    products = {
        p.id: p
        for p in db.session.scalars(select(Product).where(Product.id.in_(quantities), *shown))
    }
    if set(products) != set(quantities):
        raise Refused(_("Some of these products are no longer sold."))
    note = _note(note)
    staff = access.acting_staff(actor)  # asked for in the person's name (core.acting)
    quote = Quote(
        number=_next_number(),
        company=company,
        requested_by=actor,
        acting_staff_id=staff.id if staff is not None else None,
        status="requested",
        note=note,
    )
    asked = [(products[pid], qty) for pid, qty in quantities.items()]
    quote.lines = [QuoteLine(product=p, quantity=q) for p, q in asked]
    quote.lines += [
        custom_parts.custom_line(part, actor=actor, reference=f"CUSTOM-{quote.number}-{n}")
        for n, part in enumerate(custom, start=1)
    ]
    first = QuoteRound(author=actor, side=CUSTOMER, action="request", note=note)
    first.lines = [round_line(ln, None) for ln in quote.lines]
    quote.rounds.append(first)
    db.session.add(quote)
    db.session.flush()
    _record(
        quote,
        "requested",
        actor,
        f"Quote {quote.number} requested by {company.name}: {len(quote.lines)} line(s)",
        after={"lines": [[ln.sku, ln.quantity] for ln in quote.lines], "note": note[:200]},
    )
    lines = "\n".join(f"- {ln.quantity} × {ln.sku} {ln.title}" for ln in quote.lines)
    _tell_seller(
        quote,
        _("new request"),
        i18n.join(
            _(
                "%(name)s of %(company)s asks for prices:",
                name=actor.name,
                company=company.name,
            ),
            f"\n{lines}",
            _noted(note),
            i18n.join("\n\n", acting.told(quote)) if staff is not None else "",
        ),
        link,
    )
    return quote


def answer(
    quote_id: int,
    prices: dict[int, object],
    valid_until: date,
    *,
    actor: User,
    seen: int | None,
    note: str = "",
    link: Callable[[Quote], str] | None = None,
) -> QuoteRound:
    """The seller's move: an offer to a request, or a counter to a customer's counter-offer."""
    quote = _lock(quote_id)
    _check_side(quote, actor, SELLER)
    _check_moment(quote, SELLER, seen)
    clean = _prices_of(quote, prices)
    if not isinstance(valid_until, date):
        raise Refused(_("Choose the date until which these prices hold."))
    if valid_until <= today():
        raise Refused(_("The offer must be valid until a date in the future."))
    if valid_until > today() + timedelta(days=MAX_VALIDITY_DAYS):
        raise Refused(_("An offer holds for at most %(days)s days.", days=MAX_VALIDITY_DAYS))
    note = _note(note)
    action = "offer" if quote.status == "requested" else "counter"
    before = {line.sku: plain_price(line.unit_price) for line in quote.lines}
    rnd = QuoteRound(author=actor, side=SELLER, action=action, note=note, valid_until=valid_until)
    rnd.lines = [round_line(ln, clean[ln.id]) for ln in quote.lines]
    quote.rounds.append(rnd)
    for line in quote.lines:
        line.unit_price = clean[line.id]
    quote.status = "offered" if action == "offer" else "countered"
    quote.valid_until = valid_until
    db.session.flush()
    after = {line.sku: plain_price(line.unit_price) for line in quote.lines}
    _record(
        quote,
        "offered" if action == "offer" else "countered",
        actor,
        f"Quote {quote.number}: {actor.name} {ACTION_LABELS[action]}, valid until {valid_until}",
        before={"prices": before},
        after={"prices": after, "valid_until": valid_until.isoformat()},
    )
    if action == "offer":
        subject = _("new prices")
        said = _(
            "%(name)s offered prices on quote %(number)s, valid until %(day)s:",
            name=actor.name,
            number=quote.number,
            day=i18n.day(valid_until),
        )
    else:
        subject = _("new counter-offer")
        said = _(
            "%(name)s made a counter-offer on quote %(number)s, valid until %(day)s:",
            name=actor.name,
            number=quote.number,
            day=i18n.day(valid_until),
        )
    _tell_customer(
        quote,
        subject,
        i18n.join(said, "\n", _price_lines(quote), _noted(note)),
        link,
        attach=notify.Attach("quote", quote),
    )
    return rnd


def counter(
    quote_id: int,
    prices: dict[int, object],
    *,
    actor: User,
    seen: int | None,
    note: str = "",
    link: Callable[[Quote], str] | None = None,
) -> QuoteRound:
    """The customer proposes other prices; the seller's turn. The standing offer stays as it is."""
    quote = _lock(quote_id)
    _check_side(quote, actor, CUSTOMER)
    if not access.sees_prices(actor):
        raise Refused(_("Only someone who sees your company's prices can answer them."))
    _check_moment(quote, CUSTOMER, seen)
    clean = _prices_of(quote, prices)
    if all(clean[line.id] == line.unit_price for line in quote.lines):
        raise Refused(
            _("These are the seller's prices already: change a price, or accept the offer.")
        )
    note = _note(note)
    rnd = QuoteRound(author=actor, side=CUSTOMER, action="counter", note=note)
    rnd.lines = [round_line(ln, clean[ln.id]) for ln in quote.lines]
    quote.rounds.append(rnd)
    quote.status = "countered"
    db.session.flush()
    _record(
        quote,
        "countered",
        actor,
        f"Quote {quote.number}: {actor.name} of {quote.company.name} made a counter-offer",
        before={"prices": {ln.sku: plain_price(ln.unit_price) for ln in quote.lines}},
        after={"prices": {ln.sku: plain_price(clean[ln.id]) for ln in quote.lines}},
    )
    asked = i18n.join(
        *(
            i18n.join(
                "- ",
                ln.quantity,
                " × ",
                ln.sku,
                ": ",
                i18n.money(ln.unit_price),
                " → ",
                i18n.money(clean[ln.id]),
            )
            for ln in quote.lines
        ),
        sep="\n",
    )
    _tell_seller(
        quote,
        _("counter-offer"),
        i18n.join(_("%(name)s asks for other prices:", name=actor.name), "\n", asked, _noted(note)),
        link,
    )
    return rnd


def accept(
    quote_id: int,
    *,
    actor: User,
    seen: int | None,
    note: str = "",
    link: Callable[[Quote], str] | None = None,
) -> Order:
    """A decision-maker accepts the standing offer: an order at exactly the quoted prices.

    Above the company's approval limit the first acceptance is recorded as an approval
    round (returned instead of an order) and a second, different decision-maker places
    the order. Any later move (a counter-offer, a new offer) voids that approval.
    """
    quote = _lock(quote_id)
    _check_side(quote, actor, CUSTOMER)
    if not access.can(actor, "shop.order"):
        raise Refused(_("Only a decision-maker of your company can accept a quote."))
    _check_moment(quote, CUSTOMER, seen)
    if any(line.unit_price is None for line in quote.lines):
        raise Refused(_("This quote has lines without a price; it cannot be accepted."))
    note = _note(note)
    first = first_approval(quote) if needs_two_approvals(quote) else None
    if needs_two_approvals(quote) and first is None:
        return _approve_first(quote, actor, note, link)
    if first is not None and first.author_id == actor.id:
        raise Refused(_("You gave the first approval: a second decision-maker must accept."))
    return _accepted(quote, actor, first, note, link)


def approve_for_seller(
    quote_id: int,
    *,
    actor: User,
    seen: int | None,
    note: str = "",
    link: Callable[[Quote], str] | None = None,
) -> Order:
    """The seller's staff give the second approval of a quote in the company's stead.

    Only staff who may move the company's orders, and only for an open quote above the
    limit whose first approval stands: the order is placed as a second decision-maker's
    acceptance places it. `link` leads the customer's people to the quote.
    """
    quote = _lock(quote_id)
    if not (actor.is_staff and access.load_company(actor, quote.company_id) is not None):
        raise NotFound(_("There is no such quote among yours."))
    if not access.may_give_second_approval(actor, quote.company_id):
        raise Refused(_("Only staff who may move orders give a customer's second approval."))
    _check_moment(quote, None, seen)  # closed (accepted already), expired, or out of date
    if not needs_two_approvals(quote):
        raise Refused(
            _(
                "Quote %(number)s is within %(company)s's approval limit: one decision-maker "
                "of theirs accepts it, and no second approval is needed.",
                number=quote.number,
                company=quote.company.name,
            )
        )
    if not waits_for_second(quote):
        raise Refused(
            _(
                "Quote %(number)s does not wait for a second approval: a decision-maker of "
                "%(company)s gives the first, the seller only the second.",
                number=quote.number,
                company=quote.company.name,
            )
        )
    first = first_approval(quote)
    order = _accepted(quote, actor, first, _note(note), None)
    _tell_customer(
        quote,
        _("second approval given, order %(order)s", order=order.number),
        _(
            "%(name)s, of the seller's staff, gave the second approval of quote %(number)s "
            "after %(first)s's. Order %(order)s of %(total)s is placed at the quoted prices.",
            name=actor.name,
            number=quote.number,
            first=first.author.name,
            order=order.number,
            total=i18n.money(order.total, order.currency),
        ),
        link,
        attach=notify.Attach("order", order),
    )
    return order


def _accepted(
    quote: Quote,
    actor: User | None,
    first: QuoteRound | None,
    note: str,
    link: Callable[[Quote], str] | None,
    *,
    contact: tuple[str, str] | None = None,
) -> Order:
    """The last acceptance, a decision-maker's, the seller's or a mailed link's contact's
    (`contact`: name and address, with no actor): the order at the quoted prices, in the
    first approver's name when there was one, and the seller told."""
    by_seller = actor is not None and actor.is_staff
    before = quote.status
    order = orders.place(
        quote.company,
        [
            orders.LineRequest(ln.product_id, ln.quantity, unit_price=ln.unit_price)
            if not ln.is_custom
            else orders.LineRequest(
                None,
                ln.quantity,
                unit_price=ln.unit_price,
                sku=ln.sku,
                name=ln.title,
                quote_line_id=ln.id,
            )
            for ln in quote.lines
        ],
        placed_by=first.author if first is not None else actor,
        approved_by=actor if first is not None else None,
        quote=quote,
        note=f"Quote {quote.number}" + (f": {note}" if note else ""),
        # No checkout: the company's default address and the cheapest method its group
        # may use, as soon as possible.
        delivery=delivery.defaults_for(quote.company),
    )
    rnd = QuoteRound(
        author=actor, side=SELLER if by_seller else CUSTOMER, action="accept", note=note
    )
    rnd.lines = [round_line(ln, ln.unit_price) for ln in quote.lines]
    quote.rounds.append(rnd)
    quote.status = "accepted"
    # By id: the two tables point at each other, and the order row exists already.
    quote.order_id = order.id
    db.session.flush()
    after = {"status": "accepted", "order": order.number, "total": str(order.total)}
    if contact is not None:
        name, email = contact
        audit.record(
            "quote.accepted_by_link",
            actor=None,
            actor_email=email,
            target=quote,
            summary=f"Quote {quote.number} accepted through a mailed link by {name} <{email}>: "
            f"order {order.number}, {order.total}",
            before={"status": before},
            after={**after, "contact": f"{name} <{email}>"},
        )
        events.record(db.session, "quote_changed", quote.id, company=quote.company_id)
        what = _(
            "%(name)s (%(email)s) accepted quote %(number)s through the link mailed to them. "
            "Order %(order)s of %(total)s was placed at the quoted prices.",
            name=name,
            email=email,
            number=quote.number,
            order=order.number,
            total=i18n.money(order.total, order.currency),
        )
        # The company's decision-makers hear of an order placed through a link too.
        notify.company(
            quote.company,
            "shop.order",
            _(
                "Quote %(number)s: accepted, order %(order)s",
                number=quote.number,
                order=order.number,
            ),
            what,
        )
    elif by_seller:
        _record(
            quote,
            "approved_by_seller",
            actor,
            f"Quote {quote.number}: second approval given by the seller ({actor.name}) after "
            f"{first.author.name}'s: order {order.number}, {order.total}",
            before={"status": before},
            after={"first_approval": first.author.name, **after},
        )
        what = _(
            "%(name)s gave %(company)s's second approval of quote %(number)s. Order %(order)s "
            "of %(total)s was placed at the quoted prices.",
            name=actor.name,
            company=quote.company.name,
            number=quote.number,
            order=order.number,
            total=i18n.money(order.total, order.currency),
        )
    else:
        _record(
            quote,
            "accepted",
            actor,
            f"Quote {quote.number} accepted by {actor.name}: order {order.number}, {order.total}",
            before={"status": before},
            after=after,
        )
        what = _(
            "%(name)s accepted quote %(number)s. Order %(order)s of %(total)s was placed at "
            "the quoted prices.",
            name=actor.name,
            number=quote.number,
            order=order.number,
            total=i18n.money(order.total, order.currency),
        )
    _tell_seller(
        quote,
        _("accepted, order %(order)s", order=order.number),
        i18n.join(what, _noted(note)),
        link,
    )
    return order


def accept_by_contact(
    quote_id: int,
    *,
    name: str,
    email: str,
    seen: int | None,
    note: str = "",
    link: Callable[[Quote], str] | None = None,
) -> Order:
    """A contact without an account accepts the standing offer through the link mailed to
    them (core.quote_links checked the link): the order a decision-maker's acceptance
    places. Above the company's approval limit a link cannot decide: its decision-makers
    approve in the portal, so the limit is never bypassed by mail."""
    quote = _lock(quote_id)
    _check_moment(quote, CUSTOMER, seen)
    if any(line.unit_price is None for line in quote.lines):
        raise Refused(_("This quote has lines without a price; it cannot be accepted."))
    if needs_two_approvals(quote):
        raise Refused(
            _(
                "Quote %(number)s is above %(company)s's approval limit: a decision-maker "
                "of your company accepts it in the portal.",
                number=quote.number,
                company=quote.company.name,
            )
        )
    note = _note(note)
    by = _("Accepted by %(name)s (%(email)s) through a mailed link.", name=name, email=email)
    return _accepted(
        quote, None, None, str(i18n.join(by, note, sep=" ")).strip(), link, contact=(name, email)
    )


def reject_by_contact(
    quote_id: int,
    *,
    name: str,
    email: str,
    seen: int | None,
    note: str = "",
    link: Callable[[Quote], str] | None = None,
) -> QuoteRound:
    """A contact without an account rejects the standing offer through their mailed link;
    the quote is closed as a decision-maker's rejection closes it, and the seller told."""
    quote = _lock(quote_id)
    _check_moment(quote, CUSTOMER, seen)
    note = _note(note)
    before = quote.status
    by = _("Rejected by %(name)s (%(email)s) through a mailed link.", name=name, email=email)
    rnd = QuoteRound(
        author=None,
        side=CUSTOMER,
        action="reject",
        note=str(i18n.join(by, note, sep=" ")).strip(),
    )
    quote.rounds.append(rnd)
    quote.status = "rejected"
    db.session.flush()
    audit.record(
        "quote.rejected_by_link",
        actor=None,
        actor_email=email,
        target=quote,
        summary=f"Quote {quote.number} rejected through a mailed link by {name} <{email}>",
        before={"status": before},
        after={"status": "rejected", "contact": f"{name} <{email}>", "note": note[:200]},
    )
    events.record(db.session, "quote_changed", quote.id, company=quote.company_id)
    what = i18n.join(
        _(
            "%(name)s (%(email)s) rejected quote %(number)s through the link mailed to them.",
            name=name,
            email=email,
            number=quote.number,
        ),
        _noted(note),
    )
    _tell_seller(quote, _("rejected"), what, link)
    notify.company(
        quote.company, "shop.order", _("Quote %(number)s: rejected", number=quote.number), what
    )
    return rnd


def _approve_first(
    quote: Quote, actor: User, note: str, link: Callable[[Quote], str] | None
) -> QuoteRound:
    """The first of two acceptances above the approval limit: kept in the timeline, told."""
    amount = total(quote)
    limit = quote.company.approval_limit
    rnd = QuoteRound(author=actor, side=CUSTOMER, action="approve", note=note)
    quote.rounds.append(rnd)
    db.session.flush()
    _record(
        quote,
        "approved",
        actor,
        f"Quote {quote.number} approved by {actor.name} ({amount} EUR, above the approval "
        f"limit of {limit} EUR): a second decision-maker must accept",
        after={"total": str(amount), "limit": str(limit)},
    )
    notify.company(
        quote.company,
        "shop.approve",
        _(
            "Quote %(number)s: second approval needed (%(amount)s)",
            number=quote.number,
            amount=i18n.money(amount),
        ),
        i18n.join(
            _(
                "%(name)s accepted quote %(number)s of %(amount)s. It is above your "
                "company's approval limit of %(limit)s, so a second decision-maker must "
                "accept it before the order is placed: open Quotes in the portal's shop.",
                name=actor.name,
                number=quote.number,
                amount=i18n.money(amount),
                limit=i18n.money(limit),
            ),
            _noted(note),
        ),
        skip=actor,
    )
    if short_of_approvers(quote):
        _tell_seller(
            quote,
            _("second approval needed (%(amount)s)", amount=i18n.money(amount)),
            _(
                "%(name)s of %(company)s approved quote %(number)s of %(amount)s, above "
                "the company's approval limit of %(limit)s, and the company has no other "
                "decision-maker to accept it. Staff who may move orders can give the second "
                "approval on the quote's page.",
                name=actor.name,
                company=quote.company.name,
                number=quote.number,
                amount=i18n.money(amount),
                limit=i18n.money(limit),
            ),
            link,
        )
    return rnd


def _close(quote: Quote, actor: User, side: str, action: str, status: str, note: str) -> None:
    """End the negotiation with a last round of `action`, audited as `quote.<status>`."""
    before = quote.status
    quote.rounds.append(QuoteRound(author=actor, side=side, action=action, note=note))
    quote.status = status
    db.session.flush()
    _record(
        quote,
        status,
        actor,
        f"Quote {quote.number} {status} by {actor.name}",
        before={"status": before},
        after={"status": status, "note": note[:200]},
    )


def reject(
    quote_id: int,
    *,
    actor: User,
    seen: int | None,
    note: str = "",
    link: Callable[[Quote], str] | None = None,
) -> QuoteRound:
    """Close the negotiation: the seller declines on its turn, a decision-maker on theirs."""
    quote = _lock(quote_id)
    side = SELLER if actor.is_staff else CUSTOMER
    _check_side(quote, actor, side)
    if side == CUSTOMER and not access.can(actor, "shop.order"):
        raise Refused(_("Only a decision-maker of your company can reject a quote."))
    _check_moment(quote, side, seen)
    note = _note(note)
    _close(quote, actor, side, "reject", "rejected", note)
    message = i18n.join(
        _("%(name)s rejected quote %(number)s.", name=actor.name, number=quote.number),
        _noted(note),
    )
    if side == SELLER:
        _tell_customer(quote, _("declined"), message, link)
    else:
        _tell_seller(quote, _("rejected"), message, link)
    return quote.rounds[-1]


def withdraw(
    quote_id: int,
    *,
    actor: User,
    seen: int | None,
    note: str = "",
    link: Callable[[Quote], str] | None = None,
) -> QuoteRound:
    """The customer takes the request back, whoever's turn it is, while the quote is open."""
    quote = _lock(quote_id)
    _check_side(quote, actor, CUSTOMER)
    if not access.may_withdraw_quote(actor, quote):
        raise Refused(
            _("Only the person who asked for this quote or a decision-maker can withdraw it.")
        )
    _check_moment(quote, None, seen)
    note = _note(note)
    _close(quote, actor, CUSTOMER, "withdraw", "withdrawn", note)
    _tell_seller(
        quote,
        _("withdrawn"),
        i18n.join(
            _("%(name)s withdrew quote %(number)s.", name=actor.name, number=quote.number),
            _noted(note),
        ),
        link,
    )
    return quote.rounds[-1]


def plain_price(price: Decimal | None) -> str:
    """4.5 as 4.50 and 0.0125 as 0.0125: cents always, sub-cent digits when there are any."""
    if price is None:
        return "—"
    whole, _, frac = f"{price:.4f}".partition(".")
    return f"{whole}.{frac.rstrip('0').ljust(2, '0')}"


def _price_lines(quote: Quote):
    return i18n.join(
        *(
            i18n.join(
                "- ",
                _(
                    "%(quantity)s × %(sku)s at %(price)s %(unit)s",
                    quantity=ln.quantity,
                    sku=ln.sku,
                    price=i18n.money(ln.unit_price),
                    unit=ln.product.unit if ln.product is not None else "pcs",
                ),
            )
            for ln in quote.lines
        ),
        sep="\n",
    )
