"""Tasks and agenda: follow-up tasks on customers, quotes and orders, scoped by customer.

A task follows its customer's scope: a rep never sees (list, page, calendar, panel,
history, 404) a task of a company not assigned to them; a task is given only to a
colleague who may see its customer; the reminder is mailed once, at its time, in the
assignee's language; the calendar puts each task on its due day in the viewer's zone.
"""

from datetime import datetime, timedelta

from sqlalchemy import select, update

from core import jobs, quotes, tasks
from core.models import (
    AuditEntry,
    Company,
    Job,
    Order,
    OutboxMail,
    Quote,
    Task,
    User,
    utcnow,
)
from extensions import db

ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"
ANNA = "anna.sales@portal.test"  # Acme Robotics, Baltic Drones
MARCO = "marco.sales@portal.test"  # Carpathia Makers, Delft Devices
VIEWER = "viewer@portal.test"
WAREHOUSE = "warehouse@portal.test"


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def company(name: str) -> Company:
    return db.session.scalar(select(Company).where(Company.name == name))


def quote_of(name: str) -> Quote:
    return db.session.scalar(
        select(Quote).where(Quote.company_id == company(name).id).order_by(Quote.id)
    )


def order_of(name: str) -> Order:
    return db.session.scalar(
        select(Order).where(Order.company_id == company(name).id).order_by(Order.id)
    )


def make(actor: str, assignee: str, *, title="Call back", due=None, remind=None, **links):
    """A task made through the service, committed."""
    found = tasks.resolve_links(
        user(actor),
        links.get("company").id if links.get("company") else None,
        links.get("quote").id if links.get("quote") else None,
        links.get("order").id if links.get("order") else None,
    )
    task = tasks.create(
        user(actor),
        title=title,
        due_at=due or utcnow() + timedelta(days=2),
        remind_at=remind,
        assignee=user(assignee),
        links=found,
    )
    db.session.commit()
    return task.id


DEMO_TASKS = 3  # demo/tasks.py


def count() -> int:
    db.session.rollback()
    return len(db.session.scalars(select(Task)).all())


def form(**values) -> dict:
    base = {"title": "Chase the drawing", "notes": "", "due_at": "2030-03-04T09:30"}
    base.update(values)
    return base


# --- making and assigning ------------------------------------------------------------------


def test_rep_creates_a_task_on_an_assigned_customer_through_the_form(ctx, as_user):
    acme = company("Acme Robotics")
    anna = user(ANNA)
    client = as_user(ANNA)
    page = client.get(f"/office/tasks/new?company={acme.id}")
    assert page.status_code == 200
    assert f'<option selected value="{acme.id}">' in page.get_data(as_text=True)
    response = client.send(
        "POST",
        "/office/tasks/new",
        data=form(assignee=anna.id, company=acme.id, remind_at="2030-03-04T08:00"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    task = db.session.scalar(select(Task).where(Task.title == "Chase the drawing"))
    assert task.company_id == acme.id and task.assignee_id == anna.id
    assert task.created_by_id == anna.id and task.status == "open"
    # Typed in the seller's zone (Europe/Berlin, winter): stored as UTC.
    assert task.due_at == datetime(2030, 3, 4, 8, 30)
    assert response.headers["Location"].endswith(f"/office/tasks/{task.id}")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "task.created"))
    assert entry is not None and entry.target_id == task.id
    # The reminder waits for its time as a job.
    job = db.session.scalar(select(Job).where(Job.kind == tasks.REMIND))
    assert job.args == [task.id] and job.state == "queued"
    assert job.run_after == datetime(2030, 3, 4, 7, 0)


def test_a_quote_link_implies_its_company(ctx, as_user):
    quote = quote_of("Acme Robotics")
    client = as_user(ANNA)
    page = client.get(f"/office/tasks/new?quote={quote.id}")
    assert page.status_code == 200
    assert quote.number in page.get_data(as_text=True)
    response = client.send(
        "POST", "/office/tasks/new", data=form(assignee=user(ANNA).id, quote=quote.id, company="")
    )
    assert response.status_code == 302
    task = db.session.scalar(select(Task).where(Task.title == "Chase the drawing"))
    assert task.quote_id == quote.id and task.company_id == quote.company_id


def test_a_quote_of_another_company_than_the_one_chosen_is_refused(ctx, as_user):
    quote = quote_of("Acme Robotics")
    baltic = company("Baltic Drones")
    response = as_user(ANNA).send(
        "POST",
        "/office/tasks/new",
        data=form(assignee=user(ANNA).id, quote=quote.id, company=baltic.id),
    )
    assert response.status_code == 422
    assert "belongs to Acme Robotics" in response.get_data(as_text=True)
    assert count() == DEMO_TASKS


