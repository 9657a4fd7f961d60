"""Back-office customers: scope by assignment, company pages, reps and portal access."""

import re
from html import unescape

import pytest
from sqlalchemy import select, text

from core.models import Company, User
from extensions import db
from tests.html import find, find_all
from tests.integration.test_office_users import (
    ADMIN,
    activate,
    audit_of,
    checkbox_values,
    company_id,
    flashes,
    invitation_links,
    person,
    role_id,
    role_names,
    user_id,
)

ANNA = "anna.sales@portal.test"
ALL_COMPANIES = ["Acme Robotics", "Baltic Drones", "Carpathia Makers", "Delft Devices", "Etna Labs"]


def listed(html: str) -> list[str]:
    """Company names in the customers table, in order."""
    return [
        unescape(name)
        for name in re.findall(r'<tr id="customer-row-\d+">\s*<td><a [^>]*>([^<]+)</a>', html)
    ]


def snapshot() -> tuple:
    """Everything the people routes could change, to prove that nothing did."""
    db.session.rollback()
    queries = (
        "SELECT id, status, blocked_at FROM users ORDER BY id",
        "SELECT user_id, role_id FROM user_roles ORDER BY user_id, role_id",
        "SELECT id, revoked_at, accepted_at FROM invitations ORDER BY id",
        "SELECT company_id, user_id FROM company_reps ORDER BY company_id, user_id",
        "SELECT COUNT(*) FROM outbox",
        "SELECT COUNT(*) FROM audit_log",
        "SELECT COUNT(*) FROM login_sessions WHERE revoked_at IS NULL",
    )
    return tuple(tuple(db.session.execute(text(q)).all()) for q in queries)


def invite_customer(client, slug="acme", email="new.buyer@acme.test", roles=("requester",)):
    data = {"name": "Nora Buyer", "email": email, "roles": [role_id(r) for r in roles]}
    return client.send("POST", f"/office/customers/{company_id(slug)}/people/invite", data=data)


# The list -------------------------------------------------------------------------------


def test_a_sales_rep_lists_only_assigned_customers(as_user, ctx):
    html = as_user(ANNA).get("/office/customers").get_data(as_text=True)
    assert listed(html) == ["Acme Robotics", "Baltic Drones"]
    assert "2 customers" in html
    row = find(html, id=f"customer-row-{company_id('acme')}")
    assert "Wholesale" in row.text and "Anna Kowalska" in row.text
    # its three people and the draftsman (External collaborator)
    assert [td.text for td in find_all(row.inner_html, class_="num")] == ["4"]
    searched = as_user(ANNA).get("/office/customers?q=carpathia").get_data(as_text=True)
    assert "0 customers" in searched and "No customer matches" in searched


@pytest.mark.parametrize(
    "email",
    ["admin@portal.test", "manager@portal.test", "finance@portal.test", "viewer@portal.test"],
)
def test_customers_all_lists_every_company(as_user, ctx, email):
    html = as_user(email).get("/office/customers").get_data(as_text=True)
    assert listed(html) == ALL_COMPANIES
    assert "5 customers" in html


@pytest.mark.parametrize("email", ["warehouse@portal.test", "orders@acme.test"])
def test_no_customers_view_is_403(as_user, ctx, email):
    # Warehouse holds customers.all (to see orders' companies) but not customers.view.
    client = as_user(email)
    assert client.get("/office/customers").status_code == 403
    assert client.get(f"/office/customers/{company_id('acme')}").status_code == 403


def test_search_and_fragment(as_user):
    response = as_user(ADMIN).htmx("/office/customers?q=drones")
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="customers-table"')
    assert "<html" not in html
    assert "1 customer for" in html and "Baltic Drones" in html and "Acme" not in html


def test_malformed_list_arguments_are_400(as_user):
    client = as_user(ADMIN)
    assert client.get("/office/customers?page=0").status_code == 400
    assert client.get("/office/customers?q=" + "x" * 201).status_code == 400


# The company page -----------------------------------------------------------------------


def test_company_page_shows_policy_terms_reps_and_people(as_user, ctx):
    html = as_user(ADMIN).get(f"/office/customers/{company_id('baltic')}").get_data(as_text=True)
    assert "Partner" in html
    assert "Levels: Out of stock below 1, Few, Many from 50" in html
    assert "Shown, with their amount" in html
    assert "30 days" in html
    people = find(html, id="customer-people")
    for email in ("orders@baltic.test", "request@baltic.test", "browse@baltic.test"):
        assert email in people.text
    assert "Decision-maker" in html
    reps = find(html, id="customer-reps")
    assert checkbox_values(reps.inner_html, "reps", checked=True) == {user_id(ANNA)}


def test_company_page_for_standard_group(as_user, ctx):
    html = as_user(ADMIN).get(f"/office/customers/{company_id('carpathia')}").get_data(as_text=True)
    assert "Base price" in html and "No quotations" in html and "Not shown" in html
    assert "14 days" in html


