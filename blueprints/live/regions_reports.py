"""Live report regions (`report-<name>`), registered with regions.register and regions.affects.

A report's figures depend on the viewer's filters (range, period size, top N) as well
as their scope and permissions, which the hub does not know. So each report is a list
region: the push is only a refresh signal (no figures, no data), and the region
re-fetches itself through its own view with the page's filters, which applies the
viewer's scope and, for margins, the costs permission all over again.

- `report-sales`, `report-customers`, `report-products`, `report-reps`: sales, on
  order events (placed, moved, cancelled); reps also when assignments change.
- `report-margins`: the same events, only ever signalled to holders of finance.costs.
- `report-ageing`: receivables, on invoice events (issued, paid, credited, voided).
- `report-costs`: the wrapper of the margins region. A list region cannot take figures
  back from a page, so when a role edit takes `finance.costs` away from someone whose
  page shows margins, the hub re-renders this wrapper for them as an empty notice,
  and the figures leave the page at once. Holders of the permission never get it.
"""

import re

from core.events import Event

from .regions import RegionKind, affects, register

COSTS_WITHDRAWN = (
    '<div id="report-costs" class="report report--wide" data-live>'
    '<p class="empty">Margins are no longer shown: your role does not include costs.</p></div>'
)

SALES_REGIONS = frozenset({"report-sales", "report-customers", "report-products", "report-reps"})


def _report_readers(connection):
    v = connection.viewer
    if v.kind != "staff" or "reports.view" not in v.permissions:
        return None
    return ("reports",)


def _margin_readers(connection):
    v = connection.viewer
    if v.kind != "staff" or not {"reports.view", "finance.costs"} <= v.permissions:
        return None
    return ("report-margins",)


register(
    RegionKind(
        "report",
        re.compile(r"report-(?:sales|customers|products|reps|ageing)"),
        _report_readers,
        is_list=True,
    )
)


def _costs_withdrawn(connection):
    v = connection.viewer
    if v.kind != "staff" or "finance.costs" in v.permissions:
        return None
    return ("report-costs",)


def _render_withdrawn(connection, keys) -> dict:
    return dict.fromkeys(keys, COSTS_WITHDRAWN)


register(RegionKind("report-margins", re.compile(r"report-margins"), _margin_readers, is_list=True))
register(
    RegionKind("report-costs", re.compile(r"report-costs"), _costs_withdrawn, _render_withdrawn)
)


@affects("order_changed")
def _sales_reports(event: Event) -> set[str]:
    # A new order, a move or a cancellation: every sales figure may change.
    return {*SALES_REGIONS, "report-margins"}


@affects("invoice_changed")
def _receivables(event: Event) -> set[str]:
    return {"report-ageing"}


@affects("company_reps_changed")
def _attribution(event: Event) -> set[str]:
    # Who is credited changes for everyone; a rep's own scope change is resynced by the hub.
    return {"report-reps"}


@affects("company_changed")
def _company_names(event: Event) -> set[str]:
    return {"report-customers", "report-reps", "report-margins", "report-ageing"}


@affects("product_changed")
def _product_names(event: Event) -> set[str]:
    # Top lists name products as they are called now.
    return {"report-products", "report-margins"}
