"""The event bus between processes: in-process by default, Redis pub/sub with REDIS_URL.

Messages carry what changed (`{topic, id}`), never HTML: every process renders
for the sockets it holds. The bus hands batches to a callback on its own thread,
so a committing request never waits for rendering or sending.
"""

import json
import logging
import queue
import threading
import time
from collections.abc import Callable

from core.events import Event

log = logging.getLogger("portal.live")
CHANNEL = "portal:events"

Deliver = Callable[[list[Event]], None]


def encode(events: list[Event]) -> str:
    return json.dumps([{"topic": e.topic, "id": e.id, "data": list(e.data)} for e in events])


def decode(raw: str | bytes) -> list[Event]:
    return [
        Event(item["topic"], item["id"], tuple(tuple(pair) for pair in item.get("data", [])))
        for item in json.loads(raw)
    ]


class LocalBus:
    """Batches of events delivered on one worker thread of this process."""

    def __init__(self, deliver: Deliver):
        self.deliver = deliver
        self.inbox: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="live-bus", daemon=True)
        self.thread.start()

    def publish(self, events: list[Event]) -> None:
        self.inbox.put(events)

    def _run(self) -> None:
        while True:
            events = self.inbox.get()
            try:
                self.deliver(events)
            except Exception:  # a bad event must not stop the live layer
                log.exception("live update failed for %s", events)

    def close(self) -> None:
        """Nothing to release: the worker thread is a daemon."""


class RedisBus(LocalBus):
    """Every process publishes to one channel and delivers what it hears to its own sockets."""

    def __init__(self, deliver: Deliver, url: str):
        import redis

        self.client = redis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30
        )
        self.client.ping()
        self._stopped = threading.Event()
        super().__init__(deliver)
        self.listener = threading.Thread(target=self._listen, name="live-redis", daemon=True)
        self.listener.start()

    def publish(self, events: list[Event]) -> None:
        try:
            self.client.publish(CHANNEL, encode(events))
        except Exception:
            # Pages resync on reconnect and sockets re-check their session: a lost
            # message is a stale fragment for a moment, never a leak. Log it loudly.
            log.exception("could not publish %d live events to Redis", len(events))

    def _listen(self) -> None:
        while not self._stopped.is_set():
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                for message in pubsub.listen():
                    if self._stopped.is_set():
                        break
                    if message.get("type") == "message":
                        self.inbox.put(decode(message["data"]))
            except Exception:
                if self._stopped.is_set():
                    break
                log.exception("Redis subscription lost; reconnecting")
                time.sleep(1)

    def close(self) -> None:
        self._stopped.set()
        try:
            self.client.close()
        except Exception:  # closing a dead client is not an error worth raising
            log.debug("closing the Redis client failed", exc_info=True)
