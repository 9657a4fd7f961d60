"""THE offer: what a customer group sees of a product at a moment.

Price (group price, else base price), the best promotion the group may see with
its discount and the promoted price, and stock as an exact count or a level.
Quantity breaks: the unit price from a quantity on, from the group's own list when the
group has its own price for the product, else from the base list; the promotion applies
to the reached break's price as to the unit price. `Offer.at(quantity)` is the offer of
a line of that quantity; the product's minimum and pack size are checked by
`check_quantity`, for carts, checkout and whatever else takes a quantity.
Pages, fragments, carts, orders, error messages, exports and live pushes all get
a customer's price and stock from here; exact stock never leaves this module for
a group that sees levels.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, literal, null, or_, select, union_all

from extensions import db

from . import i18n
from .i18n import _
from .models import (
    EXACT,
    UNIT,
    CustomerGroup,
    GroupPrice,
    PriceBreak,
    Product,
    Promotion,
    PromotionGroup,
    promotion_categories,
    promotion_products,
    utcnow,
)

OUT, FEW, MANY = "out", "few", "many"
LEVEL_LABELS = {OUT: _("Out of stock"), FEW: _("Few"), MANY: _("Many")}
HUNDRED = Decimal(100)


# What a view of stock promises for a quantity (`StockView.promise`): supplied in full,
# uncertain until the order is placed, or certainly not in full.
SUPPLIED, UNSURE, SHORT = "supplied", "unsure", "short"


@dataclass(frozen=True)
class Promise:
    """What a viewer's view of stock says of one quantity: `state` is SUPPLIED, UNSURE or
    SHORT; `most` is the largest quantity the view allows (None: it shows no bound). For a
    group that sees levels both come from the level's band alone, never from the count."""

    state: str
    most: int | None = None

    @property
    def short(self) -> bool:
        return self.state == SHORT


@dataclass(frozen=True)
class StockView:
    """Stock as one viewer may see it: `exact` is None unless they may see the count.

    `least` and `most` bound the stock this view is consistent with: the count itself for
    a group that sees counts, the level's band (from the group's thresholds) for one that
    sees levels; `most` None means no upper bound ("Many").
    """

    level: str
    exact: int | None = None
    least: int = 0
    most: int | None = None

    @property
    def label(self):
        """In the viewer's language, when shown."""
        if self.exact is not None:
            if self.exact <= 0:
                return _("Out of stock")
            return _("%(count)s in stock", count=i18n.number(self.exact))
        return LEVEL_LABELS[self.level]

    @property
    def available(self) -> bool:
        return self.level != OUT

    def promise(self, quantity: int) -> Promise:
        """Whether `quantity` can be supplied, as far as this view tells.

        At most `least` is certain; above `most` it certainly cannot be supplied in full;
        between them only the order itself finds out ("Few", or "Out of stock" with a
        threshold above 1). "Many" promises every quantity: it has no upper bound, and a
        warning that moved with the quantity there would be noise, not information.
        """
        if self.most is None or quantity <= self.least:
            return Promise(SUPPLIED, self.most)
        if quantity > self.most:
            return Promise(SHORT, self.most)
        return Promise(UNSURE, self.most)


@dataclass(frozen=True)
class PromotionTerm:
    """A promotion as it applies to one group: its discount for that group."""

    promotion_id: int
    name: str
    discount_percent: Decimal
    ends_at: datetime
    starts_at: datetime = datetime.min


@dataclass(frozen=True)
class Tier:
    """A quantity break as the group sees it: from `min_quantity` units on, the list price
    before the promotion and the price paid per unit."""

    min_quantity: int
    list_price: Decimal
    price: Decimal


