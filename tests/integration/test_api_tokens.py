"""Personal access tokens: made on the account page (shown once) or by the command line,
kept hashed, listed with their last use, revoked with CSRF; dead at once when revoked,
expired, or their owner (or the owner's company) blocked; read-only tokens refused
every change; rate-limited per token; every write audited with the token's name."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core import customers, people, tokens
from core.models import ApiToken, AuditEntry, Company, User, utcnow
from extensions import db
from tests.conftest import persona_api_token

ACME = "orders@acme.test"
ADMIN = "admin@portal.test"
TOKEN = re.compile(r"ptk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def person(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def make(email: str, name: str = "ERP", **options) -> str:
    """A token of this person's, committed (as the command line makes one)."""
    owner = person(email)
    __, raw = tokens.create(owner, name, actor=owner, **options)
    db.session.commit()
    return raw


# --- the account page --------------------------------------------------------------------


def test_the_account_page_makes_a_token_shown_once_and_stored_hashed(app, as_user, ctx):
    browser = as_user(ACME)
    page = browser.get("/account/tokens")
    assert page.status_code == 200
    made = browser.send(
        "POST", "/account/tokens", data={"name": "ERP purchasing", "expires_days": "30"}
    )
    assert made.status_code == 201
    html = made.get_data(as_text=True)
    raw = TOKEN.search(html).group(0)
    assert made.headers["Cache-Control"] == "no-store"
    # Hashed at rest: the token itself is nowhere in the database.
    stored = db.session.scalar(select(ApiToken).where(ApiToken.name == "ERP purchasing"))
    assert stored.token_hash == tokens.digest(raw) != raw
    assert raw not in str(db.session.execute(select(ApiToken.__table__)).all())
    assert stored.expires_at is not None
    assert timedelta(days=29) < stored.expires_at - utcnow() <= timedelta(days=30)
    # Shown once: the list names it by its prefix only.
    listed = browser.get("/account/tokens").get_data(as_text=True)
    assert "ERP purchasing" in listed
    assert raw not in listed
    assert f"ptk_{stored.prefix}_…" in listed
    assert "Never used" in listed
    # It works, and the list then says when it was last used.
    assert browser.get("/api/v1/cart", headers=bearer(raw)).status_code == 200
    assert (
        "Never used"
        not in browser.get("/account/tokens")
        .get_data(as_text=True)
        .split("ERP purchasing", 1)[1]
        .split("</tr>", 1)[0]
    )
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "token.created"))
    assert "ERP purchasing" in entry.summary


def test_the_form_refuses_what_the_rules_do_not_allow(as_user, ctx):
    browser = as_user(ACME)
    empty = browser.send("POST", "/account/tokens", data={"name": "  "})
    assert empty.status_code == 422
    too_long = browser.send("POST", "/account/tokens", data={"name": "ERP", "expires_days": "0"})
    assert too_long.status_code == 422
    assert browser.send("POST", "/account/tokens", data={"name": "ERP"}).status_code == 201
    twice = browser.send("POST", "/account/tokens", data={"name": "erp"})
    assert twice.status_code == 422
    assert "already have a token" in twice.get_data(as_text=True)


def test_making_and_revoking_need_the_csrf_token(as_user, ctx):
    browser = as_user(ACME)
    refused = browser.send("POST", "/account/tokens", data={"name": "ERP"}, csrf=False)
    assert refused.status_code == 400
    assert db.session.scalar(select(ApiToken).where(ApiToken.name == "ERP")) is None
    raw = make(ACME)
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "ERP"))
    url = f"/account/tokens/{token.id}/revoke"
    assert browser.send("POST", url, csrf=False).status_code == 400
    db.session.refresh(token)
    assert token.revoked_at is None
    assert browser.get("/api/v1/cart", headers=bearer(raw)).status_code == 200


