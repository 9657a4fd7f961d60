"""/shop/cart and /shop/approvals: carts at today's offers, checkout, and approvals.

Requesters build carts and submit them; decision-makers of the same company check
out or approve them (two different ones above the approval limit); nobody approves
their own request, and nobody sees or acts on another company's carts.
"""

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select

from core import carts, orders
from core.errors import Refused
from core.models import (
    CENT,
    AuditEntry,
    Cart,
    CartLine,
    Company,
    LoginSession,
    Order,
    OutboxMail,
    Product,
    Role,
    StockMovement,
    User,
    utcnow,
)
from core.offer import offer_for
from core.sessions import token_hash
from extensions import db
from tests.conftest import persona_token
from tests.delivery import form as delivery_form
from tests.html import find, find_all
from tests.records import company, pid, user

MCU, CAP, USBC = "MCU-STM32F401", "CAP-1206-10U", "CON-USBC-16P"
SECOND = "second.dm@acme.test"


def stock(sku: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Product.stock).where(Product.sku == sku))


def open_cart(email: str) -> Cart | None:
    db.session.expire_all()
    return carts.open_cart(user(email))


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def mails_to(email: str) -> list[OutboxMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == email)))


def add(c, sku: str, quantity, **kwargs):
    return c.send(
        "POST", "/shop/cart/lines", data={"product_id": pid(sku), "quantity": quantity}, **kwargs
    )


def acme_request() -> Cart:
    """The demo's submitted cart of request@acme.test."""
    return db.session.scalar(
        select(Cart).where(
            Cart.owner_id == user("request@acme.test").id, Cart.status == "submitted"
        )
    )


def price(email: str, sku: str) -> Decimal:
    product = db.session.scalar(select(Product).where(Product.sku == sku))
    return offer_for(user(email).company.group, product).price


def line_total(unit: Decimal, quantity: int) -> Decimal:
    return (unit * quantity).quantize(CENT, ROUND_HALF_UP)


@pytest.fixture
def second_dm(ctx):
    """A second decision-maker at Acme, signed in like the demo personas."""
    role = db.session.scalar(select(Role).where(Role.preset == "decision_maker"))
    person = User(
        email=SECOND,
        name="Sam Second",
        kind="customer",
        company=company("acme"),
        status="active",
        password_hash="unused",
        roles=[role],
    )
    now = utcnow()
    db.session.add_all(
        [
            person,
            LoginSession(
                token_hash=token_hash(persona_token(SECOND)),
                user=person,
                expires_at=now + timedelta(days=1),
            ),
        ]
    )
    db.session.commit()
    return person


# --- who may use the cart ----------------------------------------------------------------


CART_ROUTES = [
    ("GET", "/shop/cart"),
    ("POST", "/shop/cart/lines"),
    ("POST", "/shop/cart/lines/1"),
    ("POST", "/shop/cart/lines/1/remove"),
    ("POST", "/shop/cart/submit"),
    ("POST", "/shop/cart/checkout"),
    ("GET", "/shop/approvals"),
    ("GET", "/shop/approvals/1"),
    ("POST", "/shop/approvals/1/approve"),
    ("POST", "/shop/approvals/1/reject"),
]


@pytest.mark.parametrize(("method", "url"), CART_ROUTES)
def test_browse_only_people_get_403_on_every_cart_route(app, as_user, ctx, method, url):
    c = as_user("browse@acme.test")
    before = count(CartLine), count(Cart)
    data = {"product_id": pid(CAP), "quantity": 1, "note": "x"} if method == "POST" else None
    response = c.send(method, url, data=data)
    assert response.status_code == 403
    assert (count(CartLine), count(Cart)) == before


def test_browse_only_people_see_no_add_to_cart_form(as_user, ctx):
    html = as_user("browse@acme.test").get(f"/shop/?q={CAP}").get_data(as_text=True)
    assert 'action="/shop/cart/lines"' not in html
    html = as_user("browse@acme.test").get(f"/shop/products/{pid(CAP)}").get_data(as_text=True)
    assert 'action="/shop/cart/lines"' not in html


