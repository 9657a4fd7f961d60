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

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import escape

from blueprints.filters import money, percent
from core import billing, charts, i18n, reports
from core.events import Event

from .registry import RegionKind, affects, register, rendering_as

CURRENCY = "EUR"
UNIT = "€"
# Chart widths in SVG units, near their width on screen, so that text keeps its size.
HALF_WIDTH, FULL_WIDTH = 560, 1100


def orders_text(count: int) -> str:
    """'1 order', '3 orders'."""
    return ngettext("%(num)d order", "%(num)d orders", count)


def customers_text(count: int) -> str:
    """'1 customer', '3 customers'."""
    return ngettext("%(num)d customer", "%(num)d customers", count)


def span_text(filters: reports.Filters) -> str:
    """The range in words, both days included."""
    return _(
        "%(start)s to %(end)s",
        start=i18n.format_day(filters.start),
        end=i18n.format_day(filters.end),
    )


def revenue_label() -> str:
    return _("Revenue (%(unit)s)", unit=UNIT)


# Words that depend on the period size of a report (day, week, month).
SCALE_AXIS = {"day": _l("Day"), "week": _l("Week"), "month": _l("Month")}
SALES_TITLE = {
    "day": _l("Revenue per day"),
    "week": _l("Revenue per week"),
    "month": _l("Revenue per month"),
}
MARGIN_TITLE = {
    "day": _l("Margin per day"),
    "week": _l("Margin per week"),
    "month": _l("Margin per month"),
}


def _sales_desc(filters: reports.Filters, sales) -> str:
    """What the sales chart shows, in words (for screen readers)."""
    scale, span = filters.granularity, span_text(filters)
    if scale == "day":
        first = _("One bar per day from %(span)s.", span=span)
    elif scale == "week":
        first = _("One bar per week from %(span)s.", span=span)
    else:
        first = _("One bar per month from %(span)s.", span=span)
    revenue, best = money(sales.revenue, CURRENCY), sales.best
    if best is None:
        rest = ngettext(
            "In all %(revenue)s from %(num)d order.",
            "In all %(revenue)s from %(num)d orders.",
            sales.orders,
            revenue=revenue,
        )
    else:
        values = {
            "revenue": revenue,
            "period": best.period.long,
            "best": money(best.revenue, CURRENCY),
        }
        if scale == "day":
            rest = ngettext(
                "In all %(revenue)s from %(num)d order; the best day was %(period)s with %(best)s.",
                "In all %(revenue)s from %(num)d orders; the best day was %(period)s with "
                "%(best)s.",
                sales.orders,
                **values,
            )
        elif scale == "week":
            rest = ngettext(
                "In all %(revenue)s from %(num)d order; the best week was %(period)s with "
                "%(best)s.",
                "In all %(revenue)s from %(num)d orders; the best week was %(period)s with "
                "%(best)s.",
                sales.orders,
                **values,
            )
        else:
            rest = ngettext(
                "In all %(revenue)s from %(num)d order; the best month was %(period)s with "
                "%(best)s.",
                "In all %(revenue)s from %(num)d orders; the best month was %(period)s with "
                "%(best)s.",
                sales.orders,
                **values,
            )
    return f"{first} {rest}"


# --- the reports' figures and charts --------------------------------------------------


def sales_context(filters: reports.Filters) -> dict:
    """Sales by period with its bar chart."""
    sales = reports.sales_by_period(current_user, filters)
    scale = filters.granularity
    bars = [
        charts.Bar(
            row.period.long,
            row.revenue,
            ngettext(
                "%(period)s: %(revenue)s from %(num)d order",
                "%(period)s: %(revenue)s from %(num)d orders",
                row.orders,
                period=row.period.long,
                revenue=money(row.revenue, CURRENCY),
            ),
            row.period.short,
        )
        for row in sales.rows
    ]
    chart = charts.bar_chart(
        "chart-sales",
        bars,
        title=str(SALES_TITLE[scale]),
        desc=_sales_desc(filters, sales),
        x_label=str(SCALE_AXIS[scale]),
        y_label=revenue_label(),
        unit=UNIT,
    )
    return {"sales": sales, "sales_chart": chart}


def _bar_detail(row: reports.RankRow) -> str:
    values = {
        "label": row.label,
        "detail": row.detail,
        "revenue": money(row.revenue, CURRENCY),
        "share": percent(row.share),
    }
    if row.detail:
        return _("%(label)s (%(detail)s): %(revenue)s, %(share)s of sales", **values)
    return _("%(label)s: %(revenue)s, %(share)s of sales", **values)


def _ranking_desc(ranking: reports.Ranking, what: str, filters) -> str:
    """What a top list's chart shows, in words (for screen readers)."""
    count, span = len(ranking.rows), span_text(filters)
    lead = ranking.rows[0] if ranking.rows else None
    if lead is None:
        if what == "customers":
            return ngettext(
                "The %(num)d customer with the highest revenue from %(span)s.",
                "The %(num)d customers with the highest revenue from %(span)s.",
                count,
                span=span,
            )
        return ngettext(
            "The %(num)d product with the highest revenue from %(span)s.",
            "The %(num)d products with the highest revenue from %(span)s.",
            count,
            span=span,
        )
    values = {"span": span, "lead": lead.label, "revenue": money(lead.revenue, CURRENCY)}
    if what == "customers":
        return ngettext(
            "The %(num)d customer with the highest revenue from %(span)s; first is %(lead)s "
            "with %(revenue)s.",
            "The %(num)d customers with the highest revenue from %(span)s; first is %(lead)s "
            "with %(revenue)s.",
            count,
            **values,
        )
    return ngettext(
        "The %(num)d product with the highest revenue from %(span)s; first is %(lead)s "
        "with %(revenue)s.",
        "The %(num)d products with the highest revenue from %(span)s; first is %(lead)s "
        "with %(revenue)s.",
        count,
        **values,
    )


