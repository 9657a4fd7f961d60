"""Account services: throttled sign-in, sessions that end, activation links, mail, audit."""

import re
import socket
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from core import events, people, sessions, settings, throttle
from core.accounts import set_password
from core.errors import Refused
from core.models import (
    AuditEntry,
    AuditLogIsAppendOnly,
    Invitation,
    LoginAttempt,
    LoginSession,
    OutboxMail,
    Role,
    User,
    utcnow,
)
from extensions import db
from tests.conftest import PASSWORD
from tests.records import user


def role(preset):
    return db.session.scalar(select(Role).where(Role.preset == preset))


# --- throttling -----------------------------------------------------------------------


def test_five_failures_throttle_the_account_with_429(auth, ctx):
    for _ in range(throttle.LIMITS["sign_in"].per_pair):
        assert auth.login("orders@acme.test", "wrong-password").status_code == 200
    response = auth.login("orders@acme.test", PASSWORD)  # even the right password now waits
    assert response.status_code == 429
    assert "Too many sign-in attempts. Wait 15 minutes" in response.get_data(as_text=True)
    actions = list(
        db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_email == "orders@acme.test")
        )
    )
    assert actions.count("auth.sign_in_failed") == throttle.LIMITS["sign_in"].per_pair
    assert "auth.throttled" in actions


def test_throttle_per_address_covers_many_accounts(auth, ctx):
    for i in range(throttle.LIMITS["sign_in"].per_client):
        auth.login(f"nobody{i}@nowhere.test", "x")
    assert auth.login("admin@portal.test", PASSWORD).status_code == 429


def test_success_clears_the_account_failures(auth, ctx):
    for _ in range(throttle.LIMITS["sign_in"].per_pair - 1):
        auth.login("orders@acme.test", "wrong-password")
    assert auth.login("orders@acme.test", PASSWORD).status_code == 302
    assert throttle.wait_minutes("sign_in", "orders@acme.test", "127.0.0.1") == 0
    failures = select(func.count()).where(
        LoginAttempt.email == "orders@acme.test", LoginAttempt.succeeded.is_(False)
    )
    assert db.session.scalar(failures) == 0


def test_throttle_window_passes(ctx):
    limit = throttle.LIMITS["sign_in"]
    for _ in range(limit.per_pair):
        throttle.note("sign_in", "x@y.test", "10.0.0.1", succeeded=False)
    db.session.commit()
    assert throttle.wait_minutes("sign_in", "x@y.test", "10.0.0.1") == 15
    later = utcnow() + limit.window + timedelta(seconds=1)
    assert throttle.wait_minutes("sign_in", "x@y.test", "10.0.0.1", now=later) == 0


def test_unknown_account_and_wrong_password_take_similar_time(auth, app, ctx, monkeypatch):
    # At the served strength (the tests' own portal hashes at a small N, config.py), so
    # that the hash dominates the request as it does in production.
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "scrypt:32768:8:3")
    set_password(user("orders@baltic.test"), PASSWORD)
    db.session.commit()

    def timed(email, password):
        start = time.perf_counter()
        auth.login(email, password)
        return time.perf_counter() - start

    timed("nobody@nowhere.test", "warm-up")
    unknown = sorted(timed("nobody@nowhere.test", "x") for _ in range(3))[1]
    wrong = sorted(timed("orders@baltic.test", "x") for _ in range(3))[1]
    # Both pay for one scrypt check; without the dummy hash "unknown" would be ~100x faster.
    assert unknown > wrong / 3


# --- sessions that end ------------------------------------------------------------------


def test_idle_session_ends(as_user, ctx, app):
    c = as_user("orders@acme.test")
    assert c.get("/shop/").status_code == 200
    idle = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    db.session.execute(LoginSession.__table__.update().values(last_seen_at=idle))
    db.session.commit()
    assert c.get("/shop/").status_code == 302


def test_a_session_is_kept_alive_on_the_requests_one_connection(as_user, ctx, app):
    """The last-use touch never takes a second connection while the request holds one:
    with a full pool, requests each waiting for a second connection would wait forever."""
    c = as_user("orders@acme.test")
    assert c.get("/shop/").status_code == 200
    stale = utcnow() - sessions.TOUCH_EVERY - timedelta(seconds=5)
    db.session.execute(LoginSession.__table__.update().values(last_seen_at=stale))
    db.session.commit()
    held, most = 0, 0

    def checkout(*_):
        nonlocal held, most
        held += 1
        most = max(most, held)

    def checkin(*_):
        nonlocal held
        held -= 1

    event.listen(db.engine, "checkout", checkout)
    event.listen(db.engine, "checkin", checkin)
    try:
        assert c.get("/shop/").status_code == 200
    finally:
        event.remove(db.engine, "checkout", checkout)
        event.remove(db.engine, "checkin", checkin)
    assert most == 1
    db.session.expire_all()
    seen = db.session.scalar(select(func.max(LoginSession.last_seen_at)))
    assert seen > stale + timedelta(seconds=4)  # and the touch was kept


