"""What a customer group may see (issue 16, part 6): categories and single products hidden
from chosen groups, everywhere their people look, and the back office that manages it.

Demo: the Displays category (seven products under Optoelectronics) is hidden from Standard
(Carpathia Makers). The tests hide RLY-AQY212, a relay, on its own as well. Standard sees
levels and accepts back-orders, but asks for no quotes: the quote form is Partner's
(Baltic Drones) here.
"""

import csv
import io
import re
import time

import pytest
from PIL import Image
from sqlalchemy import func, select

from core import audit, carts, catalog, lists, photos, quotes, stock, visibility
from core.errors import FieldRefused, NotFound, Refused
from core.models import AuditEntry, Category, CustomerGroup, Product
from core.offer import GroupPolicy
from extensions import db
from tests.delivery import form as delivery_form
from tests.html import find
from tests.integration.test_live_pages import watching
from tests.integration.test_orders_concurrency import run_threads
from tests.integration.test_races import client_of
from tests.records import company, pid, place, product, user
from tests.sockets import drain, watch
from tests.statements import listening

HIDDEN = "RLY-AQY212"  # a relay, hidden from a group on its own in these tests
DISPLAY = "DSP-EPD-29"  # in Displays, which the demo hides from Standard
CAP, MCU, USBC = "CAP-1206-10U", "MCU-STM32F401", "CON-USBC-16P"
ADMIN, MANAGER, VIEWER = "admin@portal.test", "manager@portal.test", "viewer@portal.test"
STANDARD_PEOPLE = ("orders@carpathia.test", "request@carpathia.test", "browse@carpathia.test")


def text(response) -> str:
    return response.get_data(as_text=True)


def group(name: str) -> CustomerGroup:
    return db.session.scalar(select(CustomerGroup).where(CustomerGroup.name == name))


def category_id(slug: str) -> int:
    return db.session.scalar(select(Category.id).where(Category.slug == slug))


def hide(group_name: str, sku: str = HIDDEN) -> None:
    """Hide one product from a group through the service, committed."""
    visibility.hide_product(group(group_name), sku, actor=user(ADMIN))
    db.session.commit()


def on_sale_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Product).where(Product.sold()))


def skus_on(html: str) -> set[str]:
    return set(re.findall(r'data-sku="([^"]+)"', html))


def category_boxes(html: str) -> dict[str, str]:
    """The category tree's checkboxes: value -> the rest of the tag (checked, disabled)."""
    found = re.findall(r'<input type="checkbox" name="category" value="(\d+)"([^>]*)>', html)
    return dict(found)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


# --- the demo, and what a group's hidden things are ---------------------------------------


def test_the_demo_hides_displays_from_standard_and_the_contract_rows_from_nobody(ctx):
    standard = visibility.hidden_for(group("Standard").id)
    assert standard.categories == {category_id("displays")}
    assert standard.products == frozenset()
    for name in ("Wholesale", "Partner"):
        assert not visibility.hidden_for(group(name).id)
    for sku in (MCU, CAP, USBC):
        for name in ("Wholesale", "Partner", "Standard"):
            assert visibility.available(product(sku), group(name).id), (sku, name)
    assert not visibility.available(product(DISPLAY), group("Standard").id)
    assert visibility.hidden_for(None) == visibility.NOTHING  # staff


def test_a_hidden_category_hides_every_category_below_it(ctx):
    partner = group("Partner")
    optoelectronics = category_id("optoelectronics")
    assert visibility.set_categories(partner, [optoelectronics], actor=user(ADMIN))
    db.session.commit()
    hidden = visibility.hidden_for(partner.id)
    assert hidden.categories == {optoelectronics, category_id("leds"), category_id("displays")}
    assert hidden.hides(product("LED-0603-RED")) and hidden.hides(product(DISPLAY))
    assert not hidden.hides(product(MCU))
    # A subcategory ticked with its parent is implied by it, and not kept on its own: once
    # the parent is shown again, so is the subcategory.
    changed = visibility.set_categories(
        partner, [optoelectronics, category_id("leds")], actor=user(ADMIN)
    )
    assert changed is False
    assert visibility.chosen_categories(partner) == {optoelectronics}
    assert visibility.set_categories(partner, [], actor=user(ADMIN))
    db.session.commit()
    assert not visibility.hidden_for(partner.id)


