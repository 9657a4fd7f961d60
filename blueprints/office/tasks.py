"""Tasks and agenda: follow-up tasks for colleagues, on a customer, a quote or an order.

`/office/tasks` lists one's own tasks (or those one made, or all one may see), open
before done, the overdue marked; `/office/tasks/calendar` shows a month of them by their
due day (a list of days on a phone). Who sees a task is its customer's scope
(core.access.task_scope): one out of scope is a 404 everywhere. Changes go through
core.tasks, which audits them and asks for the reminder's mail.
"""

import re
from datetime import date, timedelta

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from blueprints.boundary import attempt
from blueprints.common import (
    checked_csrf,
    choice_arg,
    client_ip,
    go,
    id_value,
    or_404,
    page_arg,
    permission_required,
    render,
)
from blueprints.forms import EmptyForm
from blueprints.fragments.tasks import PANEL, record_tasks_context
from core import access, i18n, numbers, tasks
from core.errors import FieldRefused
from core.models import Company, Task, utcnow
from core.pagination import paginate
from extensions import db

from . import bp
from .tasks_forms import TaskForm

PER_PAGE = 25
WHO = {"mine": _l("Assigned to me"), "created": _l("Created by me"), "all": _l("All I may see")}
STATUS = {"open": _l("Open"), "done": _l("Done"), "any": _l("Open and done")}
MONTH = re.compile(r"(\d{4})-(\d{2})")


def _me():
    return current_user._get_current_object()


def scoped_task(task_id: int) -> Task:
    """A task the signed-in person may see; any other is a 404."""
    return or_404(access.load_task(current_user, task_id))


def filters() -> tuple[str, str]:
    """The list's `who` and `status` filters; an unknown value is a clear 400."""
    who = choice_arg("who", WHO, _l("There is no task filter “%(value)s”."), default="mine")
    status = choice_arg("status", STATUS, _l("There is no task status “%(value)s”."), "open")
    return who, status


def list_context(who: str, status: str, page: int) -> dict:
    stmt = tasks.visible(current_user, who=who, status="" if status == "any" else status)
    return {
        "listing": paginate(stmt, page, PER_PAGE),
        "who": who,
        "status": status,
        "whos": WHO,
        "statuses": STATUS,
        "now": utcnow(),
    }


@bp.route("/tasks")
@permission_required("tasks.view")
def tasks_page():
    """My tasks: assigned to me (or made by me, or all I may see), open first."""
    who, status = filters()
    return render(
        "office/tasks/index.html",
        "office/tasks/_list.html",
        **list_context(who, status, page_arg()),
    )


# --- the form -----------------------------------------------------------------------------


def _form(task: Task | None = None, *, posted: bool = False, **prefill) -> TaskForm:
    colleagues = tasks.assignable(current_user)
    companies = list(
        db.session.scalars(access.visible_companies(current_user).order_by(Company.name))
    )
    kwargs = {"colleagues": colleagues, "companies": companies}
    if posted:
        return TaskForm(**kwargs)
    if task is not None:
        return TaskForm(
            formdata=None,
            title=task.title,
            notes=task.notes,
            due_at=task.due_at,
            remind_at=task.remind_at,
            assignee=task.assignee_id,
            company=task.company_id,
            quote=task.quote_id or "",
            order=task.order_id or "",
            **kwargs,
        )
    return TaskForm(formdata=None, data=prefill, **kwargs)


def _prefill() -> dict:
    """A new task's fields from the page it was asked for on (?company=&quote=&order=)."""
    malformed = _("A task's link is a record number.")
    found: dict = {"assignee": current_user.id}
    raw = {name: request.args.get(name, "") for name in ("company", "quote", "order")}
    ids = {name: id_value(value, malformed) if value else None for name, value in raw.items()}
    try:
        links = tasks.resolve_links(_me(), ids["company"], ids["quote"], ids["order"])
    except FieldRefused:
        abort(404)  # a record out of one's scope is not there
    if links.company is not None:
        found["company"] = links.company.id
    if links.quote is not None:
        found["quote"] = str(links.quote.id)
    if links.order is not None:
        found["order"] = str(links.order.id)
    # Tomorrow at nine, in the person's own zone.
    local = i18n.to_local(utcnow()).replace(hour=9, minute=0, second=0, microsecond=0)
    found["due_at"] = i18n.to_utc(local + timedelta(days=1))
    found["_links"] = links
    return found


