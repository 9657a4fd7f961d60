"""Running a unit of work against the database: replayed on a deadlock, committed once.

A request's transaction is committed by the request boundary (blueprints/boundary.py),
so views run their changes through `replaying`. Work outside a request (jobs, scripts,
tests' threads) commits through `committed`. Both replay the *whole* transaction when
the database reports a deadlock, since MariaDB rolls all of it back, and when the
connection was lost before the commit (a restart, a killed connection): the server
rolled all of it back too, and the pool hands out a fresh connection. The work must do
its own locking. A replay happens only when it is safe: nothing was written in the
transaction before the work began (that would be lost without a trace), and the commit
was not under way (then nobody knows whether it happened).
"""

import logging
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from extensions import db

log = logging.getLogger("portal.transaction")
T = TypeVar("T")

DEADLOCK_CODES = {1205, 1213}  # MariaDB: lock wait timeout, deadlock found
_WROTE = "portal_transaction_wrote"
_COMMITS = "portal_transaction_commits"


class CommitUnknown(RuntimeError):
    """The connection was lost while committing: the work may or may not be stored."""


def is_deadlock(exc: OperationalError) -> bool:
    code = getattr(getattr(exc, "orig", None), "args", [None])[0]
    return code in DEADLOCK_CODES or "database is locked" in str(exc)


def is_disconnect(exc: BaseException) -> bool:
    """The database connection was lost (SQLAlchemy's dialect says so and dropped it)."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def wrote(session: Session) -> bool:
    """Whether the session's transaction has written anything so far."""
    return bool(session.info.get(_WROTE)) or bool(session.new or session.dirty or session.deleted)


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _count_commit(session: Session) -> None:
    session.info[_COMMITS] = session.info.get(_COMMITS, 0) + 1


def committed_in(session: Session) -> bool:
    """Whether this session (a request's, in a request) has committed anything."""
    return bool(session.info.get(_COMMITS))


@event.listens_for(Session, "after_transaction_create")
def _forget_writes(session: Session, transaction) -> None:
    if transaction.parent is None:  # a new transaction has written nothing yet
        session.info.pop(_WROTE, None)


def replaying(work: Callable[[], T], *, attempts: int = 4) -> T:
    """Run `work`; on a deadlock or a lost connection roll back and replay it, a bounded
    number of times, when that is safe (see the module's docstring).

    Leaves the transaction open for the caller (the request boundary) to commit.
    """
    replayable = not wrote(db.session)
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except (OperationalError, CommitUnknown) as exc:
            rollback_quietly()
            lost = is_disconnect(exc)
            if not (is_deadlock(exc) or lost) or not replayable or attempt == attempts:
                raise
            why = "lost connection" if lost else "deadlock"
            log.warning("%s, replaying the transaction (attempt %d)", why, attempt)
            time.sleep(0.01 * attempt + secrets.randbelow(10) / 1000)
    raise AssertionError("unreachable")


def rollback_quietly() -> None:
    """Roll back after a failure; a rollback that fails too (the connection is gone) closes
    the session instead, and never replaces the error being handled."""
    try:
        db.session.rollback()
    except SQLAlchemyError as exc:
        log.warning("rollback after a failed transaction failed too: %s", exc)
        db.session.close()


def committed(work: Callable[[], T], *, attempts: int = 4) -> T:
    """Run `work` and commit, replaying both on a deadlock or a connection lost before the
    commit; anything else rolls back and raises. A connection lost during the commit
    raises CommitUnknown, never replayed."""

    def work_and_commit() -> T:
        result = work()
        try:
            db.session.commit()
        except OperationalError as exc:
            if is_disconnect(exc):
                raise CommitUnknown("the connection was lost while committing") from exc
            raise
        return result

    try:
        return replaying(work_and_commit, attempts=attempts)
    except BaseException:
        rollback_quietly()
        raise
