"""Talking to the live channel from tests: a page's watch list, and what arrives on a socket."""

import json
import time

import simple_websocket
from simple_websocket import ConnectionClosed


class Client(simple_websocket.Client):
    """simple-websocket's client, closing its socket when the handshake is refused.

    The library raises from its constructor with the socket still open: each refused
    handshake (a 401, a 403, a signed-out persona) left one for the garbage collector,
    which reported it as an unclosed-socket warning in whatever test ran then.
    """

    def __init__(self, *args, **kwargs):
        try:
            super().__init__(*args, **kwargs)
        except BaseException:
            sock = getattr(self, "sock", None)
            if sock is not None:
                sock.close()
            raise


def watch(ws, regions, mode="update", rendered=None):
    """Tell the server which regions the socket's page shows (`load`: send them fresh;
    with `rendered`, the time its page began rendering, only what changed since)."""
    asked = {"watch": sorted(regions), "page": "test", "mode": mode}
    if rendered is not None:
        asked["rendered"] = rendered
    ws.send(json.dumps(asked))


def drain(ws, seconds=0.6, expect=None):
    """Messages until `seconds` pass, or until `expect` of them have arrived."""
    messages, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0 and len(messages) != expect:
        try:
            message = ws.receive(timeout=left)
        except ConnectionClosed:
            break
        if message is None:
            break
        messages.append(message)
    return messages


def received_text(ws, seconds=1.0) -> str:
    """Everything that arrives within `seconds`, as one text."""
    return "".join(drain(ws, seconds))
