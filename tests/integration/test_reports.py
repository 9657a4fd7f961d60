"""Financial reports: figures against SQL; scope, costs, filters, ageing, charts, live."""

import itertools
import re
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import select

from blueprints.filters import money
from core import billing, orders, people, reports, roles
from core.models import CENT, Company, Invoice, Order, Product, Role
from core.orders import LineRequest
from extensions import db
from tests.conftest import sql
from tests.html import find
from tests.records import company, user
from tests.sockets import drain, watch

ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"
ANNA = "anna.sales@portal.test"
MARCO = "marco.sales@portal.test"
FINANCE = "finance@portal.test"
VIEWER = "viewer@portal.test"
WAREHOUSE = "warehouse@portal.test"
ANNAS = ("acme", "baltic")
MARCOS = ("carpathia", "delft")
SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


# Helpers ------------------------------------------------------------------------------


def cents(value) -> Decimal:
    """A raw SQL value (a float on SQLite, a Decimal on MariaDB) as exact money."""
    return Decimal(str(value)).quantize(CENT)


def exact(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def default() -> reports.Filters:
    return reports.default_filters(billing.today())


def sales_rows(filters: reports.Filters, slugs=None) -> list[tuple]:
    """(created_at, total, company slug) of every sale in the range, straight from SQL."""
    rows = sql(
        "SELECT o.created_at, o.total, c.slug FROM orders o JOIN companies c ON c.id = o.company_id"
        " WHERE o.status != 'cancelled' AND o.created_at >= :since AND o.created_at < :until",
        since=filters.since,
        until=filters.until,
    )
    found = []
    for created, total, slug in rows:
        if slugs is None or slug in slugs:
            when = created if isinstance(created, datetime) else datetime.fromisoformat(created)
            found.append((when, cents(total), slug))
    return found


def line_rows(filters: reports.Filters) -> list[tuple]:
    """(company slug, sku, line total, unit cost x quantity, quantity) of every sold line."""
    rows = sql(
        "SELECT c.slug, p.sku, l.line_total, l.unit_cost, l.quantity FROM order_lines l"
        " JOIN orders o ON o.id = l.order_id JOIN companies c ON c.id = o.company_id"
        " JOIN products p ON p.id = l.product_id"
        " WHERE o.status != 'cancelled' AND o.created_at >= :since AND o.created_at < :until",
        since=filters.since,
        until=filters.until,
    )
    return [(s, sku, cents(t), exact(c) * q, q) for s, sku, t, c, q in rows]


def place(slug: str, lines=(("MCU-STM32F401", 3), ("CAP-1206-10U", 2))) -> Order:
    order = orders.place(
        company(slug),
        [
            LineRequest(db.session.scalar(select(Product.id).where(Product.sku == sku)), n)
            for sku, n in lines
        ],
        placed_by=user(f"orders@{slug}.test"),
    )
    db.session.commit()
    return order


def page(client, url="/office/reports") -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def figure(html: str, name: str) -> str:
    element = find(html, data_figure=name)
    assert element is not None, f"no {name} figure"
    return element.text


def input_attrs(html: str, element_id: str) -> dict[str, str]:
    """The attributes of the <input> with this id."""
    tag = re.search(rf'<input id="{element_id}"[^>]*>', html)
    assert tag, f"no input {element_id}"
    return dict(re.findall(r'([a-z-]+)="([^"]*)"', tag.group(0)))


def table_row(html: str, label: str) -> str:
    """The markup of the one table row whose first cell names `label`."""
    rows = [r for r in re.findall(r"<tr\b.*?</tr>", html, re.DOTALL) if f">{label}<" in r]
    assert len(rows) == 1, f"{len(rows)} rows for {label}"
    return rows[0]


def svgs(html: str) -> dict[str, ET.Element]:
    """Every chart of a page, parsed as XML (which fails unless it is well-formed)."""
    # The portal's own markup, parsed to prove it well-formed (not untrusted input).
    return {(root := ET.fromstring(m)).get("id"): root for m in SVG.findall(html)}  # noqa: S314


def bars(root: ET.Element) -> list[ET.Element]:
    return [
        r
        for r in root.iter("{http://www.w3.org/2000/svg}rect")
        if "chart__bar" in (r.get("class") or "") or "chart__segment" in (r.get("class") or "")
    ]


# Sales figures against SQL ------------------------------------------------------------


def test_sales_total_and_count_agree_with_sql_and_the_page(as_user, ctx):
    filters = default()
    rows = sales_rows(filters)
    found = reports.sales_by_period(user(MANAGER), filters)
    assert found.revenue == sum(t for _, t, _ in rows) > 0
    assert found.orders == len(rows)
    assert found.customers == len({s for _, _, s in rows}) == 5
    html = page(as_user(MANAGER))
    assert figure(html, "revenue") == money(found.revenue)
    assert figure(html, "orders") == str(len(rows))


@pytest.mark.parametrize("granularity", ["day", "week", "month"])
def test_each_period_holds_exactly_its_own_sales(ctx, granularity):
    today = billing.today()
    filters = reports.Filters(today - timedelta(days=120), today, granularity)
    expected = defaultdict(Decimal)
    counts = defaultdict(int)
    for when, total, _ in sales_rows(filters):
        expected[reports.bucket_of(when.date(), granularity)] += total
        counts[reports.bucket_of(when.date(), granularity)] += 1
    found = reports.sales_by_period(user(MANAGER), filters)
    spans = reports.periods(filters)
    assert [r.period for r in found.rows] == spans
    for row in found.rows:
        key = reports.bucket_of(row.period.start, granularity)
        assert (row.revenue, row.orders) == (expected.get(key, Decimal(0)), counts.get(key, 0))
    # Periods follow each other without gaps and cover the range exactly.
    assert spans[0].start == filters.start and spans[-1].end == filters.end
    for before, after in itertools.pairwise(spans):
        assert after.start == before.end + timedelta(days=1)
    assert sum(r.revenue for r in found.rows) == found.revenue


def test_periods_by_month_week_and_day():
    filters = reports.Filters(date(2025, 1, 15), date(2025, 3, 3), "month")
    months = reports.periods(filters)
    assert [(p.start, p.end, p.label, p.partial) for p in months] == [
        (date(2025, 1, 15), date(2025, 1, 31), "Jan 2025", True),
        (date(2025, 2, 1), date(2025, 2, 28), "Feb 2025", False),
        (date(2025, 3, 1), date(2025, 3, 3), "Mar 2025", True),
    ]
    weeks = reports.periods(reports.Filters(date(2025, 1, 15), date(2025, 1, 31), "week"))
    assert [w.start for w in weeks] == [date(2025, 1, 15), date(2025, 1, 20), date(2025, 1, 27)]
    assert weeks[1].long == "Week starting 20 Jan 2025"  # Mondays
    days = reports.periods(reports.Filters(date(2024, 2, 28), date(2024, 3, 1), "day"))
    assert [d.start for d in days] == [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]


def test_default_is_the_last_twelve_months_by_month():
    assert reports.default_filters(date(2025, 3, 10)) == reports.Filters(
        date(2024, 4, 1), date(2025, 3, 10), "month", 10
    )
    assert reports.default_filters(date(2025, 12, 31)).start == date(2025, 1, 1)
    assert len(reports.periods(reports.default_filters(date(2025, 3, 10)))) == 12


def test_cancelled_orders_are_not_sales_and_new_orders_are(ctx):
    filters = default()
    before = reports.sales_by_period(user(MANAGER), filters)
    order = place("etna")
    after = reports.sales_by_period(user(MANAGER), filters)
    assert after.revenue == before.revenue + order.total
    assert after.orders == before.orders + 1
    orders.move(order, "cancelled", actor=user(ADMIN))
    db.session.commit()
    assert reports.sales_by_period(user(MANAGER), filters) == before


def test_sales_by_customer_agree_with_sql_and_sum_to_the_total(as_user, ctx):
    filters = default()
    expected = defaultdict(Decimal)
    for _, total, slug in sales_rows(filters):
        expected[slug] += total
    found = reports.sales_by_customer(user(MANAGER), filters)
    by_name = {r.label: r.revenue for r in found.rows}
    assert by_name == {company(s).name: v for s, v in expected.items()}
    assert [r.revenue for r in found.rows] == sorted(by_name.values(), reverse=True)
    assert found.rest is None and found.count == 5
    assert sum(r.share for r in found.rows) == pytest.approx(100, abs=0.3)
    html = page(as_user(MANAGER), "/office/reports/customers")
    for name, revenue in by_name.items():
        assert money(revenue) in table_row(html, name)


def test_top_customers_sum_the_rest_into_one_row(ctx):
    filters = reports.Filters(default().start, default().end, top=2)
    found = reports.sales_by_customer(user(MANAGER), filters)
    assert len(found.rows) == 2
    assert found.rest.others == 3 and found.rest.label == "3 other customers"
    assert sum(r.revenue for r in found.rows) + found.rest.revenue == found.revenue
    assert sum(r.orders for r in found.rows) + found.rest.orders == found.orders


def test_sales_by_product_agree_with_order_lines_and_the_rest_is_summed(ctx):
    filters = reports.Filters(default().start, default().end, "month", 3)
    revenue, units = defaultdict(Decimal), defaultdict(int)
    for _, sku, total, _, quantity in line_rows(filters):
        revenue[sku] += total
        units[sku] += quantity
    found = reports.sales_by_product(user(MANAGER), filters)
    top = sorted(revenue.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert [(r.detail, r.revenue) for r in found.rows] == top
    assert [r.quantity for r in found.rows] == [units[sku] for sku, _ in top]
    assert found.rest.others == len(revenue) - 3
    assert found.rest.revenue == sum(revenue.values()) - sum(v for _, v in top)
    assert found.rest.quantity == sum(units.values()) - sum(units[s] for s, _ in top)
    # The lines of the sales add up to the sales: the product report agrees with the orders.
    assert found.revenue == reports.sales_by_period(user(MANAGER), filters).revenue


def test_sales_by_rep_credit_each_assigned_rep_and_name_the_unassigned(as_user, ctx):
    filters = default()
    expected = defaultdict(Decimal)
    for _, total, slug in sales_rows(filters):
        expected[slug] += total
    found = reports.sales_by_rep(user(MANAGER), filters)
    rows = {r.name: r.revenue for r in found.rows}
    # The Partner assigned to Acme reads its records but sells nothing: not a rep here.
    assert user("partner@portal.test") in company("acme").reps
    assert rows == {
        user(ANNA).name: expected["acme"] + expected["baltic"],
        user(MARCO).name: expected["carpathia"] + expected["delft"],
    }
    assert found.unassigned.revenue == expected["etna"]
    assert found.unassigned.customers == 1
    assert found.revenue == sum(expected.values())
    assert found.shared_customers == 0
    html = page(as_user(MANAGER), "/office/reports/reps")
    assert "counts for <strong>every</strong> sales rep assigned to its customer" in html
    assert "No sales rep" in html


def test_a_customer_with_two_reps_counts_in_full_for_both(ctx):
    carpathia = company("carpathia")
    people.set_reps(carpathia, [user(ANNA), user(MARCO)], actor=user(ADMIN))
    db.session.commit()
    filters = default()
    carpathia_sales = sum(t for _, t, s in sales_rows(filters) if s == "carpathia")
    found = reports.sales_by_rep(user(MANAGER), filters)
    rows = {r.name: r for r in found.rows}
    assert rows[user(ANNA).name].customers == 3
    assert rows[user(MARCO).name].customers == 2
    assert found.shared_customers == 1
    # Carpathia counts for both: the rep rows add up to more than the total, by its sales.
    assert sum(r.revenue for r in found.rows) + found.unassigned.revenue == (
        found.revenue + carpathia_sales
    )


# Scope ----------------------------------------------------------------------------------


def test_a_sales_rep_sees_only_assigned_customers_in_every_report(as_user, ctx):
    filters = default()
    html = page(as_user(ANNA))
    anna_total = sum(t for _, t, _ in sales_rows(filters, ANNAS))
    assert figure(html, "revenue") == money(anna_total)
    assert "the customers assigned to you: Acme Robotics, Baltic Drones" in html
    for other in ("Carpathia Makers", "Delft Devices", "Etna Labs"):
        assert other not in html
    assert "No sales rep" not in html  # Etna is nobody's, and not Anna's
    found = reports.sales_by_customer(user(ANNA), filters)
    assert {r.label for r in found.rows} == {"Acme Robotics", "Baltic Drones"}
    ageing = reports.ageing(user(ANNA), billing.today())
    assert {r.name for r in ageing.rows} <= {"Acme Robotics", "Baltic Drones"}


def test_marco_figures_differ_and_the_manager_sees_everyone(as_user, ctx):
    filters = default()
    marco = page(as_user(MARCO))
    marco_total = sum(t for _, t, _ in sales_rows(filters, MARCOS))
    assert figure(marco, "revenue") == money(marco_total)
    assert "Acme Robotics" not in marco and "Baltic Drones" not in marco
    manager = page(as_user(MANAGER))
    assert figure(manager, "revenue") == money(sum(t for _, t, _ in sales_rows(filters)))
    assert marco_total != sum(t for _, t, _ in sales_rows(filters, ANNAS))
    assert "These reports cover every customer." in manager


def test_a_rep_with_no_customers_gets_empty_reports_not_everyone(as_user, ctx):
    people.set_reps(company("acme"), [], actor=user(ADMIN))
    people.set_reps(company("baltic"), [], actor=user(ADMIN))
    db.session.commit()
    html = page(as_user(ANNA))
    assert "No customers are assigned to you yet" in html
    assert figure(html, "revenue") == money(0)
    assert figure(html, "owed") == money(0)


# Costs and margins ---------------------------------------------------------------------


def test_margins_agree_with_order_line_costs(as_user, ctx):
    filters = default()
    lines = line_rows(filters)
    revenue = sum(t for _, _, t, _, _ in lines)
    cost = sum(c for _, _, _, c, _ in lines).quantize(CENT)
    found = reports.margins(user(FINANCE), filters)
    assert (found.total.revenue, found.total.cost) == (revenue, cost)
    assert found.total.margin == revenue - cost
    assert found.total.percent == ((revenue - cost) / revenue * 100).quantize(Decimal("0.1"))
    per_company = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for slug, _, total, line_cost, _ in lines:
        per_company[company(slug).name][0] += total
        per_company[company(slug).name][1] += line_cost
    for row in found.by_customer:
        assert (row.revenue, row.cost) == (
            per_company[row.label][0],
            per_company[row.label][1].quantize(CENT),
        )
    margins = [r.margin for r in found.by_customer]
    assert margins == sorted(margins, reverse=True)
    assert sum(r.revenue for r in found.by_period) == revenue
    html = page(as_user(FINANCE))
    assert 'id="report-margins"' in html
    assert figure(html, "margin") == money(revenue - cost)


def test_an_order_margin_in_the_report_matches_the_order_page(as_user, ctx):
    order = place("etna", (("MCU-STM32F401", 7), ("CON-HDR-1X40", 3)))
    today = billing.today()
    html = as_user(FINANCE).get(f"/office/orders/{order.id}").get_data(as_text=True)
    found = reports.margins(user(FINANCE), reports.Filters(today, today, "day"))
    # Only this order today for Etna: the customer row is this order.
    row = next(r for r in found.by_customer if r.label == "Etna Labs")
    assert money(row.cost) in html and money(row.margin) in html


@pytest.mark.parametrize("email", [ANNA, MARCO, VIEWER])
def test_no_cost_or_margin_anywhere_without_the_costs_permission(as_user, ctx, email):
    filters = default()
    secret = reports.margins(user(FINANCE), filters).total
    client = as_user(email)
    for url in [
        "/office/reports",
        "/office/reports/sales",
        "/office/reports/customers",
        "/office/reports/products",
        "/office/reports/reps",
        "/office/reports/ageing",
    ]:
        for htmx in (False, True):
            response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
            html = response.get_data(as_text=True)
            assert response.status_code == 200
            assert "report-margins" not in html
            assert not re.search(r"\bmargins?\b|\bcost\b", unescape(html), re.IGNORECASE)
            if email == VIEWER:  # sees every customer, so the totals would be the same
                assert money(secret.cost) not in html and money(secret.margin) not in html
    for htmx in (False, True):
        response = client.get(
            "/office/reports/margins", headers={"HX-Request": "true"} if htmx else {}
        )
        assert response.status_code == 403
        assert money(secret.cost) not in response.get_data(as_text=True)
    with pytest.raises(PermissionError):
        reports.margins(user(email), filters)


def test_warehouse_has_no_reports_at_all(as_user):
    client = as_user(WAREHOUSE)
    for name in ("", "/sales", "/margins", "/ageing"):
        assert client.get(f"/office/reports{name}").status_code == 403
    assert "/office/reports" not in page(client, "/office/")


# Filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2025-13-01", "from", "Enter the start date as YYYY-MM-DD"),
        ("from=yesterday", "from", "Enter the start date as YYYY-MM-DD"),
        ("to=31/01/2025", "to", "Enter the end date as YYYY-MM-DD"),
        ("from=1999-12-31&to=2000-01-31", "from", "Reports start on 01 Jan 2000"),
        ("from=2025-05-01&to=2025-01-01", "to", "The end date (01 Jan 2025) is before the start"),
        ("from=2024-01-01&to=2025-06-30&by=day", "to", "Daily figures cover at most 366 days"),
        ("from=2020-01-01&to=2025-06-30&by=week", "to", "Weekly figures cover at most 3 years"),
        ("from=2005-01-01&to=2025-06-30", "to", "Monthly figures cover at most 10 years"),
        ("by=year", "by", "Choose daily, weekly or monthly figures."),
        ("top=0", "top", "Show between 1 and 50 rows"),
        ("top=51", "top", "Show between 1 and 50 rows"),
        ("top=abc", "top", "Show between 1 and 50 rows"),
        ("top=%C2%B2", "top", "Show between 1 and 50 rows"),  # "²" is a digit to str.isdigit
        ("from=" + "9" * 5000, "from", "Enter the start date as YYYY-MM-DD"),
    ],
)
def test_bad_filters_are_a_400_with_the_message_by_the_field(as_user, query, field, message):
    client = as_user(MANAGER)
    for url in ("/office/reports", "/office/reports/sales"):
        response = client.get(f"{url}?{query}")
        html = unescape(response.get_data(as_text=True))
        assert response.status_code == 400
        error = find(html, id=f"report-{field}-error")
        assert error is not None and message in error.text
        assert 'id="report-sales"' not in html  # no figures for filters that mean nothing
    fragment = client.get(f"/office/reports/sales?{query}", headers={"HX-Request": "true"})
    assert fragment.status_code == 400
    assert message in unescape(fragment.get_data(as_text=True))


