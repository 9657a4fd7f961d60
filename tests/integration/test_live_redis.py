"""The Redis bus through an outage, and portals sharing one Redis.

Redis is reached through a small TCP proxy the test can cut and restore, so the bus
meets a real outage: its connections drop, reconnecting is refused, publishing fails.
Runs with REDIS_URL (the MariaDB pass of .ci/run sets it) and skips without it.
"""

import contextlib
import socket
import threading
import time
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from blueprints.live.bus import RedisBus, namespace
from core import stock
from core.events import Event
from core.models import Product
from extensions import db
from tests.conftest import need_redis
from tests.sockets import drain, watch


class Outage:
    """A TCP proxy to Redis: `cut()` drops its connections and refuses new ones."""

    def __init__(self, redis_url: str):
        parts = urlsplit(redis_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.url = redis_url.replace(parts.netloc, "127.0.0.1:{port}", 1)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = self.url.format(port=self.listener.getsockname()[1])
        self.down = False
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            # Checked and recorded under the lock that `cut()` takes: a pair accepted
            # while a cut runs is either refused or dropped by it, never left open
            # for its pump threads to abandon unclosed.
            with self.lock:
                if self.down:
                    client.close()  # Redis is unreachable: the handshake fails
                    continue
                upstream = socket.create_connection(self.target)
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self.lock:
            self.down = True
            dropped, self.open = self.open, []
        for s in dropped:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.down = False

    def close(self) -> None:
        self.cut()
        self.listener.close()


def until(condition, seconds=5.0, what="the condition"):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


class Heard:
    """What a bus hands its process: batches of events, and resyncs."""

    def __init__(self):
        self.events: list[Event] = []
        self.resyncs = 0

    def deliver(self, events):
        self.events += events

    def resync(self):
        self.resyncs += 1


@pytest.fixture
def channel():
    return f"test-{uuid.uuid4().hex[:12]}:events"


def test_portals_sharing_a_redis_never_hear_each_other(app):
    redis_url = need_redis()
    first, same, other = Heard(), Heard(), Heard()
    tag = uuid.uuid4().hex[:12]
    buses = [
        RedisBus(first.deliver, redis_url, channel=f"a-{tag}:events", resync=first.resync),
        RedisBus(same.deliver, redis_url, channel=f"a-{tag}:events", resync=same.resync),
        RedisBus(other.deliver, redis_url, channel=f"b-{tag}:events", resync=other.resync),
    ]
    try:
        buses[0].publish([Event("stock_changed", 7)])
        until(lambda: same.events, what="the portal's other process to hear it")
        time.sleep(0.3)
        assert same.events == first.events == [Event("stock_changed", 7)]
        assert other.events == []
    finally:
        for bus in buses:
            bus.close()

    # By default the namespace is the database's name: test runs on different databases,
    # or two portals, on one Redis never cross-talk. REDIS_NAMESPACE overrides it.
    # (Made-up URLs, parsed and never connected to.)
    server = "postgresql://portal@db-host/portal_live_a"
    assert namespace({"SQLALCHEMY_DATABASE_URI": server}) == "portal_live_a"
    assert namespace({"SQLALCHEMY_DATABASE_URI": server.replace("_a", "_b")}) == "portal_live_b"
    assert namespace({"SQLALCHEMY_DATABASE_URI": server, "REDIS_NAMESPACE": "eu"}) == "eu"
    sqlite = namespace({"SQLALCHEMY_DATABASE_URI": "sqlite:////srv/a/portal.db"})
    assert sqlite == "/srv/a/portal.db"
    # The test app's own bus: its channel carries its database's name.
    database = urlsplit(app.config["SQLALCHEMY_DATABASE_URI"]).path.strip("/").split("/")[-1]
    assert database and database in namespace(app.config)
    assert app.extensions["live_hub"].bus.channel == f"{namespace(app.config)}:events"


@pytest.fixture
def proxied_hub(app, channel):
    """The test app's hub on a Redis bus that goes through an Outage proxy."""
    outage = Outage(need_redis())
    hub = app.extensions["live_hub"]
    saved = hub._bus
    hub.bus  # noqa: B018  (the pid the property checks is set)
    hub._bus = RedisBus(hub.deliver, outage.url, channel=channel, resync=hub.resync_all)
    try:
        yield hub, outage
    finally:
        hub._bus.close()
        hub._bus = saved
        outage.close()


def test_events_committed_while_redis_is_away_reach_every_page(
    app, connect, ctx, proxied_hub, channel
):
    hub, outage = proxied_hub
    ids = {
        sku: db.session.scalar(select(Product.id).where(Product.sku == sku))
        for sku in ("CAP-1206-10U", "CON-USBC-16P")
    }
    cap, usb = ids["CAP-1206-10U"], ids["CON-USBC-16P"]
    ws = connect("orders@acme.test")  # Wholesale: exact stock
    watch(ws, {f"offer-{cap}", f"offer-{usb}"})
    until(lambda: any(c.watching for c in hub.snapshot()), what="the page's watch list")
    # Another process of the same portal, whose own Redis connection stays up.
    elsewhere = Heard()
    other = RedisBus(elsewhere.deliver, need_redis(), channel=channel, resync=elsewhere.resync)
    try:
        outage.cut()
        until(lambda: not hub.bus.subscribed.is_set(), what="the bus to lose Redis")

        # The other process commits and publishes: this process is not listening.
        db.session.execute(update(Product).where(Product.id == cap).values(stock=21))
        db.session.commit()
        other.publish([Event("stock_changed", cap)])
        until(lambda: elsewhere.events, what="the other process to hear its own event")

        # This process commits: Redis refuses, its own pages get it at once all the same.
        stock.set_level(usb, 14, reason="outage test", actor=None)
        db.session.commit()
        assert "14 in stock" in "".join(drain(ws, 5.0, expect=1))
        assert "21 in stock" not in "".join(drain(ws, 0.3))  # lost to this process, so far

        outage.restore()
        # Back: this process resyncs its pages, and asks every other process to.
        back = "".join(drain(ws, 10.0, expect=1))
        assert "21 in stock" in back and "14 in stock" in back
        until(lambda: elsewhere.resyncs == 1, what="the other process to be asked to resync")
        assert not hub.bus.missed
    finally:
        other.close()


def test_a_brief_drop_of_the_subscription_still_resyncs(app, connect, proxied_hub):
    """A drop redis-py may bridge by itself (its one retry) loses messages all the same."""
    hub, outage = proxied_hub
    ws = connect("orders@acme.test")
    watch(ws, {"nav"})
    until(lambda: any(c.watching for c in hub.snapshot()), what="the page's watch list")
    subscriptions = hub.bus.subscriptions
    outage.cut()
    outage.restore()  # back at once: redis-py's retry reconnects and re-subscribes
    until(lambda: hub.bus.subscriptions > subscriptions, what="the subscription to come back")
    assert 'id="nav"' in "".join(drain(ws, 5.0, expect=1))


def test_sockets_opening_together_share_one_bus(app):
    """Subscribing takes a moment: sockets opening meanwhile must not make a bus each
    (every one of them would deliver every event again)."""
    from blueprints.live.hub import Hub

    need_redis()
    hub = Hub(app)
    start = threading.Barrier(8)
    seen = []

    def first_socket():
        start.wait()
        seen.append(hub.bus)

    threads = [threading.Thread(target=first_socket) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len({id(bus) for bus in seen}) == 1
    finally:
        seen[0].close()
