"""Accounts, as an attacker and an operator would try them: password reset, two-factor
sign-in, links that leave the site, trusted proxies and hosts, password-change guessing,
and the security headers (issue 12, points 1 to 4, 8 and 12)."""

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pyotp
import pytest
from simple_websocket import ConnectionClosed
from sqlalchemy import func, select, update
from werkzeug.middleware.proxy_fix import ProxyFix

from app import create_app
from blueprints.fragments import registry
from blueprints.headers import CLEAR_SITE_DATA
from blueprints.live.viewer import session_viewer
from config import ConfigError
from core import access, throttle, two_factor
from core.models import (
    AuditEntry,
    LoginSession,
    OutboxMail,
    PasswordReset,
    Quote,
    RecoveryCode,
    Role,
    User,
)
from core.sessions import token_hash
from extensions import db
from tests.conftest import PASSWORD, TEST_DATABASE_URL, persona_token
from tests.records import user
from tests.sockets import drain, watch

NEW_PASSWORD = "Granite-Harbour-Lamp-57"
PORTAL = "http://127.0.0.1:5000"  # PORTAL_URL outside production, when not set


def last_mail(to: str) -> OutboxMail | None:
    return db.session.scalar(
        select(OutboxMail).where(OutboxMail.to_addr == to).order_by(OutboxMail.id.desc())
    )


def actions_about(email: str) -> list[str]:
    person = user(email)
    return list(
        db.session.scalars(
            select(AuditEntry.action).where(
                (AuditEntry.actor_email == email) | (AuditEntry.target_id == person.id)
            )
        )
    )


def sessions_of(email: str) -> int:
    return db.session.scalar(
        select(func.count(LoginSession.id)).where(
            LoginSession.user_id == user(email).id, LoginSession.revoked_at.is_(None)
        )
    )


# --- 1. forgot password --------------------------------------------------------------------


def forgot(client, email: str):
    return client.send("POST", "/password/forgot", data={"email": email})


def reset_link(email: str) -> str:
    mail = last_mail(email)
    return re.search(re.escape(PORTAL) + r"(/password/reset/\S+)", mail.body).group(1)


