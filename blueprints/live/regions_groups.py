"""Live regions of customers and groups (registered with regions.register and regions.affects).

- `customer-<id>`: a company's group and terms panel on its back-office page, rendered
  through the viewer's own scope (a company out of scope renders as nothing).
- `customer-account-<id>`: a company's balance and credit notes (a list: it re-fetches).
- `groups-table`: the list of customer groups with their company counts (a list).
- `customers-table` (declared in regions.py) also refreshes when companies come, go or
  change.

A group's policy change (`group_changed`) and a company's move to another group
(`company_changed`) re-render their customers' open pages through the access path of
regions.concerned / hub._access_changed: the viewers are reloaded and resynced.
"""

import re

from flask import render_template

from core import access, groups
from core.events import Event

from .regions import RegionKind, affects, register, rendering_as


def _terms_audience(connection):
    # What changes the panel: the person's scope, and their permissions (its links).
    v = connection.viewer
    if v.kind != "staff" or "customers.view" not in v.permissions:
        return None
    return ("customer", v.scope, v.permissions)


def _render_terms(connection, company_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        if not access.can(user, "customers.view"):
            return {}
        found = {}
        for company_id in company_ids:
            company = access.load_company(user, company_id)
            if company is not None:
                found[company_id] = render_template(
                    "office/customers/_terms.html",
                    company=company,
                    group=company.group,
                    group_prices=groups.price_count(company.group_id),
                )
        return found


def _account_lists(connection):
    v = connection.viewer
    if v.kind == "staff" and {"customers.view", "invoices.view"} <= v.permissions:
        return ("customer-account",)
    return None


def _groups_lists(connection):
    v = connection.viewer
    return ("groups-table",) if v.kind == "staff" and "groups.view" in v.permissions else None


register(RegionKind("customer", re.compile(r"customer-(\d+)"), _terms_audience, _render_terms))
register(
    RegionKind(
        "customer-account", re.compile(r"customer-account-\d+"), _account_lists, is_list=True
    )
)
register(RegionKind("groups-table", re.compile(r"groups-table"), _groups_lists, is_list=True))


def _company_of(event: Event) -> int | None:
    return dict(event.data).get("company")


@affects("company_created", "company_removed")
def _company_lists(event: Event) -> set[str]:
    return {"customers-table", "groups-table"}


@affects("company_changed")
def _company_regions(event: Event) -> set[str]:
    return {f"customer-{event.id}", "customers-table", "groups-table"}


@affects("group_created", "group_changed", "group_removed")
def _group_lists(event: Event) -> set[str]:
    return {"groups-table"}


@affects("invoice_changed", "credit_note_issued")
def _account_regions(event: Event) -> set[str]:
    company = _company_of(event)
    return {f"customer-account-{company}"} if company is not None else set()


@affects("credit_note_issued")
def _credit_balances(event: Event) -> set[str]:
    # A credit note on the company's account changes its balance and invoice lists too.
    return {"balance", "invoices-table", "shop-invoices"}
