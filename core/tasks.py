"""Follow-up tasks: staff make them for a colleague, on a customer, a quote or an order.

Who sees a task is core.access's (`task_scope`): its customer's scope. A task is given
only to an active colleague who may see its customer and holds `tasks.view`. A reminder
is a background job (core.jobs) due at `remind_at`: it mails the assignee once, in their
language, with the due time in their zone and a link; moving the reminder asks for a new
job, and a job that finds its reminder moved or already sent does nothing. Every change
is audited, and recorded as an event (`task_changed`) for the live lists.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, case, select

from extensions import db

from . import access, audit, events, i18n, jobs, notify, settings
from .errors import FieldRefused, Refused
from .i18n import N_, _
from .models import Company, Order, Quote, Task, User, utcnow

CHANGED = "task_changed"  # event: a task was made, changed, done, reopened or removed
REMIND = "task.remind"
TITLE_LENGTH = 200
NOTES_LENGTH = 5000
WHO = ("mine", "created", "all")
STATUSES = ("open", "done")


@dataclass(frozen=True)
class Links:
    """What a task is about: a company, and perhaps one of its quotes or orders."""

    company: Company | None = None
    quote: Quote | None = None
    order: Order | None = None


# --- reading ------------------------------------------------------------------------------


def visible(user: User | None, *, who: str = "mine", status: str = "") -> Select:
    """The tasks this person may see, open before done, soonest due first.

    `who`: "mine" (assigned to them), "created" (made by them) or "all" they may see;
    `status`: "open", "done" or "" for both.
    """
    stmt = access.task_scope(user, select(Task))
    if who == "mine":
        stmt = stmt.where(Task.assignee_id == user.id)
    elif who == "created":
        stmt = stmt.where(Task.created_by_id == user.id)
    if status:
        stmt = stmt.where(Task.status == status)
    if status == "done":
        return stmt.order_by(Task.done_at.desc(), Task.id.desc())  # the latest done first
    done_last = case((Task.status == "open", 0), else_=1)
    return stmt.order_by(done_last, Task.due_at, Task.id)


def open_tasks_of(user: User | None, *, company=None, quote=None, order=None) -> list[Task]:
    """The open tasks of one record that this person may see, soonest due first."""
    stmt = visible(user, who="all", status="open")
    if quote is not None:
        stmt = stmt.where(Task.quote_id == quote.id)
    elif order is not None:
        stmt = stmt.where(Task.order_id == order.id)
    elif company is not None:
        stmt = stmt.where(Task.company_id == company.id)
    else:
        return []
    return list(db.session.scalars(stmt.limit(50)))


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The first day of the month and of the next, as naive local midnights."""
    start = datetime(year, month, 1)
    end = datetime(year + 1, 1, 1) if month == 12 else datetime(year, month + 1, 1)
    return start, end


def in_month(user: User | None, year: int, month: int, *, who: str = "all") -> list[Task]:
    """The tasks this person may see that are due in this month of their own zone."""
    start, end = month_bounds(year, month)
    stmt = visible(user, who=who).where(
        Task.due_at >= i18n.to_utc(start), Task.due_at < i18n.to_utc(end)
    )
    return list(db.session.scalars(stmt.order_by(None).order_by(Task.due_at, Task.id)))


def assignable(user: User | None, company: Company | None = None) -> list[User]:
    """The colleagues a task may be given to (of this company, if one is given)."""
    staff = db.session.scalars(
        select(User).where(User.kind == "staff", User.status == "active").order_by(User.name)
    )
    company_id = company.id if company is not None else None
    return [p for p in staff if access.may_be_assigned_task(p, company_id)]


# --- checking -----------------------------------------------------------------------------


def resolve_links(
    actor: User, company_id: int | None, quote_id: int | None, order_id: int | None
) -> Links:
    """The records a task is to be linked to, each one the actor may see (else a refusal
    on its field); a quote's or an order's company is the task's, and a different company
    chosen with it is refused."""
    quote = order = company = None
    if quote_id is not None and order_id is not None:
        raise FieldRefused(_("Link a task to a quote or to an order, not both."), "order")
    if quote_id is not None:
        quote = db.session.get(Quote, quote_id)
        if (
            quote is None
            or not access.can(actor, "quotes.view")
            or access.load_company(actor, quote.company_id) is None
        ):
            raise FieldRefused(_("There is no such quote among those you may see."), "quote")
    if order_id is not None:
        order = db.session.get(Order, order_id)
        if (
            order is None
            or not access.can(actor, "orders.view")
            or access.load_company(actor, order.company_id) is None
        ):
            raise FieldRefused(_("There is no such order among those you may see."), "order")
    record = quote or order
    if company_id is not None:
        company = access.load_company(actor, company_id)
        if company is None:
            raise FieldRefused(_("There is no such customer among those you may see."), "company")
        if record is not None and record.company_id != company.id:
            name = record.company.name
            message = (
                _("The quote belongs to %(company)s: choose that customer, or none.", company=name)
                if quote is not None
                else _(
                    "The order belongs to %(company)s: choose that customer, or none.", company=name
                )
            )
            raise FieldRefused(message, "company")
    elif record is not None:
        company = record.company
    return Links(company, quote, order)


