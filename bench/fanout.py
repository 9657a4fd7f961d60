"""Fan-out benchmark: time from one stock change to its fragment on every open socket.

Builds the demo database with a known session for each of the 22 demo people,
serves the portal in a separate process (werkzeug's threaded server, or gunicorn
with the gthread or gevent worker), opens --sockets websockets that share those
sessions round-robin and watch MCU-STM32F401, then changes its stock through the
back office (POST /office/stock/<id> as the warehouse, on the default in-process
bus) and times each socket's fragment. The floor, in the same run and served the
same way: a bare flask-sock app sending one precomputed message (the largest
fragment the portal just sent) to as many sockets, either from each socket's own
handler, as the portal's writers do, or from one loop in the request. Portal and
floor sockets stay open together and their events alternate, so other work on
the machine slows both alike; each figure is the median over the rounds, after
an untimed warm-up. Prints latency, renders per event against the distinct
audiences, memory per socket, the targets and a worker class to choose; never
fails on a time.

    .venv/bin/python bench/fanout.py --smoke
    .venv/bin/python bench/fanout.py --server werkzeug gthread gevent
    .venv/bin/python bench/fanout.py --database-url mysql+pymysql://root@127.0.0.1/portal_fanout

The clients run in this process on asyncio with wsproto (installed with
simple-websocket), and offer permessage-deflate as browsers do (--no-deflate: not).
"""

import argparse
import asyncio
import collections
import http.client
import importlib.util
import itertools
import json
import logging
import math
import os
import re
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

from common import add_database_url, database
from flask import Flask, request
from flask_migrate import upgrade
from flask_sock import Sock
from simple_websocket import ConnectionClosed
from sqlalchemy import select
from sqlalchemy.engine import make_url
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate

import demo
from app import create_app
from blueprints.fragments import registry as regions
from blueprints.live.viewer import load_viewer
from core import sessions
from core.events import Event
from core.models import Product, User
from core.sessions import token_hash
from extensions import db

SKU = "MCU-STM32F401"
WAREHOUSE = "warehouse@portal.test"
KINDS = ("werkzeug", "gthread", "gevent")
ROUNDS = 7
WARMUP = 1  # untimed first event: each socket's first message also sets up its compressor
SMOKE_SOCKETS = 60
SMOKE_ROUNDS = 2
CONNECTING_AT_ONCE = 50  # handshakes in flight, so a burst does not exhaust the DB pool
CONNECT_TIMEOUT = 30.0
READY_TIMEOUT = 60.0
SETTLE = 2.0  # seconds of quiet after every socket watches, before the first event
ROUND_TIMEOUT = 15.0
QUIET = 0.5  # after the last expected fragment: time for late or extra messages
TARGET_SOCKETS = 1000
FLOOR_RATIO = 2.0
P99_LIMIT = 1.0
BENCH_DIR = Path(__file__).resolve().parent
# As the portal's defaults (LIVE_PING_SECONDS, LIVE_MAX_MESSAGE_BYTES), for the floor.
SOCK_OPTIONS = {"ping_interval": 25, "max_message_size": 16 * 1024}
MEASURED = {
    "portal": "portal",
    "floor": "floor, per-socket writers",
    "floor-loop": "floor, one send loop",
}
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')

FIVE_YEARS = 5 * 365 * 24  # hours: a bench session never ends mid-run
# Production wants a public https address and answers only its host: here, this machine.
PUBLIC = {"PORTAL_URL": "https://127.0.0.1", "TRUSTED_HOSTS": "127.0.0.1"}


# --- the servers under test (run in their own process) --------------------------


def portal_app() -> Flask:
    """The portal configured by the environment, plus a bench-only view of its hub."""
    app = create_app()
    hub = app.extensions["live_hub"]

    @app.get("/__bench/hub")
    def bench_hub():
        """The server's pid, fragments rendered so far, and sockets held and watching."""
        connections = hub.snapshot()
        return {
            "pid": os.getpid(),
            "renders": hub.renders,
            "connections": len(connections),
            "watching": sum(1 for c in connections if c.watching),
        }

    return app