def test_out_of_scope_company_is_404(as_user, ctx):
    anna = as_user(ANNA)
    assert anna.get(f"/office/customers/{company_id('acme')}").status_code == 200
    for slug in ("carpathia", "delft", "etna"):
        assert anna.get(f"/office/customers/{company_id(slug)}").status_code == 404
    assert anna.get("/office/customers/999999").status_code == 404


def test_a_rep_without_users_manage_sees_reps_read_only(as_user, ctx):
    html = as_user(ANNA).get(f"/office/customers/{company_id('acme')}").get_data(as_text=True)
    reps = find(html, id="customer-reps")
    assert "Anna Kowalska" in reps.text and "<form" not in reps.inner_html
    assert "Invite a person" in html  # portal.grant


def test_viewer_without_portal_grant_changes_nobody(as_user, ctx):
    viewer = as_user("viewer@portal.test")
    acme = company_id("acme")
    html = viewer.get(f"/office/customers/{acme}").get_data(as_text=True)
    assert "Invite a person" not in html
    assert "<form" not in find(html, id="customer-people").inner_html
    before = snapshot()
    uid = user_id("orders@acme.test")
    assert viewer.get(f"/office/customers/{acme}/people/invite").status_code == 403
    assert invite_customer(viewer).status_code == 403
    assert viewer.send("POST", f"/office/customers/{acme}/people/{uid}/block").status_code == 403
    assert snapshot() == before


# Reps -----------------------------------------------------------------------------------


