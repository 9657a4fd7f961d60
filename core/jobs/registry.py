"""The kinds of background job: what each runs, how often it may try, how staff read it.

Each owning module registers its kinds (`core.mail`: a mail's delivery; `core.imports`:
a CSV import) with `task`. A job carries ids only; its function loads what they name,
in its own session, and must be safe to run twice: the second run finds the work done.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


class Failed(Exception):
    """The work cannot succeed by trying again (a refused address, a file no longer kept):
    the job is recorded as failed at once, with this message."""


@dataclass
class Task:
    """One kind of job. `fn(*ids)` does the work, committing what it changes.

    `describe(*ids)`: one line for the staff's jobs page (whose mail, which file);
    `on_failure(*ids, error=...)`: after the last attempt, tell the work's own record;
    `on_retry(*ids)`: staff retry a failed job: make its record runnable again, or refuse
    (core.errors.Refused) when it cannot run again.
    """

    kind: str
    fn: Callable[..., None]
    label: object  # lazy: translated where it is shown
    attempts: int = 5
    time_limit: int = 300  # seconds a run may take before the Redis worker interrupts it
    describe: Callable[..., str] | None = field(default=None, repr=False)
    on_failure: Callable[..., None] | None = field(default=None, repr=False)
    on_retry: Callable[..., None] | None = field(default=None, repr=False)

    def __call__(self, *ids) -> None:
        self.fn(*ids)

    def describer(self, fn: Callable[..., str]) -> Callable[..., str]:
        """Decorator: how the jobs page names one job of this kind."""
        self.describe = fn
        return fn

    def failure_handler(self, fn: Callable[..., None]) -> Callable[..., None]:
        """Decorator: what the work's own record says once the job is out of attempts."""
        self.on_failure = fn
        return fn

    def retry_handler(self, fn: Callable[..., None]) -> Callable[..., None]:
        """Decorator: make the work runnable again before staff retry a failed job."""
        self.on_retry = fn
        return fn


TASKS: dict[str, Task] = {}
# The modules that register kinds, imported before a job of an unknown kind is given up
# on: a worker process may not have imported them yet.
TASK_MODULES = ("core.mail", "core.imports", "core.webhooks", "core.tasks")


def task(kind: str, *, label, attempts: int = 5, time_limit: int = 300):
    """Decorator: register `fn(*ids)` as the job kind `kind`."""

    def decorator(fn: Callable[..., None]) -> Task:
        found = Task(kind, fn, label, attempts, time_limit)
        TASKS[kind] = found
        return found

    return decorator


def task_of(kind: str) -> Task | None:
    """The registered kind, importing the modules that register kinds if need be."""
    if kind not in TASKS:
        import importlib

        for module in TASK_MODULES:
            importlib.import_module(module)
    return TASKS.get(kind)
