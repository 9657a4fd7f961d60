"""Admission control: each process serves at most ADMISSION_LIMIT requests at once.

A worker that takes every request it is sent shares its CPU and its database pool
among all of them: past a point every request is slower, and once the pool is empty
they fail with the pool's timeout (a 500). Here the requests past the limit wait, in
order, for a place; if none frees within ADMISSION_WAIT_SECONDS, or more than
ADMISSION_QUEUE are already waiting, the answer is a 503 with `Retry-After`, built
without the database, in the language the browser asks for. The limit is kept below
the database pool, so an admitted request always finds a connection.

Not counted: websockets (an open page holds its socket for hours; the live engine
bounds them itself) and static files (no database, a few microseconds each).
"""

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable

from flask import Flask, render_template
from flask_babel import force_locale

from core import i18n

log = logging.getLogger("portal.admission")

EXEMPT_PREFIXES = ("/ws", "/static/")


class Admission:
    """WSGI middleware: a bounded number of requests in the app, a bounded queue before it.

    The semaphore is threading's: with gevent's monkey-patching (gunicorn's gevent
    worker) it is a greenlet semaphore, with threads (gthread, the development server) a
    thread one, so the same code bounds either kind of worker.
    """

    def __init__(
        self,
        wsgi_app: Callable,
        *,
        limit: int,
        queue: int,
        wait: float,
        refusals: dict[str, tuple[bytes, bytes]],
    ):
        self.wsgi_app = wsgi_app
        self.limit = limit
        self.queue = queue
        self.wait = wait
        self.retry_after = str(max(1, round(wait)))
        self.refusals = refusals
        self._places = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.waiting = 0
        self.serving = 0
        self.refused = 0

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(EXEMPT_PREFIXES):
            return self.wsgi_app(environ, start_response)
        if not self._enter():
            return self._refuse(environ, start_response)
        try:
            # The body is produced within the app call for every page the portal renders;
            # a streamed body would be read after the place is given back.
            return self.wsgi_app(environ, start_response)
        finally:
            self._leave()

    def _enter(self) -> bool:
        """Take a place, waiting at most `wait` seconds behind at most `queue` others."""
        if self._places.acquire(blocking=False):
            with self._lock:
                self.serving += 1
            return True
        with self._lock:
            if self.waiting >= self.queue:
                self.refused += 1
                return False
            self.waiting += 1
        started = time.monotonic()
        admitted = False
        try:
            admitted = self._places.acquire(timeout=self.wait)
        finally:
            with self._lock:
                self.waiting -= 1
                if admitted:
                    self.serving += 1
                else:
                    self.refused += 1
        if not admitted:
            log.warning("refused a request after %.1f s in the queue", time.monotonic() - started)
        return admitted

    def _leave(self) -> None:
        with self._lock:
            self.serving -= 1
        self._places.release()

    def _refuse(self, environ: dict, start_response: Callable) -> list[bytes]:
        locale = _best_language(environ.get("HTTP_ACCEPT_LANGUAGE", ""))
        page, bare, title = self.refusals.get(locale) or self.refusals["en"]
        path = environ.get("PATH_INFO", "")
        if path.startswith(API_PREFIX):
            # The API answers every error as an RFC 9457 problem, this one too.
            body = json.dumps(
                {
                    "type": "about:blank",
                    "title": title,
                    "status": 503,
                    "detail": bare.decode(),
                    "instance": path,
                },
                ensure_ascii=False,
            ).encode()
            kind = "application/problem+json"
        else:
            # htmx shows a refusal's bare message in a toast; a page load gets the page.
            body = bare if environ.get("HTTP_HX_REQUEST") == "true" else page
            kind = "text/html; charset=utf-8"
        start_response(
            "503 SERVICE UNAVAILABLE",
            [
                ("Content-Type", kind),
                ("Content-Length", str(len(body))),
                ("Retry-After", self.retry_after),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]

    def state(self) -> dict:
        with self._lock:
            return {"serving": self.serving, "waiting": self.waiting, "refused": self.refused}


def _best_language(header: str) -> str:
    """The first of the browser's languages the portal speaks (no database: no person)."""
    best, weight = "en", -1.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower().split("-")[0]
        if code not in i18n.LANGUAGES:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if q > weight:
            best, weight = code, q
    return best


API_PREFIX = "/api/"
BUSY = i18n.N_(
    "The portal is busier than it can answer right now, so this request was not taken. "
    "Nothing was changed: please try again in a few seconds."
)


def _refusal_pages(app: Flask) -> dict[str, tuple[bytes, bytes, str]]:
    """The 503 page, bare message and problem title in every language, rendered once at
    start-up."""
    pages = {}
    # As a request to the portal's own address: only its host is answered in production.
    with app.test_request_context("/", base_url=app.config["PORTAL_URL"]):
        for code in i18n.LANGUAGES:
            with force_locale(code):
                message = str(i18n._(BUSY))
                page = render_template("errors/busy.html", message=message, lang=code)
                title = str(i18n._(i18n.N_("Service Unavailable")))
            pages[code] = (page.encode(), message.encode(), title)
    return pages


def init_admission(app: Flask) -> None:
    """Wrap the app (inside ProxyFix, which must see the request first)."""
    limit = app.config["ADMISSION_LIMIT"]
    if limit <= 0:
        return
    admission = Admission(
        app.wsgi_app,
        limit=limit,
        queue=app.config["ADMISSION_QUEUE"],
        wait=app.config["ADMISSION_WAIT_SECONDS"],
        refusals=_refusal_pages(app),
    )
    app.extensions["admission"] = admission
    app.wsgi_app = admission
