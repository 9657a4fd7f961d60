"""The worker process (`flask --app app worker`): runs the portal's jobs from Redis.

Dramatiq's worker threads take the messages (a job's id each) and run them through
core.jobs.runner; a sweep every JOB_SWEEP_SECONDS hands over again the jobs whose
hand-over was lost and removes old finished ones. Stopping (SIGTERM, Ctrl-C) lets the
running jobs finish for up to JOB_STOP_SECONDS and puts the fetched ones back on the
queue; a worker killed outright leaves its jobs to the others (see core.jobs).
"""

import logging
import threading
from collections.abc import Callable

from flask import Flask

from . import runner
from .transports import QUEUE, RedisQueue, close

log = logging.getLogger("portal.jobs")


def serve(
    app: Flask,
    *,
    threads: int,
    stop: threading.Event,
    say: Callable[[str], None] = log.info,
    ready: threading.Event | None = None,
) -> None:
    """Run jobs until `stop` is set (`ready` is set once they are taken). The application's
    queue becomes the Redis one, so what a job hands over (a retry) goes back to Redis."""
    from dramatiq import Worker

    close(app)
    queue = RedisQueue(app)
    app.extensions["jobs"] = queue
    worker = Worker(queue.broker, worker_threads=threads, queues={QUEUE})
    worker.start()
    if ready is not None:
        ready.set()
    say(
        f"Worker {runner.worker_name()} runs jobs from {queue.namespace} with {threads} "
        f"threads; stop it with Ctrl-C or SIGTERM."
    )
    try:
        while True:
            _sweep(app, queue)
            if stop.wait(app.config["JOB_SWEEP_SECONDS"]):
                break
    finally:
        say("Worker stopping: running jobs finish, fetched ones go back to the queue.")
        worker.stop(timeout=app.config["JOB_STOP_SECONDS"] * 1000)
        close(app)


def _sweep(app: Flask, queue: RedisQueue) -> None:
    try:
        with app.app_context():
            for job_id, time_limit in runner.recover():
                queue.send(job_id, 0.0, time_limit)
            runner.prune()
    except Exception:  # the database or Redis away: the next sweep tries again
        log.exception("the job sweep failed; trying again later")