def floor_app() -> Flask:
    """A bare flask-sock app sending what POST /__bench/send gets to every socket.

    Either each socket's own handler sends it, as the portal's writers do, or
    the request sends it to all sockets in one loop (?loop=1).
    """
    app = Flask("fanout_floor")
    app.config["SOCK_SERVER_OPTIONS"] = SOCK_OPTIONS
    sock = Sock(app)
    lock = threading.Lock()
    outboxes: dict = {}

    @sock.route("/ws")
    def floor_socket(ws):
        """Register once the page says what it watches; send what is queued for it."""
        ws.receive()  # the watch message: from now on the socket counts
        outbox = collections.deque()
        with lock:
            outboxes[ws] = outbox
        try:
            while ws.connected:
                ws.event.wait(timeout=5)
                while ws.receive(timeout=0) is not None:
                    pass
                while outbox:
                    ws.send(outbox.popleft())
        finally:
            with lock:
                outboxes.pop(ws, None)

    @app.post("/__bench/send")
    def send():
        """One message for every socket: queued for each socket's writer, or sent in one loop."""
        message = request.get_data(as_text=True)
        with lock:
            targets = list(outboxes.items())
        for ws, outbox in targets:
            if request.args.get("loop"):
                with suppress(ConnectionClosed):
                    ws.send(message)
            else:
                outbox.append(message)
                ws.event.set()
        return {"sent": len(targets)}

    @app.get("/__bench/hub")
    def bench_hub():
        """The server's pid and its sockets, as the portal's view reports them."""
        with lock:
            count = len(outboxes)
        return {"pid": os.getpid(), "renders": 0, "connections": count, "watching": count}

    return app


def serve(which: str, port: int) -> None:
    """Serve the portal or the floor with werkzeug's threaded server."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = portal_app() if which == "portal" else floor_app()
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


# --- setup ------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    """A demo person's signed session cookie, watch message, and what a stock event sends it."""

    email: str
    cookie: str
    watch: str
    audiences: frozenset  # (region kind, audience) pairs a stock event on the product reaches


@dataclass(frozen=True)
class Setup:
    """The prepared database: the product to change, its stock, and the personas."""

    url: str
    secret: str
    product_id: int
    stock: int
    personas: list[Persona]
    warehouse_cookie: str


def session_token(email: str) -> str:
    """The token of a persona's bench session."""
    return f"fanout-session-{email}"


def prepare(url: str) -> Setup:
    """Migrations, demo data, a session per demo person, and who a stock event reaches."""
    secret = secrets.token_urlsafe(32)
    app = create_app(
        {"PORTAL_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": secret, **PUBLIC}
    )
    signer = app.session_interface.get_signing_serializer(app)
    with app.app_context():
        upgrade()
        demo.load()
        product = db.session.scalar(select(Product).where(Product.sku == SKU))
        users = list(db.session.scalars(select(User).where(User.status == "active")))
        for user in users:
            sessions.grant_session(
                user,
                session_token(user.email),
                hours=5 * 365 * 24,
                ip="127.0.0.1",
                user_agent="bench",
            )
        db.session.commit()
        watched = [f"offer-{product.id}", f"product-{product.id}", f"stock-{product.id}", "nav"]
        touched = regions.affected(Event("stock_changed", product.id))
        personas = []
        for user in sorted(users, key=lambda u: (u.company_id or 0, u.id)):
            token = session_token(user.email)
            viewer = load_viewer(user.id, token_hash(token))
            page = "office.stock" if viewer.kind == "staff" else "shop.catalog"
            stand_in = SimpleNamespace(viewer=viewer, page=page)
            kinds = regions.watched_keys(regions.parse_watch(frozenset(watched)), touched)
            audiences = {(kind.name, kind.audience(stand_in)) for kind in kinds}
            personas.append(
                Persona(
                    email=user.email,
                    cookie=signer.dumps({"_user_id": token, "_fresh": True}),
                    watch=json.dumps({"watch": watched, "page": page, "mode": "update"}),
                    audiences=frozenset(a for a in audiences if a[1] is not None),
                )
            )
        setup = Setup(
            url=url,
            secret=secret,
            product_id=product.id,
            stock=product.stock,
            personas=personas,
            warehouse_cookie=next(p.cookie for p in personas if p.email == WAREHOUSE),
        )
        db.session.remove()
        db.engine.dispose()
    return setup


