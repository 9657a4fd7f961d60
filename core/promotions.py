"""Promotions: a time window, products or whole categories, and a discount per customer group.

What a promotion does to a price is decided by core.offer alone; this module keeps the
promotions themselves. Every change records `promotion_changed` (the live layer re-renders
the offers of the products the promotion now covers) and a `price_changed` for each product
that left it, whose open offers would otherwise keep showing a discount that is gone.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, not_, or_, select

from extensions import db

from . import audit, events, i18n, numbers
from .errors import FieldRefused
from .i18n import _
from .models import (
    Category,
    CustomerGroup,
    Product,
    Promotion,
    PromotionGroup,
    User,
    promotion_categories,
    promotion_products,
    utcnow,
)

NAME_LENGTH = 120
DESCRIPTION_LENGTH = 255
MAX_SKUS = 2000
SKUS_TEXT_LENGTH = 60_000
STATUSES = {
    "running": _("Running"),
    "scheduled": _("Scheduled"),
    "ended": _("Ended"),
    "off": _("Switched off"),
}
_SKU_SEPARATORS = re.compile(r"[\s,;]+")
_DISCOUNT = re.compile(r"[0-9]{1,3}(?:\.[0-9]+)?")


class PromotionRefused(FieldRefused):
    """A promotion the rules do not allow; `field` names the form field it is about."""


@dataclass(frozen=True)
class Term:
    """What a promotion gives one group: the discount, and whether the group sees it."""

    group: CustomerGroup
    discount_percent: Decimal
    is_visible: bool = True


# Status ---------------------------------------------------------------------------------


def status_of(promotion: Promotion, now: datetime | None = None) -> str:
    """running, scheduled, ended or off; a promotion past its end is ended, switched on or not."""
    now = now or utcnow()
    if promotion.ends_at <= now:
        return "ended"
    if not promotion.is_active:
        return "off"
    return "scheduled" if promotion.starts_at > now else "running"


def status_condition(status: str, now: datetime):
    """The SQL condition of one status, the same rules as status_of()."""
    not_ended = Promotion.ends_at > now
    active = Promotion.is_active.is_(True)
    return {
        "ended": Promotion.ends_at <= now,
        "off": and_(not_ended, not_(active)),
        "scheduled": and_(not_ended, active, Promotion.starts_at > now),
        "running": and_(not_ended, active, Promotion.starts_at <= now),
    }[status]


# Parsing what a person types ------------------------------------------------------------


def parse_skus(text: str) -> list[str]:
    """SKUs separated by spaces, commas, semicolons or lines: upper-cased, each once, in order."""
    text = text or ""
    if len(text) > SKUS_TEXT_LENGTH:
        raise PromotionRefused(
            _(
                "The list of SKUs is too long: give at most %(maximum)s products "
                "(a category covers many products at once).",
                maximum=i18n.number(MAX_SKUS),
            ),
            "skus",
        )
    skus = list(dict.fromkeys(s.upper() for s in _SKU_SEPARATORS.split(text) if s))
    if len(skus) > MAX_SKUS:
        raise PromotionRefused(
            _(
                "%(count)s SKUs is too many: give at most %(maximum)s products "
                "(a category covers many products at once).",
                count=i18n.number(len(skus)),
                maximum=i18n.number(MAX_SKUS),
            ),
            "skus",
        )
    return skus


def products_by_sku(skus: list[str]) -> tuple[list[Product], list[str]]:
    """The products with these SKUs (any case), and the SKUs that match no product."""
    if not skus:
        return [], []
    found: dict[str, Product] = {}
    for start in range(0, len(skus), 500):  # keeps the IN list within every driver's limits
        chunk = skus[start : start + 500]
        for product in db.session.scalars(
            select(Product).where(func.upper(Product.sku).in_(chunk))
        ):
            found[product.sku.upper()] = product
    products = [found[s] for s in skus if s in found]
    return products, [s for s in skus if s not in found]


def clean_discount(raw, group_name: str) -> Decimal:
    """A discount in percent: more than 0, less than 100, at most two decimals ("12,5 %" too)."""
    if isinstance(raw, Decimal):
        raw = f"{raw:f}" if raw.is_finite() else "not a number"
    text = str(raw if raw is not None else "").strip().rstrip("%").strip().replace(",", ".")
    not_a_number = _(
        "The discount for %(group)s must be a number of percent, such as 12.5.", group=group_name
    )
    if not _DISCOUNT.fullmatch(text):  # no sign: "-5" is not a discount at all
        raise PromotionRefused(not_a_number)
    try:
        return numbers.decimal(
            text,
            label=_("The discount for %(group)s", group=group_name),
            places=2,
            minimum=Decimal(0),
            above=True,
            maximum=Decimal(100),
            not_a_number=not_a_number,
            out_of_range=_(
                "The discount for %(group)s must be more than 0 and less than 100 percent.",
                group=group_name,
            ),
        )
    except numbers.NumberRefused as exc:
        raise PromotionRefused(exc.args[0]) from None


def with_subcategories(categories: list[Category]) -> list[Category]:
    """The chosen categories and every category below them.

    core.offer matches a product's own category only, so a promotion on a main category
    is stored with its subcategories: otherwise it would reach none of their products.
    """
    chosen = {c.id: c for c in categories}
    frontier = set(chosen)
    while frontier:
        below = db.session.scalars(
            select(Category).where(Category.parent_id.in_(frontier), Category.id.not_in(chosen))
        ).all()
        frontier = {c.id for c in below}
        chosen.update((c.id, c) for c in below)
    return sorted(chosen.values(), key=lambda c: (c.position, c.id))


# Reading --------------------------------------------------------------------------------


def covered_product_ids(promotion_id: int) -> set[int]:
    """Products a promotion covers as stored: directly, or through its categories."""
    direct = select(promotion_products.c.product_id).where(
        promotion_products.c.promotion_id == promotion_id
    )
    categories = select(promotion_categories.c.category_id).where(
        promotion_categories.c.promotion_id == promotion_id
    )
    # The children too, as blueprints/live/regions.py does, for promotions saved elsewhere.
    children = select(Category.id).where(Category.parent_id.in_(categories))
    via_category = select(Product.id).where(
        or_(Product.category_id.in_(categories), Product.category_id.in_(children))
    )
    return set(db.session.scalars(direct)) | set(db.session.scalars(via_category))


def counts(promotion_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(products, categories) chosen for each of these promotions, in two statements."""
    if not promotion_ids:
        return {}

    def grouped(table):
        return dict(
            db.session.execute(
                select(table.c.promotion_id, func.count())
                .where(table.c.promotion_id.in_(promotion_ids))
                .group_by(table.c.promotion_id)
            ).all()
        )

    products, categories = grouped(promotion_products), grouped(promotion_categories)
    return {pid: (products.get(pid, 0), categories.get(pid, 0)) for pid in promotion_ids}


