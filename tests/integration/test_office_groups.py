"""Customer groups: their policy (live for their customers), deletion, and the price list
with bulk editing; bad input changes nothing."""

import re
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from blueprints.office.groups import plain
from core import events, groups
from core.models import AuditEntry, Category, Company, CustomerGroup, GroupPrice, Product
from core.offer import offer_for
from extensions import db
from tests.html import find
from tests.integration.test_office_users import ADMIN, person
from tests.records import product
from tests.sockets import drain, watch

ANNA = "anna.sales@portal.test"
MANAGER = "manager@portal.test"
VIEWER = "viewer@portal.test"


def group(name: str) -> CustomerGroup:
    db.session.rollback()
    return db.session.scalar(select(CustomerGroup).where(CustomerGroup.name == name))


def group_price(group_name: str, sku: str) -> Decimal | None:
    db.session.rollback()
    return db.session.scalar(
        select(GroupPrice.price)
        .join(CustomerGroup, CustomerGroup.id == GroupPrice.group_id)
        .join(Product, Product.id == GroupPrice.product_id)
        .where(CustomerGroup.name == group_name, Product.sku == sku)
    )


def snapshot() -> tuple:
    """Everything the group routes could change, to prove that nothing did."""
    db.session.rollback()
    queries = (
        "SELECT * FROM customer_groups ORDER BY id",
        "SELECT group_id, product_id, price FROM group_prices ORDER BY group_id, product_id",
        "SELECT COUNT(*) FROM audit_log",
    )
    return tuple(tuple(db.session.execute(text(q)).all()) for q in queries)


def policy(**changes) -> dict:
    data = {
        "name": "Distributors",
        "description": "Resellers with their own stock",
        "stock_display": "levels",
        "few_from": "5",
        "many_from": "500",
        "shows_promotions": "y",
        "quotes_allowed": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def policy_of(group_name: str, /, **changes) -> dict:
    g = group(group_name)
    data = {
        "name": g.name,
        "description": g.description,
        "stock_display": g.stock_display,
        "few_from": str(g.few_from),
        "many_from": str(g.many_from),
        "shows_promotions": "y" if g.shows_promotions else None,
        "quotes_allowed": "y" if g.quotes_allowed else None,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def audit(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def price_inputs(html: str) -> dict[str, str]:
    """SKU -> the value of its group price input, for the rows of a price list page."""
    found = {}
    for row in re.findall(r'<tr id="price-row-\d+"[^>]*>(.*?)</tr>', html, re.S):
        sku = re.search(r'<td class="mono">([^<]+)</td>', row).group(1)
        value = re.search(r'name="price-\d+" value="([^"]*)"', row)
        found[sku] = value.group(1) if value else None
    return found


# The list and one group --------------------------------------------------------------------


def test_the_list_shows_each_policy_with_its_companies_and_prices(as_user, ctx):
    html = as_user(ADMIN).get("/office/groups").get_data(as_text=True)
    table = find(html, id="groups-table")
    assert "data-live" in table.attrs
    rows = {
        g.name: find(html, id=f"group-row-{g.id}").text
        for g in db.session.scalars(select(CustomerGroup))
    }
    assert "Exact count" in rows["Wholesale"] and "Allowed" in rows["Wholesale"]
    assert "Levels" in rows["Standard"] and "Not shown" in rows["Standard"]
    counts = dict(
        db.session.execute(
            select(CustomerGroup.name, func.count(Company.id))
            .join(Company, Company.group_id == CustomerGroup.id)
            .group_by(CustomerGroup.name)
        ).all()
    )
    assert counts == {"Wholesale": 2, "Partner": 2, "Standard": 1}
    for name, count in counts.items():
        assert rows[name].endswith(str(count))


def test_a_sales_rep_counts_and_sees_only_their_companies(as_user, ctx):
    html = as_user(ANNA).get("/office/groups").get_data(as_text=True)
    wholesale, partner = group("Wholesale"), group("Partner")
    assert find(html, id=f"group-row-{wholesale.id}").text.endswith("1")  # Acme, not Etna
    assert find(html, id=f"group-row-{partner.id}").text.endswith("1")  # Baltic, not Delft
    page = as_user(ANNA).get(f"/office/groups/{wholesale.id}").get_data(as_text=True)
    assert "Acme Robotics" in page and "Etna Labs" not in page
    assert "1 not assigned to you" in page
    assert "<form" not in find(page, class_="card group-policy").inner_html  # no groups.edit


def test_unknown_group_is_404(as_user):
    assert as_user(ADMIN).get("/office/groups/999999").status_code == 404
    assert as_user(ADMIN).get("/office/groups/999999/prices").status_code == 404


# Creating and editing ----------------------------------------------------------------------


def test_the_new_form_starts_from_the_default_thresholds(as_user, ctx):
    html = as_user(ADMIN).get("/office/groups/new").get_data(as_text=True)
    assert re.search(r'name="few_from"[^>]*value="1"|value="1"[^>]*name="few_from"', html)
    assert re.search(r'name="many_from"[^>]*value="50"|value="50"[^>]*name="many_from"', html)


def test_a_manager_creates_a_group(as_user, ctx):
    response = as_user(MANAGER).send("POST", "/office/groups/new", data=policy())
    assert response.status_code == 302
    created = group("Distributors")
    assert response.headers["Location"] == f"/office/groups/{created.id}"
    assert (created.few_from, created.many_from) == (5, 500)
    assert created.shows_promotions and created.quotes_allowed
    assert created.stock_display == "levels"
    assert audit("group.created")[-1].after["name"] == "Distributors"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "Give the group a name."),
        ({"name": "wholesale"}, "There is already a group named"),
        ({"name": "x" * 81}, "at most 80 characters"),
        ({"stock_display": "fuzzy"}, "Choose how the group sees stock."),
        ({"few_from": "50", "many_from": "50"}, "“Many” must start above “Few”"),
        ({"few_from": "60", "many_from": "10"}, "“Many” must start above “Few”"),
        ({"few_from": "-1"}, "from 0 to"),
        ({"many_from": "lots"}, "A threshold is a whole number from 0"),
        ({"few_from": ""}, "Enter where “Few” starts."),
        ({"description": "d" * 256}, "at most 255 characters"),
    ],
)
def test_bad_policies_are_explained_and_change_nothing(as_user, ctx, changes, message):
    before = snapshot()
    response = as_user(MANAGER).send("POST", "/office/groups/new", data=policy(**changes))
    assert response.status_code == 422
    assert message in find(response.get_data(as_text=True), class_="card group-policy").text
    assert snapshot() == before
    partner = group("Partner").id
    response = as_user(MANAGER).send(
        "POST", f"/office/groups/{partner}", data=policy_of("Partner", **changes)
    )
    assert response.status_code == 422
    assert snapshot() == before