def test_absolute_lifetime_ends_a_busy_session(as_user, ctx):
    c = as_user("orders@acme.test")
    db.session.execute(LoginSession.__table__.update().values(expires_at=utcnow()))
    db.session.commit()
    assert c.get("/shop/").status_code == 302


def test_password_change_ends_every_other_session(auth, client, as_user, ctx):
    other = as_user("orders@acme.test")
    assert other.get("/shop/").status_code == 200
    auth.login("orders@acme.test")
    response = client.send(
        "POST",
        "/account/password",
        data={
            "current": PASSWORD,
            "password": "Sturdy-Quartz-Lantern-42",
            "confirm": "Sturdy-Quartz-Lantern-42",
        },
    )
    assert response.status_code == 302
    assert client.get("/shop/").status_code == 200  # this session stays
    assert other.get("/shop/").status_code == 302  # every other one ends
    assert auth.login("orders@acme.test", "Sturdy-Quartz-Lantern-42").status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        ("wrong", "Sturdy-Quartz-Lantern-42", "Your current password is not correct."),
        (PASSWORD, "short", "Use at least 10 characters."),
        (PASSWORD, "password123", "one of the most common"),
        (PASSWORD, "olivia-grant-2026", "Do not use your name"),
    ],
)
def test_bad_password_change_is_refused_and_changes_nothing(as_user, ctx, current, new, message):
    before = user("orders@acme.test").password_hash
    c = as_user("orders@acme.test")
    response = c.send(
        "POST", "/account/password", data={"current": current, "password": new, "confirm": new}
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert user("orders@acme.test").password_hash == before


def test_blocking_ends_sessions_at_once(as_user, ctx):
    c = as_user("request@baltic.test")
    assert c.get("/shop/").status_code == 200
    people.block(user("request@baltic.test"), actor=user("admin@portal.test"))
    db.session.commit()
    assert c.get("/shop/").status_code == 302
    live = db.session.scalar(
        select(LoginSession).where(
            LoginSession.user_id == user("request@baltic.test").id,
            LoginSession.revoked_at.is_(None),
        )
    )
    assert live is None


def test_losing_the_last_role_ends_sessions(as_user, ctx):
    c = as_user("viewer@portal.test")
    assert c.get("/office/").status_code == 200
    people.set_roles(user("viewer@portal.test"), [], actor=user("admin@portal.test"))
    db.session.commit()
    assert c.get("/office/").status_code == 302


def test_a_role_change_that_leaves_no_keeper_is_refused(ctx):
    from core import roles

    admin_role = role("admin")
    before = admin_role.permissions
    with pytest.raises(Refused, match="nobody able to manage users and roles"):
        roles.set_permissions(
            admin_role, before - {"users.manage"}, actor=user("admin@portal.test")
        )
    db.session.rollback()
    assert role("admin").permissions == before


def test_nobody_blocks_themselves(ctx):
    admin = user("admin@portal.test")
    with pytest.raises(Refused, match="You cannot block yourself"):
        people.block(admin, actor=admin)
    db.session.rollback()


# --- invitations and mail -------------------------------------------------------------------


def _invite(app, email="new.person@acme.test", roles=("requester",), company="acme"):
    from core.models import Company

    with app.test_request_context():
        actor = user("admin@portal.test")
        acme = db.session.scalar(select(Company).where(Company.slug == company))
        person = people.invite(
            email=email,
            name="Nina Novak",
            kind="customer",
            company=acme,
            chosen_roles=[role(r) for r in roles],
            actor=actor,
            link=lambda token: f"http://localhost/invitations/{token}",
        )
        db.session.commit()
        return person.id


def _link_for(email):
    mail = db.session.scalar(
        select(OutboxMail).where(OutboxMail.to_addr == email).order_by(OutboxMail.id.desc())
    )
    return re.search(r"http://localhost(/invitations/\S+)", mail.body).group(1)


def test_invitation_link_activates_once(app, client, auth, ctx):
    _invite(app)
    link = _link_for("new.person@acme.test")
    assert client.get(link).status_code == 200
    response = client.send(
        "POST",
        link,
        data={"password": "Sturdy-Quartz-Lantern-42", "confirm": "Sturdy-Quartz-Lantern-42"},
    )
    assert response.status_code == 302
    client._csrf = None  # activation starts a fresh session
    assert auth.login("new.person@acme.test", "Sturdy-Quartz-Lantern-42").status_code == 302
    used = app.test_client().get(link)
    assert used.status_code == 410
    assert "already been used" in used.get_data(as_text=True)
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"user.invited", "invitation.accepted"} <= actions


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", "short", "Use at least 10 characters."),
        ("qwertyuiop", "qwertyuiop", "most common"),
        (
            "Sturdy-Quartz-Lantern-42",
            "Sturdy-Quartz-Lantern-43",
            "The two passwords are not the same.",
        ),
    ],
)
def test_activation_refuses_weak_passwords_and_keeps_the_link(
    app, client, ctx, password, confirm, message
):
    _invite(app)
    link = _link_for("new.person@acme.test")
    response = client.send("POST", link, data={"password": password, "confirm": confirm})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert user("new.person@acme.test").status == "invited"
    assert client.get(link).status_code == 200


