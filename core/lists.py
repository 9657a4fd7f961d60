"""Shared lists of a customer company: requisition lists and bills of materials.

A company keeps many named lists; every one of its people may read them (and export
them), those with `shop.lists` create, change, import into and delete them. A list
holds products, quantities and notes only: what a line costs and whether it is in
stock come from the offer function whenever the list is shown, so a list never shows
a stale price. Putting a list in the cart goes line by line through `carts.add`, so
the cart's own rules (stock as the group sees it, minimums, pack sizes) decide each
line, and one line's refusal never stops the others.

Every change records `list_changed` (with the company), so every open view of the list
is re-rendered for its viewer.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from extensions import db

from . import access, audit, carts, events, i18n, numbers, orders, sku_lines, visibility
from .errors import FieldRefused, NotFound, Refused
from .i18n import _
from .imports.reading import FileProblem
from .models import Product, ShoppingList, ShoppingListLine, User, utcnow
from .models.lists import LINE_NOTE_LENGTH, LIST_DESCRIPTION_LENGTH, LIST_NAME_LENGTH
from .offer import Offer, offers_for

MAX_LINES = 500  # lines on one list: a bill of materials, not a catalogue
MAX_MULTIPLIER = 10_000  # kits built at once
MAX_IMPORT_BYTES = 1024 * 1024
EDIT = "shop.lists"
COLUMNS = ("sku", "quantity", "note")


# --- reading ------------------------------------------------------------------------------


def visible(user: User) -> Select:
    """The lists this person may see: their own company's (nobody else's, staff neither)."""
    stmt = select(ShoppingList)
    if user is None or not getattr(user, "is_customer", False):
        return stmt.where(ShoppingList.id.is_(None))
    return access.company_scope(user, stmt, ShoppingList.company_id)


def index(user: User, q: str = "") -> Select:
    """The company's lists, most recently changed first (searchable by name)."""
    stmt = visible(user).options(selectinload(ShoppingList.updated_by))
    if q:
        stmt = stmt.where(func.lower(ShoppingList.name).contains(q.lower(), autoescape=True))
    return stmt.order_by(ShoppingList.updated_at.desc(), ShoppingList.id.desc())


def line_counts(lists: list[ShoppingList]) -> dict[int, int]:
    """How many lines each list has, in one statement."""
    ids = [lst.id for lst in lists]
    if not ids:
        return {}
    rows = db.session.execute(
        select(ShoppingListLine.list_id, func.count())
        .where(ShoppingListLine.list_id.in_(ids))
        .group_by(ShoppingListLine.list_id)
    )
    return dict(rows.all())


