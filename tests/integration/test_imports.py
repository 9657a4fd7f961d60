"""CSV imports through the portal: upload, check, apply all or nothing, report, live progress."""

import io
import re
import time
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from core import imports
from core.imports import running
from core.models import (
    AuditEntry,
    CustomerGroup,
    GroupPrice,
    ImportJob,
    Product,
    StockMovement,
    utcnow,
)
from core.offer import offer_for
from extensions import db
from tests.html import find, find_all
from tests.jobs import fresh, jobs_of, queue_kind, until
from tests.records import product, user
from tests.sockets import drain, watch

ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"
WAREHOUSE = "warehouse@portal.test"
FINANCE = "finance@portal.test"


# Helpers ------------------------------------------------------------------------------


def product_count() -> int:
    return db.session.scalar(select(func.count(Product.id)))


def group(name: str) -> CustomerGroup:
    return db.session.scalar(select(CustomerGroup).where(CustomerGroup.name == name))


def upload(client, kind: str, content, *, filename="file.csv", apply_valid=False):
    """POST the import form as a browser does (multipart, with the CSRF token)."""
    if isinstance(content, str):
        content = content.encode()
    data = {
        "kind": kind,
        "file": FileStorage(io.BytesIO(content), filename, content_type="text/csv"),
    }
    if apply_valid:
        data["apply_valid"] = "y"
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(data)
    return client.send(
        "POST",
        "/office/imports",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def job_of(response) -> ImportJob:
    """The job a successful upload redirected to."""
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    job_id = int(re.search(r"/office/imports/(\d+)$", response.headers["Location"]).group(1))
    db.session.rollback()
    return db.session.get(ImportJob, job_id)


def audits(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def new_products(count: int, *, bad_line: int | None = None, prefix="BULK") -> str:
    """A products file of `count` new products; `bad_line` (a spreadsheet line) has a
    price written with a decimal comma."""
    lines = ["sku,name,category,base_price,description,unit"]
    for i in range(1, count + 1):
        price = '"12,50"' if i + 1 == bad_line else f"{i % 97 + 1}.{i % 100:02d}"
        lines.append(f"{prefix}-{i:05d},Bulk part {i},capacitors,{price},Part {i},pcs")
    return "\n".join(lines) + "\n"


# The page -----------------------------------------------------------------------------


def test_the_page_offers_only_the_kinds_one_may_import(as_user):
    admin = as_user(ADMIN).get("/office/imports").get_data(as_text=True)
    for label in ("Products", "Stock levels", "Group prices"):
        assert f"<span>{label}</span>" in admin
    assert '<td class="mono">cost</td>' in admin
    warehouse = as_user(WAREHOUSE).get("/office/imports").get_data(as_text=True)
    assert "<span>Products</span>" in warehouse and "<span>Stock levels</span>" in warehouse
    assert "Group prices" not in warehouse
    assert '<td class="mono">cost</td>' not in warehouse  # no costs permission
    assert "You have not imported anything yet." in warehouse
    assert "200,000 lines and 30 MB" in warehouse


@pytest.mark.parametrize("email", [FINANCE, "anna.sales@portal.test", "viewer@portal.test"])
def test_people_who_may_change_none_of_it_get_a_403(as_user, email):
    assert as_user(email).get("/office/imports").status_code == 403
    assert as_user(email).get("/office/imports/template/products.csv").status_code == 403


def test_templates_carry_the_columns_one_may_fill(as_user):
    admin = as_user(ADMIN).get("/office/imports/template/products.csv")
    assert admin.headers["Content-Disposition"] == 'attachment; filename="products-import.csv"'
    assert admin.get_data(as_text=True) == (
        "\ufeffsku,name,category,base_price,cost,description,unit,tax_class\r\n"
    )
    warehouse = as_user(WAREHOUSE).get("/office/imports/template/products.csv")
    assert (
        warehouse.get_data(as_text=True)
        == "\ufeffsku,name,category,base_price,description,unit,tax_class\r\n"
    )
    assert as_user(WAREHOUSE).get("/office/imports/template/group_prices.csv").status_code == 403
    assert as_user(ADMIN).get("/office/imports/template/nonsense.csv").status_code == 404


# Form errors: nothing is created ------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "content", "filename", "message"),
    [
        ("stock", None, None, "Choose a CSV file to upload."),
        ("", "sku,stock\n", "f.csv", "Choose what the file holds: Products, Stock levels"),
        ("group_prices", "sku,stock\n", "f.csv", "Choose what the file holds"),  # not allowed
        ("stock", "PK\x03\x04", "count.xlsx", "This is an Excel workbook, not a CSV file"),
        ("stock", "x", "notes.docx", "Upload a .csv file"),
        ("stock", "", "empty.csv", "The file is empty"),
    ],
)
def test_form_errors_are_shown_and_create_no_job(as_user, ctx, kind, content, filename, message):
    client = as_user(WAREHOUSE)
    data = {"kind": kind}
    if content is not None:
        data["file"] = (io.BytesIO(content.encode()), filename)
    response = client.send("POST", "/office/imports", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count(ImportJob.id))) == 0