def test_changes_are_checked_and_audited(ctx):
    standard = group("Standard")
    with pytest.raises(FieldRefused, match="do not exist any more"):
        visibility.set_categories(standard, [999_999], actor=user(ADMIN))
    for typed, message in (
        ("", "Enter the SKU of the product to hide."),
        ("NO-SUCH-PART", "There is no product with the SKU “NO-SUCH-PART”."),
        (DISPLAY, f"{DISPLAY} is already hidden from Standard with its category, Displays."),
    ):
        with pytest.raises(FieldRefused) as refused:
            visibility.hide_product(standard, typed, actor=user(ADMIN))
        assert str(refused.value) == message
    found = visibility.hide_product(standard, f"  {HIDDEN.lower()} ", actor=user(ADMIN))
    assert found.sku == HIDDEN
    with pytest.raises(FieldRefused, match="already hidden from Standard"):
        visibility.hide_product(standard, HIDDEN, actor=user(ADMIN))
    visibility.show_product(standard, pid(HIDDEN), actor=user(ADMIN))
    with pytest.raises(NotFound):
        visibility.show_product(standard, pid(HIDDEN), actor=user(ADMIN))
    db.session.commit()
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "group.visibility_changed")
        .order_by(AuditEntry.id)
    ).all()
    assert [e.summary for e in entries] == [
        f"{HIDDEN} hidden from Standard",
        f"{HIDDEN} shown to Standard again",
    ]
    assert entries[0].actor_email == ADMIN and entries[0].target_id == standard.id
    assert "group.visibility_changed" in audit.ACTIONS


def test_what_a_group_may_not_see_is_read_once_and_a_change_at_once(app, as_user, ctx):
    """At most one statement a transaction, none while this process keeps it, and the next
    request after a change sees the change."""
    shopper = as_user("browse@carpathia.test")
    shopper.get("/shop/")
    read = []

    def hidden_reads(conn, cursor, statement, parameters, context, executemany):
        if "group_hidden" in statement:
            read.append(statement)

    with listening(app, hidden_reads):
        assert skus_on(text(shopper.get(f"/shop/?q={HIDDEN}"))) == {HIDDEN}
        assert skus_on(text(shopper.get(f"/shop/?q={HIDDEN}"))) == {HIDDEN}
    assert read == []  # kept in this process
    hub = app.extensions["live_hub"]
    before = hub.groups_state()
    hide("Standard")
    # Moved on at once by the commit (and once more when Redis brings the change back).
    assert hub.groups_state() > before
    settled = before + (2 if app.config.get("REDIS_URL") else 1)
    deadline = time.monotonic() + 5
    while hub.groups_state() != settled and time.monotonic() < deadline:
        time.sleep(0.01)
    assert hub.groups_state() == settled
    with listening(app, hidden_reads):
        assert skus_on(text(shopper.get(f"/shop/?q={HIDDEN}"))) == set()
        assert skus_on(text(shopper.get(f"/shop/?q={HIDDEN}"))) == set()
    assert len(read) == 1  # read again once after the change, then kept again


# --- the catalogue ---------------------------------------------------------------------


def test_the_catalogue_leaves_out_what_the_group_may_not_see(ctx):
    hide("Standard")
    standard, partner = GroupPolicy.of(group("Standard")), GroupPolicy.of(group("Partner"))
    displays = db.session.scalar(
        select(func.count()).where(Product.category_id == category_id("displays"))
    )
    everything = catalog.browse(partner, per_page=96).total
    assert everything == on_sale_count()
    assert catalog.browse(standard, per_page=96).total == everything - displays - 1
    for sort in catalog.SORTS:
        seen, page = set(), 1
        while True:
            listing = catalog.browse(standard, sort=sort, page=page, per_page=96)
            seen |= {p.sku for p, _offer in listing.rows}
            if not listing.has_next:
                break
            page += 1
        assert HIDDEN not in seen and DISPLAY not in seen, sort
        assert len(seen) == everything - displays - 1, sort
    relays = db.session.scalar(select(Category).where(Category.slug == "relays"))
    assert catalog.browse(standard, category=relays).total == 5
    assert catalog.browse(partner, category=relays).total == 6
    for q in (HIDDEN, "AQY212", "solid-state", "E-paper"):
        assert catalog.browse(standard, q=q).total == 0, q
        assert catalog.browse(partner, q=q).total >= 1, q
    assert catalog.browse(None, q=HIDDEN).total == 1  # staff see everything


