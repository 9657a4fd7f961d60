"""What one client may cost the live channel, and how a socket ends.

Bounded sockets per session, a bounded rate of what a page asks (merged, never lost),
sessions that end by the clock, and a close that always says why, with nothing after
the close frame.
"""

import base64
import json
import os
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from simple_websocket import ConnectionClosed
from sqlalchemy import select

from core import people, sessions, stock
from core.models import LoginSession, Product, User, utcnow
from core.sessions import token_hash
from extensions import db
from tests.conftest import persona_token
from tests.records import user
from tests.sockets import drain, watch

EXACT = ("MCU-STM32F401", "CAP-1206-10U", "CON-USBC-16P")


@pytest.fixture
def exact_ids(ctx):
    return {sku: db.session.scalar(select(Product.id).where(Product.sku == sku)) for sku in EXACT}


def held(hub, email) -> int:
    """Sockets the hub holds for this persona's session."""
    return hub.per_session.get(token_hash(persona_token(email)), 0)


def until(condition, seconds=3.0, what="the condition"):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def closed_with(ws, seconds=3.0):
    """Everything the socket receives until it closes, and its close code."""
    messages = drain(ws, seconds)
    until(lambda: not ws.connected, 1.0, "the close")
    return "".join(messages), ws.close_reason


@pytest.fixture
def fresh_budget(app):
    """The persona sessions live through the whole run: start this test with a full budget."""
    hub = app.extensions["live_hub"]

    def reset(email):
        hub.budgets.pop(token_hash(persona_token(email)), None)

    return reset


# --- point 6: bounded sockets ----------------------------------------------------------


def test_a_session_holds_at_most_ws_max_per_session_sockets(app, connect):
    email = "viewer@portal.test"
    hub = app.extensions["live_hub"]
    limit = app.config["WS_MAX_PER_SESSION"]
    assert limit == 20  # the documented default
    until(lambda: held(hub, email) == 0, what="earlier tests' sockets to go")
    sockets = [connect(email) for _ in range(limit)]
    until(lambda: held(hub, email) == limit, what="the sockets to be held")

    refused = connect(email)
    text, code = closed_with(refused)
    assert code == 4429
    assert "too many pages of the portal are open" in text and 'id="live-status"' in text
    assert held(hub, email) == limit
    assert all(ws.connected for ws in sockets)

    sockets[0].close()  # one page closes: another may open
    until(lambda: held(hub, email) == limit - 1, what="the closed socket to go")
    again = connect(email)
    until(lambda: held(hub, email) == limit, what="the new socket to be held")
    assert again.connected


def test_a_flood_of_resync_requests_is_merged_and_rationed(app, connect, exact_ids, ctx):
    """A client sending "reconnect" in a loop costs a bounded number of renders, and what
    it asked last still stands: its last watch list is the one pushes follow."""
    email = "request@etna.test"
    hub = app.extensions["live_hub"]
    hub.budgets.pop(token_hash(persona_token(email)), None)
    ws = connect(email)
    regions = {f"offer-{i}" for i in exact_ids.values()} | {"nav"}
    before = hub.resyncs
    started = time.monotonic()
    for _ in range(400):
        watch(ws, regions, mode="reconnect")
    cap = exact_ids["CAP-1206-10U"]
    watch(ws, {f"offer-{cap}"})  # the page's last word: it now shows one offer only
    sent = time.monotonic() - started
    time.sleep(1.0)  # the server works through the flood
    elapsed = time.monotonic() - started

    resyncs = hub.resyncs - before
    budget = app.config["WS_MAX_PER_SESSION"] + app.config["LIVE_RESYNCS_PER_MINUTE"] / 60 * elapsed
    assert resyncs <= budget + 1, (resyncs, budget)
    conn = next(
        c for c in hub.snapshot() if c.viewer.token_hash == token_hash(persona_token(email))
    )
    rate = app.config["LIVE_MESSAGES_PER_SECOND"]
    assert conn.taken <= 2 * rate + rate * elapsed + 1, (conn.taken, sent)

    until(
        lambda: conn.asked is None and conn.resync is None and conn.watching == {f"offer-{cap}"},
        3.0,
        "the last ask to be taken",
    )
    drain(ws, 0.3)  # what the flood's resyncs sent
    stock.set_level(cap, 23, reason="flood test", actor=None)
    db.session.commit()
    pushed = "".join(drain(ws, 2.0, expect=1))
    assert "23 in stock" in pushed and f'id="offer-{cap}"' in pushed


def test_a_page_load_and_its_updates_are_all_taken(app, connect, exact_ids, ctx, fresh_budget):
    """The normal flow is never rationed: a load, then swaps, each answered or followed."""
    email = "orders@delft.test"
    fresh_budget(email)
    ws = connect(email)
    cap, usb = exact_ids["CAP-1206-10U"], exact_ids["CON-USBC-16P"]
    watch(ws, {f"offer-{cap}", "nav"}, mode="load")
    loaded = "".join(drain(ws, 2.0, expect=1))
    assert f'id="offer-{cap}"' in loaded and 'id="nav"' in loaded
    for _ in range(3):  # a few swaps in quick succession
        watch(ws, {f"offer-{cap}"})
        watch(ws, {f"offer-{cap}", f"offer-{usb}"})
    time.sleep(0.2)
    stock.set_level(usb, 9, reason="test", actor=None)
    db.session.commit()
    assert "Few" in "".join(drain(ws, 2.0, expect=1))  # Partner: levels, not counts


