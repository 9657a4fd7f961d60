"""Admission control: a bounded number of requests in the app, a bounded wait, then 503."""

import threading

import pytest
from werkzeug.test import Client

from blueprints.admission import Admission, _best_language

REFUSALS = {
    "en": (b"<html>busy page</html>", b"busy", "Service Unavailable"),
    "it": (b"<html>pagina occupata</html>", b"occupato", "Servizio non disponibile"),
}


class HeldApp:
    """A WSGI app whose requests wait until the test lets them go."""

    def __init__(self):
        self.entered = threading.Semaphore(0)
        self.go = threading.Event()
        self.served = 0

    def __call__(self, environ, start_response):
        self.entered.release()
        if environ["PATH_INFO"] == "/held":
            assert self.go.wait(timeout=10)
        self.served += 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def admitted(app, *, limit=1, queue=5, wait=5.0):
    return Admission(app, limit=limit, queue=queue, wait=wait, refusals=REFUSALS)


def in_background(client, path, results, **kwargs):
    thread = threading.Thread(target=lambda: results.append(client.get(path, **kwargs)))
    thread.start()
    return thread


def test_a_request_waits_for_a_place_and_is_served():
    app = HeldApp()
    gate = admitted(app, limit=1, wait=5.0)
    client, results = Client(gate), []
    first = in_background(client, "/held", results)
    assert app.entered.acquire(timeout=5)  # the first holds the only place
    second = in_background(client, "/held", results)
    while gate.state()["waiting"] != 1:  # the second queues behind it
        threading.Event().wait(0.001)
    assert app.served == 0
    app.go.set()
    first.join(5), second.join(5)
    assert [r.status_code for r in results] == [200, 200]
    assert gate.state() == {"serving": 0, "waiting": 0, "refused": 0}


def test_past_the_wait_the_answer_is_503_with_retry_after_and_the_app_never_runs():
    app = HeldApp()
    gate = admitted(app, limit=1, wait=0.05)
    client, results = Client(gate), []
    holder = in_background(client, "/held", results)
    assert app.entered.acquire(timeout=5)
    refused = client.get("/quick")
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["Cache-Control"] == "no-store"
    assert refused.data == b"<html>busy page</html>"
    app.go.set()
    holder.join(5)
    assert app.served == 1  # the refused request never reached the app
    assert gate.state()["refused"] == 1
    assert client.get("/quick").status_code == 200  # the place is free again


def test_a_full_queue_refuses_at_once_in_the_browsers_language():
    app = HeldApp()
    gate = admitted(app, limit=1, queue=1, wait=5.0)
    client, results = Client(gate), []
    threads = [in_background(client, "/held", results)]
    assert app.entered.acquire(timeout=5)
    threads.append(in_background(client, "/held", results))
    while gate.state()["waiting"] != 1:
        threading.Event().wait(0.001)
    refused = client.get("/quick", headers={"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"})
    assert refused.status_code == 503
    assert refused.data == b"<html>pagina occupata</html>"
    htmx = client.get("/quick", headers={"Accept-Language": "it", "HX-Request": "true"})
    assert htmx.status_code == 503 and htmx.data == b"occupato"  # the toast's bare message
    # The API's clients get a problem (RFC 9457), as for every other error of the API.
    api = client.get("/api/v1/orders", headers={"Accept-Language": "it"})
    assert api.status_code == 503 and api.headers["Retry-After"]
    assert api.headers["Content-Type"] == "application/problem+json"
    assert api.get_json() == {
        "type": "about:blank",
        "title": "Servizio non disponibile",
        "status": 503,
        "detail": "occupato",
        "instance": "/api/v1/orders",
    }
    app.go.set()
    for thread in threads:
        thread.join(5)
    assert [r.status_code for r in results] == [200, 200]


@pytest.mark.parametrize("path", ["/ws", "/static/js/portal.js"])
def test_websockets_and_static_files_are_not_counted(path):
    app = HeldApp()
    gate = admitted(app, limit=1, wait=0.01)
    client, results = Client(gate), []
    holder = in_background(client, "/held", results)
    assert app.entered.acquire(timeout=5)
    assert client.get(path).status_code == 200  # the only place is taken, yet it is served
    app.go.set()
    holder.join(5)
    assert gate.state()["refused"] == 0


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("", "en"),
        ("pl", "pl"),
        ("de-DE,de;q=0.9,ro;q=0.8,fr;q=0.7", "ro"),
        ("fr;q=0.2,nl;q=0.8", "nl"),
        ("it;q=bad,fr", "fr"),
        ("zz", "en"),
    ],
)
def test_the_refusal_speaks_the_first_language_the_portal_has(header, language):
    assert _best_language(header) == language


def test_the_portal_renders_its_refusal_page_in_every_language(bare_app):
    gate = bare_app.extensions["admission"]
    english, bare, title = gate.refusals["en"]
    assert title == "Service Unavailable"
    assert b'<html lang="en">' in english and b"503" in english
    assert bare.startswith(b"The portal is busier than it can answer")
    polish, *__ = gate.refusals["pl"]
    assert b'<html lang="pl">' in polish
    assert "Portal jest w tej chwili bardziej obciążony".encode() in polish
    assert gate.limit == bare_app.config["ADMISSION_LIMIT"] > 0
