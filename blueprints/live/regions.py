"""The live regions: which events touch which regions, and how each renders per audience.

A region is a piece of a page with a stable id (`offer-12`, `nav`, `catalog-results`).
Fragment regions are rendered here with the same partial the page includes; list
regions (whose membership changes) get a refresh signal and re-fetch themselves
through their own scoped view, so a list never shows a row its viewer may not see.
"""

import re
from collections.abc import Callable, Hashable
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, g, render_template
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core import access
from core.events import Event
from core.models import (
    Category,
    CustomerGroup,
    Product,
    User,
    promotion_categories,
    promotion_products,
    user_roles,
)
from core.offer import offers_for
from extensions import db

# Events that change who may see what: the hub reloads the viewers they concern.
ACCESS_TOPICS = frozenset(
    {
        "user_blocked",
        "user_changed",
        "role_changed",
        "company_reps_changed",
        "company_changed",
        "group_changed",
        "sessions_revoked",
    }
)
# Access events after which the viewers concerned get all their regions afresh, even when
# their rights did not change: their offer did (new reps' lists, a group's new policy).
RESYNC_TOPICS = frozenset({"company_reps_changed", "group_changed"})
MAX_WATCHED = 400
REGION_ID = re.compile(r"^[a-z][a-z-]{0,40}(?:-\d{1,12})?$")


@dataclass(frozen=True)
class RegionKind:
    """One kind of live region: how to recognise its ids, group viewers, and render it."""

    name: str
    pattern: re.Pattern
    audience: Callable[[object], Hashable | None]  # None: this viewer never gets it
    render: Callable[[object, list], dict[object, str]] | None = None  # key -> html
    is_list: bool = False

    def key_of(self, region_id: str):
        match = self.pattern.fullmatch(region_id)
        if not match:
            return None
        return int(match.group(1)) if match.groups() else region_id


@contextmanager
def rendering_as(connection):
    """A request context whose current_user is this socket's person, loaded fresh."""
    with current_app.test_request_context("/"):
        user = db.session.scalar(
            select(User)
            .where(User.id == connection.viewer.user_id)
            .options(joinedload(User.company), joinedload(User.roles))
        )
        g._login_user = user
        yield user


def _render_offers(connection, product_ids: list[int]) -> dict:
    group = db.session.get(CustomerGroup, connection.viewer.group_id)
    products = list(
        db.session.scalars(select(Product).where(Product.id.in_(product_ids), Product.sold()))
    )
    offers = offers_for(group, products)
    with rendering_as(connection):
        return {
            p.id: render_template("shop/catalog/_offer.html", product=p, offer=offers[p.id])
            for p in products
        }


