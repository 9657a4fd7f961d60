"""The websocket endpoint at /ws, opened by htmx's ws extension on every signed-in page.

Each socket's handler is its only writer. It takes what its page says (a watch list,
and whether to resync: "load", "reconnect" or "update") at a bounded rate, merging
what comes faster into one; it closes the socket when the session ends (an event,
its idle limit, its lifetime), with a notice first and nothing after the close frame.
"""

import json
import logging
import math
import threading
import time
from contextlib import suppress
from socket import SHUT_WR
from urllib.parse import urlsplit

from flask import abort, current_app, g, request, session
from flask_babel import gettext as _
from simple_websocket import ConnectionClosed

from blueprints.fragments import registry
from core import i18n, numbers
from core.models import utcnow
from core.sessions import token_hash
from extensions import db, sock

from . import bp
from .hub import CLOSE_TOO_MANY, TOO_MANY, Connection, notice
from .viewer import Viewer, assumed_viewer

log = logging.getLogger("portal.live")

# Seconds a writer sleeps when nothing is due: a push, a close, a frame in and every
# deadline (its session's end, a waiting ask or resync) wake it anyway, and 10,000 idle
# writers waking every few seconds would keep a worker busy.
IDLE_WAIT = 60.0
CLOSE_WAIT = 2.0  # seconds a writer waits for the page to answer its close frame
CLOSE_FAILED = 1011  # the server failed: htmx's ws extension reconnects after it
RESYNCS = {"load": "fragments", "reconnect": "all"}  # what each mode asks for
STRENGTH = {"reconnect": 2, "load": 1}  # merging asks: the strongest resync stands
# Sockets are opened hub.OPENING_AT_ONCE at a time per process, from the handshake to
# the page's first resync (at most OPENING_HOLD seconds each): a restarted worker's
# thousands of pages are each opened and resynced in turn, rather than all handshaken
# first and resynced only after the last handshake. A page waits for its turn at most
# OPENING_WAIT seconds, then goes ahead.
OPENING_WAIT = 10.0
OPENING_HOLD = 2.0


def _ungate() -> None:
    """This request's turn among the sockets being opened is over (if it had one)."""
    if g.pop("live_gate", False):
        current_app.extensions["live_hub"].opening.release()


bp.teardown_request(lambda _exc: _ungate())  # whatever path the handshake took


@bp.before_request
def check_handshake():
    """Refuse before the upgrade: a live session and a same-site Origin are required.

    flask-sock checks neither, and a websocket is not covered by CSRF protection. The
    session is the cookie's token, as Flask-Login's loader reads it, resolved by the hub
    into the viewer the socket keeps: one statement, or none when the same session's
    viewer was read moments ago (a restarted worker's pages come back together).
    """
    token = session.get("_user_id")
    viewer = None
    if isinstance(token, str) and 0 < len(token) <= 100:
        hub = current_app.extensions["live_hub"]
        g.live_gate = hub.opening.acquire(timeout=OPENING_WAIT)
        # What the browser asked for now: a person who picked no language gets their
        # pushes in the page's language.
        browser = request.accept_languages.best_match(list(i18n.LANGUAGES))
        viewer, _why, g.live_access = hub.viewer_for(token_hash(token), browser)
        if viewer is not None and "as" in request.args:
            viewer = _assumed(viewer, request.args["as"], browser)
        db.session.remove()  # the socket may live for hours: hold no connection meanwhile
    if viewer is None:
        _ungate()
        abort(401, description=_("Sign in first."))
    g.live_viewer = viewer
    origin = request.headers.get("Origin", "")
    if not origin or urlsplit(origin).netloc != request.host:
        _ungate()
        abort(403, description=_("Cross-site websocket refused."))
    if request.headers.get("Upgrade", "").lower() != "websocket":
        _ungate()
        abort(400, description=_("This address only speaks websocket."))
    # No permessage-deflate: fragments are a few hundred bytes, and each socket's
    # compressor would cost ~100 KiB and CPU on every push (bench/fanout.py).
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)


def _assumed(staff: Viewer, raw: str, browser: str | None) -> Viewer | None:
    """A storefront page's socket that a staff session opened as a customer person
    (`?as=<person id>`, base.html): that person's viewer, if the session still opens the
    storefront as them; None (refused) otherwise. Read fresh, never kept."""
    person_id = numbers.record_id(raw)
    if staff.kind != "staff" or person_id is None:
        return None
    return assumed_viewer(staff.user_id, staff.token_hash, person_id, browser)[0]


@sock.route("/ws", bp=bp)
def socket(ws):
    """One page's socket: one writer, fed by the hub; the page says what it watches."""
    app = current_app._get_current_object()
    hub = app.extensions["live_hub"]
    viewer = g.pop("live_viewer")
    connection = Connection(ws=ws, viewer=viewer)
    if not hub.add(connection):
        _ungate()
        log.warning(
            "refused a socket: user %s has %s open in one session",
            viewer.user_id,
            app.config["WS_MAX_PER_SESSION"],
        )
        _close(ws, CLOSE_TOO_MANY, TOO_MANY, notice(TOO_MANY))
        return
    try:
        hub.opened(connection, g.pop("live_access"))
        _serve(hub, connection)
    except ConnectionClosed:
        pass
    except Exception:  # a database hiccup, say: the page reconnects (1011) and resyncs
        log.exception("the live socket of user %s failed", viewer.user_id)
        connection.close(CLOSE_FAILED, "server error")
    finally:
        _ungate()
        hub.remove(connection)
    _close(
        ws,
        connection.close_code,
        connection.close_reason,
        connection.close_notice,
        queued=connection,
    )


