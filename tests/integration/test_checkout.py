"""Checkout's delivery choices: the address (the default preselected), a shipping method
the company's group may use at its price (free once the goods reach its free-from value),
the customer's reference (required when the company says so) and a requested date no
earlier than the method's lead time in working days. The choices are kept on the cart,
travel with an approval request (and the seller's second approval) to the order, and show
on the order page of both faces and in the confirmation mail.
"""

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import carts, delivery, quotes, shipping_methods, transaction
from core.models import (
    AuditEntry,
    Cart,
    Company,
    DeliveryAddress,
    Order,
    OutboxMail,
    Quote,
    ShippingMethod,
)
from extensions import db
from tests.delivery import address_id, method_id
from tests.delivery import form as delivery_form
from tests.html import find, find_all
from tests.records import company, pid, user

MCU, CAP = "MCU-STM32F401", "CAP-1206-10U"
THURSDAY = date(2026, 12, 3)  # Parcel (2 working days) delivers from Monday 7 December


def add(c, sku: str, quantity: int):
    response = c.send(
        "POST", "/shop/cart/lines", data={"product_id": pid(sku), "quantity": quantity}
    )
    assert response.status_code == 302
    return response


def latest_order() -> Order:
    db.session.expire_all()
    return db.session.scalar(select(Order).order_by(Order.id.desc()))


def orders_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Order.id)))


def open_cart(email: str) -> Cart | None:
    db.session.expire_all()
    return carts.open_cart(user(email))


def mails_to(email: str) -> list[OutboxMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == email)))


def second_address(slug: str) -> int:
    return db.session.scalar(
        select(DeliveryAddress.id)
        .join(Company, Company.id == DeliveryAddress.company_id)
        .where(Company.slug == slug, DeliveryAddress.is_default.is_(False))
    )


@pytest.fixture
def thursday(monkeypatch):
    """Checkout counts working days from a Thursday (noon UTC: Thursday in Berlin too)."""
    monkeypatch.setattr(delivery, "now", lambda: datetime(2026, 12, 3, 12, 0))
    return THURSDAY


# --- the rule of working days, on a table ----------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 12, 3), 0, date(2026, 12, 3)),  # Thursday, no lead time
        (date(2026, 12, 3), 1, date(2026, 12, 4)),  # Friday
        (date(2026, 12, 3), 2, date(2026, 12, 7)),  # over the weekend: Monday
        (date(2026, 12, 4), 1, date(2026, 12, 7)),  # Friday + 1: Monday
        (date(2026, 12, 5), 1, date(2026, 12, 7)),  # Saturday + 1: Monday
        (date(2026, 12, 3), 4, date(2026, 12, 9)),
        (date(2026, 12, 3), 10, date(2026, 12, 17)),
    ],
)
def test_working_days_skip_weekends(start, days, expected):
    assert delivery.add_working_days(start, days) == expected


def test_the_earliest_day_is_a_working_day(ctx):
    pallet = ShippingMethod(name="x", price=Decimal("1"), lead_days=0)
    assert delivery.earliest(pallet, date(2026, 12, 5)) == date(2026, 12, 7)  # Saturday


@pytest.mark.parametrize(
    ("goods", "price"),
    [
        (Decimal("249.99"), Decimal("6.90")),
        (Decimal("250.00"), Decimal("0.00")),  # reaching the value is enough
        (Decimal("1000.00"), Decimal("0.00")),
    ],
)
def test_parcel_is_free_from_its_value(ctx, goods, price):
    parcel = db.session.scalar(select(ShippingMethod).where(ShippingMethod.name == "Parcel"))
    assert shipping_methods.price_for(parcel, goods) == price
    express = db.session.scalar(select(ShippingMethod).where(ShippingMethod.name == "Express"))
    assert shipping_methods.price_for(express, goods) == Decimal("19.50")  # never free


# --- the form ----------------------------------------------------------------------------


