"""The job queue: mails and imports run as jobs, once, retried with backoff, and seen by staff.

Each behaviour runs on both queues where it matters: the in-process threads (no Redis, on
SQLite and MariaDB) and Redis with a worker (the MariaDB pass, which sets REDIS_URL); the
worker there is `core.jobs.worker.serve` on a thread of the test process, whose writes the
per-test restore sees. `test_a_worker_killed_mid_job...` runs real `flask --app app worker`
processes on a database of their own.
"""

import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select, update

from core import audit, imports, jobs, mail, orders, throttle
from core.errors import Refused
from core.jobs.worker import serve
from core.models import AuditEntry, ImportJob, Invoice, Job, OutboxMail, Product, utcnow
from core.namespaces import namespace
from extensions import db
from tests.conftest import demo_portal, derived_database, need_redis
from tests.html import find
from tests.jobs import (
    fresh,
    jobs_of,
    mailbox_server,
    queue_kind,
    recorded,
    until,
)
from tests.matrix_base import ADMIN, ANNA, MANAGER
from tests.records import place, user

ROOT = Path(__file__).resolve().parents[2]
# Quick retries for the tests: 0.2 s, then 0.4, 0.8, 1.6 (each up to a quarter later).
QUICK = {"JOB_BACKOFF_SECONDS": 0.2, "JOB_BACKOFF_MAX_SECONDS": 5, "JOB_SWEEP_SECONDS": 1}


@pytest.fixture
def mailbox():
    with mailbox_server() as found:
        yield found


@pytest.fixture
def mail_server(app, mailbox):
    """Mail is delivered to the mailbox (so each mail sent asks for a delivery job)."""
    box, port = mailbox
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield box
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)


def redis_keys(app) -> list[str]:
    client = redis.Redis.from_url(need_redis())
    try:
        return sorted(k.decode() for k in client.keys(f"{namespace(app.config)}:jobs*"))
    finally:
        client.close()


def forget_redis_queue(app) -> None:
    """Remove what a test left of its portal's queue in Redis."""
    client = redis.Redis.from_url(need_redis())
    try:
        keys = client.keys(f"{namespace(app.config)}:jobs*")
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["local", "redis"])
def running_queue(request, app, mailbox):
    """The session portal's jobs run on a real queue: this process's threads, or Redis with
    a worker; mail goes to the mailbox. Yields the queue's kind."""
    _, port = mailbox
    config = {**QUICK, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port}
    if request.param == "local":
        with queue_kind(app, **config):
            yield "local"
        return
    config["REDIS_URL"] = need_redis()
    with queue_kind(app, **config):
        forget_redis_queue(app)
        stop, ready = threading.Event(), threading.Event()
        worker = threading.Thread(
            target=serve,
            args=(app,),
            kwargs={"threads": 2, "stop": stop, "say": lambda _: None, "ready": ready},
        )
        worker.start()
        assert ready.wait(30), "the worker did not start"
        try:
            yield "redis"
        finally:
            stop.set()
            worker.join(timeout=60)
            forget_redis_queue(app)
        assert not worker.is_alive(), "the worker did not stop"


def send_mail(to: str, subject: str = "Hello") -> int:
    """Keep a mail in the outbox and commit: its delivery is a job."""
    sent = mail.send(to, subject, "A message from the tests.")
    db.session.commit()
    return sent.id


def delivered(mail_id: int) -> OutboxMail | None:
    found = fresh(OutboxMail, mail_id)
    return found if found.sent_at is not None else None


def job_of(kind: str, *ids: int) -> Job:
    [found] = jobs_of(kind, *ids)
    return found


def settled(kind: str, *ids: int) -> Job | None:
    """The job, once it is done or failed."""
    found = jobs_of(kind, *ids)
    return found[0] if found and found[0].state in ("done", "failed") else None


# --- through the queue, in both modes --------------------------------------------------------


