"""The event bus between processes: in-process by default, Redis pub/sub with REDIS_URL.

Messages carry what changed (`{topic, id}`), never HTML: every process renders
for the sockets it holds. The bus hands batches to a callback on its own thread,
so a committing request never waits for rendering, sending or Redis.

Redis pub/sub keeps nothing for a subscriber that is away, so the Redis bus makes up
for what an outage loses instead of losing it quietly:

- an event it cannot publish is delivered to this process's own sockets at once, and
  once Redis answers again it publishes a resync request that every process hears;
- whenever its subscription comes back (redis-py's own reconnect or the listener's),
  this process resyncs every socket it holds: it may have missed others' events.

A resync re-renders every watched region from the database, so nothing committed
during the outage stays unseen. The channel is `<REDIS_NAMESPACE>:events`, so that
portals sharing one Redis never hear each other.
"""

import json
import logging
import queue
import threading
from collections.abc import Callable

from core.events import Event
from core.namespaces import namespace  # noqa: F401  (the job queue shares it: core.jobs)

log = logging.getLogger("portal.live")

Deliver = Callable[[list[Event]], None]
Resync = Callable[[], None]
RESYNC = object()  # inbox item: every socket of this process gets its regions afresh
_STOP = object()
RESYNC_MESSAGE = json.dumps({"resync": True})


def encode(events: list[Event]) -> str:
    return json.dumps([{"topic": e.topic, "id": e.id, "data": list(e.data)} for e in events])


def decode(raw: str | bytes) -> list[Event]:
    return [
        Event(item["topic"], item["id"], tuple(tuple(pair) for pair in item.get("data", [])))
        for item in json.loads(raw)
    ]


class LocalBus:
    """Batches of events delivered on one worker thread of this process."""

    def __init__(self, deliver: Deliver, resync: Resync | None = None):
        self.deliver = deliver
        self.resync = resync
        self.inbox: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="live-bus", daemon=True)
        self.thread.start()

    def publish(self, events: list[Event]) -> None:
        self.inbox.put(events)

    def _run(self) -> None:
        while True:
            item = self.inbox.get()
            if item is _STOP:
                return
            try:
                if item is RESYNC:
                    if self.resync is not None:
                        self.resync()
                else:
                    self.deliver(item)
            except Exception:  # a bad event must not stop the live layer
                log.exception("live update failed for %s", "a resync" if item is RESYNC else item)

    def close(self) -> None:
        self.inbox.put(_STOP)