def test_a_file_over_the_limit_is_refused_with_the_limit(app, as_user, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1000)
    response = upload(as_user(ADMIN), "stock", "sku,stock\n" + "MCU-STM32F401,5\n" * 200)
    assert response.status_code == 422
    assert "The file is larger than 1,000 bytes" in unescape(response.get_data(as_text=True))
    # Far over the limit: refused before the body is read, with the same clear message.
    big = upload(as_user(ADMIN), "stock", "sku,stock\n" + "MCU-STM32F401,5\n" * 20_000)
    assert big.status_code == 413
    assert "split it into smaller files" in unescape(big.get_data(as_text=True))
    assert db.session.scalar(select(func.count(ImportJob.id))) == 0


# Products -----------------------------------------------------------------------------


def test_products_are_created_and_updated_and_costs_kept(as_user, ctx):
    before = product("CAP-1206-10U")
    old_cost = before.cost
    response = upload(
        as_user(ADMIN),
        "products",
        "SKU,Name,Category,Base price,Unit\n"
        "cap-1206-10u,Capacitor 10 µF 1206 X7R,,0.19,\n"
        "NEW-WIDGET-1,Flux widget,Passive components,2.5,reel\n",
        filename="../prices.csv",
    )
    job = job_of(response)
    assert (job.status, job.filename, job.applied_lines, job.error_count) == (
        "done",
        "prices.csv",
        2,
        0,
    )
    assert job.message == "2 lines applied: 1 created, 1 updated."
    updated = product("CAP-1206-10U")
    assert updated.name == "Capacitor 10 µF 1206 X7R"
    assert updated.base_price == Decimal("0.19")
    assert updated.cost == old_cost  # no cost column: the cost stays
    assert updated.category.slug == "capacitors"  # empty cell: unchanged
    created = product("NEW-WIDGET-1")
    assert (created.name, created.unit, created.stock, created.cost) == (
        "Flux widget",
        "reel",
        0,
        Decimal("0"),
    )
    assert created.category.slug == "passives"
    assert created.search_key == "new-widget-1 flux widget"
    (entry,) = audits("import.applied")
    assert entry.actor.email == ADMIN
    assert entry.after["created"] == 1 and entry.after["updated"] == 1
    # The new product is found by the storefront's search, with its offer.
    shop = as_user("orders@acme.test").get("/shop/?q=flux").get_data(as_text=True)
    assert "Flux widget" in shop and "€2.50" in shop


def test_a_cost_column_is_refused_without_the_costs_permission(as_user, ctx):
    cost = product("CAP-1206-10U").cost
    job = job_of(
        upload(as_user(WAREHOUSE), "products", "sku,base_price,cost\nCAP-1206-10U,0.20,0.01\n")
    )
    assert job.status == "rejected"
    assert job.errors == [
        {
            "line": 1,
            "column": "cost",
            "message": "The file has a cost column, but your role does not include costs and "
            "margins: remove the column and upload the file again.",
        }
    ]
    db.session.rollback()
    assert product("CAP-1206-10U").cost == cost
    assert product("CAP-1206-10U").base_price == Decimal("0.18")
    # With the costs permission the same file applies.
    job = job_of(
        upload(as_user(ADMIN), "products", "sku,base_price,cost\nCAP-1206-10U,0.20,0.01\n")
    )
    assert job.status == "done"
    assert product("CAP-1206-10U").cost == Decimal("0.01")


