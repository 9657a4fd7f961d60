"""Load benchmark: the production setup under a closed-loop mixed workload, against floors.

Builds a MariaDB database (`portal_load_bench` by default) with the demo and --products
products (group prices, promotions), a server-side session for every virtual user, and
serves the portal the production way in its own process: `gunicorn --worker-class gevent
--workers 2 --worker-connections 2000 --reuse-port 'app:create_app()'` with PORTAL_ENV=production,
MariaDB and Redis (--redis-url, default db 13, a channel of the run's own). Then
--users virtual users at a time (10, 50, 200 and 500 by default), each its own session
and keep-alive connection, issue their next request as soon as the last one answered:

- customers of every group and role browse the catalogue (page 1, other pages,
  categories, sorts), search (a broad word, a SKU fragment) and open product pages;
  every page view opens the page's websocket (/ws, with the watch message the page's
  script sends) and holds it until that user's next page view; decision-makers now and
  then add to the cart and check out (CSRF token from the page, as htmx sends it), and
  open the order; requesters add to their cart;
- staff (every tenth user) work lists: orders, products, customers, and open an order.

Floors in the same run, served by a second gunicorn with the same command and worker
count, at 10 and 50 users with the same client: (a) a static file, (b) the real catalogue
page template rendered from a context captured once from a real signed-in page 1 (no
database work per request; the statements it sends are counted and printed).

Prints per level: requests, req/s, p50/p95/p99 of served requests (answers below 500),
5xx split into 500, 503 and other, the 503 share, websockets open, throughput ÷ floor (b)
at 50 users, p50 ÷ floor (b) p50, the answer mix per URL kind, CPU seconds of this client
against the server's workers (and MariaDB's, shared with anything else on the machine),
the load average, and the working tree's `git diff --stat`. Never fails on a time; exits
non-zero only if the benchmark itself broke.

    .venv/bin/python bench/load.py --smoke
    .venv/bin/python bench/load.py
    .venv/bin/python bench/load.py --users 200 --seconds 60 --products 100000
    .venv/bin/python bench/load.py --database-url mysql+pymysql://root@127.0.0.1/portal_load_x
    .venv/bin/python bench/load.py --driver mysqldb          # the C driver ('.[mysql]' extra)
    ADMISSION_LIMIT=4 .venv/bin/python bench/load.py --users 50 500   # the server's own settings

The portal server inherits this process's environment (ADMISSION_*, DB_POOL_SIZE, ...).

The client is asyncio with h11 (raw HTTP/1.1 keep-alive) and wsproto (websockets, offering
permessage-deflate as browsers do; --no-deflate: not), in this one process.
"""

import argparse
import asyncio
import json
import math
import os
import random
import re
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import h11
from common import database, free_port
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate

