"""Shared fixtures: one demo database per test session, restored after each test.

The database is SQLite in a temporary folder, or the MariaDB database named by
TEST_DATABASE_URL. It is built once through the real migrations and the demo
loader, then copied into a template. After each test, only the tables that test
wrote to are copied back from the template, so tests start from the demo state
without paying for a rebuild.
"""

import base64
import contextlib
import hashlib
import os
import re
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import has_app_context
from flask.ctx import RequestContext
from flask.testing import EnvironBuilder, FlaskClient
from flask_migrate import upgrade
from flask_wtf.csrf import generate_csrf
from sqlalchemy import create_engine, event, inspect, select, text
from werkzeug.serving import make_server

import demo
from app import create_app
from core import sessions, tokens
from core.models import ApiToken, User
from extensions import db

IN_CI = os.environ.get("CI") == "true"
# Under pytest-xdist each worker ("gw0", "gw1", ...) runs its share of the tests in a
# process of its own; on MariaDB it gets a database of its own, named after the given one
# and dropped afterwards, so that workers never restore tables under each other.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def _per_worker(url: str | None) -> str | None:
    if not url or not url.startswith("mysql") or not WORKER:
        return url
    path = urlsplit(url).path
    return url.replace(path, f"{path}_{WORKER}", 1)


TEST_DATABASE_URL = _per_worker(os.environ.get("TEST_DATABASE_URL"))
# Tests touch only what they are given: this database (and databases named after it,
# dropped afterwards) and this Redis. Without them, the tests that need them skip.
MARIADB_URL = TEST_DATABASE_URL if (TEST_DATABASE_URL or "").startswith("mysql") else None
REDIS_URL = os.environ.get("REDIS_URL") or None
CHROMIUM = "/usr/bin/chromium"
PASSWORD = demo.PASSWORD

CUSTOMER_SLUGS = ("acme", "baltic", "carpathia", "delft", "etna")
STAFF_EMAILS = tuple(email for email, *_ in demo.STAFF)
CUSTOMER_EMAILS = tuple(
    f"{local}@{slug}.test" for slug in CUSTOMER_SLUGS for local in ("orders", "request", "browse")
)
PERSONAS = STAFF_EMAILS + CUSTOMER_EMAILS

_WRITE = re.compile(
    # SQLite's INSERT OR IGNORE / OR REPLACE too (the spec index adds values so).
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?(?:IGNORE\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)"
    r"\s+[`\"]?(\w+)",
    re.IGNORECASE,
)