def _links_of(form: TaskForm):
    """The links the posted form names, checked; a refusal names its field."""
    try:
        quote_id, order_id = form.record_id("quote"), form.record_id("order")
    except ValueError:
        return None
    company_id = form.company.data
    if company_id is not None and numbers.record_id(company_id) is None:
        form.company.errors = [_("There is no such customer among those you may see.")]
        return None
    try:
        return tasks.resolve_links(_me(), company_id, quote_id, order_id)
    except FieldRefused as exc:
        form.refuse(exc)
        return None


def _assignee(form: TaskForm):
    from core.models import User

    person_id = form.assignee.data
    if person_id is None or numbers.record_id(person_id) is None:
        return None
    return db.session.get(User, person_id)


def form_page(form: TaskForm, task: Task | None = None, *, links=None, code: int = 200):
    if links is None and task is not None:
        links = tasks.Links(task.company, task.quote, task.order)
    return render(
        "office/tasks/form.html" if task is None else "office/tasks/show.html",
        code=code,
        form=form,
        task=task,
        links=links or tasks.Links(),
        button_form=EmptyForm(formdata=None),
        may_edit=task is None or access.may_edit_task(current_user, task),
        now=utcnow(),
    )


def _save(form: TaskForm, task: Task | None):
    """Check the posted form and make or change the task; the page again on a refusal."""
    links = _links_of(form) if form.validate_on_submit() else None
    if links is None or form.errors:
        return form_page(form, task, links=links, code=422)
    values = {
        "title": form.title.data,
        "notes": form.notes.data or "",
        "due_at": form.due_at.data,
        "remind_at": form.remind_at.data,
        "assignee": _assignee(form),
        "links": links,
        "ip": client_ip(),
    }
    if task is None:
        done = attempt(lambda: tasks.create(_me(), **values))
    else:
        done = attempt(lambda: tasks.update(task, _me(), **values))
    if done.refused:
        form.refuse(done.refusal)
        return form_page(form, task, links=links, code=422)
    saved = done.value if task is None else task
    if task is None:
        flash(_("The task is created."), "info")
    else:
        flash(_("The task is saved.") if done.value else _("Nothing to change."), "info")
    return go(url_for("office.task", task_id=saved.id))


@bp.route("/tasks/new", methods=["GET", "POST"])
@permission_required("tasks.edit")
def task_create():
    """A new task, prefilled from the customer, quote or order page it was asked on."""
    if request.method == "POST":
        return _save(_form(posted=True), None)
    prefill = _prefill()
    links = prefill.pop("_links")
    return form_page(_form(**prefill), links=links)


@bp.route("/tasks/<int:task_id>")
@permission_required("tasks.view")
def task(task_id: int):
    """One task: what, by when, for whom, about what; its form for those who may edit."""
    found = scoped_task(task_id)
    return form_page(_form(found), found)


@bp.route("/tasks/<int:task_id>", methods=["POST"])
@permission_required("tasks.edit")
def task_update(task_id: int):
    """Change a task (a moved reminder is mailed again, at its new time)."""
    return _save(_form(posted=True), scoped_task(task_id))


def _action(task_id: int, work, done: str, undone: str):
    found = scoped_task(task_id)
    checked_csrf()
    outcome = attempt(lambda: work(found))
    if outcome.refused:
        flash(outcome.message, "error")
    else:
        flash(done if outcome.value is not False else undone, "info")
    return go(url_for("office.task", task_id=found.id))


@bp.route("/tasks/<int:task_id>/done", methods=["POST"])
@permission_required("tasks.edit")
def task_done(task_id: int):
    """Mark a task done."""
    return _action(
        task_id,
        lambda t: tasks.complete(t, _me(), ip=client_ip()),
        _("The task is done."),
        _("The task was already done."),
    )


@bp.route("/tasks/<int:task_id>/reopen", methods=["POST"])
@permission_required("tasks.edit")
def task_reopen(task_id: int):
    """Open a done task again."""
    return _action(
        task_id,
        lambda t: tasks.reopen(t, _me(), ip=client_ip()),
        _("The task is open again."),
        _("The task was open."),
    )


