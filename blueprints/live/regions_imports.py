"""Live progress of CSV imports (import-<id>), shown to the person who started it.

- `import-<id>`: the job component (progress bar while it runs, then its report),
  rendered with the same partial the job page includes, only for the person who
  started the import and only while they may still run that kind of import.
- `catalogue_changed`: the one signal of a large import, instead of an event per
  product; the catalogue and product lists re-fetch themselves through their views.
"""

import re

from flask import render_template
from sqlalchemy import select

from blueprints.office.imports import job_context
from core import imports
from core.events import Event
from core.models import ImportJob
from extensions import db

from .regions import RegionKind, affects, register, rendering_as


def _starter(connection):
    """Each import renders for its starter alone: the audience is the person."""
    v = connection.viewer
    return ("import", v.user_id) if v.kind == "staff" else None


def _render_jobs(connection, job_ids: list[int]) -> dict:
    with rendering_as(connection) as user:
        if user is None:
            return {}
        jobs = select(ImportJob).where(ImportJob.id.in_(job_ids), ImportJob.user_id == user.id)
        return {
            job.id: render_template("office/imports/_job.html", **job_context(job))
            for job in db.session.scalars(jobs)
            if imports.may_import(user, job.kind)
        }


register(RegionKind("import", re.compile(r"import-(\d+)"), _starter, _render_jobs))


@affects("import_progress")
def _job_region(event: Event) -> set[str]:
    return {f"import-{event.id}"}


@affects("catalogue_changed")
def _catalogue_lists(event: Event) -> set[str]:
    return {"catalog-results", "products-table", "low-stock"}