@dataclass(frozen=True)
class Offer:
    """One product as one customer group sees it, for a line of `quantity` (1 unless
    asked through `at`)."""

    product_id: int
    sku: str
    list_price: Decimal  # the group's price before any promotion
    price_source: str  # "group" or "base"
    stock: StockView
    promotion: PromotionTerm | None = None
    price: Decimal = field(default=Decimal(0))  # what the customer pays per unit
    backorders: bool = False  # the group's orders accept what is beyond stock as back-ordered
    breaks: tuple[Tier, ...] = ()  # from 2 units on, ascending; the unit price is below them
    min_quantity: int = 1
    order_multiple: int = 1
    quantity: int = 1
    unit_list_price: Decimal | None = None  # the price of one unit, whatever `quantity`
    unit_price: Decimal | None = None

    @property
    def on_promotion(self) -> bool:
        return self.promotion is not None

    @property
    def has_rules(self) -> bool:
        """A minimum or a pack size that the person must respect."""
        return self.min_quantity > 1 or self.order_multiple > 1

    @property
    def orderable(self) -> bool:
        """May a cart take it now, as far as the offer tells (core.carts.add's rule): in
        stock as the group sees it, or out of stock for a group that accepts back-orders.
        Its least quantity is always allowed (check_quantity)."""
        return self.stock.available or self.backorders

    def tier_for(self, quantity: int) -> Tier | None:
        """The highest break `quantity` reaches (None: the unit price applies)."""
        reached = None
        for tier in self.breaks:
            if quantity >= tier.min_quantity:
                reached = tier
        return reached

    def at(self, quantity: int) -> "Offer":
        """This offer for a line of `quantity`: the reached break's prices, if any."""
        one_list = self.unit_list_price if self.unit_list_price is not None else self.list_price
        one = self.unit_price if self.unit_price is not None else self.price
        tier = self.tier_for(quantity)
        return replace(
            self,
            list_price=tier.list_price if tier else one_list,
            price=tier.price if tier else one,
            quantity=quantity,
            unit_list_price=one_list,
            unit_price=one,
        )

    @property
    def single(self) -> Tier:
        """The price of one unit (before any break), whatever quantity this offer is for:
        what the offer region shows, the same in the catalogue, the cart and a push."""
        return Tier(
            1,
            self.unit_list_price if self.unit_list_price is not None else self.list_price,
            self.unit_price if self.unit_price is not None else self.price,
        )

    @property
    def first_tier(self) -> Tier:
        """The unit price as a tier of its own (from 1, or from the minimum)."""
        return Tier(
            max(self.min_quantity, 1),
            self.unit_list_price if self.unit_list_price is not None else self.list_price,
            self.unit_price if self.unit_price is not None else self.price,
        )

    @property
    def tiers(self) -> tuple[Tier, ...]:
        """Every price step a person can order at: the unit price, then the breaks above
        the minimum (a break at or below the minimum replaces the unit price there)."""
        reached = self.tier_for(self.min_quantity)
        start = Tier(self.min_quantity, reached.list_price, reached.price) if reached else None
        above = tuple(t for t in self.breaks if t.min_quantity > self.min_quantity)
        return ((start or self.first_tier), *above)


def check_quantity(product, quantity: int):
    """Why this quantity of a product may not be ordered (its minimum, its pack size), in
    the reader's language, or None when it may. `product`: a Product or an Offer."""
    minimum = max(int(getattr(product, "min_quantity", 1) or 1), 1)
    multiple = max(int(getattr(product, "order_multiple", 1) or 1), 1)
    if quantity < minimum:
        if multiple > 1:
            return _(
                "%(sku)s is sold from %(minimum)s units, in packs of %(multiple)s: order at "
                "least %(minimum)s.",
                sku=product.sku,
                minimum=i18n.number(minimum),
                multiple=i18n.number(multiple),
            )
        return _(
            "%(sku)s is sold from %(minimum)s units: order at least %(minimum)s.",
            sku=product.sku,
            minimum=i18n.number(minimum),
        )
    if quantity % multiple:
        lower = quantity - quantity % multiple
        upper = lower + multiple
        if lower < minimum:
            return _(
                "%(sku)s is sold in packs of %(multiple)s: order %(upper)s instead of "
                "%(quantity)s.",
                sku=product.sku,
                multiple=i18n.number(multiple),
                upper=i18n.number(upper),
                quantity=i18n.number(quantity),
            )
        return _(
            "%(sku)s is sold in packs of %(multiple)s: order %(lower)s or %(upper)s instead "
            "of %(quantity)s.",
            sku=product.sku,
            multiple=i18n.number(multiple),
            lower=i18n.number(lower),
            upper=i18n.number(upper),
            quantity=i18n.number(quantity),
        )
    return None


@dataclass(frozen=True)
class GroupPolicy:
    """The parts of a customer group that shape an offer (a plain copy, safe across threads)."""

    group_id: int
    shows_promotions: bool
    stock_display: str
    few_from: int
    many_from: int
    backorders: bool = False  # the part of a line beyond stock is accepted as back-ordered

    @classmethod
    def of(cls, group: CustomerGroup) -> "GroupPolicy":
        return cls(
            group.id,
            bool(group.shows_promotions),
            group.stock_display,
            group.few_from,
            group.many_from,
            bool(group.backorders_allowed),
        )

    @property
    def sees_counts(self) -> bool:
        """Does this group see exact counts (and so back-ordered quantities)?"""
        return self.stock_display == EXACT


