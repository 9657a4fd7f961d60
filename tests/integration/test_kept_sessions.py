"""Sessions resolved a moment ago are reused by the next requests of the process
(core.sessions.KeptSessions), and never past an access change: one committed here ends
reuse at once, one heard from another process as soon as it is heard, and while Redis is
away nothing is reused at all."""

import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from blueprints.live.bus import RedisBus
from core import events as core_events
from core import sessions
from core.events import Event
from core.models import Company, LoginSession, Product, Role, User, utcnow
from extensions import db
from tests.conftest import need_redis, persona_token
from tests.integration.test_live_redis import Outage, until
from tests.statements import listening

PERSON = "orders@acme.test"
ADMIN = "admin@portal.test"


@contextmanager
def session_reads(app):
    """How many statements read login_sessions while the block runs."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "login_sessions" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    with listening(app, count):
        yield seen


def behind_the_session(statement) -> None:
    """A write as another process makes it: committed, with no event in this one."""
    with db.engine.begin() as conn:
        conn.execute(statement)


def person_id(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


def test_a_session_read_a_moment_ago_is_reused_without_a_statement(app, as_user):
    c = as_user(PERSON)
    assert c.get("/shop/").status_code == 200
    with session_reads(app) as reads:
        page = c.get("/shop/").get_data(as_text=True)
    assert reads == []
    # The copy carries what every page needs: the company, its group's offer, the roles.
    assert "Acme" in page and "in stock" in page
    assert c.get("/shop/cart").status_code == 200  # a permission checked on the copy
    assert c.get("/office/").status_code in (302, 403)  # and still only the person's own


def test_a_block_committed_here_ends_reuse_at_once(app, as_user, ctx):
    viewer = as_user("viewer@portal.test")
    assert viewer.get("/office/").status_code == 200
    assert viewer.get("/office/").status_code == 200  # now kept
    uid = person_id("viewer@portal.test")
    assert as_user(ADMIN).send("POST", f"/office/users/{uid}/block").status_code in (200, 302)
    after = viewer.get("/office/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]


def test_ones_own_language_shows_on_the_very_next_page(app, as_user):
    c = as_user(PERSON)
    assert "Catalogue" in c.get("/shop/").get_data(as_text=True)  # kept, in English
    response = c.send("POST", "/account/preferences", data={"language": "it", "timezone": ""})
    assert response.status_code in (200, 302, 303)
    assert '<html lang="it"' in c.get("/shop/").get_data(as_text=True)


def test_a_kept_session_still_ends_when_idle_or_expired(app, as_user, ctx):
    c = as_user(PERSON)
    assert c.get("/shop/").status_code == 200
    with session_reads(app) as reads:
        assert c.get("/shop/").status_code == 200
    assert reads == []  # kept
    kept = app.extensions["kept_sessions"]
    token = sessions.token_hash(_token_of(c))
    hit = kept._kept[token]
    # The kept copy's own clock: idle past the limit, the session is read again, and ends.
    idle = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    kept._kept[token] = type(hit)(**{**hit.__dict__, "last_seen_at": idle})
    db.session.execute(update(LoginSession).values(last_seen_at=idle))
    db.session.commit()
    assert c.get("/shop/").status_code == 302


def test_nothing_is_kept_longer_than_keep_seconds(app, as_user, monkeypatch):
    monkeypatch.setattr(sessions.KeptSessions, "KEEP_SECONDS", 0.2)
    c = as_user(PERSON)
    assert c.get("/shop/").status_code == 200
    time.sleep(0.3)
    with session_reads(app) as reads:
        assert c.get("/shop/").status_code == 200
    assert len(reads) == 1


def test_the_kept_sessions_stay_bounded():
    kept = sessions.KeptSessions()
    kept.LIMIT = 50
    for i in range(120):
        kept.keep(f"k{i}", _entry(until=time.monotonic() + 60))
    assert len(kept._kept) <= 50
    assert kept.get("k119", 1) is not None  # the newest is kept
    assert kept.get("k119", 2) is None  # never under another generation


def _entry(*, until: float):
    return sessions._Kept(1, until, 1, utcnow() + timedelta(hours=1), utcnow(), User())


def _token_of(client) -> str:
    with client.session_transaction() as session:
        return session["_user_id"]


# --- with Redis: other processes' changes, and an outage --------------------------------


@pytest.fixture
def heard_hub(app):
    """The app's hub on a Redis bus through an Outage proxy, hearing as a server's does."""
    outage = Outage(need_redis())
    hub = app.extensions["live_hub"]
    hub.bus  # noqa: B018  (made if no commit made it yet; the pid the property checks is set)
    saved = hub._bus
    channel = saved.channel
    hub._bus = RedisBus(
        hub.deliver, outage.url, channel=channel, resync=hub.resync_all, heard=hub._heard
    )
    until(lambda: hub._bus.subscribed.is_set(), what="the bus to subscribe")
    try:
        yield hub, outage, channel
    finally:
        hub._bus.close()
        hub._bus = saved
        outage.close()


def test_a_block_heard_from_another_process_ends_reuse(app, as_user, ctx, heard_hub):
    hub, _outage, channel = heard_hub
    c = as_user(PERSON)
    assert c.get("/shop/").status_code == 200
    with session_reads(app) as reads:
        assert c.get("/shop/").status_code == 200
    assert reads == []  # kept
    # Another process blocks the person: its write, then its event on the shared channel.
    uid = person_id(PERSON)
    generation = hub.access_generation
    behind_the_session(update(User).where(User.id == uid).values(status="blocked"))
    assert hub.access_generation == generation  # written, not heard yet
    other = RedisBus(lambda events: None, need_redis(), channel=channel, resync=lambda: None)
    try:
        other.publish([Event("user_blocked", uid)])
        until(lambda: hub.access_generation != generation, what="this process to hear it")
    finally:
        other.close()
    assert c.get("/shop/").status_code == 302


def test_nothing_is_reused_while_redis_is_away(app, as_user, ctx, heard_hub):
    hub, outage, _channel = heard_hub
    c = as_user(PERSON)
    assert c.get("/shop/").status_code == 200
    assert hub.access_state() is not None
    outage.cut()
    until(lambda: not hub.bus.subscribed.is_set(), what="the bus to lose Redis")
    assert hub.access_state() is None
    with session_reads(app) as reads:
        assert c.get("/shop/").status_code == 200
        assert c.get("/shop/").status_code == 200
    assert len(reads) == 2  # read on every request
    # A block whose event this process cannot hear still takes effect on the next request.
    uid = person_id(PERSON)
    generation = hub.access_generation
    behind_the_session(update(User).where(User.id == uid).values(status="blocked"))
    assert hub.access_generation == generation
    assert c.get("/shop/").status_code == 302
    # Redis back: the generation moved on, so what was kept before the outage is not reused.
    behind_the_session(update(User).where(User.id == uid).values(status="active"))
    outage.restore()
    until(lambda: hub.access_state() is not None, what="the bus to hear everything again")
    assert hub.access_generation != generation


def test_every_write_to_what_a_session_holds_is_announced_and_nothing_else(app, ctx):
    heard: list[Event] = []

    def collect(events):
        heard.extend(events)

    core_events.subscribe(collect)
    try:

        def announced(write) -> bool:
            heard.clear()
            write()
            db.session.commit()
            return Event(sessions.CHANGED) in heard

        acme = db.session.scalar(select(Company).where(Company.name.like("Acme%")))
        record = db.session.scalars(select(LoginSession)).first()
        product = db.session.scalars(select(Product)).first()
        # An object changed through the ORM, with no event of its service's own.
        assert announced(lambda: setattr(acme, "manages_own_users", False))
        # A statement run through the session.
        assert announced(lambda: db.session.execute(update(Role).values(name=Role.name)))
        # The touch of a session's last use is not a change worth forgetting sessions for,
        assert not announced(lambda: sessions._touch(record.id, utcnow()))
        # nor is anything else.
        assert not announced(lambda: setattr(product, "stock", product.stock + 1))
    finally:
        core_events.unsubscribe(collect)


def test_each_app_of_the_process_keeps_its_own_sessions(app, as_user, ctx):
    """Flask-Login's manager is one object for every app of a process, and its loader is
    the one of the app made last. A loader that closed over its own app's kept sessions
    served another app's requests from them: the first app's kept copies went stale
    unseen (a staff view that had begun read as not begun; order-dependent failures)."""
    from app import create_app

    other = create_app({"PORTAL_ENV": "testing", "DATABASE_URL": "sqlite://"})
    key = sessions.token_hash(persona_token(ADMIN))
    app.extensions["kept_sessions"].clear()
    assert as_user(ADMIN).get("/office/").status_code == 200
    assert key in app.extensions["kept_sessions"]._kept
    assert key not in other.extensions["kept_sessions"]._kept