def test_assigning_to_a_colleague_out_of_the_customers_scope_is_refused(ctx, as_user):
    acme = company("Acme Robotics")
    response = as_user(ANNA).send(
        "POST", "/office/tasks/new", data=form(assignee=user(MARCO).id, company=acme.id)
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "does not serve Acme Robotics" in text
    assert "Chase the drawing" in text  # what was typed is kept
    assert count() == DEMO_TASKS
    # A colleague who serves it, or sees every customer, may have it.
    for email in (ANNA, MANAGER, WAREHOUSE):
        assert tasks.assignable(user(ANNA), acme).count(user(email)) == 1
    assert user(MARCO) not in tasks.assignable(user(ANNA), acme)


def test_assigning_to_a_customer_person_or_an_unknown_id_is_refused(ctx, as_user):
    acme = company("Acme Robotics")
    client = as_user(ANNA)
    for assignee in (user("orders@acme.test").id, 999999, "x"):
        response = client.send(
            "POST", "/office/tasks/new", data=form(assignee=assignee, company=acme.id)
        )
        assert response.status_code == 422
    assert count() == DEMO_TASKS


def test_a_customer_out_of_the_makers_scope_is_refused(ctx, as_user):
    carpathia = company("Carpathia Makers")
    response = as_user(ANNA).send(
        "POST", "/office/tasks/new", data=form(assignee=user(ANNA).id, company=carpathia.id)
    )
    assert response.status_code == 422
    assert "no such customer" in response.get_data(as_text=True)
    assert as_user(ANNA).get(f"/office/tasks/new?company={carpathia.id}").status_code == 404


def test_bad_input_is_explained_and_nothing_is_saved(ctx, as_user):
    client = as_user(ANNA)
    for bad, message in (
        (form(title="", assignee=user(ANNA).id), "Give the task a title."),
        (form(due_at="", assignee=user(ANNA).id), "Say when the task is due."),
        (form(due_at="tomorrow", assignee=user(ANNA).id), "Enter a date and time"),
        (
            form(assignee=user(ANNA).id, remind_at="2030-03-05T09:00"),
            "The reminder must come before",
        ),
        (form(assignee=user(ANNA).id, quote="abc"), "not a record number"),
    ):
        response = client.send("POST", "/office/tasks/new", data=bad)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert count() == DEMO_TASKS


def test_read_only_staff_see_but_do_not_change(ctx, as_user):
    task_id = make(ANNA, ANNA, company=company("Acme Robotics"))
    viewer = as_user(VIEWER)
    page = viewer.get(f"/office/tasks/{task_id}")
    assert page.status_code == 200
    assert "Mark done" not in page.get_data(as_text=True)
    assert viewer.get("/office/tasks/new").status_code == 403
    assert viewer.send("POST", f"/office/tasks/{task_id}/done").status_code == 403
    assert db.session.get(Task, task_id).status == "open"


# --- scope: a rep never sees another rep's customer's task ---------------------------------


def test_a_rep_never_sees_a_task_of_an_unassigned_company(ctx, as_user):
    carpathia = company("Carpathia Makers")
    due = datetime(2030, 5, 14, 10, 0)
    task_id = make(MARCO, MARCO, title="Carpathia follow-up", due=due, company=carpathia)
    anna = as_user(ANNA)
    for url in (
        "/office/tasks?who=all",
        "/office/tasks?who=all&status=any",
        "/office/tasks/calendar?month=2030-05&who=all",
    ):
        page = anna.get(url)
        assert page.status_code == 200
        assert "Carpathia follow-up" not in page.get_data(as_text=True)
    for url in (
        f"/office/tasks/{task_id}",
        f"/office/tasks/panel?company={carpathia.id}",
        f"/office/customers/{carpathia.id}/history",
    ):
        assert anna.get(url).status_code == 404, url
    for action in ("done", "reopen", "delete"):
        assert anna.send("POST", f"/office/tasks/{task_id}/{action}").status_code == 404
    assert anna.send("POST", f"/office/tasks/{task_id}", data=form()).status_code == 404
    assert db.session.get(Task, task_id).status == "open"
    # Marco, and whoever sees every customer, do see it.
    for email in (MARCO, MANAGER, VIEWER):
        client = as_user(email)
        assert "Carpathia follow-up" in client.get("/office/tasks?who=all").get_data(as_text=True)
        calendar = client.get("/office/tasks/calendar?month=2030-05&who=all")
        assert "Carpathia follow-up" in calendar.get_data(as_text=True)
        assert client.get(f"/office/tasks/{task_id}").status_code == 200


def test_a_task_without_a_customer_is_its_makers_and_assignees(ctx, as_user):
    task_id = make(ANNA, MARCO, title="Team lunch booking")
    for email in (ANNA, MARCO, MANAGER):
        assert as_user(email).get(f"/office/tasks/{task_id}").status_code == 200
    # Another rep, without every customer, does not see it.
    db.session.execute(update(Task).where(Task.id == task_id).values(created_by_id=user(MARCO).id))
    db.session.commit()
    assert as_user(ANNA).get(f"/office/tasks/{task_id}").status_code == 404


def test_customers_have_no_tasks_module(ctx, as_user):
    client = as_user("orders@acme.test")
    assert client.get("/office/tasks").status_code == 403


# --- the list ------------------------------------------------------------------------------


def test_my_tasks_open_first_overdue_marked_and_filtered(ctx, as_user):
    acme = company("Acme Robotics")
    now = utcnow()
    late = make(MANAGER, ANNA, title="Late one", due=now - timedelta(days=1), company=acme)
    soon = make(MANAGER, ANNA, title="Soon one", due=now + timedelta(days=1), company=acme)
    done = make(MANAGER, ANNA, title="Done one", due=now - timedelta(days=3), company=acme)
    other = make(MANAGER, MANAGER, title="Managers own", company=acme)
    tasks.complete(db.session.get(Task, done), user(ANNA))
    db.session.commit()
    anna = as_user(ANNA)
    text = anna.get("/office/tasks").get_data(as_text=True)
    assert text.index("Late one") < text.index("Soon one")
    assert "Done one" not in text and "Managers own" not in text
    assert f'id="my-tasks-{user(ANNA).id}"' in text
    row = text[text.index(f'id="task-row-{late}"') - 80 : text.index(f'id="task-row-{soon}"')]
    assert "task-item--overdue" in row and "Overdue" in row
    everything = anna.get("/office/tasks?status=any").get_data(as_text=True)
    assert everything.index("Soon one") < everything.index("Done one")
    assert "Done one" in anna.get("/office/tasks?status=done").get_data(as_text=True)
    created = as_user(MANAGER).get("/office/tasks?who=created").get_data(as_text=True)
    assert all(t in created for t in ("Late one", "Soon one", "Managers own"))
    assert other
    # htmx gets the list alone.
    fragment = anna.htmx("/office/tasks").get_data(as_text=True)
    assert fragment.lstrip().startswith("{#") is False and "<html" not in fragment
    assert anna.get("/office/tasks?status=nope").status_code == 400
    assert anna.get("/office/tasks?who=everyone").status_code == 400


def test_the_empty_list_says_so_and_pages(ctx, as_user):
    manager = as_user(MANAGER)
    assert "no open task is assigned to you" in manager.get("/office/tasks").get_data(as_text=True)
    acme = company("Acme Robotics")
    for n in range(27):
        tasks.create(
            user(MANAGER),
            title=f"Item {n:02d}",
            due_at=utcnow() + timedelta(days=1, minutes=n),
            assignee=user(MANAGER),
            links=tasks.Links(acme),
        )
    db.session.commit()
    first = manager.get("/office/tasks").get_data(as_text=True)
    assert "Item 00" in first and "Item 26" not in first and 'rel="next"' in first
    second = manager.get("/office/tasks?page=2").get_data(as_text=True)
    assert "Item 26" in second and "Item 00" not in second


# --- changing ------------------------------------------------------------------------------


def test_done_reopen_edit_and_delete_are_audited(ctx, as_user):
    acme = company("Acme Robotics")
    task_id = make(ANNA, ANNA, company=acme)
    anna = as_user(ANNA)
    assert anna.send("POST", f"/office/tasks/{task_id}/done").status_code == 302
    task = db.session.get(Task, task_id)
    assert task.status == "done" and task.done_by_id == user(ANNA).id and task.done_at
    assert anna.send("POST", f"/office/tasks/{task_id}/reopen").status_code == 302
    db.session.refresh(task)
    assert task.status == "open" and task.done_at is None
    response = anna.send(
        "POST",
        f"/office/tasks/{task_id}",
        data=form(title="Call back about the drawing", assignee=user(MANAGER).id, company=acme.id),
    )
    assert response.status_code == 302
    db.session.refresh(task)
    assert task.title == "Call back about the drawing" and task.assignee_id == user(MANAGER).id
    page = anna.get(f"/office/tasks/{task_id}").get_data(as_text=True)
    assert "Remove this task for good?" in page
    assert anna.send("POST", f"/office/tasks/{task_id}/delete").status_code == 302
    assert db.session.get(Task, task_id) is None
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("task.%")).order_by(AuditEntry.id)
    ).all()
    assert actions == ["task.created", "task.done", "task.reopened", "task.updated", "task.deleted"]
    # A bare POST without its token changes nothing.
    again = make(ANNA, ANNA, company=acme)
    assert anna.send("POST", f"/office/tasks/{again}/done", csrf=False).status_code == 400
    assert db.session.get(Task, again).status == "open"


