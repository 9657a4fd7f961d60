"""Live updates, the engine: the websocket endpoint, the hub, the bus and the viewer.

What each region is, who receives it and how it renders belongs to blueprints/fragments,
which the engine reaches only through its registry.
"""

from flask import Blueprint, Flask

bp = Blueprint("live", __name__)


def init_live(app: Flask) -> None:
    """One hub per application, subscribed to committed domain events."""
    from core import events

    from .hub import Hub

    hub = Hub(app)
    app.extensions["live_hub"] = hub
    events.subscribe(hub.on_commit)
    app.config.setdefault(
        "SOCK_SERVER_OPTIONS",
        {
            "ping_interval": app.config["LIVE_PING_SECONDS"],
            "max_message_size": app.config["LIVE_MAX_MESSAGE_BYTES"],
        },
    )


from . import socket  # noqa: E402,F401  (the /ws route registers on import)
