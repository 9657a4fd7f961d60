"""Products and their prices: created, changed, repriced, archived, restored and deleted.

The back-office product screens call these; every change records the event that makes
open catalogues and back-office pages show it, and an audit entry. Costs never go into
the audit log's before/after (people reading the log may not hold `finance.costs`).
"""

import re
from decimal import Decimal

from sqlalchemy import delete as sql_delete
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from extensions import db

from . import audit, events, i18n, numbers, photos, specs_index, tax, webhooks
from .errors import FieldRefused, Refused
from .i18n import N_, _
from .models import (
    CartLine,
    Category,
    CustomerGroup,
    GroupPrice,
    OrderLine,
    PriceBreak,
    Product,
    QuoteLine,
    QuoteRoundLine,
    StockMovement,
    User,
    promotion_products,
)
from .pagination import Page, paginate

MAX_PRICE = Decimal("1000000")
SKU_LENGTH = 64
NAME_LENGTH = 200
DESCRIPTION_LENGTH = 5000
UNIT_LENGTH = 16
SPEC_KEY_LENGTH = 60
SPEC_VALUE_LENGTH = 200
MAX_SPECS = 30
MAX_OPENING_STOCK = 10_000_000  # the same bound as core.stock.MAX_STOCK
MAX_BREAKS = 10  # per product and price list
MAX_RULE_QUANTITY = 1_000_000  # a minimum or pack size, as large as a line may be
SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._/+-]*$")
UNITS = ("pcs", "reel", "pack", "box", "set", "m", "kg")


class ProductRefused(FieldRefused):
    """A product change the rules do not allow; `field` names the form field it is about."""


def clean_price(raw, label=None) -> Decimal:
    """A price as Decimal: not negative, at most 4 decimals, plausible (core.numbers)."""
    return numbers.decimal(raw, label=label or _("Price"), places=4, maximum=MAX_PRICE)


def _price(raw, label, field: str) -> Decimal:
    try:
        return clean_price(raw, label)
    except Refused as exc:
        raise ProductRefused(str(exc), field) from exc


def clean_sku(raw: str | None) -> str:
    """A SKU as stored: trimmed, upper case, letters, digits and a few separators."""
    sku = (raw or "").strip().upper()
    if not sku:
        raise ProductRefused(_("Give the product a SKU."), "sku")
    if len(sku) > SKU_LENGTH:
        raise ProductRefused(_("A SKU has at most %(count)s characters.", count=SKU_LENGTH), "sku")
    if not SKU_PATTERN.match(sku):
        raise ProductRefused(
            _("A SKU uses letters, digits and - _ . / + only, and starts with a letter or digit."),
            "sku",
        )
    return sku


def _write_claiming_sku() -> None:
    """Write the product now: one given the same SKU since the check makes this a refusal."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise ProductRefused(
            _("Another product has just been given this SKU: choose another one."), "sku"
        ) from exc


def sku_taken(sku: str, *, other_than: int | None = None) -> bool:
    """Is this SKU (in any letter case) already another product's?"""
    stmt = select(Product.id).where(func.upper(Product.sku) == sku.upper())
    if other_than is not None:
        stmt = stmt.where(Product.id != other_than)
    return db.session.scalar(stmt.limit(1)) is not None


def clean_specs(specs) -> dict[str, str]:
    """Specifications as an ordered {key: value}: bounded, keys unique in any letter case."""
    pairs = list(specs.items()) if isinstance(specs, dict) else list(specs or ())
    cleaned: dict[str, str] = {}
    seen: set[str] = set()
    for raw_key, raw_value in pairs:
        key = " ".join(str(raw_key or "").split())
        value = " ".join(str(raw_value or "").split())
        if not key and not value:
            continue
        if not key:
            raise ProductRefused(
                _("The specification “%(value)s” needs a name.", value=value[:40]), "specs"
            )
        if not value:
            raise ProductRefused(
                _("Give “%(name)s” a value, or clear the row.", name=key[:40]), "specs"
            )
        if len(key) > SPEC_KEY_LENGTH:
            raise ProductRefused(
                _(
                    "A specification name has at most %(count)s characters.",
                    count=SPEC_KEY_LENGTH,
                ),
                "specs",
            )
        if len(value) > SPEC_VALUE_LENGTH:
            raise ProductRefused(
                _(
                    "The value of “%(name)s” has at most %(count)s characters.",
                    name=key[:40],
                    count=SPEC_VALUE_LENGTH,
                ),
                "specs",
            )
        if key.casefold() in seen:
            raise ProductRefused(
                _("“%(name)s” is listed twice: each name once.", name=key[:40]), "specs"
            )
        seen.add(key.casefold())
        cleaned[key] = value
    if len(cleaned) > MAX_SPECS:
        raise ProductRefused(
            _("A product has at most %(count)s specifications.", count=MAX_SPECS), "specs"
        )
    return cleaned