def load(user: User, list_id: int, *, lock: bool = False) -> ShoppingList | None:
    """One list of the person's company, else None (the caller answers 404).

    `lock`: held to the end of the transaction, so that two colleagues changing the list
    at once are serialised (a line added twice becomes one line with both quantities).
    """
    stmt = visible(user).where(ShoppingList.id == list_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(stmt)


def may_edit(user: User) -> bool:
    return access.can(user, EDIT)


@dataclass(frozen=True)
class ListLine:
    """A line of a list with its product's offer of this moment (None: not sold any more)."""

    line: ShoppingListLine
    product: Product
    offer: Offer | None

    @property
    def available(self) -> bool:
        return self.offer is not None

    def unit_price(self, multiplier: int = 1) -> Decimal | None:
        """What one unit costs at the line's quantity (the break it reaches, if any)."""
        if self.offer is None:
            return None
        return self.offer.at(self.line.quantity * multiplier).price


def priced(lst: ShoppingList, viewer: User) -> list[ListLine]:
    """Each line with its product's offer as the viewer's group sees it (two statements
    for the offers, whatever the number of lines). A product no longer sold to the group
    (archived, or hidden from it: core.visibility) has no offer: no price, no stock."""
    lines = list(
        db.session.scalars(
            select(ShoppingListLine)
            .where(ShoppingListLine.list_id == lst.id)
            .options(selectinload(ShoppingListLine.product))
            .order_by(ShoppingListLine.position, ShoppingListLine.id)
        )
    )
    group_id = viewer.company.group_id
    sold = [ln.product for ln in lines if visibility.available(ln.product, group_id)]
    offers = offers_for(viewer.company.group, sold) if sold else {}
    return [ListLine(ln, ln.product, offers.get(ln.product_id)) for ln in lines]


# --- checking what people type -----------------------------------------------------------


def _editor(user: User) -> None:
    if user is None or not getattr(user, "is_customer", False) or not may_edit(user):
        raise Refused(_("Your role does not include changing your company's lists."))


def clean_name(user: User, name: str, current: ShoppingList | None = None) -> str:
    """A list's name: given, not too long, and not another list's of the company."""
    name = " ".join((name or "").split())
    if not name:
        raise FieldRefused(_("Give the list a name."), "name")
    if len(name) > LIST_NAME_LENGTH:
        raise FieldRefused(
            _("A list's name has at most %(count)s characters.", count=LIST_NAME_LENGTH), "name"
        )
    clash = db.session.scalar(
        select(ShoppingList).where(
            ShoppingList.company_id == user.company_id,
            func.lower(ShoppingList.name) == name.lower(),
        )
    )
    if clash is not None and clash is not current:
        raise FieldRefused(
            _("Your company already has a list called “%(name)s”.", name=clash.name), "name"
        )
    return name


def _description(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > LIST_DESCRIPTION_LENGTH:
        raise FieldRefused(
            _(
                "A description has at most %(count)s characters.",
                count=i18n.number(LIST_DESCRIPTION_LENGTH),
            ),
            "description",
        )
    return text


def _note(text: str | None) -> str:
    text = " ".join((text or "").split())
    if len(text) > LINE_NOTE_LENGTH:
        raise FieldRefused(
            _("A note has at most %(count)s characters.", count=LINE_NOTE_LENGTH), "note"
        )
    return text


def quantity_refusal(quantity) -> str | None:
    """Why a quantity cannot be on a list (None: it can)."""
    if (
        not isinstance(quantity, int)
        or isinstance(quantity, bool)
        or not 1 <= quantity <= orders.MAX_QUANTITY
    ):
        return _(
            "Quantities are whole numbers from 1 to %(maximum)s.",
            maximum=i18n.number(orders.MAX_QUANTITY),
        )
    return None


def _quantity(quantity) -> int:
    refusal = quantity_refusal(quantity)
    if refusal:
        raise FieldRefused(refusal, "quantity")
    return quantity


def product_by_sku(sku: str) -> Product | None:
    """The product a typed SKU names (any case, surrounding space ignored), sold or not."""
    sku = (sku or "").strip()
    if not sku or len(sku) > 64:
        return None
    return db.session.scalar(select(Product).where(func.upper(Product.sku) == sku.upper()))


def sku_refusal(sku: str, product: Product | None, user: User | None = None) -> str | None:
    """Why a typed SKU cannot go on the person's list (None: it can); one hidden from their
    group reads as an unknown SKU (core.sku_lines)."""
    return sku_lines.sku_refusal(sku, product, visibility.of_person(user))


# --- changing lists ----------------------------------------------------------------------


def _touched(lst: ShoppingList, user: User) -> None:
    """Who changed the list and when; every open view of it is re-rendered."""
    lst.updated_at = utcnow()
    lst.updated_by_id = user.id
    events.record(db.session, "list_changed", lst.id, company=lst.company_id)


def create(user: User, name: str, description: str = "", *, ip: str = "") -> ShoppingList:
    """A new, empty list of the person's company."""
    _editor(user)
    lst = ShoppingList(
        company_id=user.company_id,
        name=clean_name(user, name),
        description=_description(description),
        created_by_id=user.id,
    )
    db.session.add(lst)
    _claim_name()  # its id names the event
    _touched(lst, user)
    audit.record(
        "list.created",
        actor=user,
        target=lst,
        summary=f"List {lst.name} created",
        after={"name": lst.name},
        ip=ip,
    )
    return lst


def rename(user: User, lst: ShoppingList, name: str, description: str = "") -> bool:
    """A new name and description; False when nothing changed."""
    _editor(user)
    new_name, new_description = clean_name(user, name, lst), _description(description)
    if (new_name, new_description) == (lst.name, lst.description):
        return False
    lst.name, lst.description = new_name, new_description
    _claim_name()
    _touched(lst, user)
    return True


def _claim_name() -> None:
    """Write the list's name now: one given the same name since the check (a colleague at
    the same moment) makes this a refusal, not an error."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise FieldRefused(
            _("A colleague has just given another list this name: choose another one."), "name"
        ) from exc


def delete(user: User, lst: ShoppingList, *, ip: str = "") -> None:
    """Remove a list with its lines (the products stay in the catalogue)."""
    _editor(user)
    count = len(lst.lines)
    audit.record(
        "list.deleted",
        actor=user,
        target=lst,
        summary=f"List {lst.name} deleted",
        before={"name": lst.name, "lines": count},
        ip=ip,
    )
    events.record(db.session, "list_changed", lst.id, company=lst.company_id)
    db.session.delete(lst)
    db.session.flush()


def copy_name(user: User, name: str) -> str:
    """A free name for a copy: “X (copy)”, then “X (copy 2)”, ..."""
    for number in range(1, 1000):
        suffix = str(_(" (copy)") if number == 1 else _(" (copy %(number)s)", number=number))
        candidate = name[: LIST_NAME_LENGTH - len(suffix)] + suffix
        taken = db.session.scalar(
            select(ShoppingList.id).where(
                ShoppingList.company_id == user.company_id,
                func.lower(ShoppingList.name) == candidate.lower(),
            )
        )
        if taken is None:
            return candidate
    raise Refused(_("There are too many copies of this list already: rename some first."))


def duplicate(user: User, lst: ShoppingList, *, ip: str = "") -> ShoppingList:
    """A copy of the list with all its lines, under a free name."""
    _editor(user)
    copy = create(user, copy_name(user, lst.name), lst.description, ip=ip)
    for line in lst.lines:
        copy.lines.append(
            ShoppingListLine(
                product_id=line.product_id,
                quantity=line.quantity,
                note=line.note,
                position=line.position,
            )
        )
    db.session.flush()
    return copy


def _next_position(lst: ShoppingList) -> int:
    top = db.session.scalar(
        select(func.max(ShoppingListLine.position)).where(ShoppingListLine.list_id == lst.id)
    )
    return (top or 0) + 1


def _put(
    lst: ShoppingList, product: Product, quantity: int, note: str
) -> tuple[ShoppingListLine, bool]:
    """The product on the list: a new line, or more of it on its line (merged: True)."""
    line = db.session.scalar(
        select(ShoppingListLine).where(
            ShoppingListLine.list_id == lst.id, ShoppingListLine.product_id == product.id
        )
    )
    if line is not None:
        line.quantity = _quantity(line.quantity + quantity)
        if note:
            line.note = note
        return line, True
    count = db.session.scalar(
        select(func.count()).select_from(ShoppingListLine).where(ShoppingListLine.list_id == lst.id)
    )
    if count >= MAX_LINES:
        raise Refused(
            _("A list holds at most %(count)s lines: start another list.", count=MAX_LINES)
        )
    line = ShoppingListLine(
        list_id=lst.id,
        product_id=product.id,
        quantity=quantity,
        note=note,
        position=_next_position(lst),
    )
    db.session.add(line)
    db.session.flush()
    return line, False


def add_line(
    user: User, list_id: int, sku: str, quantity: int, note: str = ""
) -> tuple[ShoppingListLine, bool]:
    """A product by its SKU on the list; if it is there already, the quantity is added to
    its line (True). An unknown SKU, a product not sold, a wrong quantity: refused."""
    _editor(user)
    lst = _locked(user, list_id)
    product = product_by_sku(sku)
    refusal = sku_refusal(sku, product, user)
    if refusal:
        raise FieldRefused(refusal, "sku")
    line, merged = _put(lst, product, _quantity(quantity), _note(note))
    _touched(lst, user)
    return line, merged


def add_product(
    user: User, list_id: int, product_id: int, quantity: int
) -> tuple[ShoppingListLine, bool]:
    """A product (from its page or card) on the list, as `add_line`."""
    shown = visibility.offered(user.company.group_id if user.company else None)
    product = db.session.scalar(select(Product).where(Product.id == product_id, *shown))
    if product is None:
        raise NotFound()
    return add_line(user, list_id, product.sku, quantity)


def _locked(user: User, list_id: int) -> ShoppingList:
    lst = load(user, list_id, lock=True)
    if lst is None:
        raise NotFound()
    return lst


def _own_line(lst: ShoppingList, line_id: int) -> ShoppingListLine:
    line = db.session.scalar(
        select(ShoppingListLine).where(
            ShoppingListLine.id == line_id, ShoppingListLine.list_id == lst.id
        )
    )
    if line is None:
        raise NotFound()
    return line


def change_line(
    user: User, list_id: int, line_id: int, quantity: int, note: str | None = None
) -> ShoppingListLine:
    """A line's quantity (and note, when given)."""
    _editor(user)
    lst = _locked(user, list_id)
    line = _own_line(lst, line_id)
    line.quantity = _quantity(quantity)
    if note is not None:
        line.note = _note(note)
    _touched(lst, user)
    return line


def remove_line(user: User, list_id: int, line_id: int) -> Product:
    """Take a line off the list; the product it was."""
    _editor(user)
    lst = _locked(user, list_id)
    line = _own_line(lst, line_id)
    product = line.product
    db.session.delete(line)
    _touched(lst, user)
    db.session.flush()
    return product


# --- into the cart -----------------------------------------------------------------------


@dataclass
class CartOutcome:
    """What putting a list in the cart did: (line, quantity) that went in, and (line,
    why) that did not."""

    multiplier: int
    added: list[tuple[ShoppingListLine, int]] = field(default_factory=list)
    refused: list[tuple[ShoppingListLine, str]] = field(default_factory=list)


def multiplier_refusal(multiplier) -> str | None:
    if (
        not isinstance(multiplier, int)
        or isinstance(multiplier, bool)
        or not 1 <= multiplier <= MAX_MULTIPLIER
    ):
        return _(
            "Build between 1 and %(maximum)s kits at a time.",
            maximum=i18n.number(MAX_MULTIPLIER),
        )
    return None


def to_cart(user: User, list_id: int, multiplier: int = 1) -> CartOutcome:
    """Every line of the list into the person's cart, its quantity times `multiplier`.

    Each line goes through carts.add, whose rules decide it; a refused line is undone
    alone (a savepoint) and reported with the cart's reason, the others go in, all in one
    transaction. Lines whose product is not sold any more are reported and skipped.
    """
    refusal = multiplier_refusal(multiplier)
    if refusal:
        raise FieldRefused(refusal, "multiplier")
    if not access.can(user, "shop.cart"):
        raise Refused(_("Your role does not include building carts."))
    lst = load(user, list_id)
    if lst is None:
        raise NotFound()
    lines = list(lst.lines)
    if not lines:
        raise Refused(_("This list is empty: add products to it first."))
    # The person's row first, as carts.add locks it: the transaction has begun (SQLite
    # takes its write lock here), so each savepoint below is nested inside it.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    outcome = CartOutcome(multiplier)
    group_id = user.company.group_id
    for line in lines:
        product = line.product
        if not visibility.available(product, group_id):
            outcome.refused.append((line, _("%(sku)s is not sold any more.", sku=product.sku)))
            continue
        quantity = line.quantity * multiplier
        savepoint = db.session.begin_nested()
        try:
            carts.add(user, product.id, quantity)
        except Refused as exc:
            savepoint.rollback()
            outcome.refused.append((line, str(exc)))
            continue
        savepoint.commit()
        outcome.added.append((line, quantity))
    return outcome


# --- CSV ---------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What importing a file did: lines added, lines merged, and errors by line."""

    replace: bool = False
    added: int = 0
    merged: int = 0
    removed: int = 0
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    applied: bool = False

    @property
    def lines(self) -> int:
        return self.added + self.merged


def read_csv(
    data: bytes, user: User | None = None
) -> tuple[list[tuple[int, Product, int, str]], list[tuple[int | None, str]]]:
    """The valid lines of a file (line number, product, quantity, note) and every error
    (a product hidden from `user`'s group reads as an unknown SKU).

    A header naming `sku` and `quantity` (and `note`, optional; other columns, such as an
    export's, are ignored) is required; UTF-8 with or without a byte-order mark; cells
    separated by `;` or `,`.
    """
    try:
        rows = sku_lines.read_rows(data, max_bytes=MAX_IMPORT_BYTES)
    except FileProblem as exc:
        return [], [(exc.line, str(exc.message))]
    header = next(rows, None)
    columns = sku_lines.header_columns(header[1]) if header else {}
    if "sku" not in columns or "quantity" not in columns:
        return [], [
            (
                1,
                _(
                    "The first line must name the columns: sku, quantity and, if you like, "
                    "note (separated by commas or semicolons)."
                ),
            )
        ]
    valid: list[tuple[int, Product, int, str]] = []
    errors: list[tuple[int | None, str]] = []
    skus: dict[str, Product | None] = {}
    for number, cells in rows:
        if sku_lines.blank(cells):
            continue
        if len(valid) + len(errors) >= MAX_LINES * 2:
            errors.append(
                (
                    number,
                    _("The file has too many lines: import at most %(count)s.", count=MAX_LINES),
                )
            )
            break

        sku = sku_lines.cell(cells, columns, "sku")
        key = sku.upper()
        if key not in skus:
            skus[key] = product_by_sku(sku)
        product = skus[key]
        refusal = sku_refusal(sku, product, user)
        if refusal:
            errors.append((number, refusal))
            continue
        try:
            quantity = sku_lines.quantity(sku_lines.cell(cells, columns, "quantity"))
        except numbers.NumberRefused as exc:
            errors.append((number, str(exc)))
            continue
        note = " ".join(sku_lines.cell(cells, columns, "note").split())
        if len(note) > LINE_NOTE_LENGTH:
            errors.append(
                (number, _("A note has at most %(count)s characters.", count=LINE_NOTE_LENGTH))
            )
            continue
        valid.append((number, product, quantity, note))
    if not valid and not errors:
        errors.append(
            (None, _("The file has no lines below its header: there is nothing to import."))
        )
    return valid, errors


def import_csv(
    user: User, list_id: int, data: bytes, *, replace: bool = False, ip: str = ""
) -> ImportReport:
    """Lines from a CSV file onto the list.

    Adding: the valid lines go on the list (a product already there gets the quantity
    added), the wrong ones are reported by line number. Replacing: the list becomes the
    file's lines, only if every line is right; otherwise nothing changes, so nothing of
    the list is lost to a typing error.
    """
    _editor(user)
    lst = _locked(user, list_id)
    valid, errors = read_csv(data, user)
    report = ImportReport(replace=replace, errors=errors)
    if not valid or (replace and errors):
        return report
    if replace:
        report.removed = len(lst.lines)
        for line in list(lst.lines):
            db.session.delete(line)
        db.session.flush()
        db.session.expire(lst, ["lines"])
    for number, product, quantity, note in valid:
        try:
            __, merged = _put(lst, product, quantity, note)
        except Refused as exc:  # the list is full
            report.errors.append((number, str(exc)))
            continue
        if merged:
            report.merged += 1
        else:
            report.added += 1
    report.applied = report.lines > 0
    if report.applied:
        _touched(lst, user)
        audit.record(
            "list.imported",
            actor=user,
            target=lst,
            summary=f"List {lst.name}: {report.lines} lines imported",
            after={
                "replaced": replace,
                "added": report.added,
                "merged": report.merged,
                "removed": report.removed,
                "errors": len(report.errors),
            },
            ip=ip,
        )
    return report


def availability(offer: Offer | None) -> str:
    """Availability as the viewer's group may see it: the count for a group that sees
    counts, the level's words for one that sees levels (never a count)."""
    if offer is None:
        return str(_("Not sold any more"))
    if offer.stock.exact is not None:
        return str(max(offer.stock.exact, 0))
    return str(offer.stock.label)


EXPORT_HEADER = ["sku", "name", "quantity", "note", "unit_price", "availability"]


def export_rows(lst: ShoppingList, viewer: User) -> list[tuple]:
    """The list as CSV rows, priced and stocked as the viewer's group sees it (no price
    for a viewer without shop.prices)."""
    priced_for = access.sees_prices(viewer)
    return [
        (
            item.product.sku,
            item.product.name,
            item.line.quantity,
            item.line.note,
            item.unit_price() if priced_for else None,
            availability(item.offer),
        )
        for item in priced(lst, viewer)
    ]
