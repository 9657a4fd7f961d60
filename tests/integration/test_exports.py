"""CSV exports: field rights (costs, stock), record scope (a rep's customers), filters, escaping."""

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from core import exports
from core.models import AuditEntry, Company, ImportJob, Invoice, Order, Product
from extensions import db

ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"
ANNA = "anna.sales@portal.test"
MARCO = "marco.sales@portal.test"
WAREHOUSE = "warehouse@portal.test"
FINANCE = "finance@portal.test"
VIEWER = "viewer@portal.test"


def download(client, url: str):
    """(header, rows as dicts, raw text) of a CSV export that must succeed."""
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheet apps then read it as UTF-8
    reader = csv.reader(io.StringIO(text[1:], newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader], text


def companies_of(rows) -> set[str]:
    return {row["company"] for row in rows}


def order_companies(slugs) -> set[str]:
    return set(
        db.session.scalars(
            select(Company.name)
            .join(Order, Order.company_id == Company.id)
            .where(Company.slug.in_(slugs))
            .distinct()
        )
    )


# Escaping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Acme Robotics", "Acme Robotics"),
        ("a=b", "a=b"),
        (Decimal("-12.5"), "-12.50"),  # numbers the portal writes stay numbers
        (Decimal("0.0125"), "0.0125"),
        (Decimal("6.4000"), "6.40"),
        (42, "42"),
        (None, ""),
        (True, "yes"),
    ],
)
def test_cells_are_written_formula_safe(value, cell):
    assert exports.cell(value) == cell


