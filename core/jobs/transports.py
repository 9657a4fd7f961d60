"""How jobs reach a worker: Redis (Dramatiq) with REDIS_URL, else this process's threads.

One queue per application (`queue_of(app)`), made when the first job is handed over:

- `RedisQueue`: Dramatiq's Redis broker under "<namespace>:jobs" (core.namespaces, the
  live bus's prefix), so test runs, pytest-xdist workers and portals sharing a Redis
  never take each other's jobs. Messages survive a restart, and one fetched by a worker
  that dies is put back by Dramatiq once that worker's heartbeat is old; the
  `flask --app app worker` processes run them (core.jobs.worker).
- `LocalQueue`: the embedded default, for `flask run` alone: a few threads of this
  process run the jobs in due order, and find the jobs an earlier process left undone.
- `InlineQueue` (JOBS_INLINE, the tests' default): each job runs as soon as it is handed
  over, in the thread that committed, in an app context of its own; a retry that must
  wait is left queued.

Every queue carries a job's id only; `core.jobs.runner.run` claims and runs it, and says
when to offer it again (a retry's wait, or a live claim elsewhere).
"""

import heapq
import itertools
import logging
import threading
import time

from flask import Flask

from ..namespaces import namespace
from . import runner

log = logging.getLogger("portal.jobs")

QUEUE = "jobs"  # the Dramatiq queue's name, under the portal's namespace
# Dramatiq's Redis broker looks for dead workers' messages on this many commands out of a
# million (its default, 1,000, leaves an idle portal's lost job waiting for minutes).
MAINTENANCE_CHANCE = 50_000
# Exceptions that escape a run (the database unreachable): Dramatiq tries the message
# again this often, waiting from one second up to five minutes.
DELIVERY_RETRIES = {"max_retries": 10, "min_backoff": 1_000, "max_backoff": 300_000}
_lock = threading.Lock()


def queue_of(app: Flask):
    """This application's queue, made on first use."""
    found = app.extensions.get("jobs")
    if found is None:
        with _lock:
            found = app.extensions.get("jobs")
            if found is None:
                if app.config["JOBS_INLINE"]:
                    found = InlineQueue(app)
                elif app.config.get("REDIS_URL"):
                    found = RedisQueue(app)
                else:
                    found = LocalQueue(app, app.config["JOB_THREADS"])
                app.extensions["jobs"] = found
    return found


def close(app: Flask) -> None:
    """Stop and forget this application's queue (tests switching modes; shutdown)."""
    with _lock:
        found = app.extensions.pop("jobs", None)
    if found is not None:
        found.close()


def dispatch(app: Flask, job_id: int, delay: float = 0.0, time_limit: int = 300) -> None:
    """Hand a committed job to the queue; if the queue cannot take it, the worker's sweep
    hands it over later (runner.recover)."""
    try:
        queue_of(app).send(job_id, delay, time_limit)
    except Exception:
        log.exception("job %s could not be handed to the queue; it is handed over later", job_id)
        with app.app_context():
            runner.forget_hand_over(job_id)


def _run(app: Flask, job_id: int) -> runner.Again | None:
    with app.app_context():
        return runner.run(job_id)


class InlineQueue:
    """Runs each job at once in the handing thread (tests: a deterministic finish)."""

    def __init__(self, app: Flask):
        self.app = app

    def send(self, job_id: int, delay: float = 0.0, time_limit: int = 300) -> None:
        if delay <= 0:
            _run(self.app, job_id)

    def close(self) -> None:
        pass


class LocalQueue:
    """The in-process fallback: `threads` threads run the jobs of this process in due
    order; every JOB_SWEEP_SECONDS one looks for jobs whose hand-over was lost."""

    def __init__(self, app: Flask, threads: int):
        self.app = app
        self.due: list[tuple[float, int, int]] = []  # (monotonic due time, seq, job id)
        self.seq = itertools.count()
        self.ready = threading.Condition()
        self.stopped = False
        self.stopping = threading.Event()  # the sweeper's own wait (not the workers')
        self.workers = [
            threading.Thread(target=self._work, name=f"jobs-{n}", daemon=True)
            for n in range(max(1, threads))
        ]
        for worker in self.workers:
            worker.start()
        self.sweeper = threading.Thread(target=self._sweep, name="jobs-sweep", daemon=True)
        self.sweeper.start()

    def send(self, job_id: int, delay: float = 0.0, time_limit: int = 300) -> None:
        with self.ready:
            heapq.heappush(self.due, (time.monotonic() + max(0.0, delay), next(self.seq), job_id))
            self.ready.notify_all()  # whichever waits for a later job looks again

    def _next(self) -> int | None:
        with self.ready:
            while not self.stopped:
                now = time.monotonic()
                if self.due and self.due[0][0] <= now:
                    return heapq.heappop(self.due)[2]
                self.ready.wait(self.due[0][0] - now if self.due else None)
            return None

    def _work(self) -> None:
        while (job_id := self._next()) is not None:
            try:
                again = _run(self.app, job_id)
            except Exception:  # the database away: this job is offered again in a while
                log.exception("job %s could not run; trying again in 10 s", job_id)
                again = runner.Again(10.0, 0)
            if again is not None:
                self.send(job_id, again.seconds)

    def _sweep(self) -> None:
        everything = True  # at start, whatever an earlier process left queued or running
        while True:
            try:
                with self.app.app_context():
                    for job_id, __ in runner.recover(everything=everything):
                        self.send(job_id)
                    runner.prune()
                everything = False
            except Exception:
                log.exception("the job queue's sweep failed; trying again later")
            if self.stopping.wait(self.app.config["JOB_SWEEP_SECONDS"]):
                return

    def close(self) -> None:
        self.stopping.set()
        with self.ready:
            self.stopped = True
            self.ready.notify_all()
        for thread in (*self.workers, self.sweeper):
            thread.join(timeout=10)


class RedisQueue:
    """Dramatiq's Redis broker, with one actor that runs a job by its id."""

    def __init__(self, app: Flask):
        import dramatiq
        import redis
        from dramatiq.brokers.redis import RedisBroker

        config = app.config
        self.app = app
        self.namespace = f"{namespace(config)}:{QUEUE}"
        client = redis.Redis.from_url(
            config["REDIS_URL"], socket_timeout=10, socket_connect_timeout=3
        )
        self.broker = RedisBroker(
            client=client,
            namespace=self.namespace,
            heartbeat_timeout=int(config["JOB_WORKER_HEARTBEAT_SECONDS"] * 1000),
            maintenance_chance=MAINTENANCE_CHANCE,
        )
        self.actor = dramatiq.Actor(
            self._perform,
            broker=self.broker,
            actor_name="portal_job",
            queue_name=QUEUE,
            priority=0,
            options=dict(DELIVERY_RETRIES),
        )

    def send(self, job_id: int, delay: float = 0.0, time_limit: int = 300) -> None:
        self.actor.send_with_options(
            args=(job_id,),
            delay=int(delay * 1000) if delay > 0 else None,
            time_limit=max(1, time_limit) * 1000,
        )

    def _perform(self, job_id: int) -> None:
        """Dramatiq's actor: run the job; a retry's wait goes back on the delay queue."""
        again = _run(self.app, job_id)
        if again is not None:
            self.send(job_id, again.seconds, again.time_limit or 300)

    def close(self) -> None:
        self.broker.close()
        self.broker.client.close()
