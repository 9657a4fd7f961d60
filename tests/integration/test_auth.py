"""Signing in and out, the two faces, and where people land."""

import pytest

from app import create_app
from core.accounts import hash_password
from core.models import LoginSession
from tests.conftest import CUSTOMER_EMAILS, STAFF_EMAILS, sql
from tests.html import find


@pytest.mark.parametrize(
    ("email", "home"), [("admin@portal.test", "/office/"), ("orders@acme.test", "/shop/")]
)
def test_sign_in_lands_on_the_right_face(auth, client, email, home):
    response = auth.login(email)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_wrong_password_and_unknown_account_get_the_same_generic_answer(auth):
    wrong = auth.login("orders@acme.test", "not-the-password").get_data(as_text=True)
    unknown = auth.login("nobody@nowhere.test", "whatever").get_data(as_text=True)
    message = "The email or password is not correct."
    assert message in wrong and message in unknown
    assert find(wrong, role="alert").text == find(unknown, role="alert").text


def test_empty_form_says_what_is_missing(auth):
    html = auth.login("", "").get_data(as_text=True)
    assert "Enter your email address." in html
    assert "Enter your password." in html


def test_sign_in_without_csrf_token_is_refused(client):
    response = client.post(
        "/login", data={"email": "orders@acme.test", "password": "demo-password"}
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_blocked_person_cannot_sign_in(auth, ctx):
    sql("UPDATE users SET status = 'blocked' WHERE email = 'orders@acme.test'")
    from extensions import db

    db.session.commit()
    response = auth.login("orders@acme.test")
    assert response.status_code == 200
    assert "The email or password is not correct." in response.get_data(as_text=True)


@pytest.mark.parametrize("env", ["production", "development"])
def test_passwords_are_hashed_with_scrypt_at_owasp_strength(env):
    # The tests' own portal hashes at a small N (config.py): what a served portal stores
    # is checked here, through the same function that stores a password.
    served = {"PORTAL_ENV": env, "SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite://"}
    app = create_app({**served, "PORTAL_URL": "https://portal.example", "TRUSTED_HOSTS": []})
    with app.app_context():
        stored = hash_password("correct horse battery staple")
    method, params = stored.split("$")[0].split(":", 1)
    n, r, p = (int(x) for x in params.split(":"))
    assert method == "scrypt"
    # OWASP: N=2^17,r=8,p=1 or an equivalent such as N=2^15,r=8,p=3.
    assert n * r * p >= 2**15 * 8 * 3


def test_the_demo_passwords_are_stored_as_the_portal_hashes_them(app, ctx):
    (stored,) = sql("SELECT password_hash FROM users WHERE email = 'admin@portal.test'")[0]
    assert stored.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")


def test_logout_ends_the_session_on_the_server(auth, client, app):
    auth.login("orders@acme.test")
    cookie = client.get_cookie("session").value
    assert client.get("/shop/").status_code == 200
    assert auth.logout().status_code == 302
    # Replay the cookie from before the logout: the server has ended that session.
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    response = replay.get("/shop/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_logout_needs_post_and_csrf(as_user):
    c = as_user("orders@acme.test")
    assert c.get("/logout").status_code == 405
    assert c.post("/logout").status_code == 400
    assert c.get("/shop/").status_code == 200


def test_login_records_a_server_side_session(auth, ctx):
    from extensions import db

    before = db.session.query(LoginSession).count()
    auth.login("finance@portal.test")
    db.session.expire_all()
    assert db.session.query(LoginSession).count() == before + 1


@pytest.mark.parametrize("email", STAFF_EMAILS)
def test_staff_cannot_enter_the_storefront(as_user, email):
    c = as_user(email)
    assert c.get("/office/").status_code == 200
    assert c.get("/shop/").status_code == 403


@pytest.mark.parametrize("email", CUSTOMER_EMAILS)
def test_customers_cannot_enter_the_back_office(as_user, email):
    c = as_user(email)
    assert c.get("/shop/").status_code == 200
    assert c.get("/office/").status_code == 403
    assert c.get("/office/products").status_code == 403


@pytest.mark.parametrize("path", ["/shop/", "/office/", "/office/products", "/shop/products/1"])
def test_anonymous_people_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_htmx_request_without_session_gets_hx_redirect(client):
    response = client.get("/shop/?q=cap", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/shop/?q=cap", "/shop/?q=cap"),
        ("https://evil.example/", "/shop/"),
        ("//evil.example/", "/shop/"),
        ("/\\evil.example", "/shop/"),
        ("javascript:alert(1)", "/shop/"),
    ],
)
def test_next_only_goes_within_the_site(client, target, expected):
    response = client.send(
        "POST",
        "/login",
        query_string={"next": target},
        data={"email": "orders@acme.test", "password": "demo-password"},
    )
    assert response.headers["Location"] == expected


def test_root_sends_people_to_their_face(as_user, client):
    assert client.get("/").headers["Location"] == "/login"
    assert as_user("manager@portal.test").get("/").headers["Location"] == "/office/"
    assert as_user("browse@etna.test").get("/").headers["Location"] == "/shop/"


def test_signed_in_pages_are_not_cached_and_carry_security_headers(as_user):
    response = as_user("orders@acme.test").get("/shop/")
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