# --- serving and HTTP --------------------------------------------------------------


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(kind: str, which: str, port: int, sockets: int) -> list[str]:
    """The command serving the portal or the floor with this server kind."""
    if kind == "werkzeug":
        return [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve",
            which,
            "--port",
            str(port),
        ]
    workers = {
        "gthread": ["--threads", str(sockets + 50), "--worker-connections", str(sockets + 100)],
        "gevent": ["--worker-connections", str(sockets + 100)],
    }[kind]
    from gunicorn.config import KNOWN_SETTINGS

    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        workers.append("--no-control-socket")  # gunicorn 24+ would make one under ~/.gunicorn
    return [
        *(sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", kind),
        *workers,
        *("--bind", f"127.0.0.1:{port}", "--pythonpath", str(BENCH_DIR)),
        *("--log-level", "warning", "--graceful-timeout", "3"),
        f"fanout:{which}_app()",
    ]


def missing(kind: str) -> str | None:
    """What a server kind needs that is not installed, if anything."""
    needs = {"werkzeug": (), "gthread": ("gunicorn",), "gevent": ("gunicorn", "gevent")}[kind]
    absent = [name for name in needs if importlib.util.find_spec(name) is None]
    return "/".join(absent) or None


def fetch(port: int, method: str, path: str, *, cookie=None, body=b"", headers=None):
    """One HTTP request: status, body text, and the session cookie set, if any."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        sent = dict(headers or {})
        if cookie:
            sent["Cookie"] = f"session={cookie}"
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        text = response.read().decode()
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or ():
            jar.load(header)
        return response.status, text, jar["session"].value if "session" in jar else None
    finally:
        conn.close()


def hub_state(port: int) -> dict:
    """The bench-only view of the server: its pid, renders and open sockets."""
    status, text, _ = fetch(port, "GET", "/__bench/hub")
    if status != 200:
        raise RuntimeError(f"/__bench/hub answered {status}")
    return json.loads(text)


def rss_kib(pid: int) -> int:
    """A process's resident memory in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


@contextmanager
def serving(kind: str, which: str, setup: Setup, sockets: int, logs: Path) -> Iterator[int]:
    """The portal or the floor served in its own process; yields its port when it answers."""
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "DATABASE_URL": setup.url,
        "SECRET_KEY": setup.secret,
        **PUBLIC,
    }
    log_path = logs / f"{kind}-{which}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            server_command(kind, which, port, sockets), env=env, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while True:
                try:
                    hub_state(port)
                    break
                except (OSError, RuntimeError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        tail = log_path.read_text()[-3000:]
                        raise RuntimeError(f"{kind} {which} did not start:\n{tail}") from None
                    time.sleep(0.2)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- clients ----------------------------------------------------------------------


class Client:
    """One page's websocket, spoken with wsproto over asyncio; notes when messages arrive."""

    def __init__(self, persona: Persona, deflate: bool):
        """A closed socket for this persona; `expects` says whether an event reaches it."""
        self.persona = persona
        self.deflate = deflate
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.arrivals: list[tuple[float, str]] = []
        self.partial = ""
        self.expects = True
        self.writer: asyncio.StreamWriter | None = None
        self.task: asyncio.Task | None = None

    async def open(self, port: int) -> None:
        """Handshake as a same-site page, then send the watch message."""
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.opened = asyncio.get_running_loop().create_future()
        host = f"127.0.0.1:{port}"
        handshake = Request(
            host=host,
            target="/ws",
            extra_headers=[
                ("Origin", f"http://{host}"),
                ("Cookie", f"session={self.persona.cookie}"),
            ],
            extensions=[PerMessageDeflate()] if self.deflate else [],
        )
        self.writer.write(self.ws.send(handshake))
        self.task = asyncio.create_task(self._read())
        await asyncio.wait_for(self.opened, CONNECT_TIMEOUT)
        self.writer.write(self.ws.send(TextMessage(self.persona.watch)))

    async def _read(self) -> None:
        """Feed what arrives to wsproto, stamping each read with the time it came."""
        try:
            while data := await self.reader.read(65536):
                now = time.perf_counter()
                self.ws.receive_data(data)
                for event in self.ws.events():
                    self._on(event, now)
        except OSError:
            pass
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))

    def _on(self, event, now: float) -> None:
        """One protocol event: the handshake's answer, a message, a ping or a close."""
        if isinstance(event, AcceptConnection):
            self.opened.set_result(None)
        elif isinstance(event, RejectConnection):
            self.opened.set_exception(ConnectionError(f"refused with {event.status_code}"))
        elif isinstance(event, TextMessage):
            self.partial += event.data
            if event.message_finished:
                self.arrivals.append((now, self.partial))
                self.partial = ""
        elif isinstance(event, (Ping, CloseConnection)):
            self.writer.write(self.ws.send(event.response()))

    async def close(self) -> None:
        """Close as a leaving page does."""
        if self.writer is None:
            return
        if self.ws.state is ConnectionState.OPEN:
            self.writer.write(self.ws.send(CloseConnection(code=1000)))
        self.writer.close()
        self.task.cancel()


