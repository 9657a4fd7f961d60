"""The background jobs page in a real browser: the admin retries a failed mail job and its
row follows the job live until it is done; the page, full of rows, passes axe and fits a
phone."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from core import mail
from core.models import Job
from extensions import db
from tests.browser.personas import signed_in_context, wait_settled
from tests.browser.test_accessibility import serious_violations
from tests.conftest import wait_live
from tests.jobs import jobs_of, mailbox_server, recorded, until
from tests.matrix_base import ADMIN

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def failed_mail(app):
    """A mail whose delivery job failed (the mailbox now accepts), and a few done jobs:
    (mailbox, job id)."""
    with mailbox_server() as (box, port):
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        try:
            with app.app_context(), recorded(app):
                sent = [
                    mail.send(f"ops{i}@acme.test", f"Statement {i}", "Hello.") for i in range(4)
                ]
                db.session.commit()
                ids = [jobs_of(mail.DELIVER, m.id)[0].id for m in sent]
                db.session.execute(update(Job).where(Job.id.in_(ids[1:])).values(state="done"))
                db.session.execute(
                    update(Job)
                    .where(Job.id == ids[0])
                    .values(
                        state="failed",
                        attempts=5,
                        last_error="(451, b'4.7.1 Greylisted, try again later')",
                    )
                )
                db.session.commit()
            yield box, ids[0]
        finally:
            app.config.update(MAIL_SERVER=None, MAIL_PORT=25)


def test_the_admin_retries_a_failed_job_and_sees_it_done(browser, app, live_server, failed_mail):
    box, job_id = failed_mail
    context = signed_in_context(browser, app, live_server, ADMIN, viewport=DESKTOP, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto("/office/jobs")
        wait_live(page)
        row = page.locator(f"#job-{job_id}")
        expect(row.locator(".status")).to_have_text("Failed")
        expect(row).to_contain_text("Greylisted")
        assert serious_violations(page) == []
        with page.expect_response(lambda r: "/retry" in r.url) as answer:
            row.get_by_role("button", name="Retry").click()
        assert f"Job #{job_id} is queued to run again." in answer.value.text()
        # The job runs once the retry commits; its row follows it live (a refresh that
        # may come before the answer above is even swapped in).
        expect(page.locator(f"#job-{job_id} .status")).to_have_text("Done", timeout=10_000)
        until(lambda: box.accepted, 10, "the mail to arrive")
        assert [e.rcpt_tos for e in box.accepted] == [["ops0@acme.test"]]
    finally:
        context.close()


def test_the_jobs_page_fits_a_phone(browser, app, live_server, failed_mail):
    context = signed_in_context(browser, app, live_server, ADMIN, viewport=PHONE, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto("/office/jobs")
        wait_settled(page)
        expect(page.locator("#jobs-results tbody tr")).to_have_count(4)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the jobs page scrolls sideways by {overflow}px on a phone"
        assert serious_violations(page) == []
    finally:
        context.close()