@pytest.mark.parametrize("email", ["request@acme.test", "orders@acme.test"])
def test_the_add_form_sits_outside_the_live_offer(as_user, ctx, email):
    for url in (f"/shop/?q={CAP}", f"/shop/products/{pid(CAP)}"):
        html = as_user(email).get(url).get_data(as_text=True)
        offer = find(html, id=f"offer-{pid(CAP)}")
        form = find(html, id=f"add-{pid(CAP)}")
        assert form is not None and form.attrs["action"] == "/shop/cart/lines"
        assert "add-to-cart" not in offer.inner_html  # a push replaces the offer wholesale


# --- building the cart -------------------------------------------------------------------


def test_requester_builds_a_cart_at_todays_offer(as_user, ctx):
    c = as_user("request@acme.test")
    assert open_cart("request@acme.test") is None  # the demo's cart is submitted
    # CAP-1206-10U is sold in packs of 10 from 10 on (demo).
    response = add(c, CAP, 10, htmx=True)
    assert response.status_code == 200
    assert "10 × CAP-1206-10U added to your cart" in response.get_data(as_text=True)
    assert "<html" not in response.get_data(as_text=True)
    add(c, CAP, 20)  # adds to the same line
    add(c, MCU, 2)
    cart = open_cart("request@acme.test")
    assert sorted((ln.product.sku, ln.quantity) for ln in cart.lines) == [(CAP, 30), (MCU, 2)]

    html = c.get("/shop/cart").get_data(as_text=True)
    region = find(html, id=f"my-cart-{user('request@acme.test').id}")
    assert "data-live" in region.attrs and region.attrs["hx-trigger"] == "live:refresh"
    # Each line shows its offer through the live partial, with the group's price.
    offer = find(region.inner_html, id=f"offer-{pid(MCU)}")
    assert offer is not None and "data-live" in offer.attrs
    assert "€4.68" in offer.text  # 5.20 Wholesale less the 10% spring promotion
    totals = [Decimal(e.attrs["data-total"]) for e in find_all(html, class_="num line-total")]
    expected = [
        line_total(price("request@acme.test", CAP), 30),
        line_total(price("request@acme.test", MCU), 2),
    ]
    assert sorted(totals) == sorted(expected)
    assert f'data-total="{sum(expected)}"' in html
    assert "Submit for approval" in html and "Place the order" not in html


def test_one_open_cart_per_person(as_user, ctx):
    c = as_user("request@baltic.test")
    existing = open_cart("request@baltic.test")
    add(c, MCU, 1)
    add(c, CAP, 10)
    assert count(Cart, Cart.owner_id == user("request@baltic.test").id, Cart.status == "open") == 1
    assert open_cart("request@baltic.test").id == existing.id


def test_quantities_change_and_zero_or_remove_takes_a_line_out(as_user, ctx):
    c = as_user("request@acme.test")
    add(c, CAP, 10)
    add(c, MCU, 1)
    line = next(ln for ln in open_cart("request@acme.test").lines if ln.product.sku == CAP).id
    response = c.send("POST", f"/shop/cart/lines/{line}", data={"quantity": 20}, htmx=True)
    assert response.status_code == 200
    assert f'id="my-cart-{user("request@acme.test").id}"' in response.get_data(as_text=True)
    assert db.session.get(CartLine, line).quantity == 20
    c.send("POST", f"/shop/cart/lines/{line}", data={"quantity": 0})
    db.session.expire_all()
    assert db.session.get(CartLine, line) is None
    other = open_cart("request@acme.test").lines[0]
    response = c.send("POST", f"/shop/cart/lines/{other.id}/remove")
    assert response.status_code == 302
    assert open_cart("request@acme.test").lines == []


@pytest.mark.parametrize("quantity", ["-1", "abc", "1.5", "1000001", ""])
def test_bad_quantities_are_refused_and_change_nothing(as_user, ctx, quantity):
    c = as_user("request@baltic.test")
    line = open_cart("request@baltic.test").lines[0]
    before = line.quantity
    response = c.send("POST", f"/shop/cart/lines/{line.id}", data={"quantity": quantity}, htmx=True)
    assert response.status_code == 422
    assert "whole number" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CartLine, line.id).quantity == before
    response = add(c, MCU, quantity, htmx=True)
    assert response.status_code == 422
    assert len(open_cart("request@baltic.test").lines) == 2