# --- measuring --------------------------------------------------------------------


@dataclass
class Round:
    """One event: who got their message when, and what the server did for it."""

    latencies: list[float]  # seconds from the trigger, one per expecting socket reached
    expected: int
    extra: int  # messages beyond one per expecting socket (including to sockets expecting none)
    renders: int
    answered: float  # seconds until the triggering request was answered
    largest: str


@dataclass
class Run:
    """The portal or a floor, measured with one server kind."""

    sockets: int
    refused: int
    audiences: int = 0  # distinct audiences among the sockets (the portal only)
    rss: tuple[int, int, int] = (0, 0, 0)  # KiB: no sockets, sockets idle, after the rounds
    rounds: list[Round] = field(default_factory=list)

    def median(self, of: Callable[[Round], float]) -> float:
        """The median over the timed rounds of a figure of each."""
        return statistics.median(of(r) for r in self.rounds)

    @property
    def p50(self) -> float:
        """Median over rounds of each round's p50."""
        return self.median(lambda r: percentile(r.latencies, 0.50))

    @property
    def p99(self) -> float:
        """Median over rounds of each round's p99."""
        return self.median(lambda r: percentile(r.latencies, 0.99))

    @property
    def worst(self) -> float:
        """The latest message of any round."""
        return max(percentile(r.latencies, 1.0) for r in self.rounds)

    @property
    def received(self) -> str:
        """Messages received out of those expected, over all rounds."""
        got = sum(len(r.latencies) for r in self.rounds)
        return f"{got}/{sum(r.expected for r in self.rounds)}"

    @property
    def renders(self) -> set[int]:
        """The distinct numbers of renders per event."""
        return {r.renders for r in self.rounds}

    def kib_per_socket(self, when: int) -> float:
        """Resident memory per socket: when=1 with sockets idle, 2 after the rounds."""
        return (self.rss[when] - self.rss[0]) / max(1, self.sockets)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def wait_watching(port: int, count: int) -> None:
    """Until the server holds `count` sockets that said what they watch, then a settle."""
    deadline = time.monotonic() + READY_TIMEOUT
    while (await asyncio.to_thread(hub_state, port))["watching"] < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {count} sockets watching after {READY_TIMEOUT:.0f} s")
        await asyncio.sleep(0.2)
    await asyncio.sleep(SETTLE)


async def one_round(port: int, clients: list[Client], trigger: Awaitable[None]) -> Round:
    """Trigger one event and wait for every expecting socket's message (or the timeout)."""
    marks = [len(c.arrivals) for c in clients]
    expecting = [i for i, c in enumerate(clients) if c.expects]
    before = (await asyncio.to_thread(hub_state, port))["renders"]
    started = time.perf_counter()
    await trigger
    answered = time.perf_counter() - started
    deadline = started + ROUND_TIMEOUT
    while time.perf_counter() < deadline and any(
        len(clients[i].arrivals) == marks[i] for i in expecting
    ):
        await asyncio.sleep(0.005)
    await asyncio.sleep(QUIET)
    after = (await asyncio.to_thread(hub_state, port))["renders"]
    new = [c.arrivals[m:] for c, m in zip(clients, marks, strict=True)]
    latencies = [new[i][0][0] - started for i in expecting if new[i]]
    return Round(
        latencies=latencies,
        expected=len(expecting),
        extra=sum(len(n) for n in new) - len(latencies),
        renders=after - before,
        answered=answered,
        largest=max((text for n in new for _, text in n), key=len, default=""),
    )


