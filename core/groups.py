"""Customer groups (the commercial policy of their companies) and their price lists.

A group decides, for every company in it, the prices (group price, else base price),
whether promotions show, whether quotes may be asked, how stock shows (exact count
or levels with their thresholds), and whether what is ordered beyond stock is accepted
as back-ordered. Changing a policy records `group_changed`: the live
layer re-renders the open pages of the group's people with the new policy.

A group price may have quantity breaks of its own (the unit price from a quantity on):
they replace the base list's breaks for the group, and go with the group price. A bulk
discount from the base price derives them from the base list's breaks, the same way.

Group prices are edited many rows at a time. A save is all or nothing: every row is
checked first and nothing is written while any row is wrong. Up to LIVE_EVENT_LIMIT
changed products record one `price_changed` each (the offers that show them re-render);
beyond that one `group_changed` re-renders the group's open pages once instead of
flooding the live layer with thousands of events that concern only this group.
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import joinedload

from extensions import db

from . import access, audit, events, i18n, numbers, settings, webhooks
from .errors import FieldRefused, Refused
from .i18n import _, ngettext
from .models import (
    EXACT,
    LEVELS,
    UNIT,
    Category,
    Company,
    CustomerGroup,
    GroupPrice,
    PriceBreak,
    Product,
    User,
    utcnow,
)
from .offer import group_price_column, promoted_price
from .pagination import Page
from .products import breaks_of, breaks_text, clean_breaks, clean_price, replace_breaks

NAME_LENGTH = 80
DESCRIPTION_LENGTH = 255
MAX_THRESHOLD = 1_000_000
STOCK_DISPLAYS = {EXACT: _("Exact count"), LEVELS: _("Levels (Out of stock, Few, Many)")}
LIVE_EVENT_LIMIT = 100
AUDIT_CHUNK = 500  # changed prices per audit entry: each entry stays readable
PRICE_FILTERS = {"yes": _("With a group price"), "no": _("Base price only")}
# The same filters inside a sentence ("category Cables, with a group price").
_PRICE_FILTER_WORDS = {"yes": _("with a group price"), "no": _("base price only")}


class GroupRefused(FieldRefused):
    """A group change the rules do not allow; `field` names the form field it is about."""


class PriceRowsRefused(Refused):
    """Some rows of a price list save are wrong: `errors` maps product id to its message."""

    def __init__(self, errors: dict):
        super().__init__(
            ngettext(
                "%(num)d row is not right: nothing was saved. "
                "Correct the marked rows and save again.",
                "%(num)d rows are not right: nothing was saved. "
                "Correct the marked rows and save again.",
                len(errors),
            )
        )
        self.errors = errors


@dataclass(frozen=True)
class GroupDetails:
    """A group's policy as staff typed it."""

    name: str
    description: str = ""
    stock_display: str = LEVELS
    few_from: int | None = None
    many_from: int | None = None
    quotes_allowed: bool = False
    shows_promotions: bool = False
    backorders_allowed: bool = False


def default_thresholds() -> tuple[int, int]:
    """The thresholds a new group starts with (the portal's settings)."""
    return settings.stock_thresholds()


