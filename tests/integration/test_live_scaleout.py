"""Two portal processes sharing MariaDB and Redis: a change through one reaches the other.

The test builds its own database beside TEST_DATABASE_URL's (dropped afterwards) and uses
REDIS_URL, so it runs in the MariaDB pass of .ci/run and skips without them.
"""

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import derived_database, need_redis
from tests.sockets import Client

ROOT = Path(__file__).resolve().parents[2]


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browserless:
    """Signs in over real HTTP and keeps the session cookie, as a browser would."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.token = ""

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as response:
            html = response.read().decode()
        found = re.search(r'"X-CSRFToken": "([^"]+)"', html)
        self.token = found.group(1) if found else self.token
        return html

    def post(self, path: str, data: dict) -> int:
        body = urllib.parse.urlencode({**data, "csrf_token": self.token}).encode()
        request = urllib.request.Request(self.base + path, data=body, method="POST")
        request.add_header("Referer", self.base + path)
        with self.opener.open(request, timeout=10) as response:
            return response.status

    def sign_in(self, email: str) -> None:
        self.get("/login")
        self.post("/login", {"email": email, "password": "demo-password"})
        self.get("/")

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


@pytest.fixture
def two_processes(tmp_path):
    redis = need_redis()
    with derived_database("scaleout") as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": redis,
            "SECRET_KEY": "scale-out-test",
            "PORTAL_ENV": "development",
        }
        flask = [sys.executable, "-m", "flask", "--app", "app"]
        subprocess.run([*flask, "demo"], env=env, cwd=ROOT, check=True, capture_output=True)
        ports = [free_port(), free_port()]
        processes = [
            subprocess.Popen(
                [*flask, "run", "--port", str(port), "--with-threads"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for port in ports
        ]
        try:
            for port in ports:
                deadline = time.monotonic() + 20
                while not reachable("127.0.0.1", port):
                    assert time.monotonic() < deadline, "a portal process did not start"
                    time.sleep(0.1)
            engine = create_engine(url)
            with engine.connect() as conn:
                product = conn.execute(
                    text("SELECT id FROM products WHERE sku = 'MCU-STM32F401'")
                ).scalar()
            engine.dispose()
            yield [f"http://127.0.0.1:{port}" for port in ports], product
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)


def test_a_change_through_one_process_reaches_a_socket_held_by_the_other(two_processes):
    (first, second), product = two_processes
    customer = Browserless(second)
    customer.sign_in("orders@acme.test")
    port = urllib.parse.urlsplit(second).port
    ws = Client.connect(
        f"ws://127.0.0.1:{port}/ws",
        headers={"Cookie": customer.cookie, "Origin": "http://127.0.0.1"},
    )
    try:
        ws.send(json.dumps({"watch": [f"offer-{product}"], "page": "t", "mode": "update"}))
        time.sleep(0.5)
        warehouse = Browserless(first)
        warehouse.sign_in("warehouse@portal.test")
        warehouse.get("/office/stock?q=MCU-STM32F401")
        status = warehouse.post(f"/office/stock/{product}", {"counted": 37, "reason": "count"})
        assert status == 200
        message = ws.receive(timeout=3)
        assert message is not None, "the push never reached the other process's socket"
        assert "37 in stock" in message
    finally:
        ws.close()