def test_the_storefront_category_tree_and_pages_follow(as_user, ctx):
    shopper = as_user("browse@carpathia.test")
    page = text(shopper.get("/shop/"))
    assert "category=displays" not in page and "category=leds" in page
    assert shopper.get("/shop/?category=displays").status_code == 404
    assert "category=displays" in text(as_user("browse@baltic.test").get("/shop/"))
    count = find(text(shopper.get("/shop/?category=optoelectronics")), class_="results__count")
    assert count.text.strip() == "19 products in Optoelectronics"  # the LEDs alone


def test_a_hidden_products_page_and_photos_are_not_found_for_the_group(app, as_user, ctx):
    hide("Standard")
    added = photos.add(
        product(HIDDEN),
        [photos.Upload("relay.png", png())],
        actor=None,
        upload_dir=app.config["UPLOAD_DIR"],
        max_pixels=1_000_000,
    )
    db.session.commit()
    name = added[0].filename
    for email in STANDARD_PEOPLE:
        shopper = as_user(email)
        assert shopper.get(f"/shop/products/{pid(HIDDEN)}").status_code == 404
        assert shopper.get(f"/shop/products/{pid(DISPLAY)}").status_code == 404
        for filename in (name, photos.thumb_name(name)):
            response = shopper.get(f"/shop/photos/{filename}")
            response.close()
            assert response.status_code == 404
    other = as_user("browse@baltic.test")
    assert other.get(f"/shop/products/{pid(HIDDEN)}").status_code == 200
    response = other.get(f"/shop/photos/{name}")
    response.close()
    assert response.status_code == 200
    staff = as_user(ADMIN)
    page = text(staff.get(f"/office/products/{pid(HIDDEN)}"))
    assert find(page, class_="product-hidden-from").text.strip() == "Standard"
    page = text(staff.get(f"/office/products/{pid(DISPLAY)}"))
    assert find(page, class_="product-hidden-from").text.strip() == "Standard"
    assert (
        find(text(staff.get(f"/office/products/{pid(MCU)}")), class_="product-hidden-from") is None
    )
    warehouse = text(as_user("warehouse@portal.test").get(f"/office/products/{pid(HIDDEN)}"))
    assert "product-hidden-from" not in warehouse  # groups are not theirs to see


# --- the back office ------------------------------------------------------------------------


def visibility_part(html: str):
    return find(html, id="group-visibility")


def test_the_groups_page_manages_what_it_sees(as_user, ctx):
    standard = group("Standard")
    staff = as_user(MANAGER)
    part = visibility_part(text(staff.get(f"/office/groups/{standard.id}")))
    assert "7 products on sale are hidden from this group." in part.text
    boxes = category_boxes(part.inner_html)
    displays, leds = str(category_id("displays")), str(category_id("leds"))
    assert len(boxes) == db.session.scalar(select(func.count()).select_from(Category))
    assert "checked" in boxes[displays] and "disabled" not in boxes[displays]
    assert "checked" not in boxes[leds]

    # Hide a product by SKU (any case): the component comes back with it listed.
    url = f"/office/groups/{standard.id}/visibility/products"
    answer = staff.send("POST", url, data={"sku": HIDDEN.lower()}, htmx=True)
    assert answer.status_code == 200
    part = visibility_part(text(answer))
    assert f"{HIDDEN} is hidden from Standard" in part.text
    row = find(part.inner_html, **{"data-sku": HIDDEN})
    assert row is not None and product(HIDDEN).name in row.text
    assert 'hx-confirm="Show RLY-AQY212 to Standard again? Its customers see it at once."' in (
        row.inner_html
    )
    assert "8 products on sale are hidden" in part.text
    # Wrong SKUs are said next to the field, and change nothing.
    for typed, message in (
        ("", "Enter the SKU of the product to hide."),
        ("NOPE-1", "There is no product with the SKU “NOPE-1”."),
        (HIDDEN, "RLY-AQY212 is already hidden from Standard."),
        ("x" * 65, "A SKU has at most 64 characters."),
    ):
        refused = staff.send("POST", url, data={"sku": typed}, htmx=True)
        assert refused.status_code == 422, typed
        error = find(text(refused), class_="field__error")
        assert error is not None and error.text.strip() == message, typed
    # Categories: the parent ticked hides its subcategories, shown ticked and locked.
    optoelectronics = category_id("optoelectronics")
    answer = staff.send(
        "POST",
        f"/office/groups/{standard.id}/visibility/categories",
        data={"category": [str(optoelectronics)]},
        htmx=True,
    )
    part = visibility_part(text(answer))
    boxes = category_boxes(part.inner_html)
    assert "checked" in boxes[leds] and "disabled" in boxes[leds]
    assert "Hidden with the category above it" in part.text
    assert "27 products on sale are hidden" in part.text  # 19 LEDs, 7 displays, the relay
    bad = staff.send(
        "POST",
        f"/office/groups/{standard.id}/visibility/categories",
        data={"category": ["x1"]},
    )
    assert bad.status_code == 400
    # Show the product again, as the confirmed button does.
    answer = staff.send(
        "POST", f"/office/groups/{standard.id}/visibility/products/{pid(HIDDEN)}/show", htmx=True
    )
    assert "RLY-AQY212 is shown to Standard again." in text(answer)
    assert find(text(answer), **{"data-sku": HIDDEN}) is None
    db.session.rollback()
    assert visibility.hidden_for(standard.id).categories == {
        optoelectronics,
        category_id("leds"),
        category_id("displays"),
    }
    actions = db.session.scalars(
        select(AuditEntry.summary).where(AuditEntry.action == "group.visibility_changed")
    ).all()
    assert actions == [
        f"{HIDDEN} hidden from Standard",
        "Hidden categories of Standard changed",
        f"{HIDDEN} shown to Standard again",
    ]


