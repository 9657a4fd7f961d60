"""The live navigation (`nav`): the modules a person may open, re-rendered when their
rights change (a role edited, a role given or taken)."""

import re

from flask import current_app, render_template
from flask_login import current_user

from core import access

from .registry import RegionKind, register, rendering_as

NAV = "_nav.html"

# The storefront's menu: area (core.access.SHOP_AREAS) -> (endpoint, label).
SHOP_MENU = {
    "catalog": ("shop.catalog", "Catalogue"),
    "cart": ("shop.cart", "Cart"),
    "approvals": ("shop.approvals", "Approvals"),
    "orders": ("shop.orders", "Orders"),
    "quotes": ("shop.quotes", "Quotes"),
    "invoices": ("shop.invoices", "Invoices"),
    "users": ("shop.users", "People"),
    "addresses": ("shop.addresses", "Addresses"),
}

# Back-office modules whose page is not named after them: the first of these that exists.
OFFICE_ENTRIES = {
    "shipping": ("office.shipping", "office.shipments", "office.shipping_methods"),
}


def nav_items(face: str) -> list[tuple[str, str]]:
    """(endpoint, label) of the modules the signed-in person may open and that exist."""
    endpoints = current_app.view_functions
    if face == "office":
        items = [("office.dashboard", "Overview")]
        for module in access.nav_modules(current_user):
            entries = OFFICE_ENTRIES.get(module.key, (f"office.{module.key}",))
            endpoint = next((e for e in entries if e in endpoints), None)
            if endpoint is not None:
                items.append((endpoint, module.label))
        return items
    menu = (SHOP_MENU[area] for area in access.shop_areas(current_user))
    return [(endpoint, label) for endpoint, label in menu if endpoint in endpoints]


def _render_nav(connection, _keys) -> dict:
    with rendering_as(connection):
        return {"nav": render_template(NAV, live_page=connection.page)}


register(RegionKind("nav", re.compile(r"nav"), _render_nav, per_page=True))
