"""A company whose approval limit needs two decision-makers but has one is never stuck.

Acme Robotics (limit 5,000 EUR) has one decision-maker in the demo, Olivia Grant
(orders@acme.test). Where the limit is set, at checkout and at a quote's acceptance the
people concerned are warned before they are stuck at "1 of 2"; staff who may move Acme's
orders (orders.edit, Acme in their scope) give the second approval from the back office,
which places the order as a second decision-maker's approval does. Nobody else does.
"""

import re
import time
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, select, text

from core import carts, quotes
from core.models import (
    AuditEntry,
    Cart,
    Company,
    Order,
    OutboxMail,
    Product,
    Quote,
    QuoteRound,
    StockMovement,
)
from extensions import db
from tests.delivery import form as delivery_form
from tests.integration.test_cart import SECOND, second_dm  # noqa: F401  (fixture)
from tests.integration.test_office_customers_edit import edit_data
from tests.records import pid, user
from tests.sockets import drain, watch

ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"
ANNA = "anna.sales@portal.test"  # Acme's rep
MARCO = "marco.sales@portal.test"  # not Acme's rep
WAREHOUSE = "warehouse@portal.test"  # orders.edit, every customer, no quotes
FINANCE = "finance@portal.test"  # orders read-only
VIEWER = "viewer@portal.test"
BUYER = "orders@acme.test"  # Acme's only decision-maker
REQUESTER = "request@acme.test"
MCU, CAP = "MCU-STM32F401", "CAP-1206-10U"
ALONE = "data-alone"
WARNING = "data-approval-warning"


def fresh() -> None:
    db.session.rollback()
    db.session.expire_all()


def company(slug: str) -> Company:
    fresh()
    return db.session.scalar(select(Company).where(Company.slug == slug))


def stock(sku: str) -> int:
    fresh()
    return db.session.scalar(select(Product.stock).where(Product.sku == sku))


def count(model, *where) -> int:
    fresh()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def words(response_or_html) -> str:
    """The visible words of a page, entities decoded."""
    html = (
        response_or_html
        if isinstance(response_or_html, str)
        else response_or_html.get_data(as_text=True)
    )
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def snapshot() -> tuple:
    """What giving a second approval changes, to prove that a refusal changed nothing."""
    fresh()
    queries = (
        "SELECT id, status, first_approver_id, decided_by_id, order_id FROM carts ORDER BY id",
        "SELECT id, status, order_id FROM quotes ORDER BY id",
        "SELECT COUNT(*) FROM quote_rounds",
        "SELECT COUNT(*) FROM orders",
        "SELECT id, stock FROM products ORDER BY id",
        "SELECT COUNT(*) FROM audit_log",
        "SELECT COUNT(*) FROM outbox",
    )
    return tuple(tuple(db.session.execute(text(q)).all()) for q in queries)


def add(c, sku: str, quantity: int):
    response = c.send(
        "POST", "/shop/cart/lines", data={"product_id": pid(sku), "quantity": quantity}
    )
    assert response.status_code == 302, response.status_code


def checkout(c):
    """Check out the open cart to Acme's default address by parcel, as the form sends it."""
    return c.send("POST", "/shop/cart/checkout", data=delivery_form("acme"), htmx=True)


def waiting_cart(as_user, quantity: int = 2000) -> Cart:
    """Acme's only decision-maker orders above the limit: the cart waits at "1 of 2"."""
    buyer = as_user(BUYER)
    add(buyer, MCU, quantity)  # 2000 at 4.32 (the break from 100) = 8,640.00
    response = checkout(buyer)
    assert response.status_code == 200, words(response)
    fresh()
    cart = db.session.scalar(
        select(Cart).where(Cart.owner_id == user(BUYER).id, Cart.status == "submitted")
    )
    assert cart is not None and cart.first_approver_id == user(BUYER).id
    return cart