def test_two_people_hiding_one_product_at_once_get_a_clear_answer_each(app, ctx):
    """Changes of one group queue behind its row lock: one hides the product, the other is
    told it is hidden already (never a 500 from the second insert)."""
    standard = group("Standard")
    url = f"/office/groups/{standard.id}/visibility/products"
    clients = [client_of(app, email) for email in (ADMIN, MANAGER)]
    for _attempt in range(4):
        results = run_threads(
            app, 2, lambda i: clients[i].send("POST", url, data={"sku": HIDDEN}, htmx=True)
        )
        assert sorted(r.status_code for r in results) == [200, 422], results
        refused = next(r for r in results if r.status_code == 422)
        assert "RLY-AQY212 is already hidden from Standard." in text(refused)
        db.session.rollback()
        assert visibility.hidden_for(standard.id).products == {pid(HIDDEN)}
        visibility.show_product(standard, pid(HIDDEN), actor=user(ADMIN))
        db.session.commit()


def test_without_javascript_the_forms_redirect_back_with_a_notice(as_user, ctx):
    standard = group("Standard")
    staff = as_user(ADMIN)
    response = staff.send(
        "POST", f"/office/groups/{standard.id}/visibility/products", data={"sku": HIDDEN}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/office/groups/{standard.id}#group-visibility")
    page = text(staff.get(f"/office/groups/{standard.id}"))
    assert "RLY-AQY212 is hidden from Standard" in page
    refused = staff.send(
        "POST", f"/office/groups/{standard.id}/visibility/products", data={"sku": "NOPE-1"}
    )
    assert refused.status_code == 422 and "<html" in text(refused)
    assert "There is no product with the SKU “NOPE-1”." in text(refused)


def test_readers_see_what_the_group_sees_without_controls(as_user, ctx):
    hide("Standard")
    standard = group("Standard")
    part = visibility_part(text(as_user(VIEWER).get(f"/office/groups/{standard.id}")))
    assert find(part.inner_html, **{"data-sku": HIDDEN}) is not None
    assert "<button" not in part.inner_html and 'name="sku"' not in part.inner_html
    boxes = category_boxes(part.inner_html)
    assert boxes and all("disabled" in rest for rest in boxes.values())
    alone = as_user(VIEWER).htmx(f"/office/groups/{standard.id}/visibility")
    assert alone.status_code == 200 and "<html" not in text(alone)
    assert text(alone).lstrip().startswith('<section id="group-visibility"')


def test_hidden_products_are_listed_a_page_at_a_time(as_user, ctx):
    standard = group("Standard")
    skus = db.session.scalars(
        select(Product.sku)
        .where(Product.sold(), Product.category_id != category_id("displays"))
        .order_by(Product.sku)
        .limit(30)
    ).all()
    for sku in skus:
        visibility.hide_product(standard, sku, actor=user(ADMIN))
    db.session.commit()
    staff = as_user(ADMIN)
    first = text(staff.get(f"/office/groups/{standard.id}"))
    assert re.findall(r'<tr data-sku="([^"]+)"', first) == skus[:25]
    assert "Page 1 of 2" in visibility_part(first).text
    second = text(staff.htmx(f"/office/groups/{standard.id}/visibility?page=2"))
    assert "<html" not in second
    assert re.findall(r'<tr data-sku="([^"]+)"', second) == skus[25:]
    whole = text(staff.get(f"/office/groups/{standard.id}/visibility?page=2"))  # no JavaScript
    assert "<html" in whole and 'id="policy-title"' in whole
    assert re.findall(r'<tr data-sku="([^"]+)"', whole) == skus[25:]


# --- live ---------------------------------------------------------------------------------


def test_a_change_reaches_the_groups_open_pages_and_no_other(app, as_user, connect, ctx):
    relay, mcu = pid(HIDDEN), pid(MCU)
    regions = {
        "catalog-results",
        f"offer-{relay}",
        f"product-status-{relay}",
        f"product-status-{mcu}",
    }
    standard = connect("browse@carpathia.test")
    partner = connect("browse@baltic.test")
    watching(app, standard, "browse@carpathia.test", regions)
    watching(app, partner, "browse@baltic.test", regions)
    drain(standard, 0.2)
    drain(partner, 0.2)

    answer = as_user(MANAGER).send(
        "POST",
        f"/office/groups/{group('Standard').id}/visibility/products",
        data={"sku": HIDDEN},
        htmx=True,
    )
    assert answer.status_code == 200
    pushed = "".join(drain(standard, 3.0, expect=1))
    # The product page that shows the relay now says it is no longer available, with no
    # offer; the catalogue re-fetches itself; the page of a product still sold is as it was.
    status = find(pushed, id=f"product-status-{relay}")
    assert status is not None and "This product is no longer available." in status.text
    assert "product-status--gone" in status.attrs["class"]
    still = find(pushed, id=f"product-status-{mcu}")
    assert still is not None and still.text.strip() == ""
    assert 'data-refresh="catalog-results"' in pushed
    assert f'id="offer-{relay}"' not in pushed and "data-price" not in pushed
    # Another group's open pages hear nothing of it.
    assert drain(partner, 0.5) == []


def test_a_hidden_product_is_pushed_to_no_one_of_its_group(app, connect, ctx):
    hide("Standard")
    relay = pid(HIDDEN)
    standard = connect("orders@carpathia.test")
    partner = connect("orders@baltic.test")
    for ws, email in ((standard, "orders@carpathia.test"), (partner, "orders@baltic.test")):
        watching(app, ws, email, {f"offer-{relay}"})  # crafted, for Standard's page
    stock.set_level(relay, 321, reason="leak test", actor=None)
    db.session.commit()
    assert f'id="offer-{relay}"' in "".join(drain(partner, 3.0, expect=1))
    assert drain(standard, 0.5) == []
    # Nor on a page's first load (its resync), whatever the watch list says.
    watch(standard, {f"offer-{relay}", "nav"}, mode="load")
    loaded = "".join(drain(standard, 2.0, expect=1))
    assert 'id="nav"' in loaded and f"offer-{relay}" not in loaded


def test_a_product_status_never_tells_hidden_from_missing(app, connect, ctx):
    hide("Standard")
    ws = connect("browse@carpathia.test")
    regions = {
        f"product-status-{pid(HIDDEN)}",
        "product-status-987654",
        f"product-status-{pid(CAP)}",
    }
    watch(ws, regions, mode="reconnect")
    pushed = "".join(drain(ws, 3.0, expect=1))
    hidden = find(pushed, id=f"product-status-{pid(HIDDEN)}")
    missing = find(pushed, id="product-status-987654")
    assert hidden.inner_html.strip() == missing.inner_html.strip() != ""
    assert find(pushed, id=f"product-status-{pid(CAP)}").inner_html.strip() == ""


# --- the leak test: a hidden product never reaches the group it is hidden from --------------


@pytest.fixture
def kept_then_hidden(ctx):
    """Carpathia's list, cart and an order with the relay, kept before it was hidden from
    Standard; a photo of it."""
    requester, decider = user("request@carpathia.test"), user("orders@carpathia.test")
    kept = lists.create(requester, "Relay board")
    lists.add_line(requester, kept.id, HIDDEN, 4, "K1")
    lists.add_line(requester, kept.id, CAP, 20)
    carts.add(decider, pid(HIDDEN), 2)
    carts.add(decider, pid(CAP), 10)
    db.session.commit()
    order = place("carpathia", {HIDDEN: 3, CAP: 10})
    hide("Standard")
    return {"list": kept.id, "order": order.id}


def no_trace(body: str, where) -> None:
    """The relay is not there: not its SKU (unless the person typed it), its name, nor a
    region or link of its id."""
    relay = product(HIDDEN)
    assert f'data-sku="{HIDDEN}"' not in body and relay.name not in body, where
    assert HIDDEN not in body or HIDDEN in str(where), where
    assert f"offer-{relay.id}" not in body and f"/products/{relay.id}" not in body, where


def test_leak_catalogue_search_and_counts(app, as_user, monkeypatch, ctx):
    hide("Standard")
    monkeypatch.setitem(app.config, "CATALOG_PAGE_SIZE", 96)
    shopper = as_user("browse@carpathia.test")
    for sort in catalog.SORTS:
        page, seen = 1, set()
        while True:
            body = text(shopper.get(f"/shop/?sort={sort}&page={page}"))
            no_trace(body, (sort, page))
            seen |= skus_on(body)
            if 'rel="next"' not in body:
                break
            page += 1
        assert len(seen) == on_sale_count() - 8, sort  # 7 displays, 1 relay
    for url in (
        f"/shop/?q={HIDDEN}",
        "/shop/?q=AQY",
        "/shop/?q=solid-state",
        "/shop/?q=relay",
        "/shop/?category=relays",
        "/shop/?category=electromechanical&sort=price",
        "/shop/?q=rly&category=relays&sort=-price",
    ):
        body = text(shopper.get(url))
        no_trace(body, url)
    count = find(text(shopper.get("/shop/?category=relays")), class_="results__count")
    assert count.text.strip() == "5 products in Relays"
    fragment = text(shopper.htmx("/shop/?q=AQY212"))
    assert "No product matches" in fragment


def test_leak_lists_and_their_export(as_user, kept_then_hidden):
    list_id = kept_then_hidden["list"]
    relay = product(HIDDEN)
    for email in STANDARD_PEOPLE:
        page = text(as_user(email).get(f"/shop/lists/{list_id}"))
        row = find(page, **{"data-sku": HIDDEN})
        assert row is not None and "Unavailable: not sold any more." in row.text
        assert "data-price" not in row.inner_html and "offer-" not in row.inner_html
        assert f"/shop/products/{relay.id}" not in row.inner_html
        assert "€" not in row.text
        exported = text(as_user(email).get(f"/shop/lists/{list_id}.csv")).lstrip("\ufeff")
        rows = {r["sku"]: r for r in csv.DictReader(io.StringIO(exported))}
        assert (
            rows[HIDDEN]["unit_price"] == "" and rows[HIDDEN]["availability"] == "Not sold any more"
        )
        assert rows[CAP]["unit_price"] != ""
    editor = as_user("request@carpathia.test")
    # Into the cart: the relay is refused as not sold, the rest goes in.
    went = editor.send("POST", f"/shop/lists/{list_id}/cart", data={"multiplier": "1"}, htmx=True)
    assert "RLY-AQY212 is not sold any more." in text(went)
    # Typed or imported again, it reads as an unknown SKU.
    typed = editor.send(
        "POST", f"/shop/lists/{list_id}/lines", data={"sku": HIDDEN, "quantity": "1"}, htmx=True
    )
    assert "There is no product with the SKU “RLY-AQY212”." in text(typed)
    assert "not sold any more" not in text(typed)
    data = f"sku,quantity\n{HIDDEN},2\nNOPE-1,2\n".encode()
    imported = editor.send(
        "POST",
        f"/shop/lists/{list_id}/import",
        data={"file": (io.BytesIO(data), "lines.csv")},
        content_type="multipart/form-data",
    )
    body = text(imported)
    assert "There is no product with the SKU “RLY-AQY212”." in body
    assert "There is no product with the SKU “NOPE-1”." in body
    # From its page or card: not found.
    assert editor.get(f"/shop/lists/add?product_id={relay.id}").status_code == 404
    assert (
        editor.send(
            "POST",
            "/shop/lists/add",
            data={"product_id": relay.id, "list_id": list_id, "quantity": "1"},
        ).status_code
        == 404
    )


def test_leak_quick_order_reads_a_hidden_sku_as_unknown(as_user, ctx):
    hide("Standard")
    shopper = as_user("orders@carpathia.test")
    hidden = text(shopper.send("POST", "/shop/quick-order", data={"lines": f"{HIDDEN} 5"}))
    unknown = text(shopper.send("POST", "/shop/quick-order", data={"lines": "RLY-NOPE99 5"}))
    hidden_line, unknown_line = (
        find(hidden, **{"data-line": "1"}),
        find(unknown, **{"data-line": "1"}),
    )
    assert (
        hidden_line.attrs
        == unknown_line.attrs
        == {
            "data-line": "1",
            "data-state": "problem",
            "class": "quick-order-line",
        }
    )
    assert hidden_line.text.replace(HIDDEN, "SKU") == unknown_line.text.replace("RLY-NOPE99", "SKU")
    assert "There is no product with the SKU “RLY-AQY212”." in hidden
    assert product(HIDDEN).name not in hidden
    added = shopper.send("POST", "/shop/quick-order/cart", data={"lines": f"{HIDDEN} 5\n{CAP} 10"})
    assert added.status_code == 302
    cart = carts.open_cart(user("orders@carpathia.test"))
    assert [line.product_id for line in cart.lines] == [pid(CAP)]


def test_leak_reorder_cart_and_checkout(as_user, kept_then_hidden):
    decider = as_user("orders@carpathia.test")
    cart = text(decider.get("/shop/cart"))
    row = find(cart, class_="cart-line cart-line--unsold")
    assert row is not None and HIDDEN in row.text and "Not sold any more" in row.text
    assert f"/shop/products/{pid(HIDDEN)}" not in cart and f"offer-{pid(HIDDEN)}" not in cart
    refused = decider.send(
        "POST", "/shop/cart/checkout", data=delivery_form("carpathia"), htmx=True
    )
    assert refused.status_code == 422
    assert "Some products are not sold any more (RLY-AQY212): remove them first." in text(refused)
    # Straight at the cart: not found, as a product that does not exist.
    added = decider.send(
        "POST", "/shop/cart/lines", data={"product_id": pid(HIDDEN), "quantity": "1"}, htmx=True
    )
    assert added.status_code == 404
    with pytest.raises(Refused, match=r"This product is not sold any more\."):
        carts.add(user("orders@carpathia.test"), pid(HIDDEN), 1)
    db.session.rollback()
    # Reorder: the relay is named as no longer sold; the capacitors go in.
    reordered = decider.send("POST", f"/shop/orders/{kept_then_hidden['order']}/reorder")
    assert reordered.status_code == 302
    flashed = text(decider.get("/shop/cart"))
    assert "RLY-AQY212: RLY-AQY212 is not sold any more." in flashed


def test_leak_quote_form_reads_a_hidden_sku_as_unknown(as_user, ctx):
    hide("Partner")
    asker = as_user("orders@baltic.test")
    fields = {"lines-0-sku": HIDDEN, "lines-0-quantity": "100", "action": "send", "note": ""}
    hidden = asker.send("POST", "/shop/quotes/new", data=fields)
    assert hidden.status_code == 422
    assert "No product with SKU RLY-AQY212 is for sale." in text(hidden)
    unknown = asker.send("POST", "/shop/quotes/new", data={**fields, "lines-0-sku": "RLY-NOPE99"})
    assert text(unknown).count("is for sale.") == text(hidden).count("is for sale.")
    assert product(HIDDEN).name not in text(hidden)
    prefilled = text(asker.get(f"/shop/quotes/new?sku={HIDDEN}&qty=5"))
    assert product(HIDDEN).name not in prefilled  # the SKU as typed, nothing found with it
    with pytest.raises(Refused, match="no longer sold"):
        quotes.request(company("baltic"), [(pid(HIDDEN), 5)], actor=user("orders@baltic.test"))
    db.session.rollback()


def test_staff_see_everything(as_user, ctx):
    hide("Standard")
    staff = as_user(MANAGER)
    assert HIDDEN in text(staff.get(f"/office/products?q={HIDDEN}"))
    assert staff.get(f"/office/products/{pid(HIDDEN)}").status_code == 200
    assert HIDDEN in text(staff.get("/office/exports/products"))