def test_expired_and_unknown_links(app, client, ctx):
    _invite(app)
    link = _link_for("new.person@acme.test")
    db.session.execute(
        Invitation.__table__.update().values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    response = client.get(link)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert client.get("/invitations/not-a-real-token").status_code == 404


def test_resend_kills_the_old_link(app, client, ctx):
    person_id = _invite(app)
    old = _link_for("new.person@acme.test")
    with app.test_request_context():
        people.resend(
            db.session.get(User, person_id),
            actor=user("admin@portal.test"),
            link=lambda token: f"http://localhost/invitations/{token}",
        )
        db.session.commit()
    new = _link_for("new.person@acme.test")
    assert new != old
    assert client.get(old).status_code == 410
    assert client.get(new).status_code == 200


def test_invitation_expiry_is_configurable(app, ctx):
    """The lifetime saved in the settings applies to the next link (see test_office_settings)."""
    settings.set_invitation_hours(5, actor=None)
    db.session.commit()
    person_id = _invite(app)
    invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == person_id))
    assert (
        timedelta(hours=4, minutes=59)
        < invitation.expires_at - invitation.created_at
        <= timedelta(hours=5)
    )


def test_mail_is_delivered_by_smtp_after_commit(app, smtp_server, ctx):
    sink, port = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        _invite(app)
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    assert len(sink.messages) == 1
    envelope = sink.messages[0]
    assert envelope.rcpt_tos == ["new.person@acme.test"]
    assert b"/invitations/" in envelope.content
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_addr == "new.person@acme.test"))
    assert mail.sent_at is not None and mail.error == ""


def test_no_mail_for_a_rolled_back_change(app, smtp_server, ctx):
    sink, port = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        with app.test_request_context():
            from core import mail

            mail.send("someone@acme.test", "Never", "This change is rolled back.")
            db.session.rollback()
            db.session.commit()
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    assert sink.messages == []


def test_unreachable_smtp_keeps_the_mail_with_its_error(app, ctx):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    try:
        _invite(app)
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_addr == "new.person@acme.test"))
    assert mail.sent_at is None and mail.error


def test_outbox_command_shows_the_link(app, runner, ctx):
    _invite(app)
    result = runner.invoke(args=["outbox", "--to", "new.person@acme.test"])
    assert "/invitations/" in result.output and "Your invitation" in result.output


# --- events and audit ----------------------------------------------------------------------


def test_events_are_published_after_commit_and_never_after_rollback(ctx):
    seen = []
    events.subscribe(seen.append)
    try:
        events.record(db.session, "stock_changed", 1)
        events.record(db.session, "stock_changed", 1)  # duplicates fold into one
        db.session.rollback()
        assert seen == []
        events.record(db.session, "stock_changed", 2)
        assert seen == []
        db.session.commit()
        assert seen == [[events.Event("stock_changed", 2)]]
    finally:
        events.unsubscribe(seen.append)


def test_audit_entries_cannot_be_changed_or_removed(ctx):
    entry = db.session.scalar(select(AuditEntry).limit(1))
    entry.summary = "rewritten history"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    entry = db.session.scalar(select(AuditEntry).limit(1))
    db.session.delete(entry)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
