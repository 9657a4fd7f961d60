"""Carts: one open cart per person, checked out, or submitted and approved into an order.

A cart holds products and quantities only; its prices come from the offer function
whenever it is shown, so the cart, the order and the invoice agree to the cent. A
requester submits the cart; a decision-maker of the same company approves it (and
the order is placed in the requester's name) or rejects it with a note. Above the
company's approval limit an order needs two different decision-makers, and nobody
approves their own request. A company with too few decision-makers for that is told
before it is stuck, and the seller's staff who may move its orders give the second
approval in its stead (`approve_for_seller`), along the same path as a decision-maker's.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from extensions import db

from . import access, acting, audit, delivery, events, i18n, notify, orders, tax, visibility
from .errors import NotFound, Refused
from .i18n import _, ngettext
from .models import Cart, CartLine, Company, Order, Product, User, utcnow
from .offer import OUT, SHORT, SUPPLIED, Offer, Promise, check_quantity, offers_for

PENDING = "submitted"
DECIDED = ("approved", "rejected")
NOTE_LENGTH = 2000


class Promised:
    """What a line's `promise` property (the cart's rule for stock, as the group sees it,
    None when it has no offer) says; for the cart's lines and the quick order's."""

    @property
    def short_of_stock(self) -> bool:
        """The quantity certainly cannot be supplied in full (as the group sees stock)."""
        return self.promise is not None and self.promise.state == SHORT

    @property
    def in_doubt(self) -> bool:
        """It may not be supplied in full: short, or beyond what the level promises."""
        return self.promise is not None and self.promise.state != SUPPLIED


@dataclass(frozen=True)
class PricedLine(Promised):
    """A cart line with the product's offer of this moment (None once it is no longer sold)."""

    line: CartLine
    product: Product
    offer: Offer | None
    line_total: Decimal

    @property
    def sold(self) -> bool:
        return self.offer is not None

    @property
    def refusal(self):
        """Why this quantity may not be ordered (the product's minimum or pack size), or
        None: checkout and approval refuse the cart while a line says so."""
        return check_quantity(self.product, self.line.quantity)

    @property
    def promise(self) -> Promise | None:
        """What the group's view of stock says of this line's quantity (core.offer): for a
        group that sees levels, from the level's band alone, so trying quantities in the
        cart tells nothing finer than the level shown beside them."""
        if self.offer is None:
            return None
        return self.offer.stock.promise(self.line.quantity)

    @property
    def lower_to(self) -> int | None:
        """The quantity to lower a short line to: the most the group's view allows, in
        whole packs of the product (None when that is below its minimum)."""
        if not self.short_of_stock or not self.promise.most:
            return None
        multiple = max(self.product.order_multiple or 1, 1)
        most = self.promise.most - self.promise.most % multiple
        return most if most >= max(self.product.min_quantity or 1, 1) and most > 0 else None

    @property
    def backorder_part(self) -> int | None:
        """How much of the line would be back-ordered, for a group that sees counts."""
        exact = self.offer.stock.exact if self.offer is not None else None
        if exact is None:
            return None
        return max(self.line.quantity - exact, 0)


@dataclass(frozen=True)
class PricedCart:
    """A cart as its company's group sees it now: each line's offer and the total."""

    cart: Cart
    lines: list[PricedLine]
    total: Decimal

    @property
    def unsold(self) -> list[PricedLine]:
        return [p for p in self.lines if not p.sold]

    @property
    def refused(self) -> list[PricedLine]:
        """Lines on sale whose quantity breaks the product's minimum or pack size."""
        return [p for p in self.lines if p.sold and p.refusal is not None]

    @property
    def needs_two_approvals(self) -> bool:
        return needs_two_approvals(self.cart.company, self.total)

    @property
    def backorders(self) -> bool:
        """The company's group accepts back-orders: no line is refused for stock."""
        return bool(self.cart.company.group.backorders_allowed)

    @property
    def in_doubt(self) -> list[PricedLine]:
        """Lines that may not be supplied in full, as the group sees stock."""
        return [p for p in self.lines if p.in_doubt]

    @property
    def taxes(self) -> tax.Totals:
        """The goods' net, VAT per rate and gross, as an order placed today would bear."""
        sold = ((p.product.tax_class, p.line_total) for p in self.lines if p.sold)
        return tax.of_lines(self.cart.company, sold)


