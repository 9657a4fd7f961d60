"""THE offer: what a customer group sees of a product at a moment.

Price (group price, else base price), the best promotion the group may see with
its discount and the promoted price, and stock as an exact count or a level.
Pages, fragments, carts, orders, error messages, exports and live pushes all get
a customer's price and stock from here; exact stock never leaves this module for
a group that sees levels.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, literal, null, select, union_all

from extensions import db

from . import i18n
from .i18n import _
from .models import (
    EXACT,
    UNIT,
    CustomerGroup,
    GroupPrice,
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
class Offer:
    """One product as one customer group sees it."""

    product_id: int
    sku: str
    list_price: Decimal  # the group's price before any promotion
    price_source: str  # "group" or "base"
    stock: StockView
    promotion: PromotionTerm | None = None
    price: Decimal = field(default=Decimal(0))  # what the customer pays per unit
    backorders: bool = False  # the group's orders accept what is beyond stock as back-ordered

    @property
    def on_promotion(self) -> bool:
        return self.promotion is not None


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
) -> Offer:
    """The offer, from facts already loaded. The single place where the rules live."""
    if group_price is not None:
        list_price, source = Decimal(group_price), "group"
    else:
        list_price, source = Decimal(base_price), "base"
    best = None
    if policy.shows_promotions:
        running = [p for p in promotions if p.starts_at <= at < p.ends_at]
        if running:
            best = max(running, key=lambda p: (p.discount_percent, -p.promotion_id))
    price = promoted_price(list_price, best.discount_percent) if best else list_price
    return Offer(
        product_id=product_id,
        sku=sku,
        list_price=list_price.quantize(UNIT),
        price_source=source,
        stock=stock_view(policy, stock),
        promotion=best,
        price=price.quantize(UNIT),
        backorders=policy.backorders,
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


def _group_prices(policy: GroupPolicy, products: Sequence[Product]) -> dict[int, Decimal]:
    if not products:
        return {}
    rows = db.session.execute(
        select(GroupPrice.product_id, GroupPrice.price).where(
            GroupPrice.group_id == policy.group_id,
            GroupPrice.product_id.in_([p.id for p in products]),
        )
    )
    return dict(rows.all())


def offers_for(
    group: CustomerGroup | GroupPolicy,
    products: Sequence[Product],
    *,
    at: datetime | None = None,
    group_prices: dict[int, Decimal] | None = None,
) -> dict[int, Offer]:
    """Offers for many products in at most two statements (group prices, promotions).

    Callers that already joined the group prices into their product query pass
    them in `group_prices` to save the first statement.
    """
    policy = group if isinstance(group, GroupPolicy) else GroupPolicy.of(group)
    at = at or utcnow()
    prices = group_prices if group_prices is not None else _group_prices(policy, products)
    promos = _promotion_terms(policy, products, at)
    return {
        p.id: compute_offer(
            policy,
            product_id=p.id,
            sku=p.sku,
            base_price=p.base_price,
            stock=p.stock,
            group_price=prices.get(p.id),
            promotions=promos.get(p.id, ()),
            at=at,
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
    group: CustomerGroup | GroupPolicy, product: Product, *, at: datetime | None = None
) -> Explanation:
    """Every step of the offer of `product` to `group`: the same rules as compute_offer,
    which makes the final decision, with every covering promotion and why it does or does
    not apply. Promotions cover a product directly or through its own category, as in
    _promotion_terms."""
    policy = group if isinstance(group, GroupPolicy) else GroupPolicy.of(group)
    at = at or utcnow()
    group_price = _group_prices(policy, [product]).get(product.id)
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
    )