# --- reminders -----------------------------------------------------------------------------


def _due_now(task_id: int) -> None:
    """The reminder's time has come: move it, and its job, into the past."""
    past = utcnow() - timedelta(minutes=1)
    db.session.execute(update(Task).where(Task.id == task_id).values(remind_at=past))
    db.session.execute(
        update(Job).where(Job.kind == tasks.REMIND, Job.state == "queued").values(run_after=past)
    )
    db.session.commit()


def reminders_to(email: str) -> list[OutboxMail]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == email)))


def test_the_reminder_is_mailed_once_at_its_time(app, ctx):
    acme = company("Acme Robotics")
    remind = utcnow() + timedelta(hours=2)
    task_id = make(
        MANAGER,
        ANNA,
        title="Send the samples",
        due=remind + timedelta(hours=3),
        remind=remind,
        company=acme,
    )
    job = db.session.scalar(select(Job).where(Job.kind == tasks.REMIND))
    assert jobs.describe(job) == f"{ANNA}: Send the samples"  # as the jobs page names it
    # Not due yet: the job waits, and running it early sends nothing.
    assert jobs.run(job.id) is not None
    assert reminders_to(ANNA) == []
    _due_now(task_id)
    assert jobs.run(job.id) is None
    mails = reminders_to(ANNA)
    assert len(mails) == 1
    assert mails[0].subject == "Reminder: Send the samples"
    assert f"/office/tasks/{task_id}" in mails[0].body and "Acme Robotics" in mails[0].body
    assert db.session.get(Task, task_id).reminded_at is not None
    # A second delivery of the job, or the work run again, sends nothing more.
    jobs.run(job.id)
    tasks.remind(task_id)
    db.session.commit()
    assert len(reminders_to(ANNA)) == 1