def test_editing_a_policy_audits_the_change(as_user, ctx):
    partner = group("Partner").id
    manager = as_user(MANAGER)
    response = manager.send(
        "POST", f"/office/groups/{partner}", data=policy_of("Partner", many_from="100")
    )
    assert response.status_code == 302
    assert group("Partner").many_from == 100
    entry = audit("group.changed")[-1]
    assert (entry.before, entry.after) == ({"many_from": 50}, {"many_from": 100})
    page = manager.get(f"/office/groups/{partner}").get_data(as_text=True)
    assert "its customers see the change now" in page
    shop = as_user("orders@baltic.test").get("/shop/?q=CAP-1206-10U").get_data(as_text=True)
    assert "Few" in shop  # 36 is below 100 now


def test_a_policy_change_reaches_the_groups_open_pages(connect, ctx):
    cap = product("CAP-1206-10U").id
    baltic = connect("orders@baltic.test")  # Partner
    watch(baltic, {f"offer-{cap}", "nav"})
    acme = connect("orders@acme.test")  # Wholesale: not concerned
    watch(acme, {f"offer-{cap}"})
    time.sleep(0.3)
    partner = group("Partner")
    groups.edit(
        partner,
        groups.GroupDetails(
            name=partner.name,
            description=partner.description,
            stock_display="exact",
            few_from=partner.few_from,
            many_from=partner.many_from,
            quotes_allowed=False,
            shows_promotions=partner.shows_promotions,
        ),
        actor=person(ADMIN),
    )
    db.session.commit()
    pushed = "".join(drain(baltic, 2.0))
    assert f'id="offer-{cap}"' in pushed and "36 in stock" in pushed
    nav = find(pushed, id="nav")
    assert "Quotes" not in nav.text  # quotes are no longer allowed for Partner
    assert drain(acme, 0.5) == []