def test_a_bad_filter_keeps_what_was_typed(as_user):
    response = as_user(MANAGER).get("/office/reports?from=2025-02-30&to=2025-03-31&by=week&top=x")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    start = input_attrs(html, "report-from")
    assert start["value"] == "2025-02-30" and start["type"] == "text"
    assert input_attrs(html, "report-to")["value"] == "2025-03-31"
    assert 'value="week" selected' in html and 'value="x" selected' in html


def test_good_filters_are_kept_in_the_form_and_in_each_region_refetch_url(as_user):
    query = "from=2025-01-01&to=2025-06-30&by=week&top=5"
    html = page(as_user(MANAGER), f"/office/reports?{query}")
    assert input_attrs(html, "report-from")["value"] == "2025-01-01"
    assert input_attrs(html, "report-to")["value"] == "2025-06-30"
    for name in ("sales", "customers", "products", "reps", "margins", "ageing"):
        region = find(html, id=f"report-{name}")
        assert "data-live" in region.attrs
        assert region.attrs["hx-trigger"] == "live:refresh"
        assert region.attrs["hx-get"] == f"/office/reports/{name}?{query}"


def test_only_some_filters_given_take_the_defaults_for_the_rest(ctx):
    today = date(2025, 6, 15)
    assert reports.parse_filters({}, today) == reports.default_filters(today)
    assert reports.parse_filters({"to": "2025-03-31"}, today) == reports.Filters(
        date(2024, 4, 1), date(2025, 3, 31)
    )
    assert reports.parse_filters({"from": "2025-06-01", "by": "day"}, today) == reports.Filters(
        date(2025, 6, 1), today, "day"
    )


