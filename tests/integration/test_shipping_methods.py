"""/office/shipping-methods: shipping methods kept by staff with `shipping.edit`.

Name, price, free-from value, lead time in working days, active, and the customer groups
that may use each; numbers read by core.numbers with a message per field; audited; a
method used by orders is deactivated, never deleted; the list is paginated and live.
"""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import shipping_methods
from core.events import Event
from core.models import (
    AuditEntry,
    Cart,
    CustomerGroup,
    Order,
    ShippingMethod,
    User,
)
from extensions import db
from tests.html import find, find_all

ADMIN, MANAGER, WAREHOUSE = "admin@portal.test", "manager@portal.test", "warehouse@portal.test"
ANNA, FINANCE, VIEWER = "anna.sales@portal.test", "finance@portal.test", "viewer@portal.test"


def method(name: str) -> ShippingMethod | None:
    db.session.expire_all()
    return db.session.scalar(select(ShippingMethod).where(ShippingMethod.name == name))


def group_id(name: str) -> int:
    return db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == name))


def methods_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(ShippingMethod.id)))


def audited(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def data(**change) -> dict:
    fields = {
        "name": "Courier",
        "price": "12.00",
        "free_above": "500",
        "lead_days": "1",
        "is_active": "y",
        "groups": [group_id("Wholesale"), group_id("Partner")],
    }
    return {**fields, **change}


def test_the_list_shows_each_method_with_its_terms(as_user, ctx):
    html = as_user(VIEWER).get("/office/shipping-methods").get_data(as_text=True)
    table = find(html, id="shipping-methods-table")
    assert table is not None and "data-live" in html
    rows = {
        row.attrs["id"]: row.text
        for row in find_all(table.inner_html, class_=None)
        if "id" in row.attrs
    }
    parcel = rows[f"shipping-method-{method('Parcel').id}"]
    assert "€6.90" in parcel and "€250.00" in parcel and "2 working days" in parcel
    assert "Partner" in parcel and "Standard" in parcel and "Wholesale" in parcel
    express = rows[f"shipping-method-{method('Express').id}"]
    assert "€19.50" in express and "1 working day" in express and "Standard" not in express
    assert "New shipping method" not in html  # the viewer changes nothing


@pytest.mark.parametrize("email", [ADMIN, MANAGER, ANNA, WAREHOUSE, FINANCE, VIEWER])
def test_every_staff_role_that_sees_shipping_reaches_the_list(as_user, ctx, email):
    assert as_user(email).get("/office/shipping-methods").status_code == 200


@pytest.mark.parametrize("email", [ANNA, FINANCE, VIEWER])
def test_without_shipping_edit_nothing_changes(as_user, ctx, email):
    c = as_user(email)
    parcel = method("Parcel")
    page = c.get(f"/office/shipping-methods/{parcel.id}").get_data(as_text=True)
    assert "€250.00" in page and "2 working days" in page  # the terms, read-only
    assert 'name="price"' not in page and "Deactivate" not in page
    assert c.get("/office/shipping-methods/new").status_code == 403
    assert c.send("POST", "/office/shipping-methods/new", data=data()).status_code == 403
    assert c.send("POST", f"/office/shipping-methods/{parcel.id}", data=data()).status_code == 403
    assert c.send("POST", f"/office/shipping-methods/{parcel.id}/delete").status_code == 403
    assert method("Parcel").price == Decimal("6.90") and methods_count() == 3


def test_customers_never_reach_shipping_methods(as_user, ctx):
    assert as_user("orders@acme.test").get("/office/shipping-methods").status_code == 403


def test_creating_a_method_with_its_groups_is_audited(as_user, ctx):
    c = as_user(WAREHOUSE)
    form = c.get("/office/shipping-methods/new").get_data(as_text=True)
    assert form.count('type="checkbox" name="groups"') == 3 and form.count("checked") >= 3
    response = c.send("POST", "/office/shipping-methods/new", data=data())
    assert (
        response.status_code == 302 and response.headers["Location"] == "/office/shipping-methods"
    )
    courier = method("Courier")
    assert courier.price == Decimal("12.00") and courier.free_above == Decimal("500.00")
    assert courier.lead_days == 1 and courier.is_active
    assert sorted(g.name for g in courier.groups) == ["Partner", "Wholesale"]
    entry = audited("shipping_method.created")[-1]
    assert entry.actor_email == WAREHOUSE and entry.target_id == courier.id
    assert entry.after["groups"] == ["Partner", "Wholesale"] and entry.after["price"] == "12.00"
    assert shipping_methods.allowed_for(group_id("Standard")) == [
        method("Parcel"),
        method("Pallet freight"),
    ]
    assert courier in shipping_methods.allowed_for(group_id("Partner"))


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": " "}, "name", "Give the shipping method a name"),
        ({"name": "parcel"}, "name", "There is already a shipping method named “parcel”."),
        ({"name": "x" * 81}, "name", "A name has at most 80 characters."),
        ({"price": ""}, "price", "Enter the price"),
        ({"price": "abc"}, "price", "The price must be a number, such as 6.90."),
        ({"price": "1e3"}, "price", "must be written out in digits"),
        ({"price": "NaN"}, "price", "The price must be a number"),
        ({"price": "-1"}, "price", "The price cannot be negative."),
        ({"price": "6.999"}, "price", "The price has at most two decimals."),
        ({"price": "100000"}, "price", "The price must be below 100,000."),
        ({"free_above": "12,50"}, "free_above", "“Free above” must be a number"),
        ({"lead_days": "2.5"}, "lead_days", "whole number of working days from 0 to 60"),
        ({"lead_days": "61"}, "lead_days", "whole number of working days from 0 to 60"),
        ({"lead_days": "١٢"}, "lead_days", "whole number of working days from 0 to 60"),
        ({"groups": ["999999"]}, "groups", "Choose customer groups from the list."),
        ({"groups": ["abc"]}, "groups", "Choose customer groups from the list."),
    ],
)
def test_bad_input_is_refused_by_field_and_nothing_typed_is_lost(
    as_user, ctx, change, field, message
):
    response = as_user(ADMIN).send("POST", "/office/shipping-methods/new", data=data(**change))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = [e for e in find_all(html, class_="field__error")]
    assert any(message in e.text for e in errors), [e.text for e in errors]
    assert "Nothing was saved" in html or "already" in html
    if field != "name":
        assert 'value="Courier"' in html
    if field != "price":
        assert 'value="12.00"' in html
    assert methods_count() == 3


