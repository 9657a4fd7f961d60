"""Live report regions (`report-<name>`), with each report's figures and charts.

A report's figures depend on the viewer's filters (range, period size, top N) as well
as their scope and permissions, which the live engine does not know. So each report is
a list region: the push is only a refresh signal (no figures, no data), and the region
re-fetches itself through its own view with the page's filters, which applies the
viewer's scope and, for margins, the costs permission all over again. The builders
below are what that view renders with.

- `report-sales`, `report-customers`, `report-products`, `report-reps`: sales, on
  order events (placed, moved, cancelled); reps also when assignments change.
- `report-margins`: the same events, only ever signalled to holders of finance.costs.
- `report-ageing`: receivables, on invoice events (issued, paid, credited, voided).
- `report-costs`: the wrapper of the margins region. A list region cannot take figures
  back from a page, so when a role edit takes `finance.costs` away from someone whose
  page shows margins, the engine re-renders this wrapper for them as an empty notice,
  and the figures leave the page at once. Holders of the permission never get it.
"""

import re

from flask_login import current_user

from blueprints.filters import money, percent
from core import billing, charts, reports
from core.events import Event

from .registry import RegionKind, affects, register

CURRENCY = "EUR"
UNIT = "€"
# Chart widths in SVG units, near their width on screen, so that text keeps its size.
HALF_WIDTH, FULL_WIDTH = 560, 1100


