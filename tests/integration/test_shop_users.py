"""/shop/users: a customer company's decision-makers manage their own colleagues."""

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from core.models import Invitation, OutboxMail, Role, RolePermission, User, utcnow
from extensions import db
from tests.conftest import AuthActions
from tests.html import find, find_all
from tests.records import company

# Acme's three, and its external draftsman (the External collaborator preset)
ACME_PEOPLE = {"orders@acme.test", "request@acme.test", "browse@acme.test", "draftsman@acme.test"}
NEW = "nina.new@acme.test"
GOOD_PASSWORD = "violet-harbour-kettle-42"


def person(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def uid(email: str) -> int:
    return person(email).id


def role_id(preset: str) -> int:
    return db.session.scalar(select(Role.id).where(Role.preset == preset))


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def outbox_count() -> int:
    return db.session.scalar(select(func.count(OutboxMail.id)))


def rows(html: str) -> dict[str, str]:
    """Email → the text of that person's row, for every row on the page."""
    found = {}
    for match in re.finditer(r'<tr id="person-\d+"', html):
        row_id = match.group(0).split('"')[1]
        element = find(html, id=row_id)
        email = find(element.inner_html, class_="person__email").text
        found[email] = element.text
    return found


def invite(c, email=NEW, name="Nina New", preset="requester", **extra):
    data = {"name": name, "email": email, "role": role_id(preset), **extra}
    return c.send("POST", "/shop/users/invite", data=data)


def link_in_mail(to: str) -> str:
    """The path of the activation link in the newest mail to this address."""
    db.session.expire_all()
    mail = db.session.scalar(
        select(OutboxMail).where(OutboxMail.to_addr == to).order_by(OutboxMail.id.desc())
    )
    assert mail is not None, f"no mail to {to}"
    match = re.search(r"https?://[^/\s]+(/invitations/\S+)", mail.body)
    assert match, mail.body
    return match.group(1)


def activate(app, path: str, password: str = GOOD_PASSWORD):
    return app.test_client().send("POST", path, data={"password": password, "confirm": password})


# --- the list -------------------------------------------------------------------------


def test_decision_maker_lists_exactly_their_own_company(as_user, ctx):
    response = as_user("orders@acme.test").get("/shop/users")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    listed = rows(html)
    assert set(listed) == ACME_PEOPLE
    assert "baltic" not in find(html, id=f"shop-users-{company('acme').id}").inner_html
    assert "Requester" in listed["request@acme.test"]
    assert "Active" in listed["request@acme.test"]
    assert "4 people" in html


def test_list_shows_invitation_states(as_user, ctx):
    c = as_user("orders@acme.test")
    assert invite(c).status_code == 302
    assert "link pending until" in rows(c.get("/shop/users").get_data(as_text=True))[NEW]

    invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == uid(NEW)))
    invitation.expires_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    row = rows(c.get("/shop/users").get_data(as_text=True))[NEW]
    assert "Invited" in row and "link expired" in row
    assert "Send a new link" in row and "Withdraw" not in row


def test_search_by_name_or_email_and_htmx_gets_only_the_fragment(as_user):
    c = as_user("orders@acme.test")
    by_name = c.get("/shop/users?q=ravi").get_data(as_text=True)
    assert set(rows(by_name)) == {"request@acme.test"}
    by_email = c.get("/shop/users?q=browse@").get_data(as_text=True)
    assert set(rows(by_email)) == {"browse@acme.test"}

    response = c.htmx("/shop/users?q=ravi")
    fragment = response.get_data(as_text=True)
    assert re.match(r'<div id="shop-users-\d+"', fragment.lstrip())
    assert "<html" not in fragment and 'id="nav"' not in fragment
    assert set(rows(fragment)) == {"request@acme.test"}
    assert "HX-Request" in response.headers["Vary"]


def test_search_cannot_reach_another_company(as_user):
    html = as_user("orders@acme.test").get("/shop/users?q=baltic").get_data(as_text=True)
    assert rows(html) == {}
    assert "Nobody matches “baltic”" in html


def test_twenty_five_to_a_page(as_user, ctx):
    acme = company("acme")
    for i in range(30):
        db.session.add(
            User(
                email=f"p{i:02}@acme.test",
                name=f"Person {i:02}",
                kind="customer",
                company=acme,
                status="active",
            )
        )
    db.session.commit()
    c = as_user("orders@acme.test")
    first = c.get("/shop/users").get_data(as_text=True)
    second = c.get("/shop/users?page=2").get_data(as_text=True)
    assert len(rows(first)) == 25
    assert len(rows(second)) == 34 - 25  # the demo's four Acme people and these thirty
    assert not set(rows(first)) & set(rows(second))
    assert "Page 1 of 2" in first