def test_editing_changes_the_terms_orders_keep_theirs(as_user, ctx):
    c = as_user(MANAGER)
    parcel = method("Parcel")
    page = c.get(f"/office/shipping-methods/{parcel.id}").get_data(as_text=True)
    assert 'value="6.90"' in page and 'value="250.00"' in page and 'value="2"' in page
    groups = [g.id for g in parcel.groups]
    edited = data(name="Parcel", price="7.40", free_above="", lead_days="3", groups=groups)
    assert c.send("POST", f"/office/shipping-methods/{parcel.id}", data=edited).status_code == 302
    parcel = method("Parcel")
    assert parcel.price == Decimal("7.40") and parcel.free_above is None and parcel.lead_days == 3
    entry = audited("shipping_method.changed")[-1]
    assert entry.before == {"price": "6.90", "free_above": "250.00", "lead_days": 2}
    assert entry.after == {"price": "7.40", "free_above": None, "lead_days": 3}
    # The same terms again: nothing to change, nothing audited.
    again = c.send("POST", f"/office/shipping-methods/{parcel.id}", data=edited)
    assert again.status_code == 302
    assert len(audited("shipping_method.changed")) == 1
    assert "Nothing to change." in c.get(f"/office/shipping-methods/{parcel.id}").get_data(
        as_text=True
    )


def test_deactivating_takes_a_method_out_of_checkout_and_back(as_user, ctx):
    c = as_user(WAREHOUSE)
    express = method("Express")
    page = c.get(f"/office/shipping-methods/{express.id}").get_data(as_text=True)
    assert 'hx-confirm="Stop offering Express at checkout?' in page
    assert (
        c.send(
            "POST", f"/office/shipping-methods/{express.id}/active", data={"active": "0"}
        ).status_code
        == 302
    )
    assert not method("Express").is_active
    assert method("Express") not in shipping_methods.allowed_for(group_id("Wholesale"))
    assert audited("shipping_method.deactivated")[-1].target_id == express.id
    assert (
        c.send(
            "POST", f"/office/shipping-methods/{express.id}/active", data={"active": "1"}
        ).status_code
        == 302
    )
    assert method("Express") in shipping_methods.allowed_for(group_id("Wholesale"))
    bad = c.send("POST", f"/office/shipping-methods/{express.id}/active", data={"active": "x"})
    assert bad.status_code == 302 and method("Express").is_active


def test_an_unused_method_is_deleted_a_used_one_deactivated(as_user, ctx):
    c = as_user(ADMIN)
    pallet = method("Pallet freight")
    holder = db.session.scalar(select(Cart).where(Cart.status == "open"))
    holder.shipping_method_id = pallet.id
    db.session.commit()
    response = c.send("POST", f"/office/shipping-methods/{pallet.id}/delete")
    assert (
        response.status_code == 302 and response.headers["Location"] == "/office/shipping-methods"
    )
    assert method("Pallet freight") is None and methods_count() == 2
    db.session.expire_all()
    assert db.session.get(Cart, holder.id).shipping_method_id is None  # it chooses again
    assert audited("shipping_method.deleted")[-1].before["name"] == "Pallet freight"
    # A method an order names stays, for the order's sake, and stops being offered.
    express = method("Express")
    order = db.session.scalar(select(Order).order_by(Order.id))
    order.shipping_method_id, order.shipping_name = express.id, "Express"
    db.session.commit()
    page = c.get(f"/office/shipping-methods/{express.id}").get_data(as_text=True)
    assert "1 order was placed with it" in page and "deactivated instead" in page
    response = c.send("POST", f"/office/shipping-methods/{express.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/office/shipping-methods/{express.id}"
    kept = method("Express")
    assert kept is not None and not kept.is_active
    assert "kept for them and deactivated" in c.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_a_long_list_is_paginated(as_user, ctx):
    actor = db.session.scalar(select(User).where(User.email == ADMIN))
    for n in range(30):
        shipping_methods.create(
            shipping_methods.MethodDetails(name=f"Zone {n:02d}", price="5", lead_days="2"),
            actor=actor,
        )
    db.session.commit()
    c = as_user(ADMIN)
    first = c.get("/office/shipping-methods").get_data(as_text=True)
    assert first.count('id="shipping-method-') == 25 and "Page 1 of 2" in first
    second = c.get("/office/shipping-methods?page=2").get_data(as_text=True)
    assert second.count('id="shipping-method-') == 8
    assert c.get("/office/shipping-methods?page=x").status_code == 400


def test_a_change_refreshes_the_list_and_open_carts(ctx):
    from blueprints.fragments.registry import affected

    holder = db.session.scalar(select(Cart).where(Cart.status == "open"))
    regions = affected(Event("shipping_method_changed", method("Parcel").id))
    assert "shipping-methods-table" in regions and f"my-cart-{holder.owner_id}" in regions
