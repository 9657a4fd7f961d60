"""What the benchmarks share: a fresh database to build on, and the option that names it."""

import argparse
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url


def add_database_url(parser: argparse.ArgumentParser) -> None:
    """--database-url: where to build (BENCH_DATABASE_URL, else a fresh SQLite file)."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="SQLAlchemy URL (default: BENCH_DATABASE_URL, else a fresh SQLite file); "
        "a mysql+pymysql URL names a MariaDB database that is dropped and created",
    )


@contextmanager
def database(
    url: str | None, prefix: str = "portal-bench-", *, keep: bool = False
) -> Iterator[str]:
    """A fresh database: a temporary SQLite file, or a dropped and re-created MariaDB one,
    dropped again when the benchmark ends (a benchmark leaves nothing behind).

    keep: a MariaDB database is used as it is found and left behind, for runs that build a
    large catalogue once and measure it again (bench/catalog.py --keep-database).
    """
    if keep and url is not None and url.startswith("mysql"):
        parsed = make_url(url)
        server = create_engine(parsed.set(database=""))
        with server.begin() as conn:
            conn.exec_driver_sql(
                f"CREATE DATABASE IF NOT EXISTS `{parsed.database}` "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        server.dispose()
        yield url
        return
    if url is None:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            yield f"sqlite:///{tmp}/portal.db"
        return
    if url.startswith("mysql"):
        parsed = make_url(url)
        server = create_engine(parsed.set(database=""))
        with server.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{parsed.database}`")
            conn.exec_driver_sql(
                f"CREATE DATABASE `{parsed.database}` "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        try:
            yield url
        finally:
            with server.begin() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{parsed.database}`")
            server.dispose()
        return
    yield url


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
