"""The request boundary: one commit per request, and one answer per kind of refusal.

Services change state and flush; views never commit. Once a view has answered, the
boundary commits the request's transaction if the answer is a success (status below
400) and rolls it back otherwise, so an error page never leaves half a change behind.

A refusal of the domain is undone in one place, `undo()`: by the error handlers (a
`Refused` that reaches them answers 422 with its message; a `NotFound`, 404 in the one
wording every 404 has; a write to a row another request changed or deleted meanwhile,
409), and by `attempt()`, which hands the refusal back to a view that shows it on its
own form or component.

A view that must commit before it answers (a job that another thread picks up) says
why beside the call; tests/test_project.py keeps the list of such places.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import Flask, g, make_response, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.exceptions import Conflict, Forbidden, ServiceUnavailable, UnprocessableEntity
from werkzeug.exceptions import NotFound as PageNotFound

from core import transaction
from core.errors import NotFound, Refused
from core.i18n import N_
from extensions import db

T = TypeVar("T")
log = logging.getLogger("portal.boundary")

# The one wording of each kind of refusal that carries no message of its own (in
# English; translated where it is answered).
NOT_FOUND = N_(
    "There is nothing here for you: the address is wrong, it was removed, or it is not "
    "among the records your account may see."
)
FORBIDDEN = N_("Your account's role does not include this part of the portal.")
DATABASE_LOST = N_(
    "The connection to the database broke off, so nothing was saved. Please try again in a moment."
)
COMMIT_LOST = N_(
    "The connection to the database broke off while saving, so the portal cannot tell "
    "whether your change was kept. Reload the page to see, then try again if it was not."
)
CONFLICT = N_(
    "Someone changed or removed this at the same moment, so nothing was saved. Reload the "
    "page to see it as it is now, then try again."
)


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
    """Discard everything this request changed: nothing of a refused change is kept.

    A rollback on a lost connection fails in turn; it must not replace the error that is
    being answered, so it closes the session instead (the server has rolled back).
    """
    transaction.rollback_quietly()


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


def finish(response, render_error: Callable | None = None):
    """After every request: commit a success, roll back anything else.

    A connection lost while committing: a request that wrote nothing keeps its answer
    (there was nothing to store); one that wrote answers 503, since nobody can tell
    whether the server stored its change before the connection broke.
    """
    if not db.session.registry.has():
        return response
    session = db.session()
    if not session.in_transaction():
        return response
    if response.status_code < 400 or g.pop("keep_changes", False):
        wrote = transaction.wrote(session)
        try:
            session.commit()
        except DBAPIError as exc:
            if not transaction.is_disconnect(exc) or render_error is None:
                raise
            log.warning(
                "%s %s: connection lost at the commit: %s", request.method, request.path, exc
            )
            undo()
            if wrote:
                return unavailable(render_error, COMMIT_LOST)
    else:
        undo()
    return response


def unavailable(render_error: Callable, message: str):
    """503, to be tried again in a moment: the database connection broke off."""
    response = make_response(render_error(ServiceUnavailable(_(message))))
    response.headers["Retry-After"] = "2"
    return response


def init_boundary(app: Flask, render_error: Callable) -> None:
    """Commit at the end of each request; answer domain refusals through the error pages."""
    app.after_request(lambda response: finish(response, render_error))

    def not_found(_exc: NotFound):
        undo()
        return render_error(PageNotFound())

    def refused(exc: Refused):
        undo()
        return render_error(UnprocessableEntity(str(exc)))

    def conflict(_exc: Exception):
        undo()
        return render_error(Conflict(_(CONFLICT)))

    app.register_error_handler(NotFound, not_found)
    app.register_error_handler(Refused, refused)
    # A change to a row another request changed or deleted meanwhile, which no lock of
    # the service's kept out: a 409 that says to look again, nothing of it kept.
    app.register_error_handler(StaleDataError, conflict)
    app.register_error_handler(ObjectDeletedError, conflict)

    def database_lost(exc: DBAPIError):
        if not transaction.is_disconnect(exc):
            raise exc  # any other database error stays a 500, logged as such
        log.warning("%s %s: database connection lost: %s", request.method, request.path, exc)
        undo()
        if replayable():
            g.replayed = True
            try:  # the guards too: the loss may have cut one of them short
                answer = app.preprocess_request()
                return app.make_response(answer if answer is not None else app.dispatch_request())
            except Exception as again:  # its own answer: a 404, a 422, a second loss
                return app.handle_user_exception(again)
        return unavailable(render_error, DATABASE_LOST)

    # The connection broke under the request (a restart, a killed connection): nothing of
    # it was stored. A page is asked for again once, on a new connection (pool_pre_ping
    # finds one, core/db_mariadb waits for a restarting server); any other request
    # answers 503, and the next one gets a new connection.
    app.register_error_handler(DBAPIError, database_lost)


def replayable() -> bool:
    """Whether the view may simply run again: a page (GET) that has committed nothing in
    this request and has not run twice already; its lost transaction wrote nothing that
    stays."""
    return (
        request.method in ("GET", "HEAD")
        and not g.get("replayed", False)
        and not transaction.committed_in(db.session())
    )


def fixed_description(code: int, description: str) -> str:
    """404 and 403 always say the same: they never tell what exists or why it is hidden."""
    if code == PageNotFound.code:
        return _(NOT_FOUND)
    if code == Forbidden.code:
        return _(FORBIDDEN)
    return description