def test_the_form_offers_the_groups_methods_with_the_default_address_chosen(as_user, ctx):
    c = as_user("orders@carpathia.test")  # Standard: Parcel and Pallet freight, no Express
    add(c, MCU, 3)
    html = c.get("/shop/cart").get_data(as_text=True)
    form = find(html, class_="cart-action card")
    assert f'<option value="{address_id("carpathia")}" selected>Workshop' in form.inner_html
    assert "Romania (default)" in form.text
    offered = [e.attrs["data-method"] for e in find_all(form.inner_html, class_="check__label")]
    assert offered == ["Parcel", "Pallet freight"]
    assert f'value="{method_id("Parcel")}" checked' in form.inner_html  # the cheapest
    assert "€6.90" in form.text and "free from €250.00" in form.text and "€85.00" in form.text
    assert 'name="customer_reference"' in form.inner_html and "(optional" in form.text
    assert 'type="date" name="requested_date"' in form.inner_html
    # A requester's submission asks the same.
    requester = as_user("request@carpathia.test")
    add(requester, MCU, 1)
    html = requester.get("/shop/cart").get_data(as_text=True)
    assert "Submit for approval" in html and 'name="shipping_method"' in html


def test_the_price_shown_is_free_once_the_goods_reach_the_value(as_user, ctx):
    c = as_user("orders@acme.test")
    add(c, MCU, 60)  # at the break from 10: 60 x 4.50 = 270.00, above Parcel's 250.00
    html = c.get("/shop/cart").get_data(as_text=True)
    parcel = find(html, data_method="Parcel")
    assert parcel.attrs["data-price"] == "0.00" and "free" in parcel.text
    assert find(html, data_method="Express").attrs["data-price"] == "19.50"
    summary = find(html, id="checkout-summary")
    assert "free" in summary.text and 'data-net-total="270.00"' in summary.inner_html


# --- checking out ------------------------------------------------------------------------


def test_checkout_places_the_order_with_its_delivery(as_user, ctx, thursday):
    c = as_user("orders@acme.test")
    add(c, MCU, 10)  # at the break from 10: 10 x 4.50 = 45.00; Express is never free
    data = delivery_form(
        "acme",
        "Express",
        delivery_address=second_address("acme"),
        customer_reference="PO-4711",
        requested_date="2026-12-08",
    )
    response = c.send("POST", "/shop/cart/checkout", data=data)
    assert response.status_code == 302
    order = latest_order()
    assert response.headers["Location"] == f"/shop/orders/{order.id}"
    assert order.delivery_name == "Assembly hall Esslingen"
    assert order.delivery_street == "Fabrikstraße 21" and order.delivery_postcode == "73728"
    assert order.delivery_city == "Esslingen am Neckar" and order.delivery_country == "DE"
    assert order.shipping_name == "Express" and order.shipping_method_id == method_id("Express")
    assert order.shipping_price == Decimal("19.50") and order.total == Decimal("45.00")
    assert order.net_total == Decimal("64.50")
    assert order.customer_reference == "PO-4711" and order.requested_date == date(2026, 12, 8)
    # The confirmation mail says where, how, under which reference and when.
    body = next(m.body for m in mails_to("orders@acme.test") if order.number in m.subject)
    assert "Assembly hall Esslingen" in body and "Fabrikstraße 21" in body
    assert "Shipping: Express, €19.50" in body and "PO-4711" in body
    assert f"Your order {order.number} of €76.76 including VAT (€45.00 net goods)" in body
    assert "Tue 8 Dec 2026" in body


def test_the_confirmation_mail_prints_amounts_in_its_readers_language(as_user, ctx, thursday):
    buyer = user("orders@acme.test")
    buyer.language = "fr"
    db.session.commit()
    c = as_user("orders@acme.test")
    add(c, MCU, 10)  # 45.00 net goods (the break from 10), Express 19.50
    data = delivery_form("acme", "Express", customer_reference="PO-4711")
    assert c.send("POST", "/shop/cart/checkout", data=data).status_code == 302
    order = latest_order()
    mail = next(m for m in mails_to("orders@acme.test") if order.number in m.subject)
    # French amounts: a comma for the cents, the sign after a no-break space.
    assert "19,50\u00a0€" in mail.body and "45,00\u00a0€" in mail.body
    assert "76,76\u00a0€" in mail.body
    assert "EUR" not in mail.body and "€19.50" not in mail.body


def test_shipping_is_free_once_the_goods_reach_the_value(as_user, ctx):
    c = as_user("orders@acme.test")
    add(c, MCU, 60)  # 270.00 (the break from 10)
    assert c.send("POST", "/shop/cart/checkout", data=delivery_form("acme")).status_code == 302
    order = latest_order()
    assert order.shipping_name == "Parcel" and order.shipping_price == Decimal("0.00")
    assert order.net_total == order.total == Decimal("270.00")


