"""Live updates: the websocket endpoint and the fan-out of events to open pages."""

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


from . import (  # noqa: E402,F401  (routes and region kinds register on import)
    regions_billing,
    regions_groups,
    regions_imports,
    regions_office,
    regions_orders,
    regions_quotes,
    regions_reports,
    socket,
)
