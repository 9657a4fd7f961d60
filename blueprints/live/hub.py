"""The live hub of one process: its open sockets, and fan-out of events to them.

Each socket has one writer (its own handler thread) draining a bounded queue, so
a slow or dead client never holds up the others and never grows memory without
bound. For an event, the hub finds the sockets watching a region it affects,
groups them by audience (everything that changes how the region renders), renders
once per audience from current data, and queues the result for each socket.

No client can make the hub work without bound: a session holds at most
WS_MAX_PER_SESSION sockets in a process, and what a page asks for (its watch list,
a resync of its regions) is taken at a bounded rate, later asks merged into one.
"""

import itertools
import logging
import queue
import threading
import time
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field

from flask import Flask, current_app, has_app_context
from flask_babel import gettext
from markupsafe import Markup, escape
from sqlalchemy import select

from blueprints.fragments import registry
from core import i18n
from core.events import Event
from core.i18n import N_
from core.models import Promotion, utcnow
from extensions import db

from .bus import LocalBus, RedisBus, namespace
from .viewer import (
    ACCESS_TOPICS,
    BLOCKED,
    RESYNC_TOPICS,
    SIGNED_OUT,
    Viewer,
    concerned,
    ended_sessions,
    session_viewer,
)

log = logging.getLogger("portal.live")

QUEUE_LIMIT = 64

# Close codes. htmx's ws extension reconnects after 1006, 1011, 1012 and 1013 only, so a
# page closed with these stays closed and says why (portal.js, from the reason if the
# notice pushed just before the close frame did not arrive).
CLOSE_ENDED = 1008  # the session ended; reason BLOCKED or SIGNED_OUT
CLOSE_TOO_MANY = 4429  # more than WS_MAX_PER_SESSION sockets in this session
TOO_MANY = "too many sockets"

NOTICES = {
    BLOCKED: N_("Your access was blocked and you were signed out."),
    SIGNED_OUT: N_("You were signed out."),
    TOO_MANY: N_(
        "This page is not live: too many pages of the portal are open in this browser."
        " Close some of them, then reload this page."
    ),
}


def notice(why: str, locale: str | None = None) -> str:
    """What an open page shows when its socket is about to close for good, and why, in
    the page's language (the socket viewer's)."""
    with i18n.in_language(locale) if locale else nullcontext():
        text = escape(gettext(NOTICES[why]))
        if why == SIGNED_OUT:
            link = Markup('<a href="/login">%s</a>') % gettext("Sign in again")
            text = Markup("%s %s") % (text, link)
    return f'<div id="live-status" class="live-status" role="alert">{text}</div>'


