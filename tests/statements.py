"""Watching the SQL an app runs while a block of a test runs."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event

from extensions import db


@contextmanager
def listening(app, callback: Callable) -> Iterator[None]:
    """`callback` sees every statement of the app's engine (SQLAlchemy's
    before_cursor_execute arguments) until the block ends."""
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", callback)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", callback)