def test_a_revoked_token_is_dead_at_once(client, as_user, ctx):
    raw = make(ACME)
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "ERP"))
    assert client.get("/api/v1/cart", headers=bearer(raw)).status_code == 200
    page = as_user(ACME).get("/account/tokens").get_data(as_text=True)
    assert "hx-confirm" in page.split(f'id="token-{token.id}"', 1)[1].split("</tr>", 1)[0]
    revoked = as_user(ACME).send("POST", f"/account/tokens/{token.id}/revoke", htmx=True)
    assert revoked.status_code == 200
    assert revoked.headers["HX-Redirect"] == "/account/tokens"
    answer = client.get("/api/v1/cart", headers=bearer(raw))
    assert answer.status_code == 401
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "token.revoked"))
    assert entry is not None and "ERP" in entry.summary


def test_nobody_revokes_another_persons_token(as_user, client, ctx):
    raw = make(ACME)
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "ERP"))
    other = as_user("request@acme.test")
    assert other.send("POST", f"/account/tokens/{token.id}/revoke").status_code == 404
    assert client.get("/api/v1/cart", headers=bearer(raw)).status_code == 200


def test_an_expired_token_is_dead(client, ctx):
    raw = make(ACME, expires_days=1)
    assert client.get("/api/v1/cart", headers=bearer(raw)).status_code == 200
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.name == "ERP")
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert client.get("/api/v1/cart", headers=bearer(raw)).status_code == 401


def test_blocking_the_owner_kills_the_token_at_once(client, ctx):
    raw = persona_api_token(ACME)
    assert client.get("/api/v1/cart", headers=bearer(raw)).status_code == 200
    people.block(person(ACME), actor=person(ADMIN))
    db.session.commit()
    assert client.get("/api/v1/cart", headers=bearer(raw)).status_code == 401
    people.unblock(person(ACME), actor=person(ADMIN))
    db.session.commit()
    assert client.get("/api/v1/cart", headers=bearer(raw)).status_code == 200


def test_deactivating_the_company_kills_its_peoples_tokens(client, ctx):
    raw = persona_api_token(ACME)
    company = db.session.scalar(select(Company).where(Company.slug == "acme"))
    customers.deactivate(company, actor=person(ADMIN))
    db.session.commit()
    assert client.get("/api/v1/catalog", headers=bearer(raw)).status_code == 401


def test_a_token_acts_with_its_owners_permissions_as_they_are_now(client, ctx):
    """Not a copy made when it was created: a role taken away is gone for the token too."""
    raw = persona_api_token(ACME)
    assert client.get("/api/v1/invoices", headers=bearer(raw)).status_code == 200
    owner = person(ACME)
    browse_only = db.session.scalar(select(User).where(User.email == "browse@acme.test")).roles
    owner.roles = list(browse_only)
    db.session.commit()
    assert client.get("/api/v1/invoices", headers=bearer(raw)).status_code == 403
    assert client.get("/api/v1/catalog", headers=bearer(raw)).status_code == 200


def test_a_read_only_token_reads_and_changes_nothing(client, app, ctx):
    raw = make(ACME, read_only=True)
    assert client.get("/api/v1/cart", headers=bearer(raw)).status_code == 200
    _, tracker = app.extensions["test_template"]
    before = set(tracker.tables)
    for method, url, body in (
        ("POST", "/api/v1/cart/lines", {"sku": "CAP-1206-10U", "quantity": 10}),
        ("POST", "/api/v1/orders", {}),
        ("DELETE", "/api/v1/cart/lines/1", None),
        ("POST", "/api/v1/quotes", {"lines": [{"sku": "CAP-1206-10U", "quantity": 100}]}),
    ):
        answer = client.open(url, method=method, headers=bearer(raw), json=body)
        assert answer.status_code == 403, (url, answer.status_code)
        assert answer.get_json()["type"] == "/api/v1/docs#problem-read-only-token"
    assert set(tracker.tables) - before <= {"api_tokens"}


