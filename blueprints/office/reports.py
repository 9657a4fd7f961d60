"""Financial reports: sales by period, customer, product and rep; margins; receivables ageing.

`/office/reports` shows every report this person may see; each report also has its own
URL, which serves its live region alone to htmx (the region re-fetches itself there
with the page's filters when orders or payments change) and a page of its own
otherwise. Figures are scoped by core.access; margins need `finance.costs` (403).
"""

from flask import abort, request
from flask_login import current_user

from blueprints.common import is_htmx, permission_required, render
from blueprints.filters import money, percent
from core import access, billing, charts, reports

from . import bp

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


# --- the reports ------------------------------------------------------------------------


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


# name -> (endpoint, heading, builder, permission beyond reports.view)
REPORTS = {
    "sales": ("office.report_sales", "Sales by period", sales_context, None),
    "customers": ("office.report_customers", "Sales by customer", customers_context, None),
    "products": ("office.report_products", "Sales by product", products_context, None),
    "reps": ("office.report_reps", "Sales by sales rep", reps_context, None),
    "margins": ("office.report_margins", "Margins", margins_context, "finance.costs"),
    "ageing": ("office.report_ageing", "Receivables ageing", ageing_context, None),
}


def visible_reports() -> list[str]:
    """The reports this person may see, in page order."""
    return [
        name
        for name, (_, _, _, extra) in REPORTS.items()
        if extra is None or access.can(current_user, extra)
    ]


# --- filters and pages -------------------------------------------------------------------


def read_filters() -> tuple[reports.Filters | None, dict]:
    """The filters of the query string, or the messages saying what is wrong with them.

    A live re-fetch (htmx) with bad filters is a clear 400; a page shows the messages
    next to the fields, with what was typed kept.
    """
    try:
        return reports.parse_filters(request.args, billing.today()), {}
    except reports.BadFilters as exc:
        if is_htmx():
            abort(400, description=str(exc))
        return None, exc.errors


def page_context(filters: reports.Filters | None, errors: dict, names: list[str]) -> dict:
    """What every reports page needs around the reports themselves."""
    if filters is not None:
        values = filters.query
    else:
        # What was typed stays in the form, so that nothing is lost while it is corrected.
        values = {key: request.args.get(key, "")[:40] for key in ("from", "to", "by", "top")}
        values["by"] = values["by"] or "month"
        values["top"] = values["top"] or str(reports.DEFAULT_TOP)
    context = {
        "filters": filters,
        "errors": errors,
        "values": values,
        "granularities": reports.GRANULARITIES,
        "period_headings": reports.PERIOD_HEADINGS,
        "top_choices": reports.TOP_CHOICES,
        "scope": reports.scope_names(current_user),
        "reports": {name: REPORTS[name] for name in names},
        "currency": CURRENCY,
        "span": span_text(filters) if filters else "",
        "presets": [
            (label, preset.query)
            for label, preset in reports.presets(
                billing.today(), filters.top if filters else reports.DEFAULT_TOP
            )
        ],
    }
    if filters is not None:
        for name in names:
            context.update(REPORTS[name][2](filters))
    return context


def answer(page: str, fragment: str | None, names: list[str], **extra):
    """Render a reports page (or one region for htmx); 400 when the filters are wrong."""
    filters, errors = read_filters()
    response = render(page, fragment, **page_context(filters, errors, names), **extra)
    if errors:
        response.status_code = 400
    return response


@bp.route("/reports", endpoint="reports")
@permission_required("reports.view")
def reports_index():
    """Every report this person may see, for one range, scoped to their customers."""
    return answer("office/reports/index.html", None, visible_reports())


def one_report(name: str):
    """One report: its live region for htmx, else a page of its own with the filters."""
    return answer(
        "office/reports/report.html",
        f"office/reports/_{name}.html",
        [name],
        report=name,
        name=name,
    )


@bp.route("/reports/sales", endpoint="report_sales")
@permission_required("reports.view")
def report_sales():
    """Revenue and orders per day, week or month, with totals."""
    return one_report("sales")


@bp.route("/reports/customers", endpoint="report_customers")
@permission_required("reports.view")
def report_customers():
    """The top customers by revenue, the others summed."""
    return one_report("customers")


@bp.route("/reports/products", endpoint="report_products")
@permission_required("reports.view")
def report_products():
    """The top products by revenue, the others summed."""
    return one_report("products")


@bp.route("/reports/reps", endpoint="report_reps")
@permission_required("reports.view")
def report_reps():
    """Revenue per sales rep (and of customers with none)."""
    return one_report("reps")


@bp.route("/reports/margins", endpoint="report_margins")
@permission_required("reports.view")
@permission_required("finance.costs")
def report_margins():
    """Revenue, cost, margin and margin % by period, customer and product."""
    return one_report("margins")


@bp.route("/reports/ageing", endpoint="report_ageing")
@permission_required("reports.view")
def report_ageing():
    """Open invoices by days overdue, per company and in total."""
    return one_report("ageing")
