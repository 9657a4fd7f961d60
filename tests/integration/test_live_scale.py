"""What makes the live channel cheap at scale, and what it must never cost: rights.

A handshake reuses the viewer its session had moments ago, and resyncs of one audience
asking together share one render; an access event (block, sign-out, role change) still
ends or changes everything at once, and no resync ever crosses an audience.
"""

import json
import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from blueprints.live import hub as hub_module
from blueprints.live.hub import QUEUE_LIMIT, Connection
from core import people, roles, sessions, stock
from core.models import Product, Role
from core.sessions import token_hash
from extensions import db
from tests.conftest import persona_token
from tests.integration.test_live import handshake
from tests.records import user
from tests.sockets import drain, watch


@pytest.fixture
def product_id(ctx):
    return db.session.scalar(select(Product.id).where(Product.sku == "MCU-STM32F401"))


@pytest.fixture
def hub(app):
    return app.extensions["live_hub"]


def until(condition, seconds=3.0, what="the condition"):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def kept_viewer(hub, email):
    """The viewer the hub keeps for this persona's session (sockets send no language)."""
    entry = hub.viewers.get((token_hash(persona_token(email)), None))
    return entry[2] if entry is not None else None


def commit_access_change(hub, change):
    """Make an access change and wait until this process has delivered its event to the
    sockets it holds (the access generation moves at the commit already, before that)."""
    before = hub.generation
    change()
    db.session.commit()
    until(lambda: hub.generation != before, what="the access event to be delivered")


# --- the viewer of a session, kept briefly --------------------------------------------


def test_a_kept_viewer_never_outlives_a_block(app, live_server, connect, hub, ctx):
    email = "orders@delft.test"
    ws = connect(email)
    watch(ws, {"nav"})
    until(lambda: kept_viewer(hub, email) is not None, what="the viewer to be kept")
    assert handshake(app, live_server, email) == 101  # the kept one serves

    commit_access_change(hub, lambda: people.block(user(email), actor=user("admin@portal.test")))
    assert kept_viewer(hub, email) is None
    assert handshake(app, live_server, email) == 401
    drain(ws, 1.0)
    assert ws.close_reason == 1008


def test_a_kept_viewer_never_outlives_a_sign_out(app, live_server, connect, hub, ctx):
    email = "browse@etna.test"
    ws = connect(email)
    watch(ws, {"nav"})
    until(lambda: kept_viewer(hub, email) is not None, what="the viewer to be kept")

    commit_access_change(hub, lambda: sessions.end_session(user(email), persona_token(email)))
    assert handshake(app, live_server, email) == 401
    drain(ws, 1.0)
    assert ws.close_reason == 1008


def test_a_new_socket_after_a_role_change_has_the_new_rights(app, connect, hub, ctx):
    email = "anna.sales@portal.test"
    connect(email)
    until(lambda: kept_viewer(hub, email) is not None, what="the viewer to be kept")
    assert "stock.edit" not in kept_viewer(hub, email).permissions

    sales = db.session.scalar(select(Role).where(Role.preset == "sales"))
    commit_access_change(
        hub,
        lambda: roles.set_permissions(
            sales, sales.permissions | {"stock.edit"}, actor=user("admin@portal.test")
        ),
    )
    connect(email)
    until(lambda: kept_viewer(hub, email) is not None, what="the viewer read again")
    assert "stock.edit" in kept_viewer(hub, email).permissions
    person = user(email).id

    def held():
        return [c for c in hub.snapshot() if c.viewer.user_id == person]

    until(lambda: len(held()) == 2, what="both sockets to be held")
    # The old one too, once the event's delivery has re-read it.
    until(
        lambda: all("stock.edit" in c.viewer.permissions for c in held()),
        what="the old socket to have the new rights",
    )


def test_a_socket_opened_across_an_access_event_is_checked_again(app, hub, ctx):
    """Its viewer was read before the event, which went to the sockets held then."""
    email = "request@baltic.test"
    viewer, _, generation = hub.viewer_for(token_hash(persona_token(email)), None)
    assert viewer is not None

    def opening():
        return Connection(ws=SimpleNamespace(event=threading.Event()), viewer=viewer)

    calm = opening()
    hub.opened(calm, generation)  # nothing changed meanwhile: it stays open
    assert calm.close_code is None

    commit_access_change(hub, lambda: people.block(user(email), actor=user("admin@portal.test")))
    late = opening()
    hub.opened(late, generation)
    assert (late.close_code, late.close_reason) == (1008, "blocked")


# --- resyncs shared by an audience -------------------------------------------------------


def test_resyncs_of_one_audience_asking_together_render_once(
    connect, hub, product_id, monkeypatch, ctx
):
    monkeypatch.setattr(hub_module, "SHARE_SECONDS", 60.0)  # however slow this machine
    email = "orders@acme.test"  # Wholesale: exact counts
    regions = {f"offer-{product_id}", "nav"}
    sockets = [connect(email) for _ in range(5)]
    before = hub.renders
    for ws in sockets:
        watch(ws, regions, mode="load")
    got = [drain(ws, 3.0, expect=1) for ws in sockets]
    assert all(len(m) == 1 for m in got)
    assert len({m[0] for m in got}) == 1  # the same fragments for all
    assert "4,217" in got[0][0]
    assert hub.renders - before == len(regions)  # once, not once per socket

    # An event starts a new generation: the next resync renders afresh, never the old one.
    stock.set_level(product_id, 37, reason="test", actor=None)
    db.session.commit()
    assert all("37" in "".join(drain(ws, 2.0, expect=1)) for ws in sockets)
    before = hub.renders
    watch(sockets[0], regions, mode="reconnect")
    again = "".join(drain(sockets[0], 2.0, expect=1))
    assert "37 in stock" in again and "4,217" not in again
    assert hub.renders - before == len(regions)