def _clean(title: str, notes: str, due_at: datetime | None, remind_at: datetime | None):
    title = (title or "").strip()
    if not title:
        raise FieldRefused(_("Give the task a title."), "title")
    if len(title) > TITLE_LENGTH:
        raise FieldRefused(
            _("A title is at most %(count)d characters.", count=TITLE_LENGTH), "title"
        )
    notes = (notes or "").strip()
    if len(notes) > NOTES_LENGTH:
        raise FieldRefused(
            _("Notes are at most %(count)d characters.", count=NOTES_LENGTH), "notes"
        )
    if due_at is None:
        raise FieldRefused(_("Say when the task is due."), "due_at")
    if remind_at is not None and remind_at > due_at:
        raise FieldRefused(_("The reminder must come before the task is due."), "remind_at")
    return title, notes


def _check_assignee(assignee: User | None, links: Links) -> None:
    if assignee is None:
        raise FieldRefused(_("Choose the colleague the task is for."), "assignee")
    company_id = links.company.id if links.company is not None else None
    if access.may_be_assigned_task(assignee, company_id):
        return
    if (
        not assignee.is_staff
        or assignee.status != "active"
        or not access.can(assignee, "tasks.view")
    ):
        raise FieldRefused(
            _(
                "%(name)s cannot be given tasks: choose an active colleague who sees tasks.",
                name=assignee.name,
            ),
            "assignee",
        )
    raise FieldRefused(
        _(
            "%(name)s does not serve %(company)s: choose a colleague who may see this customer.",
            name=assignee.name,
            company=links.company.name,
        ),
        "assignee",
    )


def _refuse_unless_editor(actor: User, task: Task | None = None) -> None:
    if not access.can(actor, "tasks.edit") or (
        task is not None and not access.may_edit_task(actor, task)
    ):
        raise Refused(_("Your account may not change this task."))


# --- changing -----------------------------------------------------------------------------


def _shown(task: Task) -> dict:
    """What the audit log keeps of a task."""
    return {
        "title": task.title,
        "due_at": task.due_at.isoformat(timespec="minutes"),
        "remind_at": task.remind_at.isoformat(timespec="minutes") if task.remind_at else None,
        "assignee": task.assignee.email if task.assignee is not None else None,
        "company_id": task.company_id,
        "quote_id": task.quote_id,
        "order_id": task.order_id,
        "status": task.status,
    }


def _changed(task: Task, *also: int | None) -> None:
    """Record the live event: the lists of its assignee (now and before) and of its
    creator, and its record's panels."""
    people = {task.assignee_id, task.created_by_id, *also} - {None}
    events.record(
        db.session,
        CHANGED,
        task.id,
        people=tuple(sorted(people)),
        company=task.company_id,
        quote=task.quote_id,
        order=task.order_id,
    )


def _schedule_reminder(task: Task) -> None:
    """A job due at the task's reminder (none without one, or for a done task)."""
    if task.remind_at is None or not task.is_open or task.reminded_at is not None:
        return
    language = task.assignee.language if task.assignee is not None else None
    jobs.enqueue(REMIND, task.id, language=language, run_after=task.remind_at)


def create(
    actor: User,
    *,
    title: str,
    due_at: datetime | None,
    assignee: User | None,
    links: Links = Links(),
    notes: str = "",
    remind_at: datetime | None = None,
    ip: str = "",
) -> Task:
    """Make a task for a colleague (times are naive UTC)."""
    _refuse_unless_editor(actor)
    title, notes = _clean(title, notes, due_at, remind_at)
    _check_assignee(assignee, links)
    now = utcnow()
    task = Task(
        title=title,
        notes=notes,
        due_at=due_at,
        remind_at=remind_at,
        status="open",
        assignee=assignee,
        assignee_id=assignee.id,
        created_by_id=actor.id,
        company_id=links.company.id if links.company is not None else None,
        quote_id=links.quote.id if links.quote is not None else None,
        order_id=links.order.id if links.order is not None else None,
        created_at=now,
        updated_at=now,
    )
    db.session.add(task)
    db.session.flush()
    audit.record(
        "task.created",
        actor=actor,
        target=task,
        summary=f"Task “{task.title[:80]}” for {assignee.name}",
        after=_shown(task),
        ip=ip,
    )
    _schedule_reminder(task)
    _changed(task)
    return task


