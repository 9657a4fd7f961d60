"""The live hub of one process: its open sockets, and fan-out of events to them.

Each socket has one writer (its own handler thread) draining a bounded queue, so
a slow or dead client never holds up the others and never grows memory without
bound. For an event, the hub finds the sockets watching a region it affects,
groups them by audience (everything that changes how the region renders), renders
once per audience from current data, and queues the result for each socket.

No client can make the hub work without bound: a session holds at most
WS_MAX_PER_SESSION sockets in a process, and what a page asks for (its watch list,
a resync of its regions) is taken at a bounded rate, later asks merged into one.

A worker that restarts gets all its pages back at once, so a handshake and its resync
are cheap. The viewer behind a session is kept for VIEWER_SECONDS; past them, or for
another session, one light statement says whether the session still carries its person,
whose rights are kept for VIEWER_SECONDS too (any access event forgets every viewer and
right, and a socket that opened across one is re-checked). A resync's fragments are
shared by the sockets of one audience that ask within SHARE_SECONDS while no event came
in between (each event batch starts a new generation).
"""

import dataclasses
import itertools
import logging
import os
import queue
import threading
import time
from collections import defaultdict, deque
from contextlib import nullcontext
from dataclasses import dataclass, field

from flask import Flask, current_app, has_app_context
from flask_babel import gettext
from markupsafe import Markup, escape
from sqlalchemy import select

from blueprints.fragments import registry
from core import i18n, sessions
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
    VIEW_ENDED,
    Viewer,
    concerned,
    ended,
    ended_sessions,
    reload_viewer,
    session_states,
    session_viewer,
    state_ends_at,
)

log = logging.getLogger("portal.live")

QUEUE_LIMIT = 64
VIEWER_SECONDS = 10.0  # a session's viewer is reused this long, unless access changes
# Events after which no session read before is reused (viewers, core.sessions.KeptSessions).
SESSION_TOPICS = ACCESS_TOPICS | {sessions.CHANGED}
# Events after which what groups may see, kept per process (core.visibility), is read again.
GROUP_TOPICS = frozenset({"group_changed"})
SHARE_SECONDS = 2.0  # a resync's fragments serve the same audience this long, same data
CACHE_LIMIT = 20_000  # entries of either cache before the expired ones are swept
DATABASE_AT_ONCE = 8  # handshakes' session reads, and resyncs' renders, at once
# A page says when it was rendered; its "load" resync renders only the regions an event
# touched since (less this margin, for clocks of other hosts). Touches are kept this long:
# an older page resyncs everything.
TOUCH_MARGIN = 1.0
TOUCH_KEEP = 120.0
OPENING_AT_ONCE = 256  # sockets between their handshake and their first resync, see socket.py

# Close codes. htmx's ws extension reconnects after 1006, 1011, 1012 and 1013 only, so a
# page closed with these stays closed and says why (portal.js, from the reason if the
# notice pushed just before the close frame did not arrive).
CLOSE_ENDED = 1008  # the session ended; reason BLOCKED or SIGNED_OUT
CLOSE_TOO_MANY = 4429  # more than WS_MAX_PER_SESSION sockets in this session
TOO_MANY = "too many sockets"

