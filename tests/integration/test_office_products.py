"""Back-office products: create and edit with their rules, costs only for the costs
permission, photos checked by content, archive or delete, restore, and live catalogues."""

import io
import re
import time
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from core import carts, events, photos, products
from core.models import (
    AuditEntry,
    Category,
    CustomerGroup,
    GroupPrice,
    OrderLine,
    Product,
    ProductPhoto,
    StockMovement,
)
from extensions import db
from tests.costs import shows
from tests.html import find
from tests.records import user
from tests.sockets import drain, watch

ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"
WAREHOUSE = "warehouse@portal.test"
ANNA = "anna.sales@portal.test"
FINANCE = "finance@portal.test"
VIEWER = "viewer@portal.test"
MCU = "MCU-STM32F401"  # base 6.40, cost 3.90, Wholesale 5.20, Partner 6.00, stock 4217


# Helpers ------------------------------------------------------------------------------


def product(sku: str) -> Product | None:
    db.session.rollback()
    return db.session.scalar(select(Product).where(Product.sku == sku))


def group_id(name: str) -> int:
    return db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == name))


def category_id(slug: str) -> int:
    return db.session.scalar(select(Category.id).where(Category.slug == slug))


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def audit_actions(target: int) -> list[str]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_type == "products", AuditEntry.target_id == target)
            .order_by(AuditEntry.id)
        )
    )


def errors(html: str) -> str:
    """Every message a form shows: above it and next to its fields."""
    found = re.findall(r'<p class="(?:field__error|flash[^"]*)"[^>]*>(.*?)</p>', html, re.DOTALL)
    return unescape(" ".join(found))