class Bucket:
    """A token bucket: `burst` at once, then `rate` a second. Thread-safe."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self) -> bool:
        with self.lock:
            self._refill(time.monotonic())
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False

    def wait(self) -> float:
        """Seconds until a token is there."""
        with self.lock:
            self._refill(time.monotonic())
            return max(0.0, (1 - self.tokens) / self.rate)

    def full(self) -> bool:
        with self.lock:
            self._refill(time.monotonic())
            return self.tokens >= self.burst


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
    close_notice: str = ""  # sent after the queue and before the close frame
    dropped: int = 0
    number: int = field(default_factory=itertools.count(1).__next__)
    # What the page asked for and the socket has not taken yet (see socket.py): the
    # latest watch list merged with the strongest resync asked since, and a resync
    # waiting for its session's budget ("fragments" or "all").
    asked: dict | None = None
    resync: str | None = None
    messages: Bucket | None = None  # the page's messages taken, per second
    taken: int = 0  # watch lists taken (for tests)

    def push(self, html: str) -> None:
        """Queue a message; when the client is too slow, the oldest waiting one goes.

        Fragments are full snapshots, so a newer one makes an older one redundant.
        Once the socket is closing, nothing more is queued: its notice comes last.
        """
        if self.close_code is not None:
            return
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

    def close(self, code: int, reason: str, notice_html: str = "") -> None:
        """Have the writer close the socket: what is queued, then the notice, then the frame.

        The first reason given stands (a block is not reworded by the sign-out after it).
        """
        if self.close_code is None:
            self.close_code, self.close_reason, self.close_notice = code, reason, notice_html
        self.wake()

    def end_session(self, why: str) -> None:
        """The session ended (BLOCKED or SIGNED_OUT): say so on the page, then close."""
        self.close(CLOSE_ENDED, why, notice(why, self.viewer.locale))

    def want_resync(self, mode: str) -> None:
        """Ask for a resync; "all" (lists too) includes "fragments"."""
        if mode == "all" or self.resync is None:
            self.resync = mode

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
        self.freed = threading.Condition(self.lock)  # a socket went (see add())
        self.connections: set[Connection] = set()
        self.per_session: dict[str, int] = defaultdict(int)  # token hash -> sockets held
        self.budgets: dict[str, Bucket] = {}  # token hash -> its resyncs, see resync_due()
        self._swept = time.monotonic()
        self._bus = None
        self._bus_pid = None
        self._bus_lock = threading.Lock()
        self._clock_pid = None
        self.renders = 0  # fragments rendered (for tests and the benchmark)

    # --- the bus -------------------------------------------------------------------

    @property
    def bus(self):
        """The bus, created on first use in each process (threads do not survive a fork)."""
        import os

        bus = self._bus
        if bus is not None and self._bus_pid == os.getpid():
            return bus
        # One bus per process, even when the first sockets open together: each bus
        # subscribes on its own, and two would deliver every event twice.
        with self._bus_lock:
            if self._bus is None or self._bus_pid != os.getpid():
                url = self.app.config.get("REDIS_URL")
                if url:
                    channel = f"{namespace(self.app.config)}:events"
                    self._bus = RedisBus(self.deliver, url, channel=channel, resync=self.resync_all)
                else:
                    self._bus = LocalBus(self.deliver, self.resync_all)
                self._bus_pid = os.getpid()
            return self._bus

    def on_commit(self, events: list[Event]) -> None:
        """core.events subscriber: hand committed events of this app to the bus."""
        if has_app_context() and current_app._get_current_object() is not self.app:
            return
        self.bus.publish(events)

    # --- sockets -------------------------------------------------------------------

    def add(self, connection: Connection, wait: float = 1.0) -> bool:
        """Hold this socket; False when its session already has as many as it may.

        At the limit, it waits up to `wait` seconds for one to go: a page that
        navigates opens its new socket while the old one may still be closing.
        """
        self.bus  # noqa: B018  (subscribe to Redis before the first event can matter)
        self._start_clock()
        config = self.app.config
        token = connection.viewer.token_hash

        def room() -> bool:
            return self.per_session.get(token, 0) < config["WS_MAX_PER_SESSION"]

        with self.freed:
            if not self.freed.wait_for(room, timeout=wait):
                return False
            self.per_session[token] += 1
            self.connections.add(connection)
            rate = max(1, config["LIVE_MESSAGES_PER_SECOND"])
            connection.messages = Bucket(rate, burst=2 * rate)
            if token not in self.budgets:
                per_minute = max(1, config["LIVE_RESYNCS_PER_MINUTE"])
                burst = max(1, config["WS_MAX_PER_SESSION"])
                self.budgets[token] = Bucket(per_minute / 60, burst=burst)
            self._sweep()
        return True

    def remove(self, connection: Connection) -> None:
        with self.freed:
            if connection not in self.connections:
                return
            self.connections.discard(connection)
            token = connection.viewer.token_hash
            self.per_session[token] -= 1
            if self.per_session[token] <= 0:
                del self.per_session[token]
            self.freed.notify_all()

    def _sweep(self) -> None:
        """Forget the resync budgets of sessions gone from this process (once a minute).

        Only full ones: closing every page and opening them again does not refill it.
        """
        if time.monotonic() - self._swept < 60:
            return
        self._swept = time.monotonic()
        for token in [t for t, b in self.budgets.items() if t not in self.per_session]:
            if self.budgets[token].full():
                del self.budgets[token]

    def resync_due(self, connection: Connection) -> float | None:
        """Send the resync this socket waits for if its session's budget allows.

        Returns None when nothing waits, else the seconds until the budget allows it.
        A page asks once per socket ("load", "reconnect"), so a session's pages all
        reloading at once (the burst) never wait; a client asking in a loop gets one
        resync per 60 / LIVE_RESYNCS_PER_MINUTE seconds, whatever it sends meanwhile.
        """
        if connection.resync is None:
            return None
        budget = self.budgets.get(connection.viewer.token_hash)
        if budget is not None and not budget.take():
            return budget.wait()
        mode, connection.resync = connection.resync, None
        with self.app.app_context():
            messages = self.render_for([connection], connection.watching, lists=mode == "all")
        for conn, html in messages:
            conn.push(html)
        return None

    def resync_all(self) -> None:
        """Every socket of this process gets its regions afresh (events may have been lost).

        Sessions are re-checked first (a sign-out may have been among what was lost), then
        every region is rendered once per audience, as for an event.
        """
        self.recheck_sessions()
        connections = [c for c in self.snapshot() if c.watching and c.close_code is None]
        if not connections:
            return
        watched = frozenset().union(*(c.watching for c in connections))
        with self.app.app_context():
            for conn, html in self.render_for(connections, watched, lists=True):
                conn.push(html)

    def recheck(self, connection: Connection) -> None:
        """The session reached its end time: close the socket, or learn its new end."""
        viewer = connection.viewer
        with self.app.app_context():
            fresh, why = session_viewer(viewer.user_id, viewer.token_hash, viewer.browser_locale)
        if fresh is None:
            connection.end_session(why)
            return
        connection.viewer = fresh
        if fresh != viewer:  # rights changed with no event heard: all of it afresh
            connection.want_resync("all")

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
        connections = [c for c in self.snapshot() if c.close_code is None]
        if not connections:
            return 0
        closed = 0
        with self.app.app_context():  # the notices are translated (in each page's language)
            ended = ended_sessions({c.viewer.token_hash for c in connections})
            for conn in connections:
                why = ended.get(conn.viewer.token_hash)
                if why is not None:
                    conn.end_session(why)
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

    def snapshot(self) -> list[Connection]:
        with self.lock:
            return list(self.connections)

    def watch(self, connection: Connection, watched: frozenset[str], page: str, resync):
        """The page told us which live regions it shows; send them fresh if asked.

        `resync` is "fragments" after a page load (its lists were just rendered),
        "all" after a reconnect (list changes may have been missed too), or None.
        The resync is sent by `resync_due`, within the session's budget.
        """
        connection.parsed = registry.parse_watch(watched)
        connection.watching = watched
        connection.page = page
        if resync is not None:
            connection.want_resync(resync)
            self.resync_due(connection)

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
            viewer, why = session_viewer(
                conn.viewer.user_id, conn.viewer.token_hash, conn.viewer.browser_locale
            )
            if viewer is None:
                conn.end_session(why)
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