def test_the_reminder_is_in_the_assignees_language_and_zone(app, ctx):
    anna = user(ANNA)
    anna.language, anna.timezone = "fr", "America/New_York"
    db.session.commit()
    due = datetime(2030, 7, 1, 16, 0)  # 12:00 in New York (summer)
    task_id = make(MANAGER, ANNA, title="Angebot", due=due, remind=utcnow() + timedelta(hours=1))
    _due_now(task_id)
    tasks.remind(task_id)
    db.session.commit()
    (mail,) = reminders_to(ANNA)
    assert "12:00" in mail.body and "America/New_York" in mail.body
    assert mail.body.startswith("Bonjour") and "juil." in mail.body


def test_a_done_task_or_a_moved_reminder_sends_nothing_then(app, ctx):
    acme = company("Acme Robotics")
    task_id = make(MANAGER, ANNA, remind=utcnow() + timedelta(hours=1), company=acme)
    _due_now(task_id)
    tasks.complete(db.session.get(Task, task_id), user(MANAGER))
    db.session.commit()
    tasks.remind(task_id)
    db.session.commit()
    assert reminders_to(ANNA) == []
    # Moved later: the old job finds it not due; the new one waits for the new time.
    other = make(MANAGER, ANNA, remind=utcnow() + timedelta(hours=1), company=acme)
    task = db.session.get(Task, other)
    later = utcnow() + timedelta(hours=5)
    tasks.update(
        task,
        user(MANAGER),
        title=task.title,
        due_at=task.due_at + timedelta(days=1),
        assignee=task.assignee,
        links=tasks.Links(acme),
        remind_at=later,
    )
    db.session.commit()
    tasks.remind(other)
    db.session.commit()
    assert reminders_to(ANNA) == []
    reminders = db.session.scalars(select(Job).where(Job.kind == tasks.REMIND).order_by(Job.id))
    queued = [job for job in reminders if job.args == [other]]
    assert len(queued) == 2
    assert abs(queued[-1].run_after - later) < timedelta(seconds=1)  # MariaDB keeps seconds