def stock_view(policy: GroupPolicy, stock: int) -> StockView:
    """Exact count for groups that see counts, otherwise only the level and its band."""
    if stock < policy.few_from:
        level, least, most = OUT, 0, max(policy.few_from - 1, 0)
    elif stock < policy.many_from:
        level, least, most = FEW, policy.few_from, policy.many_from - 1
    else:
        level, least, most = MANY, policy.many_from, None
    if policy.stock_display == EXACT:
        count = max(stock, 0)
        return StockView(level=OUT if stock <= 0 else level, exact=count, least=count, most=count)
    return StockView(level=level, least=least, most=most)


def promoted_price(price: Decimal, discount_percent: Decimal) -> Decimal:
    """The unit price after a percentage discount, rounded half-up to 1/100 of a cent."""
    return (price * (HUNDRED - discount_percent) / HUNDRED).quantize(UNIT, ROUND_HALF_UP)


def compute_offer(
    policy: GroupPolicy,
    *,
    product_id: int,
    sku: str,
    base_price: Decimal,
    stock: int,
    group_price: Decimal | None,
    promotions: Iterable[PromotionTerm] = (),
    at: datetime,
    base_breaks: Iterable[tuple[int, Decimal]] = (),
    group_breaks: Iterable[tuple[int, Decimal]] = (),
    min_quantity: int = 1,
    order_multiple: int = 1,
) -> Offer:
    """The offer, from facts already loaded. The single place where the rules live.

    A group with its own price for the product has its own breaks (none, if it has
    none); every other group has the base list's. The promotion applies to each break.
    """
    if group_price is not None:
        list_price, source, steps = Decimal(group_price), "group", group_breaks
    else:
        list_price, source, steps = Decimal(base_price), "base", base_breaks
    best = None
    if policy.shows_promotions:
        running = [p for p in promotions if p.starts_at <= at < p.ends_at]
        if running:
            best = max(running, key=lambda p: (p.discount_percent, -p.promotion_id))

    def paid(listed: Decimal) -> Decimal:
        return (promoted_price(listed, best.discount_percent) if best else listed).quantize(UNIT)

    price = paid(list_price)
    tiers = tuple(
        Tier(int(qty), Decimal(listed).quantize(UNIT), paid(Decimal(listed)))
        for qty, listed in sorted(steps)
        if int(qty) >= 2
    )
    return Offer(
        product_id=product_id,
        sku=sku,
        list_price=list_price.quantize(UNIT),
        price_source=source,
        stock=stock_view(policy, stock),
        promotion=best,
        price=price,
        backorders=policy.backorders,
        breaks=tiers,
        min_quantity=max(int(min_quantity or 1), 1),
        order_multiple=max(int(order_multiple or 1), 1),
    )


def _promotion_terms(
    policy: GroupPolicy, products: Sequence[Product], at: datetime
) -> dict[int, list[PromotionTerm]]:
    """Running, visible promotions of this group for these products, in one statement."""
    if not policy.shows_promotions or not products:
        return {}
    product_ids = [p.id for p in products]
    category_ids = sorted({p.category_id for p in products if p.category_id is not None})
    columns = (
        Promotion.id,
        Promotion.name,
        PromotionGroup.discount_percent,
        Promotion.starts_at,
        Promotion.ends_at,
    )
    running = and_(
        Promotion.is_active.is_(True),
        Promotion.starts_at <= at,
        Promotion.ends_at > at,
        PromotionGroup.group_id == policy.group_id,
        PromotionGroup.is_visible.is_(True),
    )
    by_product = (
        select(*columns, promotion_products.c.product_id, null().label("category_id"))
        .join(PromotionGroup, PromotionGroup.promotion_id == Promotion.id)
        .join(promotion_products, promotion_products.c.promotion_id == Promotion.id)
        .where(running, promotion_products.c.product_id.in_(product_ids))
    )
    parts = [by_product]
    if category_ids:
        parts.append(
            select(*columns, null().label("product_id"), promotion_categories.c.category_id)
            .join(PromotionGroup, PromotionGroup.promotion_id == Promotion.id)
            .join(promotion_categories, promotion_categories.c.promotion_id == Promotion.id)
            .where(running, promotion_categories.c.category_id.in_(category_ids))
        )
    stmt = union_all(*parts) if len(parts) > 1 else by_product
    by_product_id: dict[int, list[PromotionTerm]] = {}
    by_category_id: dict[int, list[PromotionTerm]] = {}
    for pid, name, discount, starts, ends, product_id, category_id in db.session.execute(stmt):
        term = PromotionTerm(pid, name, Decimal(discount), ends, starts)
        if product_id is not None:
            by_product_id.setdefault(product_id, []).append(term)
        else:
            by_category_id.setdefault(category_id, []).append(term)
    return {
        p.id: by_product_id.get(p.id, []) + by_category_id.get(p.category_id, []) for p in products
    }


