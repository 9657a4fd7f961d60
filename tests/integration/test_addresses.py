"""Address books: kept by a company's decision-makers (/shop/addresses) and by staff with
customers' edit permission for the companies in their scope (the customer's page).

Exactly one default while the book is not empty; the default is deleted only last; an
address a request waiting for approval goes to stays; bad input is refused field by field
with nothing lost; every change is audited and re-renders the book live in both faces.
"""

import re
import time

import pytest
from sqlalchemy import func, select

from core import addresses
from core.addresses import AddressDetails
from core.models import AuditEntry, Cart, DeliveryAddress
from extensions import db
from tests.html import find, find_all
from tests.records import company, user
from tests.sockets import received_text, watch

ANNA, MARCO = "anna.sales@portal.test", "marco.sales@portal.test"
FINANCE, VIEWER = "finance@portal.test", "viewer@portal.test"

NEW = {
    "name": "Cleanroom",
    "street": "Reinraumstraße 1\nBuilding C",
    "postcode": "70565",
    "city": "Stuttgart",
    "country": "DE",
}


def book(slug: str) -> list[DeliveryAddress]:
    db.session.expire_all()
    return addresses.book(company(slug).id)


def defaults(slug: str) -> list[str]:
    return [a.name for a in book(slug) if a.is_default]


def named(slug: str, name: str) -> DeliveryAddress:
    return next(a for a in book(slug) if a.name == name)


def audited(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def count_addresses() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(DeliveryAddress.id)))


# --- the storefront ----------------------------------------------------------------------


def test_a_decision_maker_sees_the_book_default_first_and_the_billing_address(as_user, ctx):
    acme = company("acme")
    html = as_user("orders@acme.test").get("/shop/addresses").get_data(as_text=True)
    region = find(html, id=f"addresses-{acme.id}")
    assert region is not None and "data-live" in html
    rows = [row.text for row in find_all(region.inner_html, class_="address-book__default")]
    assert len(rows) == 1 and rows[0].startswith("Main plant Default")
    assert "Assembly hall Esslingen" in region.text and "Esslingen am Neckar" in region.text
    assert "Germany" in region.text  # Babel's name, not the code
    billing = find(html, class_="card panel billing-address")
    assert "Robotikweg 4" in billing.text and "70565 Stuttgart" in billing.text
    assert "DE123456788" in billing.text and "ask the seller" in billing.text
    assert find(html, id="new-address-title") is not None
    # The storefront's menu leads here for a decision-maker only.
    assert 'href="/shop/addresses"' in html


@pytest.mark.parametrize("email", ["request@acme.test", "browse@acme.test"])
def test_requesters_and_browse_only_people_may_not_keep_addresses(as_user, ctx, email):
    c = as_user(email)
    before = count_addresses()
    assert c.get("/shop/addresses").status_code == 403
    assert c.send("POST", "/shop/addresses", data=NEW).status_code == 403
    address = named("acme", "Assembly hall Esslingen")
    for action in ("default", "delete"):
        assert c.send("POST", f"/shop/addresses/{address.id}/{action}").status_code == 403
    assert c.send("POST", f"/shop/addresses/{address.id}/edit", data=NEW).status_code == 403
    assert count_addresses() == before and defaults("acme") == ["Main plant"]
    assert 'href="/shop/addresses"' not in c.get("/shop/").get_data(as_text=True)