def give_cart(c, cart_id: int, *, htmx: bool = True, company_id: int | None = None, **data):
    url = f"/office/orders/second-approvals/carts/{cart_id}"
    if company_id is not None:
        url += f"?company={company_id}"
    return c.send("POST", url, data=data, htmx=htmx)


def latest(quote_id: int) -> int:
    fresh()
    return db.session.scalar(select(func.max(QuoteRound.id)).where(QuoteRound.quote_id == quote_id))


def offered_quote(as_user, quantity: int = 1000, price: str = "6.00") -> int:
    """An Acme quote offered by Anna: 1000 at 6.00 = 6,000.00, above the limit."""
    ask = {"note": "", "action": "send", "lines-0-sku": MCU, "lines-0-quantity": str(quantity)}
    response = as_user(REQUESTER).send("POST", "/shop/quotes/new", data=ask)
    assert response.status_code == 302
    quote_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    fresh()
    line = db.session.get(Quote, quote_id).lines[0]
    valid = (quotes.today() + timedelta(days=10)).isoformat()
    data = {
        "seen": str(latest(quote_id)),
        "note": "",
        "valid_until": valid,
        "lines-0-line": str(line.id),
        "lines-0-unit_price": price,
    }
    offered = as_user(ANNA).send("POST", f"/office/quotes/{quote_id}/offer", data=data, htmx=True)
    assert offered.status_code == 200, words(offered)
    return quote_id


def accept(c, quote_id: int):
    data = {"seen": str(latest(quote_id)), "note": ""}
    return c.send("POST", f"/shop/quotes/{quote_id}/accept", data=data, htmx=True)


def approved_quote(as_user) -> int:
    """An Acme quote above the limit with its first approval, by Acme's only decider."""
    quote_id = offered_quote(as_user)
    response = accept(as_user(BUYER), quote_id)
    assert response.status_code == 200, words(response)
    assert quotes.first_approval(quote(quote_id)) is not None
    return quote_id


def quote(quote_id: int) -> Quote:
    fresh()
    return db.session.get(Quote, quote_id)


def give_quote(c, quote_id: int, *, htmx: bool = True, seen: int | None = None, query=""):
    data = {
        "seen": str(seen if seen is not None else latest(quote_id)),
        "note": "Approved by phone",
    }
    url = f"/office/quotes/{quote_id}/second-approval{query}"
    return c.send("POST", url, data=data, htmx=htmx)


def mails(to: str, like: str) -> list[OutboxMail]:
    fresh()
    return list(
        db.session.scalars(
            select(OutboxMail).where(OutboxMail.to_addr == to, OutboxMail.subject.like(like))
        )
    )


# --- warnings where the limit is set ----------------------------------------------------


def test_the_edit_page_warns_when_the_company_has_one_decision_maker(as_user, ctx):
    acme = company("acme")
    page = as_user(ADMIN).get(f"/office/customers/{acme.id}/edit").get_data(as_text=True)
    assert WARNING in page
    shown = words(page)
    assert "only one active decision-maker (Olivia Grant)" in shown
    assert "invite a second decision-maker" in shown
    assert "Waiting for a second approval" in shown  # where staff give it instead
    # The company's page says so beside the limit too.
    terms = as_user(ANNA).get(f"/office/customers/{acme.id}").get_data(as_text=True)
    assert WARNING in terms and "fewer than two decision-makers" in words(terms)


@pytest.mark.usefixtures("second_dm")
def test_no_warning_once_a_second_decision_maker_is_active(as_user, ctx):
    acme = company("acme")
    assert WARNING not in as_user(ADMIN).get(f"/office/customers/{acme.id}/edit").get_data(
        as_text=True
    )
    assert WARNING not in as_user(ANNA).get(f"/office/customers/{acme.id}").get_data(as_text=True)


@pytest.mark.usefixtures("second_dm")
def test_a_blocked_decision_maker_does_not_count(as_user, ctx):
    user(SECOND).status = "blocked"
    db.session.commit()
    acme = company("acme")
    page = as_user(ADMIN).get(f"/office/customers/{acme.id}/edit").get_data(as_text=True)
    assert WARNING in page and "Sam Second" not in words(page)