def test_a_mail_is_delivered_by_a_job_once(ctx, running_queue, mailbox):
    box, _ = mailbox
    mail_id = send_mail("someone@acme.test", "Your delivery")
    sent = until(lambda: delivered(mail_id), 30, "the mail to be delivered")
    assert sent.error == ""
    [envelope] = box.accepted
    assert envelope.rcpt_tos == ["someone@acme.test"]
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == "Your delivery"
    assert message["Message-ID"].startswith(f"<outbox-{mail_id}.")
    job = until(lambda: settled(mail.DELIVER, mail_id), 10, "the job to be recorded")
    assert (job.state, job.attempts, job.last_error) == ("done", 1, "")


def test_an_invoice_mail_is_drawn_and_sent_by_its_job(ctx, running_queue, mailbox):
    box, _ = mailbox
    order = place("carpathia")
    orders.move(order, "confirmed", actor=user(ADMIN))
    db.session.commit()
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    number = invoice.display_number
    mail_id = db.session.scalar(
        select(OutboxMail.id).where(
            OutboxMail.to_addr == "orders@carpathia.test",
            OutboxMail.subject.startswith(f"Invoice {number}"),
        )
    )
    until(lambda: delivered(mail_id), 30, "the invoice mail to be delivered")
    kept = fresh(OutboxMail, mail_id)
    assert kept.document_kind is None
    assert [a.filename for a in kept.attachments] == [f"{number}.pdf"]
    [envelope] = [e for e in box.accepted if e.rcpt_tos == ["orders@carpathia.test"]]
    message = message_from_bytes(envelope.content, policy=policy.default)
    [part] = list(message.iter_attachments())
    assert part.get_filename() == f"{number}.pdf" and part.get_content()[:5] == b"%PDF-"


