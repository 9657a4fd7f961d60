"""SQLite connection settings for the embedded default."""

from sqlalchemy import event

# SQLite has no row locks, and the dialect leaves out FOR UPDATE. pysqlite opens a
# transaction only at the first write, so every read before it sees the latest commit
# and a change made meanwhile by another request goes unnoticed: archiving a product that
# another request has just deleted updated 0 rows (StaleDataError), a photo was added to
# it (a foreign key error), a cart line removed twice. A locking read (with_for_update)
# therefore first takes the database's write lock, waiting for the current writer as
# MariaDB waits for the row lock, and reads what that writer committed; the lock is held
# to the end of the transaction. Plain reads still never wait.
BEGIN_FOR_UPDATE = "BEGIN IMMEDIATE"


def _locking(context) -> bool:
    statement = getattr(getattr(context, "compiled", None), "statement", None)
    return getattr(statement, "_for_update_arg", None) is not None


def configure_sqlite(engine) -> None:
    """Foreign keys on, WAL so readers do not wait for the writer, a busy timeout, a cache,
    and a locking read that waits for the writer (BEGIN_FOR_UPDATE)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        # The default page cache is 2 MiB, a tenth of the catalogue's indexes at 100,000
        # products; a memory map reads through the operating system's cache, shared by
        # all connections (bench/catalog.py: a deep page 1.4 -> 1.0 ms, a search 20 -> 18).
        cursor.execute("PRAGMA cache_size=-16384")
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _lock_before_locking_read(conn, cursor, statement, parameters, context, executemany):
        dbapi_connection = cursor.connection
        if _locking(context) and not dbapi_connection.in_transaction:
            dbapi_connection.execute(BEGIN_FOR_UPDATE)