def test_an_empty_range_says_so(as_user):
    html = page(as_user(MANAGER), "/office/reports?from=2001-01-01&to=2001-12-31")
    assert "No sales from 01 Jan 2001 to 31 Dec 2001." in html
    assert "No customer ordered from 01 Jan 2001 to 31 Dec 2001." in html
    assert figure(html, "revenue") == money(0)


def test_a_region_fragment_is_the_region_alone(as_user):
    response = as_user(MANAGER).htmx("/office/reports/customers?by=week&top=3")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="report-customers"')
    assert "<html" not in html and 'id="nav"' not in html
    assert "HX-Request" in response.headers.get("Vary", "")


def test_each_report_has_a_page_of_its_own(as_user):
    html = page(as_user(MANAGER), "/office/reports/products?top=5")
    assert "<h1>Sales by product</h1>" in html
    assert 'id="report-products"' in html and 'id="report-sales"' not in html
    assert 'href="/office/reports?from=' in html  # back to all reports, same filters


# Receivables ageing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("late", "bucket"),
    [(-10, 0), (0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4), (400, 4)],
)
def test_ageing_bucket_by_days_overdue(late, bucket):
    today = date(2025, 6, 15)
    assert reports.ageing_bucket(today - timedelta(days=late), today) == bucket


def test_ageing_buckets_invoices_by_their_due_dates(ctx):
    today = billing.today()
    before = reports.ageing(user(MANAGER), today, 50)
    before_row = next((r for r in before.rows if r.name == "Delft Devices"), None)
    base = before_row.amounts if before_row else (Decimal(0),) * 5
    plan = {-5: 0, 0: 0, 1: 1, 30: 1, 31: 2, 60: 2, 61: 3, 90: 3, 91: 4, 200: 4}
    expected = list(base)
    made = []
    for late, bucket in plan.items():
        order = place("delft", (("CAP-1206-10U", 1),))
        orders.move(order, "confirmed", actor=user(ADMIN))
        invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
        invoice.due_on = today - timedelta(days=late)
        db.session.commit()
        expected[bucket] += invoice.total
        made.append(invoice)
    # A part payment counts what is left; a paid or void invoice is not owed at all.
    billing.record_payment(made[-1], Decimal("0.05"), today, "transfer", "", actor=user(FINANCE))
    expected[4] -= Decimal("0.05")
    billing.record_payment(
        made[2], made[2].total, today, "transfer", "", actor=user(FINANCE)
    )  # paid in full
    expected[1] -= made[2].total
    order = place("delft", (("CAP-1206-10U", 1),))
    orders.move(order, "confirmed", actor=user(ADMIN))
    orders.move(order, "cancelled", actor=user(ADMIN))  # its invoice is voided
    db.session.commit()

    found = reports.ageing(user(MANAGER), today, 50)
    row = next(r for r in found.rows if r.name == "Delft Devices")
    assert list(row.amounts) == expected
    # The same figures as the company's balance on the invoices page.
    balance = billing.balance(company("delft").id, today)
    assert row.total == balance.open_amount
    assert row.overdue == balance.overdue_amount
    assert row.invoices == balance.open_count
    assert found.totals == tuple(sum(r.amounts[i] for r in found.rows) for i in range(5))


