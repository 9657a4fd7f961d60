"""Quick order and reorder: many lines into the cart at once.

A quick order takes lines of "SKU quantity" (pasted, or a CSV or XLSX file with a
header naming `sku` and `quantity`). `check` matches every line and shows it as the
person's group sees it at that quantity (`Offer.at`: the break reached, the promotion),
with its availability by the cart's own rule (`StockView.promise`: for a group that
sees levels, from the level's band alone) and, line by line, what is wrong with it.
Nothing changes until `to_cart`, which checks the lines again and puts the valid ones
into the cart through `carts.add`, whose rules decide each one.

A reorder puts an order's lines back into the cart the same way: at today's offer (the
cart prices itself), the quantities as ordered; the products no longer sold, and the
lines the cart refuses, are named with the reason.

Both go in one transaction, each line in a savepoint: a refused line is undone alone
and the others go in. Carts are not audited; `carts.add` records `cart_changed`, so
the person's open cart pages re-fetch themselves.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from extensions import db

from . import access, carts, i18n, numbers, orders, sku_lines, visibility
from .errors import FieldRefused, Refused
from .i18n import _, ngettext
from .imports.reading import FileProblem
from .models import Order, Product, User
from .offer import OUT, Offer, Promise, check_quantity, offers_for

MAX_LINES = 500  # lines checked at once: a bill of materials, not a catalogue
MAX_BYTES = 1024 * 1024  # an uploaded file
MAX_TEXT = 64 * 1024  # characters of pasted text
CART = "shop.cart"
_SEPARATORS = re.compile(r"[\s;,]+")
_HEADER_SKU = {"sku"}
_HEADER_QUANTITY = {"quantity", "qty"}


@dataclass
class QuickLine(carts.Promised):
    """One line as typed, matched: its product, quantity, offer at that quantity, and
    what is wrong with it (None: it can go in). A line whose SKU appears again further
    down carries the later lines' quantities (`merged`); those point back to it
    (`merged_into`) and are not added on their own."""

    number: int
    sku: str
    raw_quantity: str = ""
    product: Product | None = None
    quantity: int | None = None
    offer: Offer | None = None
    problem: str | None = None
    merged: list[tuple[int, int]] = field(default_factory=list)  # (line, quantity) added
    merged_into: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.merged_into is None and self.offer is not None

    @property
    def line_total(self) -> Decimal | None:
        """As an order line of this quantity would say (the cart's own arithmetic)."""
        if not self.ok:
            return None
        return orders.order_line(self.product, self.offer, self.quantity).line_total

    @property
    def reached(self):
        """The quantity break the line reaches (None: the unit price)."""
        return self.offer.tier_for(self.quantity) if self.ok else None

    # What the cart's availability note (shop/cart/_availability.html) reads of a line.
    @property
    def sold(self) -> bool:
        return self.offer is not None

    @property
    def line(self) -> "QuickLine":
        return self

    @property
    def promise(self) -> Promise | None:
        """The cart's rule (carts.PricedLine.promise): for a group that sees levels, from
        the level's band alone, never an answer that turns at the exact count."""
        if not self.ok:
            return None
        return self.offer.stock.promise(self.quantity)

    @property
    def backorder_part(self) -> int | None:
        exact = self.offer.stock.exact if self.offer is not None else None
        if exact is None or self.quantity is None:
            return None
        return max(self.quantity - exact, 0)


@dataclass
class Check:
    """Every line of a quick order, checked; `errors` are problems of the whole input
    (a file that cannot be read, too many lines), with the line they concern if any."""

    lines: list[QuickLine] = field(default_factory=list)
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    backorders: bool = False  # the group accepts what is beyond stock as back-ordered
    source: str = "text"  # "text" or "file": what the line numbers count

    @property
    def valid(self) -> list[QuickLine]:
        return [ln for ln in self.lines if ln.ok]

    @property
    def problems(self) -> list[QuickLine]:
        return [ln for ln in self.lines if ln.problem is not None]

    @property
    def total(self) -> Decimal:
        return sum((ln.line_total for ln in self.valid), Decimal("0.00"))

    @property
    def in_doubt(self) -> list[QuickLine]:
        return [ln for ln in self.valid if ln.in_doubt]


@dataclass
class Outcome:
    """What putting lines into the cart did: (sku, name, quantity) that went in, and
    (sku, name, why) that did not."""

    added: list[tuple[str, str, int]] = field(default_factory=list)
    refused: list[tuple[str, str, str]] = field(default_factory=list)


# --- who ----------------------------------------------------------------------------------


def may_use(user: User | None) -> bool:
    """The people who may build a cart: a quick order and a reorder fill it."""
    return bool(user is not None and getattr(user, "is_customer", False)) and access.can(user, CART)


def _cart_user(user: User) -> None:
    if not may_use(user):
        raise Refused(_("Your role does not include building carts."))


# --- reading ------------------------------------------------------------------------------


def _too_many() -> str:
    return _(
        "At most %(count)s lines are taken at a time: split the order into parts.",
        count=i18n.number(MAX_LINES),
    )


def read_text(text: str) -> tuple[list[QuickLine], list[tuple[int | None, str]]]:
    """Pasted lines of "SKU quantity": separated by spaces, a tab, `;` or `,`; a line with
    a SKU alone means one unit; blank lines, and a first line naming the columns, are
    skipped. Each line keeps its number in the text."""
    text = text or ""
    if len(text) > MAX_TEXT:
        return [], [
            (
                None,
                _(
                    "The text is longer than %(count)s characters: split the order into parts.",
                    count=i18n.number(MAX_TEXT),
                ),
            )
        ]
    lines: list[QuickLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        cells = [c for c in _SEPARATORS.split(raw.strip()) if c]
        if not cells:
            continue
        if not lines and _is_header(cells):
            continue
        if len(lines) >= MAX_LINES:
            return [], [(number, _too_many())]
        if len(cells) > 2:
            shown = numbers.quoted(" ".join(raw.split()))
            lines.append(
                QuickLine(
                    number,
                    cells[0],
                    problem=_(
                        "Write a SKU and a quantity, separated by a space, a tab, a semicolon "
                        "or a comma (and no thousands separator): %(text)s.",
                        text=shown,
                    ),
                )
            )
            continue
        lines.append(QuickLine(number, cells[0], cells[1] if len(cells) == 2 else "1"))
    return lines, []


def _is_header(cells: list[str]) -> bool:
    return cells[0].lower() in _HEADER_SKU and (
        len(cells) == 1 or cells[1].lower() in _HEADER_QUANTITY
    )


def read_file(data: bytes) -> tuple[list[QuickLine], list[tuple[int | None, str]]]:
    """A CSV or XLSX file (first sheet) whose first line names the columns sku and
    quantity; its lines numbered as the spreadsheet numbers them."""
    try:
        rows = sku_lines.read_rows(data, max_bytes=MAX_BYTES, workbooks=True)
        header = next(rows, None)
        columns = sku_lines.header_columns(header[1]) if header else {}
        if "sku" not in columns or "quantity" not in columns:
            return [], [
                (
                    1,
                    _(
                        "The first line must name the columns: sku and quantity (separated "
                        "by commas or semicolons in a CSV file)."
                    ),
                )
            ]
        lines: list[QuickLine] = []
        for number, cells in rows:
            if sku_lines.blank(cells):
                continue
            if len(lines) >= MAX_LINES:
                return [], [(number, _too_many())]
            lines.append(
                QuickLine(
                    number,
                    sku_lines.cell(cells, columns, "sku"),
                    sku_lines.cell(cells, columns, "quantity"),
                )
            )
    except FileProblem as exc:
        return [], [(exc.line, str(exc.message))]
    if not lines:
        return [], [(None, _("The file has no lines below its header: there is nothing to order."))]
    return lines, []


# --- checking -----------------------------------------------------------------------------


def check_lines(user: User, lines: list[QuickLine], *, source: str = "text") -> Check:
    """Match every line, merge a SKU typed twice into its first line, and price each as
    the person's group sees it at the line's quantity. Nothing is written."""
    _cart_user(user)
    found = sku_lines.products_by_sku(ln.sku for ln in lines if ln.problem is None)
    hidden = visibility.of_person(user)  # a hidden product reads as an unknown SKU
    first: dict[int, QuickLine] = {}  # product id -> the line that holds it
    for ln in lines:
        if ln.problem is not None:
            continue
        product = found.get(ln.sku.strip().upper())
        refusal = sku_lines.sku_refusal(ln.sku, product, hidden)
        if refusal:
            ln.problem = refusal
            continue
        ln.product = product
        try:
            ln.quantity = sku_lines.quantity(ln.raw_quantity)
        except numbers.NumberRefused as exc:
            ln.problem = str(exc)
            continue
        holder = first.get(product.id)
        if holder is None:
            first[product.id] = ln
        else:
            holder.merged.append((ln.number, ln.quantity))
            ln.merged_into = holder.number
    group = user.company.group
    offers = offers_for(group, [ln.product for ln in first.values()]) if first else {}
    for ln in first.values():
        ln.quantity += sum(q for __, q in ln.merged)
        ln.problem = _problem(ln, offers[ln.product.id])
        ln.offer = offers[ln.product.id].at(min(ln.quantity, orders.MAX_QUANTITY))
    return Check(lines=lines, backorders=bool(group.backorders_allowed), source=source)


def _problem(ln: QuickLine, offer: Offer) -> str | None:
    """What the cart would refuse of this line, in its own words."""
    if ln.quantity > orders.MAX_QUANTITY:
        return _(
            "Together these lines make %(quantity)s: a line holds at most %(maximum)s.",
            quantity=i18n.number(ln.quantity),
            maximum=i18n.number(orders.MAX_QUANTITY),
        )
    refusal = check_quantity(ln.product, ln.quantity)
    if refusal is not None:
        return str(refusal)
    # The level is what the person sees anyway (carts.add refuses on it alone).
    if offer.stock.level == OUT and not offer.backorders:
        return _("%(sku)s is out of stock.", sku=ln.product.sku)
    return None


def check_text(user: User, text: str) -> Check:
    lines, errors = read_text(text)
    checked = check_lines(user, lines)
    checked.errors = errors
    return checked


def check_file(user: User, data: bytes) -> Check:
    lines, errors = read_file(data)
    checked = check_lines(user, lines, source="file")
    checked.errors = errors
    return checked


def nothing_typed() -> FieldRefused:
    return FieldRefused(_("Paste lines of SKU and quantity, or choose a file."), "lines")


# --- into the cart ------------------------------------------------------------------------


def _into_cart(user: User, items: list[tuple[Product, int]], outcome: Outcome) -> Outcome:
    """Each (product, quantity) through carts.add, in one transaction; a refused line is
    undone alone (a savepoint) and reported with the cart's reason."""
    # The person's row first, as carts.add locks it: the transaction has begun (SQLite
    # takes its write lock here), so each savepoint below is nested inside it.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    for product, quantity in items:
        savepoint = db.session.begin_nested()
        try:
            carts.add(user, product.id, quantity)
        except Refused as exc:
            savepoint.rollback()
            outcome.refused.append((product.sku, product.name, str(exc)))
            continue
        savepoint.commit()
        outcome.added.append((product.sku, product.name, quantity))
    return outcome


def to_cart(user: User, text: str) -> tuple[Check, Outcome]:
    """The valid lines of a quick order into the cart, checked again now (a price, a rule
    or a product may have changed since the person looked); the others are reported."""
    checked = check_text(user, text)
    if checked.errors:
        raise Refused(checked.errors[0][1])
    if not checked.lines:
        raise nothing_typed()
    outcome = Outcome()
    for ln in checked.problems:
        sku, name = (ln.product.sku, ln.product.name) if ln.product else (ln.sku[:64], "")
        outcome.refused.append((sku, name, str(ln.problem)))
    return checked, _into_cart(user, [(ln.product, ln.quantity) for ln in checked.valid], outcome)


def valid_text(checked: Check) -> str:
    """The valid lines as the text that `to_cart` takes ("SKU quantity" per line)."""
    return "\n".join(f"{ln.product.sku} {ln.quantity}" for ln in checked.valid)


def reorder(user: User, order: Order) -> Outcome:
    """An order's lines back into the person's cart at today's offer, the quantities as
    ordered (a product ordered on two lines goes in once, with both). A product no longer
    sold (or no longer to the person's group: core.visibility), or a line the cart refuses,
    is named with the reason; the rest go in."""
    _cart_user(user)
    if order.company_id != user.company_id:  # the caller loads it in scope; never trust that
        raise Refused(_("There is no such order in your company."))
    wanted: dict[int, tuple[Product, int]] = {}
    outcome = Outcome()
    group_id = user.company.group_id
    for line in sorted(order.lines, key=lambda ln: ln.id):
        product = line.product
        if product is None:  # a custom part from a quote (core.custom_parts)
            outcome.refused.append(
                (
                    line.sku,
                    line.name,
                    str(
                        _(
                            "%(sku)s is a custom part made to your drawings, not a catalogue "
                            "product: ask for a new quote to order it again.",
                            sku=line.sku,
                        )
                    ),
                )
            )
            continue
        if not visibility.available(product, group_id):
            outcome.refused.append(
                (line.sku, line.name, str(_("%(sku)s is not sold any more.", sku=line.sku)))
            )
            continue
        held = wanted.get(product.id)
        wanted[product.id] = (product, (held[1] if held else 0) + line.quantity)
    return _into_cart(user, list(wanted.values()), outcome)


FLASHED = 12  # lines named in a flash (it lives in the session cookie); the rest counted


def _named(parts: list[str]) -> str:
    shown = parts[:FLASHED]
    if len(parts) > FLASHED:
        shown.append(str(_("and %(count)s more", count=i18n.number(len(parts) - FLASHED))))
    return "; ".join(shown)


def summary(outcome: Outcome) -> tuple[str, str]:
    """Two flashes: what went in, and what did not with why ("" for none)."""
    went = not_in = ""
    if outcome.added:
        added = [
            str(_("%(quantity)s × %(sku)s", quantity=i18n.number(q), sku=sku))
            for sku, __, q in outcome.added
        ]
        went = ngettext(
            "%(num)d line went into your cart: %(lines)s.",
            "%(num)d lines went into your cart: %(lines)s.",
            len(outcome.added),
            lines=_named(added),
        )
    if outcome.refused:
        refused = [f"{sku}: {why}" for sku, __, why in outcome.refused]
        not_in = ngettext(
            "%(num)d line did not go in: %(lines)s",
            "%(num)d lines did not go in: %(lines)s",
            len(outcome.refused),
            lines=_named(refused),
        )
    return str(went), str(not_in)
