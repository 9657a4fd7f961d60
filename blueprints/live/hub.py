"""The live hub of one process: its open sockets, and fan-out of events to them.

Each socket has one writer (its own handler thread) draining a bounded queue, so
a slow or dead client never holds up the others and never grows memory without
bound. For an event, the hub finds the sockets watching a region it affects,
groups them by audience (everything that changes how the region renders), renders
once per audience from current data, and queues the result for each socket.
"""

import itertools
import logging
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from flask import Flask, current_app, has_app_context
from sqlalchemy import select

from blueprints.fragments import registry
from core.events import Event
from core.models import Promotion, utcnow
from extensions import db

from .bus import LocalBus, RedisBus
from .viewer import ACCESS_TOPICS, RESYNC_TOPICS, Viewer, concerned, live_tokens, load_viewer

log = logging.getLogger("portal.live")

QUEUE_LIMIT = 64
CLOSE = object()  # sentinel: the writer closes the socket


def signed_out() -> str:
    """What an open page shows when its person's session ended (the socket closes next)."""
    return (
        '<div id="live-status" class="live-status" role="alert">'
        'You have been signed out. <a href="/login">Sign in again</a></div>'
    )


@dataclass(eq=False)
class Connection:
    """One open socket: who is behind it, what its page shows, and what waits to be sent."""

    ws: object
    viewer: Viewer
    page: str = ""
    watching: frozenset[str] = frozenset()
    parsed: dict = field(default_factory=dict)  # region id -> (kind, key), see watch()
    outbox: queue.Queue = field(default_factory=lambda: queue.Queue(maxsize=QUEUE_LIMIT))
    close_code: int | None = None
    close_reason: str = ""
    dropped: int = 0
    number: int = field(default_factory=itertools.count(1).__next__)

    def push(self, html: str) -> None:
        """Queue a message; when the client is too slow, the oldest waiting one goes.

        Fragments are full snapshots, so a newer one makes an older one redundant.
        """
        while True:
            try:
                self.outbox.put_nowait(html)
                break
            except queue.Full:
                try:
                    self.outbox.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass
        self.wake()

    def close(self, code: int, reason: str) -> None:
        self.close_code, self.close_reason = code, reason
        self.wake()

    def wake(self) -> None:
        # simple-websocket's own event: set by incoming frames too, so the writer
        # waits on one thing for both.
        event = getattr(self.ws, "event", None)
        if event is not None:
            event.set()