def test_without_a_limit_the_company_page_warns_of_nothing(as_user, ctx):
    baltic = company("baltic")  # one decision-maker, no limit
    assert baltic.approval_limit is None
    assert WARNING not in as_user(ADMIN).get(f"/office/customers/{baltic.id}").get_data(
        as_text=True
    )


def test_setting_a_limit_says_what_will_happen_and_how_to_fix_it(as_user, ctx):
    baltic = company("baltic")
    admin = as_user(ADMIN)
    response = admin.send(
        "POST",
        f"/office/customers/{baltic.id}/edit",
        data=edit_data("baltic", approval_limit="1000"),
    )
    assert response.status_code == 302, words(response)
    assert company("baltic").approval_limit == Decimal("1000.00")
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    flashed = words(page)
    assert "flash--warning" in page
    assert "Baltic Drones has fewer than two decision-makers (active: Liis Tamm)" in flashed
    assert "will wait at “1 of 2”" in flashed and "invite a second decision-maker" in flashed


# --- warnings at checkout and at acceptance -----------------------------------------------


def test_the_only_decision_maker_learns_it_before_checking_out(as_user, ctx):
    buyer = as_user(BUYER)
    add(buyer, MCU, 2000)
    page = buyer.get("/shop/cart").get_data(as_text=True)
    assert ALONE in page
    shown = words(page)
    assert "Nobody else at Acme Robotics can give the second approval after yours" in shown
    assert "the seller's staff give the second approval" in shown
    response = checkout(buyer)
    assert "the seller's staff have been asked to give it" in words(response)
    # Acme's rep hears of it: she can give the second approval.
    assert mails(ANNA, "Second approval needed%")


def test_a_requester_is_warned_too(as_user, ctx):
    requester = as_user(REQUESTER)
    add(requester, MCU, 1500)  # 6,480.00 (the break from 100)
    shown = words(requester.get("/shop/cart"))
    assert "Acme Robotics has no second decision-maker to give the second approval" in shown


def test_below_the_limit_nobody_is_warned(as_user, ctx):
    buyer = as_user(BUYER)
    add(buyer, MCU, 10)
    assert ALONE not in buyer.get("/shop/cart").get_data(as_text=True)


@pytest.mark.usefixtures("second_dm")
def test_with_a_second_decision_maker_nobody_is_warned(as_user, ctx):
    buyer = as_user(BUYER)
    add(buyer, MCU, 2000)
    assert ALONE not in buyer.get("/shop/cart").get_data(as_text=True)
    response = checkout(buyer)
    assert "seller's staff" not in words(response)
    assert not mails(ANNA, "Second approval needed%")


def test_the_only_decision_maker_learns_it_before_accepting_a_quote(as_user, ctx):
    quote_id = offered_quote(as_user)
    buyer = as_user(BUYER)
    page = buyer.get(f"/shop/quotes/{quote_id}").get_data(as_text=True)
    assert ALONE in page
    assert "Nobody else at Acme Robotics can accept it after you" in words(page)
    assert "the seller's staff give the second approval" in words(page)
    response = accept(buyer, quote_id)
    assert "the seller's staff have been asked to give the second approval" in words(response)
    assert mails(ANNA, f"Quote {quote(quote_id).number}%second approval needed%")


@pytest.mark.usefixtures("second_dm")
def test_a_quote_with_a_second_decision_maker_warns_of_nothing(as_user, ctx):
    quote_id = offered_quote(as_user)
    assert ALONE not in as_user(BUYER).get(f"/shop/quotes/{quote_id}").get_data(as_text=True)


def test_a_quote_within_the_limit_warns_of_nothing(as_user, ctx):
    quote_id = offered_quote(as_user, quantity=100)  # 600.00
    assert ALONE not in as_user(BUYER).get(f"/shop/quotes/{quote_id}").get_data(as_text=True)