# --- who may use it -------------------------------------------------------------------

POST_ROUTES = ("roles", "block", "unblock", "invitation/resend", "invitation/revoke")


@pytest.mark.parametrize(
    "email", ["request@acme.test", "browse@acme.test", "request@baltic.test", "browse@etna.test"]
)
def test_requesters_and_browse_only_get_403_everywhere(as_user, ctx, email):
    target = uid("browse@acme.test") if "acme" not in email else uid("orders@acme.test")
    before = user_count()
    c = as_user(email)
    assert c.get("/shop/users").status_code == 403
    assert c.get("/shop/users/invite").status_code == 403
    assert invite(c).status_code == 403
    for action in POST_ROUTES:
        response = c.send(
            "POST", f"/shop/users/{target}/{action}", data={"role": role_id("browse_only")}
        )
        assert response.status_code == 403, action
    assert user_count() == before
    assert person("orders@acme.test").status == "active"
    assert [r.preset for r in person("orders@acme.test").roles] == ["decision_maker"]


@pytest.mark.parametrize(
    "email", ["admin@portal.test", "manager@portal.test", "anna.sales@portal.test"]
)
def test_staff_get_403(as_user, ctx, email):
    c = as_user(email)
    assert c.get("/shop/users").status_code == 403
    assert invite(c).status_code == 403
    assert c.send("POST", f"/shop/users/{uid('request@acme.test')}/block").status_code == 403
    assert person("request@acme.test").status == "active"
    assert person(NEW) is None


def test_anonymous_people_are_sent_to_sign_in(client):
    response = client.get("/shop/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_when_the_seller_does_not_allow_self_management(as_user, ctx):
    c = as_user("orders@acme.test")
    assert "People" in find(c.get("/shop/").get_data(as_text=True), id="nav").text
    company("acme").manages_own_users = False
    db.session.commit()
    assert c.get("/shop/users").status_code == 403
    assert invite(c).status_code == 403
    assert "People" not in find(c.get("/shop/").get_data(as_text=True), id="nav").text
    assert person(NEW) is None


def test_people_link_only_for_those_who_may_manage(as_user):
    nav = find(as_user("request@acme.test").get("/shop/").get_data(as_text=True), id="nav")
    assert "People" not in nav.text


# --- inviting -------------------------------------------------------------------------


def test_invite_activate_and_sign_in(app, as_user, ctx):
    c = as_user("orders@acme.test")
    assert c.get("/shop/users/invite").status_code == 200
    response = invite(c)
    assert response.status_code == 302
    assert response.headers["Location"] == "/shop/users"
    assert f"Invitation sent to {NEW}" in c.get("/shop/users").get_data(as_text=True)

    new = person(NEW)
    assert new.company.slug == "acme" and new.kind == "customer"
    assert new.status == "invited" and new.password_hash is None
    assert [r.preset for r in new.roles] == ["requester"]

    path = link_in_mail(NEW)
    assert app.test_client().get(path).status_code == 200
    activated = activate(app, path)
    assert activated.status_code == 302
    assert person(NEW).status == "active"

    signed_in = AuthActions(app.test_client())
    response = signed_in.login(NEW, GOOD_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/shop/"
    assert signed_in.client.get("/shop/").status_code == 200
    # A Requester does not manage people.
    assert signed_in.client.get("/shop/users").status_code == 403
    # The link worked once.
    assert app.test_client().get(path).status_code == 410


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-address", "That email address is not valid"),
        ("request@baltic.test", "There is already an account with this email address."),
        ("REQUEST@acme.test", "There is already an account with this email address."),
    ],
)
def test_invite_refused_changes_nothing(as_user, ctx, email, message):
    users, mails = user_count(), outbox_count()
    response = invite(as_user("orders@acme.test"), email=email)
    assert response.status_code == 422
    alert = find(response.get_data(as_text=True), role="alert")
    assert message in alert.text
    assert user_count() == users and outbox_count() == mails


def test_invite_form_errors_say_what_is_missing(as_user, ctx):
    users = user_count()
    response = invite(as_user("orders@acme.test"), email="", name="")
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert "Enter the person's name." in html
    assert "Enter the person's email address." in html
    assert user_count() == users


