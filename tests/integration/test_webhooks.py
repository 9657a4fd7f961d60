"""Webhooks, end to end against a real HTTPS receiver on 127.0.0.1 (tests/webhook_receiver.py).

Signed in the Standard Webhooks format and checked with its reference library; sent after
the commit (the receiver finds the order in the database while the message arrives) and
never for a rolled-back change; rendered with the owner's rights (scope, a group's stock
levels, hidden products); retried, logged, sent again, and an endpoint switched off after
failing deliveries with its owner told.
"""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from standardwebhooks import Webhook

from core import jobs, orders, people, products, stock, webhooks
from core.errors import Refused
from core.models import (
    AuditEntry,
    Job,
    OutboxMail,
    Product,
    Role,
    RolePermission,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from extensions import db
from tests.conftest import persona_api_token
from tests.webhook_receiver import receiving

ACME_DM = "orders@acme.test"
BALTIC_DM = "orders@baltic.test"
CARPATHIA_DM = "orders@carpathia.test"
ACME_REQUESTER = "request@acme.test"
ADMIN = "admin@portal.test"
ANNA = "anna.sales@portal.test"
WAREHOUSE = "warehouse@portal.test"
MCU = "MCU-STM32F401"


@pytest.fixture
def receiver(app, tmp_path, monkeypatch):
    with receiving(app, tmp_path, monkeypatch) as found:
        yield found


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def product(sku: str) -> Product:
    return db.session.scalar(select(Product).where(Product.sku == sku))


def register(email: str, types, url: str) -> tuple[int, str]:
    endpoint, secret = webhooks.create(user(email), url, types)
    db.session.commit()
    return endpoint.id, secret


def deliveries(endpoint_id: int) -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id)
        )
    )


def verified(secret: str, message) -> dict:
    """The message's JSON, once its signature checks (Standard Webhooks' own library)."""
    return Webhook(secret).verify(message.body, message.headers)


def bearer(email: str, **extra) -> dict:
    return {"Authorization": f"Bearer {persona_api_token(email)}", **extra}


# --- the end-to-end case the issue names --------------------------------------------------