def needs_two_approvals(company: Company, total: Decimal) -> bool:
    """Above the company's approval limit an order needs a second decision-maker."""
    return company.approval_limit is not None and total > company.approval_limit


def short_of_approvers(cart: Cart, total: Decimal, *, deciding: User | None = None) -> bool:
    """Would this cart stop at "1 of 2" for want of a second decision-maker of its company?

    Above the limit two different decision-makers approve, neither of them the requester;
    `deciding` is one about to approve or check out. When too few are left, only the
    seller's staff can give the second approval.
    """
    if not needs_two_approvals(cart.company, total):
        return False
    taken = {cart.owner_id, cart.first_approver_id, deciding.id if deciding else None}
    given = cart.first_approver_id is not None or deciding is not None
    others = [p for p in access.approvers(cart.company_id, "cart") if p.id not in taken]
    return len(others) < (1 if given else 2)


def _acted(record):
    """The paragraph a mail adds when staff acted for the person ("" otherwise)."""
    sentence = acting.told(record)
    return i18n.join("\n\n", sentence) if sentence else ""


def _their_note(note: str):
    """The paragraph that quotes a person's note in a mail ("" without a note)."""
    return i18n.join("\n\n", _('Their note: "%(note)s"', note=note)) if note else ""


def _ask_the_seller(cart: Cart, total: Decimal, first: User) -> None:
    """Nobody else at the company can give the second approval: tell the seller's staff."""
    company = cart.company
    notify.reps(
        company,
        _(
            "Second approval needed: %(company)s, %(total)s",
            company=company.name,
            total=i18n.money(total),
        ),
        _(
            "%(name)s of %(company)s approved an order of %(total)s, above the company's "
            "approval limit of %(limit)s, and the company has no other decision-maker to "
            "give the second approval. Staff who may move orders can give it in the back "
            "office: Orders, Waiting for a second approval.",
            name=first.name,
            company=company.name,
            total=i18n.money(total),
            limit=i18n.money(company.approval_limit),
        ),
        permission=access.SECOND_APPROVER,
    )


def priced(cart: Cart) -> PricedCart:
    """Each line with its offer and line total, computed as an order line would be. A line
    whose product is no longer sold to the company's group (archived, or hidden from the
    group since it was put in: core.visibility) has no offer: checkout refuses it."""
    product_ids = [line.product_id for line in cart.lines]
    products = {
        p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(product_ids)))
    }
    group_id = cart.company.group_id
    sold = [p for p in products.values() if visibility.available(p, group_id)]
    offers = offers_for(cart.company.group, sold) if sold else {}
    lines, total = [], Decimal("0.00")
    for line in cart.lines:
        product, offer = products[line.product_id], offers.get(line.product_id)
        line_total = Decimal("0.00")
        if offer is not None:
            # The line's quantity reaches a break or not: its offer is that of the quantity.
            offer = offer.at(line.quantity)
            # The same builder as the order's, so the cart shows what the order will say.
            line_total = orders.order_line(product, offer, line.quantity).line_total
            total += line_total
        lines.append(PricedLine(line, product, offer, line_total))
    return PricedCart(cart, lines, total)


def totals_of(some: list[Cart]) -> dict[int, Decimal]:
    """Totals of several carts: an approved one's order total, others at today's offers.

    One statement for the products and two for the offers per company, whatever
    the number of carts (a list page must not price each cart on its own).
    """
    ordered = {c.order_id: c.id for c in some if c.order_id is not None}
    totals: dict[int, Decimal] = {}
    if ordered:
        rows = db.session.execute(select(Order.id, Order.total).where(Order.id.in_(ordered)))
        totals = {ordered[order_id]: total for order_id, total in rows}
    by_company: dict[int, list[Cart]] = {}
    for cart in some:
        if cart.order_id is None:
            by_company.setdefault(cart.company_id, []).append(cart)
    for group_carts in by_company.values():
        ids = {line.product_id for cart in group_carts for line in cart.lines}
        group = group_carts[0].company.group
        shown = visibility.offered(group.id)
        products = list(db.session.scalars(select(Product).where(Product.id.in_(ids), *shown)))
        offers = offers_for(group, products) if products else {}
        by_id = {p.id: p for p in products}
        for cart in group_carts:
            totals[cart.id] = sum(
                (
                    orders.order_line(
                        by_id[ln.product_id], offers[ln.product_id], ln.quantity
                    ).line_total
                    for ln in cart.lines
                    if ln.product_id in offers
                ),
                Decimal("0.00"),
            )
    return totals


