"""The live channel over real websockets: handshake, caps, closing, audiences and leaks."""

import gc
import http.client
import json
import re
import time
import warnings
from urllib.parse import urlsplit

import pytest
from simple_websocket import ConnectionClosed
from simple_websocket.errors import ConnectionError as HandshakeRefused
from sqlalchemy import select

from core import people, roles, stock
from core.models import Company, CustomerGroup, Product, Role, utcnow
from extensions import db
from tests.conftest import CUSTOMER_EMAILS, STAFF_EMAILS, persona_token
from tests.records import user
from tests.sockets import Client, drain, watch

EXACT = ("MCU-STM32F401", "CAP-1206-10U", "CON-USBC-16P")


@pytest.fixture
def exact_ids(ctx):
    return {sku: db.session.scalar(select(Product.id).where(Product.sku == sku)) for sku in EXACT}


def regions_for(ids):
    found = {"nav", "catalog-results", "products-table", "customers-table"}
    for product_id in ids.values():
        found |= {f"offer-{product_id}", f"product-{product_id}", f"stock-{product_id}"}
    return found


def handshake(app, live_server, email=None, origin=None):
    """The status a raw websocket handshake gets (refusals come before the upgrade)."""
    parts = urlsplit(live_server)
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        "Origin": origin or live_server,
    }
    if email:
        c = app.test_client()
        with c.session_transaction() as session:
            session["_user_id"] = persona_token(email)
        headers["Cookie"] = f"session={c.get_cookie('session').value}"
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request("GET", "/ws", headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def test_handshake_is_accepted_for_a_signed_in_same_site_page(app, live_server):
    assert handshake(app, live_server, "orders@acme.test") == 101


def test_handshake_needs_a_session(app, live_server):
    assert handshake(app, live_server) == 401


def test_a_refused_handshake_leaves_no_socket_open(live_server):
    """The tests' client closes what a refused handshake opened (the library does not)."""
    port = urlsplit(live_server).port
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(HandshakeRefused):
            Client.connect(f"ws://127.0.0.1:{port}/ws", headers={"Origin": "http://127.0.0.1"})
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_handshake_refuses_a_foreign_origin(app, live_server):
    assert handshake(app, live_server, "orders@acme.test", "http://evil.example") == 403
    assert handshake(app, live_server, "orders@acme.test", "null") == 403


def test_handshake_refuses_a_blocked_person(app, live_server, ctx):
    people.block(user("orders@delft.test"), actor=user("admin@portal.test"))
    db.session.commit()
    assert handshake(app, live_server, "orders@delft.test") == 401


def test_customer_asking_for_staff_regions_gets_nothing(connect, exact_ids, ctx):
    ws = connect("orders@acme.test")
    product = exact_ids["MCU-STM32F401"]
    watch(ws, {f"product-{product}", f"stock-{product}", "products-table"}, mode="load")
    time.sleep(0.2)
    stock.set_level(product, 99, reason="test", actor=None)
    db.session.commit()
    assert drain(ws, 1.0) == []


def test_page_load_resyncs_its_regions_with_fresh_fragments(connect, exact_ids):
    ws = connect("orders@acme.test")
    watch(ws, {f"offer-{exact_ids['CAP-1206-10U']}", "nav"}, mode="load")
    message = ws.receive(timeout=2)
    assert f'id="offer-{exact_ids["CAP-1206-10U"]}"' in message
    assert "36 in stock" in message and 'id="nav"' in message


def test_oversized_message_closes_the_socket(connect):
    ws = connect("orders@acme.test")
    ws.send("x" * 40_000)
    with pytest.raises(ConnectionClosed):
        for _ in range(20):
            if ws.receive(timeout=0.2) is None and not ws.connected:
                raise ConnectionClosed()
    assert ws.close_reason == 1009


def test_garbage_watch_lists_are_ignored(connect, exact_ids, ctx):
    ws = connect("orders@acme.test")
    ws.send("not json")
    ws.send(json.dumps({"watch": ["<script>", "x" * 500, 7, "offer-abc"], "mode": "load"}))
    ws.send(json.dumps([1, 2, 3]))
    watch(ws, {f"offer-{exact_ids['CON-USBC-16P']}"})
    time.sleep(0.2)  # the socket reads its messages before the change is committed
    stock.set_level(exact_ids["CON-USBC-16P"], 8, reason="test", actor=None)
    db.session.commit()
    assert "8 in stock" in "".join(drain(ws, 2.0, expect=1))


def test_blocking_closes_an_open_socket_within_a_second(connect, ctx):
    ws = connect("request@baltic.test")
    watch(ws, {"nav"})
    time.sleep(0.2)
    started = time.monotonic()
    people.block(user("request@baltic.test"), actor=user("admin@portal.test"))
    db.session.commit()
    messages = drain(ws, 2.0)
    elapsed = time.monotonic() - started
    assert not ws.connected
    assert ws.close_reason == 1008
    assert elapsed < 1.0
    assert any("signed out" in m for m in messages)


def test_sign_out_elsewhere_closes_that_session_sockets(connect, ctx):
    from core import sessions

    ws = connect("browse@etna.test")
    watch(ws, {"nav"})
    time.sleep(0.2)
    sessions.end_session(user("browse@etna.test"), persona_token("browse@etna.test"))
    db.session.commit()
    drain(ws, 1.0)
    assert ws.close_reason == 1008


def test_one_render_per_audience_not_per_socket(app, connect, exact_ids, ctx):
    product = exact_ids["MCU-STM32F401"]
    sockets = []
    for email in [*CUSTOMER_EMAILS, *CUSTOMER_EMAILS]:  # 30 customer sockets, 3 groups
        ws = connect(email)
        watch(ws, {f"offer-{product}"})
        sockets.append(ws)
    time.sleep(0.3)
    hub = app.extensions["live_hub"]
    before = hub.renders
    stock.set_level(product, 37, reason="test", actor=None)
    db.session.commit()
    received = [drain(ws, 2.0, expect=1) for ws in sockets]
    assert all(len(m) == 1 for m in received)
    assert all(drain(ws, 0.02) == [] for ws in sockets)  # and only one
    assert hub.renders - before == 3  # Wholesale, Partner, Standard


def test_rep_reassignment_refreshes_the_reps_lists(connect, ctx):
    anna = connect("anna.sales@portal.test")
    watch(anna, {"customers-table"})
    time.sleep(0.2)
    acme = db.session.scalar(select(Company).where(Company.slug == "acme"))
    people.set_reps(acme, [user("marco.sales@portal.test")], actor=user("admin@portal.test"))
    db.session.commit()
    messages = "".join(drain(anna, 1.0))
    assert 'data-refresh="customers-table"' in messages
    assert "Acme" not in messages  # a signal carries no data: the list re-fetches, scoped


STOCK_TEXT = re.compile(r'class="stock stock--\w+">([^<]*)<')


def test_leaks(app, connect, exact_ids, ctx):
    """Every message each persona receives during a scripted series of changes."""
    sockets = {}
    for email in (*STAFF_EMAILS, *CUSTOMER_EMAILS):
        ws = connect(email)
        watch(ws, regions_for(exact_ids), mode="load")
        sockets[email] = ws
    received = {email: [] for email in sockets}

    def collect():
        time.sleep(0.4)  # every push of this step has been queued by now
        for email, ws in sockets.items():
            received[email] += drain(ws, 0.02)

    collect()
    admin = user("admin@portal.test")
    for sku, level in (("CAP-1206-10U", 12), ("MCU-STM32F401", 37), ("CON-USBC-16P", 5)):
        stock.set_level(exact_ids[sku], level, reason="leak test", actor=admin)
        db.session.commit()
        collect()
    sales = db.session.scalar(select(Role).where(Role.preset == "sales"))
    roles.set_permissions(sales, sales.permissions | {"stock.edit"}, actor=admin)
    db.session.commit()
    collect()
    acme = db.session.scalar(select(Company).where(Company.slug == "acme"))
    people.set_reps(acme, [user("marco.sales@portal.test")], actor=admin)
    db.session.commit()
    collect()
    stock.set_level(exact_ids["CAP-1206-10U"], 40, reason="leak test", actor=admin)
    db.session.commit()
    collect()

    levels_groups = {e for e in CUSTOMER_EMAILS if "@baltic" in e or "@delft" in e}
    levels_groups |= {e for e in CUSTOMER_EMAILS if "@carpathia" in e}
    no_costs = {
        "anna.sales@portal.test",
        "marco.sales@portal.test",
        "warehouse@portal.test",
        "viewer@portal.test",
    }
    companies = {
        "acme": "Acme Robotics",
        "baltic": "Baltic Drones",
        "carpathia": "Carpathia Makers",
        "delft": "Delft Devices",
        "etna": "Etna Labs",
    }
    for email, messages in received.items():
        text = "".join(messages)
        assert text, f"{email} received nothing: the test would prove nothing"
        if email in CUSTOMER_EMAILS:
            assert 'id="product-' not in text and 'id="stock-' not in text, email
            assert "€3.90" not in text and "€0.07" not in text and "Margin" not in text, email
            own = email.split("@")[1].removesuffix(".test")
            for slug, name in companies.items():
                if slug != own:
                    assert name not in text, (email, name)
        if email in levels_groups:
            labels = set(STOCK_TEXT.findall(text))
            assert labels and labels <= {"Few", "Many", "Out of stock"}, (email, labels)
            assert not re.search(r"\d+ in stock", text), email
        if email in no_costs:
            assert "€3.90" not in text and "Margin" not in text and "%</td>" not in text, email
        if email == "anna.sales@portal.test":
            for name in ("Carpathia Makers", "Delft Devices", "Etna Labs"):
                assert name not in text
    wholesale = "".join(received["orders@acme.test"])
    assert "12 in stock" in wholesale and "37 in stock" in wholesale
    assert "Few" in "".join(received["orders@baltic.test"])
    assert "€3.90" in "".join(received["manager@portal.test"])  # costs do flow where allowed


def test_price_change_reaches_each_group_with_its_own_price(connect, exact_ids, ctx):
    from core import products

    product_id = exact_ids["MCU-STM32F401"]
    wholesale, standard = connect("orders@acme.test"), connect("browse@carpathia.test")
    for ws in (wholesale, standard):
        watch(ws, {f"offer-{product_id}"})
    time.sleep(0.2)
    group = db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == "Wholesale"))
    products.set_prices(
        db.session.get(Product, product_id),
        actor=None,
        base_price="7.00",
        group_prices={group: "5.00"},
    )
    db.session.commit()
    assert "€4.50" in "".join(drain(wholesale, 2.0, expect=1))  # 5.00 less 10%
    assert "€7.00" in "".join(drain(standard, 2.0, expect=1))


