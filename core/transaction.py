"""Running a unit of work against the database: replayed on a deadlock, committed once.

A request's transaction is committed by the request boundary (blueprints/boundary.py),
so views run their changes through `replaying`. Work outside a request (jobs, scripts,
tests' threads) commits through `committed`. Both replay the *whole* transaction when
the database reports a deadlock, since MariaDB rolls all of it back: the work must do
its own locking, and nothing before it in the transaction may have written.
"""

import logging
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError

from extensions import db

log = logging.getLogger("portal.transaction")
T = TypeVar("T")

DEADLOCK_CODES = {1205, 1213}  # MariaDB: lock wait timeout, deadlock found


def is_deadlock(exc: OperationalError) -> bool:
    code = getattr(getattr(exc, "orig", None), "args", [None])[0]
    return code in DEADLOCK_CODES or "database is locked" in str(exc)


def replaying(work: Callable[[], T], *, attempts: int = 4) -> T:
    """Run `work`; on a deadlock roll back and replay it, a bounded number of times.

    Leaves the transaction open for the caller (the request boundary) to commit.
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            db.session.rollback()
            if not is_deadlock(exc) or attempt == attempts:
                raise
            log.warning("deadlock, replaying the transaction (attempt %d)", attempt)
            time.sleep(0.01 * attempt + secrets.randbelow(10) / 1000)
    raise AssertionError("unreachable")


def committed(work: Callable[[], T], *, attempts: int = 4) -> T:
    """Run `work` and commit, replaying both on a deadlock; anything else rolls back and raises."""

    def work_and_commit() -> T:
        result = work()
        db.session.commit()
        return result

    try:
        return replaying(work_and_commit, attempts=attempts)
    except BaseException:
        db.session.rollback()
        raise