@bp.route("/tasks/<int:task_id>/delete", methods=["POST"])
@permission_required("tasks.edit")
def task_delete(task_id: int):
    """Remove a task for good (after the page's confirmation)."""
    found = scoped_task(task_id)
    checked_csrf()
    title = found.title
    outcome = attempt(lambda: tasks.delete(found, _me(), ip=client_ip()))
    if outcome.refused:
        flash(outcome.message, "error")
        return go(url_for("office.task", task_id=task_id))
    flash(_("The task “%(title)s” is removed.", title=title), "info")
    return go(url_for("office.tasks_page"))


# --- the calendar -------------------------------------------------------------------------


def month_arg() -> tuple[int, int]:
    """The `month` parameter (YYYY-MM), this month in one's zone by default; else a 400."""
    raw = request.args.get("month", "")
    if not raw:
        today = i18n.to_local(utcnow())
        return today.year, today.month
    match = MONTH.fullmatch(raw)
    if (
        not match
        or not (1 <= int(match.group(2)) <= 12)
        or not (1900 <= int(match.group(1)) <= 9998)
    ):
        abort(400, description=_("A month is written as year and month, such as 2026-05."))
    return int(match.group(1)), int(match.group(2))


def calendar_weeks(year: int, month: int, found: list[Task]) -> list[list[dict]]:
    """The month's grid, Monday first: each day with its tasks (by their due day in the
    viewer's zone); days of the neighbouring months fill the first and last weeks."""
    by_day: dict[date, list[Task]] = {}
    for item in found:
        by_day.setdefault(i18n.to_local(item.due_at).date(), []).append(item)
    first = date(year, month, 1)
    start = first - timedelta(days=first.weekday())
    weeks = []
    day = start
    while True:
        week = []
        for __ in range(7):
            week.append(
                {
                    "day": day,
                    "label": i18n.format_pattern(day, "EEEE d MMMM"),
                    "inside": day.month == month,
                    "tasks": by_day.get(day, []),
                }
            )
            day += timedelta(days=1)
        weeks.append(week)
        if day.month != month or day.year != year:
            break
    return weeks


@bp.route("/tasks/calendar")
@permission_required("tasks.view")
def tasks_calendar():
    """A month of tasks on their due days (a list of days on a narrow screen)."""
    who = choice_arg("who", WHO, _l("There is no task filter “%(value)s”."), default="mine")
    year, month = month_arg()
    found = tasks.in_month(current_user, year, month, who=who)
    previous = date(year, month, 1) - timedelta(days=1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    weeks = calendar_weeks(year, month, found)
    return render(
        "office/tasks/calendar.html",
        weeks=weeks,
        weekdays=[i18n.format_pattern(cell["day"], "EEE") for cell in weeks[0]],
        title=i18n.format_pattern(date(year, month, 1), "LLLL yyyy"),
        first=date(year, month, 1),
        previous=f"{previous:%Y-%m}",
        following=f"{following:%Y-%m}",
        who=who,
        whos=WHO,
        found=found,
        today=i18n.to_local(utcnow()).date(),
        now=utcnow(),
    )


@bp.route("/tasks/panel")
@permission_required("tasks.view")
def record_tasks():
    """The open tasks of one customer, quote or order (the panel's live re-fetch)."""
    malformed = _("A task's link is a record number.")
    raw = {name: request.args.get(name, "") for name in ("company", "quote", "order")}
    given = [name for name, value in raw.items() if value]
    if len(given) != 1:
        abort(400, description=_("Name one customer, quote or order."))
    ids = {name: id_value(value, malformed) if value else None for name, value in raw.items()}
    try:
        links = tasks.resolve_links(_me(), ids["company"], ids["quote"], ids["order"])
    except FieldRefused:
        abort(404)
    context = record_tasks_context(
        current_user,
        company=links.company if given == ["company"] else None,
        quote=links.quote,
        order=links.order,
    )
    return render(PANEL, **context)


@bp.context_processor
def task_panels() -> dict:
    """`task_panel(company=..., quote=..., order=...)`: a record's open tasks, as its
    page includes them (nothing for those who do not see tasks)."""

    def panel(**record) -> Markup:
        if not access.can(current_user, "tasks.view"):
            return Markup("")
        html = render_template(PANEL, **record_tasks_context(current_user, **record))
        return Markup(html)  # noqa: S704  (a rendered template, escaped by Jinja)

    return {"task_panel": panel}