def test_ten_thousand_lines_with_one_bad_line_apply_nothing_and_name_the_line(as_user, ctx):
    count = product_count()
    response = upload(as_user(ADMIN), "products", new_products(10_000, bad_line=5_001))
    job = job_of(response)
    assert job.status == "rejected"
    assert (job.total_lines, job.applied_lines, job.error_count) == (10_000, 0, 1)
    assert job.errors == [
        {
            "line": 5001,
            "column": "base_price",
            "message": "The base price must be a number, such as 12.50. Found “12,50”.",
        }
    ]
    assert job.message.startswith("Nothing was applied: 1 of 10,000 lines have errors.")
    assert product_count() == count
    (entry,) = audits("import.rejected")
    assert entry.after["wrong_lines"] == 1 and entry.after["lines"] == 10_000
    page = as_user(ADMIN).get(f"/office/imports/{job.id}").get_data(as_text=True)
    row = find_all(page, class_="num")
    assert any(cell.text == "5001" for cell in row)
    assert "Found “12,50”" in unescape(page) and "Nothing applied" in page


def test_apply_the_valid_lines_applies_the_rest(as_user, ctx):
    count = product_count()
    job = job_of(
        upload(as_user(ADMIN), "products", new_products(10_000, bad_line=5_001), apply_valid=True)
    )
    assert job.status == "done"
    assert (job.total_lines, job.applied_lines, job.error_count) == (10_000, 9_999, 1)
    assert job.message == "9,999 lines applied: 9,999 created. 1 line with errors left out."
    assert product_count() == count + 9_999
    assert product("BULK-05000") is None  # the wrong line (line 5,001 holds BULK-05000)
    assert product("BULK-04999").base_price == Decimal("53.99")
    assert audits("import.applied")[0].after["wrong_lines"] == 1


# Stock levels and group prices ------------------------------------------------------------


def test_a_stock_import_sets_levels_with_movements(as_user, ctx):
    mcu, cap, usb = product("MCU-STM32F401"), product("CAP-1206-10U"), product("CON-USBC-16P")
    job = job_of(
        upload(
            as_user(WAREHOUSE),
            "stock",
            "sku,stock,reason\nMCU-STM32F401,4200,stocktake May\nCAP-1206-10U,36,\n"
            "CON-USBC-16P,120,\n",
            filename="count.csv",
        )
    )
    assert job.status == "done"
    assert job.message == "3 lines applied: 2 changed, 1 unchanged."
    db.session.rollback()
    assert (product("MCU-STM32F401").stock, product("CON-USBC-16P").stock) == (4200, 120)
    moves = {
        m.product_id: m
        for m in db.session.scalars(select(StockMovement).where(StockMovement.kind == "import"))
    }
    assert set(moves) == {mcu.id, usb.id}  # CAP's count did not change: no movement
    assert (moves[mcu.id].stock_before, moves[mcu.id].stock_after, moves[mcu.id].delta) == (
        4217,
        4200,
        -17,
    )
    assert moves[mcu.id].reason == "stocktake May"
    assert moves[usb.id].reason == "Stock import count.csv"
    assert moves[usb.id].user.email == WAREHOUSE
    assert cap.id not in moves


def test_a_group_price_import_changes_the_offers(as_user, ctx):
    wholesale, partner = group("Wholesale"), group("Partner")
    job = job_of(
        upload(
            as_user(MANAGER),
            "group_prices",
            "sku,group,price\nCAP-1206-10U,wholesale,0.1\nCAP-1206-10U,Partner,\n"
            "CON-USBC-16P,Standard,0.85\n",
        )
    )
    assert job.status == "done"
    assert job.message == "3 lines applied: 1 added, 1 changed, 1 removed."
    db.session.rollback()
    cap, usb = product("CAP-1206-10U"), product("CON-USBC-16P")
    assert offer_for(wholesale, cap).price == Decimal("0.1")
    assert offer_for(partner, cap).price == Decimal("0.18")  # back to the base price
    assert offer_for(partner, cap).price_source == "base"
    assert offer_for(group("Standard"), usb).price == Decimal("0.85")
    prices = db.session.scalars(select(GroupPrice).where(GroupPrice.product_id == cap.id))
    assert {gp.group_id for gp in prices} == {wholesale.id}


# Reports, pages and jobs --------------------------------------------------------------------


def test_an_unreadable_file_gets_a_report_naming_the_problem(as_user, ctx):
    raw = upload(as_user(WAREHOUSE), "stock", b"sku,stock,reason\nMCU-STM32F401,3,caf\xe9\n")
    job = job_of(raw)
    assert job.status == "rejected"
    assert job.message.startswith("Nothing was applied: The file is not UTF-8: byte 0xE9 on line 2")
    page = unescape(as_user(WAREHOUSE).get(f"/office/imports/{job.id}").get_data(as_text=True))
    assert "byte 0xE9 on line 2" in page and "Upload a corrected file" in page