def _clean_text(name, description, unit) -> tuple[str, str, str]:
    name = " ".join((name or "").split())
    if not name:
        raise ProductRefused(_("Give the product a name."), "name")
    if len(name) > NAME_LENGTH:
        raise ProductRefused(
            _("A name has at most %(count)s characters.", count=NAME_LENGTH), "name"
        )
    description = (description or "").strip().replace("\r\n", "\n")
    if len(description) > DESCRIPTION_LENGTH:
        raise ProductRefused(
            _(
                "A description has at most %(count)s characters.",
                count=i18n.number(DESCRIPTION_LENGTH),
            ),
            "description",
        )
    unit = " ".join((unit or "").split()) or "pcs"
    if len(unit) > UNIT_LENGTH:
        raise ProductRefused(
            _("A unit has at most %(count)s characters.", count=UNIT_LENGTH), "unit"
        )
    return name, description, unit


def create(
    *,
    sku: str,
    name: str,
    base_price,
    cost,
    stock: int = 0,
    category: Category | None = None,
    description: str = "",
    specs: dict | None = None,
    unit: str = "pcs",
    tax_class: str = "standard",
    actor: User | None,
) -> Product:
    """A new product, with its opening stock as the first movement."""
    sku = clean_sku(sku)
    name, description, unit = _clean_text(name, description, unit)
    if sku_taken(sku):
        raise ProductRefused(_("There is already a product with SKU %(sku)s.", sku=sku), "sku")
    if stock is None or stock < 0:
        raise ProductRefused(_("Stock cannot be negative."), "stock")
    if stock > MAX_OPENING_STOCK:
        raise ProductRefused(
            _(
                "Stock above %(maximum)s is not plausible; check the number.",
                maximum=i18n.number(MAX_OPENING_STOCK),
            ),
            "stock",
        )
    product = Product(
        sku=sku,
        name=name,
        base_price=_price(base_price, _("Base price"), "base_price"),
        cost=_price(cost, _("Cost"), "cost"),
        stock=stock,
        category=category,
        description=description,
        specs=clean_specs(specs),
        unit=unit,
        tax_class=clean_tax_class(tax_class),
    )
    db.session.add(product)
    _write_claiming_sku()
    db.session.add(
        StockMovement(
            product_id=product.id,
            kind="initial",
            delta=stock,
            stock_before=0,
            stock_after=stock,
            reason=N_("Opening stock"),
            user_id=actor.id if actor else None,
        )
    )
    audit.record(
        "product.created",
        actor=actor,
        target=product,
        summary=f"{sku} created",
        after={
            "sku": sku,
            "name": name,
            "base_price": str(product.base_price),
            "stock": stock,
        },
    )
    events.record(db.session, "product_created", product.id)
    return product


def update(
    product: Product,
    *,
    actor: User | None,
    sku: str,
    name: str,
    description: str = "",
    category: Category | None = None,
    specs=None,
    unit: str = "pcs",
    cost=None,
    tax_class: str | None = None,
) -> bool:
    """Change a product's details; `cost=None` leaves the cost untouched.

    The base price and group prices change through set_prices (their own event).
    """
    sku = clean_sku(sku)
    name, description, unit = _clean_text(name, description, unit)
    if sku != product.sku and sku_taken(sku, other_than=product.id):
        raise ProductRefused(_("There is already a product with SKU %(sku)s.", sku=sku), "sku")
    new = {
        "sku": sku,
        "name": name,
        "description": description,
        "category": category.name if category else None,
        "unit": unit,
        "specs": clean_specs(specs),
        "tax_class": clean_tax_class(tax_class) if tax_class is not None else product.tax_class,
    }
    old = {
        "sku": product.sku,
        "name": product.name,
        "description": product.description or "",
        "category": product.category.name if product.category else None,
        "unit": product.unit,
        "specs": dict(product.specs or {}),
        "tax_class": product.tax_class,
    }
    new_cost = _price(cost, _("Cost"), "cost") if cost is not None else product.cost
    changed = {k for k in new if new[k] != old[k]}
    if (category.id if category else None) != product.category_id:
        changed.add("category")
    cost_changed = new_cost != product.cost
    if not changed and not cost_changed:
        return False
    product.sku, product.name, product.description = sku, name, description
    product.category, product.unit, product.specs = category, unit, new["specs"]
    product.tax_class = new["tax_class"]
    product.cost = new_cost
    _write_claiming_sku()
    what = sorted(changed | ({"cost"} if cost_changed else set()))
    summary = f"{sku} changed: " + ", ".join(what)
    audit.record(
        "product.updated",
        actor=actor,
        target=product,
        summary=summary,
        before={k: _logged(k, old[k]) for k in sorted(changed)},
        after={k: _logged(k, new[k]) for k in sorted(changed)},
    )
    events.record(db.session, "product_changed", product.id)
    return True