class RedisBus(LocalBus):
    """Every process publishes to its portal's channel and delivers what it hears."""

    # Seconds between attempts to subscribe again while Redis is away (doubling up to).
    RETRY_FIRST, RETRY_MOST = 0.2, 5.0

    def __init__(
        self,
        deliver: Deliver,
        url: str,
        *,
        channel: str,
        resync: Resync,
        heard: Callable[[list[Event] | None], None] | None = None,
    ):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.channel = channel
        # Told at once, on the listening thread, of each batch heard (None: a resync),
        # before it waits its turn for delivery behind slower work.
        self.heard = heard
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=5,
            socket_connect_timeout=3,
            health_check_interval=30,
            # One quick reconnect (a connection Redis dropped while idle), then the error:
            # the bus deals with an outage itself rather than blocking on retries.
            retry=Retry(NoBackoff(), 1),
        )
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.subscribed = threading.Event()  # set while the subscription is confirmed
        self.subscriptions = 0  # confirmed (re)subscriptions
        self.failures = 0  # times the subscription was lost or could not be made
        self.missed = False  # events not published: every process must resync
        self.outbox: queue.Queue = queue.Queue()
        super().__init__(deliver, resync)
        self.publisher = threading.Thread(target=self._publish_forever, name="live-redis-pub")
        self.publisher.daemon = True
        self.publisher.start()
        self.listener = threading.Thread(target=self._listen, name="live-redis", daemon=True)
        self.listener.start()
        # Subscribed before the first socket counts on it (not waiting long if Redis is away:
        # the sockets then start with their own resync, and the reconnect resyncs them).
        self.subscribed.wait(timeout=3)

    # --- publishing ---------------------------------------------------------------

    def publish(self, events: list[Event]) -> None:
        """Queue a committed batch; the request that committed it goes on at once."""
        self.outbox.put(events)

    def _publish_forever(self) -> None:
        while True:
            batch = self.outbox.get()
            if batch is _STOP:
                return
            # Whatever queued up while Redis was slow goes out as one message.
            while True:
                try:
                    more = self.outbox.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    self.outbox.put(_STOP)
                    break
                batch = batch + more
            self._publish(batch)

    def _publish(self, events: list[Event]) -> None:
        try:
            self.client.publish(self.channel, encode(events))
        except Exception as exc:
            # This process's sockets get them now; the others once Redis is back.
            log.warning("could not publish %d live events to Redis: %s", len(events), exc)
            with self._lock:
                self.missed = True
            self.inbox.put(events)
            return
        self._publish_missed()

    def _publish_missed(self) -> bool:
        """After events went unpublished: ask every process (this one too) to resync.

        False when Redis still does not take it (it is asked again next time).
        """
        with self._lock:
            if not self.missed:
                return True
            self.missed = False
        try:
            self.client.publish(self.channel, RESYNC_MESSAGE)
        except Exception as exc:
            log.warning("could not publish a live resync to Redis: %s", exc)
            with self._lock:
                self.missed = True
            return False
        log.warning("Redis is back: every process resyncs its live pages")
        return True

    # --- listening ----------------------------------------------------------------

    def _listen(self) -> None:
        delay = self.RETRY_FIRST
        while not self._stopped.is_set():
            pubsub = None
            try:
                pubsub = self.client.pubsub()
                pubsub.subscribe(self.channel)
                while not self._stopped.is_set():
                    # A timeout, not a blocking read: the loop sees `close()` and runs
                    # redis-py's health check (a PING every 30 s) on a quiet channel.
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._on_subscribed()
                        delay = self.RETRY_FIRST
                    elif message["type"] == "message":
                        self._heard(message["data"])
            except Exception as exc:
                if self._stopped.is_set():
                    break
                self.subscribed.clear()
                with self._lock:
                    self.failures += 1
                if delay == self.RETRY_FIRST:  # once per outage, not once per attempt
                    log.warning("Redis subscription lost (%s); reconnecting", exc)
                self._stopped.wait(delay)
                delay = min(delay * 2, self.RETRY_MOST)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # closing a dead connection is not worth raising
                        log.debug("closing the Redis subscription failed", exc_info=True)

    def _on_subscribed(self) -> None:
        """The subscription is confirmed: from now on, every event published reaches us.

        If it was ever lost (or never made before now), events may have been missed, and
        the resync renders every region from what is committed by now.
        """
        with self._lock:
            again = self.subscriptions > 0 or self.failures > 0
            self.subscriptions += 1
            missed = self.missed
        if (again or missed) and self.heard is not None:
            self.heard(None)  # what was read before the outage is not to be reused
        self.subscribed.set()
        if missed and self._publish_missed():
            return  # every process resyncs, this one too: it hears its own request
        if again or missed:
            log.warning("Redis subscription back: resyncing this process's live pages")
            self.inbox.put(RESYNC)

    def _heard(self, raw: bytes) -> None:
        try:
            batch = None if json.loads(raw) == {"resync": True} else decode(raw)
        except (TypeError, ValueError, KeyError, AttributeError):
            log.warning("ignored a malformed message on %s", self.channel)
            return
        if self.heard is not None:
            self.heard(batch)
        self.inbox.put(RESYNC if batch is None else batch)

    @property
    def hears_everything(self) -> bool:
        """Subscribed, with nothing left unpublished: no process's event can go unheard."""
        return self.subscribed.is_set() and not self.missed

    def close(self) -> None:
        self._stopped.set()
        self.outbox.put(_STOP)
        super().close()
        try:
            self.client.close()
        except Exception:  # closing a dead client is not an error worth raising
            log.debug("closing the Redis client failed", exc_info=True)
