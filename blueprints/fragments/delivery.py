"""Live regions of delivery: a company's address book (both faces), the shipping methods.

- `addresses-<company>`: the company's delivery addresses, default first, with the
  actions its viewer may take: the storefront's address page (its keepers, with
  `shop.addresses`) and the back office's customer page (staff who see the company;
  actions with `customers.edit`). Rendered per audience, always loaded through the
  viewer's own scope: a company out of scope renders as nothing.
- `shipping-methods-table`: the back office's list of shipping methods (a list: it
  re-fetches itself through its view).

A change to the book (`addresses_changed`) re-renders it, and makes the open carts of
the company re-fetch themselves (their checkout offers the addresses); a change to the
shipping methods (`shipping_method_changed`) makes every open cart re-fetch itself.
"""

import re

from flask import render_template
from sqlalchemy import select

from core import access, addresses
from core.events import Event
from core.models import Cart, Company
from extensions import db

from .registry import RegionKind, affects, register, rendering_as

BOOK = "addresses/_book.html"


def face_of(user) -> str:
    return "office" if user.is_staff else "shop"


def book_context(company: Company, user, **extra) -> dict:
    """What the address book shows this person, in either face."""
    face = face_of(user)
    keeper = "customers.edit" if face == "office" else "shop.addresses"
    return {
        "company": company,
        "address_book": addresses.book(company.id),
        "address_face": face,
        "may_keep_addresses": access.can(user, keeper),
        **extra,
    }


def _render_books(connection, company_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        if user is None:
            return {}
        if user.is_customer and not access.can(user, "shop.addresses"):
            return {}
        if user.is_staff and not access.can(user, "customers.view"):
            return {}
        found = {}
        for company_id in company_ids:
            company = access.load_company(user, company_id)
            if company is not None:
                # Pushed forms carry no CSRF field: htmx sends the page's token in a header.
                found[company_id] = render_template(
                    BOOK, **book_context(company, user), pushed=True
                )
        return found


register(RegionKind("addresses", re.compile(r"addresses-(\d+)"), _render_books))
register(RegionKind("shipping-methods-table", re.compile(r"shipping-methods-table"), is_list=True))


def _open_carts(company_id: int | None = None) -> set[str]:
    stmt = select(Cart.owner_id).where(Cart.status == "open").distinct()
    if company_id is not None:
        stmt = stmt.where(Cart.company_id == company_id)
    return {f"my-cart-{owner}" for owner in db.session.scalars(stmt)}


@affects("addresses_changed")
def _book_regions(event: Event) -> set[str]:
    return {f"addresses-{event.id}"} | _open_carts(event.id)


@affects("shipping_method_changed")
def _methods_and_carts(event: Event) -> set[str]:
    return {"shipping-methods-table"} | _open_carts()