NOTICES = {
    BLOCKED: N_("Your access was blocked and you were signed out."),
    SIGNED_OUT: N_("You were signed out."),
    VIEW_ENDED: N_("The storefront opened for this customer has closed."),
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


class SessionReader:
    """Handshakes' session reads, batched: one statement for all that wait, up to BATCH.

    A restarted worker's pages all come back within seconds, and one statement each would
    be thousands of round trips (each with a pool checkout and its ping).
    """

    BATCH = 500

    def __init__(self, app: Flask):
        self.app = app
        self.inbox: queue.Queue = queue.Queue()
        self.pid = None
        self.lock = threading.Lock()

    def read(self, token_hash: str):
        """The session's `session_states` row, or None if there is no such session."""
        if self.pid != os.getpid():  # one reader per process: threads do not survive a fork
            with self.lock:
                if self.pid != os.getpid():
                    threading.Thread(target=self._run, name="live-sessions", daemon=True).start()
                    self.pid = os.getpid()
        slot = [threading.Event(), None, None]  # done, the state, an error
        self.inbox.put((token_hash, slot))
        slot[0].wait()
        if slot[2] is not None:
            raise slot[2]
        return slot[1]

    def _run(self) -> None:
        while True:
            batch = [self.inbox.get()]
            while len(batch) < self.BATCH:
                try:
                    batch.append(self.inbox.get_nowait())
                except queue.Empty:
                    break
            states, error = {}, None
            try:
                with self.app.app_context():
                    states = session_states(sorted({token for token, _ in batch}))
            except Exception as exc:  # each handshake fails alone, the reader goes on
                error = exc
            for token, slot in batch:
                slot[1], slot[2] = states.get(token), error
                slot[0].set()


@dataclass(eq=False)
class Connection:
    """One open socket: who is behind it, what its page shows, and what waits to be sent."""

    ws: object
    viewer: Viewer
    page: str = ""
    watching: frozenset[str] = frozenset()
    parsed: dict = field(default_factory=dict)  # region id -> (kind, key), see watch()
    # What waits to be sent, oldest first; a full one drops its oldest when a new one comes.
    outbox: deque = field(default_factory=lambda: deque(maxlen=QUEUE_LIMIT))
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
    # Only these regions need the waiting "fragments" resync (None: every watched one).
    resync_only: frozenset[str] | None = None
    messages: Bucket | None = None  # the page's messages taken, per second
    taken: int = 0  # watch lists taken (for tests)

    def push(self, html: str) -> None:
        """Queue a message; when the client is too slow, the oldest waiting one goes.

        Fragments are full snapshots, so a newer one makes an older one redundant.
        Once the socket is closing, nothing more is queued: its notice comes last.
        """
        if self.close_code is not None:
            return
        if len(self.outbox) >= QUEUE_LIMIT:
            self.dropped += 1
        self.outbox.append(html)  # atomic; at maxlen it drops the oldest
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

    def want_resync(self, mode: str, only: frozenset[str] | None = None) -> None:
        """Ask for a resync; "all" (lists too) includes "fragments"; `only` narrows a
        "fragments" resync to these regions (a second ask widens it again)."""
        if self.resync is not None:
            only = None
        if mode == "all" or self.resync is None:
            self.resync = mode
        self.resync_only = None if mode == "all" else only

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
        self.resyncs = 0  # resyncs sent to sockets (for tests)
        # Sessions' viewers: (token hash, browser language) -> (access generation, until,
        # viewer). Any access event starts a new access generation, forgetting them all.
        self.viewers: dict[tuple, tuple[int, float, Viewer]] = {}
        self.rights: dict[tuple, tuple[int, float, Viewer]] = {}  # (user id, language), alike
        self.access_generation = 0
        self.groups_generation = 0  # see groups_state()
        # Resyncs' fragments: (kind, audience, key) -> (generation, until, html). Every
        # event batch delivered starts a new generation: the data may have changed.
        self.shared: dict[tuple, tuple[int, float, str]] = {}
        self.generation = 0
        # One read of a person's rights, one render per audience at a time, and few at
        # once: a restarted worker's thousands of handshakes leave the pool to requests.
        self._rendering = [threading.Lock() for _ in range(DATABASE_AT_ONCE)]
        self._reading = [threading.Lock() for _ in range(DATABASE_AT_ONCE)]
        self.sessions = SessionReader(app)
        self._parsed: dict[frozenset, dict] = {}  # watch list -> its parse, see watch()
        # When an event last touched each region (time.time(), this process's delivery),
        # and when anything may have changed unseen: this process starting, an access
        # change, a resync of everything (the bus lost events). See load_resync().
        self.touched: dict[str, float] = {}
        self.touched_all = time.time()
        self._touch_swept = time.monotonic()
        self.opening = threading.BoundedSemaphore(OPENING_AT_ONCE)  # see socket.py

    # --- the bus -------------------------------------------------------------------

    @property
    def bus(self):
        """The bus, created on first use in each process (threads do not survive a fork)."""
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
                    self._bus = RedisBus(
                        self.deliver,
                        url,
                        channel=channel,
                        resync=self.resync_all,
                        heard=self._heard,
                    )
                else:
                    self._bus = LocalBus(self.deliver, self.resync_all)
                self._bus_pid = os.getpid()
            return self._bus

    def on_commit(self, events: list[Event]) -> None:
        """core.events subscriber: hand committed events of this app to the bus.

        An access change counts here at once, before the bus delivers it: the next
        request of this process must not reuse a session read before it.
        """
        if has_app_context() and current_app._get_current_object() is not self.app:
            return
        if any(event.topic in SESSION_TOPICS for event in events):
            self.access_changed()
        if any(event.topic in GROUP_TOPICS for event in events):
            self.groups_generation += 1
        self.bus.publish(events)

    def _heard(self, events: list[Event] | None) -> None:
        """The Redis bus heard a batch (None: a resync) from some process, this one too."""
        if events is None or any(event.topic in SESSION_TOPICS for event in events):
            self.access_changed()
        if events is None or any(event.topic in GROUP_TOPICS for event in events):
            self.groups_generation += 1

    def groups_state(self) -> int | None:
        """The generation what groups may see is kept under in this process (core.visibility):
        moved on by every change of a group committed here or heard from another process;
        None, as access_state, while one could go unheard."""
        return None if self.access_state() is None else self.groups_generation

    def access_state(self) -> int | None:
        """The access generation a session read now holds for, or None while an access
        change made by another process could go unheard (Redis away): nothing read then
        is to be reused (core.sessions.KeptSessions)."""
        if self.app.config.get("REDIS_URL"):
            bus = self._bus  # made by the first socket or commit; not made (waited for) here
            if bus is None or self._bus_pid != os.getpid() or not bus.hears_everything:
                return None
        return self.access_generation

    # --- viewers -------------------------------------------------------------------

    def viewer_for(
        self, token_hash: str, browser_locale: str | None
    ) -> tuple[Viewer | None, str | None, int]:
        """The viewer of a session opening a socket, with the access generation it holds for.

        Reused for VIEWER_SECONDS (a restarted worker's pages come back together, several
        per session) unless an access event came since; a session past its end is read
        again. A socket that opens across an access event is re-checked (see `opened`).
        """
        key = (token_hash, browser_locale)
        generation = self.access_generation
        if (viewer := self._kept(self.viewers, key, generation)) is not None:
            return viewer, None, generation
        state = self.sessions.read(token_hash)
        if (why := ended(state)) is not None:
            return None, why, generation
        person = (state.user_id, browser_locale)
        if (rights := self._kept(self.rights, person, generation)) is None:
            with self._reading[hash(person) % len(self._reading)]:
                if (rights := self._kept(self.rights, person, generation)) is None:
                    rights, why = session_viewer(state.user_id, token_hash, browser_locale)
                    if rights is None:
                        return None, why, generation
                    self._keep(self.rights, person, generation, rights)
        viewer = dataclasses.replace(rights, token_hash=token_hash, ends_at=state_ends_at(state))
        self._keep(self.viewers, key, generation, viewer)
        return viewer, None, generation

    def _kept(self, cache: dict, key, generation: int) -> Viewer | None:
        hit = cache.get(key)
        fresh = hit is not None and hit[0] == generation and hit[1] > time.monotonic()
        return hit[2] if fresh and utcnow() < hit[2].ends_at else None

    def _keep(self, cache: dict, key, generation: int, viewer: Viewer) -> None:
        if generation != self.access_generation:
            return  # read before an access event: not to be reused
        if len(cache) >= CACHE_LIMIT:
            self._sweep_cache(cache)
        cache[key] = (generation, time.monotonic() + VIEWER_SECONDS, viewer)

    def access_changed(self) -> None:
        """Rights or sessions may have changed: no viewer read before is reused."""
        self.access_generation += 1
        self.viewers, self.rights = {}, {}

    def opened(self, connection: Connection, generation: int) -> None:
        """A socket is held: if access changed since its viewer was read, read it again
        (the event that would have closed or updated it went to the sockets held then)."""
        if generation != self.access_generation:
            self.recheck(connection)

    @staticmethod
    def _sweep_cache(cache: dict) -> None:
        now = time.monotonic()
        for key in [k for k, entry in cache.items() if entry[1] <= now]:
            cache.pop(key, None)
        if len(cache) >= CACHE_LIMIT:
            cache.clear()

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
        only, connection.resync_only = connection.resync_only, None
        self.resyncs += 1
        with self.app.app_context():
            messages = self.render_for(
                [connection],
                connection.watching if only is None else only,
                lists=mode == "all",
                shared=True,
            )
        for conn, html in messages:
            conn.push(html)
        return None

    def resync_all(self) -> None:
        """Every socket of this process gets its regions afresh (events may have been lost).

        Sessions are re-checked first (a sign-out may have been among what was lost), then
        every region is rendered once per audience, as for an event.
        """
        self.new_generation()
        self.access_changed()
        self.groups_generation += 1
        self._touch(set(), everything=True)
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
            fresh, why = reload_viewer(viewer)
        if fresh is None:
            connection.end_session(why)
            return
        connection.viewer = fresh
        if fresh != viewer:  # rights changed with no event heard: all of it afresh
            connection.want_resync("all")

    # --- time ----------------------------------------------------------------------

    def _start_clock(self) -> None:
        """One clock per process: promotions start and end by themselves, not by a commit."""
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
            if ended:
                self.access_changed()
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

    def watch(
        self,
        connection: Connection,
        watched: frozenset[str],
        page: str,
        resync,
        rendered: float | None = None,
    ):
        """The page told us which live regions it shows; send them fresh if asked.

        `resync` is "fragments" after a page load (its lists were just rendered),
        "all" after a reconnect (list changes may have been missed too), or None.
        `rendered`: when the page began rendering (its clock, time.time()); a "fragments"
        resync then covers only the regions an event touched since.
        The resync is sent by `resync_due`, within the session's budget.
        """
        # Read-only, and shared by the sockets of pages that show the same regions.
        parsed = self._parsed.get(watched)
        if parsed is None:
            if len(self._parsed) >= CACHE_LIMIT:
                self._parsed = {}
            parsed = self._parsed[watched] = registry.parse_watch(watched)
        connection.parsed = parsed
        connection.watching = watched  # first: from now on an event pushes to it
        connection.page = page
        only = None
        if resync == "fragments" and rendered is not None:
            only = self.touched_since(watched, rendered)
            if only is not None and not only:
                return  # nothing it shows changed since it was rendered
        if resync is not None:
            connection.want_resync(resync, only)
            self.resync_due(connection)

    def touched_since(self, watched: frozenset[str], rendered: float) -> frozenset[str] | None:
        """The watched regions an event touched since `rendered`; None: maybe all of them.

        An event the page's render missed committed after the render began, so this
        process delivered it later still: either before the socket watched (its touch
        is after `rendered`) or after (it was pushed to the socket). The margin covers
        another host's clock.
        """
        since = rendered - TOUCH_MARGIN
        if since <= self.touched_all or time.time() - rendered > TOUCH_KEEP:
            return None
        touched = self.touched
        return frozenset(r for r in watched if touched.get(r, 0.0) >= since)

    def _touch(self, region_ids: set[str], everything: bool) -> None:
        now = time.time()
        if everything:
            self.touched_all = now
        for region_id in region_ids:
            self.touched[region_id] = now
        if time.monotonic() - self._touch_swept > TOUCH_KEEP:
            self._touch_swept = time.monotonic()
            old = now - TOUCH_KEEP - TOUCH_MARGIN
            self.touched = {r: t for r, t in self.touched.items() if t >= old}

    # --- events --------------------------------------------------------------------

    def new_generation(self) -> None:
        """The data may have changed: resyncs render afresh."""
        self.generation += 1
        self.shared = {}

    def forget(self) -> None:
        """The database changed with no event (tests restoring it): reuse nothing kept."""
        self.new_generation()
        self.access_changed()
        self.groups_generation += 1
        self._touch(set(), everything=True)

    def deliver(self, events: list[Event]) -> None:
        """Fan a batch of committed events out to the sockets of this process."""
        self.new_generation()
        access = any(event.topic in ACCESS_TOPICS for event in events)
        if access:
            self.access_changed()
        # Touch first, then look for sockets: a page watching by then gets the push, one
        # that watches later sees the touch (see touched_since). With no socket here the
        # regions are not worked out (some ask the database): everything counts as touched.
        region_ids = self._regions(events) if self.snapshot() else None
        self._touch(region_ids or set(), everything=access or region_ids is None)
        connections = self.snapshot()
        if not connections:
            return
        if region_ids is None:
            region_ids = self._regions(events)
        with self.app.app_context():
            for event in events:
                if event.topic in ACCESS_TOPICS:
                    self._access_changed(event, connections)
            if region_ids:
                for conn, html in self.render_for(connections, region_ids):
                    conn.push(html)

    def _regions(self, events: list[Event]) -> set[str]:
        """The region ids these events may change."""
        region_ids: set[str] = set()
        try:
            with self.app.app_context():  # some topics ask the database (a cart's people)
                for event in events:
                    region_ids |= registry.affected(event)
        except Exception:  # a database hiccup: every page resyncs all it shows
            self._touch(set(), everything=True)
            raise
        return region_ids

    def _access_changed(self, event: Event, connections: list[Connection]) -> None:
        """Rights changed: reload the viewers concerned, close the ended, resync the rest."""
        resync = []
        for conn in concerned(event, connections):
            viewer, why = reload_viewer(conn.viewer)
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

    def render_for(self, connections, region_ids, *, lists: bool = True, shared: bool = False):
        """Messages for these sockets covering these regions: one render per audience.

        `shared`: a resync's, which may reuse what a resync of the same audience rendered
        moments ago from the same data, and leaves its own for the next ones.
        """
        wanted = defaultdict(list)  # (kind, audience) -> [(connection, keys)]
        # A socket's audiences follow from its viewer, page and watch list, which the
        # pages of one session share: asked once per such triple, not once per socket.
        asked = {}
        for conn in connections:
            viewer, page, parsed = conn.viewer, conn.page, conn.parsed
            key = (id(viewer), page, id(parsed))
            if (hit := asked.get(key)) is None:
                found = []
                for kind, keys in registry.watched_keys(parsed, region_ids).items():
                    if kind.is_list and not lists:
                        continue
                    # deny by default: core.access has no place for them
                    if (audience := kind.audience(conn)) is not None:
                        found.append((kind, audience, keys))
                hit = asked[key] = (viewer, parsed, found)  # alive, so ids stay theirs
            for kind, audience, keys in hit[2]:
                wanted[(kind, audience)].append((conn, keys))
        parts = defaultdict(list)
        for (kind, _audience), members in wanted.items():
            all_keys = sorted({k for _, keys in members for k in keys})
            if kind.is_list:
                html_by_key = {k: registry.refresh_signal(k) for k in all_keys}
            elif shared:
                html_by_key = self._shared_render(kind, _audience, members[0][0], all_keys)
            else:
                try:
                    html_by_key = kind.render(members[0][0], all_keys)
                except Exception:  # one broken region must not silence the others
                    log.exception("rendering %s %s failed", kind.name, all_keys)
                    continue
                self.renders += len(html_by_key)
            for conn, keys in members:
                parts[conn].extend(html_by_key[k] for k in keys if k in html_by_key)
        # Sockets given the same fragments share one message (10,000 sockets, a few kinds).
        joined: dict[tuple, str] = {}
        messages = []
        for conn, chunks in parts.items():
            if chunks:
                key = tuple(map(id, chunks))  # the chunks live until this returns
                if (message := joined.get(key)) is None:
                    message = joined[key] = "".join(chunks)
                messages.append((conn, message))
        return messages

    def _shared_render(self, kind, audience, connection: Connection, keys: list) -> dict:
        """A resync's fragments: what this audience's last resyncs rendered from the same
        data, and the rest rendered once (a second socket asking meanwhile waits for it)."""
        generation = self.generation

        def kept(wanted) -> dict:
            now, found = time.monotonic(), {}
            for k in wanted:
                entry = self.shared.get((kind, audience, k))
                if entry is not None and entry[0] == generation and entry[1] > now:
                    found[k] = entry[2]
            return found

        found = kept(keys)
        if len(found) == len(keys):
            return found
        with self._rendering[hash((kind.name, audience)) % len(self._rendering)]:
            found.update(kept([k for k in keys if k not in found]))
            missing = [k for k in keys if k not in found]
            if not missing:
                return found
            try:
                fresh = kind.render(connection, missing)
            except Exception:  # one broken region must not silence the others
                log.exception("rendering %s %s failed", kind.name, missing)
                return found
            self.renders += len(fresh)
            if generation == self.generation:
                if len(self.shared) >= CACHE_LIMIT:
                    self._sweep_cache(self.shared)
                until = time.monotonic() + SHARE_SECONDS
                for k, html in fresh.items():
                    self.shared[(kind, audience, k)] = (generation, until, html)
        return {**found, **fresh}

    def close_all(self, code: int = 1012, reason: str = "server restarting") -> None:
        """On shutdown: 1012 tells the browser to reconnect (to another worker)."""
        for conn in self.snapshot():
            conn.close(code, reason)
