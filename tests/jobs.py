"""Helpers of the tests that run jobs on a real queue: a portal's queue of a chosen kind,
and waiting for what a job does (with a deadline, never a fixed sleep)."""

import asyncio
import contextlib
import socket
import threading
import time
from email import message_from_bytes, policy

from sqlalchemy import select

from core import jobs
from core.models import Job
from extensions import db


@contextlib.contextmanager
def queue_kind(app, **config):
    """The application's jobs run on the queue this config makes (JOBS_INLINE off: the
    in-process threads without REDIS_URL, Redis with it), then inline again."""
    config = {"JOBS_INLINE": False, "REDIS_URL": None, **config}
    saved = {key: app.config.get(key) for key in config}
    jobs.close(app)
    app.config.update(config)
    try:
        yield jobs.queue_of(app)
    finally:
        jobs.close(app)
        app.config.update(saved)


def until(condition, seconds: float = 30.0, what: str = "the condition"):
    """Poll `condition` until it is true; fail when the deadline passes."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def fresh(model, key):
    """A row as the database holds it now (other threads and processes write it)."""
    db.session.rollback()
    return db.session.get(model, key, populate_existing=True)


def jobs_of(kind: str, *ids: int) -> list[Job]:
    """The jobs of a kind on these ids, oldest first, as they are now."""
    db.session.rollback()
    found = db.session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id))
    return [job for job in found if list(job.args) == list(ids)]


class Recorder:
    """A queue that only notes what it is handed (the test runs the jobs itself)."""

    def __init__(self):
        self.sent: list[tuple[int, float]] = []

    def send(self, job_id: int, delay: float = 0.0, time_limit: int = 300) -> None:
        self.sent.append((job_id, delay))

    def close(self) -> None:
        pass


@contextlib.contextmanager
def recorded(app):
    """The application's jobs are handed to a Recorder, and run by nobody."""
    jobs.close(app)
    recorder = app.extensions["jobs"] = Recorder()
    try:
        yield recorder
    finally:
        jobs.close(app)


class Mailbox:
    """What a real local SMTP server does with each mail: accept it (250), refuse it for
    now (4xx) or for good (5xx), or hold it unanswered until `release` (a worker killed
    in the middle of sending). Only accepted mail counts as delivered."""

    def __init__(self):
        self.accepted = []
        self.tries: list[float] = []  # monotonic time of each DATA command
        self.answer = "250 OK"
        self.holding: threading.Event | None = None
        self.held = threading.Event()

    def hold(self) -> None:
        self.holding = threading.Event()

    def release(self) -> None:
        holding, self.holding = self.holding, None
        if holding is not None:
            holding.set()

    async def handle_DATA(self, server, session, envelope):
        self.tries.append(time.monotonic())
        holding = self.holding
        if holding is not None:
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, holding.wait, 60)
            return "451 4.3.0 The sender went away"
        answer = self.answer
        if answer.startswith("250"):
            self.accepted.append(envelope)
        return answer

    def message_ids(self) -> list[str]:
        found = []
        for envelope in self.accepted:
            message = message_from_bytes(envelope.content, policy=policy.default)
            found.append(str(message["Message-ID"]))
        return found


@contextlib.contextmanager
def mailbox_server():
    """A Mailbox behind a real SMTP server on a free local port: (mailbox, port)."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        box.release()
        controller.stop()
