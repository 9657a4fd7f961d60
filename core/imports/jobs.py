"""Jobs: an import's ImportJob row, one's list of them, and where a job stands."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from extensions import db

from .. import i18n
from ..errors import Refused
from ..i18n import _
from ..models import ImportJob, User, utcnow
from ..pagination import Page, paginate
from .kinds import may_import

FILENAME_LENGTH = 255
# An import from before the job queue still "running" after this died with its process
# (one that the queue runs is taken over when its worker dies, or marked failed).
STALE_AFTER = timedelta(minutes=30)
RUNNING = ("queued", "validating", "applying")


def clean_filename(raw: str | None) -> str:
    """The uploaded file's own name, without any folder, for the job's title."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:FILENAME_LENGTH] or "upload.csv"


def create_job(actor: User, kind: str, filename: str, *, apply_valid: bool) -> ImportJob:
    """A queued import of `kind` by `actor`; `running.enqueue` hands it its file and job."""
    if not may_import(actor, kind):
        raise Refused(_("Your role does not include this import."))
    job = ImportJob(
        kind=kind,
        user_id=actor.id,
        filename=clean_filename(filename),
        apply_valid=apply_valid,
        status="queued",
        errors=[],
    )
    db.session.add(job)
    db.session.flush()
    return job


def load_job(user: User | None, job_id: int) -> ImportJob | None:
    """One of this person's own imports, of a kind they may still run; else None (a 404)."""
    if user is None or not getattr(user, "id", None):
        return None
    job = db.session.scalar(
        select(ImportJob).where(ImportJob.id == job_id, ImportJob.user_id == user.id)
    )
    if job is None or not may_import(user, job.kind):
        return None
    return job


def recent_jobs(user: User, page: int, per_page: int = 20) -> Page:
    """This person's imports, newest first."""
    stmt = select(ImportJob).where(ImportJob.user_id == user.id)
    return paginate(stmt.order_by(ImportJob.created_at.desc(), ImportJob.id.desc()), page, per_page)


def error_page(job: ImportJob, page: int, per_page: int = 50) -> Page:
    """One page of the errors kept with the job."""
    kept = job.errors or []
    start = (page - 1) * per_page
    return Page(kept[start : start + per_page], len(kept), page, per_page)


@dataclass(frozen=True)
class Progress:
    """Where a job stands, as its page shows it."""

    state: str  # a status, or "stalled" for a job whose process died
    title: str  # these two are read in the viewer's language
    detail: str
    percent: int | None  # None: under way, but how far cannot be told
    running: bool


TITLES = {
    "queued": _("Waiting to start"),
    "validating": _("Checking lines"),
    "applying": _("Applying"),
    "done": _("Applied"),
    "rejected": _("Nothing applied"),
    "failed": _("Failed"),
    "stalled": _("Stopped"),
}


def progress_of(job: ImportJob, now=None) -> Progress:
    """The job's state, a line about it, and how far along it is (0 to 100)."""
    now = now or utcnow()
    status = job.status
    if (
        status in RUNNING
        and job.queue_job_id is None
        and job.created_at
        and now - job.created_at > STALE_AFTER
    ):
        return Progress(
            "stalled",
            TITLES["stalled"],
            _(
                "This import stopped before it finished (the server may have restarted). "
                "Nothing was applied: upload the file again."
            ),
            0,
            False,
        )
    total = max(job.total_lines or 0, 1)
    if status == "queued":
        return Progress(status, TITLES[status], _("The file is waiting to be read."), None, True)
    if status == "validating":
        done = job.processed_lines or 0
        percent = min(99, done * 100 // total)
        detail = _(
            "Checked %(done)s of about %(total)s lines.",
            done=i18n.number(done),
            total=i18n.number(job.total_lines),
        )
        return Progress(status, TITLES[status], detail, percent, True)
    if status == "applying":
        # While applying, total_lines is the number of lines to apply.
        done = job.applied_lines or 0
        if not done:
            detail = _(
                "Applying %(total)s lines: nothing is final until all are.",
                total=i18n.number(job.total_lines),
            )
            return Progress(status, TITLES[status], detail, None, True)
        detail = _(
            "Applied %(done)s of %(total)s lines: nothing is final until all are.",
            done=i18n.number(done),
            total=i18n.number(job.total_lines),
        )
        return Progress(status, TITLES[status], detail, min(99, done * 100 // total), True)
    return Progress(status, TITLES[status], job.message or "", 100, False)