def test_the_sign_in_page_offers_a_reset(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in page


def test_forgot_answers_alike_whether_or_not_the_account_exists(client, ctx):
    known = forgot(client, "orders@acme.test")
    unknown = forgot(client, "nobody@acme.test")
    assert known.status_code == unknown.status_code == 200

    # The session's CSRF token is signed with the second it was made: two answers a
    # second apart differ there and nowhere else, whoever asked.
    def page(answer, email):
        text = answer.get_data(as_text=True).replace(email, "X")
        text = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": "T"', text)
        return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value="T"', text)

    assert page(known, "orders@acme.test") == page(unknown, "nobody@acme.test")
    assert last_mail("orders@acme.test") is not None
    assert last_mail("nobody@acme.test") is None


def test_invited_and_blocked_people_get_no_reset_link(client, ctx):
    db.session.execute(
        update(User).where(User.email == "browse@acme.test").values(status="blocked")
    )
    db.session.commit()
    assert forgot(client, "browse@acme.test").status_code == 200
    assert last_mail("browse@acme.test") is None


def test_a_reset_link_works_once_and_ends_every_session(client, as_user, auth, ctx):
    signed_in = as_user("orders@acme.test")
    assert signed_in.get("/shop/cart").status_code == 200
    forgot(client, "orders@acme.test")
    link = reset_link("orders@acme.test")
    assert link.startswith("/password/reset/")
    assert client.get(link).status_code == 200
    weak = client.send("POST", link, data={"password": "short", "confirm": "short"})
    assert weak.status_code == 422
    assert "10 characters" in weak.get_data(as_text=True)
    done = client.send("POST", link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert sessions_of("orders@acme.test") == 0
    assert signed_in.get("/shop/cart").status_code == 302  # that session has ended
    assert client.get(link).status_code == 410  # used up
    client._csrf = None
    assert auth.login("orders@acme.test", PASSWORD).status_code == 200  # the old one fails
    assert auth.login("orders@acme.test", NEW_PASSWORD).status_code == 302
    actions = actions_about("orders@acme.test")
    assert {"auth.password_reset_requested", "auth.password_reset"} <= set(actions)


def test_a_reset_link_expires_and_a_newer_one_replaces_it(client, app, ctx):
    forgot(client, "orders@acme.test")
    first = reset_link("orders@acme.test")
    forgot(client, "orders@acme.test")
    second = reset_link("orders@acme.test")
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    minutes = app.config["PASSWORD_RESET_MINUTES"]
    assert minutes == 60
    past = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=minutes + 1)
    db.session.execute(update(PasswordReset).values(created_at=past, expires_at=past))
    db.session.commit()
    assert client.get(second).status_code == 410


def test_a_reset_closes_the_persons_open_pages(client, connect, ctx):
    ws = connect("orders@acme.test")
    watch(ws, {"nav"}, mode="load")
    assert drain(ws, 5, expect=1)
    forgot(client, "orders@acme.test")
    link = reset_link("orders@acme.test")
    client.send("POST", link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    closed = False
    try:
        drain(ws, 5, expect=2)
        ws.receive(timeout=5)
    except ConnectionClosed:
        closed = True
    assert closed or not ws.connected


def test_reset_requests_are_throttled_per_account_and_per_client(client, ctx):
    limit = throttle.LIMITS["reset"]
    for _ in range(limit.per_account + 2):
        assert forgot(client, "orders@acme.test").status_code == 200
    sent = db.session.scalar(
        select(func.count(OutboxMail.id)).where(OutboxMail.to_addr == "orders@acme.test")
    )
    assert sent == limit.per_account  # the mailbox is not flooded; the answer never changed
    for i in range(limit.per_client):
        forgot(client, f"someone{i}@acme.test")
    refused = forgot(client, "orders@baltic.test")
    assert refused.status_code == 429
    assert "Wait" in refused.get_data(as_text=True)


# --- 2. two-factor sign-in ------------------------------------------------------------------


def enrol(c) -> tuple[str, list[str]]:
    """Turn two-factor on from the account page; returns the secret and recovery codes."""
    page = c.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn on the server
    secret = re.search(r'two-factor__secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    shown = c.send("POST", "/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert shown.status_code == 200
    codes = re.findall(r"<li>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</li>", shown.text)
    assert len(codes) == two_factor.RECOVERY_CODES
    return secret, codes


def next_code(secret: str) -> str:
    """The code of the next time step (within the allowed drift, never used yet)."""
    totp = pyotp.TOTP(secret)
    return totp.at(datetime.now(UTC) + timedelta(seconds=totp.interval))


def password_step(client, email: str):
    client._csrf = None
    answer = client.send("POST", "/login", data={"email": email, "password": PASSWORD})
    client._csrf = None  # the sign-in starts a session of its own, with a new token
    return answer


def test_enrol_then_sign_in_with_a_second_step_before_any_session(client, as_user, ctx):
    secret, _ = enrol(as_user("finance@portal.test"))
    person = user("finance@portal.test")
    assert person.totp_enabled_at is not None
    assert secret not in (person.totp_secret or "")  # kept encrypted
    before = sessions_of("finance@portal.test")
    first = password_step(client, "finance@portal.test")
    assert first.status_code == 302 and first.headers["Location"] == "/login/two-factor"
    assert sessions_of("finance@portal.test") == before  # no session before the second step
    assert client.get("/office/").status_code == 302  # not signed in yet
    wrong = client.send("POST", "/login/two-factor", data={"code": "000000"})
    assert wrong.status_code == 422
    done = client.send("POST", "/login/two-factor", data={"code": next_code(secret)})
    assert done.status_code == 302 and done.headers["Location"] == "/office/"
    assert sessions_of("finance@portal.test") == before + 1
    assert client.get("/office/").status_code == 200


def test_a_code_works_once(client, as_user, ctx):
    secret, _ = enrol(as_user("finance@portal.test"))
    code = next_code(secret)
    password_step(client, "finance@portal.test")
    assert client.send("POST", "/login/two-factor", data={"code": code}).status_code == 302
    other = client.application.test_client()
    password_step(other, "finance@portal.test")
    replay = other.send("POST", "/login/two-factor", data={"code": code})
    assert replay.status_code == 422


def test_a_recovery_code_signs_in_once(client, as_user, ctx):
    _, codes = enrol(as_user("finance@portal.test"))
    password_step(client, "finance@portal.test")
    assert client.send("POST", "/login/two-factor", data={"code": codes[0]}).status_code == 302
    again = client.application.test_client()
    password_step(again, "finance@portal.test")
    assert again.send("POST", "/login/two-factor", data={"code": codes[0]}).status_code == 422
    spaced = codes[1].lower().replace("-", " ")
    assert again.send("POST", "/login/two-factor", data={"code": spaced}).status_code == 302
    assert two_factor.remaining_codes(user("finance@portal.test")) == 8


def test_codes_are_throttled_like_passwords(client, as_user, ctx):
    secret, _ = enrol(as_user("finance@portal.test"))
    password_step(client, "finance@portal.test")
    for _ in range(throttle.LIMITS["second_factor"].per_pair):
        assert client.send("POST", "/login/two-factor", data={"code": "123456"}).status_code == 422
    refused = client.send("POST", "/login/two-factor", data={"code": next_code(secret)})
    assert refused.status_code == 429
    assert "auth.second_factor_failed" in actions_about("finance@portal.test")


def test_a_role_that_requires_two_factor_makes_its_holders_enrol_first(client, ctx):
    assert access.PRESETS_BY_KEY["admin"].two_factor  # on for the Admin preset
    admin_role = db.session.scalar(select(Role).where(Role.preset == "admin"))
    assert not admin_role.requires_two_factor  # the demo data leaves it off
    admin_role.requires_two_factor = True
    db.session.commit()
    before = sessions_of("admin@portal.test")
    first = password_step(client, "admin@portal.test")
    assert first.headers["Location"] == "/login/two-factor/enrol"
    page = client.get("/login/two-factor/enrol").get_data(as_text=True)
    assert sessions_of("admin@portal.test") == before
    secret = re.search(r'two-factor__secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    done = client.send("POST", "/login/two-factor/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and "recovery codes" in done.text.lower()
    assert sessions_of("admin@portal.test") == before + 1
    assert client.get("/office/").status_code == 200
    client._csrf = None  # signed in: a new session, a new token
    off = client.send("POST", "/account/two-factor/off", data={"password": PASSWORD})
    assert off.status_code == 302
    assert two_factor.is_enrolled(user("admin@portal.test"))  # required: cannot be turned off


def test_the_roles_page_switches_the_requirement(as_user, ctx):
    role = db.session.scalar(select(Role).where(Role.preset == "finance"))
    c = as_user("admin@portal.test")
    c.send("POST", f"/office/roles/{role.id}/two-factor", data={"required": "1"})
    db.session.refresh(role)
    assert role.requires_two_factor
    assert "role.two_factor_changed" in set(db.session.scalars(select(AuditEntry.action)))


def test_an_administrator_resets_anothers_second_factor(as_user, ctx):
    enrol(as_user("finance@portal.test"))
    finance = user("finance@portal.test")
    assert (
        as_user("viewer@portal.test")
        .send("POST", f"/office/users/{finance.id}/two-factor/reset")
        .status_code
        == 403
    )
    done = as_user("admin@portal.test").send("POST", f"/office/users/{finance.id}/two-factor/reset")
    assert done.status_code == 302
    db.session.refresh(finance)
    assert finance.totp_enabled_at is None and finance.totp_secret is None
    assert db.session.scalar(select(func.count()).where(RecoveryCode.user_id == finance.id)) == 0
    assert sessions_of("finance@portal.test") == 0
    assert "auth.two_factor_reset" in actions_about("finance@portal.test")


def test_turning_it_off_takes_ones_password(as_user, ctx):
    c = as_user("finance@portal.test")
    enrol(c)
    assert c.send("POST", "/account/two-factor/off", data={"password": "nope"}).status_code == 422
    assert two_factor.is_enrolled(user("finance@portal.test"))
    assert c.send("POST", "/account/two-factor/off", data={"password": PASSWORD}).status_code == 302
    assert not two_factor.is_enrolled(user("finance@portal.test"))


# --- 3. links that leave the site, trusted hosts ------------------------------------------------


def forged(c):
    """A client that sends `c`'s own cookie with a forged Host straight to the portal, as
    curl would (a browser sends no cookie to another host; nor does the test client)."""
    token = c.csrf_token()
    cookie = c.get_cookie("session").value
    raw = c.application.test_client(use_cookies=False)

    def send(url: str, data: dict):
        headers = {"Host": "portal-login.evil.test", "Cookie": f"session={cookie}"}
        return raw.open(url, method="POST", headers={**headers, "X-CSRFToken": token}, data=data)

    return send


def test_mail_links_use_portal_url_never_the_host_header(as_user, ctx):
    requester = as_user("request@acme.test")
    response = forged(requester)(
        "/shop/quotes/new",
        data={"lines-0-sku": "MCU-STM32F401", "lines-0-quantity": "500", "action": "send"},
    )
    assert response.status_code == 302
    quote = db.session.scalar(select(Quote).order_by(Quote.id.desc()))
    mails = list(
        db.session.scalars(select(OutboxMail).where(OutboxMail.subject.contains(quote.number)))
    )
    assert mails
    bodies = " ".join(m.body for m in mails)
    assert f"{PORTAL}/office/quotes/{quote.id}" in bodies
    assert "evil.test" not in bodies
    admin = as_user("admin@portal.test")
    forged(admin)(
        "/office/users/invite",
        data={"name": "Eve Later", "email": "eve.later@portal.test", "roles": ["1"]},
    )
    invitation = last_mail("eve.later@portal.test")
    assert invitation is not None and "evil.test" not in invitation.body
    assert f"{PORTAL}/invitations/" in invitation.body


def test_production_answers_only_its_own_host(app, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.setenv("PORTAL_URL", "https://portal.example.com")
    url = TEST_DATABASE_URL or app.config["SQLALCHEMY_DATABASE_URI"]
    production = create_app({"DATABASE_URL": url})
    assert production.config["TRUSTED_HOSTS"] == ["portal.example.com"]
    c = production.test_client()
    assert c.get("/login", headers={"Host": "portal.example.com"}).status_code == 200
    assert c.get("/login", headers={"Host": "portal-login.evil.test"}).status_code == 400
    hsts = c.get("/login", headers={"Host": "portal.example.com"}).headers
    assert hsts["Strict-Transport-Security"].startswith("max-age=")
    with production.app_context():
        # Live fragments are rendered outside any request, for PORTAL_URL's host: their
        # links build there too (a row of the product list links to the product).
        admin = user("admin@portal.test")
        viewer, _ = session_viewer(admin.id, token_hash(persona_token(admin.email)))
        socket = SimpleNamespace(viewer=viewer, page="test", watching=frozenset(), parsed={})
        row, key = registry.kind_of("product-1")
        assert 'href="/office/products/1"' in row.render(socket, [key])[key]
        db.session.remove()
        db.engine.dispose()
    monkeypatch.setenv("TRUSTED_HOSTS", "other.example.com")
    with pytest.raises(ConfigError, match="must include PORTAL_URL's host"):
        create_app({"DATABASE_URL": url})


# --- 4. proxies -----------------------------------------------------------------------------


def test_proxy_hops_decide_whether_forwarded_headers_count(app):
    assert not isinstance(app.wsgi_app, ProxyFix)  # PROXY_HOPS=0: forwarded headers ignored
    proxied = create_app({"PROXY_HOPS": 2, "DATABASE_URL": "sqlite://"})
    assert isinstance(proxied.wsgi_app, ProxyFix)
    assert proxied.wsgi_app.x_for == 2 and proxied.wsgi_app.x_host == 2


def test_without_proxies_a_forged_forwarded_address_does_not_dodge_the_throttle(client, ctx):
    for i in range(throttle.LIMITS["sign_in"].per_pair):
        client.send(
            "POST",
            "/login",
            headers={"X-Forwarded-For": f"10.9.9.{i}"},
            data={"email": "orders@acme.test", "password": "wrong"},
        )
    right = client.send(
        "POST",
        "/login",
        headers={"X-Forwarded-For": "10.9.9.200"},
        data={"email": "orders@acme.test", "password": PASSWORD},
    )
    assert right.status_code == 429


@pytest.fixture
def behind_a_proxy(app, monkeypatch):
    """The test app as if PROXY_HOPS=1: one proxy in front says who the client is."""
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1))


def sign_in_from(client, address: str, email: str, password: str):
    client._csrf = None
    return client.send(
        "POST",
        "/login",
        headers={"X-Forwarded-For": address},
        data={"email": email, "password": password},
    )


def test_one_clients_failures_never_refuse_another_clients_sign_in(behind_a_proxy, app, ctx):
    guesser = app.test_client()
    limit = throttle.LIMITS["sign_in"]
    for _ in range(limit.per_pair):
        sign_in_from(guesser, "203.0.113.7", "orders@acme.test", "wrong")
    for i in range(limit.per_client):
        sign_in_from(guesser, "203.0.113.7", f"nobody{i}@nowhere.test", "wrong")
    assert sign_in_from(guesser, "203.0.113.7", "orders@acme.test", PASSWORD).status_code == 429
    owner = app.test_client()
    answer = sign_in_from(owner, "198.51.100.20", "orders@acme.test", PASSWORD)
    assert answer.status_code == 302
    colleague = app.test_client()
    assert (
        sign_in_from(colleague, "198.51.100.21", "admin@portal.test", PASSWORD).status_code == 302
    )


# --- 8. password change -----------------------------------------------------------------------


def test_wrong_current_passwords_are_throttled_like_sign_in_failures(as_user, ctx):
    c = as_user("orders@acme.test")
    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    for _ in range(throttle.LIMITS["password_change"].per_pair):
        wrong = c.send("POST", "/account/password", data={**form, "current": "guess"})
        assert wrong.status_code == 422
    right = c.send("POST", "/account/password", data={**form, "current": PASSWORD})
    assert right.status_code == 429
    assert "auth.password_change_failed" in actions_about("orders@acme.test")
    assert (
        c.application.test_client()
        .send("POST", "/login", data={"email": "orders@acme.test", "password": PASSWORD})
        .status_code
        == 302
    )


# --- 12. headers ------------------------------------------------------------------------------


def test_every_answer_carries_the_secure_headers(client, as_user):
    for response in (
        client.get("/login"),
        client.get("/static/css/portal.css"),
        client.get("/no/such/page"),
        as_user("orders@acme.test").get("/shop/"),
    ):
        headers = response.headers
        assert "camera=()" in headers["Permissions-Policy"]
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # plain HTTP outside production
        response.close()


def test_sign_out_tells_the_browser_to_forget_the_site(as_user):
    c = as_user("orders@acme.test")
    response = c.send("POST", "/logout")
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == CLEAR_SITE_DATA
    assert '"cookies"' in CLEAR_SITE_DATA and '"storage"' in CLEAR_SITE_DATA
    page = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are signed out." in page


# --- the first administrator ------------------------------------------------------------------


def test_create_admin_invites_the_first_administrator_only(runner, ctx):
    refused = runner.invoke(args=["create-admin", "boss@example.com", "--name", "Bea Boss"])
    assert refused.exit_code != 0
    assert "invite people from the back office" in refused.output
    db.session.execute(update(User).where(User.kind == "staff").values(status="blocked"))
    db.session.commit()
    done = runner.invoke(args=["create-admin", "boss@example.com", "--name", "Bea Boss"])
    assert done.exit_code == 0, done.output
    assert f"{PORTAL}/invitations/" in done.output
    boss = user("boss@example.com")
    assert boss.status == "invited" and [r.preset for r in boss.roles] == ["admin"]