async def open_sockets(port: int, which: str, setup: Setup, args) -> list[Client]:
    """Open the sockets, a few handshakes at a time; the ones open, once they all watch."""
    personas = setup.personas
    clients = [Client(personas[i % len(personas)], args.deflate) for i in range(args.sockets)]
    for client in clients:  # the floor sends to every socket
        client.expects = which == "floor" or bool(client.persona.audiences)
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

    async def connect(client: Client) -> bool:
        """Open one socket; False if the server refused it or did not answer."""
        async with gate:
            try:
                await client.open(port)
                return True
            except (OSError, ConnectionError, TimeoutError):
                await client.close()
                return False

    opened = await asyncio.gather(*(connect(c) for c in clients))
    clients = [c for c, ok in zip(clients, opened, strict=True) if ok]
    await wait_watching(port, len(clients))
    return clients


async def compare(
    kind: str, setup: Setup, args, ports: dict[str, int], change_stock: Callable[[], Awaitable]
) -> dict[str, Run]:
    """Portal and floor sockets open at once, their events interleaved round by round.

    So a machine busy with other work slows all alike. The floors send the
    largest fragment the portal sent in the round just before.
    """
    pids = {w: (await asyncio.to_thread(hub_state, port))["pid"] for w, port in ports.items()}
    base = {w: rss_kib(pid) for w, pid in pids.items()}
    clients = {}
    for which, port in ports.items():
        clients[which] = await open_sockets(port, which, setup, args)
    idle = {w: rss_kib(pid) for w, pid in pids.items()}
    served = {which: "portal" if which == "portal" else "floor" for which in MEASURED}
    audiences = set().union(*(c.persona.audiences for c in clients["portal"]))
    runs = {
        which: Run(len(clients[server]), args.sockets - len(clients[server]))
        for which, server in served.items()
    }
    runs["portal"].audiences = len(audiences)
    message = "x" * 1024
    for number in range(-WARMUP, args.rounds):
        for which, server in served.items():
            if which == "portal":
                trigger = change_stock()
            else:
                trigger = asyncio.to_thread(send_floor, ports[server], message, which)
            result = await one_round(ports[server], clients[server], trigger)
            if which == "portal":
                message = result.largest or message
            if number >= 0:
                runs[which].rounds.append(result)
            print(
                f"  {kind:<8} {which:<10} {f'round {number + 1}' if number >= 0 else 'warm-up'}: "
                f"{len(result.latencies)}/{result.expected} messages, "
                f"p50 {ms(percentile(result.latencies, 0.5))}, "
                f"p99 {ms(percentile(result.latencies, 0.99))}, "
                f"max {ms(percentile(result.latencies, 1.0))} ms, "
                f"trigger answered in {ms(result.answered)} ms, "
                f"{result.extra} extra, {result.renders} renders",
                flush=True,
            )
    after = {w: rss_kib(pid) for w, pid in pids.items()}
    for which, server in served.items():
        runs[which].rss = (base[server], idle[server], after[server])
    await asyncio.gather(*(c.close() for group in clients.values() for c in group))
    return runs


def warehouse_form(port: int, setup: Setup) -> tuple[str, str]:
    """The warehouse's session cookie and CSRF token, as its stock page gives them."""
    status, html, cookie = fetch(port, "GET", "/office/stock", cookie=setup.warehouse_cookie)
    match = CSRF.search(html)
    if status != 200 or not match:
        raise RuntimeError(f"/office/stock as the warehouse answered {status} without a token")
    return cookie or setup.warehouse_cookie, match.group(1)


def adjust_stock(port: int, setup: Setup, form: tuple[str, str], level: int) -> None:
    """The event: the warehouse sets the product's stock through the back office."""
    cookie, token = form
    status, _, _ = fetch(
        port,
        "POST",
        f"/office/stock/{setup.product_id}",
        cookie=cookie,
        body=urlencode({"counted": level, "reason": "fan-out benchmark"}).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-CSRFToken": token,
            "HX-Request": "true",
        },
    )
    if status != 200:
        raise RuntimeError(f"the stock adjustment answered {status}")