def test_adding_an_address_keeps_it_with_its_country_and_audits_it(as_user, ctx):
    c = as_user("orders@acme.test")
    response = c.send(
        "POST", "/shop/addresses", data={**NEW, "street": " Reinraumstraße 1 \n\n Building C "}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/shop/addresses"
    added = named("acme", "Cleanroom")
    assert added.street == "Reinraumstraße 1\nBuilding C" and added.country == "DE"
    assert not added.is_default and defaults("acme") == ["Main plant"]
    entry = audited("address.created")[-1]
    assert entry.actor_email == "orders@acme.test" and entry.target_id == added.id
    assert "Cleanroom" in entry.summary
    page = c.get("/shop/addresses").get_data(as_text=True)
    assert "“Cleanroom” is added" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "   "}, "name", "Give the address a name"),
        ({"street": ""}, "street", "Enter the street and number."),
        ({"postcode": ""}, "postcode", "Enter the postcode."),
        ({"postcode": "1" * 17}, "postcode", "Postcode has at most 16 characters."),
        ({"city": " "}, "city", "Enter the city."),
        ({"city": "x" * 101}, "city", "City has at most 100 characters."),
        ({"country": "XX"}, "country", "Choose the country from the list."),
        ({"country": ""}, "country", "Choose the country from the list."),
        ({"street": "a\nb\nc\nd"}, "street", "at most three lines"),
    ],
)
def test_bad_addresses_are_refused_field_by_field_and_nothing_typed_is_lost(
    as_user, ctx, change, field, message
):
    before = count_addresses()
    response = as_user("orders@acme.test").send("POST", "/shop/addresses", data={**NEW, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    wrong = find(html, class_="field field--error")
    assert wrong is not None and message in wrong.text and f'name="{field}"' in wrong.inner_html
    assert "Nothing was saved" in html
    for name in ("name", "postcode", "city"):
        if name not in change:
            assert re.search(rf'<input [^>]*name="{name}"[^>]* value="{NEW[name]}"', html), name
    if "street" not in change:
        assert "Reinraumstraße 1\nBuilding C</textarea>" in html
    if "country" not in change:
        assert '<option selected value="DE">Germany</option>' in html
    assert count_addresses() == before


def test_another_default_moves_it_and_there_is_always_exactly_one(as_user, ctx):
    c = as_user("orders@baltic.test")
    assert defaults("baltic") == ["Warehouse"]
    # Asked for as the default when added: the former default stops being it.
    assert (
        c.send(
            "POST", "/shop/addresses", data={**NEW, "name": "Hangar", "is_default": "y"}
        ).status_code
        == 302
    )
    assert defaults("baltic") == ["Hangar"]
    warehouse = named("baltic", "Warehouse")
    response = c.send("POST", f"/shop/addresses/{warehouse.id}/default", htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "“Warehouse” is now the default delivery address." in html
    assert 'id="addresses-message" class="outcome" hx-swap-oob="true"' in html
    assert defaults("baltic") == ["Warehouse"]
    entry = audited("address.default_changed")[-1]
    assert entry.before == {"default": "Hangar"} and entry.after == {"default": "Warehouse"}
    # Twice is no change, and says so.
    again = c.send("POST", f"/shop/addresses/{warehouse.id}/default", htmx=True)
    assert "already is the default" in again.get_data(as_text=True)
    assert len(audited("address.default_changed")) == 1


def test_the_first_address_of_an_empty_book_becomes_the_default(ctx):
    baltic = company("baltic")
    actor = user("orders@baltic.test")
    addresses.delete(named("baltic", "Warehouse"), actor=actor)
    db.session.commit()
    assert book("baltic") == []
    added = addresses.add(baltic, AddressDetails(**NEW), actor=actor)
    db.session.commit()
    assert added.is_default and defaults("baltic") == ["Cleanroom"]


def test_the_default_goes_last_and_deleting_asks_first(as_user, ctx):
    c = as_user("orders@acme.test")
    main, hall = named("acme", "Main plant"), named("acme", "Assembly hall Esslingen")
    html = c.get("/shop/addresses").get_data(as_text=True)
    assert f'hx-confirm="Delete the delivery address “{hall.name}”?' in html
    refused = c.send("POST", f"/shop/addresses/{main.id}/delete", htmx=True)
    assert refused.status_code == 422
    assert "make another address the default first" in refused.get_data(as_text=True)
    assert len(book("acme")) == 2
    assert c.send("POST", f"/shop/addresses/{hall.id}/delete", htmx=True).status_code == 200
    assert [a.name for a in book("acme")] == ["Main plant"]
    # The last one goes, the default with it; the message says orders need one.
    baltic = as_user("orders@baltic.test")
    warehouse = named("baltic", "Warehouse")
    last = baltic.send("POST", f"/shop/addresses/{warehouse.id}/delete", htmx=True)
    assert last.status_code == 200
    assert "has no delivery address now: orders need one" in last.get_data(as_text=True)
    assert book("baltic") == []
    assert len(audited("address.deleted")) == 2
    assert "has no delivery address yet" in baltic.get("/shop/addresses").get_data(as_text=True)


def test_the_address_of_a_request_waiting_for_approval_stays(as_user, ctx):
    hall = named("acme", "Assembly hall Esslingen")
    request = db.session.scalar(
        select(Cart).where(Cart.company_id == company("acme").id, Cart.status == "submitted")
    )
    request.delivery_address_id = hall.id
    db.session.commit()
    response = as_user("orders@acme.test").send(
        "POST", f"/shop/addresses/{hall.id}/delete", htmx=True
    )
    assert response.status_code == 422
    assert "request waiting for approval" in response.get_data(as_text=True)
    assert hall.id in [a.id for a in book("acme")]


def test_editing_corrects_the_address_and_never_drops_the_default(as_user, ctx):
    c = as_user("orders@acme.test")
    main = named("acme", "Main plant")
    page = c.get(f"/shop/addresses/{main.id}/edit").get_data(as_text=True)
    assert 'value="Main plant"' in page and "This is the default delivery address" in page
    data = {
        "name": "Main plant",
        "street": "Robotikweg 6",
        "postcode": "70565",
        "city": "Stuttgart",
        "country": "DE",
    }
    assert c.send("POST", f"/shop/addresses/{main.id}/edit", data=data).status_code == 302
    main = named("acme", "Main plant")
    assert main.street == "Robotikweg 6" and main.is_default  # no checkbox: stays default
    entry = audited("address.changed")[-1]
    assert "Robotikweg 4" in entry.before["address"] and "Robotikweg 6" in entry.after["address"]
    bad = c.send("POST", f"/shop/addresses/{main.id}/edit", data={**data, "city": ""})
    assert bad.status_code == 422 and "Enter the city." in bad.get_data(as_text=True)
    assert "Robotikweg 6" in bad.get_data(as_text=True)  # what was typed, shown again
    assert named("acme", "Main plant").city == "Stuttgart"


@pytest.mark.parametrize("email", ["orders@baltic.test", "orders@etna.test"])
def test_another_companys_address_is_not_found_and_unchanged(as_user, ctx, email):
    hall = named("acme", "Assembly hall Esslingen")
    c = as_user(email)
    assert c.get(f"/shop/addresses/{hall.id}/edit").status_code == 404
    assert c.send("POST", f"/shop/addresses/{hall.id}/edit", data=NEW).status_code == 404
    assert c.send("POST", f"/shop/addresses/{hall.id}/default").status_code == 404
    assert c.send("POST", f"/shop/addresses/{hall.id}/delete").status_code == 404
    assert named("acme", "Assembly hall Esslingen").street == "Fabrikstraße 21"
    assert defaults("acme") == ["Main plant"]
    assert "Esslingen" not in c.get("/shop/addresses").get_data(as_text=True)


# --- the back office ---------------------------------------------------------------------


def test_staff_who_edit_customers_keep_the_book_of_their_customers(as_user, ctx):
    acme = company("acme")
    anna = as_user(ANNA)
    page = anna.get(f"/office/customers/{acme.id}").get_data(as_text=True)
    region = find(page, id=f"addresses-{acme.id}")
    assert "Main plant" in region.text and "Make default" in region.text
    assert f'href="/office/customers/{acme.id}/addresses/new"' in region.inner_html
    assert anna.get(f"/office/customers/{acme.id}/addresses/new").status_code == 200
    response = anna.send("POST", f"/office/customers/{acme.id}/addresses/new", data=NEW)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/office/customers/{acme.id}"
    added = named("acme", "Cleanroom")
    assert audited("address.created")[-1].actor_email == ANNA
    url = f"/office/customers/{acme.id}/addresses/{added.id}"
    assert anna.send("POST", f"{url}/default", htmx=True).status_code == 200
    assert defaults("acme") == ["Cleanroom"]
    edited = anna.send("POST", f"{url}/edit", data={**NEW, "city": "Leinfelden"})
    assert edited.status_code == 302 and named("acme", "Cleanroom").city == "Leinfelden"
    bad = anna.send("POST", f"{url}/edit", data={**NEW, "postcode": ""})
    assert bad.status_code == 422 and "Enter the postcode." in bad.get_data(as_text=True)
    hall = named("acme", "Assembly hall Esslingen")
    deleted = anna.send("POST", f"/office/customers/{acme.id}/addresses/{hall.id}/delete")
    assert deleted.status_code == 302
    assert [a.name for a in book("acme")] == ["Cleanroom", "Main plant"]
    # Main plant is where Acme's request waiting for approval goes: it stays until decided.
    main = named("acme", "Main plant")
    kept = anna.send("POST", f"/office/customers/{acme.id}/addresses/{main.id}/delete", htmx=True)
    assert kept.status_code == 422 and "waiting for approval" in kept.get_data(as_text=True)
    assert [a.name for a in book("acme")] == ["Cleanroom", "Main plant"]


def test_sales_staff_out_of_scope_get_404_and_change_nothing(as_user, ctx):
    acme = company("acme")
    hall = named("acme", "Assembly hall Esslingen")
    marco = as_user(MARCO)
    base = f"/office/customers/{acme.id}/addresses"
    assert marco.get(f"{base}/new").status_code == 404
    assert marco.send("POST", f"{base}/new", data=NEW).status_code == 404
    assert marco.get(f"{base}/{hall.id}/edit").status_code == 404
    for action in ("default", "delete"):
        assert marco.send("POST", f"{base}/{hall.id}/{action}").status_code == 404
    # The address of Acme named under Marco's own customer is not found either.
    delft = company("delft")
    assert (
        marco.send("POST", f"/office/customers/{delft.id}/addresses/{hall.id}/delete").status_code
        == 404
    )
    assert len(book("acme")) == 2 and defaults("acme") == ["Main plant"]


@pytest.mark.parametrize("email", [FINANCE, VIEWER])
def test_staff_who_only_see_customers_read_the_book_without_actions(as_user, ctx, email):
    acme = company("acme")
    c = as_user(email)
    region = find(
        c.get(f"/office/customers/{acme.id}").get_data(as_text=True), id=f"addresses-{acme.id}"
    )
    assert "Main plant" in region.text and "Esslingen" in region.text
    assert "Make default" not in region.text and "Delete" not in region.text
    assert c.get(f"/office/customers/{acme.id}/addresses/new").status_code == 403
    hall = named("acme", "Assembly hall Esslingen")
    assert (
        c.send("POST", f"/office/customers/{acme.id}/addresses/{hall.id}/delete").status_code == 403
    )
    assert len(book("acme")) == 2


# --- live --------------------------------------------------------------------------------


def test_a_change_re_renders_the_book_on_open_pages_of_both_faces(connect, ctx):
    acme = company("acme").id
    region = f"addresses-{acme}"
    watchers = ("orders@acme.test", ANNA, MARCO, "orders@baltic.test", "request@acme.test")
    opened = {email: connect(email) for email in watchers}
    for ws in opened.values():
        watch(ws, {region})
    time.sleep(0.3)
    addresses.add(company("acme"), AddressDetails(**NEW), actor=user("orders@acme.test"))
    db.session.commit()
    shop_side = received_text(opened["orders@acme.test"])
    assert f'id="{region}"' in shop_side and "Cleanroom" in shop_side
    assert "/shop/addresses/" in shop_side and "/office/" not in shop_side
    staff_side = received_text(opened[ANNA])
    assert f'id="{region}"' in staff_side and "Cleanroom" in staff_side
    assert f"/office/customers/{acme}/addresses/" in staff_side
    # Out of scope, another company, or no right to the book: nothing at all.
    for email in (MARCO, "orders@baltic.test", "request@acme.test"):
        assert "Cleanroom" not in received_text(opened[email], 0.3), email