def test_admin_sets_reps_and_the_rep_sees_the_company(as_user, ctx):
    etna = company_id("etna")
    anna = as_user(ANNA)
    assert anna.get(f"/office/customers/{etna}").status_code == 404
    response = as_user(ADMIN).send(
        "POST", f"/office/customers/{etna}/reps", data={"reps": [user_id(ANNA)]}, htmx=True
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="customer-reps"') and "<html" not in html
    assert "Sales reps saved." in html
    assert anna.get(f"/office/customers/{etna}").status_code == 200
    assert "3 customers" in anna.get("/office/customers").get_data(as_text=True)
    assert len(audit_of("customer.reps_changed", etna)) == 1


def test_reps_must_be_offered_staff(as_user, ctx):
    etna = company_id("etna")
    response = as_user(ADMIN).send(
        "POST", f"/office/customers/{etna}/reps", data={"reps": [user_id("orders@etna.test")]}
    )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(Company, etna).reps == []


@pytest.mark.parametrize("email", ["manager@portal.test", ANNA])
def test_reps_need_users_manage(as_user, ctx, email):
    before = snapshot()
    response = as_user(email).send(
        "POST", f"/office/customers/{company_id('acme')}/reps", data={"reps": [user_id(email)]}
    )
    assert response.status_code == 403
    assert snapshot() == before


# Portal access --------------------------------------------------------------------------


def test_rep_invites_a_person_into_an_assigned_company(as_user, client, ctx):
    anna = as_user(ANNA)
    acme = company_id("acme")
    form = anna.get(f"/office/customers/{acme}/people/invite").get_data(as_text=True)
    presets = ("decision_maker", "requester", "browse_only", "collaborator")
    customer_roles = {role_id(p) for p in presets}
    assert checkbox_values(form, "roles") == customer_roles

    response = invite_customer(anna, roles=("requester",))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/office/customers/{acme}")
    new = person("new.buyer@acme.test")
    assert (new.kind, new.company_id, new.status) == ("customer", acme, "invited")
    assert role_names("new.buyer@acme.test") == ["Requester"]
    (entry,) = audit_of("user.invited", new.id)
    assert entry.actor_email == ANNA

    page = anna.get(f"/office/customers/{acme}").get_data(as_text=True)
    assert "Invitation sent to new.buyer@acme.test" in flashes(page)
    row = find(page, id=f"person-{new.id}")
    assert "Invited" in row.text and "Pending" in row.text

    (link,) = invitation_links("new.buyer@acme.test")
    assert activate(client, link).status_code == 302
    assert person("new.buyer@acme.test").status == "active"


def test_customer_invite_ignores_kind_company_and_status_fields(as_user, ctx):
    data = {
        "name": "Nora Buyer",
        "email": "new.buyer@acme.test",
        "roles": [role_id("requester")],
        "kind": "staff",
        "company_id": company_id("carpathia"),
        "status": "active",
    }
    response = as_user(ANNA).send(
        "POST", f"/office/customers/{company_id('acme')}/people/invite", data=data
    )
    assert response.status_code == 302
    new = person("new.buyer@acme.test")
    assert (new.kind, new.company_id, new.status) == ("customer", company_id("acme"), "invited")


def test_customer_invite_refuses_staff_roles(as_user, ctx):
    before = snapshot()
    response = invite_customer(as_user(ANNA), roles=("admin",))
    assert response.status_code == 422
    assert "Choose from the list." in response.get_data(as_text=True)
    assert snapshot() == before


def test_customer_invite_duplicate_is_refused_on_the_form(as_user, ctx):
    before = snapshot()
    response = invite_customer(as_user(ANNA), email="ORDERS@baltic.test")
    assert response.status_code == 422
    assert "There is already an account with this email address." in response.get_data(as_text=True)
    assert snapshot() == before


def test_roles_block_and_unblock_of_a_customer_person(as_user, ctx):
    anna = as_user(ANNA)
    acme = company_id("acme")
    requester = user_id("request@acme.test")
    response = anna.send(
        "POST",
        f"/office/customers/{acme}/people/{requester}/roles",
        data={"roles": [role_id("decision_maker")]},
        htmx=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<section id="customer-people"')
    assert role_names("request@acme.test") == ["Decision-maker"]
    assert len(audit_of("user.roles_changed", requester)) == 1

    buyer = as_user("orders@acme.test")
    assert buyer.get("/shop/").status_code == 200
    uid = user_id("orders@acme.test")
    blocked = anna.send("POST", f"/office/customers/{acme}/people/{uid}/block", htmx=True)
    assert blocked.status_code == 200
    assert "Olivia Grant is blocked" in blocked.get_data(as_text=True)
    assert person("orders@acme.test").status == "blocked"
    assert "/login" in buyer.get("/shop/").headers["Location"]
    assert len(audit_of("user.blocked", uid)) == 1

    anna.send("POST", f"/office/customers/{acme}/people/{uid}/unblock")
    assert person("orders@acme.test").status == "active"
    assert len(audit_of("user.unblocked", uid)) == 1


def test_resend_and_revoke_for_a_customer_person(as_user, client, ctx):
    anna = as_user(ANNA)
    acme = company_id("acme")
    invite_customer(anna)
    uid = user_id("new.buyer@acme.test")
    anna.send("POST", f"/office/customers/{acme}/people/{uid}/invitation/resend")
    old, new = invitation_links("new.buyer@acme.test")
    assert client.get(old).status_code == 410
    assert client.get(new).status_code == 200
    response = anna.send(
        "POST", f"/office/customers/{acme}/people/{uid}/invitation/revoke", follow_redirects=True
    )
    assert "is revoked" in flashes(response.get_data(as_text=True))
    assert client.get(new).status_code == 410
    row = find(response.get_data(as_text=True), id=f"person-{uid}")
    assert "Revoked" in row.text


def test_block_asks_for_confirmation(as_user, ctx):
    acme = company_id("acme")
    uid = user_id("orders@acme.test")
    html = as_user(ANNA).get(f"/office/customers/{acme}").get_data(as_text=True)
    button = find(html, hx_post=f"/office/customers/{acme}/people/{uid}/block")
    assert button.attrs["hx-confirm"].startswith("Block Olivia Grant?")


# Scope: another rep's company and its people are 404, and nothing changes -----------------


def _scope_routes() -> list[tuple[str, str, dict]]:
    acme, carpathia = company_id("acme"), company_id("carpathia")
    theirs = user_id("orders@carpathia.test")
    routes = [
        ("GET", f"/office/customers/{carpathia}", {}),
        ("GET", f"/office/customers/{carpathia}/people/invite", {}),
        (
            "POST",
            f"/office/customers/{carpathia}/people/invite",
            {"name": "Sneaky", "email": "sneaky@carpathia.test", "roles": [role_id("requester")]},
        ),
    ]
    for company in (carpathia, acme):  # their company, or theirs smuggled under one's own
        base = f"/office/customers/{company}/people/{theirs}"
        routes += [
            ("POST", f"{base}/roles", {"roles": [role_id("browse_only")]}),
            ("POST", f"{base}/block", {}),
            ("POST", f"{base}/unblock", {}),
            ("POST", f"{base}/invitation/resend", {}),
            ("POST", f"{base}/invitation/revoke", {}),
        ]
    return routes


def test_another_reps_company_is_404_everywhere(as_user, ctx):
    anna = as_user(ANNA)
    before = snapshot()
    for method, url, data in _scope_routes():
        for htmx in (False, True):
            response = anna.send(method, url, data=data, htmx=htmx)
            assert response.status_code == 404, (method, url, htmx)
    assert snapshot() == before
    assert person("sneaky@carpathia.test") is None


def test_a_person_of_another_company_is_404_even_for_admin(as_user, ctx):
    admin = as_user(ADMIN)
    acme = company_id("acme")
    before = snapshot()
    for email in ("orders@carpathia.test", "viewer@portal.test"):
        uid = user_id(email)
        assert admin.send("POST", f"/office/customers/{acme}/people/{uid}/block").status_code == 404
        roles = f"/office/customers/{acme}/people/{uid}/roles"
        assert admin.send("POST", roles, data={}).status_code == 404
    assert snapshot() == before


def test_customer_people_listed_are_the_companys_own(as_user, ctx):
    html = as_user(ANNA).get(f"/office/customers/{company_id('acme')}").get_data(as_text=True)
    people = find(html, id="customer-people").text
    assert "orders@acme.test" in people
    assert "orders@baltic.test" not in people and "anna.sales@portal.test" not in people
    db.session.rollback()
    acme_people = db.session.scalars(
        select(User.email).where(User.company_id == company_id("acme"))
    )
    assert all(email in people for email in acme_people)