# --- staff give a cart's second approval ---------------------------------------------------


def test_staff_see_the_waiting_cart_where_they_look(as_user, ctx):
    cart = waiting_cart(as_user)
    acme = company("acme")
    anna = as_user(ANNA)
    pages = ("/office/orders", f"/office/customers/{acme.id}", "/office/orders/second-approvals")
    for url in pages:
        page = anna.get(url).get_data(as_text=True)
        assert f'id="second-cart-{cart.id}"' in page, url
        assert "Acme Robotics has no other decision-maker to approve it" in words(page), url
        assert f"/office/orders/second-approvals/carts/{cart.id}" in page
        assert "hx-confirm=" in page
    # Staff who may not give it see it, without the form.
    page = as_user(VIEWER).get("/office/orders").get_data(as_text=True)
    assert f'id="second-cart-{cart.id}"' in page
    assert f"/office/orders/second-approvals/carts/{cart.id}" not in page
    # Marco does not serve Acme: nothing of it.
    page = as_user(MARCO).get("/office/orders").get_data(as_text=True)
    assert f'id="second-cart-{cart.id}"' not in page and "Acme" not in words(page)


def test_staff_second_approval_places_the_order_as_a_decision_maker_would(as_user, ctx):
    cart = waiting_cart(as_user)
    acme = company("acme")
    before_stock, orders_before = stock(MCU), count(Order)
    response = give_cart(as_user(ANNA), cart.id, company_id=acme.id, note="Olivia called")
    assert response.status_code == 200, words(response)
    assert "Second approval given: order SO-" in words(response)
    assert f'id="second-approvals-{acme.id}"' in response.get_data(as_text=True)
    assert f'id="second-cart-{cart.id}"' not in response.get_data(as_text=True)
    fresh()
    done = db.session.get(Cart, cart.id)
    order = db.session.get(Order, done.order_id)
    assert done.status == "approved" and done.decided_by.email == ANNA
    assert count(Order) == orders_before + 1
    assert order.placed_by.email == BUYER and order.approved_by.email == ANNA
    assert order.total == Decimal("8640.00") and order.status == "placed"  # 2000 x 4.32
    assert stock(MCU) == before_stock - 2000
    assert count(StockMovement, StockMovement.order_id == order.id) == 1
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "cart.approved_by_seller", AuditEntry.target_id == cart.id
        )
    )
    assert entry is not None and entry.actor.email == ANNA
    assert entry.after["order"] == order.number and entry.after["first_approval"] == "Olivia Grant"
    assert count(AuditEntry, AuditEntry.action == "order.placed", AuditEntry.target_id == order.id)
    told = mails(BUYER, f"Your cart is approved: order {order.number}")
    assert told and "of the seller's staff, gave the second approval" in told[0].body
    # The customer sees the order, approved by the seller's staff person.
    page = as_user(BUYER).get("/shop/cart").get_data(as_text=True)
    assert f"/shop/orders/{order.id}" in page


def test_a_plain_form_goes_to_the_order(as_user, ctx):
    cart = waiting_cart(as_user)
    response = give_cart(as_user(MANAGER), cart.id, htmx=False)
    assert response.status_code == 302
    fresh()
    order_id = db.session.get(Cart, cart.id).order_id
    assert response.headers["Location"] == f"/office/orders/{order_id}"


def test_the_warehouse_may_give_it_too(as_user, ctx):
    cart = waiting_cart(as_user)  # orders.edit and every customer: the permission decides
    assert give_cart(as_user(WAREHOUSE), cart.id).status_code == 200
    fresh()
    assert db.session.get(Cart, cart.id).status == "approved"


def test_a_sales_rep_of_another_company_gets_404_and_nothing_changes(as_user, ctx):
    cart = waiting_cart(as_user)
    before = snapshot()
    assert give_cart(as_user(MARCO), cart.id).status_code == 404
    acme = company("acme")
    assert give_cart(as_user(MARCO), cart.id, company_id=acme.id).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("email", [FINANCE, VIEWER])