# Deleting ----------------------------------------------------------------------------------


def test_a_group_with_companies_is_not_deleted(as_user, ctx):
    standard = group("Standard").id
    before = snapshot()
    manager = as_user(MANAGER)
    response = manager.send("POST", f"/office/groups/{standard}/delete")
    assert response.status_code == 302
    page = manager.get(f"/office/groups/{standard}").get_data(as_text=True)
    assert "Standard still has 1 company: move them to another group first." in page
    assert snapshot() == before


def test_an_empty_group_is_deleted_with_its_price_list(as_user, ctx):
    manager = as_user(MANAGER)
    manager.send("POST", "/office/groups/new", data=policy())
    created = group("Distributors").id
    cap = product("CAP-1206-10U").id
    manager.send(
        "POST", f"/office/groups/{created}/prices", data={f"price-{cap}": "0.15", f"was-{cap}": ""}
    )
    assert group_price("Distributors", "CAP-1206-10U") == Decimal("0.15")
    page = manager.get(f"/office/groups/{created}").get_data(as_text=True)
    assert "with its price list (1 price)" in page
    response = manager.send("POST", f"/office/groups/{created}/delete", htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/office/groups"
    assert group("Distributors") is None
    remaining = select(func.count(GroupPrice.id)).where(GroupPrice.group_id == created)
    assert db.session.scalar(remaining) == 0
    assert audit("group.deleted")[-1].before == {"name": "Distributors", "group prices": 1}


# The price list ----------------------------------------------------------------------------


def test_the_price_list_searches_filters_and_pages(as_user, ctx):
    wholesale = group("Wholesale").id
    client = as_user(VIEWER)
    html = client.get(f"/office/groups/{wholesale}/prices?q=STM32F401").get_data(as_text=True)
    row = find(html, id=f"price-row-{product('MCU-STM32F401').id}")
    assert "€6.40" in row.text and "€5.20" in row.text
    assert "<input" not in row.inner_html  # read-only without groups.edit
    everything = client.get(f"/office/groups/{wholesale}/prices").get_data(as_text=True)
    total = db.session.scalar(select(func.count(Product.id)).where(Product.sold()))
    assert f"{total} products" in everything and "Page 1 of" in everything
    priced = client.htmx(f"/office/groups/{wholesale}/prices?priced=yes").get_data(as_text=True)
    assert priced.lstrip().startswith(f'<div id="group-prices-{wholesale}"')
    with_price = db.session.scalar(
        select(func.count(GroupPrice.id))
        .join(Product, Product.id == GroupPrice.product_id)
        .where(GroupPrice.group_id == wholesale, Product.sold())
    )
    assert f"{with_price} products" in priced
    category = db.session.scalar(select(Category).where(Category.slug == "resistors"))
    in_category = client.get(f"/office/groups/{wholesale}/prices?category={category.id}").get_data(
        as_text=True
    )
    assert "category Resistors" in in_category and "RES-" in in_category
    assert "MCU-STM32F401" not in in_category


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=x", "priced=maybe", "category=abc", "category=999999", "q=" + "x" * 201],
)
def test_malformed_price_list_arguments_are_400(as_user, ctx, query):
    wholesale = group("Wholesale").id
    assert as_user(ADMIN).get(f"/office/groups/{wholesale}/prices?{query}").status_code == 400