@dataclass
class _Lists:
    """The price-list facts of some products for one group: group prices, and the base
    and group breaks as (quantity, price) pairs per product."""

    prices: dict[int, Decimal] = field(default_factory=dict)
    base_breaks: dict[int, list] = field(default_factory=dict)
    group_breaks: dict[int, list] = field(default_factory=dict)


def _breaks_select(policy: GroupPolicy, ids: list[int]):
    return select(
        PriceBreak.product_id, PriceBreak.group_id, PriceBreak.min_quantity, PriceBreak.price
    ).where(
        PriceBreak.product_id.in_(ids),
        or_(PriceBreak.group_id.is_(None), PriceBreak.group_id == policy.group_id),
    )


def _price_lists(
    policy: GroupPolicy, products: Sequence[Product], prices: dict[int, Decimal] | None = None
) -> _Lists:
    """Group prices and breaks in one statement (breaks only, when the caller joined the
    group prices into its own query already). A group price reads as quantity 1 of the
    group's list: breaks start at 2 (a constraint)."""
    lists = _Lists(prices=dict(prices) if prices is not None else {})
    if not products:
        return lists
    ids = [p.id for p in products]
    stmt = _breaks_select(policy, ids)
    if prices is None:
        stmt = union_all(
            select(GroupPrice.product_id, GroupPrice.group_id, literal(1), GroupPrice.price).where(
                GroupPrice.group_id == policy.group_id, GroupPrice.product_id.in_(ids)
            ),
            stmt,
        )
    for product_id, group_id, quantity, price in db.session.execute(stmt):
        price = Decimal(price)
        if quantity == 1:
            lists.prices[product_id] = price
        elif group_id is None:
            lists.base_breaks.setdefault(product_id, []).append((quantity, price))
        else:
            lists.group_breaks.setdefault(product_id, []).append((quantity, price))
    return lists


def _group_prices(policy: GroupPolicy, products: Sequence[Product]) -> dict[int, Decimal]:
    return _price_lists(policy, products).prices


def offers_for(
    group: CustomerGroup | GroupPolicy,
    products: Sequence[Product],
    *,
    at: datetime | None = None,
    group_prices: dict[int, Decimal] | None = None,
) -> dict[int, Offer]:
    """Offers for many products in at most two statements (price lists, promotions).

    Callers that already joined the group prices into their product query pass
    them in `group_prices`: the first statement then reads the breaks alone.
    """
    policy = group if isinstance(group, GroupPolicy) else GroupPolicy.of(group)
    at = at or utcnow()
    lists = _price_lists(policy, products, group_prices)
    promos = _promotion_terms(policy, products, at)
    return {
        p.id: compute_offer(
            policy,
            product_id=p.id,
            sku=p.sku,
            base_price=p.base_price,
            stock=p.stock,
            group_price=lists.prices.get(p.id),
            promotions=promos.get(p.id, ()),
            at=at,
            base_breaks=lists.base_breaks.get(p.id, ()),
            group_breaks=lists.group_breaks.get(p.id, ()),
            min_quantity=p.min_quantity,
            order_multiple=p.order_multiple,
        )
        for p in products
    }


def offer_for(group: CustomerGroup | GroupPolicy, product: Product, *, at=None) -> Offer:
    """The offer of one product to one group."""
    return offers_for(group, [product], at=at)[product.id]


def group_price_column(group_id: int):
    """The group's price joined into a product query: (outer join target, price column)."""
    gp = GroupPrice.__table__.alias("gp")
    on = and_(gp.c.product_id == Product.id, gp.c.group_id == literal(group_id))
    return gp, on, gp.c.price


# --- the price explainer ----------------------------------------------------------------


@dataclass(frozen=True)
class PromotionCheck:
    """One promotion that covers a product, and whether it applies to a group now.

    `discount_percent` and `visible` are the group's terms (None when the promotion
    gives this group nothing); `reason` says why it does not apply, None when it does.
    """

    promotion_id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    via: str  # "product" or the category's name
    discount_percent: Decimal | None
    visible: bool
    reason: str | None
    chosen: bool = False