def test_resyncs_share_nothing_across_audiences(connect, hub, product_id, monkeypatch):
    monkeypatch.setattr(hub_module, "SHARE_SECONDS", 60.0)
    shown = {}
    for email in ("orders@acme.test", "orders@baltic.test", "orders@acme.test"):
        ws = connect(email)
        watch(ws, {f"offer-{product_id}"}, mode="load")
        shown.setdefault(email, []).append("".join(drain(ws, 3.0, expect=1)))
    wholesale, partner = shown["orders@acme.test"], shown["orders@baltic.test"][0]
    assert "4,217" in wholesale[0] and wholesale[0] == wholesale[1]
    assert "Many" in partner and "4,217" not in partner  # Partner sees levels only


# --- a page's first resync: only what changed since it was rendered ------------------------


def test_a_fresh_page_gets_no_resync_and_a_stale_one_only_what_changed(
    connect, hub, product_id, monkeypatch, ctx
):
    """The page says when it began rendering; its "load" resync covers only the regions
    an event touched since: a page view costs one render, not two."""
    monkeypatch.setattr(hub_module, "TOUCH_MARGIN", 0.0)  # one host: one clock
    email = "orders@acme.test"
    other = db.session.scalar(select(Product.id).where(Product.id != product_id).limit(1))
    regions = {f"offer-{product_id}", f"offer-{other}"}
    fresh = connect(email)
    before = hub.renders
    watch(fresh, regions, mode="load", rendered=f"{time.time():.3f}")
    assert drain(fresh, 0.5) == []
    assert hub.renders == before  # nothing rendered for it
    # It stays open, showing only the other offer: a process with sockets works out which
    # regions an event touches (with none, it counts everything as touched).
    watch(fresh, {f"offer-{other}"})
    until(
        lambda: any(c.watching == {f"offer-{other}"} for c in hub.snapshot()),
        what="the new watch list",
    )

    rendered = time.time()  # this page began before the stock change below
    stock.set_level(product_id, 37, reason="test", actor=None)
    db.session.commit()
    until(lambda: hub.touched.get(f"offer-{product_id}", 0) > rendered, what="the touch")
    late = connect(email)  # its socket opens after the event was delivered
    before = hub.renders
    watch(late, regions, mode="load", rendered=f"{rendered:.3f}")
    got = drain(late, 5.0, expect=1)
    assert len(got) == 1 and "37 in stock" in got[0]
    assert f'id="offer-{other}"' not in got[0]
    assert hub.renders - before == 1  # the changed offer, not the other one


@pytest.mark.parametrize("rendered", [None, "not a time", "nan", "1e999"])
def test_a_page_that_does_not_say_when_it_was_rendered_gets_everything(
    connect, hub, product_id, rendered
):
    ws = connect("orders@acme.test")
    before = hub.renders
    asked = {"watch": [f"offer-{product_id}", "nav"], "page": "test", "mode": "load"}
    if rendered is not None:
        asked["rendered"] = rendered
    ws.send(json.dumps(asked))
    assert "4,217" in "".join(drain(ws, 3.0, expect=1))
    assert hub.renders - before == 2


def test_a_page_older_than_this_process_or_an_access_change_gets_everything(
    connect, hub, product_id, ctx
):
    ws = connect("orders@acme.test")
    before = hub.renders
    watch(ws, {f"offer-{product_id}", "nav"}, mode="load", rendered=hub.touched_all - 5)
    assert "4,217" in "".join(drain(ws, 3.0, expect=1))
    assert hub.renders - before == 2  # it may have missed what this process never heard


def test_an_event_heard_with_no_socket_open_touches_everything(connect, hub, product_id, ctx):
    until(lambda: not hub.snapshot(), what="the last test's sockets to go")
    rendered = time.time()
    before = hub.touched_all
    stock.set_level(product_id, 37, reason="test", actor=None)
    db.session.commit()
    until(lambda: hub.touched_all > before, what="the event")
    assert hub.touched_all >= rendered
    ws = connect("orders@acme.test")
    watch(ws, {f"offer-{product_id}"}, mode="load", rendered=f"{rendered:.3f}")
    assert "37 in stock" in "".join(drain(ws, 3.0, expect=1))


# --- a socket's outbox ---------------------------------------------------------------------


def test_a_full_outbox_drops_its_oldest_messages():
    connection = Connection(ws=SimpleNamespace(event=threading.Event()), viewer=None)
    for n in range(QUEUE_LIMIT + 6):
        connection.push(f"m{n}")
    assert len(connection.outbox) == QUEUE_LIMIT
    assert connection.dropped == 6
    assert connection.outbox[0] == "m6" and connection.outbox[-1] == f"m{QUEUE_LIMIT + 5}"
    assert connection.ws.event.is_set()  # its writer was woken