def test_too_common_password_at_activation_is_refused(app, as_user, ctx):
    invite(as_user("orders@acme.test"))
    path = link_in_mail(NEW)
    response = activate(app, path, "password123")
    assert response.status_code == 200
    assert "one of the most common ones" in response.get_data(as_text=True)
    new = person(NEW)
    assert new.status == "invited" and new.password_hash is None
    # The link still works for a good password.
    assert activate(app, path).status_code == 302


def test_extra_fields_change_nothing(as_user, ctx):
    baltic = company("baltic").id
    response = invite(
        as_user("orders@acme.test"),
        company_id=baltic,
        kind="staff",
        status="active",
        password_hash="x",
    )
    assert response.status_code == 302
    new = person(NEW)
    assert new.company_id == company("acme").id
    assert new.kind == "customer"
    assert new.status == "invited"
    assert new.password_hash is None


def test_form_offers_only_customer_roles_and_refuses_others(as_user, ctx):
    c = as_user("orders@acme.test")
    html = c.get("/shop/users/invite").get_data(as_text=True)
    offered = {o for o in re.findall(r"<option[^>]*>([^<]+)</option>", html)}
    assert offered == {"Browse-only", "Decision-maker", "External collaborator", "Requester"}
    users = user_count()
    response = invite(c, preset="admin")  # a staff role id, never offered
    assert response.status_code == 422
    assert "Choose at least one role." in find(response.get_data(as_text=True), role="alert").text
    assert user_count() == users


@pytest.fixture
def limited_manager(ctx):
    """orders@acme.test holds only a role with shop.users (and prices, which Browse-only
    gives), not the Requester's rights."""
    manager = Role(
        name="People manager",
        scope="customer",
        grants=[RolePermission(permission="shop.users"), RolePermission(permission="shop.prices")],
    )
    db.session.add(manager)
    person("orders@acme.test").roles = [manager]
    db.session.commit()
    return manager


def test_nobody_gives_a_role_above_their_own_rights(as_user, limited_manager):
    c = as_user("orders@acme.test")
    html = c.get("/shop/users/invite").get_data(as_text=True)
    offered = set(re.findall(r"<option[^>]*>([^<]+)</option>", html))
    assert offered == {"Browse-only", "People manager"}

    users, mails = user_count(), outbox_count()
    response = invite(c, preset="requester")  # posted although the form does not offer it
    assert response.status_code == 422
    assert "You cannot give the role “Requester”." in response.get_data(as_text=True)
    assert user_count() == users and outbox_count() == mails

    browse = uid("browse@acme.test")
    response = c.send(
        "POST", f"/shop/users/{browse}/roles", data={"role": role_id("decision_maker")}
    )
    assert response.status_code == 302
    assert "You cannot give the role “Decision-maker”." in c.get("/shop/users").get_data(
        as_text=True
    )
    assert [r.preset for r in person("browse@acme.test").roles] == ["browse_only"]
    # Nor take away one they could not give.
    requester = uid("request@acme.test")
    response = c.send(
        "POST", f"/shop/users/{requester}/roles", data={"role": role_id("browse_only")}
    )
    assert response.status_code == 302
    assert [r.preset for r in person("request@acme.test").roles] == ["requester"]


# --- changing, blocking ---------------------------------------------------------------


def test_change_a_colleagues_role(as_user, ctx):
    c = as_user("orders@acme.test")
    target = uid("browse@acme.test")
    response = c.send("POST", f"/shop/users/{target}/roles", data={"role": role_id("requester")})
    assert response.status_code == 302
    assert [r.preset for r in person("browse@acme.test").roles] == ["requester"]
    # The change holds at once: the colleague now may build a cart.
    assert as_user("browse@acme.test").get("/shop/users").status_code == 403


