"""Figures kept in this process for one database, forgotten by every write that changes them.

The catalogue's totals (core.catalog) and its filter panels (core.catalog_filters) are
counts that cost a statement over many rows; each is kept here until a write to what it
counts. `WriteKept` listens to its engine: a matching statement forgets everything kept at
once (a new generation) and again when its transaction ends; a figure read in a
transaction that began before the latest change is used but not kept, since its snapshot
may predate that change. Engine events never raise: a rollback after a lost connection
runs them on a connection whose `info` raises, and that error would replace the one the
request failed with.
"""

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from weakref import WeakKeyDictionary

from sqlalchemy import event


def writes_to(*tables: str) -> re.Pattern:
    """A pattern matching a statement that writes to one of `tables` (group 1: its verb),
    as the ORM, Core and raw SQL send it on SQLite and MariaDB: INSERT [IGNORE | OR ...]
    INTO, REPLACE INTO, DELETE FROM or UPDATE, the table quoted or not, with its schema or
    not. A `changes` test for WriteKept."""
    names = "|".join(re.escape(table) for table in tables)
    return re.compile(
        r"\s*(INSERT(?:\s+(?:IGNORE|OR\s+\w+))?\s+INTO|REPLACE\s+INTO|DELETE\s+FROM|UPDATE)\s+"
        rf"(?:[`\"]?\w+[`\"]?\.)?[`\"]?(?:{names})[`\"]?(?!\w)",
        re.IGNORECASE,
    )


class WriteKept:
    """Values by key for one engine, each for `seconds()` after it was read (asked at every
    get: a setting tests may turn), the `limit` most recently used."""

    def __init__(
        self,
        name: str,
        changes: Callable[[str], bool],
        *,
        seconds: Callable[[], float],
        limit: int = 10_000,
    ):
        self.changes = changes
        self.seconds = seconds
        self.limit = limit
        self.began_key = f"portal_{name}_generation"  # connection.info: generation at begin
        self.wrote_key = f"portal_{name}_wrote"
        self.generation = 0
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        """The kept value for `key`, or None (never kept, expired, or changed since)."""
        with self.lock:
            kept = self.entries.get(key)
            if kept is None or kept[0] != self.generation:
                return None
            if time.monotonic() - kept[1] > (self.seconds() if kept[3] is None else kept[3]):
                return None
            self.entries.move_to_end(key)
            return kept[2]

    def began_at(self, connection) -> int | None:
        """The generation the connection's transaction began under (None: before any)."""
        return connection.info.get(self.began_key)

    def put(self, key, value, began_at: int | None, seconds: float | None = None) -> None:
        """Keep a value read in a transaction that began at generation `began_at`, if no
        change came since (its snapshot may predate it); for `seconds` if given, else for
        the store's `seconds()`."""
        with self.lock:
            if began_at != self.generation:
                return
            self.entries[key] = (began_at, time.monotonic(), value, seconds)
            self.entries.move_to_end(key)
            while len(self.entries) > self.limit:
                self.entries.popitem(last=False)

    def changed(self) -> None:
        with self.lock:
            self.generation += 1
            self.entries.clear()

    def on_begin(self, conn) -> None:
        if not conn.invalidated:
            conn.info[self.began_key] = self.generation

    def on_statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.changes(statement):
            conn.info[self.wrote_key] = True
            self.changed()

    def on_end(self, conn) -> None:
        # Invalidated: what it wrote is lost, and forgetting is always safe.
        if conn.invalidated or conn.info.pop(self.wrote_key, False):
            self.changed()


class PerEngine:
    """One WriteKept per engine (a test's and a benchmark's databases apart), made by
    `make()` at its first use and listening to that engine's writes from then on."""

    def __init__(self, make: Callable[[], WriteKept]):
        self.make = make
        self.kept: WeakKeyDictionary = WeakKeyDictionary()
        self.lock = threading.Lock()

    def of(self, engine) -> WriteKept:
        with self.lock:
            kept = self.kept.get(engine)
            if kept is None:
                kept = self.kept[engine] = self.make()
                event.listen(engine, "begin", kept.on_begin)
                event.listen(engine, "before_cursor_execute", kept.on_statement)
                event.listen(engine, "commit", kept.on_end)
                event.listen(engine, "rollback", kept.on_end)
            return kept

    def forget(self) -> None:
        """Forget what every engine's store keeps (a change no engine of this process saw)."""
        with self.lock:
            for kept in self.kept.values():
                kept.changed()
