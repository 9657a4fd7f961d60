"""Domain events and after-commit work, released only when the transaction commits.

Services call `record(topic, id)` for what changed and `after_commit(fn)` for work
that must not happen for a change that is rolled back (sending mail, pushing
live updates). Both are kept on the SQLAlchemy session and released by its
after_commit hook; a rollback discards them. Events carry what changed, never HTML.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

_PENDING = "portal_pending_events"
_CALLBACKS = "portal_after_commit"
_subscribers: list[Callable[[list["Event"]], None]] = []


@dataclass(frozen=True)
class Event:
    """Something changed: a topic such as `stock_changed` and the id of the changed thing."""

    topic: str
    id: int | None = None
    data: tuple = field(default=())


def _in_transaction(session) -> Session:
    """The real session (not its scoped proxy), inside a transaction.

    Tying what is pending to a transaction means its rollback always discards it.
    """
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction():
        session.begin()
    return session


def record(session: Session, topic: str, id: int | None = None, **data) -> None:
    """Note an event; it is published once, after the transaction commits."""
    session = _in_transaction(session)
    pending = session.info.setdefault(_PENDING, [])
    item = Event(topic, id, tuple(sorted(data.items())))
    if item not in pending:
        pending.append(item)


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` after the transaction commits; never if it rolls back."""
    session = _in_transaction(session)
    session.info.setdefault(_CALLBACKS, []).append(callback)


def subscribe(callback: Callable[[list[Event]], None]) -> None:
    """Receive every committed batch of events (the live layer subscribes here)."""
    if callback not in _subscribers:
        _subscribers.append(callback)


def unsubscribe(callback: Callable[[list[Event]], None]) -> None:
    if callback in _subscribers:
        _subscribers.remove(callback)


@event.listens_for(Session, "after_commit")
def _release(session: Session) -> None:
    events = session.info.pop(_PENDING, [])
    callbacks = session.info.pop(_CALLBACKS, [])
    for callback in callbacks:
        callback()
    if events:
        for subscriber in list(_subscribers):
            subscriber(events)


@event.listens_for(Session, "after_soft_rollback")
def _discard(session: Session, previous_transaction) -> None:
    # Every rollback of the whole transaction, even one that never reached the database.
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_CALLBACKS, None)