def test_the_order_page_of_both_faces_shows_the_delivery(as_user, ctx):
    c = as_user("orders@acme.test")
    add(c, MCU, 10)
    data = delivery_form("acme", customer_reference="PO-99", requested_date="")
    assert c.send("POST", "/shop/cart/checkout", data=data).status_code == 302
    order = latest_order()
    for viewer, url in (
        (c, f"/shop/orders/{order.id}"),
        (as_user("anna.sales@portal.test"), f"/office/orders/{order.id}"),
    ):
        html = viewer.get(url).get_data(as_text=True)
        section = find(html, class_="card order-delivery")
        assert section is not None, url
        assert "Main plant" in section.text and "70565 Stuttgart" in section.text
        assert "Germany" in section.text and "Parcel · €6.90" in section.text
        assert "PO-99" in section.text and "As soon as possible" in section.text


def test_an_order_from_before_addresses_shows_no_delivery_panel(as_user, ctx):
    order = db.session.scalar(select(Order).order_by(Order.id))
    order.delivery_name = order.delivery_street = ""
    db.session.commit()
    html = as_user("admin@portal.test").get(f"/office/orders/{order.id}").get_data(as_text=True)
    assert find(html, class_="card order-delivery") is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"delivery_address": ""}, "delivery_address", "Choose the delivery address."),
        ({"delivery_address": "abc"}, "delivery_address", "from the list"),
        ({"shipping_method": ""}, "shipping_method", "Choose how the goods are shipped."),
        ({"shipping_method": "9999999"}, "shipping_method", "not offered to your company"),
        ({"customer_reference": "R" * 61}, "customer_reference", "at most 60 characters"),
        ({"requested_date": "10/12/2026"}, "requested_date", "year-month-day"),
        ({"requested_date": "2026-02-30"}, "requested_date", "There is no day 2026-02-30"),
        ({"requested_date": "2026-12-04"}, "requested_date", "the earliest date is Mon 7 Dec 2026"),
        ({"requested_date": "2026-12-03"}, "requested_date", "the earliest date is Mon 7 Dec 2026"),
        (
            {"requested_date": "2026-12-12"},
            "requested_date",
            "Sat 12 Dec 2026 is not a working day",
        ),
        ({"requested_date": "2028-01-03"}, "requested_date", "within a year"),
    ],
)
def test_wrong_choices_are_refused_with_why_and_nothing_typed_is_lost(
    as_user, ctx, thursday, change, field, message
):
    c = as_user("orders@baltic.test")
    add(c, MCU, 2)
    before = orders_count()
    typed = {"note": "Ring at gate 4", "customer_reference": "PO-1", "requested_date": "2026-12-09"}
    data = delivery_form("baltic", **{**typed, **change})
    response = c.send("POST", "/shop/cart/checkout", data=data, htmx=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in find(html, class_="flash flash--error").text
    marked = [e for e in find_all(html, class_="field field--error")] + [
        e for e in find_all(html, class_="checks checkout-methods checks--error")
    ]
    assert any(f'name="{field}"' in e.inner_html for e in marked), field
    assert "Ring at gate 4</textarea>" in html  # the note comes back too
    for name in ("customer_reference", "requested_date"):
        shown = {**typed, **change}[name]
        if name != field and shown:
            assert f'value="{shown}"' in html, name
    assert orders_count() == before
    assert open_cart("orders@baltic.test").lines  # still there to order


def test_express_is_only_for_the_groups_that_may_use_it(as_user, ctx):
    c = as_user("orders@carpathia.test")  # Standard
    add(c, MCU, 1)
    response = c.send(
        "POST", "/shop/cart/checkout", data=delivery_form("carpathia", "Express"), htmx=True
    )
    assert response.status_code == 422
    assert "not offered to your company any more" in response.get_data(as_text=True)


def test_an_inactive_method_or_another_companys_address_is_refused(as_user, ctx):
    c = as_user("orders@baltic.test")
    add(c, MCU, 1)
    before = orders_count()
    express = db.session.scalar(select(ShippingMethod).where(ShippingMethod.name == "Express"))
    express.is_active = False
    db.session.commit()
    response = c.send(
        "POST", "/shop/cart/checkout", data=delivery_form("baltic", "Express"), htmx=True
    )
    assert response.status_code == 422 and "not offered" in response.get_data(as_text=True)
    foreign = delivery_form("baltic", delivery_address=address_id("acme"))
    response = c.send("POST", "/shop/cart/checkout", data=foreign, htmx=True)
    assert response.status_code == 422
    assert "is no longer in your company" in response.get_data(as_text=True)
    assert orders_count() == before and open_cart("orders@baltic.test").lines


def test_a_company_that_requires_a_reference_gets_it_asked(as_user, ctx):
    baltic = company("baltic")
    baltic.reference_required = True
    db.session.commit()
    c = as_user("orders@baltic.test")
    add(c, MCU, 2)
    html = c.get("/shop/cart").get_data(as_text=True)
    assert "required by your company" in html
    assert 'name="customer_reference" maxlength="60" autocomplete="off" value="" required' in html
    before = orders_count()
    refused = c.send("POST", "/shop/cart/checkout", data=delivery_form("baltic"), htmx=True)
    assert refused.status_code == 422
    assert "Enter your reference (purchase-order number)" in refused.get_data(as_text=True)
    assert orders_count() == before
    data = delivery_form("baltic", customer_reference="  PO  2026/17 ")
    assert c.send("POST", "/shop/cart/checkout", data=data).status_code == 302
    assert latest_order().customer_reference == "PO 2026/17"


def test_a_company_without_an_address_is_told_to_add_one(as_user, ctx):
    db.session.execute(
        DeliveryAddress.__table__.delete().where(DeliveryAddress.company_id == company("delft").id)
    )
    db.session.commit()
    c = as_user("orders@delft.test")
    add(c, MCU, 1)
    html = c.get("/shop/cart").get_data(as_text=True)
    assert "Delft Devices has no delivery address yet." in html
    assert 'href="/shop/addresses">Add one</a>' in html
    response = c.send("POST", "/shop/cart/checkout", data=delivery_form("delft"), htmx=True)
    assert response.status_code == 422
    assert "has no delivery address yet: add one" in response.get_data(as_text=True)


def test_the_working_day_rule_at_its_edges(as_user, ctx, thursday):
    c = as_user("orders@acme.test")
    add(c, MCU, 1)
    express = delivery_form("acme", "Express", requested_date="2026-12-04")  # 1 day: Friday
    assert c.send("POST", "/shop/cart/checkout", data=express).status_code == 302
    assert latest_order().requested_date == date(2026, 12, 4)
    add(c, MCU, 1)
    parcel = delivery_form("acme", requested_date="2026-12-07")  # 2 days: Monday
    assert c.send("POST", "/shop/cart/checkout", data=parcel).status_code == 302
    assert latest_order().requested_date == date(2026, 12, 7)
    add(c, MCU, 1)
    pallet = delivery_form("acme", "Pallet freight", requested_date="2026-12-08")  # 4: Wed 9
    refused = c.send("POST", "/shop/cart/checkout", data=pallet, htmx=True)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Pallet freight delivers in 4 working days: the earliest date is Wed 9 Dec 2026" in text


# Friday 4 December 2026, 05:00 UTC: still Thursday evening in Los Angeles (UTC-8), already
# Friday evening in Auckland (UTC+13), whatever the server's own date.
MOMENT = datetime(2026, 12, 4, 5, 0)


def test_the_earliest_date_counts_from_the_buyers_own_today(as_user, ctx, monkeypatch):
    """A requested date is a day where the buyer is: the lead time counts from their today,
    on the page and when the order is checked, so Auckland's first day is a day later."""
    monkeypatch.setattr(delivery, "now", lambda: MOMENT)
    buyer = user("orders@acme.test")
    c = as_user("orders@acme.test")
    add(c, MCU, 1)

    def shown_in(zone: str) -> tuple[str, str]:
        """The Parcel's first day as the cart says it, and the date input's minimum."""
        buyer.timezone = zone
        db.session.commit()
        html = c.get("/shop/cart").get_data(as_text=True)
        parcel = find(html, class_="check__label", data_method="Parcel")
        minimum = html.split('name="requested_date"', 1)[1].split('min="', 1)[1][:10]
        return parcel.text, minimum

    parcel_la, min_la = shown_in("America/Los_Angeles")  # Thursday + 2 working days
    assert "delivery from 07 Dec 2026" in parcel_la
    assert min_la == "2026-12-04"  # Express, 1 working day: Friday
    parcel_nz, min_nz = shown_in("Pacific/Auckland")  # Friday + 2 working days
    assert "delivery from 08 Dec 2026" in parcel_nz
    assert min_nz == "2026-12-07"  # Express from Friday: Monday

    # The check at checkout counts from the same day: Monday is too early in Auckland...
    monday = delivery_form("acme", requested_date="2026-12-07")
    refused = c.send("POST", "/shop/cart/checkout", data=monday, htmx=True)
    assert refused.status_code == 422
    assert "the earliest date is Tue 8 Dec 2026" in refused.get_data(as_text=True)
    # ... and the first day in Los Angeles, where it is still Thursday.
    shown_in("America/Los_Angeles")
    assert c.send("POST", "/shop/cart/checkout", data=monday).status_code == 302
    assert latest_order().requested_date == date(2026, 12, 7)


# --- choices kept on the cart ------------------------------------------------------------


def test_each_choice_is_kept_on_the_cart_as_it_is_made(as_user, ctx):
    c = as_user("orders@acme.test")
    add(c, MCU, 10)
    data = delivery_form(
        "acme", "Express", delivery_address=second_address("acme"), customer_reference="PO-5"
    )
    response = c.send("POST", "/shop/cart/choices", data=data, htmx=True)
    assert response.status_code == 200
    summary = response.get_data(as_text=True)
    assert 'id="checkout-summary"' in summary and 'hx-swap-oob="true"' in summary
    assert 'data-shipping="19.50"' in summary and 'data-net-total="64.50"' in summary
    cart = open_cart("orders@acme.test")
    assert cart.shipping_method_id == method_id("Express")
    assert cart.delivery_address_id == second_address("acme") and cart.customer_reference == "PO-5"
    html = c.get("/shop/cart").get_data(as_text=True)
    assert f'value="{method_id("Express")}" checked' in html and 'value="PO-5"' in html
    assert f'<option value="{second_address("acme")}" selected>' in html
    # Another company's address, or a broken date, is not kept.
    foreign = {**data, "delivery_address": address_id("baltic"), "requested_date": "tomorrow"}
    assert c.send("POST", "/shop/cart/choices", data=foreign, htmx=True).status_code == 200
    cart = open_cart("orders@acme.test")
    assert cart.delivery_address_id is None and cart.requested_date is None


# --- approval ----------------------------------------------------------------------------


def test_a_requesters_choices_travel_through_approval_to_the_order(as_user, ctx, thursday):
    requester = as_user("request@acme.test")
    add(requester, MCU, 5)
    data = delivery_form(
        "acme",
        "Express",
        delivery_address=second_address("acme"),
        customer_reference="PO-777",
        requested_date="2026-12-10",
    )
    assert requester.send("POST", "/shop/cart/submit", data=data).status_code == 302
    db.session.expire_all()
    request = db.session.scalar(
        select(Cart)
        .where(Cart.owner_id == user("request@acme.test").id, Cart.status == "submitted")
        .order_by(Cart.id.desc())
    )
    assert request.shipping_method_id == method_id("Express")
    assert request.customer_reference == "PO-777"
    asked = [m for m in mails_to("orders@acme.test") if m.subject.startswith("Approval requested")]
    assert "Shipping: Express, €19.50" in asked[-1].body
    assert "Assembly hall Esslingen" in asked[-1].body
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "cart.submitted")
        .order_by(AuditEntry.id.desc())
    )
    assert entry.after["shipping"] == "Express" and entry.after["reference"] == "PO-777"
    dm = as_user("orders@acme.test")
    page = dm.get(f"/shop/approvals/{request.id}").get_data(as_text=True)
    assert "Assembly hall Esslingen" in find(page, data_request="address").text
    assert "Express · €19.50" in find(page, data_request="method").text
    assert find(page, data_request="reference").text == "PO-777"
    assert find(page, data_request="date").text == "10 Dec 2026"
    decision = find(page, id="decision")
    assert f'value="{method_id("Express")}" checked' in decision.inner_html  # to keep or change
    # The approver sends the decision form as shown: the order goes as requested.
    approve = {**data, "note": "Fine"}
    assert dm.send("POST", f"/shop/approvals/{request.id}/approve", data=approve).status_code == 302
    order = latest_order()
    assert order.placed_by.email == "request@acme.test"
    assert order.delivery_name == "Assembly hall Esslingen" and order.shipping_name == "Express"
    assert order.customer_reference == "PO-777" and order.requested_date == date(2026, 12, 10)
    body = next(m.body for m in mails_to("request@acme.test") if order.number in m.subject)
    assert "Shipping: Express" in body and "PO-777" in body


