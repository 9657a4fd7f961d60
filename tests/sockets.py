"""Talking to the live channel from tests: a page's watch list, and what arrives on a socket."""

import json
import time

from simple_websocket import ConnectionClosed


def watch(ws, regions, mode="update"):
    """Tell the server which regions the socket's page shows (`load`: send them fresh)."""
    ws.send(json.dumps({"watch": sorted(regions), "page": "test", "mode": mode}))


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
