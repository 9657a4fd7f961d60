"""Viewing the storefront as a customer person sees it (core.acting, blueprints/acting.py):
staff with `customers.act`, for the customers in their scope, see one person's offer, stock
form, lists, cart, orders, quotes and invoices, read-only, under a banner on every page;
audited at start and end. The staff member's own session stays theirs: signing out or
being blocked ends the view with it, and losing the permission or the assignment ends it
at the next request. The view is part of the staff session kept by the process
(core.sessions.KeptSessions): starting and ending it is seen at once."""

import re

import pytest
from sqlalchemy import func, select

from blueprints.acting import READ_ONLY
from core import people, roles
from core.models import AuditEntry, Cart, LoginSession, Role
from core.sessions import token_hash
from extensions import db
from tests.conftest import persona_token
from tests.html import find, offer_of
from tests.integration.test_authorization_matrix import MATRIX, route_ids
from tests.integration.test_kept_sessions import session_reads
from tests.integration.test_live_redis import until
from tests.records import company, pid, user

ANNA = "anna.sales@portal.test"
MARCO = "marco.sales@portal.test"
ADMIN = "admin@portal.test"
ACME_DM = "orders@acme.test"
ACME_REQUESTER = "request@acme.test"
BALTIC_REQUESTER = "request@baltic.test"
MCU = "MCU-STM32F401"
READ_ONLY_SAYS = "nothing can be changed here"


def view_as(c, person: str, slug: str = "acme"):
    return c.send(
        "POST",
        f"/office/customers/{company(slug).id}/view-as",
        data={"view-person": user(person).id},
    )


def viewing(email: str) -> int | None:
    db.session.expire_all()
    row = db.session.scalar(
        select(LoginSession).where(LoginSession.token_hash == token_hash(persona_token(email)))
    )
    return row.acting_for_id if row.acting_mode == "view" else None


def entries(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def banner(html: str):
    return find(html, data_acting="view")


# --- what the staff member sees -----------------------------------------------------------


@pytest.mark.parametrize(("person", "slug"), [(ACME_DM, "acme"), (BALTIC_REQUESTER, "baltic")])
def test_the_storefront_shows_exactly_what_the_person_sees(as_user, ctx, person, slug):
    c = as_user(ANNA)
    response = view_as(c, person, slug)
    assert response.status_code == 302 and response.headers["Location"] == "/shop/"
    assert viewing(ANNA) == user(person).id
    seen = c.get(f"/shop/?q={MCU}").get_data(as_text=True)
    own = as_user(person).get(f"/shop/?q={MCU}").get_data(as_text=True)
    # The offer (price, promotion, stock form) is the person's own, to the character.
    assert offer_of(seen, MCU).inner_html == offer_of(own, MCU).inner_html
    if slug == "baltic":  # a group that sees levels: no exact count, on either page
        assert "4217" not in offer_of(seen, MCU).inner_html
    assert find(seen, id="nav").text == find(own, id="nav").text
    text = banner(seen).text
    assert f"viewing the storefront as {user(person).name} of {company(slug).name}" in text
    assert 'data-read-only="' in seen
    [started] = entries("customer.view_as_started")
    assert started.actor_id == user(ANNA).id and started.target_id == user(person).id


@pytest.mark.parametrize(
    ("email", "status"),
    [
        (MARCO, 404),  # Acme is not assigned to him
        ("viewer@portal.test", 403),
        ("finance@portal.test", 403),
        ("warehouse@portal.test", 403),
        (ACME_DM, 403),
    ],
)
def test_viewing_as_is_refused_out_of_scope_or_without_the_permission(as_user, ctx, email, status):
    c = as_user(email)
    assert view_as(c, ACME_REQUESTER).status_code == status
    assert viewing(email) is None
    assert entries("customer.view_as_started") == []


def test_the_person_is_any_active_one_of_the_company(as_user, ctx):
    c = as_user(ANNA)
    assert view_as(c, "browse@acme.test").status_code == 302  # browse-only people too
    assert viewing(ANNA) == user("browse@acme.test").id
    nav = find(c.get("/shop/").get_data(as_text=True), id="nav").text
    assert "Cart" not in nav and "Orders" not in nav  # as browse-only people see it
    blocked = user(ACME_REQUESTER)
    blocked.status = "blocked"
    db.session.commit()
    refused = view_as(c, ACME_REQUESTER)
    assert refused.headers["Location"].endswith("#storefront")
    assert viewing(ANNA) == user("browse@acme.test").id  # the view before stays


# --- read-only, on every route ------------------------------------------------------------


def shop_rules(app, method: str):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("shop.") and method in rule.methods
    ]


