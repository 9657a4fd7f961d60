"""The websocket endpoint at /ws, opened by htmx's ws extension on every signed-in page."""

import json
import logging
from urllib.parse import urlsplit

from flask import abort, current_app, request
from flask_login import current_user
from simple_websocket import ConnectionClosed

from blueprints.fragments import registry
from core.sessions import token_hash
from extensions import db, sock

from . import bp
from .hub import Connection
from .viewer import load_viewer

log = logging.getLogger("portal.live")


@bp.before_request
def check_handshake():
    """Refuse before the upgrade: a live session and a same-site Origin are required.

    flask-sock checks neither, and a websocket is not covered by CSRF protection.
    """
    if not current_user.is_authenticated:
        abort(401, description="Sign in first.")
    origin = request.headers.get("Origin", "")
    if not origin or urlsplit(origin).netloc != request.host:
        abort(403, description="Cross-site websocket refused.")
    if request.headers.get("Upgrade", "").lower() != "websocket":
        abort(400, description="This address only speaks websocket.")
    # No permessage-deflate: fragments are a few hundred bytes, and each socket's
    # compressor would cost ~100 KiB and CPU on every push (bench/fanout.py).
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)


@sock.route("/ws", bp=bp)
def socket(ws):
    """One page's socket: one writer, fed by the hub; the page says what it watches."""
    app = current_app._get_current_object()
    hub = app.extensions["live_hub"]
    viewer = load_viewer(current_user.id, token_hash(current_user.session_token))
    db.session.remove()  # the socket may live for hours: hold no connection meanwhile
    if viewer is None:
        ws.close(1008, "signed out")
        return
    connection = Connection(ws=ws, viewer=viewer)
    hub.add(connection)
    try:
        while ws.connected and connection.close_code is None:
            ws.event.wait(timeout=5.0)
            while (message := ws.receive(timeout=0)) is not None:
                _handle(hub, connection, message)
            _drain(ws, connection)
        _drain(ws, connection)
        if connection.close_code is not None and ws.connected:
            ws.close(connection.close_code, connection.close_reason)
    except ConnectionClosed:
        pass
    finally:
        hub.remove(connection)


def _drain(ws, connection: Connection) -> None:
    while not connection.outbox.empty():
        ws.send(connection.outbox.get_nowait())


def _handle(hub, connection: Connection, message) -> None:
    """A page's watch list: resync its regions (lists too, after a reconnect)."""
    try:
        data = json.loads(message)
    except (TypeError, ValueError):
        return
    if not isinstance(data, dict):
        return
    watched = registry.clean_watch_list(data.get("watch"))
    page = str(data.get("page", ""))[:60]
    # "load": the page was just rendered, but an event may have slipped in before the
    # socket opened, so its fragments are sent fresh (its lists are fresh enough).
    # "reconnect": anything may have been missed, lists included. "update": the page
    # swapped in new regions it fetched itself; they are fresh, only remember them.
    mode = data.get("mode")
    resync = {"load": "fragments", "reconnect": "all"}.get(mode)
    hub.watch(connection, watched, page, resync)