def test_ageing_totals_agree_with_the_invoice_balances_of_every_company(as_user, ctx):
    today = billing.today()
    found = reports.ageing(user(MANAGER), today, 2)
    total = Decimal(0)
    for c in db.session.scalars(select(Company)):
        total += billing.balance(c.id, today).open_amount
    assert found.total == total
    assert len(found.rows) == 2 and found.rest is not None
    assert found.rest.others == found.companies - 2
    assert sum(r.total for r in found.rows) + found.rest.total == found.total
    # Ranked by what is overdue: the latest payers first.
    overdue = [r.overdue for r in found.rows]
    assert overdue == sorted(overdue, reverse=True)
    html = page(as_user(FINANCE), "/office/reports/ageing?top=2")
    assert figure(html, "owed") == money(total)
    first = found.rows[0]
    assert f"/office/invoices?company={first.key}&amp;status=outstanding" in html


# Charts ---------------------------------------------------------------------------------


def test_every_chart_on_the_page_is_well_formed_svg_with_its_bars(as_user, ctx):
    html = page(as_user(FINANCE))
    charts = svgs(html)
    assert set(charts) == {
        "chart-sales",
        "chart-customers",
        "chart-products",
        "chart-reps",
        "chart-margins",
        "chart-ageing",
    }
    ns = "{http://www.w3.org/2000/svg}"
    for root in charts.values():
        assert root.find(f"{ns}title").text and root.find(f"{ns}desc").text
        assert root.get("role") == "img"
    assert len(bars(charts["chart-sales"])) == len(reports.periods(default())) == 12
    assert len(bars(charts["chart-customers"])) == 5
    assert len(bars(charts["chart-products"])) == 10
    tooltips = [b.find(f"{ns}title").text for b in bars(charts["chart-customers"])]
    found = reports.sales_by_customer(user(FINANCE), default())
    assert tooltips[0].startswith(f"{found.rows[0].label}: {money(found.rows[0].revenue)}")
    # Every bar's exact figure is also in the table next to it.
    for row in found.rows:
        assert money(row.revenue) in html
    assert " style=" not in html.split('<main id="main"', 1)[1]  # the CSP allows no style


