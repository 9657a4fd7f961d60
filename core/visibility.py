"""What a customer group may see: categories and single products hidden from chosen groups.

Adobe Commerce's shared catalogues, in the small. Staff who may edit groups hide whole
categories (each with its subcategories) or single products from a group. To that group's
people a hidden product does not exist where they look for products (the catalogue, its
search, filters and counts, suggestions, the product's page and photos, its offer region and
pushes, the quick order, the quote form), and is simply no longer available where they kept
it (a shared list, the cart, a reorder): exactly like a product no longer sold, so that
nothing tells them it is sold to others. Staff see everything their permissions allow.

`hidden_for(group_id)` costs one statement (the hidden categories with every category
below them, and the hidden products), read once per transaction and kept in this process
like a kept session (core.sessions.KeptSessions): reused while the live layer's generation
of groups stands, which every process moves on at once when it commits or hears a change
of a group (`group_changed`, which every change here records), and never while it could
miss one (Redis away: then each transaction reads again). A read is kept only from a
transaction begun under the current generation, so it never predates the change that
moved it on; KEEP_SECONDS bounds what a change made with no event (a deleted product
whose id is given again) could leave behind. A transaction that changes what a group sees
reads its own change. The live layer, told by `group_changed` too, gives every open page
of the group's people its regions afresh (lists re-fetch themselves, offers re-render).
"""

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from sqlalchemy import delete, event, func, insert, literal, select, union_all
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

from extensions import db

from . import audit, events
from .errors import FieldRefused, NotFound
from .i18n import _
from .models import (
    Category,
    CustomerGroup,
    Product,
    User,
    group_hidden_categories,
    group_hidden_products,
)
from .models.catalog import catalog_counts
from .pagination import Page

SKU_LENGTH = 64
KEEP_SECONDS = 5.0
_KEPT = "portal_hidden"  # session.info: (transaction, {group id: Hidden})
_CHANGED = "portal_hidden_changed"  # session.info: the transaction that changed some
_BEGAN_AT = "portal_hidden_generation"  # connection.info: the generation it began under


@dataclass(frozen=True)
class Hidden:
    """The categories (with their subcategories) and products one group may not see."""

    categories: frozenset[int] = field(default_factory=frozenset)
    products: frozenset[int] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return bool(self.categories or self.products)

    def clauses(self) -> list:
        """WHERE clauses on Product that keep only what the group may see ([] if all)."""
        found = []
        if self.products:
            found.append(Product.id.not_in(sorted(self.products)))
        if self.categories:
            found.append(self.category_clause())
        return found

    def category_clause(self):
        """The products outside the hidden categories (those without a category too).

        Checked on each row read, never an index range to read from: a range on the
        category index, all but the hidden categories, looks narrow to MariaDB's planner
        and would be walked instead of the search index's few candidates (a search's
        filter counts at 100,000 products: 690 ms instead of 90).
        """
        return func.coalesce(Product.category_id, 0).not_in(sorted(self.categories))

    def hides(self, product: Product | None) -> bool:
        """Is this product hidden from the group (itself, or through its category)?"""
        if product is None:
            return False
        return product.id in self.products or product.category_id in self.categories

    def hides_category(self, category: Category | int | None) -> bool:
        """Is this category hidden (itself, or through a category above it)?"""
        category_id = category.id if isinstance(category, Category) else category
        return category_id is not None and category_id in self.categories


NOTHING = Hidden()


def _session() -> Session:
    session = db.session
    return session() if isinstance(session, scoped_session) else session


def _read(group_id: int) -> Hidden:
    """One statement: the group's hidden categories with every category below them (a
    recursive walk down the tree), and its hidden products."""
    hc, hp = group_hidden_categories, group_hidden_products
    tree = (
        select(hc.c.category_id.label("id"))
        .where(hc.c.group_id == group_id)
        .cte("hidden_tree", recursive=True)
    )
    child = Category.__table__.alias("child")
    tree = tree.union(select(child.c.id).where(child.c.parent_id == tree.c.id))
    rows = db.session.execute(
        union_all(
            select(literal("c").label("kind"), tree.c.id),
            select(literal("p").label("kind"), hp.c.product_id).where(hp.c.group_id == group_id),
        )
    ).all()
    return Hidden(
        categories=frozenset(row[1] for row in rows if row[0] == "c"),
        products=frozenset(row[1] for row in rows if row[0] == "p"),
    )


