"""Asking for a job, running it once, retrying it, and finding jobs whose hand-over was lost.

A job is a row (core.models.Job) written in the transaction that asks for the work: a
rolled-back change leaves no job behind, and the queue is handed its id only after the
commit. Delivery is at least once (a worker that dies mid-job leaves its message to be
delivered again), the effect once: a run first *claims* the row (state "running", a
token and a lease it renews while it works), so a second delivery finds the job running
or done, and the work itself finds what an earlier run finished (a mail already sent,
an import already applied). A claim whose lease ran out belongs to a worker that died,
and is taken over. A run that fails is retried later, waiting twice as long each time,
up to the kind's attempts; then the job is "failed" until staff retry it.

Reads the portal's configuration from current_app (JOB_*).
"""

import logging
import os
import random
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from extensions import db

from .. import audit, events, i18n
from ..errors import Refused
from ..i18n import _
from ..models import Job, User, utcnow
from ..pagination import Page, paginate
from .registry import Failed, Task, task_of

log = logging.getLogger("portal.jobs")

CHANGED = "job_changed"  # event: a job moved (the staff's jobs page follows it)
ERROR_LENGTH = 2000
RECOVER_BATCH = 500
PRUNE_BATCH = 1000


def worker_name() -> str:
    """This process, as a job's row names who ran it."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


@dataclass(frozen=True)
class Again:
    """Hand the job over again after `seconds` (a retry's wait, or another's claim)."""

    seconds: float
    time_limit: int


# --- asking -------------------------------------------------------------------------------


def enqueue(
    kind: str, *ids: int, language: str | None = None, run_after: datetime | None = None
) -> Job:
    """Ask for a job of `kind` on these ids; it is handed to the queue once the transaction
    commits, and never if it rolls back. `language`: its texts' (the moment's by default);
    `run_after`: not before this time (naive UTC; a task's reminder), else at once."""
    found = task_of(kind)
    if found is None:
        raise KeyError(f"unknown job kind {kind!r}")
    if not all(isinstance(i, int) for i in ids):
        raise TypeError("a job carries ids, never objects")
    now = utcnow()
    job = Job(
        kind=kind,
        args=list(ids),
        state="queued",
        attempts=0,
        max_attempts=found.attempts,
        language=language if language is not None else i18n.current_locale(),
        run_after=max(now, run_after) if run_after is not None else now,
        created_at=now,
        enqueued_at=now,
        claim="",
        worker="",
        last_error="",
    )
    db.session.add(job)
    db.session.flush()
    events.record(db.session, CHANGED, job.id)
    delay = (job.run_after - now).total_seconds()
    hand_over_after_commit(job.id, found.time_limit, delay)
    return job


def hand_over_after_commit(job_id: int, time_limit: int, delay: float = 0.0) -> None:
    """Give the job to this portal's queue once the transaction commits (to run `delay`
    seconds later)."""
    from .transports import dispatch  # the transports run jobs through this module

    app = current_app._get_current_object()
    events.after_commit(db.session, lambda: dispatch(app, job_id, delay, time_limit))


# --- running ------------------------------------------------------------------------------


def _config(name: str):
    return current_app.config[name]


def backoff(attempt: int) -> float:
    """Seconds before the next try after `attempt` failed tries: JOB_BACKOFF_SECONDS,
    doubled each time up to JOB_BACKOFF_MAX_SECONDS, and up to a quarter later at random
    so that jobs failing together do not all come back together."""
    base, most = _config("JOB_BACKOFF_SECONDS"), _config("JOB_BACKOFF_MAX_SECONDS")
    delay = min(most, base * 2 ** max(0, attempt - 1))
    return min(most, delay * (1 + random.uniform(0, 0.25)))


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:ERROR_LENGTH]


class _Lease:
    """Renews a running claim's lease every third of it, on a thread of its own, while the
    work runs: a live worker's claim never runs out, a dead one's soon does."""

    def __init__(self, job_id: int, token: str, seconds: float):
        self.job_id, self.token, self.seconds = job_id, token, seconds
        self.engine = db.engine
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._renew, name=f"job-{job_id}-lease", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(timeout=5)

    def _renew(self) -> None:
        table = Job.__table__
        while not self.stopped.wait(self.seconds / 3):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        update(table)
                        .where(
                            table.c.id == self.job_id,
                            table.c.claim == self.token,
                            table.c.state == "running",
                        )
                        .values(lease_until=utcnow() + timedelta(seconds=self.seconds))
                    )
            except SQLAlchemyError as exc:  # the next renewal tries again
                log.warning("could not renew the lease of job %s: %s", self.job_id, exc)


def _claimable(now):
    return or_(
        and_(Job.state == "queued", Job.run_after <= now),
        and_(Job.state == "running", Job.lease_until < now),
    )


