"""Acting for a customer (core.acting): staff with `customers.act` build carts, place orders
and ask for quotes in a customer person's name, through the storefront's own services,
for the customers in their scope only; the customer sees who placed it, and the audit
log says who acted, for whom and what."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import carts
from core.models import AuditEntry, Cart, LoginSession, Order, OutboxMail, Quote
from core.sessions import token_hash
from extensions import db
from tests.conftest import persona_token
from tests.delivery import form as delivery_form
from tests.html import find
from tests.records import company, pid, user

ANNA = "anna.sales@portal.test"  # Sales staff: Acme Robotics, Baltic Drones
MARCO = "marco.sales@portal.test"  # Sales staff: Carpathia Makers, Delft Devices
ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"
ACME_DM = "orders@acme.test"
ACME_REQUESTER = "request@acme.test"
ACME_BROWSER = "browse@acme.test"
MCU, CAP = "MCU-STM32F401", "CAP-1206-10U"


def acme() -> int:
    return company("acme").id


def act(c, person: str, start: str = "catalog", company_id: int | None = None):
    """Start acting for a person of Acme (or of `company_id`) from the office."""
    return c.send(
        "POST",
        f"/office/customers/{company_id or acme()}/act",
        data={"act-person": user(person).id, "act-start": start},
    )


def add(c, sku: str, quantity: int):
    response = c.send(
        "POST", "/shop/cart/lines", data={"product_id": pid(sku), "quantity": quantity}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return response


def entries(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def latest(model):
    db.session.expire_all()
    return db.session.scalar(select(model).order_by(model.id.desc()))


def on_behalf(person: str) -> str:
    """How a record placed by Anna for a person of Acme names who placed it."""
    return f"{user(ANNA).name} for {user(person).name} (Acme Robotics)"


def session_row(email: str) -> LoginSession:
    db.session.expire_all()
    return db.session.scalar(
        select(LoginSession).where(LoginSession.token_hash == token_hash(persona_token(email)))
    )


# --- starting ---------------------------------------------------------------------------


def test_a_rep_acts_for_an_assigned_customer_person(as_user, ctx):
    c = as_user(ANNA)
    response = act(c, ACME_DM, start="cart")
    assert response.status_code == 302 and response.headers["Location"] == "/shop/cart"
    row = session_row(ANNA)
    assert row.acting_for_id == user(ACME_DM).id and row.acting_mode == "act"
    [started] = entries("customer.acting_started")
    assert started.actor_id == user(ANNA).id and started.target_id == user(ACME_DM).id
    assert started.after == {"person": ACME_DM, "company": "Acme Robotics"}
    page = c.get("/shop/cart").get_data(as_text=True)
    banner = find(page, data_acting="act").text
    assert f"You are acting for {user(ACME_DM).name} of Acme Robotics" in banner
    assert f"recorded as placed by you, {user(ANNA).name}" in banner


@pytest.mark.parametrize(
    ("email", "status"),
    [
        (MARCO, 404),  # Acme is not his customer
        ("warehouse@portal.test", 403),  # no customers.act
        ("finance@portal.test", 403),
        ("viewer@portal.test", 403),
        (ACME_DM, 403),  # a customer person has no back office
    ],
)
def test_acting_is_refused_out_of_scope_or_without_the_permission(as_user, ctx, email, status):
    c = as_user(email)
    assert act(c, ACME_DM).status_code == status
    assert session_row(email).acting_for_id is None
    assert entries("customer.acting_started") == []


@pytest.mark.parametrize("email", [ADMIN, MANAGER])
def test_staff_who_see_every_customer_may_act_for_any(as_user, ctx, email):
    c = as_user(email)
    etna = company("etna").id  # assigned to nobody
    assert act(c, "orders@etna.test", company_id=etna).status_code == 302
    assert session_row(email).acting_for_id == user("orders@etna.test").id


def test_only_active_people_who_may_buy_can_be_acted_for(as_user, ctx):
    c = as_user(ANNA)
    # A browse-only person has nothing to act with: not among the choices.
    response = act(c, ACME_BROWSER)
    assert response.status_code == 302 and response.headers["Location"].endswith("#storefront")
    assert session_row(ANNA).acting_for_id is None
    page = c.get(f"/office/customers/{acme()}").get_data(as_text=True)
    assert "Choose one of the company" in page
    panel = find(page, id="storefront").inner_html
    assert ACME_DM in panel and ACME_REQUESTER in panel
    assert f'<option value="{user(ACME_BROWSER).id}"' not in panel.split("view-person")[0]
    # Nor is a blocked person, nor another company's.
    blocked = user(ACME_REQUESTER)
    blocked.status = "blocked"
    db.session.commit()
    assert act(c, ACME_REQUESTER).headers["Location"].endswith("#storefront")
    assert act(c, "orders@baltic.test").headers["Location"].endswith("#storefront")
    assert session_row(ANNA).acting_for_id is None


# --- placing in the person's name ---------------------------------------------------------


def test_an_order_placed_for_a_decision_maker_names_both(as_user, ctx):
    c = as_user(ANNA)
    act(c, ACME_DM, start="cart")
    add(c, MCU, 10)  # Wholesale, at the break from 10: 4.50 each
    # The person's own cart is untouched: staff build a cart of their own for them.
    assert carts.open_cart(user(ACME_DM)) is None
    data = delivery_form("acme", "Express", customer_reference="PO-ANNA")
    response = c.send("POST", "/shop/cart/checkout", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    order = latest(Order)
    assert response.headers["Location"] == f"/shop/orders/{order.id}"
    assert order.placed_by_id == user(ACME_DM).id
    assert order.acting_staff_id == user(ANNA).id
    assert order.total == Decimal("45.00")  # the company's offer, with its break
    assert order.customer_reference == "PO-ANNA" and order.shipping_name == "Express"
    # Audited as Anna's, for Olga of Acme.
    placed = [e for e in entries("order.placed") if e.target_id == order.id]
    assert placed[0].actor_id == user(ANNA).id
    assert placed[0].after["on_behalf_of"].startswith(user(ACME_DM).name)
    assert f"(by {user(ANNA).name} for {user(ACME_DM).name}, Acme Robotics)" in placed[0].summary
    # The customer sees who placed it: the page, the PDF's facts, the list, the mail.
    expected = on_behalf(ACME_DM)
    customer = as_user(ACME_DM)
    page = customer.get(f"/shop/orders/{order.id}").get_data(as_text=True)
    assert expected in find(page, id=f"order-{order.id}").text
    assert expected in customer.get("/shop/orders").get_data(as_text=True)
    db.session.expire_all()
    mail = db.session.scalar(
        select(OutboxMail).where(
            OutboxMail.to_addr == ACME_DM, OutboxMail.subject.contains(order.number)
        )
    )
    assert f"{user(ANNA).name}, of the seller's staff, placed this order for" in mail.body
    # Staff see it too.
    office = as_user(MANAGER).get(f"/office/orders/{order.id}").get_data(as_text=True)
    assert expected in office


def test_the_pdf_says_who_placed_it(as_user, ctx, monkeypatch):
    import blueprints.shop.orders as shop_orders

    seen = {}
    original = shop_orders.order_document

    def keeping(context):
        document = original(context)
        seen["facts"] = {str(label): str(value) for label, value in document.facts}
        return document

    monkeypatch.setattr(shop_orders, "order_document", keeping)
    c = as_user(ANNA)
    act(c, ACME_DM, start="cart")
    add(c, CAP, 10)
    c.send("POST", "/shop/cart/checkout", data=delivery_form("acme", customer_reference="X"))
    order = latest(Order)
    response = as_user(ACME_DM).get(f"/shop/orders/{order.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    expected = on_behalf(ACME_DM)
    assert seen["facts"]["Placed by"] == expected


def test_a_cart_built_for_a_requester_goes_to_the_companys_approval(as_user, ctx):
    c = as_user(ANNA)
    act(c, ACME_REQUESTER, start="cart")
    add(c, MCU, 5)
    # The requester may not order: checking out is refused, as for the requester.
    refused = c.send("POST", "/shop/cart/checkout", data=delivery_form("acme"))
    assert refused.status_code == 403
    assert latest(Order) is None or latest(Order).acting_staff_id is None
    sent = c.send("POST", "/shop/cart/submit", data=delivery_form("acme", customer_reference="R"))
    assert sent.status_code == 302
    cart = latest(Cart)
    assert cart.status == "submitted" and cart.owner_id == user(ACME_REQUESTER).id
    assert cart.acting_staff_id == user(ANNA).id
    [submitted] = [e for e in entries("cart.submitted") if e.target_id == cart.id]
    assert submitted.actor_id == user(ANNA).id
    # The decision-maker sees who prepared it, approves it: the order names both.
    dm = as_user(ACME_DM)
    page = dm.get(f"/shop/approvals/{cart.id}").get_data(as_text=True)
    assert on_behalf(ACME_REQUESTER) in page
    assert "Prepared by" in dm.get("/shop/approvals").get_data(as_text=True)
    approved = dm.send(
        "POST", f"/shop/approvals/{cart.id}/approve", data={"note": "", **delivery_form("acme")}
    )
    assert approved.status_code == 302, approved.get_data(as_text=True)[:400]
    order = latest(Order)
    assert order.placed_by_id == user(ACME_REQUESTER).id
    assert order.approved_by_id == user(ACME_DM).id
    assert order.acting_staff_id == user(ANNA).id


def test_the_seller_never_gives_the_second_approval_of_a_cart_they_built(as_user, ctx):
    acme_co = company("acme")
    acme_co.approval_limit = Decimal("10.00")
    db.session.commit()
    c = as_user(ANNA)
    act(c, ACME_DM, start="cart")
    add(c, MCU, 10)
    c.send("POST", "/shop/cart/checkout", data=delivery_form("acme", customer_reference="B"))
    cart = latest(Cart)
    assert cart.status == "submitted" and cart.first_approver_id == user(ACME_DM).id
    c.send("POST", "/office/acting/end")
    url = f"/office/orders/second-approvals/carts/{cart.id}"
    own = c.send("POST", url, data={"note": ""}, htmx=True)
    assert own.status_code == 422
    assert "another member of staff gives the second approval" in own.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Cart, cart.id).status == "submitted"
    # Another member of staff may.
    other = as_user(MANAGER).send("POST", url, data={"note": ""}, htmx=True)
    assert other.status_code == 200
    order = latest(Order)
    assert order.acting_staff_id == user(ANNA).id and order.approved_by_id == user(MANAGER).id


def test_a_quote_asked_for_a_person_names_who_asked(as_user, ctx):
    c = as_user(ANNA)
    assert act(c, ACME_REQUESTER, start="quote").headers["Location"] == "/shop/quotes/new"
    response = c.send(
        "POST",
        "/shop/quotes/new",
        data={
            "lines-0-sku": MCU,
            "lines-0-quantity": "500",
            "note": "Phone call",
            "action": "send",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    quote = latest(Quote)
    assert quote.requested_by_id == user(ACME_REQUESTER).id
    assert quote.acting_staff_id == user(ANNA).id
    [asked] = [e for e in entries("quote.requested") if e.target_id == quote.id]
    assert asked.actor_id == user(ANNA).id
    expected = on_behalf(ACME_REQUESTER)
    page = as_user(ACME_REQUESTER).get(f"/shop/quotes/{quote.id}").get_data(as_text=True)
    assert expected in page
    assert expected in as_user(ANNA).get(f"/office/quotes/{quote.id}").get_data(as_text=True)


def test_acting_changes_only_carts_orders_and_quotes(as_user, ctx):
    c = as_user(ANNA)
    act(c, ACME_DM)
    # The company's own administration stays the customer's: refused, nothing written.
    requester = user(ACME_REQUESTER).id
    for url in (f"/shop/users/{requester}/block", "/shop/lists", "/shop/quotes/1/accept"):
        response = c.send("POST", url, data={"name": "X"})
        assert response.status_code == 403, url
    assert user(ACME_REQUESTER).status == "active"
    # And the pages hide what is not lent: no approvals, no people, no addresses.
    nav = find(c.get("/shop/").get_data(as_text=True), id="nav").text
    assert "Cart" in nav and "Orders" in nav
    assert "Approvals" not in nav and "People" not in nav and "Addresses" not in nav


# --- leaving, and what one placed ---------------------------------------------------------


def test_stopping_returns_to_the_customer_page_and_is_audited(as_user, ctx):
    c = as_user(ANNA)
    act(c, ACME_DM)
    response = c.send("POST", "/office/acting/end")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/office/customers/{acme()}"
    assert session_row(ANNA).acting_for_id is None
    [ended] = entries("customer.acting_ended")
    assert ended.actor_id == user(ANNA).id and ended.after["reason"] == "exit"
    assert c.get("/shop/").status_code == 403  # staff have no storefront of their own


def test_the_office_lists_what_one_placed_for_customers(as_user, ctx):
    c = as_user(ANNA)
    act(c, ACME_DM, start="cart")
    add(c, CAP, 10)
    c.send("POST", "/shop/cart/checkout", data=delivery_form("acme", customer_reference="L"))
    order = latest(Order)
    act(c, ACME_REQUESTER, start="cart")
    add(c, MCU, 1)
    c.send("POST", "/office/acting/end")
    orders_page = c.get("/office/acting").get_data(as_text=True)
    assert order.number in orders_page
    carts_page = c.get("/office/acting?show=carts").get_data(as_text=True)
    assert "Being built" in carts_page and "Resume for" in carts_page
    assert c.get("/office/acting?show=nonsense").status_code == 400
    # Marco placed nothing: his list is empty, never Anna's.
    assert order.number not in as_user(MARCO).get("/office/acting").get_data(as_text=True)


def test_a_count_of_orders_is_unchanged_by_refusals(as_user, ctx):
    before = db.session.scalar(select(func.count(Order.id)))
    c = as_user(MARCO)
    act(c, ACME_DM)
    assert c.send("POST", "/shop/cart/checkout", data={}).status_code == 403
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Order.id))) == before