# --- kept in this process ------------------------------------------------------------


_generation: Callable[[], int | None] | None = None


def keep_under(generation: Callable[[], int | None]) -> None:
    """Keep what groups may not see in this process while `generation()` (the live layer's
    generation of groups, None while a change could go unheard) stays the same."""
    global _generation
    _generation = generation


def _current_generation() -> int | None:
    if _generation is None:
        return None
    try:
        return _generation()
    except RuntimeError:  # outside an application (a bare engine): nothing is kept
        return None


class _Kept:
    """The groups' hidden things read in this process, with the generation read under."""

    LIMIT = 10_000

    def __init__(self):
        self.entries: dict[int, tuple[int, float, Hidden]] = {}
        self.lock = threading.Lock()

    def get(self, group_id: int, generation: int | None) -> Hidden | None:
        hit = self.entries.get(group_id)
        if generation is None or hit is None or hit[0] != generation:
            return None
        return hit[2] if hit[1] > time.monotonic() else None

    def put(self, group_id: int, hidden: Hidden, began_at, generation: int | None) -> None:
        """Keep a read made in a transaction begun under the current generation."""
        if generation is None or began_at != generation:
            return
        with self.lock:
            if len(self.entries) >= self.LIMIT:
                self.entries.clear()
            self.entries[group_id] = (generation, time.monotonic() + KEEP_SECONDS, hidden)


@event.listens_for(Engine, "begin")
def _began(conn) -> None:
    """Every transaction notes the generation it began under (never raising: a rollback
    after a lost connection has no `info`)."""
    if _generation is not None and not conn.invalidated:
        conn.info[_BEGAN_AT] = _current_generation()


_kept_by_engine: WeakKeyDictionary = WeakKeyDictionary()
_kept_lock = threading.Lock()


def _kept_of(engine) -> _Kept:
    """The reads kept for an engine (a test's and a benchmark's databases apart)."""
    with _kept_lock:
        kept = _kept_by_engine.get(engine)
        if kept is None:
            kept = _kept_by_engine[engine] = _Kept()
        return kept


def hidden_for(group_id: int | None) -> Hidden:
    """What the group `group_id` may not see (nothing for staff, group None).

    At most one statement per transaction, none while this process keeps a read under the
    current generation; a transaction that changed what some group sees reads its own.
    """
    if group_id is None:
        return NOTHING
    session = _session()
    generation = _current_generation()
    connection = session.connection()  # the transaction begins here if it had not
    transaction = session.get_transaction()
    own = session.info.get(_CHANGED) is transaction
    kept = session.info.get(_KEPT)
    if kept is not None and kept[0] is transaction and group_id in kept[1]:
        return kept[1][group_id]
    process = _kept_of(connection.engine)
    found = None if own else process.get(group_id, generation)
    if found is None:
        found = _read(group_id)
        if not own:
            process.put(group_id, found, connection.info.get(_BEGAN_AT), generation)
    if kept is None or kept[0] is not transaction:
        kept = session.info[_KEPT] = (transaction, {})
    kept[1][group_id] = found
    return found


def _forget() -> None:
    """A change in this transaction: it reads again, never from what the process keeps."""
    session = _session()
    session.info.pop(_KEPT, None)
    session.info[_CHANGED] = session.get_transaction()


def of_person(user: User | None) -> Hidden:
    """What this person may not see: their company group's hidden things; nothing for staff."""
    if user is None or not getattr(user, "is_customer", False) or user.company is None:
        return NOTHING
    return hidden_for(user.company.group_id)


def offered(group_id: int | None) -> list:
    """WHERE clauses on Product: on sale, and not hidden from this group."""
    return [Product.sold(), *hidden_for(group_id).clauses()]