def test_an_out_of_stock_or_unknown_product_cannot_be_added(as_user, ctx):
    c = as_user("request@acme.test")
    response = add(c, USBC, 1, htmx=True)
    assert response.status_code == 422
    assert "out of stock" in response.get_data(as_text=True)
    assert (
        c.send("POST", "/shop/cart/lines", data={"product_id": 999999, "quantity": 1}).status_code
        == 404
    )
    assert c.send("POST", "/shop/cart/lines", data={"quantity": 1}).status_code == 400
    assert open_cart("request@acme.test") is None


@pytest.mark.parametrize("email", ["request@acme.test", "orders@baltic.test", "orders@acme.test"])
def test_another_persons_cart_line_is_not_found_and_unchanged(as_user, ctx, email):
    line = open_cart("request@baltic.test").lines[0]
    before = line.quantity
    c = as_user(email)
    assert c.send("POST", f"/shop/cart/lines/{line.id}", data={"quantity": 99}).status_code == 404
    assert c.send("POST", f"/shop/cart/lines/{line.id}/remove").status_code == 404
    db.session.expire_all()
    assert db.session.get(CartLine, line.id).quantity == before


# --- requesters, decision-makers, approvals ------------------------------------------------


def test_requesters_cannot_check_out_or_approve(as_user, ctx):
    c = as_user("request@baltic.test")
    orders_before = count(Order)
    assert c.send("POST", "/shop/cart/checkout").status_code == 403
    request = acme_request()
    for persona in ("request@acme.test", "request@baltic.test"):
        r = as_user(persona)
        assert r.get(f"/shop/approvals/{request.id}").status_code == 403
        assert r.send("POST", f"/shop/approvals/{request.id}/approve").status_code == 403
        assert (
            r.send("POST", f"/shop/approvals/{request.id}/reject", data={"note": "no"}).status_code
            == 403
        )
    assert count(Order) == orders_before
    db.session.expire_all()
    assert acme_request().status == "submitted"


def test_the_service_refuses_a_requester_too(ctx):
    with pytest.raises(Refused, match="Only a decision-maker"):
        carts.checkout(user("request@baltic.test"))
    db.session.rollback()
    with pytest.raises(Refused, match="Only a decision-maker"):
        carts.approve(user("request@acme.test"), acme_request().id)
    db.session.rollback()