def test_an_order_placed_by_token_twice_arrives_once_signed_after_its_commit(
    app, client, ctx, receiver
):
    endpoint_id, secret = register(ACME_DM, ["order.placed"], receiver.url)
    engine = db.engine

    def order_in_database(message) -> bool:
        # On a connection of its own, while the portal waits for the answer: the order's
        # transaction must be committed already.
        order_id = json.loads(message.body)["data"]["order"]["id"]
        with engine.connect() as conn:
            found = conn.execute(text("SELECT id FROM orders WHERE id = :id"), {"id": order_id})
            return found.scalar() is not None

    receiver.on_receive = order_in_database
    added = client.post(
        "/api/v1/cart/lines", headers=bearer(ACME_DM), json={"sku": MCU, "quantity": 10}
    )
    assert added.status_code == 200, added.get_data(as_text=True)
    headers = bearer(ACME_DM, **{"Idempotency-Key": "hook-PO-1"})
    first = client.post("/api/v1/orders", headers=headers, json={"customer_reference": "PO-1"})
    again = client.post("/api/v1/orders", headers=headers, json={"customer_reference": "PO-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    order = first.get_json()

    (message,) = receiver.wait_for(1)
    assert message.seen is True, "the message came before the order was committed"
    body = verified(secret, message)
    assert body["type"] == "order.placed"
    assert body["data"]["order"]["id"] == order["id"]
    assert body["data"]["order"]["customer_reference"] == "PO-1"
    assert message.headers["webhook-id"].startswith("msg_")
    # The same representation as the API's own answer about the order.
    assert body["data"]["order"]["lines"] == order["lines"]
    (delivery,) = deliveries(endpoint_id)
    assert delivery.state == "delivered" and delivery.attempts == 1
    assert delivery.last_status == 200 and delivery.message_id == message.headers["webhook-id"]
    assert len(receiver.received) == 1  # the replayed request made no second event


def test_a_rolled_back_order_never_sends_anything(ctx, receiver):
    endpoint_id, __ = register(ACME_DM, ["order.placed"], receiver.url)
    buyer = user(ACME_DM)
    orders.place(buyer.company, [orders.LineRequest(product(MCU).id, 5)], placed_by=buyer)
    db.session.flush()
    pending = db.session.scalar(
        select(func.count(WebhookDelivery.id)).where(WebhookDelivery.endpoint_id == endpoint_id)
    )
    assert pending == 1  # the delivery was written in the order's transaction...
    db.session.rollback()
    assert deliveries(endpoint_id) == []  # ...and went with it
    assert db.session.scalar(select(func.count(Job.id)).where(Job.kind == webhooks.DELIVER)) == 0
    assert receiver.received == []


# --- who hears what ----------------------------------------------------------------------


def place_for(email: str, sku: str = MCU, quantity: int = 2):
    buyer = user(email)
    found = orders.place(
        buyer.company, [orders.LineRequest(product(sku).id, quantity)], placed_by=buyer
    )
    db.session.commit()
    return found


def test_orders_reach_only_endpoints_whose_owner_sees_the_company(ctx, receiver):
    acme, __ = register(ACME_DM, ["order.placed"], receiver.url + "/acme")
    register(ADMIN, ["order.placed"], receiver.url + "/admin")
    # Anna, sales staff for Acme and Baltic only, may keep webhooks in this test.
    sales = db.session.scalar(select(Role).where(Role.preset == "sales"))
    db.session.add(RolePermission(role_id=sales.id, permission="webhooks.manage"))
    db.session.commit()
    anna, __ = register(ANNA, ["order.placed"], receiver.url + "/anna")
    place_for(BALTIC_DM)
    place_for("orders@carpathia.test")
    got = receiver.wait_for(3)
    assert sorted(m.path for m in got) == ["/hooks/admin", "/hooks/admin", "/hooks/anna"]
    assert deliveries(acme) == []  # another company's orders: never even queued
    assert [d.state for d in deliveries(anna)] == ["delivered"]
    companies = {json.loads(m.body)["data"]["order"]["company"]["name"] for m in got}
    assert companies == {"Baltic Drones", "Carpathia Makers"}


def test_a_levels_group_hears_of_stock_only_when_its_level_moves_and_never_a_count(ctx, receiver):
    baltic, secret = register(BALTIC_DM, ["stock.changed"], receiver.url + "/baltic")
    register(ACME_DM, ["stock.changed"], receiver.url + "/acme")
    admin = user(ADMIN)
    item = product(MCU)
    stock.set_level(item.id, 200, reason="count", actor=admin)  # many -> many
    db.session.commit()
    stock.set_level(item.id, 12, reason="count", actor=admin)  # many -> few
    db.session.commit()
    got = receiver.wait_for(3)
    assert sorted(m.path for m in got) == ["/hooks/acme", "/hooks/acme", "/hooks/baltic"]
    assert len(deliveries(baltic)) == 1
    (to_baltic,) = [m for m in got if m.path == "/hooks/baltic"]
    shown = verified(secret, to_baltic)["data"]
    assert shown["product"]["offer"]["stock"]["level"] == "few"
    assert "count" not in shown["product"]["offer"]["stock"]
    assert "stock_before" not in shown and "4217" not in to_baltic.body.decode()
    counts = sorted(
        json.loads(m.body)["data"]["product"]["offer"]["stock"]["count"]
        for m in got
        if m.path == "/hooks/acme"
    )
    assert counts == [12, 200]  # Wholesale sees counts


def test_a_hidden_product_is_never_sent_to_the_group_it_is_hidden_from(ctx, receiver):
    hidden = db.session.scalar(
        select(Product).join(Product.category).where(text("categories.slug = 'displays'"))
    )
    carpathia, __ = register(CARPATHIA_DM, ["price.changed"], receiver.url + "/carpathia")
    register(ACME_DM, ["price.changed"], receiver.url + "/acme")
    admin = user(ADMIN)
    products.set_prices(hidden, actor=admin, base_price="99.00")
    db.session.commit()
    products.set_prices(product(MCU), actor=admin, base_price="6.50")
    db.session.commit()
    got = receiver.wait_for(3)
    assert sorted(m.path for m in got) == ["/hooks/acme", "/hooks/acme", "/hooks/carpathia"]
    (to_carpathia,) = [m for m in got if m.path == "/hooks/carpathia"]
    assert json.loads(to_carpathia.body)["data"]["product"]["sku"] == MCU
    assert [d.subject_id for d in deliveries(carpathia)] == [product(MCU).id]


# --- failing endpoints --------------------------------------------------------------------


def due_now(job_id: int) -> None:
    db.session.execute(update(Job).where(Job.id == job_id).values(run_after=utcnow()))
    db.session.commit()


def test_a_failed_try_is_retried_with_backoff_and_logged(app, ctx, receiver):
    endpoint_id, __ = register(ADMIN, ["stock.changed"], receiver.url)
    receiver.answer = 503
    stock.set_level(product(MCU).id, 100, reason="count", actor=user(ADMIN))
    db.session.commit()
    receiver.wait_for(1)
    (delivery,) = deliveries(endpoint_id)
    assert delivery.state == "pending" and delivery.attempts == 1
    assert delivery.last_status == 503 and "503" in delivery.last_error
    job = db.session.get(Job, delivery.job_id)
    assert job.state == "queued" and job.run_after > utcnow() + timedelta(seconds=20)
    receiver.answer = 200
    due_now(job.id)
    assert jobs.run(job.id) is None
    (delivery,) = deliveries(endpoint_id)
    assert delivery.state == "delivered" and delivery.attempts == 2
    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # one message
    assert first.body == second.body


def test_an_endpoint_failing_again_and_again_is_switched_off_and_its_owner_told(
    app, ctx, receiver, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER", 2)
    endpoint_id, __ = register(ACME_DM, ["order.placed"], receiver.url)
    receiver.answer = 500
    for __ in range(2):
        place_for(ACME_DM)
    for delivery in deliveries(endpoint_id):
        db.session.execute(
            update(Job).where(Job.id == delivery.job_id).values(attempts=Job.max_attempts)
        )
        due_now(delivery.job_id)
        jobs.run(delivery.job_id)
    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    assert [d.state for d in deliveries(endpoint_id)] == ["failed", "failed"]
    assert endpoint.enabled is False and endpoint.failures == 2
    told = db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == ACME_DM)).all()
    assert any("switched off" in m.subject for m in told)
    # Switched off: the next order is not even queued for it.
    place_for(ACME_DM)
    assert len(deliveries(endpoint_id)) == 2
    # Sending one again is refused while it is off, and works once it is on.
    failed = deliveries(endpoint_id)[0]
    with pytest.raises(Refused):
        webhooks.resend(failed, actor=user(ACME_DM))
    receiver.answer = 200
    webhooks.switch(db.session.get(WebhookEndpoint, endpoint_id), True, actor=user(ACME_DM))
    db.session.commit()
    webhooks.resend(deliveries(endpoint_id)[0], actor=user(ACME_DM))
    db.session.commit()
    assert deliveries(endpoint_id)[0].state == "delivered"
    resent = db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "webhook.resent")
    )
    assert resent == 1


