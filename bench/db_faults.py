"""Database faults under load: how many requests fail when the connections die.

Builds a fresh MariaDB database (`portal_bench_faults` by default) with the demo, starts
--workers worker processes (a synchronous Werkzeug server each, one request at a time, as
a gunicorn sync worker; --threaded: a thread per request), and has --clients clients per
worker request pages and add to carts without pause. The workers reach MariaDB through a
TCP proxy of the bench's own. Then, --faults times, once the streams run steadily:

- kill: every connection to the bench's database is KILLed on the server (its own
  database only: the machine's server is never restarted or reconfigured);
- restart: the proxy cuts every connection and refuses new ones for --down seconds, then
  accepts again, as a restarting server does.

Prints, for each fault, the requests that failed (an answer of 500 or more, or no
answer) and the most that one worker lost, the requests served, and the load average.
The design's aim is at most one failed request per worker per fault: a page whose
connection died is asked again (blueprints/boundary.py), an order's transaction replayed
(core/transaction.py), a request arriving while the server is away waits for it
(core/db_mariadb.py); only another change in flight fails, with a 503. Never fails on a
number.

    .venv/bin/python bench/db_faults.py --smoke
    .venv/bin/python bench/db_faults.py --workers 2 --clients 2 --faults 5
    .venv/bin/python bench/db_faults.py --fault restart --down 2
    .venv/bin/python bench/db_faults.py --threaded --clients 4
"""

import argparse
import contextlib
import http.client
import os
import re
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pymysql
from common import database
from sqlalchemy.engine import make_url

DEFAULT_URL = "mysql+pymysql://root@127.0.0.1/portal_bench_faults"
SECRET = "bench-db-faults"
PEOPLE = ("orders@acme.test", "orders@baltic.test", "orders@delft.test", "orders@etna.test")
READY_TIMEOUT = 60


# --- the proxy in front of MariaDB -----------------------------------------------------


class Proxy:
    """Forwards TCP connections to the server; can cut them all and refuse new ones."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.pairs: set[tuple[socket.socket, socket.socket]] = set()
        self.lock = threading.Lock()
        self.listener = self._listen(0)
        self.port = self.listener.getsockname()[1]
        self.accepting = threading.Event()
        self.accepting.set()
        threading.Thread(target=self._accept, daemon=True).start()

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        return listener

    def _accept(self) -> None:
        while True:
            self.accepting.wait()
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed by restart(): listen again when it says so
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            pair = (client, server)
            with self.lock:
                self.pairs.add(pair)
            threading.Thread(target=self._pump, args=(pair,), daemon=True).start()

    def _pump(self, pair) -> None:
        selector = selectors.DefaultSelector()
        client, server = pair
        selector.register(client, selectors.EVENT_READ, server)
        selector.register(server, selectors.EVENT_READ, client)
        try:
            while True:
                for key, _ in selector.select():
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            self._cut(pair)

    def _cut(self, pair) -> None:
        with self.lock:
            self.pairs.discard(pair)
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restart(self, down: float) -> None:
        """Cut every connection and refuse new ones for `down` seconds."""
        self.accepting.clear()
        self.listener.close()
        with self.lock:
            pairs = list(self.pairs)
        for pair in pairs:
            self._cut(pair)
        time.sleep(down)  # the fault itself: the server is away this long
        self.listener = self._listen(self.port)
        self.accepting.set()


# --- workers -------------------------------------------------------------------------


def serve(port: int, threaded: bool) -> None:
    """A worker: the portal on a synchronous server (one request at a time), or a threaded
    one (a thread per request, as gunicorn's gthread workers)."""
    from werkzeug.serving import make_server

    from app import create_app

    server = make_server("127.0.0.1", port, create_app(), threaded=threaded)
    server.serve_forever()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def workers(count: int, url: str, logs: Path, threaded: bool) -> Iterator[list[int]]:
    """`count` worker processes on their own ports, yielded once each answers."""
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "PORTAL_URL": "https://portal.bench.test",
        "TRUSTED_HOSTS": "portal.bench.test,127.0.0.1",
        "DB_POOL_SIZE": "2",
    }
    ports = [free_port() for _ in range(count)]
    processes = []
    try:
        for port in ports:
            log = (logs / f"worker-{port}.log").open("w")
            processes.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--serve", str(port)]
                    + (["--threaded"] if threaded else []),
                    env=env,
                    stdout=log,
                    stderr=log,
                )
            )
        deadline = time.monotonic() + READY_TIMEOUT
        for port, process in zip(ports, processes, strict=True):
            while True:
                try:
                    request(port, "GET", "/login")
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"worker {port} did not start") from None
                    time.sleep(0.1)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