def ranking_chart(chart_id: str, ranking: reports.Ranking, what: str, filters) -> object:
    """Horizontal bars of a top list (the rest is in the table only: it would dwarf them).
    `what`: "customers" or "products"."""
    bars = [
        charts.Bar(row.label, row.revenue, _bar_detail(row), row.detail) for row in ranking.rows
    ]
    return charts.hbar_chart(
        chart_id,
        bars,
        title=_("Top customers by revenue")
        if what == "customers"
        else _("Top products by revenue"),
        desc=_ranking_desc(ranking, what, filters),
        x_label=revenue_label(),
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
            _(
                "%(name)s: %(revenue)s from %(orders)s of %(customers)s",
                name=row.name,
                revenue=money(row.revenue, CURRENCY),
                orders=orders_text(row.orders),
                customers=customers_text(row.customers),
            ),
        )
        for row in rows
    ]
    chart = charts.hbar_chart(
        "chart-reps",
        bars,
        title=_("Revenue by sales rep"),
        desc=_(
            "Revenue of each sales rep's customers from %(span)s; a customer "
            "with several reps counts in full for each.",
            span=span_text(filters),
        ),
        x_label=revenue_label(),
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
            _(
                "%(period)s: margin %(margin)s (%(percent)s) on %(revenue)s of sales",
                period=row.key.long,
                margin=money(row.margin, CURRENCY),
                percent=percent(row.percent),
                revenue=money(row.revenue, CURRENCY),
            ),
            row.detail,
        )
        for row in found.by_period
    ]
    values = {
        "span": span_text(filters),
        "margin": money(found.total.margin, CURRENCY),
        "percent": percent(found.total.percent),
        "revenue": money(found.total.revenue, CURRENCY),
    }
    if scale == "day":
        desc = _(
            "One bar per day from %(span)s: revenue less cost. In all %(margin)s, %(percent)s "
            "of %(revenue)s. Negative margins are drawn below the axis.",
            **values,
        )
    elif scale == "week":
        desc = _(
            "One bar per week from %(span)s: revenue less cost. In all %(margin)s, %(percent)s "
            "of %(revenue)s. Negative margins are drawn below the axis.",
            **values,
        )
    else:
        desc = _(
            "One bar per month from %(span)s: revenue less cost. In all %(margin)s, "
            "%(percent)s of %(revenue)s. Negative margins are drawn below the axis.",
            **values,
        )
    chart = charts.bar_chart(
        "chart-margins",
        bars,
        title=str(MARGIN_TITLE[scale]),
        desc=desc,
        x_label=str(SCALE_AXIS[scale]),
        y_label=_("Margin (%(unit)s)", unit=UNIT),
        unit=UNIT,
    )
    return {"margins": found, "margins_chart": chart}


def ageing_context(filters: reports.Filters) -> dict:
    """Open invoices by days overdue, per company and in total, as of today."""
    found = reports.ageing(current_user, billing.today(), filters.top)
    names = [str(label) for __, label in reports.AGEING_BUCKETS]

    def stack(label: str, amounts) -> charts.StackRow:
        return charts.StackRow(
            label,
            amounts,
            [
                _(
                    "%(label)s, %(bucket)s: %(amount)s",
                    label=label,
                    bucket=name,
                    amount=money(a, CURRENCY),
                )
                for name, a in zip(names, amounts, strict=True)
            ],
            charts.compact(float(sum(amounts)), UNIT),
        )

    rows = [stack(_("All companies"), found.totals)] if found.invoices else []
    rows += [stack(r.name, r.amounts) for r in found.rows]
    chart = charts.stacked_bars(
        "chart-ageing",
        rows,
        names,
        title=_("Receivables by days overdue on %(day)s", day=i18n.format_day(found.on)),
        desc=ngettext(
            "%(total)s is owed on %(num)d open invoice, of which %(overdue)s is overdue. "
            "The first bar is every company; then one per company, the latest payers first.",
            "%(total)s is owed on %(num)d open invoices, of which %(overdue)s is overdue. "
            "The first bar is every company; then one per company, the latest payers first.",
            found.invoices,
            total=money(found.total, CURRENCY),
            overdue=money(found.overdue, CURRENCY),
        ),
        x_label=_("Owed (%(unit)s)", unit=UNIT),
        unit=UNIT,
        width=FULL_WIDTH,
    )
    return {"ageing": found, "ageing_chart": chart, "buckets": reports.AGEING_BUCKETS}


# name -> (endpoint, heading, context builder); who may see each is core.access.REPORTS.
REPORTS = {
    "sales": ("office.report_sales", _l("Sales by period"), sales_context),
    "customers": ("office.report_customers", _l("Sales by customer"), customers_context),
    "products": ("office.report_products", _l("Sales by product"), products_context),
    "reps": ("office.report_reps", _l("Sales by sales rep"), reps_context),
    "margins": ("office.report_margins", _l("Margins"), margins_context),
    "ageing": ("office.report_ageing", _l("Receivables ageing"), ageing_context),
}


# --- the regions -------------------------------------------------------------------------

COSTS_WITHDRAWN = (
    '<div id="report-costs" class="report report--wide" data-live>'
    '<p class="empty">{message}</p></div>'
)
SALES_REGIONS = frozenset({"report-sales", "report-customers", "report-products", "report-reps"})


def _render_withdrawn(connection, keys) -> dict:
    with rendering_as(connection):  # in the viewer's language
        message = escape(_("Margins are no longer shown: your role does not include costs."))
    return dict.fromkeys(keys, COSTS_WITHDRAWN.format(message=message))


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