def test_an_import_runs_as_a_job(as_user, ctx, running_queue):
    before = db.session.scalar(select(func.count(Product.id)))
    lines = "".join(f"JOB-{i:04d},Job part {i},3.20\n" for i in range(40))
    client = as_user(ADMIN)
    data = {
        "kind": "products",
        "file": (io.BytesIO(("sku,name,base_price\n" + lines).encode()), "p.csv"),
        "csrf_token": client.csrf_token(),
    }
    response = client.post("/office/imports", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    import_id = int(response.headers["Location"].rsplit("/", 1)[1])

    def finished():
        found = fresh(ImportJob, import_id)
        return found if found.status not in imports.RUNNING else None

    found = until(finished, 60, "the import to finish")
    assert (found.status, found.applied_lines) == ("done", 40), found.message
    assert db.session.scalar(select(func.count(Product.id))) == before + 40
    job = until(lambda: settled(imports.IMPORT_TASK, import_id), 10, "the job")
    assert (job.id, job.state, job.attempts) == (found.queue_job_id, "done", 1)
    assert imports.stored_file(import_id) is None


def test_nothing_is_enqueued_for_a_rolled_back_request(
    client, ctx, running_queue, mailbox, monkeypatch
):
    box, _ = mailbox
    jobs_before = db.session.scalar(select(func.count(Job.id)))
    handed: list[int] = []
    queue = jobs.queue_of(client.application)
    send = queue.send
    monkeypatch.setattr(queue, "send", lambda job_id, *a: handed.append(job_id) or send(job_id, *a))

    def refuse(*args, **kwargs):
        raise Refused("refused after the mail was asked for")

    with monkeypatch.context() as patch:
        patch.setattr(throttle, "note", refuse)
        response = client.send("POST", "/password/forgot", data={"email": "orders@acme.test"})
    assert response.status_code == 422  # the boundary rolled the request back
    assert db.session.scalar(select(func.count(Job.id))) == jobs_before
    assert handed == []
    # A request that commits is delivered, and alone: the rolled-back one never comes.
    response = client.send("POST", "/password/forgot", data={"email": "orders@delft.test"})
    assert response.status_code == 200
    until(lambda: box.accepted, 30, "the committed request's mail")
    assert [e.rcpt_tos for e in box.accepted] == [["orders@delft.test"]]
    assert set(handed) == {db.session.scalar(select(func.max(Job.id)))}


def test_a_failing_job_is_retried_with_backoff_then_failed_and_retried_by_staff(
    app, as_user, ctx, running_queue, mailbox
):
    box, _ = mailbox
    box.answer = "451 4.7.1 Greylisted, try again later"
    mail_id = send_mail("greylisted@acme.test", "Statement")
    job = until(lambda: settled(mail.DELIVER, mail_id), 60, "the job to give up")
    assert (job.state, job.attempts, job.max_attempts) == ("failed", 5, 5)
    assert "451" in job.last_error and "Greylisted" in job.last_error
    assert "451" in fresh(OutboxMail, mail_id).error
    # Each wait is at least the backoff, doubling: 0.2, 0.4, 0.8, 1.6 seconds.
    waits = [later - earlier for earlier, later in zip(box.tries, box.tries[1:], strict=False)]
    assert len(box.tries) == 5 and box.accepted == []
    for n, waited in enumerate(waits):
        assert waited >= 0.2 * 2**n * 0.95, (n, waits)

    # Staff see it failed, and retry it: a fresh round, delivered this time.
    admin = as_user(ADMIN)
    page = admin.get("/office/jobs?state=failed").get_data(as_text=True)
    row = find(page, id=f"job-{job.id}")
    assert row is not None and "greylisted@acme.test: Statement" in row.text
    assert "Greylisted" in row.text and "Retry" in row.text
    box.answer = "250 OK"
    response = admin.send("POST", f"/office/jobs/{job.id}/retry", htmx=True)
    assert response.status_code == 200
    assert f"Job #{job.id} is queued to run again." in response.get_data(as_text=True)
    until(lambda: delivered(mail_id), 30, "the retried mail to be delivered")
    assert len(box.accepted) == 1
    job = until(lambda: settled(mail.DELIVER, mail_id), 10, "the retried job")
    assert (job.state, job.attempts) == ("done", 1)
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "job.retried", AuditEntry.target_id == job.id)
    )
    assert entry is not None and entry.actor_email == ADMIN
    assert entry.before["state"] == "failed" and "451" in entry.before["error"]


# --- claims, leases and recovery --------------------------------------------------------------


def run_in_own_context(app, job_id: int):
    with app.app_context():
        return jobs.run(job_id)


def test_a_second_delivery_of_a_finished_job_does_nothing(app, ctx, mail_server):
    box = mail_server
    with recorded(app) as queue:
        mail_id = send_mail("twice@acme.test")
        [(job_id, delay)] = queue.sent
        assert delay == 0
        assert run_in_own_context(app, job_id) is None
        assert run_in_own_context(app, job_id) is None  # delivered again: found done
    assert len(box.accepted) == 1
    job = fresh(Job, job_id)
    assert (job.state, job.attempts) == ("done", 1)
    assert delivered(mail_id)