@pytest.mark.parametrize("limit", ["idle", "lifetime"])
def test_a_socket_closes_when_its_session_passes_its_limit(
    app, connect, exact_ids, ctx, monkeypatch, limit
):
    email = "orders@acme.test"  # Wholesale: sees exact stock
    record = db.session.scalar(
        select(LoginSession).where(LoginSession.token_hash == token_hash(persona_token(email)))
    )
    now = utcnow()
    record.last_seen_at = now
    if limit == "idle":
        monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 3 / 60)  # three seconds
    else:
        record.expires_at = now + timedelta(seconds=3)
    db.session.commit()
    # The session's end moved earlier behind the hub's back (nothing in the portal does
    # that; sign-outs and blocks are events): the viewers it read before are forgotten.
    app.extensions["live_hub"].access_changed()
    ends = sessions.ends_at(record, idle_minutes=app.config["SESSION_IDLE_MINUTES"])
    ws = connect(email)
    product = exact_ids["MCU-STM32F401"]
    watch(ws, {f"offer-{product}"})

    text, code = closed_with(ws, 5.0)
    closed_at = utcnow()
    assert code == 1008
    assert "You were signed out" in text
    assert ends <= closed_at < ends + timedelta(seconds=1.5), (ends, closed_at)
    stock.set_level(product, 77, reason="after the end", actor=None)
    db.session.commit()
    assert drain(ws, 0.5) == []


# --- point 7: a blocked or signed-out person always learns why ----------------------


def raw_socket(app, live_server, email):
    """A websocket opened by hand, so that every byte the server sends can be seen."""
    c = app.test_client()
    with c.session_transaction() as session:
        session["_user_id"] = persona_token(email)
    key = base64.b64encode(os.urandom(16)).decode()
    conn = socket.create_connection(("127.0.0.1", urlsplit(live_server).port), timeout=5)
    conn.sendall(
        (
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1\r\n"
            f"Cookie: session={c.get_cookie('session').value}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += conn.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    message = json.dumps({"watch": ["nav"], "page": "test", "mode": "update"}).encode()
    mask = os.urandom(4)
    conn.sendall(
        bytes([0x81, 0x80 | len(message)])
        + mask
        + bytes(b ^ mask[i % 4] for i, b in enumerate(message))
    )
    return conn


def frames_until_eof(conn):
    """The server's frames as (opcode, payload), and any bytes that are not a frame."""
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    frames, at = [], 0
    while at < len(data):
        first, size = data[at], data[at + 1] & 0x7F
        if first not in (0x81, 0x88) or data[at + 1] & 0x80:
            return frames, data[at:]
        at += 2
        if size == 126:
            size, at = int.from_bytes(data[at : at + 2], "big"), at + 2
        elif size == 127:
            size, at = int.from_bytes(data[at : at + 8], "big"), at + 8
        frames.append((first & 0x0F, data[at : at + size]))
        at += size
    return frames, b""


@pytest.mark.parametrize("how", ["blocked", "signed out"])
def test_the_notice_then_the_close_frame_then_nothing(app, live_server, ctx, how):
    """What made a browser see 1006 and lose the notice: bytes after the close frame."""
    email = "browse@baltic.test"
    conn = raw_socket(app, live_server, email)
    time.sleep(0.3)  # the server holds the socket and has read its watch list
    if how == "blocked":
        people.block(user(email), actor=user("admin@portal.test"))
    else:
        sessions.end_session(user(email), persona_token(email))
    db.session.commit()

    frames, trailing = frames_until_eof(conn)
    conn.close()
    assert trailing == b"", f"bytes after the frames: {trailing[:40]!r}"
    assert [op for op, _ in frames] == [1, 8], frames
    text, close = frames[0][1].decode(), frames[1][1]
    assert int.from_bytes(close[:2], "big") == 1008
    assert close[2:].decode() == how
    if how == "blocked":
        assert "Your access was blocked" in text
    else:
        assert "You were signed out" in text and "blocked" not in text


def test_the_recheck_tells_blocked_from_signed_out(app, connect, ctx):
    """An event missed: the periodic recheck finds the person blocked, and says so."""
    email = "browse@carpathia.test"
    ws = connect(email)
    watch(ws, {"nav"})
    time.sleep(0.2)
    db.session.execute(  # behind the live layer's back: no event
        User.__table__.update().where(User.email == email).values(status="blocked")
    )
    db.session.commit()
    assert app.extensions["live_hub"].recheck_sessions() == 1
    text, code = closed_with(ws)
    assert code == 1008 and "Your access was blocked" in text
    with pytest.raises(ConnectionClosed):
        ws.send("{}")