# --- clients -------------------------------------------------------------------------


def request(port: int, method: str, path: str, *, cookie=None, body=b"", headers=None):
    """One HTTP request: (status, body text, the session cookie it set or None)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        sent = {"Host": "127.0.0.1", **(headers or {})}
        if cookie:
            sent["Cookie"] = f"session={cookie}"
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or ():
            jar.load(header)
        return response.status, text, jar["session"].value if "session" in jar else None
    finally:
        conn.close()


@dataclass
class Stream:
    """One client of one worker: what it asked, and when each answer failed."""

    port: int
    cookie: str
    token: str
    product: int
    done: int = 0
    failed: list[tuple[float, str]] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        paths = ("/shop/", "/shop/?page=2&sort=price", "/shop/orders")
        while not stop.is_set():
            try:
                if self.done % 4 == 3:
                    body = f"product_id={self.product}&quantity=1".encode()
                    headers = {
                        "X-CSRFToken": self.token,
                        "Content-Type": "application/x-www-form-urlencoded",
                    }
                    status, _, _ = request(
                        self.port,
                        "POST",
                        "/shop/cart/lines",
                        cookie=self.cookie,
                        body=body,
                        headers=headers,
                    )
                else:
                    status, _, _ = request(
                        self.port, "GET", paths[self.done % 4], cookie=self.cookie
                    )
                if status >= 500:
                    self.failed.append((time.monotonic(), str(status)))
            except OSError as exc:
                self.failed.append((time.monotonic(), type(exc).__name__))
            self.done += 1


def signed_in(url: str, port: int, email: str, index: int) -> tuple[str, str]:
    """A session cookie of this person (a server-side session made here) and its CSRF token."""
    from app import create_app
    from core import sessions
    from core.models import User
    from extensions import db

    app = create_app({"PORTAL_ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": SECRET})
    token = f"bench-{index}-{email}"  # a session of its own for every client
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        sessions.grant_session(user, token, hours=24, ip="127.0.0.1", user_agent="bench")
        db.session.commit()
        db.engine.dispose()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    cookie = client.get_cookie("session").value
    status, html, renewed = request(port, "GET", "/shop/", cookie=cookie)
    match = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    if status != 200 or not match:
        raise RuntimeError(f"{email} could not open the catalogue ({status})")
    return renewed or cookie, match.group(1)


def server_threads(url: str) -> list[int]:
    """The server threads of every connection to the bench's database but this one's."""
    parsed = make_url(url)
    admin = admin_connection(url)
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s "
                "AND ID <> CONNECTION_ID()",
                (parsed.database,),
            )
            return [row[0] for row in cursor.fetchall()]
    finally:
        admin.close()


def admin_connection(url: str):
    parsed = make_url(url)
    return pymysql.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 3306,
        user=parsed.username,
        password=parsed.password or "",
        database=parsed.database,
        autocommit=True,
    )


def kill_all(url: str) -> int:
    """KILL every connection to the bench's database; wait until the server ended them."""
    ids = server_threads(url)
    admin = admin_connection(url)
    try:
        with admin.cursor() as cursor:
            for thread_id in ids:
                with contextlib.suppress(pymysql.err.OperationalError):
                    cursor.execute(f"KILL CONNECTION {int(thread_id)}")
    finally:
        admin.close()
    deadline = time.monotonic() + 10
    while set(ids) & set(server_threads(url)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(ids)


def steady(streams: list[Stream], more: int, limit: float = 120) -> bool:
    """Wait until every stream has answered `more` further requests."""
    marks = [s.done for s in streams]
    deadline = time.monotonic() + limit
    while any(s.done < m + more for s, m in zip(streams, marks, strict=True)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2, help="clients per worker")
    parser.add_argument("--faults", type=int, default=5)
    parser.add_argument("--fault", choices=("kill", "restart", "both"), default="both")
    parser.add_argument("--down", type=float, default=1.5, help="restart: seconds away")
    parser.add_argument(
        "--threaded", action="store_true", help="threaded workers: every client in flight at once"
    )
    parser.add_argument("--smoke", action="store_true", help="one worker, one fault of each")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.threaded)
        return 0
    if args.smoke:
        args.workers, args.clients, args.faults = 1, 1, 1
    url = args.database_url or DEFAULT_URL
    if not url.startswith("mysql"):
        print("db_faults: needs a MariaDB --database-url (SQLite has no connections to lose)")
        return 0
    try:
        admin_connection(make_url(url).set(database="").render_as_string(False)).close()
    except pymysql.err.Error as exc:
        print(f"db_faults: MariaDB is not reachable ({exc}); nothing measured")
        return 0
    kinds = ("kill", "restart") if args.fault == "both" else (args.fault,)
    with database(url) as built:
        prepare(built)
        parsed = make_url(built)
        proxy = Proxy((parsed.host or "127.0.0.1", parsed.port or 3306))
        proxied = parsed.set(port=proxy.port).render_as_string(hide_password=False)
        logs = Path(tempfile.mkdtemp(prefix="db_faults-"))
        print(f"db_faults: workers' logs in {logs}")
        with workers(args.workers, proxied, logs, args.threaded) as ports:
            streams = make_streams(built, ports, args.clients)
            stop = threading.Event()
            threads = [threading.Thread(target=s.run, args=(stop,)) for s in streams]
            for thread in threads:
                thread.start()
            started = time.monotonic()
            rows = []
            try:
                steady(streams, 5)
                for kind in kinds:
                    for _ in range(args.faults):
                        at = time.monotonic()
                        if kind == "kill":
                            what = f"{kill_all(built)} connections killed"
                        else:
                            proxy.restart(args.down)
                            what = f"away {args.down:.1f} s"
                        recovered = steady(streams, 5)
                        rows.append((kind, what, at, recovered))
            finally:
                stop.set()
                for thread in threads:
                    thread.join(timeout=120)
            report(streams, rows, time.monotonic() - started, args)
    return 0