def test_the_errors_are_paged_and_downloadable(as_user, ctx):
    lines = "".join(f"MCU-STM32F401,x{i}\n" for i in range(120))
    job = job_of(upload(as_user(ADMIN), "stock", "sku,stock\n" + lines))
    assert job.error_count == 239 and len(job.errors) == 239  # 120 numbers, 119 repeats
    client = as_user(ADMIN)
    first = client.get(f"/office/imports/{job.id}").get_data(as_text=True)
    table = find(first, class_="table table--compact import-errors")
    assert table.inner_html.count("<tr>") == 51  # the head and 50 errors
    assert "Page 1 of 5" in first
    last = client.get(f"/office/imports/{job.id}?page=5").get_data(as_text=True)
    assert find(last, class_="table table--compact import-errors").inner_html.count("<tr>") == 40
    beyond = client.get(f"/office/imports/{job.id}?page=9").get_data(as_text=True)
    assert "There is no page 9; the errors end on page 5." in beyond
    assert client.get(f"/office/imports/{job.id}?page=0").status_code == 400
    download = client.get(f"/office/imports/{job.id}/errors.csv")
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert download.headers["Content-Disposition"].startswith(
        f'attachment; filename="import-{job.id}-errors-'
    )
    text = download.get_data(as_text=True)
    assert text.startswith("\ufeffline,column,message\r\n2,stock,")
    assert text.count("\r\n") == 240


def test_errors_beyond_the_kept_ones_are_counted(as_user, ctx, monkeypatch):
    # The job that runs the import reads its limits (core.imports.running).
    monkeypatch.setattr(running, "limits_of", lambda config: imports.Limits(max_errors=3))
    lines = "".join(f"MCU-STM32F401,x{i}\n" for i in range(5))
    job = job_of(upload(as_user(ADMIN), "stock", "sku,stock\n" + lines))
    assert (job.error_count, len(job.errors)) == (9, 3)
    page = as_user(ADMIN).get(f"/office/imports/{job.id}").get_data(as_text=True)
    assert "The first 3 of 9 errors are kept" in page
    text = as_user(ADMIN).get(f"/office/imports/{job.id}/errors.csv").get_data(as_text=True)
    assert text.rstrip().endswith(",,… and 6 more errors: only the first 3 are kept.")


def test_an_import_is_its_starters_alone(as_user, ctx):
    job = job_of(upload(as_user(ADMIN), "stock", "sku,stock\nMCU-STM32F401,4217\n"))
    for url in (f"/office/imports/{job.id}", f"/office/imports/{job.id}/errors.csv"):
        assert as_user(ADMIN).get(url).status_code == 200
        assert as_user(MANAGER).get(url).status_code == 404
        assert as_user(WAREHOUSE).get(url).status_code == 404
    listed = as_user(ADMIN).get("/office/imports").get_data(as_text=True)
    assert f'id="import-row-{job.id}"' in listed
    assert f'id="import-row-{job.id}"' not in as_user(MANAGER).get("/office/imports").get_data(
        as_text=True
    )


def test_a_running_job_is_live_and_polls_and_a_finished_one_is_not(as_user, ctx):
    job = imports.create_job(user(ADMIN), "stock", "count.csv", apply_valid=False)
    db.session.commit()
    page = as_user(ADMIN).get(f"/office/imports/{job.id}").get_data(as_text=True)
    region = re.search(rf'<section id="import-{job.id}"[^>]*>', page).group(0)
    assert "data-live" in region and 'hx-trigger="every 3s"' in region
    assert "Waiting to start" in page
    fragment = as_user(ADMIN).htmx(f"/office/imports/{job.id}").get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<section id="import-{job.id}"')
    assert "<html" not in fragment
    imports.run(job.id, b"sku,stock\nMCU-STM32F401,4217\n", imports.Limits())
    done = as_user(ADMIN).get(f"/office/imports/{job.id}").get_data(as_text=True)
    region = re.search(rf'<section id="import-{job.id}"[^>]*>', done).group(0)
    assert "data-live" not in region and "hx-trigger" not in region
    assert "1 line applied: 1 unchanged." in done


def test_a_job_left_running_by_a_dead_process_shows_as_stopped(as_user, ctx):
    job = imports.create_job(user(ADMIN), "stock", "count.csv", apply_valid=False)
    job.status = "validating"
    job.created_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    page = as_user(ADMIN).get(f"/office/imports/{job.id}").get_data(as_text=True)
    region = re.search(rf'<section id="import-{job.id}"[^>]*>', page).group(0)
    assert "stopped before it finished" in page and "data-live" not in region