class Hub:
    """The sockets held by this process and the rendering of pushes for them."""

    def __init__(self, app: Flask):
        self.app = app
        self.lock = threading.Lock()
        self.connections: set[Connection] = set()
        self._bus = None
        self._bus_pid = None
        self._clock_pid = None
        self.renders = 0  # fragments rendered (for tests and the benchmark)

    # --- the bus -------------------------------------------------------------------

    @property
    def bus(self):
        """The bus, created on first use in each process (threads do not survive a fork)."""
        import os

        if self._bus is None or self._bus_pid != os.getpid():
            url = self.app.config.get("REDIS_URL")
            self._bus = RedisBus(self.deliver, url) if url else LocalBus(self.deliver)
            self._bus_pid = os.getpid()
        return self._bus

    def on_commit(self, events: list[Event]) -> None:
        """core.events subscriber: hand committed events of this app to the bus."""
        if has_app_context() and current_app._get_current_object() is not self.app:
            return
        self.bus.publish(events)

    # --- sockets -------------------------------------------------------------------

    def add(self, connection: Connection) -> None:
        self.bus  # noqa: B018  (subscribe to Redis before the first event can matter)
        self._start_clock()
        with self.lock:
            self.connections.add(connection)

    # --- time ----------------------------------------------------------------------

    def _start_clock(self) -> None:
        """One clock per process: promotions start and end by themselves, not by a commit."""
        import os

        if self._clock_pid == os.getpid():
            return
        self._clock_pid = os.getpid()
        threading.Thread(target=self._tick_forever, name="live-clock", daemon=True).start()

    def _tick_forever(self) -> None:
        since = utcnow()
        next_recheck = time.monotonic() + self.app.config["LIVE_SESSION_RECHECK_SECONDS"]
        while True:
            time.sleep(self.app.config["LIVE_CLOCK_SECONDS"])
            try:
                since = self.tick(since)
                if time.monotonic() >= next_recheck:
                    next_recheck = (
                        time.monotonic() + self.app.config["LIVE_SESSION_RECHECK_SECONDS"]
                    )
                    self.recheck_sessions()
            except Exception:  # the clock must survive a database hiccup
                log.exception("live clock tick failed")

    def recheck_sessions(self) -> int:
        """Close sockets whose session ended unseen (an event lost on the way, say).

        One query for every socket this process holds, not one per socket: 1,000
        sockets that opened together would otherwise all ask at once.
        """
        connections = self.snapshot()
        if not connections:
            return 0
        with self.app.app_context():
            live = live_tokens({c.viewer.token_hash for c in connections})
        closed = 0
        for conn in connections:
            if conn.viewer.token_hash not in live:
                conn.push(signed_out())
                conn.close(1008, "signed out")
                closed += 1
        return closed

    def tick(self, since):
        """Push offers of promotions that started or ended in (since, now]; returns now."""
        now = utcnow()
        with self.app.app_context():
            changed = db.session.scalars(
                select(Promotion.id).where(
                    Promotion.starts_at.between(since, now) | Promotion.ends_at.between(since, now)
                )
            ).all()
        if changed:
            self.deliver([Event("promotion_changed", pid) for pid in changed])
        return now

    def remove(self, connection: Connection) -> None:
        with self.lock:
            self.connections.discard(connection)

    def snapshot(self) -> list[Connection]:
        with self.lock:
            return list(self.connections)

    def watch(self, connection: Connection, watched: frozenset[str], page: str, resync):
        """The page told us which live regions it shows; send them fresh if asked.

        `resync` is "fragments" after a page load (its lists were just rendered),
        "all" after a reconnect (list changes may have been missed too), or None.
        """
        connection.watching = watched
        connection.parsed = registry.parse_watch(watched)
        connection.page = page
        if resync is None:
            return
        with self.app.app_context():
            messages = self.render_for([connection], watched, lists=resync == "all")
        for conn, html in messages:
            conn.push(html)

    # --- events --------------------------------------------------------------------

    def deliver(self, events: list[Event]) -> None:
        """Fan a batch of committed events out to the sockets of this process."""
        connections = self.snapshot()
        if not connections:
            return
        with self.app.app_context():
            region_ids: set[str] = set()
            for event in events:
                if event.topic in ACCESS_TOPICS:
                    self._access_changed(event, connections)
                region_ids |= registry.affected(event)
            if region_ids:
                for conn, html in self.render_for(connections, region_ids):
                    conn.push(html)

    def _access_changed(self, event: Event, connections: list[Connection]) -> None:
        """Rights changed: reload the viewers concerned, close the ended, resync the rest."""
        resync = []
        for conn in concerned(event, connections):
            viewer = load_viewer(conn.viewer.user_id, conn.viewer.token_hash)
            if viewer is None:
                conn.push(signed_out())
                conn.close(1008, "signed out")
                continue
            changed = viewer != conn.viewer
            conn.viewer = viewer
            if changed or event.topic in RESYNC_TOPICS:
                resync.append(conn)
        if resync:
            # Together, so that a group's hundred open pages cost one render per audience.
            watched = frozenset().union(*(c.watching for c in resync))
            for c, html in self.render_for(resync, watched, lists=True):
                c.push(html)

    def render_for(self, connections, region_ids, *, lists: bool = True):
        """Messages for these sockets covering these regions: one render per audience."""
        wanted = defaultdict(list)  # (kind, audience) -> [(connection, keys)]
        for conn in connections:
            for kind, keys in registry.watched_keys(conn.parsed, region_ids).items():
                if kind.is_list and not lists:
                    continue
                audience = kind.audience(conn)
                if audience is None:  # deny by default: core.access has no place for them
                    continue
                wanted[(kind, audience)].append((conn, keys))
        parts = defaultdict(list)
        for (kind, _audience), members in wanted.items():
            all_keys = sorted({k for _, keys in members for k in keys})
            if kind.is_list:
                html_by_key = {k: registry.refresh_signal(k) for k in all_keys}
            else:
                try:
                    html_by_key = kind.render(members[0][0], all_keys)
                except Exception:  # one broken region must not silence the others
                    log.exception("rendering %s %s failed", kind.name, all_keys)
                    continue
                self.renders += len(html_by_key)
            for conn, keys in members:
                parts[conn].extend(html_by_key[k] for k in keys if k in html_by_key)
        return [(conn, "".join(chunks)) for conn, chunks in parts.items() if chunks]

    def close_all(self, code: int = 1012, reason: str = "server restarting") -> None:
        """On shutdown: 1012 tells the browser to reconnect (to another worker)."""
        for conn in self.snapshot():
            conn.close(code, reason)