def available(product: Product | None, group_id: int | None) -> bool:
    """Is this product on sale to this group (not archived, not hidden from it)?"""
    return (
        product is not None and not product.is_archived and not hidden_for(group_id).hides(product)
    )


# --- the back office's view of one group ----------------------------------------------


def chosen_categories(group: CustomerGroup) -> set[int]:
    """The categories staff ticked for the group (not the subcategories they imply)."""
    hc = group_hidden_categories
    return set(db.session.scalars(select(hc.c.category_id).where(hc.c.group_id == group.id)))


def hidden_products(group: CustomerGroup, page: int = 1, per_page: int = 25) -> Page:
    """The products hidden from the group one by one, by SKU, a page at a time."""
    hp = group_hidden_products
    ids = select(hp.c.product_id).where(hp.c.group_id == group.id)
    total = db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    items = list(
        db.session.scalars(
            select(Product)
            .where(Product.id.in_(ids))
            .order_by(Product.sku)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return Page(items, total, page, per_page)


def counts(group: CustomerGroup) -> tuple[int, int]:
    """(categories ticked, products hidden one by one) for the group's page."""
    hc, hp = group_hidden_categories, group_hidden_products
    return (
        db.session.scalar(select(func.count()).select_from(hc).where(hc.c.group_id == group.id))
        or 0,
        db.session.scalar(select(func.count()).select_from(hp).where(hp.c.group_id == group.id))
        or 0,
    )


def hidden_on_sale(group: CustomerGroup) -> int:
    """How many products on sale the group does not see, by category or one by one: the
    counts the products' triggers keep per category, and the single ones checked."""
    hidden = hidden_for(group.id)
    total = 0
    if hidden.categories:
        total += int(
            db.session.scalar(
                select(func.coalesce(func.sum(catalog_counts.c.sold), 0)).where(
                    catalog_counts.c.category_key.in_(sorted(hidden.categories))
                )
            )
            or 0
        )
    if hidden.products:
        single = [Product.id.in_(sorted(hidden.products)), Product.sold()]
        if hidden.categories:
            single.append(hidden.category_clause())
        total += db.session.scalar(select(func.count()).select_from(Product).where(*single)) or 0
    return total


def groups_hiding(product: Product) -> list[CustomerGroup]:
    """The groups that do not see this product, by name (staff's "hidden from")."""
    above: list[int] = []
    category = product.category
    while category is not None and category.id not in above:
        above.append(category.id)
        category = category.parent
    hc, hp = group_hidden_categories, group_hidden_products
    by_product = select(hp.c.group_id).where(hp.c.product_id == product.id)
    by_category = select(hc.c.group_id).where(hc.c.category_id.in_(above or [-1]))
    return list(
        db.session.scalars(
            select(CustomerGroup)
            .where(CustomerGroup.id.in_(by_product) | CustomerGroup.id.in_(by_category))
            .order_by(CustomerGroup.name)
        )
    )


# --- changing what a group sees -------------------------------------------------------------


def _locked(group: CustomerGroup) -> None:
    """Changes of one group's hidden things queue behind each other (the group's row lock,
    held to the end of the transaction); what they read next, they read with a lock too,
    so that it is the last committed state and not the transaction's older snapshot."""
    db.session.execute(
        select(CustomerGroup.id).where(CustomerGroup.id == group.id).with_for_update()
    )


def _changed(group: CustomerGroup) -> None:
    """Every open page of the group's people gets its regions afresh (live layer)."""
    _forget()
    events.record(db.session, "group_changed", group.id)


def _without_implied(chosen: set[int], parents: dict[int, int | None]) -> set[int]:
    """The chosen categories less those under another chosen one (implied by it), so that
    showing a parent again shows its subcategories too."""
    kept = set()
    for category_id in chosen:
        above, seen = parents.get(category_id), {category_id}
        while above is not None and above not in chosen and above not in seen:
            seen.add(above)
            above = parents.get(above)
        if above is None or above not in chosen:
            kept.add(category_id)
    return kept


def set_categories(
    group: CustomerGroup, category_ids: Iterable[int], *, actor: User, ip: str = ""
) -> bool:
    """The categories hidden from the group become these (each with its subcategories).

    Unknown categories are refused; a category under another chosen one is implied and
    not kept on its own. False: nothing changed.
    """
    parents = dict(db.session.execute(select(Category.id, Category.parent_id)).all())
    wanted = set(category_ids)
    if wanted - set(parents):
        raise FieldRefused(_("Some of the chosen categories do not exist any more."), "categories")
    wanted = _without_implied(wanted, parents)
    _locked(group)
    hc = group_hidden_categories
    before = set(
        db.session.scalars(
            select(hc.c.category_id).where(hc.c.group_id == group.id).with_for_update()
        )
    )
    if wanted == before:
        return False
    gone, new = sorted(before - wanted), sorted(wanted - before)
    if gone:
        db.session.execute(delete(hc).where(hc.c.group_id == group.id, hc.c.category_id.in_(gone)))
    if new:
        db.session.execute(insert(hc), [{"group_id": group.id, "category_id": c} for c in new])
    names = dict(db.session.execute(select(Category.id, Category.name)).all())
    audit.record(
        "group.visibility_changed",
        actor=actor,
        target=group,
        ip=ip,
        summary=f"Hidden categories of {group.name} changed",
        before={"hidden_categories": sorted(names[c] for c in before)},
        after={"hidden_categories": sorted(names[c] for c in wanted)},
    )
    _changed(group)
    return True


def product_by_sku(sku: str) -> Product | None:
    """The product a typed SKU names (any case, surrounding space ignored), sold or not."""
    sku = (sku or "").strip()
    if not sku or len(sku) > SKU_LENGTH:
        return None
    return db.session.scalar(select(Product).where(func.upper(Product.sku) == sku.upper()))


def hide_product(group: CustomerGroup, sku: str, *, actor: User, ip: str = "") -> Product:
    """Hide one product, typed by its SKU, from the group; a wrong SKU is refused."""
    shown = (sku or "").strip()
    if not shown:
        raise FieldRefused(_("Enter the SKU of the product to hide."), "sku")
    product = product_by_sku(shown)
    if product is None:
        raise FieldRefused(
            _("There is no product with the SKU “%(sku)s”.", sku=shown[:SKU_LENGTH]), "sku"
        )
    _locked(group)
    hp = group_hidden_products
    line = (hp.c.group_id == group.id) & (hp.c.product_id == product.id)
    if db.session.scalar(select(hp.c.product_id).where(line).with_for_update()) is not None:
        raise FieldRefused(
            _("%(sku)s is already hidden from %(group)s.", sku=product.sku, group=group.name),
            "sku",
        )
    if hidden_for(group.id).hides_category(product.category_id):
        raise FieldRefused(
            _(
                "%(sku)s is already hidden from %(group)s with its category, %(category)s.",
                sku=product.sku,
                group=group.name,
                category=product.category.name,
            ),
            "sku",
        )
    db.session.execute(insert(hp), [{"group_id": group.id, "product_id": product.id}])
    audit.record(
        "group.visibility_changed",
        actor=actor,
        target=group,
        ip=ip,
        summary=f"{product.sku} hidden from {group.name}",
        after={"hidden_product": product.sku},
    )
    _changed(group)
    return product


def show_product(group: CustomerGroup, product_id: int, *, actor: User, ip: str = "") -> Product:
    """Show a product hidden one by one to the group again (NotFound: it is not hidden)."""
    _locked(group)
    hp = group_hidden_products
    line = (hp.c.group_id == group.id) & (hp.c.product_id == product_id)
    product = db.session.get(Product, product_id)
    held = db.session.scalar(select(hp.c.product_id).where(line).with_for_update())
    if product is None or held is None:
        raise NotFound(_("This product is not hidden from the group."))
    db.session.execute(delete(hp).where(line))
    audit.record(
        "group.visibility_changed",
        actor=actor,
        target=group,
        ip=ip,
        summary=f"{product.sku} shown to {group.name} again",
        before={"hidden_product": product.sku},
    )
    _changed(group)
    return product