def _moment(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else None


def _term_text(term: PromotionGroup | Term) -> str:
    shown = "visible" if term.is_visible else "hidden"
    return f"{term.group.name}: {term.discount_percent.normalize():f}% ({shown})"


def snapshot(promotion: Promotion) -> dict:
    """What the audit log keeps of a promotion (lists show what was added and removed)."""
    return {
        "name": promotion.name,
        "description": promotion.description or "",
        "starts": _moment(promotion.starts_at),
        "ends": _moment(promotion.ends_at),
        "switched_on": bool(promotion.is_active),
        "products": sorted(p.sku for p in promotion.products),
        "categories": sorted(c.name for c in promotion.categories),
        "terms": sorted(_term_text(t) for t in promotion.group_terms),
    }


# Changing -------------------------------------------------------------------------------


def _clean(
    name: str,
    description: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    products: list[Product],
    categories: list[Category],
    terms: list[Term],
    *,
    is_new: bool,
) -> tuple[str, str]:
    """Every rule a promotion must meet, with a message that says what to do."""
    name = " ".join((name or "").split())
    description = (description or "").strip()
    if not name:
        raise PromotionRefused(_("Give the promotion a name."), "name")
    if len(name) > NAME_LENGTH:
        raise PromotionRefused(
            _("A name has at most %(count)s characters.", count=NAME_LENGTH), "name"
        )
    if len(description) > DESCRIPTION_LENGTH:
        raise PromotionRefused(
            _("A description has at most %(count)s characters.", count=DESCRIPTION_LENGTH),
            "description",
        )
    if starts_at is None:
        raise PromotionRefused(_("Enter when the promotion starts."), "starts_at")
    if ends_at is None:
        raise PromotionRefused(_("Enter when the promotion ends."), "ends_at")
    if ends_at <= starts_at:
        raise PromotionRefused(_("The promotion must end after it starts."), "ends_at")
    if is_new and ends_at <= utcnow():
        raise PromotionRefused(
            _("This window is already over: choose an end in the future."), "ends_at"
        )
    if not products and not categories:
        raise PromotionRefused(_("Choose at least one product or category."), "skus")
    if not terms:
        raise PromotionRefused(_("Give at least one customer group a discount."), "terms")
    seen = set()
    for term in terms:
        if term.group.id in seen:
            raise PromotionRefused(
                _("%(group)s has two discounts: give it one.", group=term.group.name), "terms"
            )
        seen.add(term.group.id)
        clean_discount(term.discount_percent, term.group.name)
    return name, description


def _set_terms(promotion: Promotion, terms: list[Term]) -> None:
    # Updated in place: deleting and re-adding a group's row would collide on its key.
    wanted = {t.group.id: t for t in terms}
    for existing in list(promotion.group_terms):
        if existing.group_id not in wanted:
            promotion.group_terms.remove(existing)
    current = {t.group_id: t for t in promotion.group_terms}
    for group_id, term in wanted.items():
        row = current.get(group_id)
        if row is None:
            row = PromotionGroup(group=term.group)
            promotion.group_terms.append(row)
        row.discount_percent = clean_discount(term.discount_percent, term.group.name)
        row.is_visible = bool(term.is_visible)


def _record_offers(promotion_id: int, before: set[int]) -> None:
    """Open offers of the covered products, and of those that left, are re-rendered."""
    events.record(db.session, "promotion_changed", promotion_id)
    for product_id in sorted(before - covered_product_ids(promotion_id)):
        events.record(db.session, "price_changed", product_id)


def create(
    *,
    name: str,
    description: str = "",
    starts_at: datetime,
    ends_at: datetime,
    products: list[Product],
    categories: list[Category],
    terms: list[Term],
    is_active: bool = True,
    actor: User | None,
    ip: str = "",
) -> Promotion:
    """A new promotion; it changes the offers it covers once its window opens."""
    name, description = _clean(
        name, description, starts_at, ends_at, products, categories, terms, is_new=True
    )
    promotion = Promotion(
        name=name,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        is_active=bool(is_active),
        products=list(products),
        categories=with_subcategories(list(categories)),
    )
    _set_terms(promotion, terms)
    db.session.add(promotion)
    db.session.flush()
    audit.record(
        "promotion.created",
        actor=actor,
        target=promotion,
        summary=f"Promotion “{name}” created",
        after=snapshot(promotion),
        ip=ip,
    )
    _record_offers(promotion.id, set())
    return promotion


def update(
    promotion: Promotion,
    *,
    name: str,
    description: str = "",
    starts_at: datetime,
    ends_at: datetime,
    products: list[Product],
    categories: list[Category],
    terms: list[Term],
    actor: User | None,
    ip: str = "",
) -> bool:
    """Change a promotion's window, products, categories and terms; False if nothing changed."""
    name, description = _clean(
        name, description, starts_at, ends_at, products, categories, terms, is_new=False
    )
    before = snapshot(promotion)
    covered_before = covered_product_ids(promotion.id)
    promotion.name = name
    promotion.description = description
    promotion.starts_at = starts_at
    promotion.ends_at = ends_at
    promotion.products = list(products)
    promotion.categories = with_subcategories(list(categories))
    _set_terms(promotion, terms)
    db.session.flush()
    after = snapshot(promotion)
    if before == after:
        return False
    changed_from, changed_to = audit.differences(before, after)
    audit.record(
        "promotion.changed",
        actor=actor,
        target=promotion,
        summary=f"Promotion “{name}” changed",
        before=changed_from,
        after=changed_to,
        ip=ip,
    )
    _record_offers(promotion.id, covered_before)
    return True


def switch(promotion: Promotion, on: bool, *, actor: User | None, ip: str = "") -> bool:
    """Switch a promotion on or off at once, its window unchanged; False if it already was."""
    if bool(promotion.is_active) == bool(on):
        return False
    promotion.is_active = bool(on)
    audit.record(
        "promotion.switched",
        actor=actor,
        target=promotion,
        summary=f"Promotion “{promotion.name}” switched {'on' if on else 'off'}",
        before={"switched_on": not on},
        after={"switched_on": bool(on)},
        ip=ip,
    )
    events.record(db.session, "promotion_changed", promotion.id)
    return True


def delete(promotion: Promotion, *, actor: User | None, ip: str = "") -> None:
    """Remove a promotion for good; the offers it covered lose its discount at once."""
    covered = covered_product_ids(promotion.id)
    audit.record(
        "promotion.deleted",
        actor=actor,
        target=promotion,
        summary=f"Promotion “{promotion.name}” deleted",
        before=snapshot(promotion),
        ip=ip,
    )
    # Once it is gone the live layer can no longer find what it covered: name them now.
    events.record(db.session, "promotion_changed", promotion.id)
    for product_id in sorted(covered):
        events.record(db.session, "price_changed", product_id)
    db.session.delete(promotion)
    db.session.flush()