DEFAULT_URL = "mysql+pymysql://root@127.0.0.1/portal_load_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
LEVELS = (10, 50, 200, 500)
SMOKE_LEVELS = (10, 50)
FLOOR_LEVELS = (10, 50)
SECONDS, SMOKE_SECONDS = 30.0, 1.5
WARMUP, SMOKE_WARMUP = 5.0, 0.3
PRODUCTS, SMOKE_PRODUCTS = 20_000, 2_000
PROMOTIONS = 500
WORKERS = 2
# Below this share of its workers' time on CPU, floor (b) did not use every worker (seen:
# 25.6 CPU-s in a level of about 26 s when one gevent worker held most connections, 48.6
# when both shared them).
FLOOR_BUSY = 0.8
WORKER_CONNECTIONS = 2000
REQUEST_TIMEOUT = 60.0
DRAIN_TIMEOUT = 90.0  # after a level: in-flight requests may still wait in a queue
READY_TIMEOUT = 90.0
STAFF_EVERY = 10  # every tenth virtual user is staff
BUY_EVERY = 8  # a decision-maker buys after about one page view in this many
BUYABLE = 40  # products with plenty of stock that buyers order
BROAD_WORD = "resistor"
FLOOR_PERSON = "orders@acme.test"
STATIC_PATH = "/static/css/portal.css"
FLOOR_PATH = "/__bench/floor"
FLOOR_STATS = "/__bench/floor-stats"
STAFF = ("manager@portal.test", "anna.sales@portal.test", "marco.sales@portal.test")
BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# Production wants a public https address and answers only its host: here, this machine.
PUBLIC = {"PORTAL_URL": "https://127.0.0.1", "TRUSTED_HOSTS": "127.0.0.1"}
FIVE_YEARS = 5 * 365 * 24  # hours: a bench session never ends mid-run
CSRF = re.compile(rb'"X-CSRFToken": "([^"]+)"')
LIVE_TAG = re.compile(rb"<[^>]*\bdata-live\b[^>]*>")
TAG_ID = re.compile(rb'\bid="([^"]+)"')
PAGE_NAME = re.compile(rb'<body[^>]*\bdata-page="([^"]*)"')
RENDERED = re.compile(rb'<body[^>]*\bdata-rendered="([^"]*)"')  # as portal.js sends it
ORDER_LINK = re.compile(rb'href="/office/orders/(\d+)"')
EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception|Timeout)\b.*)$", re.M)
CHECKOUT_FORM = re.compile(rb'<form[^>]*action="/shop/cart/checkout".*?</form>', re.S)
ADDRESSES = re.compile(rb'<select[^>]*name="delivery_address"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(rb'<option value="(\d+)"( selected)?')
METHOD = re.compile(rb'<input type="radio" name="shipping_method" value="(\d+)"( checked)?')
KINDS = (
    "page 1",
    "other page",
    "category",
    "sort",
    "search word",
    "search SKU",
    "product",
    "cart add",
    "cart",
    "checkout",
    "order page",
    "office orders",
    "office products",
    "office customers",
    "office order",
    "static (a)",
    "template (b)",
)


# --- the floor server (runs in gunicorn: `load:floor_app()`) ---------------------------


def floor_app():
    """The portal app plus a page rendering the catalogue template from memory.

    The context is captured once, from a real signed-in render of page 1 as
    FLOOR_PERSON (LOAD_FLOOR_TOKEN), with every object detached from the database
    session; each floor request renders the same template with it, the person set
    without loading a session. /__bench/floor-stats says how many SQL statements this
    worker sent while serving floor pages (0: no database work).
    """
    from flask import g, request, template_rendered
    from flask_babel import get_timezone
    from sqlalchemy import event

    from app import create_app
    from blueprints.common import render
    from extensions import db

    app = create_app()
    captured: dict = {}
    counts = Counter()
    seen = Counter()  # the statements a floor page sent, if any

    def person_first():
        """Before any other hook: the floor's person, without a session lookup."""
        if request.endpoint == "bench_floor":
            g._login_user = captured["user"]
            g.i18n_zone = captured["zone"]  # else the seller's zone is read from settings
            g.bench_floor = True

    app.before_request_funcs.setdefault(None, []).insert(0, person_first)

    @app.get(FLOOR_PATH, endpoint="bench_floor")
    def bench_floor():
        counts["requests"] += 1
        return render(captured["page"], captured["fragment"], **captured["context"])

    @app.get(FLOOR_STATS, endpoint="bench_floor_stats")
    def bench_floor_stats():
        return {"pid": os.getpid(), **counts, "seen": seen.most_common(3)}

    def counted(conn, cursor, statement, parameters, context, executemany):
        if g and g.get("bench_floor"):
            counts["statements"] += 1
            seen[" ".join(statement.split())[:120]] += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", counted)

    with app.test_request_context(base_url=PUBLIC["PORTAL_URL"]):
        given: dict = {}
        app.update_template_context(given)  # what context processors add by themselves
    own = set(given)

    def keep(sender, template, context, **extra):
        if template.name == "shop/catalog/index.html" and not captured:
            db.session.expunge_all()  # detached, with everything the page read loaded
            captured["user"] = context["current_user"]
            captured["zone"] = str(get_timezone())
            captured["context"] = {k: v for k, v in context.items() if k not in own}

    signer = app.session_interface.get_signing_serializer(app)
    cookie = signer.dumps({"_user_id": os.environ["LOAD_FLOOR_TOKEN"], "_fresh": True})
    with template_rendered.connected_to(keep, app):
        client = app.test_client()
        client.set_cookie("session", cookie, domain="127.0.0.1")
        answer = client.get("/shop/", base_url=PUBLIC["PORTAL_URL"])
    if answer.status_code != 200 or not captured:
        where = answer.headers.get("Location", "")
        raise RuntimeError(f"the floor's capture of /shop/ answered {answer.status_code} {where}")
    captured["page"], captured["fragment"] = "shop/catalog/index.html", "shop/catalog/_results.html"
    return app


# --- setup ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    """A virtual user's person: what they may do, and their own session's cookie."""

    email: str
    role: str  # "staff", "buyer" (decision-maker), "requester", "browser"
    cookie: str


@dataclass
class Setup:
    """The prepared database and everything the virtual users draw their requests from."""

    url: str
    secret: str
    personas: list[Persona]
    floor_token: str
    floor_cookie: str
    products: list[int]
    buyable: list[int]
    categories: list[str]
    pages: int
    generated: int
    facts: dict = field(default_factory=dict)


def prepare(url: str, args) -> Setup:
    """Migrations, demo data, a grown catalogue, and a session per virtual user."""
    from catalog import add_promotions, analyze_if_mariadb, grow_catalogue
    from flask_migrate import upgrade

    import demo
    from app import create_app
    from core import sessions
    from core.models import Category, Product, User
    from extensions import db

    secret = secrets.token_urlsafe(32)
    app = create_app(
        {"PORTAL_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": secret, **PUBLIC}
    )
    signer = app.session_interface.get_signing_serializer(app)
    rng = random.Random(20260515)
    with app.app_context():
        upgrade()
        demo.load()
        generated = grow_catalogue(args.products, rng)
        add_promotions(min(PROMOTIONS, max(10, args.products // 40)), rng)
        analyze_if_mariadb()
        people = {u.email: u for u in db.session.scalars(select(User))}
        customers = sorted(
            (u for u in people.values() if u.kind == "customer" and u.status == "active"),
            key=lambda u: (u.company_id, u.email),
        )
        personas, cookie = [], None
        max_users = max(args.users)
        for i in range(max_users):
            if i % STAFF_EVERY == STAFF_EVERY - 1:
                user = people[STAFF[(i // STAFF_EVERY) % len(STAFF)]]
                role = "staff"
            else:
                user = customers[i % len(customers)]
                role = {"orders": "buyer", "request": "requester"}.get(
                    user.email.split("@")[0], "browser"
                )
            token = f"load-{i}-{secrets.token_hex(8)}"
            sessions.grant_session(user, token, hours=FIVE_YEARS, ip="127.0.0.1", user_agent="load")
            cookie = signer.dumps({"_user_id": token, "_fresh": True})
            personas.append(Persona(user.email, role, cookie))
        floor_token = f"load-floor-{secrets.token_hex(8)}"
        sessions.grant_session(
            people[FLOOR_PERSON], floor_token, hours=FIVE_YEARS, ip="127.0.0.1", user_agent="load"
        )
        products = list(db.session.scalars(select(Product.id).where(Product.sold())))
        buyable = rng.sample(products, min(BUYABLE, len(products)))
        db.session.execute(update(Product).where(Product.id.in_(buyable)).values(stock=10**8))
        db.session.commit()
        categories = list(db.session.scalars(select(Category.slug)))
        setup = Setup(
            url=url,
            secret=secret,
            personas=personas,
            floor_token=floor_token,
            floor_cookie=signer.dumps({"_user_id": floor_token, "_fresh": True}),
            products=products,
            buyable=buyable,
            categories=categories,
            pages=max(1, math.ceil(len(products) / app.config["CATALOG_PAGE_SIZE"])),
            generated=generated,
        )
        db.session.remove()
        db.engine.dispose()
    return setup


# --- serving ------------------------------------------------------------------------------


def gunicorn_command(port: int, target: str, extra: list[str]) -> list[str]:
    """The production command (README), on a port of the bench's own."""
    from gunicorn.config import KNOWN_SETTINGS

    command = [
        *(sys.executable, "-m", "gunicorn", "--worker-class", "gevent"),
        *("--workers", str(WORKERS), "--worker-connections", str(WORKER_CONNECTIONS)),
        # Each worker listens on a socket of its own (SO_REUSEPORT, gunicorn 24+), and the
        # kernel spreads new connections over them. On one shared socket, keep-alive
        # connections opened at once fell mostly on one worker in two runs of three.
        "--reuse-port",
        *("--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--graceful-timeout", "5"),
        *extra,
    ]
    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        command.append("--no-control-socket")  # gunicorn 24+ would make one under ~/.gunicorn
    return [*command, target]


def plain_get(port: int, path: str, cookie: str | None = None) -> tuple[int, bytes]:
    """One GET on a fresh connection (readiness checks, sizes): status and body."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": f"session={cookie}"} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextmanager
def serving(name: str, target: str, env: dict, ready: str, logs: Path, extra=()) -> Iterator:
    """A gunicorn of its own; yields (port, master pid) once `ready` answers 200."""
    port = free_port()
    log_path = logs / f"{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            gunicorn_command(port, target, list(extra)),
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while True:
                try:
                    if plain_get(port, ready)[0] == 200:
                        break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text()[-3000:]
                    raise RuntimeError(f"{name} did not start:\n{tail}")
                time.sleep(0.3)
            yield port, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- CPU accounting -------------------------------------------------------------------


TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def tree_cpu(master: int) -> tuple[float, set[int]]:
    """CPU seconds of a gunicorn master, its live workers and its reaped ones; the workers."""
    fields = _stat(master)
    if fields is None:
        return 0.0, set()
    # utime, stime, cutime, cstime are fields 14-17 (1-based): indexes 11-14 here.
    total = sum(int(x) for x in fields[11:15])
    workers = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        child = _stat(int(entry.name))
        if child is not None and int(child[1]) == master:
            workers.add(int(entry.name))
            total += int(child[11]) + int(child[12])
    return total / TICK, workers


def named_cpu(names: tuple[str, ...]) -> float:
    """CPU seconds of every process with one of these command names (MariaDB, Redis)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if Path(f"/proc/{entry.name}/comm").read_text().strip() not in names:
                continue
        except OSError:
            continue
        fields = _stat(int(entry.name))
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total / TICK


DATABASE_NAMES = ("mariadbd", "mysqld")


# --- the client ------------------------------------------------------------------------


class Closed(Exception):
    """The server closed a keep-alive connection before answering."""


class Http:
    """One virtual user's keep-alive HTTP/1.1 connection, spoken with h11 over asyncio."""

    def __init__(self, port: int):
        self.port = port
        self.host = f"127.0.0.1:{port}".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.conn: h11.Connection | None = None

    async def _connect(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.conn = h11.Connection(h11.CLIENT)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = self.conn = None

    async def request(self, method: str, target: str, headers: list, body: bytes = b""):
        """(status, headers, body); a keep-alive connection the server dropped is retried once."""
        for attempt in (0, 1):
            reused = self.conn is not None
            if not reused:
                await self._connect()
            try:
                return await self._exchange(method, target, headers, body)
            except (Closed, ConnectionError, h11.RemoteProtocolError):
                self.close()
                if not reused or attempt:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, method, target, headers, body):
        conn = self.conn
        sent = [(b"Host", self.host), *headers]
        if method == "POST":
            sent.append((b"Content-Length", str(len(body)).encode()))
        data = conn.send(h11.Request(method=method, target=target, headers=sent))
        if body:
            data += conn.send(h11.Data(data=body))
        data += conn.send(h11.EndOfMessage())
        self.writer.write(data)
        status, answer, chunks = None, [], []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                chunk = await self.reader.read(262144)
                if not chunk and status is None:
                    raise Closed()
                conn.receive_data(chunk)
            elif isinstance(event, h11.Response):
                status, answer = event.status_code, event.headers
            elif isinstance(event, h11.Data):
                chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise Closed()
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        else:
            self.close()
        return status, answer, b"".join(chunks)


class Socket:
    """A page's websocket (wsproto over asyncio), held until the next page view."""

    def __init__(self, deflate: bool):
        self.deflate = deflate
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.writer: asyncio.StreamWriter | None = None
        self.task: asyncio.Task | None = None
        self.open = False
        self.messages = 0
        self.closed_by_server: int | None = None
        self.error = ""

    async def connect(self, port: int, cookie: str, watch: str) -> int:
        """Handshake as a same-site page, then say what it watches; 101, or the refusal."""
        reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        opened = asyncio.get_running_loop().create_future()
        host = f"127.0.0.1:{port}"
        handshake = Request(
            host=host,
            target="/ws",
            extra_headers=[("Origin", f"http://{host}"), ("Cookie", f"session={cookie}")],
            extensions=[PerMessageDeflate()] if self.deflate else [],
        )
        self.writer.write(self.ws.send(handshake))
        self.task = asyncio.create_task(self._read(reader, opened))
        status = await asyncio.wait_for(opened, REQUEST_TIMEOUT)
        if status == 101:
            self.open = True
            self.writer.write(self.ws.send(TextMessage(watch)))
        return status

    async def _read(self, reader, opened) -> None:
        try:
            while data := await reader.read(65536):
                self.ws.receive_data(data)
                for event in self.ws.events():
                    if isinstance(event, AcceptConnection):
                        opened.set_result(101)
                    elif isinstance(event, RejectConnection):
                        opened.set_result(event.status_code)
                    elif isinstance(event, Message) and event.message_finished:
                        self.messages += 1
                    elif isinstance(event, Ping):
                        self.writer.write(self.ws.send(event.response()))
                    elif isinstance(event, CloseConnection):
                        self.closed_by_server = event.code
                        with suppress(Exception):
                            self.writer.write(self.ws.send(event.response()))
                        self.open = False
            if self.open and self.closed_by_server is None:
                self.error = "closed without a close frame"
        except Exception as exc:  # a broken peer ends the socket, never the user
            self.error = type(exc).__name__
        self.open = False
        if not opened.done():
            opened.set_result(0)

    def close(self) -> None:
        """Leave the page."""
        if self.writer is None:
            return
        if self.ws.state is ConnectionState.OPEN:
            with suppress(Exception):
                self.writer.write(self.ws.send(CloseConnection(code=1001)))
        self.writer.close()
        if self.task is not None:
            self.task.cancel()
        self.open = False


@dataclass
class Level:
    """One run of the workload (or a floor) at a number of users."""

    name: str
    users: int
    window: tuple[float, float] = (0.0, 0.0)
    records: list = field(default_factory=list)  # (done at, kind, status, seconds)
    ws: list = field(default_factory=list)  # (done at, status, seconds)
    sockets: list = field(default_factory=list)
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    database_cpu: float = 0.0
    load: tuple = ()
    orders: int = 0
    restarts: int = 0
    open_at_end: int = 0

    def timed(self, kinds=None):
        start, end = self.window
        return [
            r for r in self.records if start <= r[0] <= end and (kinds is None or r[1] in kinds)
        ]

    @property
    def seconds(self) -> float:
        return self.window[1] - self.window[0]


class User:
    """A virtual user: its persona, its own connection and cookie, and its next request."""

    def __init__(self, index: int, persona: Persona, setup: Setup, port: int, args, cookies):
        self.persona = persona
        self.setup = setup
        self.port = port
        self.args = args
        self.cookies = cookies  # index -> cookie, kept across levels (CSRF lives in it)
        self.index = index
        self.rng = random.Random(index * 7919 + 1)
        self.http = Http(port)
        self.socket: Socket | None = None
        self.csrf: bytes | None = None
        self.order_ids: list[int] = []

    @property
    def cookie(self) -> str:
        return self.cookies.get(self.index, self.persona.cookie)

    async def call(self, level: Level, kind: str, method: str, path: str, *, body=b"", htmx=False):
        """One request, recorded; (status, headers, body) or None when it got no answer."""
        headers = [(b"Cookie", f"session={self.cookie}".encode())]
        if method == "POST":
            headers.append((b"Content-Type", b"application/x-www-form-urlencoded"))
            headers.append((b"X-CSRFToken", self.csrf or b""))
        if htmx:
            headers.append((b"HX-Request", b"true"))
        started = time.perf_counter()
        try:
            status, answer, text = await asyncio.wait_for(
                self.http.request(method, path, headers, body), REQUEST_TIMEOUT
            )
        except TimeoutError:
            self.http.close()
            level.records.append((time.perf_counter(), kind, "timeout", REQUEST_TIMEOUT))
            return None
        except (OSError, Closed, h11.ProtocolError):
            self.http.close()
            level.records.append((time.perf_counter(), kind, "error", 0.0))
            return None
        done = time.perf_counter()
        level.records.append((done, kind, status, done - started))
        for name, value in answer:
            if name == b"set-cookie" and value.startswith(b"session="):
                jar = SimpleCookie()
                jar.load(value.decode())
                self.cookies[self.index] = jar["session"].value
        return status, answer, text

    async def page(self, level: Level, kind: str, path: str) -> bytes | None:
        """A page view: the page, then its websocket in place of the last page's."""
        answer = await self.call(level, kind, "GET", path)
        if answer is None or answer[0] != 200:
            return None
        text = answer[2]
        if match := CSRF.search(text):
            self.csrf = match.group(1)
        watched = sorted(
            {m.group(1).decode() for tag in LIVE_TAG.findall(text) if (m := TAG_ID.search(tag))}
        )
        name = PAGE_NAME.search(text)
        rendered = RENDERED.search(text)
        watch = json.dumps(
            {
                "watch": watched,
                "page": name.group(1).decode() if name else "",
                "mode": "load",
                "rendered": rendered.group(1).decode() if rendered else "",
            }
        )
        if self.socket is not None:
            self.socket.close()
        self.socket = Socket(self.args.deflate)
        level.sockets.append(self.socket)
        started = time.perf_counter()
        try:
            status = await self.socket.connect(self.port, self.cookie, watch)
        except (TimeoutError, OSError):
            status = "timeout"
        level.ws.append((time.perf_counter(), status, time.perf_counter() - started))
        return text

    def browse_target(self) -> tuple[str, str]:
        """A customer's next page: (kind, path)."""
        setup, rng = self.setup, self.rng
        roll = rng.random()
        if roll < 0.20:
            return "page 1", "/shop/"
        if roll < 0.30:
            page = rng.randint(2, min(10, setup.pages)) if rng.random() < 0.8 else None
            page = page or rng.randint(1, setup.pages)
            return "other page", f"/shop/?page={page}"
        if roll < 0.45:
            return "category", f"/shop/?category={rng.choice(setup.categories)}"
        if roll < 0.55:
            return "sort", f"/shop/?sort={rng.choice(('price', '-price', 'sku'))}"
        if roll < 0.65:
            return "search word", f"/shop/?q={BROAD_WORD}"
        if roll < 0.75:
            fragment = f"{rng.randint(1, max(1, setup.generated)):06d}"[:4]
            return "search SKU", f"/shop/?q=GEN-{fragment}"
        return "product", f"/shop/products/{rng.choice(setup.products)}"

    def office_target(self) -> tuple[str, str]:
        """A staff member's next page: (kind, path)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.35 or (roll >= 0.75 and not self.order_ids):
            return "office orders", "/office/orders"
        if roll < 0.60:
            q = f"?q={BROAD_WORD}" if rng.random() < 0.3 else ""
            return "office products", f"/office/products{q}"
        if roll < 0.75:
            return "office customers", "/office/customers"
        return "office order", f"/office/orders/{rng.choice(self.order_ids)}"

    async def buy(self, level: Level) -> None:
        """Add a product to the cart as htmx does; a decision-maker then checks out."""
        product = self.rng.choice(self.setup.buyable)
        body = urlencode({"product_id": product, "quantity": 1, "csrf_token": self.csrf})
        added = await self.call(
            level, "cart add", "POST", "/shop/cart/lines", body=body.encode(), htmx=True
        )
        if self.persona.role != "buyer" or added is None or added[0] != 200:
            return
        cart = await self.page(level, "cart", "/shop/cart")
        if cart is None:
            return
        body = urlencode(
            {
                **checkout_choices(cart),
                "customer_reference": f"LOAD-{self.index}",
                "csrf_token": self.csrf,
            }
        )
        answer = await self.call(
            level, "checkout", "POST", "/shop/cart/checkout", body=body.encode(), htmx=True
        )
        if answer is None:
            return
        target = dict(answer[1]).get(b"hx-redirect") or dict(answer[1]).get(b"location")
        if target and b"/shop/orders/" in target:
            level.orders += 1
            await self.page(level, "order page", target.decode())

    async def run(self, level: Level, stop: asyncio.Event) -> None:
        """Closed loop: the next request as soon as the last one answered."""
        try:
            while not stop.is_set():
                if self.persona.role == "staff":
                    kind, path = self.office_target()
                    text = await self.page(level, kind, path)
                    if text and kind == "office orders":
                        self.order_ids = [int(i) for i in ORDER_LINK.findall(text)][:50]
                    continue
                kind, path = self.browse_target()
                text = await self.page(level, kind, path)
                buys = self.persona.role in ("buyer", "requester")
                if text and buys and self.csrf and self.rng.randrange(BUY_EVERY) == 0:
                    await self.buy(level)
        finally:
            if self.socket is not None:
                self.socket.close()
            self.http.close()


def checkout_choices(cart: bytes) -> dict[str, str]:
    """The checkout form's fields as the cart page fills them (the chosen, else the first)."""
    form = CHECKOUT_FORM.search(cart)
    if form is None:
        return {}
    html = form.group(0)
    fields = {}
    if select := ADDRESSES.search(html):
        options = OPTION.findall(select.group(1))
        chosen = [value for value, selected in options if selected] or [v for v, _ in options]
        fields["delivery_address"] = chosen[0] if chosen else b""
    methods = METHOD.findall(html)
    chosen = [value for value, checked in methods if checked] or [v for v, _ in methods]
    if chosen:
        fields["shipping_method"] = chosen[0]
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in fields.items()}


class FloorUser(User):
    """The floors' user: the same client asking one path over and over."""

    def __init__(self, index, persona, setup, port, args, cookies, kind, path):
        super().__init__(index, persona, setup, port, args, cookies)
        self.kind, self.path = kind, path

    async def run(self, level: Level, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self.call(level, self.kind, "GET", self.path)
        finally:
            self.http.close()


async def drive(level: Level, users: list[User], warmup: float, seconds: float) -> None:
    """All users at once for warm-up + seconds; only answers inside the window count."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(u.run(level, stop)) for u in users]
    await asyncio.sleep(warmup)
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    level.window = (start, time.perf_counter())
    level.open_at_end = sum(1 for s in level.sockets if s.open)
    stop.set()
    done, pending = await asyncio.wait(tasks, timeout=DRAIN_TIMEOUT)
    for task in pending:
        task.cancel()
    for task in done:
        if task.exception() is not None:
            raise task.exception()


def measure(level: Level, users: list[User], master: int, args) -> Level:
    """Run a level; CPU of this client, the server's processes and MariaDB around it."""
    warmup, seconds = args.warmup, args.seconds
    cpu, (server, workers), database_cpu = (
        time.process_time(),
        tree_cpu(master),
        named_cpu(DATABASE_NAMES),
    )
    asyncio.run(drive(level, users, warmup, seconds))
    level.client_cpu = time.process_time() - cpu
    after, workers_after = tree_cpu(master)
    level.server_cpu = after - server
    level.database_cpu = named_cpu(DATABASE_NAMES) - database_cpu
    level.restarts = len(workers_after - workers)
    level.load = os.getloadavg()
    return level


# --- report ------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; nan for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.0f}"


def served(records) -> list[float]:
    """Seconds of the answers below 500."""
    return [r[3] for r in records if isinstance(r[2], int) and r[2] < 500]


def summary(level: Level) -> dict:
    """The figures of one level."""
    records = level.timed()
    times = served(records)
    statuses = Counter(r[2] for r in records)
    five = {s: n for s, n in statuses.items() if isinstance(s, int) and s >= 500}
    start, end = level.window
    ws = [w for w in level.ws if start <= w[0] <= end]
    return {
        "requests": len(records),
        "rate": len(records) / level.seconds if level.seconds else math.nan,
        "served_rate": len(times) / level.seconds if level.seconds else math.nan,
        "p50": percentile(times, 0.50),
        "p95": percentile(times, 0.95),
        "p99": percentile(times, 0.99),
        "500": five.get(500, 0),
        "503": five.get(503, 0),
        "5xx other": sum(n for s, n in five.items() if s not in (500, 503)),
        "no answer": statuses.get("timeout", 0) + statuses.get("error", 0),
        "503 share": five.get(503, 0) / len(records) if records else math.nan,
        "5xx share": sum(five.values()) / len(records) if records else math.nan,
        "ws opened": sum(1 for w in ws if w[1] == 101),
        "ws refused": sum(1 for w in ws if w[1] != 101),
        "ws p50": percentile([w[2] for w in ws if w[1] == 101], 0.5),
        "ws open": level.open_at_end,
    }


def print_levels(floors: dict, levels: list[Level]) -> None:
    """One line per floor and level, with the ratios."""
    reference = floors.get(("b", 50)) or floors.get(("b", max(u for _, u in floors)))
    base = summary(reference)
    floor_p50 = {
        users: summary(lvl)["p50"] for (which, users), lvl in floors.items() if which == "b"
    }
    print()
    print(
        f"{'measured':<16}{'users':>6}{'requests':>9}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}"
        f"{'500':>6}{'503':>6}{'5xx+':>5}{'none':>5}{'503 %':>7}{'ws open':>8}{'ws ok/no':>10}"
        f"{'ws p50':>7}{'÷ floor b@50':>13}{'p50 ÷ floor':>12}"
    )
    rows = [(f"floor ({w})", lvl) for (w, _), lvl in sorted(floors.items())] + [
        ("portal", lvl) for lvl in levels
    ]
    for name, lvl in rows:
        s = summary(lvl)
        floor_users = lvl.users if lvl.users in floor_p50 else max(floor_p50)
        ratio = s["served_rate"] / base["served_rate"] if base["served_rate"] else math.nan
        p50_ratio = s["p50"] / floor_p50[floor_users]
        note = "" if floor_users == lvl.users else f"@{floor_users}"
        ws = f"{s['ws opened']}/{s['ws refused']}" if name == "portal" else "-"
        print(
            f"{name:<16}{lvl.users:>6}{s['requests']:>9}{s['rate']:>8.1f}{ms(s['p50']):>7}"
            f"{ms(s['p95']):>7}{ms(s['p99']):>7}{s['500']:>6}{s['503']:>6}{s['5xx other']:>5}"
            f"{s['no answer']:>5}{s['503 share'] * 100:>6.1f}%"
            f"{s['ws open'] if name == 'portal' else '-':>8}{ws:>10}"
            f"{ms(s['ws p50']) if name == 'portal' else '-':>7}"
            f"{ratio:>12.2f}×{p50_ratio:>10.2f}×{note}"
        )
    print(
        "  ms of served requests (answers below 500); req/s counts every answer in the window; "
        "÷ floor b@50: served req/s over floor (b)'s at 50 users; p50 ÷ floor: over floor (b)'s "
        "p50 at the same users (@50 where there is none); ws ok/no: handshakes answered 101 / "
        "otherwise; ws open: sockets open when the window closed"
    )


def print_mix(levels: list[Level]) -> None:
    """The server's answers per URL kind and level."""
    print()
    print("Answers per URL kind (status: count), p50/p95 ms of served ones")
    for lvl in levels:
        by_kind = defaultdict(list)
        for r in lvl.timed():
            by_kind[r[1]].append(r)
        print(f"  {lvl.users} users, {lvl.orders} orders placed:")
        for kind in KINDS:
            records = by_kind.get(kind)
            if not records:
                continue
            statuses = Counter(str(r[2]) for r in records)
            mix = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
            times = served(records)
            print(
                f"    {kind:<17}{len(records):>6}  p50 {ms(percentile(times, 0.5)):>5} "
                f"p95 {ms(percentile(times, 0.95)):>5}  [{mix}]"
            )
        start, end = lvl.window
        ws = Counter(str(w[1]) for w in lvl.ws if start <= w[0] <= end)
        closes = Counter(s.closed_by_server for s in lvl.sockets if s.closed_by_server)
        messages = sum(s.messages for s in lvl.sockets)
        broken = Counter(s.error for s in lvl.sockets if s.error)
        print(
            f"    {'websocket':<17}{sum(ws.values()):>6}  handshakes "
            f"[{', '.join(f'{s}: {n}' for s, n in sorted(ws.items()))}]; closed by the server: "
            f"{dict(closes) or 'none'}; {messages} messages received in the level"
            + (f"; broken: {dict(broken)}" if broken else "")
        )


def print_cpu(floors: dict, levels: list[Level]) -> None:
    """This client's CPU against the server's, per level, with the load average."""
    print()
    print(
        f"{'measured':<16}{'users':>6}{'seconds':>8}{'client CPU s':>13}{'server CPU s':>13}"
        f"{'client/server':>14}{'MariaDB CPU s':>14}{'workers new':>12}{'busy':>6}"
        f"{'ms/req':>8}  load average"
    )
    rows = [(f"floor ({w})", lvl) for (w, _), lvl in sorted(floors.items())]
    rows += [("portal", lvl) for lvl in levels]
    for name, lvl in rows:
        total = lvl.seconds + 0.0
        ratio = lvl.client_cpu / lvl.server_cpu if lvl.server_cpu else math.nan
        print(
            f"{name:<16}{lvl.users:>6}{total:>8.1f}{lvl.client_cpu:>13.1f}{lvl.server_cpu:>13.1f}"
            f"{ratio:>14.2f}{lvl.database_cpu:>14.1f}{lvl.restarts:>12}{busy(lvl):>6.0%}"
            f"{cpu_per_request(lvl):>8.1f}  " + " ".join(f"{x:.2f}" for x in lvl.load)
        )
    print(
        "  CPU over the whole level (warm-up, window and drain); server: the gunicorn master "
        "and its workers; MariaDB: every mariadbd on the machine (other work included); "
        "workers new: workers started during the level (a restart); busy: server CPU over "
        f"{WORKERS} workers' time from the level's first answer to its last; ms/req: server "
        "CPU ms per answer of the level"
    )
    floor = floors.get(("b", 50))
    portal = next((lvl for lvl in levels if lvl.users == 50), None)
    if floor is None or portal is None:
        return
    print(
        "  CPU per request at 50 users, floor (b) over the portal: "
        f"{cpu_per_request(floor) / cpu_per_request(portal):.2f}x (the portal's MariaDB apart)"
    )
    if busy(floor) < FLOOR_BUSY:
        # Its keep-alive connections, opened at once, fell mostly on one gevent worker.
        print(
            f"  floor (b) at 50 users kept its workers {busy(floor):.0%} busy: its req/s is "
            "not the most the template gives, and the portal's req/s ratio to it flatters "
            "the portal; read the CPU per request above"
        )


def busy(level: Level) -> float:
    """How much of the workers' time the server spent on CPU while the level answered."""
    done = [record[0] for record in level.records]
    span = (max(done) - min(done)) if len(done) > 1 else 0.0
    return level.server_cpu / (span * WORKERS) if span else math.nan


def cpu_per_request(level: Level) -> float:
    """Server CPU milliseconds per answer of the level (warm-up and drain included)."""
    return 1000 * level.server_cpu / len(level.records) if level.records else math.nan


def git_state() -> str:
    """HEAD and the working tree's changes, so a figure names the code it measured."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        if not head:
            return f"code: {ROOT}, not a git checkout"
        diff = subprocess.run(
            ["git", "diff", "--stat", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.rstrip()
        new = subprocess.run(
            ["git", "ls-files", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.split()
    except OSError:
        return "git: not available"
    lines = [f"code: HEAD {head}; git diff --stat HEAD:"]
    lines += [f"  {line}" for line in diff.splitlines()] or ["  (no changes)"]
    if new:
        lines.append(f"  untracked: {', '.join(new)}")
    return "\n".join(lines)


def log_counts(logs: Path) -> str:
    """What the portal's log says about failures: pool timeouts, tracebacks, worker timeouts."""
    text = (logs / "portal.log").read_text(errors="replace")
    counts = {
        "QueuePool timeouts": text.count("QueuePool limit"),
        "tracebacks": text.count("Traceback (most recent call last)"),
        "worker timeouts": text.count("WORKER TIMEOUT"),
    }
    errors = Counter(m.group(1)[:140] for m in EXCEPTION_LINE.finditer(text))
    found = "; ".join(f"{n} × {line}" for line, n in errors.most_common(5))
    return ", ".join(f"{name} {n}" for name, n in counts.items()) + (f" ({found})" if found else "")


# --- main ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help=f"a MariaDB URL, dropped and created, dropped after (default {DEFAULT_URL})",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        help=f"Redis for the live bus (default {DEFAULT_REDIS}); 'none': the in-process bus",
    )
    parser.add_argument(
        "--driver",
        choices=("pymysql", "mysqldb"),
        default="pymysql",
        help="the portal's MariaDB driver (mysqldb: mysqlclient, the '.[mysql]' extra)",
    )
    parser.add_argument("--users", type=int, nargs="+", help=f"levels (default {LEVELS})")
    parser.add_argument("--seconds", type=float, help=f"timed seconds per level ({SECONDS:g})")
    parser.add_argument("--warmup", type=float, help=f"untimed seconds first ({WARMUP:g})")
    parser.add_argument("--products", type=int, help=f"catalogue size (default {PRODUCTS})")
    parser.add_argument(
        "--no-deflate",
        dest="deflate",
        action="store_false",
        help="websockets do not offer permessage-deflate (browsers do)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"{SMOKE_PRODUCTS} products, {SMOKE_LEVELS} users, {SMOKE_SECONDS:g} s per level",
    )
    args = parser.parse_args()
    args.users = sorted(args.users or (SMOKE_LEVELS if args.smoke else LEVELS))
    args.seconds = args.seconds or (SMOKE_SECONDS if args.smoke else SECONDS)
    args.warmup = (
        args.warmup if args.warmup is not None else (SMOKE_WARMUP if args.smoke else WARMUP)
    )
    args.products = args.products or (SMOKE_PRODUCTS if args.smoke else PRODUCTS)
    return args


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), 2):
            return True
    except OSError:
        return False


def raise_file_limit(users: int) -> None:
    """Two connections per user here, and as many in the server (which inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 16
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < 6 * users + 256:
        print(f"warning: {wanted} open files may be too few for {users} users")


def main() -> int:
    args = parse_args()
    warnings.filterwarnings("ignore", message="Dialect sqlite\\+pysqlite does \\*not\\* support")
    parsed = make_url(args.database_url)
    if not args.database_url.startswith("mysql"):
        print("load: needs a MariaDB --database-url (the production setup); nothing measured")
        return 0
    if not reachable(parsed.host or "127.0.0.1", parsed.port or 3306):
        print(f"load: MariaDB is not reachable at {parsed.host}; nothing measured")
        return 0
    redis = None if args.redis_url == "none" else args.redis_url
    if redis:
        redis_at = make_url(redis.replace("redis://", "redis+x://", 1))
        if not reachable(redis_at.host or "127.0.0.1", redis_at.port or 6379):
            print(f"load: Redis is not reachable at {redis}: the in-process bus instead")
            redis = None
    raise_file_limit(max(args.users))
    print(git_state(), flush=True)
    load_before = os.getloadavg()
    with database(args.database_url, "portal-load-") as url, tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        started = time.perf_counter()
        setup = prepare(url, args)
        env = {
            **os.environ,
            "PORTAL_ENV": "production",
            # The server may use another driver than the one that built the database.
            "DATABASE_URL": url.replace("mysql+pymysql://", f"mysql+{args.driver}://", 1),
            "SECRET_KEY": setup.secret,
            "LOAD_FLOOR_TOKEN": setup.floor_token,
            "REDIS_NAMESPACE": f"portal-load-{os.getpid()}-{secrets.token_hex(4)}",
            **PUBLIC,
        }
        env.pop("REDIS_URL", None)
        if redis:
            env["REDIS_URL"] = redis
        roles = Counter(p.role for p in setup.personas)
        print(
            f"\nLoad benchmark · MariaDB · {len(setup.products):,} products on sale "
            f"({setup.generated:,} generated) · {WORKERS} gevent workers × "
            f"{WORKER_CONNECTIONS} connections · Redis {'on' if redis else 'off'} · "
            f"users {', '.join(map(str, args.users))} ({dict(roles)} at "
            f"{max(args.users)}) · {args.warmup:g} s warm-up + {args.seconds:g} s per level · "
            f"setup {time.perf_counter() - started:.1f} s · {os.cpu_count()} CPUs · load "
            f"average {' '.join(f'{x:.2f}' for x in load_before)}",
            flush=True,
        )
        floors: dict = {}
        levels: list[Level] = []
        cookies: dict = {}
        with (
            serving("portal", "app:create_app()", env, "/login", logs) as (port, master),
            serving(
                "floor",
                "load:floor_app()",
                env,
                FLOOR_PATH,
                logs,
                ("--pythonpath", str(BENCH_DIR)),
            ) as (floor_port, floor_master),
        ):
            real = plain_get(port, "/shop/", setup.floor_cookie)
            floor_page = plain_get(floor_port, FLOOR_PATH)
            static = plain_get(floor_port, STATIC_PATH)
            if real[0] != 200 or floor_page[0] != 200 or static[0] != 200:
                raise RuntimeError(
                    f"/shop/ {real[0]}, the floor page {floor_page[0]}, {STATIC_PATH} {static[0]}"
                )
            print(
                f"sizes: real page 1 as {FLOOR_PERSON} {len(real[1]):,} B; floor (b), the same "
                f"template from memory, {len(floor_page[1]):,} B; floor (a) {STATIC_PATH} "
                f"{len(static[1]):,} B",
                flush=True,
            )
            floor_persona = Persona(FLOOR_PERSON, "floor", setup.floor_cookie)
            for users in FLOOR_LEVELS:
                for which, kind, path in (
                    ("a", "static (a)", STATIC_PATH),
                    ("b", "template (b)", FLOOR_PATH),
                ):
                    crowd = [
                        FloorUser(i, floor_persona, setup, floor_port, args, {}, kind, path)
                        for i in range(users)
                    ]
                    level = measure(Level(f"floor {which}", users), crowd, floor_master, args)
                    floors[which, users] = level
                    s = summary(level)
                    print(
                        f"  floor ({which}) {users:>3} users: {s['rate']:.1f} req/s, p50 "
                        f"{ms(s['p50'])} ms, p99 {ms(s['p99'])} ms, 5xx {s['5xx share']:.1%}, "
                        f"load {level.load[0]:.2f}",
                        flush=True,
                    )
            stats = json.loads(plain_get(floor_port, FLOOR_STATS)[1])
            print(
                f"  floor (b) database work: {stats.get('statements', 0)} SQL statements in "
                f"{stats.get('requests', 0)} floor pages (worker {stats['pid']})"
                + "".join(f"\n    {n} × {text}" for text, n in stats["seen"]),
                flush=True,
            )
            for users in args.users:
                crowd = [
                    User(i, setup.personas[i], setup, port, args, cookies) for i in range(users)
                ]
                level = measure(Level("portal", users), crowd, master, args)
                levels.append(level)
                s = summary(level)
                print(
                    f"  portal {users:>3} users: {s['rate']:.1f} req/s, p50 {ms(s['p50'])} ms, "
                    f"p99 {ms(s['p99'])} ms, 500: {s['500']}, 503: {s['503']}, other 5xx: "
                    f"{s['5xx other']}, no answer: {s['no answer']}, {level.orders} orders, "
                    f"load {level.load[0]:.2f}",
                    flush=True,
                )
            portal_log = log_counts(logs)
        print_levels(floors, levels)
        print_mix(levels)
        print_cpu(floors, levels)
        print(f"\nportal log: {portal_log}")
        print(
            f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
            f"(at the start {' '.join(f'{x:.2f}' for x in load_before)}); "
            f"{os.cpu_count()} CPUs shared by the client, the servers and MariaDB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