def test_text_that_looks_like_a_formula_is_exported_inert(as_user, ctx):
    db.session.execute(
        update(Product)
        .where(Product.sku == "CAP-1206-10U")
        .values(name='=HYPERLINK("http://evil.example","Click")', description="@SUM(1)")
    )
    db.session.commit()
    _, rows, text = download(as_user(ADMIN), "/office/exports/products?q=CAP-1206-10U")
    (row,) = rows
    assert row["name"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert row["description"] == "'@SUM(1)"
    assert ',"=HYPERLINK' not in text and ",=HYPERLINK" not in text


# Products -------------------------------------------------------------------------------


def test_products_carry_cost_only_for_costs_and_stock_only_for_stock(as_user, ctx):
    expected = {
        ADMIN: [
            "sku",
            "name",
            "category",
            "base_price",
            "cost",
            "description",
            "unit",
            "tax_class",
            "stock",
        ],
        WAREHOUSE: [
            "sku",
            "name",
            "category",
            "base_price",
            "description",
            "unit",
            "tax_class",
            "stock",
        ],
        ANNA: [
            "sku",
            "name",
            "category",
            "base_price",
            "description",
            "unit",
            "tax_class",
            "stock",
        ],
        FINANCE: [
            "sku",
            "name",
            "category",
            "base_price",
            "cost",
            "description",
            "unit",
            "tax_class",
        ],
    }
    on_sale = db.session.scalar(select(func.count(Product.id)).where(Product.sold()))
    for email, columns in expected.items():
        header, rows, text = download(as_user(email), "/office/exports/products")
        assert header == columns, email
        assert len(rows) == on_sale
        mcu = next(r for r in rows if r["sku"] == "MCU-STM32F401")
        assert (mcu["base_price"], mcu["category"]) == ("6.40", "microcontrollers")
        if "cost" in columns:
            assert mcu["cost"] == "3.90"
        else:
            assert "3.90" not in text, email  # MCU's cost appears nowhere in the file
        if "stock" in columns:
            assert mcu["stock"] == "4217"


def test_products_are_searched_and_filtered_like_the_list(as_user, ctx):
    _, rows, _ = download(as_user(ADMIN), "/office/exports/products?q=stm32f401")
    assert [r["sku"] for r in rows] == ["MCU-STM32F401"]
    db.session.execute(
        update(Product).where(Product.sku == "CAP-1206-10U").values(is_archived=True)
    )
    db.session.commit()
    _, archived, _ = download(as_user(ADMIN), "/office/exports/products?status=archived")
    assert [r["sku"] for r in archived] == ["CAP-1206-10U"]
    _, on_sale, _ = download(as_user(ADMIN), "/office/exports/products")
    assert "CAP-1206-10U" not in {r["sku"] for r in on_sale}
    assert as_user(ADMIN).get("/office/exports/products?status=gone").status_code == 400
    assert as_user(ADMIN).get("/office/exports/products?q=" + "x" * 201).status_code == 400


def test_an_export_reads_back_as_an_import_with_nothing_to_change(as_user, ctx):
    _, rows, _ = download(as_user(ADMIN), "/office/exports/products")
    columns = ["sku", "name", "category", "base_price", "cost", "description", "unit", "tax_class"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([[row[c] for c in columns] for row in rows])
    body = out.getvalue().encode("utf-8-sig")
    boundary, data = encode_multipart(
        {"kind": "products", "file": FileStorage(io.BytesIO(body), "all.csv")}
    )
    response = as_user(ADMIN).send(
        "POST",
        "/office/imports",
        data=data,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 303
    db.session.rollback()
    job = db.session.scalar(select(ImportJob))
    assert (job.status, job.error_count) == ("done", 0), job.errors[:3]
    assert job.message == f"{len(rows):,} lines applied: {len(rows):,} unchanged."


# Orders -----------------------------------------------------------------------------------


def test_a_sales_rep_exports_only_their_customers_orders(as_user, ctx):
    header, anna, _ = download(as_user(ANNA), "/office/exports/orders")
    assert "cost" not in header and "margin" not in header
    assert anna and companies_of(anna) <= {"Acme Robotics", "Baltic Drones"}
    assert companies_of(anna) == order_companies(["acme", "baltic"])
    _, marco, _ = download(as_user(MARCO), "/office/exports/orders")
    assert companies_of(marco) == order_companies(["carpathia", "delft"])
    _, everyone, _ = download(as_user(MANAGER), "/office/exports/orders")
    assert len(everyone) == db.session.scalar(select(func.count(Order.id)))
    assert len(everyone) > len(anna) + len(marco)


def test_orders_carry_margins_only_for_costs(as_user, ctx):
    header, rows, _ = download(as_user(FINANCE), "/office/exports/orders")
    assert header[-3:] == ["cost", "margin", "margin_percent"]
    order = db.session.scalar(select(Order).where(Order.number == rows[0]["order"]))
    cost = sum(line.unit_cost * line.quantity for line in order.lines)
    assert Decimal(rows[0]["cost"]) == cost.quantize(Decimal("0.01"))
    assert Decimal(rows[0]["margin"]) == order.total - Decimal(rows[0]["cost"])
    assert rows[0]["total"] == exports.plain_number(order.total)
    assert int(rows[0]["lines"]) == len(order.lines)
    header, _, _ = download(as_user(WAREHOUSE), "/office/exports/orders")
    assert "cost" not in header and "margin" not in header


def test_orders_are_filtered_like_the_list(as_user, ctx):
    _, rows, _ = download(as_user(ADMIN), "/office/exports/orders?status=delivered")
    assert rows and {r["status"] for r in rows} == {"Delivered"}
    _, acme, _ = download(as_user(ADMIN), "/office/exports/orders?q=acme")
    assert companies_of(acme) == {"Acme Robotics"}
    assert as_user(ADMIN).get("/office/exports/orders?status=lost").status_code == 400


# Invoices ---------------------------------------------------------------------------------


def test_a_sales_rep_exports_only_their_customers_invoices(as_user, ctx):
    header, anna, _ = download(as_user(ANNA), "/office/exports/invoices")
    assert header[:3] == ["invoice", "issued_utc", "due"]
    expected = db.session.scalar(
        select(func.count(Invoice.id))
        .join(Company, Company.id == Invoice.company_id)
        .where(Company.slug.in_(["acme", "baltic"]))
    )
    assert len(anna) == expected > 0
    assert companies_of(anna) <= {"Acme Robotics", "Baltic Drones"}
    carpathia = db.session.scalar(select(Company.id).where(Company.slug == "carpathia"))
    assert as_user(ANNA).get(f"/office/exports/invoices?company={carpathia}").status_code == 404
    _, marco, _ = download(as_user(MARCO), f"/office/exports/invoices?company={carpathia}")
    assert companies_of(marco) == {"Carpathia Makers"}


def test_invoices_carry_balances_and_filters(as_user, ctx):
    _, rows, _ = download(as_user(FINANCE), "/office/exports/invoices?status=outstanding")
    assert rows
    for row in rows:
        invoice = db.session.scalar(
            select(Invoice).where(Invoice.number == int(row["invoice"].removeprefix("INV-")))
        )
        assert Decimal(row["balance"]) == invoice.balance > 0
        assert row["status"] in ("open", "partially paid", "overdue")
    assert as_user(FINANCE).get("/office/exports/invoices?status=lost").status_code == 400


# Rights and the audit log -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "url"),
    [
        ("orders@acme.test", "/office/exports/orders"),
        (WAREHOUSE, "/office/exports/invoices"),
    ],
)
def test_exports_follow_the_module_permission(as_user, email, url):
    assert as_user(email).get(url).status_code == 403


def test_every_export_is_audited_with_its_filters(as_user, ctx):
    download(as_user(ANNA), "/office/exports/orders?status=placed&q=acme")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export.downloaded"))
    assert entry.actor.email == ANNA
    assert entry.summary == "Orders exported (status placed, search acme)"
    assert entry.after == {"export": "orders", "status": "placed", "search": "acme"}


# --- where the links are -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "export"),
    [
        ("/office/orders?status=placed&q=SO-", "/office/exports/orders?status=placed&amp;q=SO-"),
        ("/office/invoices?status=overdue", "/office/exports/invoices?status=overdue"),
        ("/office/products?q=capacitor", "/office/exports/products?q=capacitor"),
    ],
)
def test_each_list_offers_its_export_with_the_filters_it_shows(as_user, page, export):
    admin = as_user("admin@portal.test")
    for htmx in (False, True):  # the link is in the list fragment, so it follows the filters
        html = admin.send("GET", page, htmx=htmx).get_data(as_text=True)
        assert f'href="{export}"' in html and "Download CSV" in html


def test_the_import_link_is_shown_only_to_people_who_may_import(as_user):
    for email, expected in (
        ("admin@portal.test", True),
        ("warehouse@portal.test", True),  # products.edit and stock.edit
        ("viewer@portal.test", False),
        ("anna.sales@portal.test", False),
    ):
        html = as_user(email).get("/office/products").get_data(as_text=True)
        assert ('href="/office/imports"' in html) is expected, email