def need(condition: bool, reason: str) -> None:
    """Skip a test whose tool is missing, except in CI, where that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


def need_mariadb() -> str:
    """The MariaDB URL the run was given; without one, skip (it is the MariaDB pass's test)."""
    if MARIADB_URL is None:
        pytest.skip("needs TEST_DATABASE_URL on MariaDB (the MariaDB pass of .ci/run runs it)")
    return MARIADB_URL


def need_redis() -> str:
    """The Redis URL the run was given; without one, skip (the MariaDB pass sets it)."""
    if REDIS_URL is None:
        pytest.skip("needs REDIS_URL (the MariaDB pass of .ci/run sets it)")
    return REDIS_URL


@contextlib.contextmanager
def derived_database(suffix: str):
    """A fresh MariaDB database named after the given one (`<name>_<suffix>`), dropped after.

    Yields its URL. Only the server of TEST_DATABASE_URL is touched, and only databases
    whose names start with its database's name.
    """
    url = need_mariadb()
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{suffix}"
    server = create_engine(url.replace(parts.path, "/", 1))
    with server.begin() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield url.replace(parts.path, f"/{name}", 1)
    finally:
        with server.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        server.dispose()


@contextlib.contextmanager
def demo_portal(url: str, *, personas: bool = False, **config):
    """A portal of its own on the database at `url` (a derived one), migrated and with the
    demo loaded; its connections are closed after. `config` adds to the testing config.
    `personas`: every demo person holds the session of `persona_token`, and the portal's
    test client is a PortalClient."""
    app = create_app({"PORTAL_ENV": "testing", "DATABASE_URL": url, "SERVER_NAME": None, **config})
    try:
        with app.app_context():
            upgrade()
            demo.load()
            if personas:
                app.test_client_class = PortalClient
                for user in db.session.scalars(select(User)):
                    persona_session(user)
                db.session.commit()
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def persona_token(email: str) -> str:
    """The server-side session each demo persona holds in the template database."""
    return f"test-session-{email}"


def persona_session(user) -> None:
    """A session of this person's behind `persona_token`, valid for years, and an API token
    behind `persona_api_token` (not committed)."""
    sessions.grant_session(
        user, persona_token(user.email), hours=5 * 365 * 24, ip="127.0.0.1", user_agent="tests"
    )
    raw = persona_api_token(user.email)
    db.session.add(
        ApiToken(
            user=user,
            name="tests",
            prefix=tokens.prefix_of(raw),
            token_hash=tokens.digest(raw),
            last_used_ip="",
            window_count=0,
        )
    )


def persona_api_token(email: str) -> str:
    """The API token each demo persona holds in the template database (tests of /api/v1)."""
    lookup = hashlib.sha256(f"lookup:{email}".encode()).hexdigest()[:12]
    secret = base64.urlsafe_b64encode(hashlib.sha256(f"secret:{email}".encode()).digest())
    return f"ptk_{lookup}_{secret.decode().rstrip('=')}"


class WriteTracker:
    """Records which tables any statement wrote to, from any thread."""

    def __init__(self):
        self.tables: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        match = _WRITE.match(statement)
        if match:
            with self.lock:
                self.tables.add(match.group(1))

    def take(self) -> set[str]:
        with self.lock:
            tables, self.tables = self.tables, set()
        return tables


class Template:
    """A copy of the freshly built demo database, and how to copy tables back from it.

    A table is restored by its differences: the rows that are not exactly as in the copy
    are deleted, then the copy's rows that are missing are inserted. A test changes a few
    rows of a table, so this reads the table instead of rewriting it, which matters where
    writes are dear (MariaDB, its indexes and the triggers on products): the authorization
    matrix's restores took 224 of its 580 seconds on MariaDB when every row was rewritten.
    """

    def __init__(self, engine, url: str, tmp: Path):
        self.engine = engine
        self.url = url
        self.tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            self.path = tmp / "template.db"
            with engine.connect() as conn:
                conn.exec_driver_sql(f"VACUUM INTO '{self.path}'")
            self.copy = "tpl"
        else:
            self.name = urlsplit(url).path.lstrip("/") + "_tpl"
            self.copy = f"`{self.name}`"
            with engine.begin() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{self.name}`")
                conn.exec_driver_sql(f"CREATE DATABASE `{self.name}`")
                for table in self.tables:
                    conn.exec_driver_sql(f"CREATE TABLE `{self.name}`.`{table}` LIKE `{table}`")
                    conn.exec_driver_sql(
                        f"INSERT INTO `{self.name}`.`{table}` SELECT * FROM `{table}`"
                    )
        inspector = inspect(engine)
        self.statements = {
            table: self._statements(
                table,
                inspector.get_pk_constraint(table)["constrained_columns"],
                [column["name"] for column in inspector.get_columns(table)],
            )
            for table in self.tables
        }

    def _statements(self, table: str, key: list[str], columns: list[str]) -> tuple[str, ...]:
        """The statements that make `table` equal to the copy's."""
        q = (lambda name: f'"{name}"') if self.sqlite else (lambda name: f"`{name}`")
        here, there = (f"main.{q(table)}" if self.sqlite else q(table)), f"{self.copy}.{q(table)}"
        if not key:  # no way to pair the rows: all of them, again
            return (f"DELETE FROM {here}", f"INSERT INTO {here} SELECT * FROM {there}")
        same_key = " AND ".join(f"c.{q(k)} = {q(table)}.{q(k)}" for k in key)
        # Exactly the same: NULLs alike, and no collation that calls "a" and "A " equal.
        if self.sqlite:
            same = [f"c.{q(c)} IS {q(table)}.{q(c)}" for c in columns if c not in key]
        else:
            same = [
                f"BINARY c.{q(c)} <=> BINARY {q(table)}.{q(c)}" for c in columns if c not in key
            ]
        kept = " AND ".join([same_key, *same])
        missing = " AND ".join(f"h.{q(k)} = c.{q(k)}" for k in key)
        return (
            f"DELETE FROM {here} WHERE NOT EXISTS (SELECT 1 FROM {there} c WHERE {kept})",
            f"INSERT INTO {here} SELECT * FROM {there} c"
            f" WHERE NOT EXISTS (SELECT 1 FROM {here} h WHERE {missing})",
        )

    def restore(self, tables: set[str]) -> None:
        tables = sorted(t for t in tables if t in self.tables)
        if not tables:
            return
        statements = [statement for table in tables for statement in self.statements[table]]
        if self.sqlite:
            with self.engine.connect() as conn:
                # Off, not deferred: ON DELETE CASCADE would empty tables we do not copy back.
                # (pysqlite opens its transaction at the first DELETE, after these pragmas.)
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.exec_driver_sql(f"ATTACH DATABASE '{self.path}' AS tpl")
                try:
                    for statement in statements:
                        conn.exec_driver_sql(statement)
                    conn.commit()
                finally:
                    conn.exec_driver_sql("DETACH DATABASE tpl")
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        else:
            with self.engine.begin() as conn:
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
                for statement in statements:
                    conn.exec_driver_sql(statement)
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")

    def drop(self) -> None:
        """Remove the copy (MariaDB keeps it as a database of its own)."""
        if not self.url.startswith("sqlite"):
            with self.engine.begin() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{self.name}`")


def _on_server(url: str, *statements: str) -> None:
    """Run statements on the server of `url`, outside its database (`{name}` is its name)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = create_engine(url.replace(f"/{name}", "/", 1))
    with server.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement.format(name=name))
    server.dispose()


def _fresh_mariadb(url: str) -> None:
    """Drop and create the test database named in the URL (CI gives a fresh one anyway)."""
    _on_server(
        url,
        "DROP DATABASE IF EXISTS `{name}`",
        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
    )


def _drop_mariadb(url: str) -> None:
    """Drop a worker's own database, which this run created."""
    _on_server(url, "DROP DATABASE IF EXISTS `{name}`")


class PortalClient(FlaskClient):
    """A test client that knows its CSRF token, as a browser page does."""

    _csrf: str | None = None

    def csrf_token(self) -> str:
        """The session's CSRF token, as every page carries it (hx-headers on the body).

        Made by Flask-WTF's own generate_csrf() in this client's cookie session, as a page
        render makes it, without a request: fetching the cheapest page for it cost 12 ms a
        client on MariaDB, and the authorization matrix made a client for each of its 4,000
        POSTs. Nothing is written to the database.
        """
        if self._csrf is None:
            app = self.application
            # An app context of its own, as open() gives each request: generate_csrf()
            # keeps its token in `g`, which a test's own app context would share.
            with self.session_transaction() as session, app.app_context():
                environ = EnvironBuilder(app).get_environ()
                with RequestContext(app, environ, session=session):
                    self._csrf = generate_csrf()
        return self._csrf

    def open(self, *args, **kwargs):
        """Each request in its own app context, as in production.

        Otherwise a test holding an app context (the `ctx` fixture) would share `g`
        (Flask-Login's cached user) and the database session with every request.
        Afterwards the test's own session is refreshed, so it reads what the request wrote.
        """
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context() and not (db.session.new or db.session.dirty or db.session.deleted):
            db.session.rollback()
        return response

    def send(self, method: str, url: str, *, htmx: bool = False, csrf: bool = True, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if csrf:
            headers["X-CSRFToken"] = self.csrf_token()
        if htmx:
            headers["HX-Request"] = "true"
        return self.open(url, method=method, headers=headers, **kwargs)

    def htmx(self, url: str, **kwargs):
        return self.get(url, headers={"HX-Request": "true"}, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("portal")
    url = TEST_DATABASE_URL or f"sqlite:///{tmp / 'portal.db'}"
    if url.startswith("mysql"):
        _fresh_mariadb(url)
    application = create_app(
        {
            "PORTAL_ENV": "testing",
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret-key",
            "SERVER_NAME": None,
            # Tests tick the promotion clock themselves (hub.tick), never in the background.
            "LIVE_CLOCK_SECONDS": 3600,
            # The personas' sessions are made with the template, and restoring a test's
            # writes brings back their last use from then: with the production hour, every
            # persona was signed out once a run passed its first hour (a loaded machine's
            # MariaDB pass), and hundreds of tests failed. The idle tests use this value.
            "SESSION_IDLE_MINUTES": 7 * 24 * 60,
        }
    )
    application.test_client_class = PortalClient
    with application.app_context():
        upgrade()
        demo.load()
        for user in db.session.scalars(db.select(User)):
            persona_session(user)
        db.session.commit()
        engine = db.engine
        template = Template(engine, url, tmp)
        tracker = WriteTracker()
        event.listen(engine, "before_cursor_execute", tracker)
    application.extensions["test_template"] = (template, tracker)
    yield application
    with application.app_context():
        db.session.remove()
        template.drop()
        db.engine.dispose()
    if url.startswith("mysql") and WORKER:
        _drop_mariadb(url)


@pytest.fixture(autouse=True)
def _restore_database(request):
    """After each test that touched the database, copy back what it wrote."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    template, tracker = app.extensions["test_template"]
    with app.app_context():
        db.session.remove()
        template.restore(tracker.take())
    app.extensions["live_hub"].forget()  # restored with no event: the hub keeps nothing


@pytest.fixture
def ctx(app):
    """An application context for tests that call services directly."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app) -> PortalClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def as_user(app):
    """Factory: a client signed in as a demo persona, without paying for a password hash."""

    def make(email: str) -> PortalClient:
        c = app.test_client()
        with c.session_transaction() as session:
            session["_user_id"] = persona_token(email)
            session["_fresh"] = True
        return c

    return make


class AuthActions:
    """Sign in and out through the real form, as flaskr's tests do."""

    def __init__(self, client: PortalClient):
        self.client = client

    def login(self, email: str, password: str = PASSWORD, **kwargs):
        response = self.client.send(
            "POST", "/login", data={"email": email, "password": password}, **kwargs
        )
        self.client._csrf = None  # signing in starts a new session, with a new token
        return response

    def logout(self):
        return self.client.send("POST", "/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def db_session(ctx):
    """The SQLAlchemy session inside an application context."""
    return db.session


@pytest.fixture(scope="session")
def live_server(app):
    """The portal served over HTTP on a free local port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def connect(app, live_server):
    """Factory: a websocket signed in as a persona (simple-websocket sends Host without
    the port, so the same-site Origin it must send has none either)."""
    from simple_websocket import ConnectionClosed

    from tests.sockets import Client

    opened = []
    port = urlsplit(live_server).port

    def make(email: str | None, *, origin: str = "http://127.0.0.1"):
        headers = {"Origin": origin}
        if email:
            c = app.test_client()
            with c.session_transaction() as session:
                session["_user_id"] = persona_token(email)
            headers["Cookie"] = f"session={c.get_cookie('session').value}"
        ws = Client.connect(f"ws://127.0.0.1:{port}/ws", headers=headers)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        with contextlib.suppress(ConnectionClosed):
            ws.close()


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free local port, collecting what it receives."""
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    need(Path(CHROMIUM).exists(), f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def sign_in(browser, live_server):
    """Factory: a new browser context signed in through the login form."""
    contexts = []

    def make(email: str, password: str = PASSWORD):
        context = browser.new_context(base_url=live_server)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield make
    for context in contexts:
        context.close()


def wait_live(page, settle_ms: int = 150) -> None:
    """Until the page's socket is open and has told the server what the page shows."""
    page.wait_for_selector("body[data-live-state=watching]", state="attached", timeout=10_000)
    page.wait_for_timeout(settle_ms)  # the server reads the watch list


def sql(statement: str, **params):
    """Run one SQL statement in the current app context; rows for a query, else []."""
    result = db.session.execute(text(statement), params)
    return result.all() if result.returns_rows else []