@dataclass(frozen=True)
class Explanation:
    """How one group's offer of one product was built, step by step."""

    policy: GroupPolicy
    base_price: Decimal
    group_price: Decimal | None
    promotions: tuple[PromotionCheck, ...]
    offer: Offer
    at: datetime
    base_breaks: tuple[tuple[int, Decimal], ...] = ()
    group_breaks: tuple[tuple[int, Decimal], ...] = ()
    quantity: int | None = None  # the line asked about, if any

    @property
    def breaks_from(self) -> str:
        """Whose breaks apply: "group" (its own list) or "base"."""
        return self.offer.price_source

    @property
    def line(self) -> Offer | None:
        """The offer for the quantity asked about: the reached break's prices."""
        return self.offer.at(self.quantity) if self.quantity else None

    @property
    def reached(self) -> Tier | None:
        """The break the quantity asked about reaches (None: the unit price)."""
        return self.offer.tier_for(self.quantity) if self.quantity else None


def _why_not(policy: GroupPolicy, promotion: Promotion, term, at: datetime):
    """Why a promotion covering the product gives this group nothing now (None: it may)."""
    if not promotion.is_active:
        return _("switched off")
    if term is None:
        return _("not offered to this group")
    if not term.is_visible:
        return _("hidden from this group")
    if not policy.shows_promotions:
        return _("this group does not see promotions")
    if at < promotion.starts_at:
        return _("not started yet")
    if at >= promotion.ends_at:
        return _("ended")
    return None


def explain(
    group: CustomerGroup | GroupPolicy,
    product: Product,
    *,
    at: datetime | None = None,
    quantity: int | None = None,
) -> Explanation:
    """Every step of the offer of `product` to `group`: the same rules as compute_offer,
    which makes the final decision, with every covering promotion and why it does or does
    not apply, both lists' breaks and the one `quantity` reaches. Promotions cover a
    product directly or through its own category, as in _promotion_terms."""
    policy = group if isinstance(group, GroupPolicy) else GroupPolicy.of(group)
    at = at or utcnow()
    lists = _price_lists(policy, [product])
    group_price = lists.prices.get(product.id)
    base_breaks = tuple(sorted(lists.base_breaks.get(product.id, ())))
    group_breaks = tuple(sorted(lists.group_breaks.get(product.id, ())))
    covering = [
        (promotion, "product")
        for promotion in db.session.scalars(
            select(Promotion)
            .join(promotion_products, promotion_products.c.promotion_id == Promotion.id)
            .where(promotion_products.c.product_id == product.id)
        )
    ]
    if product.category_id is not None:
        covering += [
            (promotion, product.category.name if product.category else _("its category"))
            for promotion in db.session.scalars(
                select(Promotion)
                .join(promotion_categories, promotion_categories.c.promotion_id == Promotion.id)
                .where(promotion_categories.c.category_id == product.category_id)
            )
        ]
    terms = {
        t.promotion_id: t
        for t in db.session.scalars(
            select(PromotionGroup).where(
                PromotionGroup.group_id == policy.group_id,
                PromotionGroup.promotion_id.in_([p.id for p, __ in covering] or [0]),
            )
        )
    }
    checks, eligible = [], []
    for promotion, via in covering:
        term = terms.get(promotion.id)
        reason = _why_not(policy, promotion, term, at)
        checks.append((promotion, via, term, reason))
        if reason is None:
            eligible.append(
                PromotionTerm(
                    promotion.id,
                    promotion.name,
                    Decimal(term.discount_percent),
                    promotion.ends_at,
                    promotion.starts_at,
                )
            )
    offer = compute_offer(
        policy,
        product_id=product.id,
        sku=product.sku,
        base_price=product.base_price,
        stock=product.stock,
        group_price=group_price,
        promotions=eligible,
        at=at,
        base_breaks=base_breaks,
        group_breaks=group_breaks,
        min_quantity=product.min_quantity,
        order_multiple=product.order_multiple,
    )
    chosen_id = offer.promotion.promotion_id if offer.promotion else None
    promotions = tuple(
        PromotionCheck(
            promotion_id=promotion.id,
            name=promotion.name,
            starts_at=promotion.starts_at,
            ends_at=promotion.ends_at,
            via=via,
            discount_percent=Decimal(term.discount_percent) if term is not None else None,
            visible=bool(term.is_visible) if term is not None else False,
            reason=(
                _("a larger discount applies")
                if reason is None and promotion.id != chosen_id
                else reason
            ),
            chosen=promotion.id == chosen_id,
        )
        for promotion, via, term, reason in checks
    )
    return Explanation(
        policy=policy,
        base_price=Decimal(product.base_price).quantize(UNIT),
        group_price=Decimal(group_price).quantize(UNIT) if group_price is not None else None,
        promotions=tuple(
            sorted(promotions, key=lambda p: (not p.chosen, p.reason is not None, p.name))
        ),
        offer=offer,
        at=at,
        base_breaks=base_breaks,
        group_breaks=group_breaks,
        quantity=quantity,
    )
