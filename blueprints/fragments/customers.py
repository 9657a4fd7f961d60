"""Live regions of customer companies and groups.

- `customer-<id>`: a company's group and terms panel on its back-office page, rendered
  through the viewer's own scope (a company out of scope renders as nothing).
- `customer-account-<id>`: a company's balance and credit notes (a list: it re-fetches).
- `customers-table` and `groups-table`: lists of companies and of customer groups.
- `group-prices-<group>`: one group's price list (a list: it re-fetches, and its view
  answers 204 while what it shows is unchanged; portal.js keeps rows being edited).

A group's policy change (`group_changed`) and a company's move to another group
(`company_changed`) re-render their customers' open pages through the live engine's
access path: those viewers are reloaded and resynced.
"""

import re

from flask import render_template
from sqlalchemy import select

from core import access, billing, credit_notes, customers, groups
from core.events import Event
from core.models import Company, CustomerGroup
from core.pagination import paginate
from extensions import db

from .registry import RegionKind, affects, register, rendering_as

TERMS = "office/customers/_terms.html"
ACCOUNT = "office/customers/_account.html"
NOTES_PER_PAGE = 10


def terms_context(company: Company) -> dict:
    """What the company's group-and-terms panel shows."""
    return {
        "company": company,
        "group": company.group,
        "group_prices": groups.price_count(company.group_id),
        # A limit needs two decision-makers; with fewer, orders above it wait at "1 of 2".
        "short_of_deciders": company.approval_limit is not None
        and customers.decision_makers(company).short,
    }


def account_context(company: Company, page: int = 1) -> dict:
    """The company's account: balance and credit notes, newest first, a page at a time."""
    return {
        "company": company,
        "summary": billing.balance(company.id, billing.today()),
        "notes": paginate(credit_notes.of_company(company.id), page, NOTES_PER_PAGE),
    }


def _render_terms(connection, company_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        if not access.can(user, "customers.view"):
            return {}
        found = {}
        for company_id in company_ids:
            company = access.load_company(user, company_id)
            if company is not None:
                found[company_id] = render_template(TERMS, **terms_context(company))
        return found


register(RegionKind("customer", re.compile(r"customer-(\d+)"), _render_terms))
for _name, _pattern in (
    ("customer-account", r"customer-account-\d+"),
    ("customers-table", r"customers-table"),
    ("groups-table", r"groups-table"),
    ("group-prices", r"group-prices-\d+"),
):
    register(RegionKind(_name, re.compile(_pattern), is_list=True))


def _company_of(event: Event) -> int | None:
    return dict(event.data).get("company")


@affects("company_created", "company_removed")
def _company_lists(event: Event) -> set[str]:
    return {"customers-table", "groups-table"}


@affects("company_changed")
def _company_regions(event: Event) -> set[str]:
    return {f"customer-{event.id}", "customers-table", "groups-table"}


@affects("company_reps_changed")
def _customer_lists(event: Event) -> set[str]:
    return {"customers-table"}


@affects("group_created", "group_changed", "group_removed")
def _group_lists(event: Event) -> set[str]:
    return {"groups-table"}


@affects("group_changed")
def _group_price_list(event: Event) -> set[str]:
    # A group's prices saved in bulk (or its name changed): its own list.
    return {f"group-prices-{event.id}"}


@affects(
    "price_changed", "product_changed", "product_created", "product_removed", "catalogue_changed"
)
def _every_price_list(event: Event) -> set[str]:
    # Every group's list shows each product with its base price: all of them may change.
    # Those whose page shows nothing new answer 204 to their re-fetch.
    return {f"group-prices-{gid}" for gid in db.session.scalars(select(CustomerGroup.id))}


@affects("invoice_changed", "credit_note_issued")
def _account_regions(event: Event) -> set[str]:
    company = _company_of(event)
    return {f"customer-account-{company}"} if company is not None else set()