def test_a_claim_whose_lease_ran_out_is_taken_over_and_a_live_one_is_not(app, ctx, mail_server):
    box = mail_server
    with recorded(app):
        mail_id = send_mail("lease@acme.test")
        job_id = job_of(mail.DELIVER, mail_id).id
        # A worker claimed it and is alive (its lease holds): nobody else takes it.
        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                state="running",
                attempts=1,
                claim="other-host:1/live",
                lease_until=utcnow() + timedelta(seconds=30),
            )
        )
        db.session.commit()
        again = run_in_own_context(app, job_id)
        assert again is not None and 25 < again.seconds < 32
        assert fresh(Job, job_id).claim == "other-host:1/live" and box.tries == []
        # Its worker died: the lease runs out, and the next delivery takes the job over.
        db.session.execute(
            update(Job).where(Job.id == job_id).values(lease_until=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        assert run_in_own_context(app, job_id) is None
    job = fresh(Job, job_id)
    assert (job.state, job.attempts, job.worker) == ("done", 2, jobs.worker_name())
    assert len(box.accepted) == 1 and delivered(mail_id)


def test_a_refusal_for_good_fails_the_job_at_once(app, ctx, mail_server):
    mail_server.answer = "550 5.1.1 No such mailbox"
    with recorded(app):
        mail_id = send_mail("nobody@acme.test")
        job_id = job_of(mail.DELIVER, mail_id).id
        assert run_in_own_context(app, job_id) is None
    job = fresh(Job, job_id)
    assert (job.state, job.attempts) == ("failed", 1) and "No such mailbox" in job.last_error


def test_recover_hands_over_lost_jobs_once(app, ctx, mail_server):
    with recorded(app):
        lost = send_mail("lost@acme.test")
        kept = send_mail("kept@acme.test")
    old = utcnow() - timedelta(minutes=5)
    lost_id, kept_id = job_of(mail.DELIVER, lost).id, job_of(mail.DELIVER, kept).id
    # Never handed over (the queue was away at the commit), and a worker that died.
    db.session.execute(update(Job).where(Job.id == lost_id).values(enqueued_at=None, run_after=old))
    db.session.execute(
        update(Job)
        .where(Job.id == kept_id)
        .values(state="running", lease_until=old, enqueued_at=old - timedelta(minutes=1))
    )
    db.session.commit()
    found = jobs.recover()
    assert sorted(job_id for job_id, _ in found) == sorted([lost_id, kept_id])
    assert jobs.recover() == []  # handed over: not again, until it is lost again


def test_old_done_jobs_are_pruned_and_failed_ones_kept(app, ctx, mail_server):
    with recorded(app):
        done, failed = send_mail("a@acme.test"), send_mail("b@acme.test")
    long_ago = utcnow() - timedelta(days=app.config["JOB_KEEP_DAYS"] + 1)
    ids = {
        state: job_of(mail.DELIVER, mail_id).id
        for mail_id, state in ((done, "done"), (failed, "failed"))
    }
    for state, job_id in ids.items():
        db.session.execute(
            update(Job).where(Job.id == job_id).values(state=state, finished_at=long_ago)
        )
    db.session.commit()
    assert jobs.prune() == 1
    assert jobs_of(mail.DELIVER, done) == [] and len(jobs_of(mail.DELIVER, failed)) == 1


def test_an_import_left_unfinished_by_a_dead_worker_is_applied_once(app, ctx):
    before = db.session.scalar(select(func.count(Product.id)))
    lines = "".join(f"DEAD-{i:03d},Dead worker part {i},1.10\n" for i in range(25))
    with recorded(app):
        job = imports.create_job(user(ADMIN), "products", "dead.csv", apply_valid=False)
        imports.enqueue(job, ("sku,name,base_price\n" + lines).encode())
        db.session.commit()
    import_id, job_id = job.id, job.queue_job_id
    # The worker died while checking: its lease ran out, nothing of it was applied.
    db.session.execute(
        update(ImportJob).where(ImportJob.id == import_id).values(status="validating")
    )
    db.session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(state="running", attempts=1, lease_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert run_in_own_context(app, job_id) is None
    assert run_in_own_context(app, job_id) is None  # a late duplicate: nothing more
    assert fresh(ImportJob, import_id).status == "done"
    assert db.session.scalar(select(func.count(Product.id))) == before + 25
    assert (fresh(Job, job_id).state, fresh(Job, job_id).attempts) == ("done", 2)


def test_staff_retry_a_failed_import_from_its_kept_file(app, as_user, ctx):
    before = db.session.scalar(select(func.count(Product.id)))
    with recorded(app) as queue:
        job = imports.create_job(user(ADMIN), "products", "again.csv", apply_valid=False)
        imports.enqueue(job, b"sku,name,base_price\nAGAIN-1,Again,2.00\n")
        db.session.commit()
        import_id, job_id = job.id, job.queue_job_id
        # It failed for good (say the catalogue changed under it); the file is kept.
        db.session.execute(
            update(ImportJob)
            .where(ImportJob.id == import_id)
            .values(status="failed", message="Someone changed the catalogue")
        )
        db.session.execute(
            update(Job).where(Job.id == job_id).values(state="failed", attempts=1, last_error="x")
        )
        db.session.commit()
        response = as_user(ADMIN).send("POST", f"/office/jobs/{job_id}/retry")
        assert response.status_code == 303
        assert fresh(ImportJob, import_id).status == "queued"
        assert queue.sent[-1][0] == job_id
        assert run_in_own_context(app, job_id) is None
    assert fresh(ImportJob, import_id).status == "done"
    assert db.session.scalar(select(func.count(Product.id))) == before + 1
    # Applied: its file is gone, and a later retry of the job has nothing to run.
    assert imports.stored_file(import_id) is None


def test_only_a_failed_job_can_be_retried(as_user, app, ctx, mail_server):
    with recorded(app):
        mail_id = send_mail("done@acme.test")
    job_id = job_of(mail.DELIVER, mail_id).id
    response = as_user(ADMIN).send("POST", f"/office/jobs/{job_id}/retry", htmx=True)
    assert response.status_code == 422
    assert "Only a failed job can be retried" in response.get_data(as_text=True)
    assert fresh(Job, job_id).state == "queued"
    assert as_user(MANAGER).send("POST", f"/office/jobs/{job_id}/retry").status_code == 403
    retried = select(func.count(AuditEntry.id)).where(AuditEntry.action == "job.retried")
    assert db.session.scalar(retried) == 0


# --- the staff's page -------------------------------------------------------------------------


def test_the_jobs_page_lists_filters_and_pages(as_user, app, ctx, mail_server):
    with recorded(app):
        ids = [send_mail(f"page{i}@acme.test", f"Note {i}") for i in range(30)]
    failed = job_of(mail.DELIVER, ids[0]).id
    db.session.execute(
        update(Job).where(Job.id == failed).values(state="failed", attempts=5, last_error="boom")
    )
    db.session.commit()
    manager = as_user(MANAGER)
    page = manager.get("/office/jobs").get_data(as_text=True)
    region = find(page, id="jobs-results")
    assert "30 jobs" in region.text and "page29@acme.test: Note 29" in region.text
    assert 'rel="next"' in region.inner_html and "Retry" not in region.text  # no settings.edit
    second = manager.get("/office/jobs?page=2").get_data(as_text=True)
    assert "page0@acme.test: Note 0" in find(second, id="jobs-results").text
    only_failed = manager.htmx("/office/jobs?state=failed").get_data(as_text=True)
    assert "<html" not in only_failed and "1 job in this state" in only_failed
    assert f'id="job-{failed}"' in only_failed and "boom" in only_failed
    assert manager.get("/office/jobs?state=lost").status_code == 400
    empty = manager.get("/office/jobs?state=running").get_data(as_text=True)
    assert "No job is in this state." in empty
    admin = as_user(ADMIN).get("/office/jobs?state=failed").get_data(as_text=True)
    assert re.search(rf'action="/office/jobs/{failed}/retry\?state=failed"', admin)
    nav = as_user(ADMIN).get("/office/").get_data(as_text=True)
    assert 'href="/office/jobs"' in nav
    assert 'href="/office/jobs"' not in as_user("finance@portal.test").get("/office/").get_data(
        as_text=True
    )


def test_a_job_carries_ids_never_objects(ctx):
    with pytest.raises(TypeError):
        jobs.enqueue(mail.DELIVER, user(ADMIN))
    db.session.rollback()


def test_the_redis_queue_keeps_its_keys_under_the_portal_namespace(app, ctx):
    url = need_redis()
    with queue_kind(app, REDIS_URL=url) as queue:
        forget_redis_queue(app)
        try:
            app.config["MAIL_SERVER"] = "127.0.0.1"
            send_mail("namespaced@acme.test")  # handed to Redis at the commit; no worker here
            keys = redis_keys(app)
            prefix = f"{namespace(app.config)}:jobs:"
            assert keys and all(k.startswith(prefix) for k in keys), keys
            assert queue.namespace == f"{namespace(app.config)}:jobs"
        finally:
            app.config["MAIL_SERVER"] = None
            forget_redis_queue(app)


# --- a worker killed in the middle of a job ---------------------------------------------------


def worker_process(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--threads", "2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_mid_job_leaves_it_to_another_that_does_it_once(mailbox):
    box, port = mailbox
    url = need_redis()
    with derived_database("jobkill") as database:
        config = {
            "DATABASE_URL": database,
            "REDIS_URL": url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(port),
            "JOB_LEASE_SECONDS": "2",
            "JOB_SWEEP_SECONDS": "1",
            "JOB_WORKER_HEARTBEAT_SECONDS": "2",
        }
        env = {**os.environ, **config, "PORTAL_ENV": "testing", "SECRET_KEY": "jobs-kill-test"}
        overrides = {
            "JOBS_INLINE": False,
            "REDIS_URL": url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
        }
        with demo_portal(database, **overrides) as portal:
            forget_redis_queue(portal)
            workers = []
            try:
                box.hold()  # the first delivery waits in the middle of its SMTP exchange
                first = worker_process(env)
                workers.append(first)
                with portal.app_context():
                    mail_id = send_mail("killed@acme.test", "Sent once")
                assert box.held.wait(60), "the first worker never started the job"
                first.send_signal(signal.SIGKILL)
                assert first.wait(timeout=30) == -signal.SIGKILL
                box.release()  # its connection is gone: that try never delivered anything

                second = worker_process(env)
                workers.append(second)
                with portal.app_context():
                    until(lambda: delivered(mail_id), 60, "another worker to deliver it")
                    job = until(lambda: settled(mail.DELIVER, mail_id), 30, "the job to end")
                    assert (job.state, job.attempts) == ("done", 2)
                    assert job.worker == f"{socket.gethostname()}:{second.pid}"[:120]
                    assert fresh(OutboxMail, mail_id).error == ""
                assert len(box.tries) == 2  # the killed try, then the one that went through
                [message_id] = box.message_ids()
                assert message_id.startswith(f"<outbox-{mail_id}.")
                second.send_signal(signal.SIGTERM)
                assert second.wait(timeout=60) == 0  # a graceful stop
            finally:
                for process in workers:
                    if process.poll() is None:
                        process.kill()
                        process.wait(timeout=10)
                forget_redis_queue(portal)
                jobs.close(portal)


def test_the_worker_needs_redis(runner, app):
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = None
    try:
        result = runner.invoke(args=["worker"])
    finally:
        app.config["REDIS_URL"] = saved
    assert result.exit_code != 0 and "REDIS_URL" in result.output


def test_a_retry_reads_in_the_audit_log(ctx):
    assert audit.action_label("job.retried") == "Background job retried"


def test_who_sees_settings_but_not_every_customer_does_not_see_the_jobs(as_user, ctx):
    """A job names customers' mail: a sales role given the settings' view still gets 403."""
    from core import roles
    from core.models import Role

    sales = db.session.scalar(select(Role).where(Role.preset == "sales"))
    roles.set_permissions(sales, sales.permissions | {"settings.view"}, actor=user(ADMIN))
    db.session.commit()
    anna = as_user(ANNA)
    assert anna.get("/office/settings").status_code == 200
    assert anna.get("/office/jobs").status_code == 403
    assert 'href="/office/jobs"' not in anna.get("/office/").get_data(as_text=True)