def test_a_blocked_owner_s_endpoint_sends_nothing_more(ctx, receiver):
    endpoint_id, __ = register(ACME_DM, ["order.placed"], receiver.url)
    people.block(user(ACME_DM), actor=user(ADMIN))
    db.session.commit()
    place_for(ACME_DM)  # an order of the company, placed before the block took effect
    assert deliveries(endpoint_id) == []
    assert receiver.received == []
    # It may be switched off, never on again: it would speak with the rights of someone
    # who has left (the service's check; the pages let only its keepers reach it).
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    webhooks.switch(endpoint, False, actor=user(ADMIN))
    with pytest.raises(Refused, match="can no longer sign in"):
        webhooks.switch(endpoint, True, actor=user(ADMIN))


# --- what people may register ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:9/hooks", "https://"),
        ("https://user:pw@127.0.0.1/hooks", "sign-in details"),
        ("https://127.0.0.1/hooks", "private network"),
        ("https://10.1.2.3/hooks", "private network"),
        ("https://[::1]/hooks", "private network"),
        ("ftp://example.test/", "https://"),
        ("https://", "not a web address"),
        ("https://no-such-host.invalid/hooks", "cannot be found"),
    ],
)
def test_an_endpoint_must_be_a_public_https_address(ctx, url, says):
    with pytest.raises(Refused) as refused:
        webhooks.create(user(ADMIN), url, ["order.placed"])
    assert says in str(refused.value)
    db.session.rollback()
    assert db.session.scalar(select(func.count(WebhookEndpoint.id))) == 1  # the demo's only