def clean_tax_class(raw) -> str:
    """One of core.tax.TAX_CLASSES, else ProductRefused."""
    if raw not in tax.TAX_CLASSES:
        raise ProductRefused(_("Choose the product's VAT class from the list."), "tax_class")
    return raw


def _logged(key: str, value):
    """A detail as the audit log keeps it: specs as "name: value" lines (shown as a
    difference), long descriptions shortened."""
    if key == "specs":
        return [f"{k}: {v}" for k, v in value.items()]
    if key == "description" and len(value) > 200:
        return value[:199] + "…"
    return value


# --- quantity breaks and order rules ---------------------------------------------------


def clean_breaks(rows, *, field: str = "breaks") -> list[tuple[int, Decimal]]:
    """Breaks as typed, (quantity, price) rows, blank rows skipped: sorted by quantity, or
    ProductRefused (at `field`) naming what is wrong. A quantity is a whole number from 2
    (the unit price covers 1), once; a price is above 0 (core.numbers' price rule)."""
    cleaned: dict[int, Decimal] = {}
    for raw_quantity, raw_price in rows or ():
        typed_quantity = str(raw_quantity if raw_quantity is not None else "").strip()
        typed_price = str(raw_price if raw_price is not None else "").strip()
        if not typed_quantity and not typed_price:
            continue
        try:
            quantity = numbers.whole(
                typed_quantity,
                minimum=2,
                maximum=MAX_RULE_QUANTITY,
                message=_(
                    "A break starts at a whole number of units from 2 to %(maximum)s, such "
                    "as 10 (not %(typed)s).",
                    maximum=i18n.number(MAX_RULE_QUANTITY),
                    typed=numbers.quoted(typed_quantity),
                ),
            )
        except Refused as exc:
            raise ProductRefused(str(exc), field) from exc
        if not typed_price:
            raise ProductRefused(
                _("Give the break from %(quantity)s a price.", quantity=quantity), field
            )
        price = _price(
            typed_price.replace(",", ".") if "." not in typed_price else typed_price,
            _("The price from %(quantity)s", quantity=quantity),
            field,
        )
        if price <= 0:
            raise ProductRefused(
                _("The price from %(quantity)s must be above 0.", quantity=quantity), field
            )
        if quantity in cleaned:
            raise ProductRefused(
                _("Two breaks start at %(quantity)s: give each quantity once.", quantity=quantity),
                field,
            )
        cleaned[quantity] = price
    if len(cleaned) > MAX_BREAKS:
        raise ProductRefused(
            _("A price list has at most %(count)s breaks per product.", count=MAX_BREAKS), field
        )
    return sorted(cleaned.items())