def test_an_import_runs_as_a_job_of_the_in_process_queue(app, as_user, ctx):
    count = product_count()
    with queue_kind(app):
        response = upload(as_user(ADMIN), "products", new_products(3_000, prefix="THREAD"))
        job_id = int(response.headers["Location"].rsplit("/", 1)[1])
        job = until(lambda: done_import(job_id), 60, "the import to finish")
    assert (job.status, job.applied_lines) == ("done", 3_000)
    assert product_count() == count + 3_000
    [queued] = jobs_of(imports.IMPORT_TASK, job_id)
    assert (queued.id, queued.state, queued.attempts) == (job.queue_job_id, "done", 1)
    assert imports.stored_file(job_id) is None  # applied: its file is no longer kept


def done_import(job_id: int) -> ImportJob | None:
    job = fresh(ImportJob, job_id)
    return job if job.status not in imports.RUNNING else None


def test_the_import_checks_the_permission_again_when_it_runs(ctx):
    from core import roles
    from core.models import Role

    job = imports.create_job(user(WAREHOUSE), "stock", "count.csv", apply_valid=False)
    db.session.commit()
    warehouse = db.session.scalar(select(Role).where(Role.preset == "warehouse"))
    roles.set_permissions(warehouse, warehouse.permissions - {"stock.edit"}, actor=user(ADMIN))
    db.session.commit()
    imports.run(job.id, b"sku,stock\nMCU-STM32F401,1\n", imports.Limits())
    db.session.rollback()
    job = db.session.get(ImportJob, job.id)
    assert job.status == "rejected"
    assert "Your role no longer includes this import." in job.message
    assert product("MCU-STM32F401").stock == 4217


# Live ---------------------------------------------------------------------------------------


def test_progress_is_pushed_live_to_the_starter_only(app, connect, ctx, monkeypatch):
    write = imports.Reporter.write

    def unhurried(self, **values):
        write(self, **values)
        time.sleep(0.2)  # time for the live layer to render this step before the next

    monkeypatch.setattr(imports.Reporter, "write", unhurried)
    admin, manager = connect(ADMIN), connect(MANAGER)
    job = imports.create_job(user(ADMIN), "products", "bulk.csv", apply_valid=False)
    db.session.commit()
    for ws in (admin, manager):  # the manager crafts a watch list naming the admin's import
        watch(ws, {f"import-{job.id}"})
    time.sleep(0.3)
    with queue_kind(app, IMPORT_PROGRESS_LINES=500):
        imports.enqueue(job, new_products(2_000, prefix="LIVE").encode())
        db.session.commit()
        until(lambda: done_import(job.id), 60, "the import to finish")
    messages = drain(admin, 3.0)
    text = "".join(messages)
    assert f'id="import-{job.id}"' in text
    assert "Checking lines" in text and re.search(r'<progress [^>]*value="\d+"', text)
    assert "2,000 lines applied: 2,000 created." in messages[-1]
    assert "data-live" not in messages[-1]  # finished: the page stops watching it
    assert drain(manager, 0.5) == []


def test_a_large_import_sends_one_catalogue_signal(app, connect, ctx):
    shop = connect("orders@acme.test")
    watch(shop, {"catalog-results"})
    time.sleep(0.3)
    job = imports.create_job(user(ADMIN), "products", "bulk.csv", apply_valid=False)
    db.session.commit()
    imports.run(job.id, new_products(30, prefix="SIG").encode(), imports.Limits(live_events=10))
    messages = drain(shop, 1.5)
    assert messages == ['<div id="live-signal" hidden data-refresh="catalog-results"></div>']


def test_a_modest_import_pushes_each_changed_offer(app, connect, ctx):
    cap = product("CAP-1206-10U")
    shop = connect("orders@acme.test")
    watch(shop, {f"offer-{cap.id}"})
    time.sleep(0.3)
    job = imports.create_job(user(MANAGER), "group_prices", "p.csv", apply_valid=False)
    db.session.commit()
    imports.run(job.id, b"sku,group,price\nCAP-1206-10U,Wholesale,0.1111\n", imports.Limits())
    text = "".join(drain(shop, 2.0, expect=1))
    assert f'id="offer-{cap.id}"' in text and "€0.1111" in text