def _whole(value, label, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise GroupRefused(_("%(label)s is a whole number.", label=label), field)
    if not 0 <= value <= MAX_THRESHOLD:
        raise GroupRefused(
            _(
                "%(label)s is a whole number from 0 to %(maximum)s.",
                label=label,
                maximum=i18n.number(MAX_THRESHOLD),
            ),
            field,
        )
    return value


def _clean(details: GroupDetails, group: CustomerGroup | None) -> dict:
    """The column values of a valid policy, or GroupRefused naming the first wrong field."""
    name = " ".join((details.name or "").split())
    if not name:
        raise GroupRefused(_("Give the group a name."), "name")
    if len(name) > NAME_LENGTH:
        raise GroupRefused(
            _("A group name has at most %(count)s characters.", count=NAME_LENGTH), "name"
        )
    same = select(CustomerGroup.id).where(func.lower(CustomerGroup.name) == name.lower())
    if group is not None:
        same = same.where(CustomerGroup.id != group.id)
    if db.session.scalar(same) is not None:
        raise GroupRefused(_("There is already a group named “%(name)s”.", name=name), "name")
    description = " ".join((details.description or "").split())
    if len(description) > DESCRIPTION_LENGTH:
        raise GroupRefused(
            _("A description has at most %(count)s characters.", count=DESCRIPTION_LENGTH),
            "description",
        )
    if details.stock_display not in STOCK_DISPLAYS:
        raise GroupRefused(_("Choose how the group sees stock."), "stock_display")
    few = _whole(details.few_from, _("“Few” from"), "few_from")
    many = _whole(details.many_from, _("“Many” from"), "many_from")
    if many <= few:
        raise GroupRefused(
            _(
                "“Many” must start above “Few” (which starts at %(few)s): below “Few” a "
                "product shows as out of stock, from “Many” on as plentiful.",
                few=few,
            ),
            "many_from",
        )
    return {
        "name": name,
        "description": description,
        "stock_display": details.stock_display,
        "few_from": few,
        "many_from": many,
        "quotes_allowed": bool(details.quotes_allowed),
        "shows_promotions": bool(details.shows_promotions),
        "backorders_allowed": bool(details.backorders_allowed),
    }


def create(details: GroupDetails, *, actor: User, ip: str = "") -> CustomerGroup:
    """A new customer group with its policy; it has no companies and no group prices yet."""
    values = _clean(details, None)
    group = CustomerGroup(**values)
    db.session.add(group)
    db.session.flush()
    audit.record(
        "group.created",
        actor=actor,
        target=group,
        ip=ip,
        summary=f"Customer group {group.name} created",
        after=values,
    )
    events.record(db.session, "group_created", group.id)
    return group


def edit(group: CustomerGroup, details: GroupDetails, *, actor: User, ip: str = "") -> bool:
    """Change a group's policy; its companies' open pages re-render with it. False: no change."""
    values = _clean(details, group)
    changed = sorted(key for key, value in values.items() if getattr(group, key) != value)
    if not changed:
        return False
    before = {key: getattr(group, key) for key in changed}
    for key in changed:
        setattr(group, key, values[key])
    audit.record(
        "group.changed",
        actor=actor,
        target=group,
        ip=ip,
        summary=f"Customer group {group.name} changed",
        before=before,
        after={key: values[key] for key in changed},
    )
    events.record(db.session, "group_changed", group.id)
    return True


def companies_in(group: CustomerGroup) -> int:
    """How many companies the group has, whoever serves them."""
    return db.session.scalar(select(func.count(Company.id)).where(Company.group_id == group.id))


def delete_group(group: CustomerGroup, *, actor: User, ip: str = "") -> None:
    """Delete a group without companies, with its price list and promotion terms."""
    count = companies_in(group)
    if count:
        raise GroupRefused(
            ngettext(
                "%(name)s still has %(num)d company: move them to another group first.",
                "%(name)s still has %(num)d companies: move them to another group first.",
                count,
                name=group.name,
            )
        )
    prices = db.session.scalar(
        select(func.count(GroupPrice.id)).where(GroupPrice.group_id == group.id)
    )
    audit.record(
        "group.deleted",
        actor=actor,
        target=group,
        ip=ip,
        summary=f"Customer group {group.name} deleted",
        before={"name": group.name, "group prices": prices},
    )
    events.record(db.session, "group_removed", group.id)
    # The price list and promotion terms go with it (ON DELETE CASCADE).
    db.session.execute(delete(GroupPrice).where(GroupPrice.group_id == group.id))
    db.session.execute(delete(PriceBreak).where(PriceBreak.group_id == group.id))
    db.session.delete(group)
    db.session.flush()


def company_counts(user: User) -> dict[int, int]:
    """Companies per group among those this person may see."""
    stmt = access.company_scope(
        user, select(Company.group_id, func.count(Company.id)), Company.id
    ).group_by(Company.group_id)
    return dict(db.session.execute(stmt).all())


def price_count(group_id: int) -> int:
    """How many products have a group price in this group."""
    stmt = select(func.count(GroupPrice.id)).where(GroupPrice.group_id == group_id)
    return db.session.scalar(stmt) or 0


def price_counts() -> dict[int, int]:
    """Group prices per group."""
    stmt = select(GroupPrice.group_id, func.count(GroupPrice.id)).group_by(GroupPrice.group_id)
    return dict(db.session.execute(stmt).all())


# --- the price list ---------------------------------------------------------------------


@dataclass(frozen=True)
class PriceFilter:
    """Which products of the price list are shown (and which a bulk action changes)."""

    q: str = ""
    category: Category | None = None
    priced: str = ""  # "", or a key of PRICE_FILTERS

    @property
    def active(self) -> bool:
        return bool(self.q or self.category or self.priced)

    def describe(self) -> str:
        """In words, for confirmations and the audit log (in the language of the moment)."""
        parts = []
        if self.category is not None:
            parts.append(_("category %(name)s", name=self.category.name))
        if self.q:
            parts.append(_("matching “%(q)s”", q=self.q))
        if self.priced:
            parts.append(_PRICE_FILTER_WORDS[self.priced])
        return ", ".join(map(str, parts)) if parts else str(_("every product on sale"))


def _category_ids(category: Category) -> list[int]:
    children = db.session.scalars(select(Category.id).where(Category.parent_id == category.id))
    return [category.id, *children]


def _price_select(group: CustomerGroup, flt: PriceFilter, *columns) -> Select:
    gp, on, gp_price = group_price_column(group.id)
    stmt = select(*columns, gp_price).outerjoin(gp, on).where(Product.sold())
    if flt.q:
        stmt = stmt.where(
            or_(
                Product.sku.contains(flt.q, autoescape=True),
                Product.name.contains(flt.q, autoescape=True),
            )
        )
    if flt.category is not None:
        stmt = stmt.where(Product.category_id.in_(_category_ids(flt.category)))
    if flt.priced == "yes":
        stmt = stmt.where(gp_price.is_not(None))
    elif flt.priced == "no":
        stmt = stmt.where(gp_price.is_(None))
    return stmt


def filtered_ids(group: CustomerGroup, flt: PriceFilter) -> Select:
    """The ids of the products the filter shows, as a statement (an export narrows by it)."""
    return _price_select(group, flt, Product.id).with_only_columns(Product.id)


def price_page(group: CustomerGroup, flt: PriceFilter, page: int, per_page: int = 50) -> Page:
    """One page of (product, group price or None), by SKU: two statements."""
    base = _price_select(group, flt, Product.id)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.session.execute(
        _price_select(group, flt, Product)
        .options(joinedload(Product.category))
        .order_by(Product.sku, Product.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page([(product, price) for product, price in rows], total, page, per_page)


def _same(a: Decimal | None, b: Decimal | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and a == b)


def _apply(
    group: CustomerGroup,
    changes: list,
    *,
    actor: User,
    ip: str,
    how: str,
    breaks: dict[int, tuple[list, list]] | None = None,
) -> int:
    """Write (product id, sku, old, new) price changes in bulk, audit them, tell the live layer.

    A new price of None removes the group price and its breaks (the base list applies
    again). `breaks`: {product id: (old breaks, new breaks)} the group's breaks to replace
    (a product may be in it with its price unchanged); each change counts once.
    """
    breaks = breaks or {}
    if not changes and not breaks:
        return 0
    now = utcnow()
    ids = [pid for pid, *__ in changes]
    existing: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        existing.update(
            db.session.execute(
                select(GroupPrice.product_id, GroupPrice.id).where(
                    GroupPrice.group_id == group.id,
                    GroupPrice.product_id.in_(ids[start : start + 500]),
                )
            ).all()
        )
    updates = [
        {"id": existing[pid], "price": new, "updated_at": now}
        for pid, __, __, new in changes
        if new is not None and pid in existing
    ]
    inserts = [
        {"group_id": group.id, "product_id": pid, "price": new, "updated_at": now}
        for pid, __, __, new in changes
        if new is not None and pid not in existing
    ]
    removed = [pid for pid, __, __, new in changes if new is None and pid in existing]
    if updates:
        db.session.execute(update(GroupPrice), updates)
    if inserts:
        db.session.execute(insert(GroupPrice), inserts)
    for start in range(0, len(removed), 500):
        db.session.execute(
            delete(GroupPrice).where(
                GroupPrice.group_id == group.id,
                GroupPrice.product_id.in_(removed[start : start + 500]),
            )
        )
        db.session.execute(
            delete(PriceBreak).where(
                PriceBreak.group_id == group.id,
                PriceBreak.product_id.in_(removed[start : start + 500]),
            )
        )
    for pid, (__, new_breaks) in breaks.items():
        replace_breaks(pid, group.id, new_breaks)
    skus = {pid: sku for pid, sku, __, __ in changes}
    if breaks:
        skus |= dict(
            db.session.execute(
                select(Product.id, Product.sku).where(Product.id.in_(set(breaks) - set(skus)))
            ).all()
        )
    priced = {pid for pid, *__ in changes}
    changes = changes + [
        (pid, skus[pid], None, None) for pid in sorted(breaks, key=skus.get) if pid not in priced
    ]
    ids = [pid for pid, *__ in changes]

    def logged(pid, price, which):
        text = str(price) if price is not None else None
        if pid not in breaks:
            return text
        if pid not in priced:
            return {"breaks": breaks_text(breaks[pid][which])}
        return {"price": text, "breaks": breaks_text(breaks[pid][which])}

    for start in range(0, len(changes), AUDIT_CHUNK):
        chunk = changes[start : start + AUDIT_CHUNK]
        part = (
            f" (part {start // AUDIT_CHUNK + 1} of {-(-len(changes) // AUDIT_CHUNK)})"
            if len(changes) > AUDIT_CHUNK
            else ""
        )
        audit.record(
            "price.changed",
            actor=actor,
            target=group,
            ip=ip,
            summary=f"{group.name}: {len(changes)} group price{'s' if len(changes) != 1 else ''} "
            f"{how}{part}",
            before={sku: logged(pid, old, 0) for pid, sku, old, __ in chunk},
            after={sku: logged(pid, new, 1) for pid, sku, __, new in chunk},
        )
    for pid in ids:
        webhooks.emit_price(pid, group_id=group.id)
    if len(changes) <= LIVE_EVENT_LIMIT:
        for pid in ids:
            events.record(db.session, "price_changed", pid)
    else:
        events.record(db.session, "group_changed", group.id)
    return len(changes)


def parse_price(raw: str) -> Decimal | None:
    """A typed group price: empty means "none, the base price applies"; else clean_price."""
    text = (raw or "").strip().replace("€", "").replace("\u00a0", "").strip()
    if not text:
        return None
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as many of our customers type it
    return clean_price(text, _("A group price"))


def save_prices(
    group: CustomerGroup, rows: dict[int, tuple[str, str]], *, actor: User, ip: str = ""
) -> int:
    """Save the rows whose typed price differs from the one shown when the page was loaded.

    `rows` maps product id to (typed, shown). All or nothing: a wrong row, or a price
    someone else changed since the page was loaded, refuses the whole save with a
    message per row. Returns how many prices changed.
    """
    wanted: dict[int, Decimal | None] = {}
    shown: dict[int, Decimal | None] = {}
    errors: dict = {}  # product id: its (lazy) message
    for pid, (typed, was) in rows.items():
        if (typed or "").strip() == (was or "").strip():
            continue
        try:
            wanted[pid] = parse_price(typed)
        except Refused as exc:
            errors[pid] = exc.args[0]
            continue
        try:
            shown[pid] = parse_price(was)
        except Refused:
            shown[pid] = None
    if not wanted and not errors:
        return 0
    ids = sorted(set(wanted) | set(errors))
    products = {
        p.id: p
        for p in db.session.scalars(select(Product).where(Product.id.in_(ids), Product.sold()))
    }
    current = dict(
        db.session.execute(
            select(GroupPrice.product_id, GroupPrice.price)
            .where(GroupPrice.group_id == group.id, GroupPrice.product_id.in_(ids))
            .with_for_update()
        ).all()
    )
    changes = []
    for pid, new in wanted.items():
        product = products.get(pid)
        if product is None:
            errors[pid] = _("This product is no longer on sale: reload the page.")
            continue
        old = current.get(pid)
        if not _same(old, shown[pid]):
            if old is None:
                errors[pid] = _(
                    "Someone changed this price meanwhile (it is now none). "
                    "Check it and save again."
                )
            else:
                errors[pid] = _(
                    "Someone changed this price meanwhile (it is now %(price)s). "
                    "Check it and save again.",
                    price=i18n.money(old),
                )
            continue
        if not _same(old, new):
            changes.append((pid, product.sku, old, new))
    if errors:
        raise PriceRowsRefused(errors)
    changes.sort(key=lambda c: c[1])
    return _apply(group, changes, actor=actor, ip=ip, how="changed")


def parse_percent(raw) -> Decimal:
    """A discount in percent: above 0, below 100, at most two decimals (core.numbers)."""
    text = str(raw if raw is not None else "").strip().rstrip("%").strip().replace(",", ".")
    try:
        return numbers.decimal(
            text,
            label=_("A discount"),
            places=2,
            minimum=Decimal(0),
            above=True,
            maximum=Decimal(100),
            field="percent",
            not_a_number=_("Enter the discount as a number, such as 12.5."),
            out_of_range=_("A discount is above 0 % and below 100 %."),
        )
    except numbers.NumberRefused as exc:
        raise GroupRefused(exc.args[0], "percent") from None


def discount_from_base(
    group: CustomerGroup, percent: Decimal, flt: PriceFilter, *, actor: User, ip: str = ""
) -> int:
    """Set the group price of every product the filter matches to its base price less
    `percent` (rounded half-up to 1/100 of a cent, as promotions are). Returns how many
    prices changed."""
    rows = db.session.execute(
        _price_select(group, flt, Product.id, Product.sku, Product.base_price).order_by(Product.sku)
    ).all()
    if not rows:
        raise GroupRefused(_("No product matches the filter: nothing to change."))
    ids = [pid for pid, *__ in rows]
    base_breaks, own_breaks = breaks_by_product(group, ids)
    changes, breaks = [], {}
    for pid, sku, base, old in rows:
        new = promoted_price(Decimal(base), percent).quantize(UNIT)
        if not _same(old, new):
            changes.append((pid, sku, old, new))
        # The group's breaks: the base list's, less the same percent.
        derived = [
            (quantity, promoted_price(price, percent).quantize(UNIT))
            for quantity, price in base_breaks.get(pid, [])
        ]
        if derived != own_breaks.get(pid, []):
            breaks[pid] = (own_breaks.get(pid, []), derived)
    how = f"set to base price −{percent.normalize():f} % ({flt.describe()})"
    return _apply(group, changes, actor=actor, ip=ip, how=how, breaks=breaks)


def breaks_by_product(group: CustomerGroup, ids: list[int]) -> tuple[dict, dict]:
    """The base list's and the group's breaks of these products: two {product id: breaks}
    (the price list's page shows them; the bulk discount derives the one from the other)."""
    base: dict[int, list] = {}
    own: dict[int, list] = {}
    for start in range(0, len(ids), 500):
        for pid, group_id, quantity, price in db.session.execute(
            select(
                PriceBreak.product_id,
                PriceBreak.group_id,
                PriceBreak.min_quantity,
                PriceBreak.price,
            )
            .where(
                PriceBreak.product_id.in_(ids[start : start + 500]),
                or_(PriceBreak.group_id.is_(None), PriceBreak.group_id == group.id),
            )
            .order_by(PriceBreak.product_id, PriceBreak.min_quantity)
        ):
            target = base if group_id is None else own
            target.setdefault(pid, []).append((quantity, Decimal(price)))
    return base, own


def group_price_of(group: CustomerGroup, product: Product) -> Decimal | None:
    """The group's own price of a product (None: it pays the base list)."""
    return db.session.scalar(
        select(GroupPrice.price).where(
            GroupPrice.group_id == group.id, GroupPrice.product_id == product.id
        )
    )


def set_breaks(group: CustomerGroup, product: Product, rows, *, actor: User, ip: str = "") -> bool:
    """Replace the group's breaks of one product (rows as typed: (quantity, price)). Only a
    product with a group price has the group's own breaks: without one, the group pays
    the base list, breaks included. False: nothing changed."""
    wanted = clean_breaks(rows)
    # The group price's row, locked: two saves of this list's breaks go in turn.
    own = db.session.scalar(
        select(GroupPrice)
        .where(GroupPrice.group_id == group.id, GroupPrice.product_id == product.id)
        .with_for_update()
    )
    if own is None:
        raise GroupRefused(
            _(
                "%(group)s has no price of its own for %(sku)s, so it pays the base list's "
                "breaks: give it a group price first.",
                group=group.name,
                sku=product.sku,
            ),
            "breaks",
        )
    old = breaks_of(product.id, group.id)
    if not replace_breaks(product.id, group.id, wanted):
        return False
    audit.record(
        "price.changed",
        actor=actor,
        target=group,
        ip=ip,
        summary=f"{group.name}: quantity breaks of {product.sku} changed",
        before={product.sku: {"breaks": breaks_text(old)}},
        after={product.sku: {"breaks": breaks_text(wanted)}},
    )
    events.record(db.session, "price_changed", product.id)
    webhooks.emit_price(product.id, group_id=group.id, product=product)
    return True


def remove_prices(
    group: CustomerGroup, product_ids: list[int], *, actor: User, ip: str = ""
) -> int:
    """Remove the group prices of these products: they go back to the base price."""
    if not product_ids:
        raise GroupRefused(_("Tick the products whose group price should go."), "selected")
    rows = db.session.execute(
        select(Product.id, Product.sku, GroupPrice.price)
        .join(
            GroupPrice,
            and_(GroupPrice.product_id == Product.id, GroupPrice.group_id == group.id),
        )
        .where(Product.id.in_(product_ids))
        .order_by(Product.sku)
    ).all()
    changes = [(pid, sku, old, None) for pid, sku, old in rows]
    return _apply(group, changes, actor=actor, ip=ip, how="removed (base price applies)")
