"""Live updates, the engine: the websocket endpoint, the hub, the bus and the viewer.

What each region is, who receives it and how it renders belongs to blueprints/fragments,
which the engine reaches only through its registry.
"""

import time

from flask import Blueprint, Flask, current_app, g

bp = Blueprint("live", __name__)

# How a page reconnects its socket (portal.js, from base.html's body; bench/fanout.py's
# clients alike): after the n-th failed try in a row, a delay drawn at random from
# [0, min(CAP, BASE * 2**n)) ms ("full jitter"), so that the pages of a restarted worker
# come back spread out instead of all at once, and a lone page soon.
RECONNECT_BASE_MS = 1000
RECONNECT_CAP_MS = 30000


@bp.before_app_request
def note_render_start() -> None:
    """When this request began, before it read anything: its page's socket tells the hub,
    which then resyncs only what an event touched since (hub.touched_since)."""
    g.live_rendered_at = time.time()


@bp.app_context_processor
def reconnect_policy() -> dict:
    """The pages' reconnect policy and render time, for base.html."""
    return {
        "live_reconnect": f"{RECONNECT_BASE_MS} {RECONNECT_CAP_MS}",
        "live_rendered_at": f"{g.get('live_rendered_at', 0.0):.3f}",
    }


def groups_generation() -> int | None:
    """The running application's generation of what groups may see (Hub.groups_state):
    kept in this process until a group's next change, None while nothing may be."""
    hub = current_app.extensions.get("live_hub")
    return hub.groups_state() if hub is not None else None


def init_live(app: Flask) -> None:
    """One hub per application, subscribed to committed domain events."""
    from core import events, visibility

    from .hub import Hub

    hub = Hub(app)
    app.extensions["live_hub"] = hub
    events.subscribe(hub.on_commit)
    # What groups may not see is kept like sessions: until a group's change is heard.
    visibility.keep_under(groups_generation)
    app.config.setdefault(
        "SOCK_SERVER_OPTIONS",
        {
            "ping_interval": app.config["LIVE_PING_SECONDS"],
            "max_message_size": app.config["LIVE_MAX_MESSAGE_BYTES"],
        },
    )


from . import socket  # noqa: E402,F401  (the /ws route registers on import)