def flashes(html: str) -> str:
    return unescape(" ".join(re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', html, re.S)))


def image(fmt: str = "PNG", size=(48, 32), color=(20, 120, 200), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


def new_product(**overrides) -> dict:
    data = {
        "sku": "SEN-QX7741",
        "name": "BME280 pressure sensor",
        "category": "",
        "unit": "pcs",
        "description": "Temperature, humidity and pressure.",
        "specs-key": ["Interface", "Package", ""],
        "specs-value": ["I2C / SPI", "LGA-8", ""],
        "base_price": "3.20",
        "cost": "1.15",
        "stock": "120",
    }
    data.update(overrides)
    return data


def create(client, **overrides):
    return client.send("POST", "/office/products/new", data=new_product(**overrides))


def edit_data(found: Product, **overrides) -> dict:
    data = {
        "sku": found.sku,
        "name": found.name,
        "category": str(found.category_id or ""),
        "unit": found.unit,
        "description": found.description,
        "specs-key": list(found.specs),
        "specs-value": list(found.specs.values()),
        "base_price": str(found.base_price),
        "cost": str(found.cost),
    }
    data.update(overrides)
    return data


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    """A fresh photo folder for this test: what is on disk is what this test stored."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    return tmp_path / photos.SUBFOLDER


def status_of(client, url: str) -> int:
    """The status of a GET, with the response closed (a served file stays open till then)."""
    response = client.get(url)
    response.close()
    return response.status_code


def stored_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*")) if folder.exists() else []


@pytest.fixture
def published():
    """Every event published after a commit during the test, as (topic, id)."""
    seen = []

    def collect(batch):
        seen.extend((e.topic, e.id) for e in batch)

    events.subscribe(collect)
    yield seen
    events.unsubscribe(collect)


# Creating -------------------------------------------------------------------------------


def test_admin_creates_a_product_with_specs_group_price_and_opening_stock(as_user, ctx, published):
    admin = as_user(ADMIN)
    wholesale = group_id("Wholesale")
    response = create(
        admin,
        sku=" sen-qx7741 ",
        category=str(category_id("sensors")),
        **{f"group_{wholesale}": "2.75"},
    )
    assert response.status_code == 302, errors(response.get_data(as_text=True))
    created = product("SEN-QX7741")  # stored in capitals
    assert response.headers["Location"].endswith(f"/office/products/{created.id}")
    assert (created.name, created.base_price, created.cost, created.stock, created.unit) == (
        "BME280 pressure sensor",
        Decimal("3.2000"),
        Decimal("1.1500"),
        120,
        "pcs",
    )
    assert created.specs == {"Interface": "I2C / SPI", "Package": "LGA-8"}
    assert not created.is_archived
    prices = dict(
        db.session.execute(
            select(GroupPrice.group_id, GroupPrice.price).where(GroupPrice.product_id == created.id)
        ).all()
    )
    assert prices == {wholesale: Decimal("2.7500")}
    movement = db.session.scalar(
        select(StockMovement).where(StockMovement.product_id == created.id)
    )
    assert (movement.kind, movement.delta, movement.stock_after) == ("initial", 120, 120)
    assert movement.user_id == user(ADMIN).id
    assert audit_actions(created.id) == ["product.created", "price.changed"]
    assert ("product_created", created.id) in published
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "is created and on sale" in flashes(page)
    facts = find(page, id=f"product-facts-{created.id}").text
    assert "€3.20" in facts and "€1.15" in facts and "64.1%" in facts and "120" in facts
    assert "Wholesale €2.75" in facts and "Standard €3.20 base" in facts
    assert "LGA-8" in page


def test_the_form_for_warehouse_has_no_cost_and_no_group_prices(as_user, ctx):
    html = as_user(WAREHOUSE).get("/office/products/new").get_data(as_text=True)
    assert 'name="base_price"' in html and 'name="stock"' in html
    assert 'name="cost"' not in html and "Cost" not in html
    assert "group_" not in html and "Wholesale" not in html
    admin = as_user(ADMIN).get("/office/products/new").get_data(as_text=True)
    assert 'name="cost"' in admin and f'name="group_{group_id("Wholesale")}"' in admin


def test_warehouse_creates_a_product_and_a_smuggled_cost_is_ignored(as_user, ctx):
    response = create(as_user(WAREHOUSE), cost="99.00", **{f"group_{group_id('Wholesale')}": "1"})
    assert response.status_code == 302
    created = product("SEN-QX7741")
    assert created.cost == Decimal("0")  # finance enters it
    assert (
        db.session.scalar(select(GroupPrice.id).where(GroupPrice.product_id == created.id)) is None
    )


VALIDATION = [
    ({"sku": ""}, "Give the product a SKU."),
    ({"sku": "mcu-stm32f401"}, "There is already a product with SKU MCU-STM32F401."),
    ({"sku": "BAD SKU!"}, "A SKU uses letters, digits and - _ . / + only"),
    ({"sku": "X" * 65}, "A SKU has at most 64 characters."),
    ({"name": "   "}, "Give the product a name."),
    ({"name": "n" * 201}, "A name has at most 200 characters."),
    ({"base_price": ""}, "Enter the base price, such as 12.50."),
    ({"base_price": "abc"}, "The base price must be a number, such as 12.50."),
    ({"base_price": "-1"}, "The base price cannot be negative."),
    ({"base_price": "1.23456"}, "The base price has at most 4 decimals."),
    ({"base_price": "1000000"}, "The base price must be below 1,000,000."),
    ({"base_price": "1e9"}, "The base price must be written out in digits, such as 12.50"),
    ({"base_price": "NaN"}, "The base price must be a number, such as 12.50."),
    ({"cost": "cheap"}, "The cost must be a number, such as 12.50."),
    ({"group_WHOLESALE": "-0.5"}, "The Wholesale price cannot be negative."),
    ({"stock": "-3"}, "Enter a whole number from 0 to 10,000,000."),
    ({"stock": "lots"}, "Enter a whole number from 0 to 10,000,000"),
    ({"category": "999999"}, "Choose one of the categories."),
    ({"unit": "u" * 17}, "A unit has at most 16 characters."),
    (
        {"specs-key": ["Package", "package"], "specs-value": ["LGA-8", "QFN"]},
        "“package” is listed twice: each name once.",
    ),
    (
        {"specs-key": ["", "x"], "specs-value": ["3.3 V", "y"]},
        "The specification “3.3 V” needs a name.",
    ),
    ({"specs-key": ["Voltage"], "specs-value": [""]}, "Give “Voltage” a value, or clear the row."),
    (
        {"specs-key": ["k" * 61], "specs-value": ["v"]},
        "A specification name has at most 60 characters.",
    ),
    (
        {"specs-key": ["Note"], "specs-value": ["v" * 201]},
        "The value of “Note” has at most 200 characters.",
    ),
    (
        {"specs-key": [f"k{i}" for i in range(31)], "specs-value": ["v"] * 31},
        "A product has at most 30 specifications.",
    ),
]


@pytest.mark.parametrize(("change", "message"), VALIDATION, ids=[m for _, m in VALIDATION])
def test_create_refusals_say_what_to_fix_and_keep_what_was_typed(as_user, ctx, change, message):
    change = {
        (f"group_{group_id('Wholesale')}" if k == "group_WHOLESALE" else k): v
        for k, v in change.items()
    }
    before = count(Product), count(StockMovement), count(AuditEntry)
    name = change.pop("name", "Kept name 42")
    response = create(as_user(ADMIN), name=name, **change)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in errors(html)
    assert "Nothing was saved" in html
    assert (count(Product), count(StockMovement), count(AuditEntry)) == before
    # What was typed comes back, so nothing is lost.
    if name == "Kept name 42":
        assert 'value="Kept name 42"' in html
    if "specs-key" not in change:
        assert 'value="LGA-8"' in html


def test_specification_rows_are_added_and_removed_without_saving(as_user, ctx):
    admin = as_user(ADMIN)
    before = count(Product)
    added = admin.send("POST", "/office/products/new", data=new_product(spec_action="add"))
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and count(Product) == before
    assert html.count('name="specs-key"') == 4  # the two typed, one blank, one added
    assert 'value="LGA-8"' in html and "Nothing was saved" not in html
    removed = admin.send("POST", "/office/products/new", data=new_product(spec_action="remove-0"))
    html = removed.get_data(as_text=True)
    assert 'value="I2C / SPI"' not in html and 'value="LGA-8"' in html
    assert count(Product) == before


# Editing and costs ------------------------------------------------------------------------


def test_edit_changes_details_and_prices_with_their_own_events_and_audit(as_user, ctx, published):
    mcu = product(MCU)
    partner = group_id("Partner")
    response = as_user(ADMIN).send(
        "POST",
        f"/office/products/{mcu.id}/edit",
        data=edit_data(
            mcu,
            name="STM32F401 MCU, LQFP-64",
            base_price="6.50",
            cost="4.00",
            **{"specs-key": ["Core", "Flash"], "specs-value": ["Cortex-M4", "256 KB"]},
            **{f"group_{partner}": "", f"group_{group_id('Wholesale')}": "5.20"},
        ),
    )
    assert response.status_code == 302
    mcu = product(MCU)
    assert (mcu.name, mcu.base_price, mcu.cost) == (
        "STM32F401 MCU, LQFP-64",
        Decimal("6.5000"),
        Decimal("4.0000"),
    )
    assert mcu.specs == {"Core": "Cortex-M4", "Flash": "256 KB"}
    own = products.group_prices(mcu)
    assert partner not in own and own[group_id("Wholesale")] == Decimal("5.2000")
    assert audit_actions(mcu.id)[-2:] == ["product.updated", "price.changed"]
    updated = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "product.updated")
        .order_by(AuditEntry.id.desc())
    )
    assert "cost" in updated.summary
    assert updated.after["specs"] == ["Core: Cortex-M4", "Flash: 256 KB"]  # read as a diff
    assert "4.00" not in str(updated.before) + str(updated.after)  # costs stay out of the log
    assert {("product_changed", mcu.id), ("price_changed", mcu.id)} <= set(published)


def test_warehouse_edits_a_product_and_its_cost_is_kept(as_user, ctx):
    mcu = product(MCU)
    warehouse = as_user(WAREHOUSE)
    page = warehouse.get(f"/office/products/{mcu.id}/edit").get_data(as_text=True)
    assert not shows(page, "3.90") and 'name="cost"' not in page and "group_" not in page
    data = edit_data(mcu, name="STM32F401 microcontroller, tray", cost="0.01")
    response = warehouse.send("POST", f"/office/products/{mcu.id}/edit", data=data)
    assert response.status_code == 302
    mcu = product(MCU)
    assert mcu.name == "STM32F401 microcontroller, tray"
    assert mcu.cost == Decimal("3.9000")
    assert products.group_prices(mcu)[group_id("Wholesale")] == Decimal("5.2000")


@pytest.mark.parametrize("email", [WAREHOUSE, ANNA, VIEWER])
def test_no_cost_or_margin_anywhere_without_the_costs_permission(as_user, ctx, email):
    mcu = product(MCU)
    c = as_user(email)
    pages = [
        c.get(f"/office/products/{mcu.id}"),
        c.get("/office/products?q=STM32"),
        c.htmx("/office/products?q=STM32"),
        c.get(f"/office/products/{mcu.id}/photos"),
    ]
    if email == WAREHOUSE:
        pages.append(c.get(f"/office/products/{mcu.id}/edit"))
        refused = c.send(
            "POST", f"/office/products/{mcu.id}/edit", data=edit_data(mcu, base_price="x")
        )
        assert refused.status_code == 422
        pages.append(refused)
        pages.append(create(c, sku="", cost="3.90"))
    for response in pages:
        html = response.get_data(as_text=True)
        assert response.status_code in (200, 422)
        assert not shows(html, "3.90"), response.request.path
        assert "Cost" not in html and "Margin" not in html and "margin" not in html


def test_costs_and_margins_on_the_product_page_for_finance(as_user, ctx):
    mcu = product(MCU)
    html = as_user(FINANCE).get(f"/office/products/{mcu.id}").get_data(as_text=True)
    facts = find(html, id=f"product-facts-{mcu.id}").text
    assert "Cost €3.90" in facts and "Margin 39.1%" in facts
    assert "In stock" not in facts  # finance has no stock.view
    assert "Wholesale" not in facts  # nor groups.view
    assert f'id="stock-movements-{mcu.id}"' not in html
    assert "Edit" not in find(html, class_="actions").text


def test_sales_see_group_prices_and_stock_but_no_actions(as_user, ctx):
    mcu = product(MCU)
    html = as_user(ANNA).get(f"/office/products/{mcu.id}").get_data(as_text=True)
    facts = find(html, id=f"product-facts-{mcu.id}").text
    assert "Wholesale €5.20" in facts and "Partner €6.00" in facts and "4217" in facts
    assert "Archive" not in html and "Delete" not in html and "Upload" not in html
    assert as_user(ANNA).get(f"/office/products/{mcu.id}/edit").status_code == 403


def test_edit_refusal_keeps_the_product_unchanged(as_user, ctx):
    mcu = product(MCU)
    cap = product("CAP-1206-10U")
    response = as_user(ADMIN).send(
        "POST", f"/office/products/{mcu.id}/edit", data=edit_data(mcu, sku=cap.sku.lower())
    )
    assert response.status_code == 422
    assert "There is already a product with SKU CAP-1206-10U." in errors(
        response.get_data(as_text=True)
    )
    assert product(MCU).sku == MCU
    # Its own SKU in another case is not a clash.
    same = as_user(ADMIN).send(
        "POST", f"/office/products/{mcu.id}/edit", data=edit_data(mcu, sku=MCU.lower())
    )
    assert same.status_code == 302


def test_unknown_products_are_404(as_user):
    admin = as_user(ADMIN)
    assert admin.get("/office/products/999999").status_code == 404
    assert admin.get("/office/products/999999/edit").status_code == 404
    assert admin.send("POST", "/office/products/999999/archive").status_code == 404


# Photos ------------------------------------------------------------------------------------


def upload(client, product_id: int, *files, htmx: bool = True):
    data = {"photos": [(io.BytesIO(content), name) for name, content in files]}
    return client.send(
        "POST",
        f"/office/products/{product_id}/photos",
        data=data,
        htmx=htmx,
        content_type="multipart/form-data",
    )


def test_a_photo_is_stored_with_a_thumbnail_and_served_to_who_may_see_it(as_user, ctx, uploads):
    mcu = product(MCU)
    admin = as_user(ADMIN)
    big = image("PNG", size=(2000, 1000))
    response = upload(admin, mcu.id, ("board photo.png", big))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Photo added." in html
    photo = db.session.scalar(select(ProductPhoto).where(ProductPhoto.product_id == mcu.id))
    assert (photo.content_type, photo.width, photo.height) == ("image/png", 1600, 800)
    assert photo.original_name == "board photo.png"
    assert re.fullmatch(r"[0-9a-f]{32}\.png", photo.filename)
    thumb = photos.thumb_name(photo.filename)
    assert stored_files(uploads) == sorted([photo.filename, thumb])
    with Image.open(uploads / thumb) as stored:
        assert stored.size == (320, 160)
    assert audit_actions(mcu.id)[-1] == "photo.added"
    assert thumb in html  # the component shows the thumbnail

    served = admin.get(f"/office/photos/{thumb}")
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.data == (uploads / thumb).read_bytes()
    served.close()

    customer = as_user("browse@carpathia.test")
    assert status_of(customer, f"/shop/photos/{photo.filename}") == 200
    shop_page = customer.get(f"/shop/products/{mcu.id}").get_data(as_text=True)
    assert f"/shop/photos/{thumb}" in shop_page
    assert status_of(customer, f"/office/photos/{thumb}") == 403
    products.archive(product(MCU), actor=None)
    db.session.commit()
    assert status_of(customer, f"/shop/photos/{photo.filename}") == 404
    assert status_of(admin, f"/office/photos/{photo.filename}") == 200  # staff still


def test_photos_of_the_office_product_page(as_user, ctx, uploads):
    mcu = product(MCU)
    admin = as_user(ADMIN)
    upload(admin, mcu.id, ("a.jpg", image("JPEG")), ("b.webp", image("WEBP")))
    first, second = db.session.scalars(
        select(ProductPhoto)
        .where(ProductPhoto.product_id == mcu.id)
        .order_by(ProductPhoto.position)
    )
    page = admin.get(f"/office/products/{mcu.id}").get_data(as_text=True)
    region = find(page, id=f"product-photos-{mcu.id}")
    assert region.inner_html.index(photos.thumb_name(first.filename)) < region.inner_html.index(
        photos.thumb_name(second.filename)
    )
    assert "Main photo" in region.text
    moved = admin.send(
        "POST",
        f"/office/products/{mcu.id}/photos/{second.id}/move",
        data={"step": "-1"},
        htmx=True,
    )
    assert moved.status_code == 200 and "Order saved." in moved.get_data(as_text=True)
    db.session.rollback()
    order = list(
        db.session.scalars(
            select(ProductPhoto.id)
            .where(ProductPhoto.product_id == mcu.id)
            .order_by(ProductPhoto.position)
        )
    )
    assert order == [second.id, first.id]


def test_removing_a_photo_removes_its_files(as_user, ctx, uploads, published):
    mcu = product(MCU)
    admin = as_user(ADMIN)
    upload(admin, mcu.id, ("a.png", image()))
    photo = db.session.scalar(select(ProductPhoto.id).where(ProductPhoto.product_id == mcu.id))
    assert len(stored_files(uploads)) == 2
    response = admin.send("POST", f"/office/products/{mcu.id}/photos/{photo}/delete", htmx=True)
    assert response.status_code == 200 and "Photo removed." in response.get_data(as_text=True)
    assert stored_files(uploads) == []
    assert count(ProductPhoto) == 0
    assert audit_actions(mcu.id)[-1] == "photo.removed"
    assert ("photos_changed", mcu.id) in published
    # A photo that is gone is not found (nor is another product's, see load_photo).
    assert admin.send("POST", f"/office/products/{mcu.id}/photos/{photo}/delete").status_code == 404


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10), 1).save(out, "GIF")
    return out.getvalue()


REFUSED = [
    (
        "notes.png",
        b"Totally a picture, trust me.\n" * 10,
        "“notes.png” is not a picture we can read",
    ),
    ("cat.gif", None, "“cat.gif” is a GIF"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "an SVG drawing"),
    ("huge.png", b"\x89PNG" + b"0" * 3000, "“huge.png” is larger than 2 KB"),
]


@pytest.mark.parametrize(("name", "content", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_wrong_or_oversized_files_are_refused_and_nothing_is_stored(
    app, as_user, ctx, uploads, monkeypatch, name, content, message
):
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 2048)
    mcu = product(MCU)
    audits = count(AuditEntry)
    response = upload(as_user(ADMIN), mcu.id, ("fine.png", image()), (name, content or gif()))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in unescape(html)
    assert stored_files(uploads) == []  # the fine one neither: all or nothing
    assert count(ProductPhoto) == 0 and count(AuditEntry) == audits


def test_a_pixel_bomb_is_refused(app, as_user, ctx, uploads, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_PIXELS", 1000)
    response = upload(as_user(ADMIN), product(MCU).id, ("wide.png", image(size=(100, 50))))
    assert response.status_code == 422
    assert "100 × 50 pixels: at most 0.001 megapixels" in unescape(response.get_data(as_text=True))
    assert stored_files(uploads) == []


def test_a_plain_form_upload_without_javascript_redirects_with_the_message(as_user, ctx, uploads):
    mcu = product(MCU)
    response = upload(as_user(WAREHOUSE), mcu.id, ("x.txt", b"hello"), htmx=False)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/office/products/{mcu.id}#product-photos-{mcu.id}"
    )
    page = as_user(WAREHOUSE).get(f"/office/products/{mcu.id}")
    assert page.status_code == 200
    assert upload(as_user(WAREHOUSE), mcu.id).status_code == 422  # no file chosen


def test_creating_with_a_photo_stores_both_or_neither(as_user, ctx, uploads):
    admin = as_user(ADMIN)
    data = new_product()
    data["photos"] = [(io.BytesIO(gif()), "not-allowed.gif")]
    refused = admin.send(
        "POST", "/office/products/new", data=data, content_type="multipart/form-data"
    )
    assert refused.status_code == 422
    assert "is a GIF" in unescape(refused.get_data(as_text=True))
    assert "Choose the pictures again" in refused.get_data(as_text=True)
    assert product("SEN-QX7741") is None and stored_files(uploads) == []
    data = new_product()
    data["photos"] = [(io.BytesIO(image("JPEG")), "front.jpg")]
    created = admin.send(
        "POST", "/office/products/new", data=data, content_type="multipart/form-data"
    )
    assert created.status_code == 302
    found = product("SEN-QX7741")
    assert [p.original_name for p in found.photos] == ["front.jpg"]
    assert len(stored_files(uploads)) == 2


def test_a_rolled_back_upload_leaves_no_files(app, ctx, uploads):
    mcu = product(MCU)
    photos.add(
        mcu,
        [photos.Upload("a.png", image())],
        actor=None,
        upload_dir=app.config["UPLOAD_DIR"],
        max_pixels=1_000_000,
    )
    assert len(stored_files(uploads)) == 2
    db.session.rollback()
    assert stored_files(uploads) == []


# Archive, delete, restore ------------------------------------------------------------------


def ordered_product() -> Product:
    """A product that some order names."""
    return db.session.scalar(
        select(Product).where(Product.id.in_(select(OrderLine.product_id))).order_by(Product.id)
    )


def test_deleting_a_product_with_orders_archives_it(as_user, ctx, published):
    found = ordered_product()
    admin = as_user(ADMIN)
    page = admin.get(f"/office/products/{found.id}").get_data(as_text=True)
    assert "appears in orders" in page and "Archive" in page
    assert f"/office/products/{found.id}/delete" not in page
    response = admin.send("POST", f"/office/products/{found.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/office/products/{found.id}")
    db.session.rollback()
    kept = db.session.get(Product, found.id)
    assert kept is not None and kept.is_archived
    assert "so it is archived instead of deleted" in flashes(
        admin.get(f"/office/products/{found.id}").get_data(as_text=True)
    )
    assert ("product_removed", found.id) in published
    assert audit_actions(found.id)[-1] == "product.archived"


def test_a_product_only_in_a_cart_is_archived_not_deleted(as_user, ctx):
    created = products.create(
        sku="TMP-CART", name="In a cart", base_price="1", cost="0", stock=10, actor=None
    )
    db.session.commit()
    carts.add(user("request@acme.test"), created.id, 2)
    db.session.commit()
    response = as_user(MANAGER).send("POST", f"/office/products/{created.id}/delete", htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].endswith(f"/office/products/{created.id}")
    assert product("TMP-CART").is_archived


def test_deleting_an_unused_product_removes_it_and_everything_of_it(
    as_user, ctx, uploads, published
):
    admin = as_user(ADMIN)
    create(admin, **{f"group_{group_id('Wholesale')}": "2.00"})
    found = product("SEN-QX7741")
    found_id = found.id
    upload(admin, found.id, ("a.png", image()))
    assert len(stored_files(uploads)) == 2
    page = admin.get(f"/office/products/{found_id}").get_data(as_text=True)
    assert f"/office/products/{found_id}/delete" in page and "appears in" not in page
    response = admin.send("POST", f"/office/products/{found_id}/delete", htmx=True)
    assert response.headers["HX-Redirect"].endswith("/office/products")
    assert product("SEN-QX7741") is None
    for model in (StockMovement, GroupPrice, ProductPhoto):
        assert (
            db.session.scalar(
                select(func.count()).select_from(model).where(model.product_id == found_id)
            )
            == 0
        )
    assert stored_files(uploads) == []
    assert audit_actions(found_id)[-1] == "product.deleted"
    assert ("product_removed", found_id) in published
    assert "SEN-QX7741 is deleted." in flashes(admin.get("/office/products").get_data(as_text=True))


def test_service_refuses_to_delete_what_orders_name(ctx):
    with pytest.raises(products.ProductRefused, match=r"appears in orders.*archive it instead"):
        products.delete(ordered_product(), actor=None)


@pytest.mark.parametrize("email", [WAREHOUSE, ANNA, VIEWER])
def test_without_products_delete_nothing_is_archived_or_deleted(as_user, ctx, email):
    found = product(MCU)
    for action in ("archive", "delete"):
        assert (
            as_user(email).send("POST", f"/office/products/{found.id}/{action}").status_code == 403
        )
    assert not product(MCU).is_archived
    page = as_user(email).get(f"/office/products/{found.id}").get_data(as_text=True)
    assert "/archive" not in page and '/delete"' not in page


def test_archive_and_restore(as_user, ctx, published):
    found = product(MCU)
    manager = as_user(MANAGER)
    manager.send("POST", f"/office/products/{found.id}/archive")
    assert product(MCU).is_archived
    listed = manager.get("/office/products?status=archived").get_data(as_text=True)
    assert MCU in listed and "1 archived product" in listed
    assert MCU not in manager.get("/office/products?q=STM32").get_data(as_text=True)
    assert as_user("orders@acme.test").get(f"/shop/products/{found.id}").status_code == 404
    page = manager.get(f"/office/products/{found.id}").get_data(as_text=True)
    assert "Archived: customers no longer see this product." in page and "Restore" in page
    manager.send("POST", f"/office/products/{found.id}/restore")
    assert not product(MCU).is_archived
    assert ("product_removed", found.id) in published and ("product_created", found.id) in published
    assert audit_actions(found.id)[-2:] == ["product.archived", "product.restored"]
    assert as_user(MANAGER).get("/office/products?status=nope").status_code == 400


# Live ---------------------------------------------------------------------------------------


def test_a_new_product_refreshes_every_open_catalogue_with_its_own_offer(as_user, connect, ctx):
    wholesale, standard = connect("orders@acme.test"), connect("orders@carpathia.test")
    staff = connect(WAREHOUSE)
    for ws in (wholesale, standard):
        watch(ws, {"catalog-results"})
    watch(staff, {"products-table"})
    time.sleep(0.3)
    create(as_user(ADMIN), **{f"group_{group_id('Wholesale')}": "2.75"})
    for ws in (wholesale, standard):
        assert 'data-refresh="catalog-results"' in "".join(drain(ws, 2.0, expect=1))
    assert 'data-refresh="products-table"' in "".join(drain(staff, 2.0, expect=1))
    # The lists then re-fetch themselves, each with its group's offer.
    acme = as_user("orders@acme.test").htmx("/shop/?q=SEN-QX7741").get_data(as_text=True)
    carpathia = as_user("orders@carpathia.test").htmx("/shop/?q=SEN-QX7741").get_data(as_text=True)
    assert "€2.75" in acme and "120 in stock" in acme
    # Read as the page's text: a token or an id in the markup may hold any digits.
    carpathia_text = find(carpathia, id="catalog-results").text
    assert "€3.20" in carpathia_text and "Many" in carpathia_text and "120" not in carpathia_text


def test_deleting_a_product_refreshes_open_catalogues(as_user, connect, ctx):
    created = products.create(sku="TMP-DEL", name="Temp", base_price="1", cost="0", actor=None)
    db.session.commit()
    ws = connect("orders@baltic.test")
    watch(ws, {"catalog-results"})
    time.sleep(0.3)
    as_user(ADMIN).send("POST", f"/office/products/{created.id}/delete")
    assert 'data-refresh="catalog-results"' in "".join(drain(ws, 2.0, expect=1))


def test_an_edit_refreshes_catalogues_and_pushes_facts_per_audience(as_user, connect, ctx):
    mcu = product(MCU)
    customer, manager, warehouse = (
        connect("orders@acme.test"),
        connect(MANAGER),
        connect(WAREHOUSE),
    )
    watch(customer, {"catalog-results", f"product-facts-{mcu.id}"})
    for ws in (manager, warehouse):
        watch(ws, {f"product-facts-{mcu.id}"})
    time.sleep(0.3)
    as_user(ADMIN).send(
        "POST",
        f"/office/products/{mcu.id}/edit",
        data=edit_data(mcu, name="STM32F401 (new name)", base_price="6.60"),
    )
    to_customer = "".join(drain(customer, 1.5))
    assert 'data-refresh="catalog-results"' in to_customer
    assert "product-facts" not in to_customer
    to_manager = "".join(drain(manager, 2.0, expect=1))
    to_warehouse = "".join(drain(warehouse, 2.0, expect=1))
    assert "€6.60" in to_manager and "€3.90" in to_manager
    assert "€6.60" in to_warehouse and "€3.90" not in to_warehouse and "Margin" not in to_warehouse


def test_an_upload_above_the_form_limit_is_refused_with_the_limits(
    app, as_user, ctx, uploads, monkeypatch
):
    """Beyond MAX_CONTENT_LENGTH Werkzeug stops reading: the page still says what to do."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    mcu = product(MCU)
    big = ("big.png", b"\x89PNG" + b"0" * (64 * 1024 + 10))
    for htmx in (True, False):
        response = upload(as_user(ADMIN), mcu.id, big, htmx=htmx)
        text = unescape(response.get_data(as_text=True))
        assert response.status_code == 413
        assert "larger than the 64 KB a form may send" in text and "Photos may be at most" in text
    assert stored_files(uploads) == [] and count(ProductPhoto) == 0