def test_staff_without_orders_edit_get_403_and_nothing_changes(as_user, ctx, email):
    cart = waiting_cart(as_user)
    before = snapshot()
    assert give_cart(as_user(email), cart.id).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("email", [BUYER, REQUESTER, "orders@baltic.test"])
def test_a_customer_person_never_gives_it(as_user, ctx, email):
    cart = waiting_cart(as_user)
    before = snapshot()
    assert give_cart(as_user(email), cart.id).status_code == 403
    assert snapshot() == before


def test_a_request_without_its_first_approval_is_refused_with_422(as_user, ctx):
    fresh()
    demo = db.session.scalar(
        select(Cart).where(Cart.owner_id == user(REQUESTER).id, Cart.status == "submitted")
    )
    before = snapshot()
    response = give_cart(as_user(ANNA), demo.id)
    assert response.status_code == 422
    assert "waits for its first approval by a decision-maker of Acme Robotics" in words(response)
    assert snapshot() == before


def test_an_approved_request_is_refused_with_422(as_user, ctx):
    cart = waiting_cart(as_user)
    anna = as_user(ANNA)
    assert give_cart(anna, cart.id).status_code == 200
    before = snapshot()
    again = give_cart(as_user(ADMIN), cart.id)
    assert again.status_code == 422 and "already approved" in words(again)
    assert snapshot() == before


def test_a_rejected_request_is_refused_with_422(as_user, ctx):
    cart = waiting_cart(as_user)
    carts.reject(user(BUYER), cart.id, "Changed my mind")
    db.session.commit()
    before = snapshot()
    response = give_cart(as_user(ANNA), cart.id)
    assert response.status_code == 422 and "was rejected" in words(response)
    assert snapshot() == before


def test_an_open_cart_is_not_found(as_user, ctx):
    add(as_user(BUYER), MCU, 2000)
    fresh()
    open_cart = carts.open_cart(user(BUYER))
    assert give_cart(as_user(ADMIN), open_cart.id).status_code == 404


def test_not_enough_stock_is_refused_and_the_cart_keeps_waiting(as_user, ctx):
    cart = waiting_cart(as_user)
    db.session.execute(text("UPDATE products SET stock = 5 WHERE sku = :sku"), {"sku": MCU})
    db.session.commit()
    response = give_cart(as_user(ANNA), cart.id)
    assert response.status_code == 422 and "Not enough stock of MCU-STM32F401" in words(response)
    fresh()
    assert db.session.get(Cart, cart.id).status == "submitted" and stock(MCU) == 5


def test_the_waiting_list_is_live_for_staff_who_may_see_it(connect, as_user, ctx):
    acme = company("acme")
    staff = connect(ANNA)
    watch(staff, {"second-approvals", f"second-approvals-{acme.id}"})
    customer = connect("orders@baltic.test")
    watch(customer, {"second-approvals"})
    time.sleep(0.3)
    cart = waiting_cart(as_user)
    signals = "".join(drain(staff, 2.0))
    assert 'data-refresh="second-approvals"' in signals
    assert f'data-refresh="second-approvals-{acme.id}"' in signals
    assert "second-approvals" not in "".join(drain(customer, 0.8))
    give_cart(as_user(ANNA), cart.id)
    assert 'data-refresh="second-approvals"' in "".join(drain(staff, 2.0))
    # The list re-fetches itself, scoped: Marco's is empty of Acme.
    fetched = as_user(MARCO).htmx("/office/orders/second-approvals").get_data(as_text=True)
    assert "<html" not in fetched and 'id="second-approvals"' in fetched


# --- staff give a quote's second approval --------------------------------------------------