def test_many_rows_are_saved_in_one_submit(as_user, ctx):
    wholesale = group("Wholesale").id
    mcu, cap, usb = (product(s) for s in ("MCU-STM32F401", "CAP-1206-10U", "CON-USBC-16P"))
    received = []
    events.subscribe(received.extend)
    try:
        response = as_user(ADMIN).send(
            "POST",
            f"/office/groups/{wholesale}/prices",
            htmx=True,
            data={
                f"price-{mcu.id}": "5,10",  # a decimal comma is understood
                f"was-{mcu.id}": "5.20",
                f"price-{cap.id}": "",  # emptied: the base price applies
                f"was-{cap.id}": "0.12",
                f"price-{usb.id}": "0.80",  # unchanged: not written
                f"was-{usb.id}": "0.80",
                "q": "",
                "page": "1",
            },
        )
    finally:
        events.unsubscribe(received.extend)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "2 group prices saved." in html
    assert group_price("Wholesale", "MCU-STM32F401") == Decimal("5.10")
    assert group_price("Wholesale", "CAP-1206-10U") is None
    assert group_price("Wholesale", "CON-USBC-16P") == Decimal("0.80")
    entry = audit("price.changed")[-1]
    assert entry.target_type == "customer_groups" and entry.target_id == wholesale
    assert entry.before == {"CAP-1206-10U": "0.1200", "MCU-STM32F401": "5.2000"}
    assert entry.after == {"CAP-1206-10U": None, "MCU-STM32F401": "5.1000"}
    changed = {(e.topic, e.id) for e in received if e.topic != "audit_logged"}
    assert changed == {("price_changed", mcu.id), ("price_changed", cap.id)}
    assert offer_for(group("Wholesale"), product("MCU-STM32F401")).price == Decimal("4.59")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-1", "cannot be negative"),
        ("abc", "must be a number"),
        ("1.23456", "at most 4 decimals"),
        ("2000000", "must be below"),
    ],
)
def test_one_wrong_row_saves_nothing_and_is_marked(as_user, ctx, typed, message):
    wholesale = group("Wholesale")
    first, second = groups.price_page(wholesale, groups.PriceFilter(), 1).items[:2]
    shown = {p.id: plain(price) for p, price in (first, second)}  # as the page shows them
    before = snapshot()
    response = as_user(ADMIN).send(
        "POST",
        f"/office/groups/{wholesale.id}/prices",
        htmx=True,
        data={
            f"price-{first[0].id}": "1.00",
            f"was-{first[0].id}": shown[first[0].id],
            f"price-{second[0].id}": typed,
            f"was-{second[0].id}": shown[second[0].id],
            "page": "1",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "1 row is not right: nothing was saved." in html
    row = find(html, id=f"price-row-{second[0].id}")
    assert message in row.text and "price-row--error" in row.attrs["class"]
    assert f'value="{typed}"' in row.inner_html  # kept as typed
    assert 'value="1.00"' in find(html, id=f"price-row-{first[0].id}").inner_html
    listed = find(html, class_="price-errors").text
    assert listed.startswith(second[0].sku) and message in listed
    assert snapshot() == before


def test_a_price_changed_meanwhile_is_not_overwritten(as_user, ctx):
    wholesale = group("Wholesale").id
    mcu = product("MCU-STM32F401")
    before = snapshot()
    response = as_user(ADMIN).send(
        "POST",
        f"/office/groups/{wholesale}/prices",
        htmx=True,
        data={f"price-{mcu.id}": "5.00", f"was-{mcu.id}": "5.30"},  # the page showed 5.30
    )
    assert response.status_code == 422
    assert "Someone changed this price meanwhile (it is now €5.20)" in response.get_data(True)
    assert snapshot() == before


def test_base_price_less_a_percentage_for_a_category(as_user, ctx):
    partner = group("Partner")
    category = db.session.scalar(select(Category).where(Category.slug == "resistors"))
    members = list(
        db.session.scalars(
            select(Product).where(Product.category_id == category.id, Product.sold())
        )
    )
    assert len(members) > 3
    response = as_user(MANAGER).send(
        "POST",
        f"/office/groups/{partner.id}/prices/discount",
        htmx=True,
        data={"percent": "12.5", "category": str(category.id), "q": "", "priced": ""},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "set to the base price less 12.5 % (category Resistors)" in html
    for p in members:
        expected = (p.base_price * Decimal("0.875")).quantize(Decimal("0.0001"))
        assert group_price("Partner", p.sku) in (expected, expected + Decimal("0.0001"))
    entry = audit("price.changed")[-1]
    assert "base price −12.5 % (category Resistors)" in entry.summary
    assert set(entry.after) == {p.sku for p in members}
    untouched = group_price("Partner", "MCU-STM32F401")
    assert untouched == Decimal("6.00")


@pytest.mark.parametrize(
    ("percent", "message"),
    [
        ("", "Enter the discount in percent."),
        ("0", "above 0 % and below 100 %"),
        ("100", "above 0 % and below 100 %"),
        ("-5", "above 0 % and below 100 %"),
        ("1.234", "at most two decimals"),
        ("ten", "such as 12.5"),
    ],
)
def test_bad_discounts_change_nothing(as_user, ctx, percent, message):
    partner = group("Partner").id
    before = snapshot()
    response = as_user(MANAGER).send(
        "POST",
        f"/office/groups/{partner}/prices/discount",
        htmx=True,
        data={"percent": percent, "q": "RES-"},
    )
    assert response.status_code == 422
    assert message in find(response.get_data(as_text=True), class_="card price-bulk").text
    assert snapshot() == before


def test_a_discount_on_an_empty_search_is_refused(as_user, ctx):
    partner = group("Partner").id
    before = snapshot()
    response = as_user(MANAGER).send(
        "POST",
        f"/office/groups/{partner}/prices/discount",
        htmx=True,
        data={"percent": "10", "q": "no-such-product-anywhere"},
    )
    assert response.status_code == 422
    assert "No product matches the filter: nothing to change." in response.get_data(True)
    assert snapshot() == before


def test_thousands_of_changes_emit_a_bounded_set_of_events(as_user, ctx, monkeypatch):
    monkeypatch.setattr(groups, "LIVE_EVENT_LIMIT", 5)
    monkeypatch.setattr(groups, "AUDIT_CHUNK", 40)
    standard = group("Standard")
    received = []
    events.subscribe(received.extend)
    try:
        response = as_user(MANAGER).send(
            "POST",
            f"/office/groups/{standard.id}/prices/discount",
            data={"percent": "3"},
        )
    finally:
        events.unsubscribe(received.extend)
    assert response.status_code == 302
    total = db.session.scalar(select(func.count(Product.id)).where(Product.sold()))
    assert (
        db.session.scalar(
            select(func.count(GroupPrice.id)).where(GroupPrice.group_id == standard.id)
        )
        == total
    )
    topics = [(e.topic, e.id) for e in received if e.topic != "audit_logged"]
    assert topics == [("group_changed", standard.id)]  # and one for the open audit logs
    entries = [e for e in audit("price.changed") if e.target_id == standard.id]
    assert len(entries) == -(-total // 40)
    assert sum(len(e.after) for e in entries) == total
    assert entries[0].summary.endswith(f"(part 1 of {len(entries)})")


def test_removing_the_group_prices_of_a_selection(as_user, ctx):
    wholesale = group("Wholesale").id
    mcu, cap = product("MCU-STM32F401"), product("CAP-1206-10U")
    response = as_user(ADMIN).send(
        "POST",
        f"/office/groups/{wholesale}/prices/remove",
        htmx=True,
        data={"selected": [str(mcu.id), str(cap.id)], "q": "", "page": "1"},
    )
    assert response.status_code == 200
    assert "2 group prices removed: the base price applies." in response.get_data(True)
    assert group_price("Wholesale", "MCU-STM32F401") is None
    assert group_price("Wholesale", "CAP-1206-10U") is None
    assert group_price("Wholesale", "CON-USBC-16P") == Decimal("0.80")
    entry = audit("price.changed")[-1]
    assert entry.after == {"CAP-1206-10U": None, "MCU-STM32F401": None}


def test_removing_without_a_selection_is_explained(as_user, ctx):
    wholesale = group("Wholesale").id
    before = snapshot()
    response = as_user(ADMIN).send(
        "POST", f"/office/groups/{wholesale}/prices/remove", htmx=True, data={"q": ""}
    )
    assert response.status_code == 422
    assert "Tick the products whose group price should go." in response.get_data(True)
    bad = as_user(ADMIN).send(
        "POST", f"/office/groups/{wholesale}/prices/remove", data={"selected": "1; DROP"}
    )
    assert bad.status_code == 400
    assert snapshot() == before


def test_the_save_keeps_the_filter_and_page(as_user, ctx):
    wholesale = group("Wholesale").id
    mcu = product("MCU-STM32F401")
    response = as_user(ADMIN).send(
        "POST",
        f"/office/groups/{wholesale}/prices",
        data={f"price-{mcu.id}": "5.25", f"was-{mcu.id}": "5.20", "q": "STM32", "priced": "yes"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/office/groups/{wholesale}/prices?q=STM32&priced=yes"
    html = as_user(ADMIN).get(response.headers["Location"]).get_data(as_text=True)
    assert price_inputs(html)["MCU-STM32F401"] == "5.25"
