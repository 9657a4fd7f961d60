"""The request boundary: one commit per request, and one answer per kind of refusal.

Services change state and flush; views never commit. Once a view has answered, the
boundary commits the request's transaction if the answer is a success (status below
400) and rolls it back otherwise, so an error page never leaves half a change behind.

A refusal of the domain is undone in one place, `undo()`: by the error handlers (a
`Refused` that reaches them answers 422 with its message; a `NotFound`, 404 in the one
wording every 404 has), and by `attempt()`, which hands the refusal back to a view that
shows it on its own form or component.

A view that must commit before it answers (a job that another thread picks up) says
why beside the call; tests/test_project.py keeps the list of such places.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import Flask, g
from werkzeug.exceptions import Forbidden, UnprocessableEntity
from werkzeug.exceptions import NotFound as PageNotFound

from core import transaction
from core.errors import NotFound, Refused
from extensions import db

T = TypeVar("T")

# The one wording of each kind of refusal that carries no message of its own.
NOT_FOUND = (
    "There is nothing here for you: the address is wrong, it was removed, or it is not "
    "among the records your account may see."
)
FORBIDDEN = "Your account's role does not include this part of the portal."


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """The outcome of one change: its value, or the refusal that undid it."""

    value: T | None = None
    refusal: Refused | None = None

    @property
    def refused(self) -> bool:
        return self.refusal is not None

    @property
    def message(self) -> str:
        return str(self.refusal) if self.refusal is not None else ""


def undo() -> None:
    """Discard everything this request changed: nothing of a refused change is kept."""
    db.session.rollback()


def attempt(change: Callable[[], T], *, replay: bool = False) -> Attempt[T]:
    """Run one change of state; a refusal undoes it and comes back in the outcome.

    Every change a view makes goes through here, so that it is flushed, and what the view
    shows next is read afresh, before the boundary commits.

    `replay`: the change takes its own locks and is replayed whole on a deadlock (orders,
    quotes, payments). A `NotFound` is not caught: it goes on to the 404 handler.
    """

    def change_and_flush() -> T:
        value = change()
        db.session.flush()  # a constraint the change breaks fails here, not at the commit
        # What the view renders next is read again, as after a commit: a change made by a
        # bulk statement is not in the objects already loaded.
        db.session.expire_all()
        return value

    try:
        value = transaction.replaying(change_and_flush) if replay else change_and_flush()
    except Refused as exc:
        undo()
        return Attempt(refusal=exc)
    return Attempt(value=value)


def apply(change: Callable[[], T], *, replay: bool = False) -> T:
    """Run one change whose refusal the view has nothing to add to: it answers 422."""
    outcome = attempt(change, replay=replay)
    if outcome.refusal is not None:
        raise outcome.refusal
    return outcome.value


def keep_changes() -> None:
    """Commit this request's writes although it answers an error.

    For records that must outlive the refusal they explain: a throttled sign-in's audit.
    """
    g.keep_changes = True


def finish(response):
    """After every request: commit a success, roll back anything else."""
    if not db.session.registry.has():
        return response
    session = db.session()
    if not session.in_transaction():
        return response
    if response.status_code < 400 or g.pop("keep_changes", False):
        session.commit()
    else:
        session.rollback()
    return response


def init_boundary(app: Flask, render_error: Callable) -> None:
    """Commit at the end of each request; answer domain refusals through the error pages."""
    app.after_request(finish)

    def not_found(_exc: NotFound):
        undo()
        return render_error(PageNotFound())

    def refused(exc: Refused):
        undo()
        return render_error(UnprocessableEntity(str(exc)))

    app.register_error_handler(NotFound, not_found)
    app.register_error_handler(Refused, refused)


def fixed_description(code: int, description: str) -> str:
    """404 and 403 always say the same: they never tell what exists or why it is hidden."""
    if code == PageNotFound.code:
        return NOT_FOUND
    if code == Forbidden.code:
        return FORBIDDEN
    return description