def test_staff_see_a_quote_waiting_for_its_second_approval(as_user, ctx):
    quote_id = approved_quote(as_user)
    anna = as_user(ANNA)
    listed = anna.get("/office/orders").get_data(as_text=True)
    assert f'id="second-quote-{quote_id}"' in listed
    assert "Acme Robotics has no other decision-maker to accept it" in words(listed)
    page = words(anna.get(f"/office/quotes/{quote_id}"))
    assert "Give the second approval and order" in page
    # The warehouse moves orders but does not see quotes: no quote rows for it.
    assert f'id="second-quote-{quote_id}"' not in as_user(WAREHOUSE).get("/office/orders").get_data(
        as_text=True
    )


def test_staff_second_approval_of_a_quote_places_the_order_at_the_quoted_prices(as_user, ctx):
    quote_id = approved_quote(as_user)
    before_stock = stock(MCU)
    response = give_quote(as_user(ANNA), quote_id)
    assert response.status_code == 200, words(response)
    assert "Second approval given: order SO-" in words(response)
    found = quote(quote_id)
    order = found.order
    assert found.status == "accepted" and order is not None
    assert order.total == Decimal("6000.00") and order.lines[0].unit_price == Decimal("6.00")
    assert order.placed_by.email == BUYER and order.approved_by.email == ANNA
    assert [(r.action, r.side) for r in found.rounds] == [
        ("request", "customer"),
        ("offer", "staff"),
        ("approve", "customer"),
        ("accept", "staff"),
    ]
    assert stock(MCU) == before_stock - 1000
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "quote.approved_by_seller", AuditEntry.target_id == quote_id
        )
    )
    assert entry is not None and entry.actor.email == ANNA
    assert mails(BUYER, f"Quote {found.number}: second approval given%")
    # Both sides read it in the timeline.
    timeline = words(as_user(BUYER).get(f"/shop/quotes/{quote_id}"))
    assert "gave the second approval for the customer" in timeline


def test_from_the_list_the_list_answers(as_user, ctx):
    quote_id = approved_quote(as_user)
    acme = company("acme")
    response = give_quote(as_user(MANAGER), quote_id, query=f"?list=1&company={acme.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="second-approvals-{acme.id}"' in html and "Second approval given" in words(html)
    assert quote(quote_id).status == "accepted"


def test_a_quote_without_a_first_approval_is_refused_with_422(as_user, ctx):
    quote_id = offered_quote(as_user)
    before = snapshot()
    response = give_quote(as_user(ANNA), quote_id)
    assert response.status_code == 422
    assert "does not wait for a second approval" in words(response)
    assert snapshot() == before


def test_a_quote_within_the_limit_is_refused_with_422(as_user, ctx):
    quote_id = offered_quote(as_user, quantity=100)
    response = give_quote(as_user(ANNA), quote_id)
    assert response.status_code == 422 and "no second approval is needed" in words(response)


def test_an_accepted_quote_is_refused_with_422(as_user, ctx):
    quote_id = approved_quote(as_user)
    assert give_quote(as_user(ANNA), quote_id).status_code == 200
    before = snapshot()
    again = give_quote(as_user(ADMIN), quote_id)
    assert again.status_code == 422 and "This quote is accepted" in words(again)
    assert snapshot() == before


def test_a_stale_page_is_refused(as_user, ctx):
    quote_id = approved_quote(as_user)
    response = give_quote(as_user(ANNA), quote_id, seen=latest(quote_id) - 1)
    assert response.status_code == 422 and "changed while you had it open" in words(response)
    assert quote(quote_id).status == "offered"


@pytest.mark.parametrize(
    ("email", "status"),
    [(MARCO, 404), (WAREHOUSE, 403), (FINANCE, 403), (VIEWER, 403), (BUYER, 403)],
)
def test_who_may_not_give_a_quote_second_approval(as_user, ctx, email, status):
    quote_id = approved_quote(as_user)
    before = snapshot()
    assert give_quote(as_user(email), quote_id).status_code == status
    assert snapshot() == before