def test_each_token_is_rate_limited_with_retry_after(client, app, ctx):
    app.config["API_RATE_LIMIT"] = 3
    try:
        raw = persona_api_token(ACME)
        other = persona_api_token("request@acme.test")
        answers = [client.get("/api/v1/catalog", headers=bearer(raw)) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[0].headers["RateLimit-Remaining"] == "2"
        limited = answers[-1]
        assert limited.headers["Content-Type"].startswith("application/problem+json")
        assert limited.get_json()["type"] == "/api/v1/docs#problem-rate-limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        # Per token: another person's token is not held back by this one's requests.
        assert client.get("/api/v1/catalog", headers=bearer(other)).status_code == 200
        # The window passes: allowed again.
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.prefix == tokens.prefix_of(raw))
            .values(window_started_at=utcnow() - timedelta(minutes=2))
        )
        db.session.commit()
        assert client.get("/api/v1/catalog", headers=bearer(raw)).status_code == 200
    finally:
        app.config["API_RATE_LIMIT"] = 120


def test_writes_are_audited_with_the_tokens_name(client, ctx):
    raw = make(ACME, name="Purchasing robot")
    added = client.post(
        "/api/v1/cart/lines", headers=bearer(raw), json={"sku": "CAP-1206-10U", "quantity": 10}
    )
    assert added.status_code == 200
    # A change no service audits (a cart line): one entry naming the call and the token.
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api.write"))
    assert entry.actor_id == person(ACME).id
    assert "Purchasing robot" in entry.summary
    assert entry.after["api_token"] == "Purchasing robot"
    placed = client.post("/api/v1/orders", headers=bearer(raw), json={})
    assert placed.status_code == 201, placed.get_data(as_text=True)
    # A change a service audits (the order): its own entry, naming the token.
    order_entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "order.placed").order_by(AuditEntry.id.desc())
    )
    assert "Purchasing robot" in order_entry.summary
    assert order_entry.after["api_token"] == "Purchasing robot"
    writes = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "api.write")).all()
    assert len(writes) == 1  # the order needed no extra entry


def test_reads_are_not_audited(client, ctx):
    raw = persona_api_token(ACME)
    before = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()))
    assert client.get("/api/v1/orders", headers=bearer(raw)).status_code == 200
    after = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()))
    assert before == after


# --- the command line ----------------------------------------------------------------------


def test_the_command_line_prints_a_token_once(runner, client, ctx):
    result = runner.invoke(
        args=["token", "create", "ORDERS@acme.test", "--name", "ERP", "--read-only"]
    )
    assert result.exit_code == 0, result.output
    raw = TOKEN.search(result.output).group(0)
    stored = db.session.scalar(select(ApiToken).where(ApiToken.name == "ERP"))
    assert stored.read_only and stored.expires_at is None
    assert stored.token_hash == tokens.digest(raw)
    assert client.get("/api/v1/cart", headers=bearer(raw)).status_code == 200
    assert client.post("/api/v1/orders", headers=bearer(raw), json={}).status_code == 403
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "token.created"))
    assert entry.actor_email == "(command line)"


def test_the_command_line_sets_an_expiry_and_refuses_unknown_people(runner, ctx):
    result = runner.invoke(
        args=["token", "create", ACME, "--name", "Nightly sync", "--expires-days", "7"]
    )
    assert result.exit_code == 0, result.output
    stored = db.session.scalar(select(ApiToken).where(ApiToken.name == "Nightly sync"))
    assert timedelta(days=6) < stored.expires_at - utcnow() <= timedelta(days=7)
    unknown = runner.invoke(args=["token", "create", "nobody@example.test", "--name", "X"])
    assert unknown.exit_code != 0
    assert "no account" in unknown.output


@pytest.mark.parametrize("raw", ["", "ptk_", "ptk_0123456789ab_" + "A" * 43])
def test_tokens_that_do_not_exist_open_nothing(client, raw):
    assert client.get("/api/v1/cart", headers=bearer(raw)).status_code == 401