def test_every_storefront_change_is_refused_while_viewing(app, as_user, ctx):
    c = as_user(ANNA)
    view_as(c, ACME_DM)
    rules = shop_rules(app, "POST")
    assert len(rules) >= 30  # every POST route of the storefront, whatever is added later
    _, tracker = app.extensions["test_template"]
    adapter = app.url_map.bind("localhost")
    for rule in rules:
        url = adapter.build(rule.endpoint, dict.fromkeys(rule.arguments, 1), method="POST")
        before = set(tracker.tables)
        response = c.send("POST", url, data={"quantity": "1", "product_id": pid(MCU)})
        assert response.status_code == 403, (rule.endpoint, response.status_code)
        assert READ_ONLY_SAYS in response.get_data(as_text=True), rule.endpoint
        assert set(tracker.tables) - before - {"login_sessions"} == set(), rule.endpoint
        htmx = c.send("POST", url, data={}, htmx=True)
        assert htmx.status_code == 403 and READ_ONLY_SAYS in htmx.get_data(as_text=True)
    assert str(READ_ONLY).startswith("You are viewing the storefront")


def test_every_storefront_page_shows_the_banner_and_writes_nothing(app, as_user, ctx):
    c = as_user(ANNA)
    view_as(c, ACME_DM)  # a decision-maker: every area of the storefront is open
    ids = route_ids(app)
    _, tracker = app.extensions["test_template"]
    before = set(tracker.tables)
    carts_before = db.session.scalar(select(func.count(Cart.id)))
    pages = 0
    adapter = app.url_map.bind("localhost")
    for rule in shop_rules(app, "GET"):
        row = MATRIX.get((rule.endpoint, "GET"))  # its URL with demo records, if it has one
        url = (
            row[0].format(**ids)
            if row
            else adapter.build(rule.endpoint, dict.fromkeys(rule.arguments, 1))
        )
        response = c.get(url)
        body = response.get_data()
        response.close()  # a download streams its file: closed here, not by the collector
        assert response.status_code < 500, rule.endpoint
        if response.mimetype != "text/html" or b"<html" not in body[:400]:
            continue  # a PDF, a CSV, a photo, an attachment, a fragment of a page
        html = body.decode()
        assert banner(html) is not None, rule.endpoint
        assert "data-read-only" in html, rule.endpoint
        pages += 1
    assert pages >= 15
    assert set(tracker.tables) - before <= {"login_sessions"}
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Cart.id))) == carts_before


def test_the_pages_controls_that_change_things_are_refused_by_the_server_anyway(as_user, ctx):
    c = as_user(ANNA)
    view_as(c, ACME_DM)
    page = c.get(f"/shop/products/{pid(MCU)}").get_data(as_text=True)
    assert re.search(r'action="/shop/cart/lines"', page)  # the form is there to look at
    open_carts = select(func.count(Cart.id)).where(Cart.status == "open")
    before = db.session.scalar(open_carts)
    refused = c.send("POST", "/shop/cart/lines", data={"product_id": pid(MCU), "quantity": 1})
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.scalar(open_carts) == before


def test_whatever_a_page_writes_while_viewed_is_undone(as_user, ctx, monkeypatch):
    """No storefront page should write on a GET; were one to, viewing keeps nothing of it."""
    from blueprints.shop import cart as cart_views
    from core import audit

    original = cart_views.cart_context

    def writing(**extra):
        audit.record("demo.loaded", actor=None, summary="written by a page")
        return original(**extra)

    monkeypatch.setattr(cart_views, "cart_context", writing)

    def written() -> int:
        return sum(e.summary == "written by a page" for e in entries("demo.loaded"))

    assert as_user(ACME_DM).get("/shop/cart").status_code == 200
    assert written() == 1  # the person's own page keeps what it wrote
    c = as_user(ANNA)
    view_as(c, ACME_DM)
    assert c.get("/shop/cart").status_code == 200
    assert written() == 1  # viewed as them, nothing is kept


def test_the_exit_stays_the_staff_members_own(as_user, ctx):
    c = as_user(ANNA)
    view_as(c, ACME_DM)
    page = c.get("/shop/").get_data(as_text=True)
    exit_form = find(page, action="/office/acting/end")
    assert exit_form is not None and "data-stays-enabled" in exit_form.attrs
    response = c.send("POST", "/office/acting/end")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/office/customers/{company('acme').id}"
    assert viewing(ANNA) is None
    [ended] = entries("customer.view_as_ended")
    assert ended.actor_id == user(ANNA).id and ended.after["reason"] == "exit"
    assert c.get("/shop/").status_code == 403
    assert banner(c.get("/office/").get_data(as_text=True)) is None


def test_the_office_says_the_storefront_is_open_for_someone(as_user, ctx):
    c = as_user(ANNA)
    view_as(c, ACME_DM)
    office = c.get("/office/").get_data(as_text=True)
    assert "Open the storefront" in banner(office).text
    assert 'data-read-only="' not in office  # the office is the staff member's own
    assert user(ANNA).name in find(office, class_="who").text
    assert user(ACME_DM).name in find(c.get("/shop/").get_data(as_text=True), class_="who").text