def test_the_sales_chart_has_one_bar_per_day_when_asked(as_user, ctx):
    today = billing.today()
    start = today - timedelta(days=89)
    html = page(as_user(MANAGER), f"/office/reports/sales?by=day&from={start}&to={today}")
    chart = svgs(html)["chart-sales"]
    assert len(bars(chart)) == 90
    # The busiest day's bar is the tallest, and its tooltip gives its exact revenue.
    found = reports.sales_by_period(user(MANAGER), reports.Filters(start, today, "day"))
    best = found.best
    tallest = max(bars(chart), key=lambda b: float(b.get("height")))
    title = tallest.find("{http://www.w3.org/2000/svg}title").text
    assert title.startswith(f"{best.period.long}: {money(best.revenue)}")


# Live -----------------------------------------------------------------------------------


def signal(region: str) -> str:
    return f'<div id="live-signal" hidden data-refresh="{region}"></div>'


def test_a_placed_order_signals_the_sales_reports_to_those_who_may_see_them(connect, ctx):
    regions = {
        "report-sales",
        "report-customers",
        "report-products",
        "report-reps",
        "report-margins",
        "report-ageing",
    }
    manager, anna, viewer, warehouse = (
        connect(MANAGER),
        connect(ANNA),
        connect(VIEWER),
        connect(WAREHOUSE),
    )
    for ws in (manager, anna, viewer, warehouse):
        watch(ws, regions)
    time.sleep(0.3)
    place("acme")
    got = {ws: "".join(drain(ws, 1.5)) for ws in (manager, anna, viewer, warehouse)}
    sales = ("report-sales", "report-customers", "report-products", "report-reps")
    for region in sales:
        assert signal(region) in got[manager]
        assert signal(region) in got[anna]
        assert signal(region) in got[viewer]
    assert signal("report-margins") in got[manager]
    # Costs: the viewer and the rep never hear of the margins region; no figures travel.
    assert "report-margins" not in got[viewer] and "report-margins" not in got[anna]
    assert got[warehouse] == ""  # no reports.view: nothing at all
    assert "report-ageing" not in got[manager]  # a placed order owes nothing yet
    assert "€" not in got[manager]