def send_floor(port: int, message: str, which: str) -> None:
    """The floor's event: one precomputed message for every socket."""
    path = "/__bench/send?loop=1" if which == "floor-loop" else "/__bench/send"
    status, _, _ = fetch(port, "POST", path, body=message.encode())
    if status != 200:
        raise RuntimeError(f"the floor's send answered {status}")


def measure(kind: str, setup: Setup, args, levels: Iterator[int], logs: Path) -> dict[str, Run]:
    """Serve the portal and the floor with this server kind, and compare them."""
    with (
        serving(kind, "portal", setup, args.sockets, logs) as portal,
        serving(kind, "floor", setup, args.sockets, logs) as floor,
    ):
        form = warehouse_form(portal, setup)  # also warms the portal up

        def change_stock() -> Awaitable[None]:
            """The portal's event, to await once the clock runs."""
            return asyncio.to_thread(adjust_stock, portal, setup, form, next(levels))

        ports = {"portal": portal, "floor": floor}
        return asyncio.run(compare(kind, setup, args, ports, change_stock))


# --- report -----------------------------------------------------------------------


def ms(seconds: float) -> str:
    """Seconds as milliseconds for the table."""
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def print_tables(results: dict[str, dict[str, Run]]) -> None:
    """Latency per server kind and what was measured; renders and memory per server kind."""
    print()
    print(
        f"{'server':<9}{'measured':<27}{'sockets':>8}{'received':>12}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'portal p99 / this':>19}"
    )
    for kind, runs in results.items():
        for which, run in runs.items():
            ratio = "" if which == "portal" else f"{runs['portal'].p99 / run.p99:.2f}"
            print(
                f"{kind:<9}{MEASURED[which]:<27}{run.sockets:>8}{run.received:>12}"
                f"{ms(run.p50):>9}{ms(run.p99):>9}{ms(run.worst):>9}{ratio:>19}"
            )
    print()
    print(
        f"{'server':<9}{'renders/event':>14}{'audiences':>10}{'equal':>6}{'largest B':>10}"
        f"{'portal RSS MiB':>16}{'KiB/socket idle':>17}{'after':>7}"
        f"{'floor RSS MiB':>15}{'KiB/socket idle':>17}{'after':>7}"
    )
    for kind, runs in results.items():
        portal, floor = runs["portal"], runs["floor"]
        renders = "/".join(str(n) for n in sorted(portal.renders))
        equal = "yes" if portal.renders == {portal.audiences} else "NO"
        largest = max(len(r.largest.encode()) for r in portal.rounds)
        print(
            f"{kind:<9}{renders:>14}{portal.audiences:>10}{equal:>6}{largest:>10}"
            f"{portal.rss[0] / 1024:>16.1f}{portal.kib_per_socket(1):>17.1f}"
            f"{portal.kib_per_socket(2):>7.1f}{floor.rss[0] / 1024:>15.1f}"
            f"{floor.kib_per_socket(1):>17.1f}{floor.kib_per_socket(2):>7.1f}"
        )
    for kind, runs in results.items():
        for which, run in runs.items():
            extra = sum(r.extra for r in run.rounds)
            if run.refused or extra:
                print(f"note: {kind} {which}: {run.refused} refused, {extra} extra messages")


