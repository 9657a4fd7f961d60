"""Background jobs for staff: what waits, runs, finished or failed, and retrying a failure.

Seen with the settings module's view permission by those who see every customer, retried
with its edit permission (core.access: may_see_jobs, may_retry_jobs). A job names what it
works on (a mail's address and subject, an import's file), never more.
"""

from functools import wraps

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from blueprints.boundary import attempt
from blueprints.common import (
    checked_csrf,
    choice_arg,
    is_htmx,
    or_404,
    page_arg,
    render,
)
from core import access, jobs
from core.models import JOB_STATES

from . import bp

PER_PAGE = 25
STATE_LABELS = {
    "queued": _l("Waiting"),
    "running": _l("Running"),
    "done": _l("Done"),
    "failed": _l("Failed"),
}


def allowed(may):
    """Route guard: the jobs page is a module of its own to whoever `may` refuses (403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not may(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def state_arg() -> str:
    return choice_arg(
        "state", JOB_STATES, _l("Unknown job state “%(value)s”. Choose one from the list.")
    )


def jobs_context(state: str, *, notice: str = "", error: str = "") -> dict:
    """The list of jobs (newest first, one page), with what each works on."""
    listing = jobs.listing(state, page_arg(), PER_PAGE)
    return {
        "listing": listing,
        "state": state,
        "states": STATE_LABELS,
        "counts": jobs.counts(),
        "described": {job.id: jobs.describe(job) for job in listing.items},
        "label_of": jobs.label_of,
        "may_retry": access.may_retry_jobs(current_user),
        "notice": notice,
        "error": error,
    }


@bp.route("/jobs")
@allowed(access.may_see_jobs)
def jobs_page():
    """Background jobs (mail delivery, imports), newest first, filtered by state."""
    return render(
        "office/jobs/index.html", "office/jobs/_results.html", **jobs_context(state_arg())
    )


@bp.route("/jobs/<int:job_id>/retry", methods=["POST"])
@allowed(access.may_retry_jobs)
def job_retry(job_id: int):
    """Run a failed job again, with a fresh round of attempts (audited)."""
    job = or_404(jobs.load(job_id))
    checked_csrf()
    state = state_arg()
    changed = attempt(lambda: jobs.retry(job, current_user._get_current_object()))
    notice = "" if changed.refused else _("Job #%(id)s is queued to run again.", id=job_id)
    if is_htmx():
        return render(
            "office/jobs/index.html",
            "office/jobs/_results.html",
            code=422 if changed.refused else 200,
            **jobs_context(state, notice=notice, error=changed.message if changed.refused else ""),
        )
    flash(changed.message if changed.refused else notice, "error" if changed.refused else "info")
    return redirect(url_for("office.jobs_page", state=state or None), 303)
