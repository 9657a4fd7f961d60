"""Background jobs: work that should not run inside a request (mail, imports).

`enqueue(kind, *ids)` writes the job in the current transaction and hands it to the
queue after the commit (never for a rolled-back change). The queue is Redis (Dramatiq)
with REDIS_URL, run by `flask --app app worker` processes, else threads of this process
(core.jobs.transports). Delivery is at least once, the effect once: a run claims the
job's row with a lease, and each kind's work finds what an earlier run finished
(core.jobs.runner). Kinds register with `task` (core.jobs.registry).
"""

from .registry import TASKS, Failed, Task, task, task_of
from .runner import (
    CHANGED,
    Again,
    backoff,
    counts,
    describe,
    enqueue,
    label_of,
    listing,
    load,
    prune,
    recover,
    retry,
    run,
    worker_name,
)
from .transports import close, dispatch, queue_of

__all__ = [
    "CHANGED",
    "TASKS",
    "Again",
    "Failed",
    "Task",
    "backoff",
    "close",
    "counts",
    "describe",
    "dispatch",
    "enqueue",
    "label_of",
    "listing",
    "load",
    "prune",
    "queue_of",
    "recover",
    "retry",
    "run",
    "task",
    "task_of",
    "worker_name",
]
