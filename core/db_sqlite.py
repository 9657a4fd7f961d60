"""SQLite connection settings for the embedded default."""

from sqlalchemy import event


def configure_sqlite(engine) -> None:
    """Foreign keys on, WAL so readers do not wait for the writer, a busy timeout."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()