def test_a_reminder_already_due_is_mailed_at_once(app, ctx):
    make(MANAGER, ANNA, title="Urgent", remind=utcnow() - timedelta(minutes=5))
    assert [m.subject for m in reminders_to(ANNA)] == ["Reminder: Urgent"]


# --- the calendar --------------------------------------------------------------------------


def test_the_calendar_puts_tasks_on_their_local_due_day_within_the_month(ctx, as_user):
    acme = company("Acme Robotics")
    # Europe/Berlin: 31 Jan 23:30 UTC is 1 Feb 00:30 there; 28 Feb 23:30 UTC is 1 Mar.
    first = make(
        ANNA, ANNA, title="First of February", due=datetime(2030, 1, 31, 23, 30), company=acme
    )
    make(ANNA, ANNA, title="First of March", due=datetime(2030, 2, 28, 23, 30), company=acme)
    make(ANNA, ANNA, title="Last of January", due=datetime(2030, 1, 31, 22, 30), company=acme)
    anna = as_user(ANNA)
    february = anna.get("/office/tasks/calendar?month=2030-02").get_data(as_text=True)
    assert "First of February" in february
    assert "First of March" not in february and "Last of January" not in february
    cell = february[
        february.index('data-day="2030-02-01"') : february.index('data-day="2030-02-02"')
    ]
    assert f"/office/tasks/{first}" in cell
    assert "February 2030" in february
    # The grid starts on the Monday before the 1st (28 Jan) and ends on the Sunday (3 Mar).
    assert 'data-day="2030-01-28"' in february and 'data-day="2030-03-03"' in february
    assert 'data-day="2030-01-27"' not in february and 'data-day="2030-03-04"' not in february
    january = anna.get("/office/tasks/calendar?month=2030-01").get_data(as_text=True)
    assert "Last of January" in january and "First of February" not in january
    december = anna.get("/office/tasks/calendar?month=2029-12").get_data(as_text=True)
    assert "?month=2030-01" in december and "?month=2029-11" in december
    for bad in ("2030-13", "2030-1", "march", "0000-01"):
        assert anna.get(f"/office/tasks/calendar?month={bad}").status_code == 400


# --- the record panels and the contact history ---------------------------------------------


def test_customer_quote_and_order_pages_show_their_open_tasks(ctx, as_user):
    acme = company("Acme Robotics")
    quote, order = quote_of("Acme Robotics"), order_of("Acme Robotics")
    make(ANNA, ANNA, title="About the quote", quote=quote)
    make(ANNA, ANNA, title="About the order", order=order)
    anna = as_user(ANNA)
    customer = anna.get(f"/office/customers/{acme.id}").get_data(as_text=True)
    assert f'id="company-tasks-{acme.id}"' in customer
    assert "About the quote" in customer and "About the order" in customer
    assert f"/office/tasks/new?company={acme.id}" in customer
    quote_page = anna.get(f"/office/quotes/{quote.id}").get_data(as_text=True)
    assert "About the quote" in quote_page and "About the order" not in quote_page
    assert f"/office/tasks/new?quote={quote.id}" in quote_page
    order_page = anna.get(f"/office/orders/{order.id}").get_data(as_text=True)
    assert "About the order" in order_page and f"/office/tasks/new?order={order.id}" in order_page
    panel = anna.get(f"/office/tasks/panel?order={order.id}").get_data(as_text=True)
    assert "About the order" in panel and "<html" not in panel
    assert anna.get("/office/tasks/panel").status_code == 400


def test_the_contact_history_shows_everything_newest_first_in_scope(ctx, as_user):
    from core import conversations

    acme = company("Acme Robotics")
    quote = quote_of("Acme Robotics")
    conversation = conversations.conversation_of(quote)
    conversations.post_message(conversation, author=user("orders@acme.test"), body="Any news?")
    db.session.commit()
    make(ANNA, ANNA, title="Answer Acme", company=acme)
    anna = as_user(ANNA)
    text = anna.get(f"/office/customers/{acme.id}").get_data(as_text=True)
    section = text[text.index(f'id="contact-history-{acme.id}"') :]
    assert "Contact history" in section
    assert "Any news?" in section and "Answer Acme" in section
    assert quote.number in section and order_of("Acme Robotics").number in section
    assert str(quotes.STATUS_LABELS[quote.status]) in section  # a status, as people read it
    # Newest first: the task made last comes before the message.
    assert section.index("Answer Acme") < section.index("Any news?")
    page = anna.get(f"/office/customers/{acme.id}/history?page=2")
    assert page.status_code == 200
    # Another company's history is not Anna's; the warehouse sees no quotes, orders' yes.
    carpathia = company("Carpathia Makers")
    assert anna.get(f"/office/customers/{carpathia.id}/history").status_code == 404
    marco = as_user(MARCO).get(f"/office/customers/{carpathia.id}").get_data(as_text=True)
    assert "Answer Acme" not in marco and "Any news?" not in marco