def test_pages_read_in_the_staff_members_language(as_user, ctx):
    anna, person = user(ANNA), user(ACME_DM)
    anna.language, person.language = "fr", "nl"
    db.session.commit()
    c = as_user(ANNA)
    view_as(c, ACME_DM)
    assert '<html lang="fr"' in c.get("/shop/").get_data(as_text=True)


# --- ending it ----------------------------------------------------------------------------


def test_signing_out_ends_the_view_and_says_so(as_user, ctx):
    c = as_user(ANNA)
    view_as(c, ACME_DM)
    assert c.send("POST", "/logout").status_code == 302
    [ended] = entries("customer.view_as_ended")
    assert ended.after["reason"] == "signed out"
    assert c.get("/shop/").status_code == 302  # to the sign-in page


def test_blocking_the_staff_member_ends_it_at_once(as_user, ctx):
    c = as_user(ANNA)
    view_as(c, ACME_DM)
    assert c.get("/shop/").status_code == 200
    assert c.get("/shop/").status_code == 200  # kept by the process now
    uid = user(ANNA).id
    assert as_user(ADMIN).send("POST", f"/office/users/{uid}/block").status_code in (200, 302)
    after = c.get("/shop/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]


def test_losing_the_permission_ends_the_view_at_the_next_request(as_user, ctx):
    c = as_user(ANNA)
    view_as(c, ACME_DM)
    assert c.get("/shop/").status_code == 200
    sales = db.session.scalar(select(Role).where(Role.preset == "sales"))
    roles.set_permissions(
        sales, sales.permissions - {"customers.act"}, actor=user(ADMIN), ip="127.0.0.1"
    )
    db.session.commit()
    response = c.get("/shop/")
    assert response.status_code == 302 and response.headers["Location"] == "/office/"
    assert viewing(ANNA) is None
    [ended] = entries("customer.view_as_ended")
    assert ended.after["reason"] == "access lost"
    assert "has closed" in c.get("/office/").get_data(as_text=True)
    assert c.get("/shop/").status_code == 403


def test_losing_the_assignment_ends_the_view_at_the_next_request(as_user, ctx):
    c = as_user(ANNA)
    view_as(c, ACME_DM)
    assert c.get("/shop/cart").status_code == 200
    acme = company("acme")
    people.set_reps(acme, [user(MARCO)], actor=user(ADMIN))
    db.session.commit()
    htmx = c.get("/shop/cart", headers={"HX-Request": "true"})
    assert htmx.headers.get("HX-Redirect") == "/office/"
    assert viewing(ANNA) is None


def test_a_blocked_person_can_no_longer_be_viewed(as_user, ctx):
    c = as_user(ANNA)
    view_as(c, ACME_REQUESTER)
    people.block(user(ACME_REQUESTER), actor=user(ADMIN))
    db.session.commit()
    assert c.get("/shop/").status_code == 302
    assert viewing(ANNA) is None


# --- the kept session ----------------------------------------------------------------------


def test_starting_and_ending_are_seen_at_once_by_a_kept_session(app, as_user, ctx):
    hub = app.extensions["live_hub"]
    c = as_user(ANNA)
    assert c.get("/office/").status_code == 200
    with session_reads(app) as reads:
        assert c.get("/office/").status_code == 200
    assert reads == []  # the staff session is kept by the process
    generation = hub.access_generation
    view_as(c, ACME_DM)
    # Seen on the very next page, though the copy kept a moment ago said nothing of it.
    assert banner(c.get("/shop/").get_data(as_text=True)) is not None
    # Starting is an access change: counted at the commit, and once more when the bus
    # hands it to this process's sockets. Then the view is kept with the session.
    until(lambda: hub.access_generation >= generation + 2, what="the bus to deliver")
    assert c.get("/shop/").status_code == 200
    with session_reads(app) as reads:
        page = c.get("/shop/cart").get_data(as_text=True)
    assert reads == [] and banner(page) is not None
    c.send("POST", "/office/acting/end")
    assert c.get("/shop/").status_code == 403  # at once, kept or not


def test_a_session_that_views_is_never_kept_as_the_person(app, as_user, ctx):
    c = as_user(ANNA)
    started = view_as(c, ACME_DM)
    # The view began (when it did not, this test failed further down, at no cause).
    assert started.status_code == 302, started.get_data(as_text=True)[:300]
    assert viewing(ANNA) == user(ACME_DM).id
    assert banner(c.get("/shop/").get_data(as_text=True)) is not None
    kept = app.extensions["kept_sessions"]._kept[token_hash(persona_token(ANNA))]
    assert kept.user.email == ANNA and kept.assumed.person_id == user(ACME_DM).id
    # A copy kept before the view would say nothing of it: none is reused across the start.
    assert kept.assumed.mode == "view"
