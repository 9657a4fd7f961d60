"""Tasks in a real browser: a task the manager gives Anna appears on her open tasks page
without a reload, and on a 390 px phone the month calendar is a list of the days that hold
tasks, with nothing wider than the screen."""

from datetime import timedelta

import pytest

from core import tasks
from core.models import Company, User, utcnow
from extensions import db
from tests.browser.personas import signed_in_context, wait_settled

pytestmark = pytest.mark.browser

ANNA = "anna.sales@portal.test"
MANAGER = "manager@portal.test"
PHONE = {"width": 390, "height": 844}


def test_a_task_given_to_anna_appears_on_her_open_tasks_page(browser, app, live_server):
    anna = signed_in_context(browser, app, live_server, ANNA)
    manager = signed_in_context(browser, app, live_server, MANAGER)
    try:
        mine = anna.new_page()
        mine.goto("/office/tasks")
        wait_settled(mine)
        mine.wait_for_timeout(300)  # the socket says which regions it shows
        assert "Ring Acme about the samples" not in mine.content()

        page = manager.new_page()
        with app.app_context():
            acme = db.session.query(Company).filter_by(slug="acme").one()
            anna_id = db.session.query(User).filter_by(email=ANNA).one().id
        page.goto(f"/office/tasks/new?company={acme.id}")
        page.get_by_label("Title").fill("Ring Acme about the samples")
        page.get_by_label("For").select_option(str(anna_id))
        page.get_by_role("button", name="Create task").click()
        page.wait_for_selector("text=The task is created.")

        mine.wait_for_selector("text=Ring Acme about the samples", timeout=5_000)
    finally:
        anna.close()
        manager.close()


def test_on_a_phone_the_calendar_is_a_list_of_days(browser, app, live_server):
    with app.app_context():
        due = utcnow() + timedelta(hours=1)
        anna = db.session.query(User).filter_by(email=ANNA).one()
        tasks.create(anna, title="Due within the hour", due_at=due, assignee=anna)
        db.session.commit()
    context = signed_in_context(browser, app, live_server, ANNA, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"/office/tasks/calendar?month={due:%Y-%m}&who=all")
        wait_settled(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        # The week-day header is gone; days without tasks are not shown, a day with one is,
        # named in full.
        assert not page.locator(".task-calendar thead").is_visible()
        shown = page.locator(".task-calendar__day:visible")
        assert shown.count() >= 1
        assert shown.count() < 28
        assert shown.first.locator(".task-calendar__label").is_visible()
    finally:
        context.close()
