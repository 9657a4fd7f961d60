"""Back-office staff users: inviting, invitations, blocking, roles and assigned customers."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from core import roles as role_service
from core.models import AuditEntry, Company, Invitation, OutboxMail, Role, User
from extensions import db
from tests.html import find, find_all

ADMIN = "admin@portal.test"
PARTNER = "partner@portal.test"
NEW_PASSWORD = "Quartz-lantern-meadow-81"


# Helpers (also used by test_office_customers.py) ----------------------------------------


def person(email: str) -> User | None:
    """The person with this email, read fresh from the database."""
    db.session.rollback()
    return db.session.scalar(select(User).where(User.email == email))


def user_id(email: str) -> int:
    return person(email).id


def company_id(slug: str) -> int:
    return db.session.scalar(select(Company.id).where(Company.slug == slug))


def role_id(preset: str) -> int:
    return db.session.scalar(select(Role.id).where(Role.preset == preset))


def role_names(email: str) -> list[str]:
    return sorted(r.name for r in person(email).roles)


def invitation_links(email: str) -> list[str]:
    """Paths of the activation links mailed to this address, oldest first."""
    db.session.rollback()
    bodies = db.session.scalars(
        select(OutboxMail.body).where(OutboxMail.to_addr == email).order_by(OutboxMail.id)
    )
    links = []
    for body in bodies:
        match = re.search(r"(\S+/invitations/\S+)", body)
        assert match, f"no activation link in {body!r}"
        links.append(urlsplit(match.group(1)).path)
    return links


def audit_of(action: str, target: int) -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action, AuditEntry.target_id == target)
        )
    )


def activate(client, path: str):
    """Choose a password through the activation link, as the invited person does."""
    return client.send("POST", path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})


def checkbox_values(html: str, name: str, *, checked: bool = False) -> set[int]:
    """Values of the checkboxes called `name` (tests.html does not collect void elements)."""
    values = set()
    for tag in re.findall(r"<input[^>]*>", html):
        if (
            'type="checkbox"' in tag
            and f'name="{name}"' in tag
            and (" checked" in tag or not checked)
        ):
            values.add(int(re.search(r'value="(\d+)"', tag).group(1)))
    return values


def flashes(html: str) -> str:
    """The text of every message shown on a page (flashed, or in a fragment)."""
    found = re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', html, re.DOTALL)
    return unescape(" ".join(found))


def invite_staff(client, email="nadia@portal.test", name="Nadia Berg", roles=("warehouse",)):
    data = {"name": name, "email": email, "roles": [role_id(r) for r in roles]}
    return client.send("POST", "/office/users/invite", data=data)


# Inviting -------------------------------------------------------------------------------


def test_invite_form_offers_only_staff_roles(as_user, ctx):
    html = as_user(ADMIN).get("/office/users/invite").get_data(as_text=True)
    offered = checkbox_values(html, "roles")
    staff = set(db.session.scalars(select(Role.id).where(Role.scope == "staff")))
    assert offered == staff
    assert role_id("decision_maker") not in offered


def test_admin_invites_a_staff_person(as_user, client, ctx):
    admin = as_user(ADMIN)
    response = invite_staff(admin, roles=("warehouse", "finance"))
    new = person("nadia@portal.test")
    assert new is not None
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/office/users/{new.id}")
    assert (new.kind, new.status, new.company_id) == ("staff", "invited", None)
    assert role_names("nadia@portal.test") == ["Finance", "Warehouse"]
    entry = audit_of("user.invited", new.id)
    assert len(entry) == 1 and entry[0].actor_email == ADMIN

    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Invitation sent to nadia@portal.test" in flashes(page)
    assert "Pending" in page

    (link,) = invitation_links("nadia@portal.test")
    assert client.get(link).status_code == 200
    activated = activate(client, link)
    assert activated.status_code == 302 and activated.headers["Location"].endswith("/login")
    assert person("nadia@portal.test").status == "active"
    assert client.get(link).status_code == 410  # single use


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"name": "Anna Again", "email": "Anna.Sales@Portal.test"},
            "There is already an account with this email address.",
        ),
        ({"name": "Nobody", "email": "not-an-email"}, "That email address is not valid"),
        ({"name": "No Roles", "email": "noroles@portal.test", "roles": []}, "Choose at least"),
        ({"name": "", "email": "noname@portal.test"}, "Enter the person's name."),
    ],
)
def test_invite_refusals_leave_nothing_behind(as_user, ctx, data, message):
    users_before = db.session.scalar(select(func.count(User.id)))
    mails_before = db.session.scalar(select(func.count(OutboxMail.id)))
    data = {"roles": [role_id("warehouse")], **data}
    response = as_user(ADMIN).send("POST", "/office/users/invite", data=data)
    assert response.status_code == 422
    assert message in unescape(response.get_data(as_text=True))
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id))) == users_before
    assert db.session.scalar(select(func.count(OutboxMail.id))) == mails_before


def test_invite_refuses_a_customer_role(as_user, ctx):
    response = invite_staff(as_user(ADMIN), roles=("decision_maker",))
    assert response.status_code == 422
    assert "Choose from the list." in response.get_data(as_text=True)
    assert person("nadia@portal.test") is None


def test_invite_ignores_fields_it_does_not_offer(as_user, ctx):
    data = {
        "name": "Nadia Berg",
        "email": "nadia@portal.test",
        "roles": [role_id("readonly")],
        "kind": "customer",
        "company_id": company_id("acme"),
        "status": "active",
        "password_hash": "x",
    }
    assert as_user(ADMIN).send("POST", "/office/users/invite", data=data).status_code == 302
    new = person("nadia@portal.test")
    assert (new.kind, new.company_id, new.status, new.password_hash) == (
        "staff",
        None,
        "invited",
        None,
    )


# Invitations ----------------------------------------------------------------------------


def test_resend_replaces_the_link(as_user, client, ctx):
    admin = as_user(ADMIN)
    invite_staff(admin)
    uid = user_id("nadia@portal.test")
    response = admin.send("POST", f"/office/users/{uid}/invitation/resend", htmx=True)
    assert response.status_code == 200
    assert "<html" not in response.get_data(as_text=True)
    old, new = invitation_links("nadia@portal.test")
    assert client.get(old).status_code == 410
    assert client.get(new).status_code == 200
    assert activate(client, new).status_code == 302
    assert person("nadia@portal.test").status == "active"
    assert len(audit_of("invitation.resent", uid)) == 1


def test_revoke_closes_the_link_and_shows_in_the_history(as_user, client, ctx):
    admin = as_user(ADMIN)
    invite_staff(admin)
    uid = user_id("nadia@portal.test")
    response = admin.send("POST", f"/office/users/{uid}/invitation/revoke", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Invitation revoked" in flashes(html)
    (link,) = invitation_links("nadia@portal.test")
    assert client.get(link).status_code == 410
    assert "Revoked" in find(html, id=f"user-{uid}").text
    assert len(audit_of("invitation.revoked", uid)) == 1
    # Nothing is left to revoke: the service's message, and no second audit entry.
    again = admin.send("POST", f"/office/users/{uid}/invitation/revoke", htmx=True)
    assert again.status_code == 422
    assert "no pending invitation" in again.get_data(as_text=True)
    assert len(audit_of("invitation.revoked", uid)) == 1


def test_invitation_buttons_only_while_invited(as_user, ctx):
    admin = as_user(ADMIN)
    invite_staff(admin)
    invited = admin.get(f"/office/users/{user_id('nadia@portal.test')}").get_data(as_text=True)
    assert "invitation/resend" in invited and "invitation/revoke" in invited
    active = admin.get(f"/office/users/{user_id('viewer@portal.test')}").get_data(as_text=True)
    assert "invitation/resend" not in active


# Blocking -------------------------------------------------------------------------------


def test_block_ends_every_session_and_unblock_lets_them_in(as_user, ctx):
    viewer = as_user("viewer@portal.test")
    assert viewer.get("/office/").status_code == 200
    uid = user_id("viewer@portal.test")
    admin = as_user(ADMIN)

    response = admin.send("POST", f"/office/users/{uid}/block", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith(f'<div id="user-{uid}"')
    assert "Blocked" in html
    assert person("viewer@portal.test").status == "blocked"
    assert len(audit_of("user.blocked", uid)) == 1

    after = viewer.get("/office/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]

    admin.send("POST", f"/office/users/{uid}/unblock")
    assert person("viewer@portal.test").status == "active"
    assert len(audit_of("user.unblocked", uid)) == 1


def test_block_button_asks_for_confirmation_and_works_without_js(as_user, ctx):
    uid = user_id("viewer@portal.test")
    html = as_user(ADMIN).get(f"/office/users/{uid}").get_data(as_text=True)
    button = find(html, hx_post=f"/office/users/{uid}/block")
    assert button is not None and button.attrs.get("hx-confirm", "").startswith("Block Victor")
    assert f'<form method="post" action="/office/users/{uid}/block"' in html


def test_admin_cannot_block_themself(as_user, ctx):
    admin = as_user(ADMIN)
    uid = user_id(ADMIN)
    response = admin.send("POST", f"/office/users/{uid}/block", follow_redirects=True)
    assert "You cannot block yourself." in flashes(response.get_data(as_text=True))
    assert person(ADMIN).status == "active"
    assert audit_of("user.blocked", uid) == []
    htmx = admin.send("POST", f"/office/users/{uid}/block", htmx=True)
    assert htmx.status_code == 422
    assert "You cannot block yourself." in htmx.get_data(as_text=True)
    assert admin.get("/office/").status_code == 200


# Roles ----------------------------------------------------------------------------------


def test_new_roles_change_what_the_person_may_do(as_user, ctx):
    finance = as_user("finance@portal.test")
    assert "Out of stock" not in finance.get("/office/").get_data(as_text=True)
    uid = user_id("finance@portal.test")
    response = as_user(ADMIN).send(
        "POST",
        f"/office/users/{uid}/roles",
        data={"roles": [role_id("finance"), role_id("warehouse")]},
        htmx=True,
    )
    assert response.status_code == 200
    assert "Roles saved." in response.get_data(as_text=True)
    assert role_names("finance@portal.test") == ["Finance", "Warehouse"]
    assert "Out of stock" in finance.get("/office/").get_data(as_text=True)
    assert len(audit_of("user.roles_changed", uid)) == 1


def test_removing_the_last_role_ends_their_sessions(as_user, ctx):
    viewer = as_user("viewer@portal.test")
    assert viewer.get("/office/products").status_code == 200
    uid = user_id("viewer@portal.test")
    as_user(ADMIN).send("POST", f"/office/users/{uid}/roles", data={})
    assert role_names("viewer@portal.test") == []
    assert "/login" in viewer.get("/office/products").headers["Location"]


def test_own_roles_cannot_be_changed(as_user, ctx):
    admin = as_user(ADMIN)
    uid = user_id(ADMIN)
    assert "Save roles" not in admin.get(f"/office/users/{uid}").get_data(as_text=True)
    response = admin.send("POST", f"/office/users/{uid}/roles", data={}, htmx=True)
    assert response.status_code == 422
    assert "You cannot change your own roles." in response.get_data(as_text=True)
    assert role_names(ADMIN) == ["Admin"]


def test_roles_outside_the_offered_list_are_refused(as_user, ctx):
    uid = user_id("viewer@portal.test")
    response = as_user(ADMIN).send(
        "POST", f"/office/users/{uid}/roles", data={"roles": [role_id("decision_maker")]}
    )
    assert response.status_code == 302
    assert role_names("viewer@portal.test") == ["Read-only"]


# Assigned customers ---------------------------------------------------------------------


def test_assigning_a_customer_opens_it_to_the_rep(as_user, ctx):
    marco = as_user("marco.sales@portal.test")
    acme = company_id("acme")
    assert marco.get(f"/office/customers/{acme}").status_code == 404
    uid = user_id("marco.sales@portal.test")
    mine = [company_id("carpathia"), company_id("delft")]
    admin = as_user(ADMIN)

    response = admin.send(
        "POST", f"/office/users/{uid}/customers", data={"companies": [*mine, acme]}
    )
    assert response.status_code == 302
    listing = marco.get("/office/customers").get_data(as_text=True)
    assert "3 customers" in listing and "Acme Robotics" in listing
    assert marco.get(f"/office/customers/{acme}").status_code == 200
    assert len(audit_of("customer.reps_changed", acme)) == 1
    db.session.rollback()
    # Anna still serves Acme: assigning Marco adds him, it does not replace her.
    acme_reps = {r.email for r in db.session.get(Company, acme).reps}
    # (and the Partner, assigned Acme in the demo to read its orders and quotes)
    assert acme_reps == {"anna.sales@portal.test", "marco.sales@portal.test", PARTNER}

    admin.send("POST", f"/office/users/{uid}/customers", data={"companies": mine})
    assert marco.get(f"/office/customers/{acme}").status_code == 404
    assert "2 customers" in marco.get("/office/customers").get_data(as_text=True)


def test_assignment_of_a_customer_person_is_a_404(as_user, ctx):
    uid = user_id("orders@acme.test")
    response = as_user(ADMIN).send(
        "POST", f"/office/users/{uid}/customers", data={"companies": [company_id("etna")]}
    )
    assert response.status_code == 404
    db.session.rollback()
    assert db.session.get(Company, company_id("etna")).reps == []


# The list -------------------------------------------------------------------------------


def test_list_shows_staff_only_with_their_details(as_user, ctx):
    html = as_user(ADMIN).get("/office/users").get_data(as_text=True)
    assert "8 staff users" in html  # the seller's seven and the Partner
    assert "orders@acme.test" not in html
    anna = find(html, id=f"user-row-{user_id('anna.sales@portal.test')}")
    assert "Sales staff" in anna.text and "Active" in anna.text
    cells = [td.text for td in find_all(anna.inner_html, class_="num")]
    assert cells == ["2"]  # Acme and Baltic


def test_list_search_and_status_filter(as_user, ctx):
    admin = as_user(ADMIN)
    invite_staff(admin)
    found = admin.get("/office/users?q=KOWALSKA").get_data(as_text=True)
    assert "1 staff user " in found and "anna.sales@portal.test" in found
    by_email = admin.get("/office/users?q=marco.sales").get_data(as_text=True)
    assert "Marco Rossi" in by_email and "Anna" not in by_email
    invited = admin.get("/office/users?status=invited").get_data(as_text=True)
    assert "nadia@portal.test" in invited and "anna.sales@portal.test" not in invited
    none = admin.get("/office/users?q=zzz&status=blocked").get_data(as_text=True)
    assert "No staff user matches" in none


@pytest.mark.parametrize(
    ("query", "message"),
    [("status=gone", "Unknown status filter"), ("page=abc", "The page must be a whole number")],
)
def test_list_rejects_malformed_filters(as_user, query, message):
    response = as_user(ADMIN).get(f"/office/users?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_list_fragment_for_htmx(as_user):
    response = as_user(ADMIN).htmx("/office/users?q=anna")
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="users-table"')
    assert "<html" not in html
    assert response.headers["Vary"] and "HX-Request" in response.headers["Vary"]


def test_pagination_keeps_the_filters(as_user, ctx):
    admin = as_user(ADMIN)
    for n in range(26):
        invite_staff(admin, email=f"temp{n:02d}@portal.test", name=f"Temp {n:02d}")
    first = admin.get("/office/users?q=temp&status=invited").get_data(as_text=True)
    assert "26 staff users invited" in first and "Page 1 of 2" in first
    assert len(find_all(first, class_="num")) == 1 + 25  # header and 25 rows
    href = find(first, rel="next").attrs["href"]
    assert urlsplit(href).path == "/office/users"
    assert parse_qs(urlsplit(href).query) == {"q": ["temp"], "status": ["invited"], "page": ["2"]}
    second = admin.get(href).get_data(as_text=True)
    assert "Temp 25" in second and "Temp 00" not in second


# Who may -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "manager@portal.test",
        "anna.sales@portal.test",
        "warehouse@portal.test",
        "finance@portal.test",
        "viewer@portal.test",
    ],
)
def test_the_module_is_403_without_users_view(as_user, ctx, email):
    client = as_user(email)
    assert client.get("/office/users").status_code == 403
    assert client.get(f"/office/users/{user_id('viewer@portal.test')}").status_code == 403
    assert client.get("/office/users/invite").status_code == 403
    uid = user_id("warehouse@portal.test")
    assert client.send("POST", f"/office/users/{uid}/block").status_code == 403
    assert person("warehouse@portal.test").status == "active"
    nav = find(client.get("/office/").get_data(as_text=True), id="nav")
    assert "Staff users" not in nav.text


def test_customer_people_never_enter(as_user):
    assert as_user("orders@acme.test").get("/office/users").status_code == 403


def test_unknown_or_customer_ids_are_404(as_user, ctx):
    admin = as_user(ADMIN)
    customer = user_id("orders@acme.test")
    assert admin.get(f"/office/users/{customer}").status_code == 404
    assert admin.get("/office/users/999999").status_code == 404
    assert admin.send("POST", f"/office/users/{customer}/block").status_code == 404
    assert admin.send("POST", f"/office/users/{customer}/roles", data={}).status_code == 404
    assert person("orders@acme.test").status == "active"
    assert role_names("orders@acme.test") == ["Decision-maker"]


def test_viewing_without_managing_shows_no_change_forms(as_user, ctx):
    """A role with users.view only: the pages show, the forms do not, the posts are 403."""
    viewer = person("viewer@portal.test")
    admin = person(ADMIN)
    auditor = role_service.create("Auditor", "staff", ["users.view"], actor=admin)
    viewer.roles = [*viewer.roles, auditor]
    db.session.commit()
    client = as_user("viewer@portal.test")
    anna = user_id("anna.sales@portal.test")
    listing = client.get("/office/users").get_data(as_text=True)
    assert "Anna Kowalska" in listing and "Invite a staff user" not in listing
    page = client.get(f"/office/users/{anna}").get_data(as_text=True)
    assert "Sales staff" in page and "Acme Robotics" in page
    assert "<form" not in find(page, id=f"user-{anna}").inner_html
    assert client.send("POST", f"/office/users/{anna}/block").status_code == 403
    assert client.send("POST", f"/office/users/{anna}/roles", data={}).status_code == 403
    assert client.get("/office/users/invite").status_code == 403
    assert person("anna.sales@portal.test").status == "active"
    assert role_names("anna.sales@portal.test") == ["Sales staff"]


def test_invitation_rows_record_who_invited(as_user, ctx):
    invite_staff(as_user(ADMIN))
    db.session.rollback()
    invitation = db.session.scalar(
        select(Invitation).join(Invitation.user).where(User.email == "nadia@portal.test")
    )
    assert invitation.invited_by.email == ADMIN
    html = as_user(ADMIN).get(f"/office/users/{invitation.user_id}").get_data(as_text=True)
    assert "Helena Adler" in find(html, id=f"user-{invitation.user_id}").text