def _claim(job_id: int, token: str, lease: float) -> bool:
    now = utcnow()
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, _claimable(now))
        .values(
            state="running",
            attempts=Job.attempts + 1,
            claim=token,
            worker=worker_name(),
            lease_until=now + timedelta(seconds=lease),
            started_at=now,
            finished_at=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        events.record(db.session, CHANGED, job_id)
    db.session.commit()
    return bool(claimed)


def _not_claimed(job: Job | None) -> Again | None:
    """Why a delivery found the job not claimable: done, failed or gone (nothing to do),
    not due yet, or held by a live claim (offered again when that could have ended)."""
    if job is None or job.state in ("done", "failed"):
        return None
    found = task_of(job.kind)
    limit = found.time_limit if found else 300
    now = utcnow()
    if job.state == "queued" and job.run_after > now:
        return Again((job.run_after - now).total_seconds(), limit)
    if job.state == "running" and job.lease_until is not None and job.lease_until >= now:
        return Again((job.lease_until - now).total_seconds() + 0.5, limit)
    return Again(0.5, limit)  # claimed by another between its statement and ours


def run(job_id: int) -> Again | None:
    """Claim the job and run it, in the caller's app context (a session of its own).

    Returns None when this delivery is over, or when to hand the job over again.
    """
    token = f"{worker_name()}/{secrets.token_hex(6)}"
    lease = float(_config("JOB_LEASE_SECONDS"))
    if not _claim(job_id, token, lease):
        return _not_claimed(db.session.get(Job, job_id))
    job = db.session.get(Job, job_id)
    kind, ids = job.kind, tuple(job.args or ())
    found = task_of(kind)
    if found is None:
        _finish(job_id, token, "failed", f"unknown job kind {kind!r}")
        return None
    if job.attempts > job.max_attempts:
        # Claimed that often without an outcome: each worker died running it.
        error = job.last_error or "the worker stopped before the job finished, each time"
        _give_up(job_id, token, found, ids, error)
        return None
    language = job.language or None
    db.session.commit()  # no transaction held open while the work runs
    try:
        with _Lease(job_id, token, lease), i18n.in_language(language):
            found(*ids)
    except Failed as exc:
        _rollback()
        _give_up(job_id, token, found, ids, _error_text(exc))
        return None
    except Exception as exc:
        _rollback()
        log.warning("job %s (%s) failed: %s", job_id, kind, exc, exc_info=True)
        return _failed_try(job_id, token, found, ids, _error_text(exc))
    _finish(job_id, token, "done", "")
    return None


def _rollback() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.close()


def _still_ours(job_id: int, token: str):
    return and_(Job.id == job_id, Job.claim == token, Job.state == "running")


def _finish(job_id: int, token: str, state: str, error: str) -> bool:
    """Record the outcome of our claim; False when it was taken over meanwhile."""
    values = {"state": state, "finished_at": utcnow(), "lease_until": None}
    if state == "failed" or error:
        values["last_error"] = error
    else:
        values["last_error"] = ""
    done = db.session.execute(
        update(Job)
        .where(_still_ours(job_id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        events.record(db.session, CHANGED, job_id)
    else:
        log.warning("job %s was taken over by another worker before it finished here", job_id)
    db.session.commit()
    return bool(done)


def _give_up(job_id: int, token: str, found: Task, ids: tuple, error: str) -> None:
    """Out of attempts, or failed for good: the job is failed; its work's record says so."""
    log.error("job %s (%s) failed: %s", job_id, found.kind, error)
    if not _finish(job_id, token, "failed", error) or found.on_failure is None:
        return
    try:
        found.on_failure(*ids, error=error)
        db.session.commit()
    except Exception:
        _rollback()
        log.exception("could not record the failure of job %s on its work", job_id)


def _failed_try(job_id: int, token: str, found: Task, ids: tuple, error: str) -> Again | None:
    """A try failed: wait and try again, unless that was the last attempt."""
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None or job.attempts >= job.max_attempts:
        _give_up(job_id, token, found, ids, error)
        return None
    wait = backoff(job.attempts)
    now = utcnow()
    moved = db.session.execute(
        update(Job)
        .where(_still_ours(job_id, token))
        .values(
            state="queued",
            run_after=now + timedelta(seconds=wait),
            last_error=error,
            lease_until=None,
            enqueued_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved:
        events.record(db.session, CHANGED, job_id)
    db.session.commit()
    return Again(wait, found.time_limit) if moved else None


# --- staff --------------------------------------------------------------------------------


def retry(job: Job, actor: User) -> Job:
    """Staff run a failed job again, with a fresh round of attempts; audited."""
    if job.state != "failed":
        raise Refused(_("Only a failed job can be retried: this one is not failed."))
    found = task_of(job.kind)
    if found is None:
        raise Refused(_("This kind of job no longer exists: it cannot run again."))
    if found.on_retry is not None:
        found.on_retry(*(job.args or ()))  # may refuse: its work cannot run again
    before = {"state": job.state, "attempts": job.attempts, "error": job.last_error[:200]}
    now = utcnow()
    job.state = "queued"
    job.attempts = 0
    job.max_attempts = found.attempts
    job.run_after = now
    job.enqueued_at = now
    job.finished_at = None
    job.lease_until = None
    job.claim = ""
    audit.record(
        "job.retried",
        actor=actor,
        target=job,
        summary=f"Job #{job.id} ({job.kind}) retried: {describe(job)}"[:255],
        before=before,
        after={"state": "queued"},
    )
    events.record(db.session, CHANGED, job.id)
    hand_over_after_commit(job.id, found.time_limit)
    return job


def load(job_id: int) -> Job | None:
    return db.session.get(Job, job_id)


def describe(job: Job) -> str:
    """One line naming what the job works on (whose mail, which file)."""
    found = task_of(job.kind)
    if found is None or found.describe is None:
        return ", ".join(f"#{i}" for i in job.args or ())
    try:
        return found.describe(*(job.args or ()))
    except SQLAlchemyError:
        raise
    except Exception:  # a page of jobs must show even if one cannot be described
        log.exception("could not describe job %s", job.id)
        return ", ".join(f"#{i}" for i in job.args or ())


def label_of(job: Job) -> str:
    found = task_of(job.kind)
    return str(found.label) if found is not None else job.kind


def listing(state: str = "", page: int = 1, per_page: int = 25) -> Page:
    """Jobs newest first, of one state or of all."""
    stmt = select(Job)
    if state:
        stmt = stmt.where(Job.state == state)
    return paginate(stmt.order_by(Job.created_at.desc(), Job.id.desc()), page, per_page)


def counts() -> dict[str, int]:
    """How many jobs are in each state."""
    return dict(db.session.execute(select(Job.state, func.count()).group_by(Job.state)).all())


# --- upkeep (the worker, and the in-process queue) ---------------------------------------


def recover(*, everything: bool = False) -> list[tuple[int, int]]:
    """Jobs whose hand-over to the queue was lost, taken back to be handed over again:
    (id, time limit) of each.

    Queued ones due for a while that were never handed over (the queue was unreachable
    at the commit) or were handed over JOB_LOST_SECONDS ago (the queue lost them), and
    running ones whose lease ran out a while ago and that were not handed over since
    (their worker died, and its message did not come back). `everything`: every queued
    or running job (an in-process queue starting: nothing of an earlier process's queue
    is left). A job offered twice runs once: the claim decides.
    """
    now = utcnow()
    grace = timedelta(seconds=_config("JOB_SWEEP_SECONDS"))
    lost = timedelta(seconds=_config("JOB_LOST_SECONDS"))
    if everything:
        condition = Job.state.in_(("queued", "running"))
    else:
        condition = or_(
            and_(
                Job.state == "queued",
                Job.run_after <= now - grace,
                or_(Job.enqueued_at.is_(None), Job.enqueued_at <= now - lost),
            ),
            and_(
                Job.state == "running",
                Job.lease_until <= now - grace,
                or_(Job.enqueued_at.is_(None), Job.enqueued_at < Job.lease_until),
            ),
        )
    found = db.session.execute(
        select(Job.id, Job.kind).where(condition).order_by(Job.id).limit(RECOVER_BATCH)
    ).all()
    taken = []
    for job_id, kind in found:
        # Taken by one sweeper only: another that read the same row finds it handed over.
        if db.session.execute(
            update(Job)
            .where(Job.id == job_id, condition)
            .values(enqueued_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount:
            spec = task_of(kind)
            taken.append((job_id, spec.time_limit if spec else 300))
    db.session.commit()
    if taken:
        log.warning("handing over %d jobs again: %s", len(taken), [i for i, __ in taken])
    return taken


def forget_hand_over(job_id: int) -> None:
    """The queue did not take the job: mark it never handed over, for `recover`."""
    try:
        with db.engine.begin() as conn:
            conn.execute(
                update(Job.__table__)
                .where(Job.__table__.c.id == job_id, Job.__table__.c.state == "queued")
                .values(enqueued_at=None)
            )
    except SQLAlchemyError as exc:
        log.warning("could not mark job %s for a later hand-over: %s", job_id, exc)


def prune() -> int:
    """Remove done jobs older than JOB_KEEP_DAYS (failed ones stay until retried)."""
    before = utcnow() - timedelta(days=_config("JOB_KEEP_DAYS"))
    ids = list(
        db.session.scalars(
            select(Job.id)
            .where(Job.state == "done", Job.finished_at < before)
            .order_by(Job.id)
            .limit(PRUNE_BATCH)
        )
    )
    if ids:
        db.session.execute(
            delete(Job).where(Job.id.in_(ids)).execution_options(synchronize_session=False)
        )
    db.session.commit()
    return len(ids)