def test_the_contact_history_lists_mails_to_the_companys_people(ctx, as_user):
    from core import notify

    acme = company("Acme Robotics")
    notify.people([user("orders@acme.test")], "Your delivery is on its way", "Tracking inside")
    notify.people([user("orders@baltic.test")], "Baltic only", "Not Acme's")
    db.session.commit()
    text = as_user(ADMIN).get(f"/office/customers/{acme.id}/history").get_data(as_text=True)
    assert "Your delivery is on its way" in text and "orders@acme.test" in text
    assert "Baltic only" not in text


# --- navigation and live lists -------------------------------------------------------------


def test_the_tasks_module_is_in_the_navigation_of_those_who_see_tasks(ctx, as_user):
    for email in (ANNA, VIEWER, WAREHOUSE):
        assert 'href="/office/tasks"' in as_user(email).get("/office/").get_data(as_text=True)
    # A role without tasks.view: the entry is gone and the module is a 403.
    from core.models import Role, RolePermission

    role = db.session.scalar(select(Role).where(Role.preset == "readonly"))
    db.session.execute(
        RolePermission.__table__.delete().where(
            RolePermission.role_id == role.id, RolePermission.permission == "tasks.view"
        )
    )
    db.session.commit()
    viewer = as_user(VIEWER)
    assert 'href="/office/tasks"' not in viewer.get("/office/").get_data(as_text=True)
    assert viewer.get("/office/tasks").status_code == 403


def test_a_task_given_to_a_colleague_refreshes_their_list_and_the_records_panel(connect, ctx):
    import time

    from tests.sockets import drain, watch

    acme = company("Acme Robotics")
    anna = user(ANNA)
    sockets = {email: connect(email) for email in (ANNA, MARCO)}
    watch(sockets[ANNA], {f"my-tasks-{anna.id}", f"company-tasks-{acme.id}"})
    # Marco asks for Anna's list and Acme's panel: neither is his to see.
    watch(sockets[MARCO], {f"my-tasks-{anna.id}", f"company-tasks-{acme.id}"})
    time.sleep(0.3)
    make(MANAGER, ANNA, title="Live one", company=acme)
    received = {email: "".join(drain(ws, 1.5)) for email, ws in sockets.items()}
    assert f'data-refresh="my-tasks-{anna.id}"' in received[ANNA]
    panel = received[ANNA]
    assert f'id="company-tasks-{acme.id}"' in panel and "Live one" in panel
    assert "my-tasks" not in received[MARCO] and "company-tasks" not in received[MARCO]
    assert "Live one" not in received[MARCO]


def test_the_queue_holds_the_reminder_until_its_time(app, ctx):
    """On the in-process queue (no mocks): the job is handed over with its wait, and the
    mail appears once the reminder's time has come, not before."""
    from tests.jobs import queue_kind, until

    with queue_kind(app):
        remind = utcnow() + timedelta(seconds=2)
        task_id = make(MANAGER, ANNA, title="Timed", remind=remind, due=remind + timedelta(hours=1))
        assert reminders_to(ANNA) == []
        until(lambda: reminders_to(ANNA), seconds=20, what="the reminder's mail")
        assert utcnow() >= remind.replace(microsecond=0)
        assert [m.subject for m in reminders_to(ANNA)] == ["Reminder: Timed"]
        assert db.session.get(Task, task_id).reminded_at is not None


def test_the_edit_form_shows_the_task_as_it_is(ctx, as_user):
    acme = company("Acme Robotics")
    task_id = make(ANNA, MANAGER, title="Shown as saved", company=acme)
    page = as_user(ANNA).get(f"/office/tasks/{task_id}").get_data(as_text=True)
    assert f'<option selected value="{acme.id}">' in page
    assert f'<option selected value="{user(MANAGER).id}">' in page
    assert 'value="Shown as saved"' in page