def test_an_approver_may_change_the_choices_a_bare_approval_keeps_them(as_user, ctx):
    request = db.session.scalar(
        select(Cart).where(
            Cart.owner_id == user("request@acme.test").id, Cart.status == "submitted"
        )
    )  # the demo's: Main plant, Parcel, PO-2026-0418
    dm = as_user("orders@acme.test")
    wrong = delivery_form("acme", "Pallet freight", requested_date="2020-01-06")
    refused = dm.send("POST", f"/shop/approvals/{request.id}/approve", data=wrong, htmx=True)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "the earliest date is" in html and 'value="2020-01-06"' in html
    assert f'value="{method_id("Pallet freight")}" checked' in html
    db.session.expire_all()
    assert db.session.get(Cart, request.id).status == "submitted"
    changed = delivery_form("acme", "Pallet freight", customer_reference="PO-2026-0418")
    response = dm.send("POST", f"/shop/approvals/{request.id}/approve", data=changed)
    assert response.status_code == 302
    order = latest_order()
    assert order.shipping_name == "Pallet freight" and order.shipping_price == Decimal("85.00")
    assert order.customer_reference == "PO-2026-0418" and order.delivery_name == "Main plant"


def test_a_bare_approval_uses_the_requests_choices(as_user, ctx):
    request = db.session.scalar(
        select(Cart).where(
            Cart.owner_id == user("request@acme.test").id, Cart.status == "submitted"
        )
    )
    response = as_user("orders@acme.test").send("POST", f"/shop/approvals/{request.id}/approve")
    assert response.status_code == 302
    order = latest_order()
    assert order.delivery_name == "Main plant" and order.shipping_name == "Parcel"
    assert order.customer_reference == "PO-2026-0418"