def _render_product_rows(connection, product_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        products = db.session.scalars(
            select(Product).where(Product.id.in_(product_ids)).options(joinedload(Product.category))
        )
        return {
            p.id: render_template(
                "office/products/_row.html",
                product=p,
                show_costs=access.can(user, "finance.costs"),
                show_stock=access.can(user, "stock.view"),
            )
            for p in products
        }


def _render_stock_levels(connection, product_ids: list[int]) -> dict:
    with rendering_as(connection):
        products = db.session.scalars(select(Product).where(Product.id.in_(product_ids)))
        return {p.id: render_template("office/stock/_level.html", product=p) for p in products}


def _render_nav(connection, _keys) -> dict:
    with rendering_as(connection):
        return {"nav": render_template("_nav.html", live_page=connection.page)}


def _customer_group(connection):
    v = connection.viewer
    return ("group", v.group_id) if v.kind == "customer" else None


def _staff_with(permission: str, *fields: str):
    def audience(connection):
        v = connection.viewer
        if v.kind != "staff" or permission not in v.permissions:
            return None
        return (permission, *(f in v.permissions for f in fields))

    return audience


def _customers(connection):
    return ("customers",) if connection.viewer.kind == "customer" else None


KINDS: list[RegionKind] = [
    RegionKind("offer", re.compile(r"offer-(\d+)"), _customer_group, _render_offers),
    RegionKind(
        "product-row",
        re.compile(r"product-(\d+)"),
        _staff_with("products.view", "finance.costs", "stock.view"),
        _render_product_rows,
    ),
    RegionKind(
        "stock-level", re.compile(r"stock-(\d+)"), _staff_with("stock.view"), _render_stock_levels
    ),
    RegionKind(
        "nav",
        re.compile(r"nav"),
        lambda c: ("nav", c.viewer.kind, c.viewer.permissions, c.page),
        _render_nav,
    ),
    RegionKind("catalog-results", re.compile(r"catalog-results"), _customers, is_list=True),
    RegionKind(
        "products-table", re.compile(r"products-table"), _staff_with("products.view"), is_list=True
    ),
    RegionKind(
        "customers-table",
        re.compile(r"customers-table"),
        _staff_with("customers.view"),
        is_list=True,
    ),
]
_AFFECTS: dict[str, list[Callable[[Event], set[str]]]] = {}


def register(kind: RegionKind) -> RegionKind:
    """Add a region kind (each trade area registers its own, see regions_*.py)."""
    # A list's refresh signal names the region by its key: keyed by the whole id, never
    # by a captured number, or the page would be told to refresh "3".
    if kind.is_list and kind.pattern.groups:
        raise ValueError(f"list region {kind.name!r} must not capture a key: {kind.pattern}")
    KINDS.append(kind)
    return kind


def affects(*topics: str):
    """Decorator: `fn(event) -> region ids` says which regions these topics change."""

    def decorator(fn):
        for topic in topics:
            _AFFECTS.setdefault(topic, []).append(fn)
        return fn

    return decorator


def kind_of(region_id: str) -> tuple[RegionKind, object] | tuple[None, None]:
    for kind in KINDS:
        key = kind.key_of(region_id)
        if key is not None:
            return kind, key
    return None, None


def clean_watch_list(raw) -> frozenset[str]:
    """The region ids a page says it shows: well-formed, known, and not too many."""
    if not isinstance(raw, list):
        return frozenset()
    ids = [r for r in raw[:MAX_WATCHED] if isinstance(r, str) and REGION_ID.match(r)]
    return frozenset(r for r in ids if kind_of(r)[0] is not None)


def affected(event: Event) -> set[str]:
    """The region ids an event may change."""
    found: set[str] = set()
    for fn in _AFFECTS.get(event.topic, ()):
        found |= fn(event)
    return found


@affects("stock_changed", "product_changed", "price_changed")
def _product_regions(event: Event) -> set[str]:
    return {f"offer-{event.id}", f"product-{event.id}", f"stock-{event.id}"}


def products_of_promotion(promotion_id: int) -> set[int]:
    """Products a promotion covers, directly or through its categories (and their children)."""
    direct = set(
        db.session.scalars(
            select(promotion_products.c.product_id).where(
                promotion_products.c.promotion_id == promotion_id
            )
        )
    )
    categories = select(promotion_categories.c.category_id).where(
        promotion_categories.c.promotion_id == promotion_id
    )
    children = select(Category.id).where(Category.parent_id.in_(categories))
    via_category = set(
        db.session.scalars(
            select(Product.id).where(
                Product.category_id.in_(categories) | Product.category_id.in_(children)
            )
        )
    )
    return direct | via_category


@affects("promotion_changed")
def _promotion_offers(event: Event) -> set[str]:
    return {f"offer-{pid}" for pid in products_of_promotion(event.id)}


@affects("product_created", "product_removed")
def _catalogue_lists(event: Event) -> set[str]:
    return {"catalog-results", "products-table"}


@affects("company_reps_changed")
def _customer_lists(event: Event) -> set[str]:
    return {"customers-table"}


def parse_watch(watching: frozenset[str]) -> dict[str, tuple[RegionKind, object]]:
    """Each watched region id with its kind and key, parsed once when the page says so."""
    parsed = {}
    for region_id in watching:
        kind, key = kind_of(region_id)
        if kind is not None:
            parsed[region_id] = (kind, key)
    return parsed


def watched_keys(parsed: dict, region_ids) -> dict[RegionKind, list]:
    """The keys, by kind, of the given regions that a socket watches."""
    found: dict[RegionKind, list] = {}
    for region_id in region_ids:
        hit = parsed.get(region_id)
        if hit is not None:
            found.setdefault(hit[0], []).append(hit[1])
    return found


def concerned(event: Event, connections: list) -> list:
    """The sockets whose viewer an access event may have changed."""
    if event.topic in ("user_blocked", "user_changed", "sessions_revoked"):
        return [c for c in connections if c.viewer.user_id == event.id]
    if event.topic == "role_changed":
        holders = set(
            db.session.scalars(select(user_roles.c.user_id).where(user_roles.c.role_id == event.id))
        )
        return [c for c in connections if c.viewer.user_id in holders]
    if event.topic == "company_reps_changed":
        return [c for c in connections if c.viewer.kind == "staff" and c.viewer.scope is not None]
    if event.topic == "company_changed":
        return [c for c in connections if c.viewer.company_id == event.id]
    if event.topic == "group_changed":
        return [
            c for c in connections if c.viewer.kind == "customer" and c.viewer.group_id == event.id
        ]
    return []


def refresh_signal(kind: RegionKind, region_id: str) -> str:
    """Tells the page to re-fetch one list region through its own (scoped) view."""
    return f'<div id="live-signal" hidden data-refresh="{escape(region_id)}"></div>'


def signed_out() -> str:
    return (
        '<div id="live-status" class="live-status" role="alert">'
        'You have been signed out. <a href="/login">Sign in again</a></div>'
    )
