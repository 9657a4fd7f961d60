"""Live progress of CSV imports (`import-<id>`), shown to the person who started it.

The job component (a progress bar while it runs, then its report) is rendered with the
same partial and context the job page uses, only for the person who started the import
and only while they may still run that kind of import.

`imports-recent-<person>`, the import page's list of one's own imports, is a list: it
re-fetches itself as their imports move on. It carries its person in its id, and a page
asking for someone else's gets nothing of it (core.access: `own`).
"""

import re

from flask import render_template
from sqlalchemy import select

from core import access, imports
from core.events import Event
from core.models import ImportJob
from extensions import db

from .registry import RegionKind, affects, register, rendering_as

JOB = "office/imports/_job.html"


def job_context(job: ImportJob, page: int = 1, **extra) -> dict:
    """What the job component shows: progress, then the report with one page of errors."""
    return {
        "job": job,
        "kind": imports.KINDS[job.kind],
        "progress": imports.progress_of(job),
        "errors": imports.error_page(job, page),
        **extra,
    }


def _render_jobs(connection, job_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        if user is None:
            return {}
        jobs = select(ImportJob).where(ImportJob.id.in_(job_ids), ImportJob.user_id == user.id)
        return {
            job.id: render_template(JOB, **job_context(job))
            for job in db.session.scalars(jobs)
            if access.may_import(user, job.kind)
        }


register(RegionKind("import", re.compile(r"import-(\d+)"), _render_jobs))
register(RegionKind("imports-recent", re.compile(r"imports-recent-\d+"), is_list=True))


@affects("import_progress")
def _job_region(event: Event) -> set[str]:
    return {f"import-{event.id}"}


@affects("import_progress")
def _recent_imports(event: Event) -> set[str]:
    owner = db.session.scalar(select(ImportJob.user_id).where(ImportJob.id == event.id))
    return {f"imports-recent-{owner}"} if owner is not None else set()
