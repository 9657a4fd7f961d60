"""The live channel of a storefront page a staff member views as a customer person: its
socket (`/ws?as=<person>`) renders the person's regions as the person's audience sees them
(their group's offer and stock form), never more than the staff member may read, and it
closes when the view ends (exit, access lost) or the staff member is blocked."""

import contextlib
from urllib.parse import urlsplit

import pytest
from simple_websocket import ConnectionClosed
from sqlalchemy import select

from blueprints.live.viewer import assumed_viewer
from core import access, people, roles, stock
from core.models import Role
from core.sessions import token_hash
from extensions import db
from tests.conftest import persona_token
from tests.integration.test_live import handshake
from tests.records import company, pid, user
from tests.sockets import Client, drain, watch

ANNA = "anna.sales@portal.test"
ADMIN = "admin@portal.test"
BALTIC = "request@baltic.test"  # Partner: levels
ACME_DM = "orders@acme.test"  # Wholesale: exact counts
MCU = "MCU-STM32F401"


@pytest.fixture
def open_socket(app, live_server):
    """Factory: a socket of a persona's session, as a page of `path` opens it."""
    opened = []
    port = urlsplit(live_server).port

    def make(email: str, path: str = "/ws"):
        c = app.test_client()
        with c.session_transaction() as session:
            session["_user_id"] = persona_token(email)
        headers = {
            "Origin": "http://127.0.0.1",
            "Cookie": f"session={c.get_cookie('session').value}",
        }
        ws = Client.connect(f"ws://127.0.0.1:{port}{path}", headers=headers)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        with contextlib.suppress(ConnectionClosed):
            ws.close()


def view_as(as_user, person: str, slug: str):
    c = as_user(ANNA)
    response = c.send(
        "POST",
        f"/office/customers/{company(slug).id}/view-as",
        data={"view-person": user(person).id},
    )
    assert response.status_code == 302
    return c


def ready(ws, regions) -> str:
    """Tell the server what the page shows and wait for its first resync (the watch is
    taken once it arrives): what it sent."""
    watch(ws, regions, mode="load")
    return "".join(drain(ws, 5.0, expect=1))


def test_a_view_as_socket_gets_the_persons_offer_as_their_group_sees_it(as_user, open_socket, ctx):
    view_as(as_user, BALTIC, "baltic")
    product = pid(MCU)
    ws = open_socket(ANNA, f"/ws?as={user(BALTIC).id}")
    first = ready(ws, {f"offer-{product}"})
    assert f'id="offer-{product}"' in first and "4217" not in first
    stock.set_level(product, 37, reason="view-as test", actor=user(ADMIN))
    db.session.commit()
    pushed = "".join(drain(ws, 5.0, expect=1))
    assert f'id="offer-{product}"' in pushed
    assert "Few" in pushed and "37" not in pushed  # the Partner group's level, no count


def test_a_view_as_socket_closes_when_the_view_ends(as_user, open_socket, ctx):
    c = view_as(as_user, ACME_DM, "acme")
    ws = open_socket(ANNA, f"/ws?as={user(ACME_DM).id}")
    ready(ws, {"nav"})
    assert c.send("POST", "/office/acting/end").status_code == 302
    messages = drain(ws, 5.0)
    assert not ws.connected and ws.close_reason == 1008
    assert any("opened for this customer has closed" in m for m in messages)


def test_losing_the_assignment_closes_the_view_as_socket(as_user, open_socket, ctx):
    view_as(as_user, ACME_DM, "acme")
    ws = open_socket(ANNA, f"/ws?as={user(ACME_DM).id}")
    ready(ws, {"nav"})
    people.set_reps(company("acme"), [user("marco.sales@portal.test")], actor=user(ADMIN))
    db.session.commit()
    drain(ws, 5.0)
    assert ws.close_reason == 1008


def test_blocking_the_staff_member_closes_the_view_as_socket(as_user, open_socket, ctx):
    view_as(as_user, ACME_DM, "acme")
    ws = open_socket(ANNA, f"/ws?as={user(ACME_DM).id}")
    ready(ws, {"nav"})
    people.block(user(ANNA), actor=user(ADMIN))
    db.session.commit()
    messages = drain(ws, 5.0)
    assert ws.close_reason == 1008
    assert any("blocked" in m for m in messages)


def test_a_handshake_naming_another_person_is_refused(app, as_user, live_server, ctx):
    view_as(as_user, ACME_DM, "acme")
    parts = urlsplit(live_server)
    import http.client

    def status(path: str) -> int:
        c = app.test_client()
        with c.session_transaction() as session:
            session["_user_id"] = persona_token(ANNA)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        try:
            conn.request(
                "GET",
                path,
                headers={
                    "Upgrade": "websocket",
                    "Connection": "Upgrade",
                    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                    "Sec-WebSocket-Version": "13",
                    "Origin": live_server,
                    "Cookie": f"session={c.get_cookie('session').value}",
                },
            )
            return conn.getresponse().status
        finally:
            conn.close()

    assert status(f"/ws?as={user(ACME_DM).id}") == 101
    assert status(f"/ws?as={user('request@acme.test').id}") == 401  # not whom it views as
    assert status("/ws?as=abc") == 401
    # A customer person cannot name anyone.
    assert handshake(app, live_server, ACME_DM) == 101


def test_a_view_as_viewer_never_holds_more_than_the_staff_member_may_read(as_user, ctx):
    """A member of staff who may act but not read invoices sees a decision-maker's
    storefront without invoices: pages, navigation and pushes alike."""
    clerk = user("viewer@portal.test")
    role = roles.create(
        "Acting clerk",
        "staff",
        {"customers.act", "customers.view", "customers.all", "orders.view", "quotes.view"},
        actor=user(ADMIN),
    )
    people.set_roles(clerk, [role], actor=user(ADMIN))
    db.session.commit()
    c = as_user("viewer@portal.test")
    response = c.send(
        "POST",
        f"/office/customers/{company('acme').id}/view-as",
        data={"view-person": user(ACME_DM).id},
    )
    assert response.status_code == 302
    assert c.get("/shop/invoices").status_code == 403
    assert c.get("/shop/orders").status_code == 200
    viewer, why = assumed_viewer(
        clerk.id, token_hash(persona_token("viewer@portal.test")), user(ACME_DM).id
    )
    assert why is None and "shop.invoices" not in viewer.permissions
    assert "shop.order" in viewer.permissions and viewer.acting_mode == "view"
    assert access.audience(viewer, "invoice") is None
    assert access.audience(viewer, "balance") is None
    assert access.audience(viewer, "offer") is not None
    own = db.session.scalar(select(Role).where(Role.preset == "decision_maker"))
    assert "shop.invoices" in own.permissions  # the person themselves would see them