def update(
    task: Task,
    actor: User,
    *,
    title: str,
    due_at: datetime | None,
    assignee: User | None,
    links: Links,
    notes: str = "",
    remind_at: datetime | None = None,
    ip: str = "",
) -> bool:
    """Change a task; False when nothing changed. A moved reminder is sent again."""
    _refuse_unless_editor(actor, task)
    title, notes = _clean(title, notes, due_at, remind_at)
    _check_assignee(assignee, links)
    before = _shown(task)
    previous_assignee, previous_notes = task.assignee_id, task.notes
    task.title, task.notes, task.due_at = title, notes, due_at
    reminder_moved = task.remind_at != remind_at
    task.remind_at = remind_at
    task.assignee, task.assignee_id = assignee, assignee.id
    task.company_id = links.company.id if links.company is not None else None
    task.quote_id = links.quote.id if links.quote is not None else None
    task.order_id = links.order.id if links.order is not None else None
    after = _shown(task)
    if after == before and notes == previous_notes:
        return False
    if reminder_moved or previous_assignee != assignee.id:
        task.reminded_at = None
        _schedule_reminder(task)
    task.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "task.updated",
        actor=actor,
        target=task,
        summary=f"Task “{task.title[:80]}” changed",
        before=before,
        after=after,
        ip=ip,
    )
    _changed(task, previous_assignee)
    return True


def complete(task: Task, actor: User, *, ip: str = "") -> bool:
    """Mark the task done; False when it already was."""
    _refuse_unless_editor(actor, task)
    if not task.is_open:
        return False
    task.status, task.done_at, task.done_by_id = "done", utcnow(), actor.id
    task.updated_at = task.done_at
    audit.record(
        "task.done", actor=actor, target=task, summary=f"Task “{task.title[:80]}” done", ip=ip
    )
    _changed(task)
    return True


def reopen(task: Task, actor: User, *, ip: str = "") -> bool:
    """Open a done task again; False when it was open."""
    _refuse_unless_editor(actor, task)
    if task.is_open:
        return False
    task.status, task.done_at, task.done_by_id = "open", None, None
    task.updated_at = utcnow()
    audit.record(
        "task.reopened",
        actor=actor,
        target=task,
        summary=f"Task “{task.title[:80]}” reopened",
        ip=ip,
    )
    if task.remind_at is not None and task.reminded_at is None and task.remind_at > utcnow():
        _schedule_reminder(task)
    _changed(task)
    return True


def delete(task: Task, actor: User, *, ip: str = "") -> None:
    """Remove a task for good (the audit log keeps what it was)."""
    _refuse_unless_editor(actor, task)
    audit.record(
        "task.deleted",
        actor=actor,
        target=task,
        summary=f"Task “{task.title[:80]}” removed",
        before=_shown(task),
        ip=ip,
    )
    _changed(task)
    db.session.delete(task)
    db.session.flush()


# --- the reminder -------------------------------------------------------------------------


def link_of(task: Task) -> str:
    """The task's page, as a mail links it (PORTAL_URL: the public base of every link)."""
    return f"{current_app.config['PORTAL_URL']}/office/tasks/{task.id}"


def _local(value: datetime, person: User) -> str:
    """A stored time as the person reads it: in their zone (the seller's until they pick
    one), in the language of the moment, with the zone named."""
    from babel.dates import format_datetime

    zone_name = person.timezone or settings.timezone()
    shown = value.replace(tzinfo=UTC).astimezone(ZoneInfo(zone_name)).replace(tzinfo=None)
    return (
        f"{format_datetime(shown, 'dd MMM yyyy HH:mm', locale=i18n.current_locale())} ({zone_name})"
    )


@jobs.task(REMIND, label=N_("Task reminder"), attempts=5, time_limit=120)
def remind(task_id: int) -> None:
    """Mail the assignee about their task, once, when its reminder is due.

    Nothing for a task removed, done, already reminded, given to someone who may no longer
    see it, or whose reminder was moved later (its own job comes then)."""
    task = db.session.get(Task, task_id)
    if task is None or not task.is_open or task.remind_at is None or task.reminded_at:
        return
    if task.remind_at > utcnow() + timedelta(seconds=1):
        return  # moved later: the job asked for with the move sends it
    person = task.assignee
    if person is None or not access.may_see_task(person, task):
        return
    task.reminded_at = utcnow()
    with i18n.in_language(person.language):
        subject = _("Reminder: %(title)s", title=task.title)
        body = _(
            "Your task “%(title)s” is due %(due)s.",
            title=task.title,
            due=_local(task.due_at, person),
        )
        if task.company is not None:
            body = f"{body}\n" + _("Customer: %(name)s", name=task.company.name)
        if task.notes:
            body = f"{body}\n\n{task.notes}"
        body = f"{body}\n\n{link_of(task)}"
        notify.people([person], str(subject), str(body))
    db.session.commit()


@remind.describer
def _describe(task_id: int) -> str:
    task = db.session.get(Task, task_id)
    if task is None:
        return f"#{task_id}"
    return f"{task.assignee.email}: {task.title}"
