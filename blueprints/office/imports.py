"""CSV imports of products, stock levels and group prices, with a line-by-line report."""

from functools import wraps

from flask import (
    abort,
    current_app,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.common import csv_download, or_404, page_arg, render
from blueprints.fragments.imports import JOB, job_context
from core import access, i18n, imports
from core.models import ImportJob

from . import bp
from .imports_forms import ImportForm

FORM_OVERHEAD = 64 * 1024  # the multipart envelope and the other fields around the file


def limits() -> imports.Limits:
    """This portal's import limits (config: IMPORT_*)."""
    return imports.limits_of(current_app.config)


def import_permission_required(view):
    """Route guard: imports are for people who may change products, stock or group prices."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not imports.kinds_for(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.url_value_preprocessor
def _upload_limit(endpoint, values):
    """The import upload may be larger than the portal's other forms: allow it, and refuse a
    file that is too large with a clear message, before the CSRF check reads the body."""
    if endpoint != "office.import_start":
        return
    allowed = current_app.config["IMPORT_MAX_BYTES"] + FORM_OVERHEAD
    if request.content_length is not None and request.content_length > allowed:
        abort(
            413,
            description=_(
                "The file is larger than %(size)s: split it into smaller files and import "
                "them one after the other.",
                size=imports.megabytes(current_app.config["IMPORT_MAX_BYTES"]),
            ),
        )
    request.max_content_length = allowed


def job_or_404(job_id: int) -> ImportJob:
    """One of the signed-in person's own imports; anyone else's is a 404."""
    return or_404(imports.load_job(current_user, job_id))


def page_context(form: ImportForm) -> dict:
    """The import page: the form, what each kind of file holds, and one's recent imports."""
    may_see_costs = access.can(current_user, "finance.costs")
    kinds = imports.kinds_for(current_user)
    return {
        "form": form,
        "kinds": kinds,
        "columns": {k.key: k.columns_for(may_see_costs) for k in kinds},
        "limits": limits(),
        "recent": imports.recent_jobs(current_user, page_arg()),
        "progress_of": imports.progress_of,
        "kind_labels": {k.key: k.title for k in imports.KINDS.values()},
    }


def new_form(**kwargs) -> ImportForm:
    return ImportForm(kinds=imports.kinds_for(current_user), max_bytes=limits().max_bytes, **kwargs)


@bp.route("/imports")
@import_permission_required
def imports_page():
    """Upload a CSV file of products, stock levels or group prices; one's recent imports."""
    return render(
        "office/imports/index.html", "office/imports/_recent.html", **page_context(new_form())
    )


@bp.route("/imports", methods=["POST"])
@import_permission_required
def import_start():
    """Start an import: the file is checked line by line, then applied or reported."""
    form = new_form()
    if not form.validate_on_submit():
        return render("office/imports/index.html", code=422, **page_context(form))
    actor = current_user._get_current_object()
    job = imports.create_job(
        actor, form.kind.data, form.file.data.filename, apply_valid=form.apply_valid.data
    )
    # Its report is written in the language of this page, by whichever worker runs it
    # once the request's transaction commits.
    imports.enqueue(job, form.content, language=i18n.current_locale())
    return redirect(url_for("office.import_job", job_id=job.id), 303)


@bp.route("/imports/<int:job_id>")
@import_permission_required
def import_job(job_id: int):
    """One import: its progress while it runs (live), then its report with every error."""
    job = job_or_404(job_id)
    return render(
        "office/imports/job.html",
        JOB,
        **job_context(job, page_arg()),
    )


@bp.route("/imports/<int:job_id>/errors.csv")
@import_permission_required
def import_errors(job_id: int):
    """The errors of an import as CSV, to fix the file beside them."""
    job = job_or_404(job_id)
    rows = [(e["line"], e["column"], e["message"]) for e in job.errors or []]
    if job.error_count > len(rows):
        more = job.error_count - len(rows)
        rows.append(
            (
                "",
                "",
                _(
                    "… and %(more)s more errors: only the first %(kept)s are kept.",
                    more=i18n.format_number(more),
                    kept=i18n.format_number(len(rows)),
                ),
            )
        )
    return csv_download(f"import-{job.id}-errors", ["line", "column", "message"], rows)


@bp.route("/imports/template/<kind>.csv")
@import_permission_required
def import_template(kind: str):
    """An empty file with the columns of one kind of import, as this person may fill it."""
    or_404(imports.KINDS.get(kind))
    if not imports.may_import(current_user, kind):
        abort(403)
    header = imports.template_header(kind, access.can(current_user, "finance.costs"))
    return csv_download(f"{kind.replace('_', '-')}-import", header, [], dated=False)