def plural(count: int, noun: str) -> str:
    """'1 order', '3 orders'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def span_text(filters: reports.Filters) -> str:
    """The range in words, both days included."""
    return f"{filters.start:%d %b %Y} to {filters.end:%d %b %Y}"


# --- the reports' figures and charts --------------------------------------------------


def sales_context(filters: reports.Filters) -> dict:
    """Sales by period with its bar chart."""
    sales = reports.sales_by_period(current_user, filters)
    scale = filters.granularity
    bars = [
        charts.Bar(
            row.period.long,
            row.revenue,
            f"{row.period.long}: {money(row.revenue, CURRENCY)} from {plural(row.orders, 'order')}",
            row.period.short,
        )
        for row in sales.rows
    ]
    best = sales.best
    desc = (
        f"One bar per {scale} from {span_text(filters)}. In all "
        f"{money(sales.revenue, CURRENCY)} from {plural(sales.orders, 'order')}"
        + (
            f"; the best {scale} was {best.period.long} with {money(best.revenue, CURRENCY)}."
            if best
            else "."
        )
    )
    chart = charts.bar_chart(
        "chart-sales",
        bars,
        title=f"Revenue per {scale}",
        desc=desc,
        x_label=scale.capitalize(),
        y_label=f"Revenue ({UNIT})",
        unit=UNIT,
    )
    return {"sales": sales, "sales_chart": chart}


def ranking_chart(chart_id: str, ranking: reports.Ranking, what: str, filters) -> object:
    """Horizontal bars of a top list (the rest is in the table only: it would dwarf them)."""
    bars = [
        charts.Bar(
            row.label,
            row.revenue,
            f"{row.label}{f' ({row.detail})' if row.detail else ''}: "
            f"{money(row.revenue, CURRENCY)}, {percent(row.share)} of sales",
            row.detail,
        )
        for row in ranking.rows
    ]
    lead = ranking.rows[0] if ranking.rows else None
    desc = f"The {len(ranking.rows)} {what} with the highest revenue from {span_text(filters)}" + (
        f"; first is {lead.label} with {money(lead.revenue, CURRENCY)}." if lead else "."
    )
    return charts.hbar_chart(
        chart_id,
        bars,
        title=f"Top {what} by revenue",
        desc=desc,
        x_label=f"Revenue ({UNIT})",
        unit=UNIT,
        width=HALF_WIDTH,
    )


def customers_context(filters: reports.Filters) -> dict:
    """Sales by customer: the top N, the rest summed."""
    ranking = reports.sales_by_customer(current_user, filters)
    return {
        "customers": ranking,
        "customers_chart": ranking_chart("chart-customers", ranking, "customers", filters),
    }


def products_context(filters: reports.Filters) -> dict:
    """Sales by product: the top N, the rest summed."""
    ranking = reports.sales_by_product(current_user, filters)
    return {
        "products": ranking,
        "products_chart": ranking_chart("chart-products", ranking, "products", filters),
    }


def reps_context(filters: reports.Filters) -> dict:
    """Sales by rep, each rep credited in full for the customers assigned to them."""
    found = reports.sales_by_rep(current_user, filters)
    rows = found.rows + ([found.unassigned] if found.unassigned else [])
    bars = [
        charts.Bar(
            row.name,
            row.revenue,
            f"{row.name}: {money(row.revenue, CURRENCY)} from {plural(row.orders, 'order')} "
            f"of {plural(row.customers, 'customer')}",
        )
        for row in rows
    ]
    chart = charts.hbar_chart(
        "chart-reps",
        bars,
        title="Revenue by sales rep",
        desc=f"Revenue of each sales rep's customers from {span_text(filters)}; a customer "
        "with several reps counts in full for each.",
        x_label=f"Revenue ({UNIT})",
        unit=UNIT,
    )
    return {"reps": found, "rep_rows": rows, "reps_chart": chart}


def margins_context(filters: reports.Filters) -> dict:
    """Margins by period, customer and product; only ever built for finance.costs."""
    found = reports.margins(current_user, filters)
    scale = filters.granularity
    bars = [
        charts.Bar(
            row.key.long,
            row.margin,
            f"{row.key.long}: margin {money(row.margin, CURRENCY)} "
            f"({percent(row.percent)}) on {money(row.revenue, CURRENCY)} of sales",
            row.detail,
        )
        for row in found.by_period
    ]
    chart = charts.bar_chart(
        "chart-margins",
        bars,
        title=f"Margin per {scale}",
        desc=f"One bar per {scale} from {span_text(filters)}: revenue less cost. In all "
        f"{money(found.total.margin, CURRENCY)}, {percent(found.total.percent)} of "
        f"{money(found.total.revenue, CURRENCY)}. Negative margins are drawn below the axis.",
        x_label=scale.capitalize(),
        y_label=f"Margin ({UNIT})",
        unit=UNIT,
    )
    return {"margins": found, "margins_chart": chart}


def ageing_context(filters: reports.Filters) -> dict:
    """Open invoices by days overdue, per company and in total, as of today."""
    found = reports.ageing(current_user, billing.today(), filters.top)
    names = [label for _, label in reports.AGEING_BUCKETS]

    def stack(label: str, amounts) -> charts.StackRow:
        return charts.StackRow(
            label,
            amounts,
            [
                f"{label}, {name}: {money(a, CURRENCY)}"
                for name, a in zip(names, amounts, strict=True)
            ],
            charts.compact(float(sum(amounts)), UNIT),
        )

    rows = [stack("All companies", found.totals)] if found.invoices else []
    rows += [stack(r.name, r.amounts) for r in found.rows]
    chart = charts.stacked_bars(
        "chart-ageing",
        rows,
        names,
        title=f"Receivables by days overdue on {found.on:%d %b %Y}",
        desc=f"{money(found.total, CURRENCY)} is owed on {plural(found.invoices, 'open invoice')}, "
        f"of which {money(found.overdue, CURRENCY)} is overdue. The first bar is every company; "
        "then one per company, the latest payers first.",
        x_label=f"Owed ({UNIT})",
        unit=UNIT,
        width=FULL_WIDTH,
    )
    return {"ageing": found, "ageing_chart": chart, "buckets": reports.AGEING_BUCKETS}


# name -> (endpoint, heading, context builder); who may see each is core.access.REPORTS.
REPORTS = {
    "sales": ("office.report_sales", "Sales by period", sales_context),
    "customers": ("office.report_customers", "Sales by customer", customers_context),
    "products": ("office.report_products", "Sales by product", products_context),
    "reps": ("office.report_reps", "Sales by sales rep", reps_context),
    "margins": ("office.report_margins", "Margins", margins_context),
    "ageing": ("office.report_ageing", "Receivables ageing", ageing_context),
}


# --- the regions -------------------------------------------------------------------------

COSTS_WITHDRAWN = (
    '<div id="report-costs" class="report report--wide" data-live>'
    '<p class="empty">Margins are no longer shown: your role does not include costs.</p></div>'
)
SALES_REGIONS = frozenset({"report-sales", "report-customers", "report-products", "report-reps"})


def _render_withdrawn(connection, keys) -> dict:
    return dict.fromkeys(keys, COSTS_WITHDRAWN)


register(
    RegionKind(
        "report",
        re.compile(r"report-(?:sales|customers|products|reps|ageing)"),
        is_list=True,
    )
)
register(RegionKind("report-margins", re.compile(r"report-margins"), is_list=True))
register(RegionKind("report-costs", re.compile(r"report-costs"), _render_withdrawn))


@affects("order_changed")
def _sales_reports(event: Event) -> set[str]:
    # A new order, a move or a cancellation: every sales figure may change.
    return {*SALES_REGIONS, "report-margins"}


@affects("invoice_changed")
def _receivables(event: Event) -> set[str]:
    return {"report-ageing"}


@affects("company_reps_changed")
def _attribution(event: Event) -> set[str]:
    # Who is credited changes for everyone; a rep's own scope change is resynced by the engine.
    return {"report-reps"}


@affects("company_changed")
def _company_names(event: Event) -> set[str]:
    return {"report-customers", "report-reps", "report-margins", "report-ageing"}


@affects("product_changed")
def _product_names(event: Event) -> set[str]:
    # Top lists name products as they are called now.
    return {"report-products", "report-margins"}