def test_the_sellers_second_approval_places_the_order_with_the_choices(as_user, ctx):
    requester = as_user("request@acme.test")
    add(requester, MCU, 1500)  # 6,480.00: above Acme's limit, and Acme has one decision-maker
    data = delivery_form("acme", "Express", customer_reference="PO-BIG")
    assert requester.send("POST", "/shop/cart/submit", data=data).status_code == 302
    db.session.expire_all()
    request = db.session.scalar(
        select(Cart)
        .where(Cart.owner_id == user("request@acme.test").id, Cart.status == "submitted")
        .order_by(Cart.id.desc())
    )
    first = as_user("orders@acme.test").send("POST", f"/shop/approvals/{request.id}/approve")
    assert first.status_code == 302
    anna = user("anna.sales@portal.test")
    order = transaction.committed(lambda: carts.approve_for_seller(anna, request.id))
    order = db.session.get(Order, order.id)
    assert order.shipping_name == "Express" and order.customer_reference == "PO-BIG"
    assert order.delivery_name == "Main plant" and order.approved_by.email == anna.email


# --- quotes ------------------------------------------------------------------------------


def test_an_accepted_quote_goes_to_the_default_address_by_the_cheapest_method(as_user, ctx):
    quote = db.session.scalar(
        select(Quote)
        .join(Company, Company.id == Quote.company_id)
        .where(Company.slug == "acme", Quote.status == "offered")
    )
    seen = quotes.latest_round(quote).id
    for line in quote.lines:  # enough stock, whatever the demo's draw left
        line.product.stock = line.quantity + 100
    db.session.commit()
    dm = user("orders@acme.test")
    order = transaction.committed(lambda: quotes.accept(quote.id, actor=dm, seen=seen))
    order = db.session.get(Order, order.id)
    assert order.delivery_name == "Main plant" and order.delivery_city == "Stuttgart"
    assert order.shipping_name == "Parcel"
    expected = Decimal("0.00") if order.total >= Decimal("250.00") else Decimal("6.90")
    assert order.shipping_price == expected
    assert order.customer_reference == "" and order.requested_date is None