def _serve(hub, connection: Connection) -> None:
    """Until the page goes or the socket must close: take asks, resync, send what is queued."""
    ws = connection.ws
    resync_in = None  # seconds until the session's budget allows the waiting resync
    opening = time.monotonic() + OPENING_HOLD if g.get("live_gate") else None
    while ws.connected and connection.close_code is None:
        wake = _next_wake(connection, resync_in)
        if opening is not None:
            wake = max(0.005, min(wake, opening - time.monotonic()))
        ws.event.wait(timeout=wake)
        while (message := ws.receive(timeout=0)) is not None:
            asked = _parse(message)
            if asked is None:
                continue
            if connection.asked is None and connection.messages.take():
                _take(hub, connection, asked)
            else:  # over the rate: merged with what waits, taken when a token comes
                connection.asked = _merge(connection.asked, asked)
        if connection.asked is not None and connection.messages.take():
            asked, connection.asked = connection.asked, None
            _take(hub, connection, asked)
        resync_in = hub.resync_due(connection)
        if utcnow() >= connection.viewer.ends_at:
            hub.recheck(connection)
        _drain(ws, connection)
        if opening is not None and (connection.taken or time.monotonic() >= opening):
            _ungate()  # its first resync is sent (or the page said nothing): the next one
            opening = None


def _next_wake(connection: Connection, resync_in: float | None) -> float:
    """How long the writer may sleep: until a push wakes it, or until something is due."""
    waits = [IDLE_WAIT, (connection.viewer.ends_at - utcnow()).total_seconds()]
    if connection.asked is not None:
        waits.append(connection.messages.wait())
    if resync_in is not None:
        waits.append(resync_in)
    return max(0.005, min(waits))


def _parse(message) -> dict | None:
    try:
        data = json.loads(message)
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _merge(waiting: dict | None, asked: dict) -> dict:
    """Two asks as one: the later watch list and page, the stronger resync."""
    if waiting is None:
        return asked
    modes = (waiting.get("mode"), asked.get("mode"))
    mode = max(modes, key=lambda m: STRENGTH.get(m, 0) if isinstance(m, str) else 0)
    return {**asked, "mode": mode}


def _take(hub, connection: Connection, asked: dict) -> None:
    """A page's watch list: resync its regions (lists too, after a reconnect)."""
    watched = registry.clean_watch_list(asked.get("watch"))
    page = str(asked.get("page", ""))[:60]
    # "load": the page was just rendered, but an event may have slipped in before the
    # socket opened, so its fragments are sent fresh (its lists are fresh enough).
    # "reconnect": anything may have been missed, lists included. "update": the page
    # swapped in new regions it fetched itself; they are fresh, only remember them.
    mode = asked.get("mode")
    resync = RESYNCS.get(mode) if isinstance(mode, str) else None
    connection.taken += 1
    hub.watch(connection, watched, page, resync, _rendered(asked.get("rendered")))


def _rendered(value) -> float | None:
    """When the page began rendering, as base.html wrote it (seconds since the epoch)."""
    try:
        rendered = float(value)
    except (TypeError, ValueError):
        return None
    return rendered if math.isfinite(rendered) else None


def _drain(ws, connection: Connection) -> None:
    outbox = connection.outbox
    while outbox:
        ws.send(outbox.popleft())


def _close(ws, code, reason: str, notice_html: str = "", *, queued=None) -> None:
    """Send what is queued, the notice, then the close frame; then nothing at all.

    The notice is a fragment the page shows (`#live-status`). The close frame must be
    the last bytes the page gets: after the handler returns, flask-sock's response
    makes Werkzeug write an HTTP status line onto the connection, which a browser
    reads as a broken frame. It then fails the socket with 1006, throwing away
    whatever it had received in the same read (the notice and the close frame with
    it) and reconnecting. So the sending side is shut right after the close frame.
    """
    try:
        if ws.connected:
            if queued is not None:
                _drain(ws, queued)
            if code is not None:
                if notice_html:
                    ws.send(notice_html)
                ws.close(code, reason)
    except ConnectionClosed:
        pass
    finally:
        _end_stream(ws)


def _end_stream(ws) -> None:
    """Shut the sending side, then give the page a moment to answer the close frame.

    Waiting for its answer (simple-websocket's reader ends on it) closes the connection
    cleanly, rather than with unread bytes that would reset it.
    """
    with suppress(OSError, AttributeError):
        ws.sock.shutdown(SHUT_WR)
    reader = getattr(ws, "thread", None)
    if reader is not None and reader is not threading.current_thread():
        reader.join(timeout=CLOSE_WAIT)