def print_targets(results: dict[str, dict[str, Run]], sockets: int, load: float) -> None:
    """The issue's targets, met or not, and the worker class to choose."""
    print()
    scale = "" if sockets >= TARGET_SOCKETS else f" (measured at {sockets}: indicative only)"
    if load > (os.cpu_count() or 1):
        print(f"note: load average {load:.1f} at the start: other work shared the CPU (noisy)")
    print(f"targets at {TARGET_SOCKETS:,} sockets on this {os.cpu_count()}-core machine{scale}:")
    for kind, runs in results.items():
        portal = runs["portal"]
        verdicts = [
            f"p99 ≤ {FLOOR_RATIO:g}× {floor}: {met(portal.p99 <= FLOOR_RATIO * runs[floor].p99)}"
            for floor in ("floor", "floor-loop")
        ]
        verdicts.append(f"p99 ≤ {P99_LIMIT * 1000:.0f} ms: {met(portal.p99 <= P99_LIMIT)}")
        verdicts.append(f"renders = audiences: {met(portal.renders == {portal.audiences})}")
        print(f"  {kind:<8} " + "; ".join(verdicts))
    workers = {k: runs["portal"] for k, runs in results.items() if k != "werkzeug"}
    if not workers:
        print("recommendation: run with --server gthread gevent to choose a worker class")
        return
    fast = {k: r for k, r in workers.items() if r.p99 <= P99_LIMIT} or workers
    best = min(fast, key=lambda k: (fast[k].kib_per_socket(2), fast[k].p99))
    figures = "; ".join(
        f"{k} {r.kib_per_socket(2):.0f} KiB/socket, p99 {ms(r.p99)} ms" for k, r in workers.items()
    )
    print(
        f"recommendation: --worker-class {best}, the least memory per socket among "
        f"the worker classes within the latency target ({figures})"
    )


def met(ok: bool) -> str:
    """A target's verdict."""
    return "met" if ok else "NOT met"


# --- main -------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    """Command-line options; --smoke picks a small, fast run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, help=f"open sockets (default {TARGET_SOCKETS})")
    parser.add_argument("--rounds", type=int, help=f"stock changes timed (default {ROUNDS})")
    parser.add_argument(
        "--server",
        nargs="+",
        choices=KINDS,
        default=["werkzeug"],
        help="werkzeug's threaded server, and/or gunicorn with the gthread or gevent worker",
    )
    add_database_url(parser)
    parser.add_argument(
        "--no-deflate",
        dest="deflate",
        action="store_false",
        help="clients do not offer permessage-deflate (browsers do)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help=f"{SMOKE_SOCKETS} sockets, {SMOKE_ROUNDS} rounds"
    )
    parser.add_argument("--serve", choices=("portal", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.sockets = args.sockets or (SMOKE_SOCKETS if args.smoke else TARGET_SOCKETS)
    args.rounds = args.rounds or (SMOKE_ROUNDS if args.smoke else ROUNDS)
    return args


def raise_file_limit(sockets: int) -> None:
    """Enough open files for the clients here and the server (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 16
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < 4 * sockets + 256:
        print(f"warning: {wanted} open files may be too few for {sockets} sockets")


def main() -> None:
    """Entry point: the benchmark, or (internally) one server under test."""
    args = parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    # SQLite stores NUMERIC through float at the column's scale, exact for our scales.
    warnings.filterwarnings("ignore", message="Dialect sqlite\\+pysqlite does \\*not\\* support")
    raise_file_limit(args.sockets)
    os.environ.pop("REDIS_URL", None)  # the default deployment: the in-process bus
    kinds = []
    for kind in args.server:
        if absent := missing(kind):
            print(f"{kind}: skipped: {absent} not installed (pip install gunicorn gevent)")
        else:
            kinds.append(kind)
    if not kinds:
        return
    load = os.getloadavg()[0]  # before this benchmark adds its own
    with (
        database(args.database_url, "portal-fanout-") as url,
        tempfile.TemporaryDirectory() as logs,
    ):
        started = time.perf_counter()
        setup = prepare(url)
        levels = itertools.count(setup.stock + 1)  # every change differs from the last
        groups = sorted({a for p in setup.personas for a in p.audiences if a[0] == "offer"})
        print(
            f"\nFan-out benchmark · {make_url(url).get_backend_name()} · {args.sockets} sockets "
            f"over {len(setup.personas)} sessions ({len(groups)} customer groups and staff) · "
            f"{SKU} (product {setup.product_id}) · {args.rounds} rounds · clients "
            f"{'offer' if args.deflate else 'do not offer'} permessage-deflate · "
            f"setup {time.perf_counter() - started:.1f} s · load average {load:.1f}",
            flush=True,
        )
        results = {kind: measure(kind, setup, args, levels, Path(logs)) for kind in kinds}
    print_tables(results)
    print_targets(results, args.sockets, load)


if __name__ == "__main__":
    main()
