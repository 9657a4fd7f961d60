"""Financial reports: sales by period, customer, product and rep; margins; receivables ageing.

`/office/reports` shows every report this person may see; each report also has its own
URL, which serves its live region alone to htmx (the region re-fetches itself there
with the page's filters when orders or payments change) and a page of its own
otherwise. Figures are scoped by core.access; margins need `finance.costs` (403).
"""

from flask import abort, request
from flask_login import current_user

from blueprints.common import is_htmx, permission_required, render
from blueprints.fragments.reports import CURRENCY, REPORTS, span_text
from core import access, billing, i18n, reports

from . import bp

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


def period_start(period: reports.Period) -> str:
    """Where a period cut by the range starts: its day, and its month when it ends in
    another one ("28", "28 Nov")."""
    if period.start.month != period.end.month:
        return i18n.format_pattern(period.start, "d MMM")
    return str(period.start.day)


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
        "period_start": period_start,
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
    context = page_context(filters, errors, names)
    return render(page, fragment, code=400 if errors else 200, **context, **extra)


@bp.route("/reports", endpoint="reports")
@permission_required("reports.view")
def reports_index():
    """Every report this person may see, for one range, scoped to their customers."""
    return answer("office/reports/index.html", None, access.visible_reports(current_user))


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
