"""The live navigation (`nav`): the modules a person may open, re-rendered when their
rights change (a role edited, a role given or taken)."""

import re
from typing import NamedTuple

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import access

from .registry import RegionKind, register, rendering_as

NAV = "_nav.html"

# The storefront's menu: area (core.access.SHOP_AREAS) -> (endpoint, label).
SHOP_MENU = {
    "catalog": ("shop.catalog", _l("Catalogue")),
    "cart": ("shop.cart", _l("Cart")),
    "approvals": ("shop.approvals", _l("Approvals")),
    "orders": ("shop.orders", _l("Orders")),
    "quotes": ("shop.quotes", _l("Quotes")),
    "invoices": ("shop.invoices", _l("Invoices")),
    "users": ("shop.users", _l("People")),
    "addresses": ("shop.addresses", _l("Addresses")),
    "lists": ("shop.lists", _l("Lists")),
}
# Pages shown beside an area's entry, to whoever sees the area.
SHOP_BESIDE = {"cart": (("shop.quick_order", _l("Quick order")),)}

# The back office's sidebar: its areas in order, each with its modules (core.access.MODULES
# keys, and `imports` and `jobs`, which are no modules of their own) in order. A module
# with a page that no area names still shows, under the last area.
OFFICE_AREAS = (
    ("sales", _l("Sales"), ("orders", "quotes", "invoices", "customers", "tasks")),
    ("catalogue", _l("Catalogue"), ("products", "stock", "promotions", "groups")),
    ("operations", _l("Operations"), ("shipping", "imports")),
    (
        "admin",
        _l("Administration"),
        ("reports", "users", "roles", "settings", "jobs", "webhooks", "audit"),
    ),
)

# Back-office modules whose page is not named after them: the first of these that exists.
OFFICE_ENTRIES = {
    "shipping": ("office.shipping", "office.shipments", "office.shipping_methods"),
    "imports": ("office.imports_page",),
    "jobs": ("office.jobs_page",),
    "webhooks": ("auth.webhooks_list",),
    "tasks": ("office.tasks_page",),
}


class NavArea(NamedTuple):
    """One group of the navigation: `label` None for an ungrouped list."""

    key: str
    label: str | None
    links: list[tuple[str, str]]


def _office_links() -> dict[str, tuple[str, str]]:
    """Module key -> (endpoint, label) of the back-office modules this person may open."""
    endpoints = current_app.view_functions
    modules = [(m.key, m.label) for m in access.nav_modules(current_user)]
    if any(access.may_import(current_user, kind) for kind in access.IMPORTS):
        modules.append(("imports", _l("Imports")))
    if access.may_see_jobs(current_user):
        modules.append(("jobs", _l("Background jobs")))
    links = {}
    for key, label in modules:
        entries = OFFICE_ENTRIES.get(key, (f"office.{key}",))
        endpoint = next((e for e in entries if e in endpoints), None)
        if endpoint is not None:
            links[key] = (endpoint, label)
    return links


def nav_items(face: str) -> list[NavArea]:
    """The areas, with their links, of the modules the signed-in person may open and that
    exist; areas with nothing to open are left out."""
    endpoints = current_app.view_functions
    if face == "office":
        links = _office_links()
        areas = [NavArea("start", None, [("office.dashboard", _l("Overview"))])]
        for key, label, modules in OFFICE_AREAS:
            areas.append(NavArea(key, label, [links.pop(m) for m in modules if m in links]))
        areas[-1].links.extend(links.values())  # a module no area names yet
        return [area for area in areas if area.links]
    areas = access.shop_areas(current_user)
    menu = [entry for area in areas for entry in (SHOP_MENU[area], *SHOP_BESIDE.get(area, ()))]
    return [NavArea("shop", None, [(e, label) for e, label in menu if e in endpoints])]


def _render_nav(connection, _keys) -> dict:
    with rendering_as(connection):
        return {"nav": render_template(NAV, live_page=connection.page)}


register(RegionKind("nav", re.compile(r"nav"), _render_nav, per_page=True))