def test_requester_submits_and_decision_makers_are_told(app, as_user, ctx):
    c = as_user("request@baltic.test")
    cart = open_cart("request@baltic.test")
    response = c.send(
        "POST",
        "/shop/cart/submit",
        data={"note": "For the spring batch", **delivery_form("baltic")},
        htmx=True,
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "sent for approval" in body and 'hx-swap-oob="true"' in body
    db.session.expire_all()
    cart = db.session.get(Cart, cart.id)
    assert cart.status == "submitted" and cart.note == "For the spring batch"
    assert cart.submitted_at is not None
    assert open_cart("request@baltic.test") is None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cart.submitted"))
    assert entry.target_id == cart.id and entry.actor_email == "request@baltic.test"
    assert [m.subject for m in mails_to("orders@baltic.test")][-1].startswith("Approval requested")
    assert mails_to("request@baltic.test") == [] and mails_to("browse@baltic.test") == []
    # The request shows on the requester's cart page, and a new cart starts on the next add.
    assert "Waiting for approval" in c.get("/shop/cart").get_data(as_text=True)
    add(c, MCU, 1)
    assert open_cart("request@baltic.test").id != cart.id


def test_submitting_an_empty_cart_is_refused(as_user, ctx):
    response = as_user("request@acme.test").send("POST", "/shop/cart/submit", htmx=True)
    assert response.status_code == 422
    assert "Your cart is empty" in response.get_data(as_text=True)


def test_decision_maker_approves_and_the_order_is_the_requesters(as_user, ctx):
    request = acme_request()
    expected = carts.priced(request).total
    mcu_before, cap_before = stock(MCU), stock(CAP)
    dm = as_user("orders@acme.test")
    listing = dm.get("/shop/approvals").get_data(as_text=True)
    assert f'id="approval-{request.id}"' in listing and "Ravi Menon" in listing
    page = dm.get(f"/shop/approvals/{request.id}").get_data(as_text=True)
    assert find(page, id=f"offer-{pid(MCU)}") is not None  # live offers there too
    response = dm.send("POST", f"/shop/approvals/{request.id}/approve", data={"note": "Go ahead"})
    assert response.status_code == 302
    db.session.expire_all()
    request = db.session.get(Cart, request.id)
    order = db.session.get(Order, request.order_id)
    assert response.headers["Location"] == f"/shop/orders/{order.id}"
    assert request.status == "approved" and request.decided_by.email == "orders@acme.test"
    assert request.decision_note == "Go ahead"
    assert order.placed_by.email == "request@acme.test"
    assert order.approved_by.email == "orders@acme.test"
    assert order.total == expected == sum(ln.line_total for ln in order.lines)
    assert stock(MCU) == mcu_before - 40 and stock(CAP) == cap_before - 20
    assert count(AuditEntry, AuditEntry.action == "cart.approved") == 1
    assert any(order.number in m.subject for m in mails_to("request@acme.test"))
    assert any(order.number in m.subject for m in mails_to("anna.sales@portal.test"))
    assert mails_to("marco.sales@portal.test") == []  # not Acme's rep
    # Deciding twice is refused, and places nothing more.
    placed = count(Order)
    again = dm.send("POST", f"/shop/approvals/{request.id}/approve", htmx=True)
    assert again.status_code == 422 and "already approved" in again.get_data(as_text=True)
    assert count(Order) == placed


def test_approval_htmx_answer_navigates_to_the_order(as_user, ctx):
    request = acme_request()
    response = as_user("orders@acme.test").send(
        "POST", f"/shop/approvals/{request.id}/approve", htmx=True
    )
    assert response.status_code == 200
    assert re.fullmatch(r"/shop/orders/\d+", response.headers["HX-Redirect"])


def test_reject_needs_a_note_and_tells_the_requester(as_user, ctx):
    request = acme_request()
    dm = as_user("orders@acme.test")
    response = dm.send(
        "POST", f"/shop/approvals/{request.id}/reject", data={"note": " "}, htmx=True
    )
    assert response.status_code == 422 and "Say why" in response.get_data(as_text=True)
    db.session.expire_all()
    assert acme_request().status == "submitted"
    response = dm.send("POST", f"/shop/approvals/{request.id}/reject", data={"note": "Use stock"})
    assert response.status_code == 302
    db.session.expire_all()
    rejected = db.session.get(Cart, request.id)
    assert rejected.status == "rejected" and rejected.decision_note == "Use stock"
    assert rejected.order_id is None
    assert count(AuditEntry, AuditEntry.action == "cart.rejected") == 1
    assert any("Use stock" in m.body for m in mails_to("request@acme.test"))
    html = as_user("request@acme.test").get("/shop/cart").get_data(as_text=True)
    assert "Rejected" in html and "Use stock" in html
    refused = dm.send("POST", f"/shop/approvals/{request.id}/approve", htmx=True)
    assert refused.status_code == 422 and "already rejected" in refused.get_data(as_text=True)


@pytest.mark.parametrize("email", ["orders@baltic.test", "orders@carpathia.test"])
def test_another_companys_request_is_not_found_and_unchanged(as_user, ctx, email):
    request = acme_request()
    c = as_user(email)
    assert c.get(f"/shop/approvals/{request.id}").status_code == 404
    assert c.send("POST", f"/shop/approvals/{request.id}/approve").status_code == 404
    assert (
        c.send("POST", f"/shop/approvals/{request.id}/reject", data={"note": "x"}).status_code
        == 404
    )
    assert "Ravi Menon" not in c.get("/shop/approvals").get_data(as_text=True)
    db.session.expire_all()
    assert acme_request().status == "submitted"
    with pytest.raises(Exception, match="no such request"):
        carts.approve(user(email), request.id)
    db.session.rollback()


def test_decision_maker_checks_out_at_the_price_of_the_moment(as_user, ctx):
    dm = as_user("orders@baltic.test")
    add(dm, MCU, 10)
    add(dm, CAP, 10)
    unit = price("orders@baltic.test", MCU)
    assert unit == Decimal("5.7000")  # Partner 6.00 less 5%
    page = dm.get("/shop/cart").get_data(as_text=True)
    assert "Place the order" in page
    response = dm.send(
        "POST", "/shop/cart/checkout", data={"note": "PO-7731", **delivery_form("baltic")}
    )
    assert response.status_code == 302
    order = db.session.scalar(select(Order).order_by(Order.id.desc()))
    assert response.headers["Location"] == f"/shop/orders/{order.id}"
    assert order.placed_by.email == "orders@baltic.test" and order.approved_by is None
    assert order.note == "PO-7731"
    mcu = next(ln for ln in order.lines if ln.sku == MCU)
    assert mcu.unit_price == unit and mcu.line_total == line_total(unit, 10)
    assert order.total == sum(ln.line_total for ln in order.lines)
    assert open_cart("orders@baltic.test") is None
    assert db.session.scalar(select(Cart).where(Cart.order_id == order.id)).status == "approved"


def test_above_the_limit_a_decision_makers_order_needs_a_second_one(as_user, ctx, second_dm):
    acme = company("acme")
    assert acme.approval_limit == Decimal("5000.00")
    first = as_user("orders@acme.test")
    # 2000 reach Wholesale's break from 100 (4.80 less 10%): 2000 at 4.32 = 8,640.00.
    add(first, MCU, 2000)
    page = first.get("/shop/cart").get_data(as_text=True)
    assert "two decision-makers must approve" in page
    orders_before = count(Order)
    response = first.send("POST", "/shop/cart/checkout", data=delivery_form("acme"), htmx=True)
    assert response.status_code == 200 and "second" in response.get_data(as_text=True)
    assert count(Order) == orders_before
    cart = db.session.scalar(
        select(Cart).where(Cart.owner_id == user("orders@acme.test").id, Cart.status == "submitted")
    )
    assert cart.first_approver.email == "orders@acme.test"
    assert any(m.subject.startswith("Second approval") for m in mails_to(SECOND))
    # Nobody approves their own request.
    own = first.send("POST", f"/shop/approvals/{cart.id}/approve", htmx=True)
    assert own.status_code == 422 and "own request" in own.get_data(as_text=True)
    assert count(Order) == orders_before
    response = as_user(SECOND).send("POST", f"/shop/approvals/{cart.id}/approve")
    assert response.status_code == 302
    db.session.expire_all()
    order = db.session.get(Order, db.session.get(Cart, cart.id).order_id)
    assert order.placed_by.email == "orders@acme.test" and order.approved_by.email == SECOND
    assert order.total == Decimal("8640.00")


def test_a_request_above_the_limit_takes_two_different_approvers(as_user, ctx, second_dm):
    requester = as_user("request@acme.test")
    add(requester, MCU, 1500)  # at the break from 100: 1500 at 4.32 = 6,480.00
    assert (
        requester.send("POST", "/shop/cart/submit", data=delivery_form("acme")).status_code == 302
    )
    cart = db.session.scalar(
        select(Cart)
        .where(Cart.owner_id == user("request@acme.test").id, Cart.status == "submitted")
        .order_by(Cart.id.desc())
    )
    first = as_user("orders@acme.test")
    response = first.send("POST", f"/shop/approvals/{cart.id}/approve")
    assert response.status_code == 302 and response.headers["Location"] == "/shop/approvals"
    db.session.expire_all()
    cart = db.session.get(Cart, cart.id)
    assert cart.status == "submitted" and cart.first_approver.email == "orders@acme.test"
    # The second decision-maker is asked; the first one is not asked to approve again.
    asked = select(OutboxMail.to_addr).where(OutboxMail.subject.like("Second approval needed%"))
    assert set(db.session.scalars(asked)) == {SECOND}
    again = first.send("POST", f"/shop/approvals/{cart.id}/approve", htmx=True)
    assert again.status_code == 422 and "first approval" in again.get_data(as_text=True)
    assert cart.order_id is None
    as_user(SECOND).send("POST", f"/shop/approvals/{cart.id}/approve")
    db.session.expire_all()
    order = db.session.get(Order, db.session.get(Cart, cart.id).order_id)
    assert order.placed_by.email == "request@acme.test"
    assert order.approved_by.email == SECOND
    assert count(AuditEntry, AuditEntry.action == "cart.approved") == 2


# --- stock, never revealed -----------------------------------------------------------------


# Standard accepts back-orders (demo): its refusal-free path is in test_backorders.py.
@pytest.mark.parametrize("email", ["orders@baltic.test", "orders@delft.test"])
def test_not_enough_stock_says_so_without_the_count(as_user, ctx, email):
    left = stock(CAP)  # 36: "Few" for levels groups
    movements = count(StockMovement)
    c = as_user(email)
    add(c, CAP, left + 4)
    page = c.get("/shop/cart").get_data(as_text=True)
    assert "More than there is in stock" not in page  # a levels group gets no hint
    slug = email.split("@")[1].removesuffix(".test")
    response = c.send("POST", "/shop/cart/checkout", data=delivery_form(slug), htmx=True)
    assert response.status_code == 422
    message = find(response.get_data(as_text=True), class_="flash flash--error").text
    assert "Not enough stock of CAP-1206-10U" in message
    assert str(left) not in message and not re.search(r"\b\d+ (left|in stock)", message)
    assert stock(CAP) == left
    assert open_cart(email).status == "open"
    assert count(StockMovement) == movements


def test_a_group_that_sees_counts_is_warned_before_checkout(as_user, ctx):
    c = as_user("orders@acme.test")
    add(c, CAP, (stock(CAP) // 10 + 1) * 10)  # in packs of 10 (demo)
    assert "More than there is in stock" in c.get("/shop/cart").get_data(as_text=True)


def test_orders_keep_the_price_of_the_moment(as_user, ctx):
    from core import products

    dm = as_user("orders@baltic.test")
    add(dm, MCU, 4)
    assert dm.send("POST", "/shop/cart/checkout", data=delivery_form("baltic")).status_code == 302
    order = db.session.scalar(select(Order).order_by(Order.id.desc()))
    before = order.lines[0].unit_price
    partner = db.session.scalar(select(Company.group_id).where(Company.slug == "baltic"))
    products.set_prices(
        db.session.get(Product, pid(MCU)),
        actor=None,
        base_price="7.00",
        group_prices={partner: "9.00"},
    )
    db.session.commit()
    add(dm, MCU, 1)
    assert "€8.55" in dm.get("/shop/cart").get_data(as_text=True)  # 9.00 less 5%, today
    db.session.expire_all()
    assert db.session.get(Order, order.id).lines[0].unit_price == before


def test_unsold_products_block_checkout_until_removed(as_user, ctx):
    from core import products

    dm = as_user("orders@baltic.test")
    add(dm, MCU, 1)
    add(dm, CAP, 10)
    products.archive(db.session.get(Product, pid(CAP)), actor=None)
    db.session.commit()
    assert "Not sold any more" in dm.get("/shop/cart").get_data(as_text=True)
    response = dm.send("POST", "/shop/cart/checkout", data=delivery_form("baltic"), htmx=True)
    assert response.status_code == 422 and "not sold any more" in response.get_data(as_text=True)
    line = next(ln for ln in open_cart("orders@baltic.test").lines if ln.product_id == pid(CAP))
    dm.send("POST", f"/shop/cart/lines/{line.id}/remove")
    assert dm.send("POST", "/shop/cart/checkout", data=delivery_form("baltic")).status_code == 302


def test_services_validate_quantities(ctx):
    person = user("request@acme.test")
    for bad in (0, -3, orders.MAX_QUANTITY + 1, True, "2"):
        with pytest.raises(Refused):
            carts.add(person, pid(MCU), bad)
        db.session.rollback()