def test_a_payment_signals_the_ageing_report(connect, ctx):
    ws = connect(FINANCE)
    watch(ws, {"report-ageing", "report-sales"})
    time.sleep(0.3)
    invoice = db.session.scalar(
        select(Invoice)
        .where(billing.status_condition("outstanding", billing.today()))
        .order_by(Invoice.id)
    )
    billing.record_payment(
        invoice, Decimal("0.01"), billing.today(), "transfer", "", actor=user(FINANCE)
    )
    db.session.commit()
    got = "".join(drain(ws, 1.5))
    assert signal("report-ageing") in got
    assert "report-sales" not in got


def test_losing_the_costs_permission_takes_margins_off_an_open_page(connect, ctx):
    finance, manager = connect(FINANCE), connect(MANAGER)
    for ws in (finance, manager):
        watch(ws, {"report-costs", "report-margins", "report-sales"}, mode="load")
    time.sleep(0.3)
    assert drain(finance, 0.3) == [] and drain(manager, 0.1) == []  # holders get no notice
    role = db.session.scalar(select(Role).where(Role.preset == "finance"))
    roles.set_permissions(role, role.permissions - {"finance.costs"}, actor=user(ADMIN))
    db.session.commit()
    got = "".join(drain(finance, 1.5))
    assert '<div id="report-costs"' in got and "your role does not include costs" in got
    assert "report-margins" not in got and "€" not in got
    assert drain(manager, 0.3) == []  # the manager's role did not change
    place("acme")
    later = "".join(drain(finance, 1.0))
    assert signal("report-sales") in later and "report-margins" not in later


def test_the_margins_page_wraps_its_region_in_the_costs_guard(as_user):
    html = page(as_user(FINANCE), "/office/reports/margins")
    assert re.search(r'<div id="report-costs"[^>]*data-live>\s*<section id="report-margins"', html)


def test_the_refetched_region_shows_the_new_figures(as_user, ctx):
    client = as_user(MANAGER)
    before = client.htmx("/office/reports/sales").get_data(as_text=True)
    total = reports.sales_by_period(user(MANAGER), default()).revenue
    assert figure(before, "revenue") == money(total)
    order = place("baltic")
    after = client.htmx("/office/reports/sales").get_data(as_text=True)
    assert figure(after, "revenue") == money(total + order.total)