def _open_of(user: User):
    """The conditions of the person's open cart: their own, or the one a staff member acting
    for them builds (core.access.acting_staff), each apart from the other."""
    staff = access.acting_staff(user)
    return (
        Cart.owner_id == user.id,
        Cart.status == "open",
        Cart.acting_staff_id.is_(None) if staff is None else Cart.acting_staff_id == staff.id,
    )


def open_cart(user: User) -> Cart | None:
    """The person's open cart, if they have one."""
    return db.session.scalar(
        select(Cart).where(*_open_of(user)).order_by(Cart.id).options(selectinload(Cart.lines))
    )


def find_line(user: User, line_id: int) -> CartLine | None:
    """A line of the person's own open cart, or None (never another person's line)."""
    return db.session.scalar(
        select(CartLine)
        .join(Cart, Cart.id == CartLine.cart_id)
        .where(CartLine.id == line_id, *_open_of(user))
    )


def quantity_in_cart(user: User, product_id: int) -> int:
    """How many of a product the person's open cart holds."""
    quantity = db.session.scalar(
        select(CartLine.quantity)
        .join(Cart, Cart.id == CartLine.cart_id)
        .where(CartLine.product_id == product_id, *_open_of(user))
    )
    return quantity or 0


def _open_cart_for_update(user: User, *, create: bool) -> Cart | None:
    """The open cart under a lock held to the end of the transaction, created if asked.

    Locking the owner's row first serialises two tabs adding at once, so a person
    never ends up with two open carts.
    """
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    cart = db.session.scalar(
        select(Cart)
        .where(*_open_of(user))
        .order_by(Cart.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if cart is None and create:
        staff = access.acting_staff(user)
        cart = Cart(
            company_id=user.company_id,
            owner_id=user.id,
            status="open",
            acting_staff_id=staff.id if staff is not None else None,
        )
        db.session.add(cart)
        db.session.flush()
    return cart


def _changed(cart: Cart) -> None:
    """Open pages of the owner (and the approvers, for a request) re-fetch the cart."""
    cart.updated_at = utcnow()
    events.record(
        db.session,
        "cart_changed",
        cart.id,
        company=cart.company_id,
        owner=cart.owner_id,
        request=cart.submitted_at is not None,  # approvers' lists show only requests
    )


def _customer(user: User) -> None:
    if user is None or not user.is_customer or user.company_id is None:
        raise Refused(_("Only the people of a customer company have carts."))


def _quantity(quantity) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise Refused(_("Quantities are whole numbers from 1."))
    if quantity < 1 or quantity > orders.MAX_QUANTITY:
        raise Refused(
            _(
                "Quantities are whole numbers from 1 to %(maximum)s.",
                maximum=i18n.number(orders.MAX_QUANTITY),
            )
        )
    return quantity


def _allowed(product: Product, quantity: int) -> int:
    """The quantity, if the product's minimum and pack size allow it; else Refused."""
    refusal = check_quantity(product, quantity)
    if refusal is not None:
        raise Refused(refusal)
    return quantity


def add(user: User, product_id: int, quantity: int) -> CartLine:
    """Put a quantity of a product into the person's open cart (added to what is there).

    What the line then holds must respect the product's minimum and pack size; refused,
    the cart keeps what it held."""
    _customer(user)
    quantity = _quantity(quantity)
    # Hidden from the person's group (core.visibility): refused as one no longer sold.
    shown = visibility.offered(user.company.group_id)
    product = db.session.scalar(select(Product).where(Product.id == product_id, *shown))
    if product is None:
        raise Refused(_("This product is not sold any more."))
    offer = offers_for(user.company.group, [product])[product.id]
    # The level is what the person sees anyway: no count is revealed by refusing here.
    # A group that accepts back-orders may order what is out of stock: it waits for goods.
    if offer.stock.level == OUT and not offer.backorders:
        raise Refused(_("%(sku)s is out of stock.", sku=product.sku))
    cart = _open_cart_for_update(user, create=True)
    line = next((ln for ln in cart.lines if ln.product_id == product.id), None)
    if line is None:
        line = CartLine(product_id=product.id, quantity=_allowed(product, quantity))
        cart.lines.append(line)
    else:
        line.quantity = _allowed(product, _quantity(line.quantity + quantity))
    _changed(cart)
    db.session.flush()
    return line


def _own_line(user: User, line_id: int) -> tuple[Cart, CartLine]:
    cart = _open_cart_for_update(user, create=False)
    line = next((ln for ln in cart.lines if ln.id == line_id), None) if cart else None
    if line is None:
        raise NotFound(_("There is no such line in your cart."))
    return cart, line


def set_quantity(user: User, line_id: int, quantity: int) -> CartLine | None:
    """Change a line's quantity; 0 takes the product out of the cart. A quantity the
    product's minimum or pack size does not allow is refused: the line keeps its own."""
    _customer(user)
    cart, line = _own_line(user, line_id)
    if quantity == 0:
        cart.lines.remove(line)
        line = None
    else:
        quantity = _quantity(quantity)
        product = db.session.get(Product, line.product_id)
        line.quantity = _allowed(product, quantity)
    _changed(cart)
    db.session.flush()
    return line


def remove(user: User, line_id: int) -> None:
    """Take a product out of the person's open cart."""
    set_quantity(user, line_id, 0)


def _filled_cart(user: User) -> Cart:
    cart = _open_cart_for_update(user, create=False)
    if cart is None or not cart.lines:
        raise Refused(_("Your cart is empty: add products from the catalogue first."))
    return cart


def _sellable(pricing: PricedCart) -> None:
    """Every line is on sale, in a quantity its product's minimum and pack size allow (a
    rule may have changed since the line was put in the cart)."""
    if pricing.unsold:
        skus = ", ".join(p.product.sku for p in pricing.unsold)
        raise Refused(
            _("Some products are not sold any more (%(skus)s): remove them first.", skus=skus)
        )
    if pricing.refused:
        raise Refused(
            i18n.join(
                _("Change these quantities first:"),
                *(p.refusal for p in pricing.refused),
                sep=" ",
            )
        )


def _requests(cart: Cart) -> list[orders.LineRequest]:
    return [orders.LineRequest(line.product_id, line.quantity) for line in cart.lines]


def _clean_note(note: str | None) -> str:
    return (note or "").strip()[:NOTE_LENGTH]


def keep_choices(user: User, choices: delivery.Choices) -> bool:
    """Keep checkout's choices on the person's open cart as they are made (checked when
    the cart is ordered or submitted). False: there is no open cart to keep them on.

    No event: the page that made the choice shows it, and a refresh of the cart while
    the person is still choosing would move them out of the field they are in.
    """
    _customer(user)
    cart = _open_cart_for_update(user, create=False)
    if cart is None:
        return False
    delivery.keep(cart, choices)
    return True


def _choose(
    cart: Cart, choices: delivery.Choices | None, today: date | None = None
) -> delivery.Delivery:
    """The cart's delivery choices (the ones given, else the ones it keeps), checked and
    kept on it: they travel with an approval request to the order. `today`: the day the
    lead time counts from, the deciding person's own (a requested date is a day where they
    are); None is the portal's (UTC)."""
    chosen = choices if choices is not None else delivery.of_cart(cart)
    checked = delivery.check(cart.company, chosen, on=today)
    delivery.keep(cart, chosen)
    return checked


def submit(
    user: User,
    note: str = "",
    choices: delivery.Choices | None = None,
    *,
    today: date | None = None,
) -> Cart:
    """Send the person's open cart, with its delivery choices, to their company's
    decision-makers for approval (`today`: the person's own day, see _choose)."""
    _customer(user)
    cart = _filled_cart(user)
    pricing = priced(cart)
    _sellable(pricing)
    chosen = _choose(cart, choices, today)
    cart.status = PENDING
    cart.submitted_at = utcnow()
    cart.note = _clean_note(note)
    audit.record(
        "cart.submitted",
        actor=user,
        target=cart,
        summary=f"Cart of {user.name} submitted for approval, {pricing.total} EUR",
        after={
            "lines": [[p.product.sku, p.line.quantity] for p in pricing.lines],
            **delivery.described(chosen),
        },
    )
    notify.company(
        cart.company,
        "shop.approve",
        _(
            "Approval requested: %(name)s, %(total)s",
            name=user.name,
            total=i18n.money(pricing.total),
        ),
        i18n.join(
            ngettext(
                "%(name)s asks you to approve a cart of %(num)d line(s), %(total)s at "
                "today's prices.",
                "%(name)s asks you to approve a cart of %(num)d line(s), %(total)s at "
                "today's prices.",
                len(cart.lines),
                name=user.name,
                total=i18n.money(pricing.total),
            ),
            _acted(cart),
            _their_note(cart.note),
            "\n\n",
            delivery.told(chosen, pricing.total),
            "\n\n",
            _("Open Approvals in the portal's shop to approve or reject it."),
        ),
        skip=user,
    )
    _changed(cart)
    return cart


def _placed(cart: Cart, order: Order, decider: User, note: str) -> None:
    cart.status = "approved"
    cart.decided_by_id = decider.id
    cart.decided_at = utcnow()
    cart.decision_note = note
    cart.order_id = order.id
    _changed(cart)
    notify.reps(
        cart.company,
        _("New order %(number)s from %(company)s", number=order.number, company=cart.company.name),
        ngettext(
            "%(company)s placed order %(number)s of %(total)s (%(num)d line(s)).",
            "%(company)s placed order %(number)s of %(total)s (%(num)d line(s)).",
            len(order.lines),
            company=cart.company.name,
            number=order.number,
            total=i18n.money(order.total, order.currency),
        ),
        permission="orders.edit",
    )


def checkout(
    user: User,
    note: str = "",
    choices: delivery.Choices | None = None,
    *,
    today: date | None = None,
) -> Order | Cart:
    """A decision-maker orders their open cart; above the limit it waits for a second one.

    `choices`: where, how and when it is delivered (None: those the cart keeps); `today`:
    the person's own day, which the lead time counts from (see _choose). Returns the order,
    or the cart when it now waits for a second decision-maker. Call through
    orders.retrying: stock is taken in this transaction.
    """
    _customer(user)
    if not access.can(user, "shop.order"):
        raise Refused(_("Only a decision-maker places orders: submit the cart for approval."))
    cart = _filled_cart(user)
    pricing = priced(cart)
    _sellable(pricing)
    chosen = _choose(cart, choices, today)
    note = _clean_note(note)
    if pricing.needs_two_approvals:
        cart.status = PENDING
        cart.submitted_at = utcnow()
        cart.note = note
        cart.first_approver_id = user.id  # ordering it is their own approval
        audit.record(
            "cart.submitted",
            actor=user,
            target=cart,
            summary=(
                f"Cart of {user.name} ({pricing.total} EUR) is above the approval limit: "
                "waiting for a second decision-maker"
            ),
            after=delivery.described(chosen),
        )
        notify.company(
            cart.company,
            "shop.approve",
            _(
                "Second approval needed: %(name)s, %(total)s",
                name=user.name,
                total=i18n.money(pricing.total),
            ),
            _(
                "%(name)s wants to order %(total)s, above your company's approval limit of "
                "%(limit)s. A second decision-maker must approve it: open Approvals in the "
                "portal's shop.",
                name=user.name,
                total=i18n.money(pricing.total),
                limit=i18n.money(cart.company.approval_limit),
            ),
            skip=user,
        )
        if short_of_approvers(cart, pricing.total):
            _ask_the_seller(cart, pricing.total, user)
        _changed(cart)
        return cart
    order = orders.place(
        cart.company,
        _requests(cart),
        placed_by=user,
        note=note,
        delivery=chosen,
        acting_staff_id=cart.acting_staff_id,
    )
    _placed(cart, order, user, "")
    notify.people(
        [user],
        _("Order %(number)s placed", number=order.number),
        i18n.join(
            _(
                "Your order %(number)s of %(gross)s including VAT (%(net)s net goods) is placed.",
                number=order.number,
                gross=i18n.money(order.gross_total, order.currency),
                net=i18n.money(order.total, order.currency),
            ),
            _acted(order),
            orders.backorder_note(order, user),
            "\n\n",
            delivery.summary(order),
        ),
        attach=notify.Attach("order", order),
    )
    return order


def visible_requests(user: User) -> Select:
    """Carts sent for approval in the person's company (never another company's)."""
    return select(Cart).where(
        Cart.company_id == user.company_id, Cart.status.in_((PENDING, *DECIDED))
    )


def requests_of(user: User, limit: int = 10) -> list[Cart]:
    """The person's own recent requests, newest first."""
    return list(
        db.session.scalars(
            select(Cart)
            .where(Cart.owner_id == user.id, Cart.status != "open")
            .order_by(Cart.submitted_at.desc(), Cart.id.desc())
            .limit(limit)
            .options(selectinload(Cart.lines))
        )
    )


def load_request(user: User, cart_id: int, *, lock: bool = False) -> Cart:
    """A request of the person's own company; any other cart is not found."""
    stmt = visible_requests(user).where(Cart.id == cart_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    cart = db.session.scalar(stmt)
    if cart is None:
        raise NotFound(_("There is no such request in your company."))
    return cart


def search_requests(stmt: Select, q: str) -> Select:
    """Requests whose requester's name or note contains `q`."""
    owners = select(User.id).where(User.name.icontains(q, autoescape=True))
    return stmt.where(or_(Cart.owner_id.in_(owners), Cart.note.icontains(q, autoescape=True)))


def _decidable(user: User, cart_id: int) -> Cart:
    _customer(user)
    if not access.can(user, "shop.approve"):
        raise Refused(_("Only a decision-maker approves or rejects requests."))
    # Locked: two decision-makers deciding at once must not both place the order.
    cart = load_request(user, cart_id, lock=True)
    if cart.status != PENDING:  # decided: approved or rejected
        raise Refused(
            _("This request was already approved.")
            if cart.status == "approved"
            else _("This request was already rejected.")
        )
    return cart


def approve(
    user: User,
    cart_id: int,
    note: str = "",
    choices: delivery.Choices | None = None,
    *,
    today: date | None = None,
) -> Order | None:
    """Approve a colleague's request: the order is placed in their name.

    `choices`: the request's delivery choices as the approver leaves them (None: as
    the request carries them); `today`: the approver's own day (see _choose). Above the
    approval limit the first approval is recorded and None returned; the order is placed
    by the second, different decision-maker. Call through orders.retrying: stock is taken
    in this transaction.
    """
    cart = _decidable(user, cart_id)
    if cart.owner_id == user.id:
        raise Refused(_("Nobody approves their own request: another decision-maker must."))
    if cart.first_approver_id == user.id:
        raise Refused(_("You gave the first approval: a second decision-maker must approve."))
    pricing = priced(cart)
    _sellable(pricing)
    _choose(cart, choices, today)
    note = _clean_note(note)
    owner = cart.owner
    if pricing.needs_two_approvals and cart.first_approver_id is None:
        cart.first_approver_id = user.id
        audit.record(
            "cart.approved",
            actor=user,
            target=cart,
            summary=(
                f"First approval of {owner.name}'s cart ({pricing.total} EUR, above the "
                "approval limit)"
            ),
            after={"note": note} if note else None,
        )
        notify.company(
            cart.company,
            "shop.approve",
            _(
                "Second approval needed: %(name)s, %(total)s",
                name=owner.name,
                total=i18n.money(pricing.total),
            ),
            _(
                "%(name)s approved %(owner)s's cart of %(total)s. It is above your "
                "company's approval limit of %(limit)s, so a second decision-maker must "
                "approve it: open Approvals in the portal's shop.",
                name=user.name,
                owner=owner.name,
                total=i18n.money(pricing.total),
                limit=i18n.money(cart.company.approval_limit),
            ),
            skip=user,
        )
        if short_of_approvers(cart, pricing.total):
            _ask_the_seller(cart, pricing.total, user)
        _changed(cart)
        return None
    return _approved(cart, user, note, today)


def _approved(cart: Cart, approver: User, note: str, today: date | None = None) -> Order:
    """The last approval, a decision-maker's or the seller's: the order is placed in the
    requester's name, stock taken, everyone told."""
    owner = cart.owner
    order = orders.place(
        cart.company,
        _requests(cart),
        placed_by=owner,
        approved_by=approver,
        acting_staff_id=cart.acting_staff_id,
        note=cart.note,
        # The choices the request carries, checked again: an address or a method may
        # have gone since it was sent.
        delivery=_choose(cart, None, today),
    )
    after = {"order": order.number, **({"note": note} if note else {})}
    if approver.is_staff:
        first = cart.first_approver
        audit.record(
            "cart.approved_by_seller",
            actor=approver,
            target=cart,
            summary=(
                f"Second approval of {owner.name}'s cart ({cart.company.name}) given by the "
                f"seller: order {order.number}, {order.total} EUR"
            ),
            after={"first_approval": first.name if first else "", **after},
        )
        told = _(
            "%(name)s, of the seller's staff, gave the second approval of your cart. Order "
            "%(number)s of %(total)s is placed.",
            name=approver.name,
            number=order.number,
            total=i18n.money(order.total, order.currency),
        )
    else:
        audit.record(
            "cart.approved",
            actor=approver,
            target=cart,
            summary=f"Cart of {owner.name} approved: order {order.number}, {order.total} EUR",
            after=after,
        )
        told = _(
            "%(name)s approved your cart. Order %(number)s of %(total)s is placed.",
            name=approver.name,
            number=order.number,
            total=i18n.money(order.total, order.currency),
        )
    _placed(cart, order, approver, note)
    notify.people(
        [owner],
        _("Your cart is approved: order %(number)s", number=order.number),
        i18n.join(
            told,
            _acted(order),
            orders.backorder_note(order, owner),
            _their_note(note),
            "\n\n",
            delivery.summary(order),
        ),
        attach=notify.Attach("order", order),
    )
    return order


# --- the seller's second approval ---------------------------------------------------------


def waiting_for_second(user: User, company_id: int | None = None, limit: int = 50) -> list[Cart]:
    """Requests of the companies in this person's scope that have their first approval and
    wait for the second, oldest first (they have waited longest)."""
    stmt = select(Cart).where(Cart.status == PENDING, Cart.first_approver_id.is_not(None))
    if company_id is not None:
        stmt = stmt.where(Cart.company_id == company_id)
    stmt = access.company_scope(user, stmt, Cart.company_id)
    return list(
        db.session.scalars(
            stmt.order_by(Cart.submitted_at, Cart.id)
            .limit(limit)
            .options(
                selectinload(Cart.lines),
                selectinload(Cart.company),
                selectinload(Cart.owner),
                selectinload(Cart.first_approver),
            )
        )
    )


def approve_for_seller(actor: User, cart_id: int, note: str = "") -> Order:
    """The seller's staff give a request's second approval in the company's stead.

    Only staff who may move the company's orders, and only for a request that has its
    first approval: the order is placed as a second decision-maker's approval places it.
    A cart outside the actor's scope (or still open) is not found. Call through
    orders.retrying: stock is taken in this transaction.
    """
    stmt = access.company_scope(
        actor,
        select(Cart).where(Cart.id == cart_id, Cart.status.in_((PENDING, *DECIDED))),
        Cart.company_id,
    )
    cart = db.session.scalar(stmt.with_for_update().execution_options(populate_existing=True))
    if cart is None or not actor.is_staff:
        raise NotFound(_("There is no such request among your customers'."))
    if not access.may_give_second_approval(actor, cart.company_id):
        raise Refused(_("Only staff who may move orders give a customer's second approval."))
    if cart.status == "approved":
        raise Refused(_("This request is already approved: its order is placed."))
    if cart.status != PENDING:  # rejected
        raise Refused(_("This request was rejected: there is nothing to approve."))
    if cart.acting_staff_id == actor.id:
        raise Refused(
            _(
                "You built this cart for the customer: another member of staff gives the "
                "second approval, so that two people decide."
            )
        )
    if cart.first_approver_id is None:
        raise Refused(
            _(
                "This request waits for its first approval by a decision-maker of "
                "%(company)s: the seller gives only the second.",
                company=cart.company.name,
            )
        )
    pricing = priced(cart)
    _sellable(pricing)
    return _approved(cart, actor, _clean_note(note))


def reject(user: User, cart_id: int, note: str) -> Cart:
    """Turn a request down, saying why; the requester is told."""
    cart = _decidable(user, cart_id)
    note = _clean_note(note)
    if not note:
        raise Refused(_("Say why you reject the request: the requester reads it."))
    cart.status = "rejected"
    cart.decided_by_id = user.id
    cart.decided_at = utcnow()
    cart.decision_note = note
    owner = cart.owner
    audit.record(
        "cart.rejected",
        actor=user,
        target=cart,
        summary=f"Cart of {owner.name} rejected",
        after={"note": note},
    )
    notify.people(
        [owner],
        _("Your cart was not approved"),
        _('%(name)s rejected your cart, with this note:\n\n"%(note)s"', name=user.name, note=note),
    )
    _changed(cart)
    return cart
