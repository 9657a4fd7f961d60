"""What the benchmarks share: a fresh database to build on, and the option that names it."""

import argparse
import os
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
def database(url: str | None, prefix: str = "portal-bench-") -> Iterator[str]:
    """A fresh database: a temporary SQLite file, or a dropped and re-created MariaDB one,
    dropped again when the benchmark ends (a benchmark leaves nothing behind)."""
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