def test_htmx_role_change_answers_with_the_row(as_user, ctx):
    c = as_user("orders@acme.test")
    target = uid("browse@acme.test")
    response = c.send(
        "POST", f"/shop/users/{target}/roles", data={"role": role_id("requester")}, htmx=True
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="person-{target}"')
    assert "now has the role “Requester”" in html
    assert "<html" not in html


def test_nobody_changes_their_own_role(as_user, ctx):
    c = as_user("orders@acme.test")
    me = uid("orders@acme.test")
    response = c.send(
        "POST", f"/shop/users/{me}/roles", data={"role": role_id("browse_only")}, htmx=True
    )
    assert response.status_code == 422
    assert (
        "You cannot change your own roles."
        in find(response.get_data(as_text=True), role="alert").text
    )
    assert [r.preset for r in person("orders@acme.test").roles] == ["decision_maker"]


@pytest.mark.parametrize("action", POST_ROUTES)
def test_another_companys_person_is_not_found(as_user, ctx, action):
    target = uid("request@baltic.test")
    c = as_user("orders@acme.test")
    response = c.send(
        "POST", f"/shop/users/{target}/{action}", data={"role": role_id("browse_only")}
    )
    assert response.status_code == 404
    victim = person("request@baltic.test")
    assert victim.status == "active"
    assert [r.preset for r in victim.roles] == ["requester"]
    assert as_user("request@baltic.test").get("/shop/").status_code == 200


def test_unknown_person_is_not_found(as_user):
    c = as_user("orders@acme.test")
    assert c.send("POST", "/shop/users/999999/block").status_code == 404


def test_block_ends_sessions_and_unblock_restores_access(app, as_user, ctx):
    manager = as_user("orders@acme.test")
    blocked = as_user("request@acme.test")
    assert blocked.get("/shop/").status_code == 200
    target = uid("request@acme.test")

    response = manager.send("POST", f"/shop/users/{target}/block")
    assert response.status_code == 302
    assert person("request@acme.test").status == "blocked"
    after = blocked.get("/shop/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")
    assert AuthActions(app.test_client()).login("request@acme.test").status_code == 200
    row = rows(manager.get("/shop/users").get_data(as_text=True))["request@acme.test"]
    assert "Blocked" in row and "Unblock" in row

    response = manager.send("POST", f"/shop/users/{target}/unblock")
    assert response.status_code == 302
    assert person("request@acme.test").status == "active"
    again = AuthActions(app.test_client())
    assert again.login("request@acme.test").headers["Location"] == "/shop/"
    assert again.client.get("/shop/").status_code == 200


def test_block_button_asks_for_confirmation_and_works_without_js(as_user):
    html = as_user("orders@acme.test").get("/shop/users").get_data(as_text=True)
    buttons = [b for b in find_all(html, type="submit") if b.text == "Block"]
    assert buttons and all("hx-confirm" in b.attrs and "hx-post" in b.attrs for b in buttons)
    forms = re.findall(r'<form method="post" action="(/shop/users/\d+/block)"', html)
    assert len(forms) == len(buttons)


def test_nobody_blocks_themselves(as_user, ctx):
    c = as_user("orders@acme.test")
    me = uid("orders@acme.test")
    response = c.send("POST", f"/shop/users/{me}/block")
    assert response.status_code == 302
    assert "You cannot block yourself." in c.get("/shop/users").get_data(as_text=True)
    assert person("orders@acme.test").status == "active"
    htmx = c.send("POST", f"/shop/users/{me}/block", htmx=True)
    assert htmx.status_code == 422
    assert "You cannot block yourself." in find(htmx.get_data(as_text=True), role="alert").text


# --- invitations ----------------------------------------------------------------------


def test_resend_replaces_the_link(app, as_user, ctx):
    c = as_user("orders@acme.test")
    invite(c)
    old = link_in_mail(NEW)
    response = c.send("POST", f"/shop/users/{uid(NEW)}/invitation/resend")
    assert response.status_code == 302
    new = link_in_mail(NEW)
    assert new != old
    assert app.test_client().get(old).status_code == 410
    assert app.test_client().get(new).status_code == 200
    assert activate(app, new).status_code == 302
    assert person(NEW).status == "active"


def test_revoke_closes_the_link(app, as_user, ctx):
    c = as_user("orders@acme.test")
    invite(c)
    path = link_in_mail(NEW)
    response = c.send("POST", f"/shop/users/{uid(NEW)}/invitation/revoke", htmx=True)
    assert response.status_code == 200
    assert "link withdrawn" in response.get_data(as_text=True)
    assert app.test_client().get(path).status_code == 410
    assert activate(app, path).status_code == 410
    assert person(NEW).status == "invited"
    again = c.send("POST", f"/shop/users/{uid(NEW)}/invitation/revoke", htmx=True)
    assert again.status_code == 422
    assert "There is no pending invitation to revoke." in again.get_data(as_text=True)


def test_resend_refused_for_an_active_person(as_user, ctx):
    c = as_user("orders@acme.test")
    mails = outbox_count()
    response = c.send("POST", f"/shop/users/{uid('request@acme.test')}/invitation/resend")
    assert response.status_code == 302
    assert "already activated" in c.get("/shop/users").get_data(as_text=True)
    assert outbox_count() == mails