def test_only_events_the_owner_may_read_can_be_chosen(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    warehouse = db.session.scalar(select(Role).where(Role.preset == "warehouse"))
    db.session.add(RolePermission(role_id=warehouse.id, permission="webhooks.manage"))
    db.session.commit()
    walter = user(WAREHOUSE)
    assert "invoice.issued" not in {t.key for t in webhooks.types_for(walter)}
    with pytest.raises(Refused, match=r"invoice\.issued"):
        webhooks.create(walter, "https://127.0.0.1/hooks", ["stock.changed", "invoice.issued"])
    db.session.rollback()
    with pytest.raises(Refused, match="may not keep webhooks"):
        webhooks.create(user(ACME_REQUESTER), "https://127.0.0.1/hooks", ["order.placed"])


def test_the_signing_secret_is_sealed_at_rest(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    endpoint_id, secret = register(ADMIN, ["order.placed"], "https://127.0.0.1/hooks")
    stored = db.session.get(WebhookEndpoint, endpoint_id).secret_sealed
    assert secret.startswith("whsec_") and secret not in stored and secret[6:] not in stored


# --- the pages ----------------------------------------------------------------------------


def test_a_decision_maker_registers_tests_and_reads_the_log_in_the_pages(
    app, as_user, ctx, receiver
):
    c = as_user(ACME_DM)
    made = c.send(
        "POST",
        "/account/webhooks",
        data={
            "url": receiver.url,
            "description": "ERP intake",
            "event_types": ["order.placed", "invoice.issued"],
        },
    )
    assert made.status_code == 201, made.get_data(as_text=True)[:500]
    page = made.get_data(as_text=True)
    secret = page.split('id="webhook-secret-value"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    assert secret.startswith("whsec_")
    endpoint = db.session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.url == receiver.url))
    assert endpoint.company_id == user(ACME_DM).company_id
    shown = c.get(f"/account/webhooks/{endpoint.id}").get_data(as_text=True)
    assert secret not in shown  # shown once, on the page that made it
    assert c.send("POST", f"/account/webhooks/{endpoint.id}/test").status_code == 302
    (message,) = receiver.wait_for(1)
    assert verified(secret, message)["type"] == "webhook.test"
    (delivery,) = deliveries(endpoint.id)
    detail = c.get(f"/account/webhooks/{endpoint.id}/deliveries/{delivery.id}")
    assert detail.status_code == 200 and "This is a test event." in detail.get_data(as_text=True)
    # Another company's decision-maker: not theirs, a 404; a requester: not for them, 403.
    assert as_user(BALTIC_DM).get(f"/account/webhooks/{endpoint.id}").status_code == 404
    assert as_user(ACME_REQUESTER).get("/account/webhooks").status_code == 403
    # Bad input keeps what was typed and says what is wrong.
    bad = c.send("POST", "/account/webhooks", data={"url": "http://x.test", "description": "d"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Choose at least one event to send." in body and 'value="http://x.test"' in body
    audited = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("webhook.%"))
    ).all()
    assert {"webhook.created", "webhook.tested"} <= set(audited)


def test_removing_an_endpoint_takes_its_log_and_sends_nothing_more(as_user, ctx, receiver):
    endpoint_id, __ = register(ACME_DM, ["order.placed"], receiver.url)
    place_for(ACME_DM)
    receiver.wait_for(1)
    c = as_user(ACME_DM)
    assert c.send("POST", f"/account/webhooks/{endpoint_id}/remove").status_code == 302
    assert deliveries(endpoint_id) == []
    assert db.session.get(WebhookEndpoint, endpoint_id) is None
    place_for(ACME_DM)
    assert len(receiver.received) == 1


# --- live --------------------------------------------------------------------------------


def test_an_open_delivery_log_follows_its_deliveries_live(app, as_user, connect, ctx, receiver):
    from tests.integration.test_live_pages import NOTHING_WITHIN, signalled, watching
    from tests.sockets import drain

    endpoint_id, __ = register(ACME_DM, ["order.placed"], receiver.url)
    region = f"webhook-deliveries-{endpoint_id}"
    page = as_user(ACME_DM).get(f"/account/webhooks/{endpoint_id}").get_data(as_text=True)
    assert f'id="{region}"' in page and 'hx-trigger="live:refresh"' in page
    keeper, stranger = connect(ACME_DM), connect("orders@baltic.test")
    watching(app, keeper, ACME_DM, {region, "webhook-endpoints"})
    watching(app, stranger, "orders@baltic.test", {"webhook-endpoints"})
    place_for(ACME_DM)
    receiver.wait_for(1)
    assert signalled(keeper, region)
    fragment = as_user(ACME_DM).htmx(f"/account/webhooks/{endpoint_id}").get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<div id="{region}"') and "Delivered" in fragment
    # Another company's keeper is told its own list may have moved, and re-fetching it
    # shows only its own endpoints (none), never Acme's.
    drain(stranger, NOTHING_WITHIN)
    theirs = as_user("orders@baltic.test").htmx("/account/webhooks").get_data(as_text=True)
    assert receiver.url not in theirs


def test_a_payload_never_shows_costs_to_an_owner_who_may_not_see_them(ctx, receiver):
    sales = db.session.scalar(select(Role).where(Role.preset == "sales"))
    db.session.add(RolePermission(role_id=sales.id, permission="webhooks.manage"))
    db.session.commit()
    register(ANNA, ["price.changed"], receiver.url + "/anna")  # no finance.costs
    register(ADMIN, ["price.changed"], receiver.url + "/admin")  # finance.costs
    products.set_prices(product(MCU), actor=user(ADMIN), base_price="6.60")
    db.session.commit()
    got = {m.path: json.loads(m.body)["data"]["product"] for m in receiver.wait_for(2)}
    assert "cost" in got["/hooks/admin"] and "cost" not in got["/hooks/anna"]
    assert got["/hooks/anna"]["base_price"] == got["/hooks/admin"]["base_price"] == "6.6000"


def test_with_no_endpoint_listening_an_order_costs_one_small_statement_more(app, ctx):
    """What every order pays for webhooks when nobody listens: one read of the switched-on
    endpoints per transaction (not per event), and nothing written."""
    from tests.statements import listening

    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if "webhook_" in statement:
            seen.append(statement.split()[0].upper())

    with listening(app, note):
        place_for(ACME_DM, quantity=3)  # an order event and a stock event
        assert seen == ["SELECT"]
        stock.set_level(product(MCU).id, 999, reason="count", actor=user(ADMIN))
        db.session.commit()
    assert seen == ["SELECT", "SELECT"]  # the next transaction reads again