def prepare(url: str) -> None:
    """Schema and demo data (the bench's own database)."""
    from flask_migrate import upgrade

    import demo
    from app import create_app
    from extensions import db

    app = create_app({"PORTAL_ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade()
        demo.load()
        db.engine.dispose()


def make_streams(url: str, ports: list[int], clients: int) -> list[Stream]:
    from app import create_app
    from core.models import Product
    from extensions import db

    app = create_app({"PORTAL_ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": SECRET})
    with app.app_context():
        product = db.session.scalar(db.select(Product.id).where(Product.sold()).limit(1))
        db.engine.dispose()
    streams = []
    for w, port in enumerate(ports):
        for c in range(clients):
            email = PEOPLE[(w * clients + c) % len(PEOPLE)]
            cookie, token = signed_in(url, port, email, len(streams))
            streams.append(Stream(port, cookie, token, product))
    return streams


def report(streams: list[Stream], rows, elapsed: float, args) -> None:
    done = sum(s.done for s in streams)
    print(
        f"db_faults: {args.workers} {'threaded' if args.threaded else 'synchronous'} workers × "
        f"{args.clients} clients, {done} requests in "
        f"{elapsed:.1f} s ({done / elapsed:.0f}/s), load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    bounds = [row[2] for row in rows] + [float("inf")]
    total = 0
    for (kind, what, at, recovered), until in zip(rows, bounds[1:], strict=True):
        per_worker = Counter()
        reasons = Counter()
        for s in streams:
            for when, why in s.failed:
                if at <= when < until:
                    per_worker[s.port] += 1
                    reasons[why] += 1
        failed = sum(per_worker.values())
        total += failed
        print(
            f"  {kind:7} ({what}): {failed} failed, at most {max(per_worker.values(), default=0)}"
            f" per worker{'' if recovered else ', NOT recovered'}"
            + (f" [{', '.join(f'{k} ×{v}' for k, v in reasons.items())}]" if reasons else "")
        )
    before = sum(1 for s in streams for when, _ in s.failed if rows and when < rows[0][2])
    print(f"  failed before any fault: {before}; after faults: {total} in {len(rows)} faults")


if __name__ == "__main__":
    sys.exit(main())