def test_new_and_archived_products_refresh_open_catalogues(connect, ctx):
    from core import products

    ws = connect("orders@baltic.test")
    watch(ws, {"catalog-results"})
    time.sleep(0.2)
    product = products.create(
        sku="NEW-PART-1", name="New part", base_price="1.00", cost="0.40", stock=5, actor=None
    )
    db.session.commit()
    assert 'data-refresh="catalog-results"' in "".join(drain(ws, 2.0, expect=1))
    products.archive(product, actor=None)
    db.session.commit()
    assert 'data-refresh="catalog-results"' in "".join(drain(ws, 2.0, expect=1))


def test_a_promotion_starting_on_time_changes_open_offers(app, connect, exact_ids, ctx):
    from datetime import timedelta
    from decimal import Decimal

    from core.models import Promotion, PromotionGroup, utcnow

    product_id = exact_ids["CAP-1206-10U"]
    ws = connect("orders@baltic.test")
    watch(ws, {f"offer-{product_id}"})
    time.sleep(0.2)
    partner = db.session.scalar(select(CustomerGroup).where(CustomerGroup.name == "Partner"))
    since = utcnow()
    promotion = Promotion(
        name="Flash sale",
        starts_at=since + timedelta(seconds=1),
        ends_at=since + timedelta(seconds=3),
        products=[db.session.get(Product, product_id)],
        group_terms=[PromotionGroup(group=partner, discount_percent=Decimal("25"))],
    )
    db.session.add(promotion)
    db.session.commit()  # a scheduled promotion: nothing changes yet
    hub = app.extensions["live_hub"]
    time.sleep(1.1)
    since = hub.tick(since)  # the clock notices the start
    started = "".join(drain(ws, 2.0, expect=1))
    assert "Flash sale" in started and "€0.12" in started  # 0.16 less 25%
    time.sleep(2.0)
    hub.tick(since)  # ... and the end
    ended = "".join(drain(ws, 2.0, expect=1))
    assert "Flash sale" not in ended and "€0.16" in ended


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-1", "cannot be negative"),
        ("abc", "must be a number"),
        ("1.23456", "at most 4 decimals"),
        ("NaN", "must be a number"),
        ("1e9", "written out in digits"),
        ("1000000", "must be below"),
    ],
)
def test_prices_are_validated(raw, message, ctx):
    from core import products
    from core.errors import Refused

    with pytest.raises(Refused, match=message):
        products.clean_price(raw)


def test_a_session_ended_without_an_event_is_closed_by_the_recheck(app, connect, ctx):
    from core.models import LoginSession
    from core.sessions import token_hash

    ws = connect("browse@delft.test")
    watch(ws, {"nav"})
    time.sleep(0.2)
    # Revoked behind the live layer's back: no event is published for this.
    db.session.execute(
        LoginSession.__table__.update()
        .where(LoginSession.token_hash == token_hash(persona_token("browse@delft.test")))
        .values(revoked_at=utcnow())
    )
    db.session.commit()
    assert app.extensions["live_hub"].recheck_sessions() == 1
    drain(ws, 1.0)
    assert ws.close_reason == 1008


def test_compression_is_not_negotiated(app, live_server):
    parts = urlsplit(live_server)
    c = app.test_client()
    with c.session_transaction() as session:
        session["_user_id"] = persona_token("orders@acme.test")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request(
            "GET",
            "/ws",
            headers={
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Origin": live_server,
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
                "Cookie": f"session={c.get_cookie('session').value}",
            },
        )
        response = conn.getresponse()
        assert response.status == 101
        assert response.getheader("Sec-WebSocket-Extensions") is None
    finally:
        conn.close()