def clean_order_rules(min_quantity, order_multiple) -> tuple[int, int]:
    """(minimum, pack size) as whole numbers from 1, the minimum a multiple of the pack
    size (else no quantity would be both), or ProductRefused at the field that is wrong."""
    values = []
    for raw, field, label in (
        (min_quantity, "min_quantity", _("The minimum order quantity")),
        (order_multiple, "order_multiple", _("The pack size")),
    ):
        try:
            values.append(
                numbers.whole(
                    raw,
                    minimum=1,
                    maximum=MAX_RULE_QUANTITY,
                    field=field,
                    message=_(
                        "%(label)s is a whole number from 1 to %(maximum)s.",
                        label=label,
                        maximum=i18n.number(MAX_RULE_QUANTITY),
                    ),
                )
            )
        except Refused as exc:
            raise ProductRefused(str(exc), field) from exc
    minimum, multiple = values
    if minimum % multiple:
        raise ProductRefused(
            _(
                "The minimum (%(minimum)s) must be a multiple of the pack size "
                "(%(multiple)s), such as %(suggested)s.",
                minimum=minimum,
                multiple=multiple,
                suggested=-(-minimum // multiple) * multiple,
            ),
            "min_quantity",
        )
    return minimum, multiple


def breaks_text(breaks) -> list[str]:
    """Breaks as the audit log keeps them: "10: 6.1000" lines (shown as a difference)."""
    return [f"{quantity}: {price}" for quantity, price in breaks]


def breaks_of(product_id: int, group_id: int | None = None) -> list[tuple[int, Decimal]]:
    """The breaks of one price list (the base list for None), by quantity."""
    group = PriceBreak.group_id.is_(None) if group_id is None else PriceBreak.group_id == group_id
    return [
        (quantity, Decimal(price))
        for quantity, price in db.session.execute(
            select(PriceBreak.min_quantity, PriceBreak.price)
            .where(PriceBreak.product_id == product_id, group)
            .order_by(PriceBreak.min_quantity)
        )
    ]


def group_breaks(product: Product) -> dict[int, list[tuple[int, Decimal]]]:
    """{group id: breaks} of the groups with breaks of their own for this product."""
    found: dict[int, list[tuple[int, Decimal]]] = {}
    for group_id, quantity, price in db.session.execute(
        select(PriceBreak.group_id, PriceBreak.min_quantity, PriceBreak.price)
        .where(PriceBreak.product_id == product.id, PriceBreak.group_id.is_not(None))
        .order_by(PriceBreak.group_id, PriceBreak.min_quantity)
    ):
        found.setdefault(group_id, []).append((quantity, Decimal(price)))
    return found


def replace_breaks(product_id: int, group_id: int | None, breaks) -> bool:
    """Write one price list's breaks of a product as given (already clean); False when they
    were so already. The caller holds the lock that keeps the list's writers in turn (the
    product's row for the base list, whose NULL group no unique key covers)."""
    if breaks_of(product_id, group_id) == list(breaks):
        return False
    group = PriceBreak.group_id.is_(None) if group_id is None else PriceBreak.group_id == group_id
    db.session.execute(sql_delete(PriceBreak).where(PriceBreak.product_id == product_id, group))
    db.session.add_all(
        PriceBreak(product_id=product_id, group_id=group_id, min_quantity=q, price=p)
        for q, p in breaks
    )
    db.session.flush()
    return True


def set_order_rules(product: Product, *, actor: User | None, min_quantity, order_multiple) -> bool:
    """Change the minimum order quantity and the pack size; open offers show them at once.
    Carts holding a quantity they no longer allow are refused at checkout (core.carts)."""
    minimum, multiple = clean_order_rules(min_quantity, order_multiple)
    before = {"min_quantity": product.min_quantity, "order_multiple": product.order_multiple}
    after = {"min_quantity": minimum, "order_multiple": multiple}
    changed = sorted(k for k in after if after[k] != before[k])
    if not changed:
        return False
    product.min_quantity, product.order_multiple = minimum, multiple
    audit.record(
        "product.updated",
        actor=actor,
        target=product,
        summary=f"{product.sku} changed: " + ", ".join(changed),
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    events.record(db.session, "product_changed", product.id)
    return True


def set_prices(
    product: Product,
    *,
    actor: User | None,
    base_price=None,
    group_prices: dict[int, object] | None = None,
    breaks=None,
) -> bool:
    """Change the base price, the base list's breaks (`breaks`: (quantity, price) rows, as
    typed) and/or group prices (None or "" removes a group price, and its breaks)."""
    before = {"base_price": str(product.base_price)}
    after = dict(before)
    if base_price is not None:
        product.base_price = _price(base_price, _("Base price"), "base_price")
        after["base_price"] = str(product.base_price)
    if breaks is not None:
        wanted = clean_breaks(breaks)
        # The product's row, locked: two saves of the base list's breaks go in turn.
        db.session.execute(select(Product.id).where(Product.id == product.id).with_for_update())
        old = breaks_of(product.id)
        if replace_breaks(product.id, None, wanted):
            before["breaks"], after["breaks"] = breaks_text(old), breaks_text(wanted)
    existing = {
        gp.group_id: gp
        for gp in db.session.scalars(select(GroupPrice).where(GroupPrice.product_id == product.id))
    }
    for group_id, raw in (group_prices or {}).items():
        group = db.session.get(CustomerGroup, group_id)
        if group is None:
            raise Refused(_("There is no such customer group."))
        current = existing.get(group_id)
        label = f"group {group.name}"
        if raw is None or raw == "":
            if current is not None:
                before[label] = str(current.price)
                after[label] = None
                old_breaks = breaks_of(product.id, group_id)
                if old_breaks:  # a group's breaks go with its price: it pays the base list's
                    before[f"{label} breaks"] = breaks_text(old_breaks)
                    after[f"{label} breaks"] = []
                    replace_breaks(product.id, group_id, [])
                db.session.delete(current)
            continue
        price = _price(raw, _("The %(group)s price", group=group.name), f"group_{group_id}")
        if current is None:
            db.session.add(GroupPrice(group_id=group_id, product_id=product.id, price=price))
            before[label] = None
        elif current.price != price:
            before[label] = str(current.price)
            current.price = price
        else:
            continue
        after[label] = str(price)
    if before == after:
        return False
    audit.record(
        "price.changed",
        actor=actor,
        target=product,
        summary=f"Prices of {product.sku} changed",
        before=before,
        after=after,
    )
    events.record(db.session, "price_changed", product.id)
    webhooks.emit_price(product.id, product=product)
    return True


def group_prices(product: Product) -> dict[int, Decimal]:
    """{group id: price} of the groups that have their own price for this product."""
    return dict(
        db.session.execute(
            select(GroupPrice.group_id, GroupPrice.price).where(GroupPrice.product_id == product.id)
        ).all()
    )


def trade_references(product: Product) -> list[str]:
    """What keeps a product from being deleted: orders, quotes or carts that name it."""
    found = []
    for label, column in (
        (N_("orders"), OrderLine.product_id),
        (N_("quotes"), QuoteLine.product_id),
        (N_("quote offers"), QuoteRoundLine.product_id),
        (N_("carts"), CartLine.product_id),
    ):
        if db.session.scalar(select(exists().where(column == product.id))):
            found.append(label)
    return found


def archive(product: Product, *, actor: User | None) -> None:
    """Stop selling a product: it leaves every catalogue at once (orders keep it)."""
    if product.is_archived:
        return
    product.is_archived = True
    audit.record("product.archived", actor=actor, target=product, summary=f"{product.sku} archived")
    events.record(db.session, "product_removed", product.id)


def restore(product: Product, *, actor: User | None) -> None:
    """Sell an archived product again."""
    if not product.is_archived:
        return
    product.is_archived = False
    audit.record("product.restored", actor=actor, target=product, summary=f"{product.sku} restored")
    events.record(db.session, "product_created", product.id)


def delete(product: Product, *, actor: User | None, folder=None) -> None:
    """Delete a product that no order, quote or cart names; else refuse (archive it).

    Its movements, group prices, promotion links and photos go with it; the photo
    files (under `folder`) are removed once the deletion is committed.
    """
    references = trade_references(product)
    if references:
        raise ProductRefused(
            _(
                "%(sku)s appears in %(references)s, so it cannot be deleted: "
                "archive it instead (its history stays intact).",
                sku=product.sku,
                references=joined(references),
            )
        )
    stored = list(product.photos)
    audit.record(
        "product.deleted",
        actor=actor,
        target=product,
        summary=f"{product.sku} deleted",
        before={"sku": product.sku, "name": product.name, "stock": product.stock},
    )
    # Explicit deletes rather than relying on ON DELETE CASCADE: the same on every backend.
    db.session.execute(sql_delete(StockMovement).where(StockMovement.product_id == product.id))
    db.session.execute(sql_delete(GroupPrice).where(GroupPrice.product_id == product.id))
    db.session.execute(sql_delete(PriceBreak).where(PriceBreak.product_id == product.id))
    specs_index.remove(db.session.connection(), [product.id])
    db.session.execute(
        sql_delete(promotion_products).where(promotion_products.c.product_id == product.id)
    )
    events.record(db.session, "product_removed", product.id)
    db.session.delete(product)
    db.session.flush()
    if folder is not None:
        photos.unlink_after_commit(folder, stored)


def remove(product: Product, *, actor: User | None, folder=None) -> str:
    """Delete the product if nothing names it, else archive it: "deleted" or "archived"."""
    if trade_references(product):
        archive(product, actor=actor)
        return "archived"
    delete(product, actor=actor, folder=folder)
    return "deleted"


def joined(words: list[str]):
    """A list as a sentence says it: "orders", "orders and carts", "orders, quotes and carts".

    The words are message ids (trade_references' N_ labels); the sentence is lazy, in the
    language of whoever reads it.
    """
    if len(words) == 1:
        return _(words[0])
    listed = i18n.join(*(_(word) for word in words[:-1]), sep=", ")
    return _("%(items)s and %(last)s", items=listed, last=_(words[-1]))


def archived(q: str, page: int, per_page: int = 50) -> Page:
    """The archived products, by name, searched by SKU or name."""
    stmt = select(Product).where(Product.is_archived.is_(True))
    if q:
        stmt = stmt.where(
            or_(Product.sku.contains(q, autoescape=True), Product.name.contains(q, autoescape=True))
        )
    return paginate(stmt.order_by(Product.name, Product.id), page, per_page)
