"""The back-office roles module: create, grant, rename, delete, refusals and access."""

import re

import pytest
from sqlalchemy import func, select

from core.models import AuditEntry, Role, RolePermission, User
from extensions import db
from tests.html import find, find_all

ADMIN = "admin@portal.test"


@pytest.fixture
def state(app):
    """Read the database in a fresh application context (never the one a request used)."""

    def read(fn):
        with app.app_context():
            return fn()

    return read


def role_id(name: str) -> int:
    return db.session.scalar(select(Role.id).where(Role.name == name))


def permissions(name: str) -> set[str]:
    stmt = select(RolePermission.permission).join(Role).where(Role.name == name)
    return set(db.session.scalars(stmt))


def audit_entries(action: str) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    return list(db.session.scalars(stmt))


def roles_of(email: str) -> set[str]:
    user = db.session.scalar(select(User).where(User.email == email))
    return {r.name for r in user.roles}


def role_count() -> int:
    return db.session.scalar(select(func.count(Role.id)))


def flashes(html: str) -> str:
    return " ".join(p.text for p in find_all(html, class_="flash flash--error"))


def make_role(state, name="Auditors", scope="staff", perms=()):
    from core import roles

    def create():
        admin = db.session.scalar(select(User).where(User.email == ADMIN))
        role = roles.create(name, scope, perms, actor=admin)
        db.session.commit()
        return role.id

    return state(create)


# ---- the list -------------------------------------------------------------------------


def test_list_shows_both_kinds_with_holders_and_permission_counts(as_user, state):
    html = as_user(ADMIN).get("/office/roles").get_data(as_text=True)
    staff = find(html, id="roles-staff")
    assert staff is not None and staff.text == "Staff roles"
    sales = find(html, id=f"role-{state(lambda: role_id('Sales staff'))}")
    assert "Sales staff" in sales.text and "Preset" in sales.text
    assert find(sales.inner_html, data_col="holders").text == "2"  # Anna and Marco
    # 17: shipping.view joined the Sales staff preset with the Shipping module,
    # customers.act with acting for customers, and tasks.view and tasks.edit with tasks.
    assert find(sales.inner_html, data_col="permissions").text.startswith("17 of")
    requester = find(html, id=f"role-{state(lambda: role_id('Requester'))}")
    assert find(requester.inner_html, data_col="holders").text == "5"  # one per company
    # The customer section lists customer roles only, the staff section staff roles only.
    customer_part = html[html.index('id="roles-customer"') :]
    assert "Decision-maker" in customer_part and "Warehouse" not in customer_part
    assert 'action="/office/roles"' in html  # the create form, for those who may edit


def test_empty_state_when_a_kind_has_no_roles(as_user, state):
    def drop_customer_roles():
        from core import roles

        admin = db.session.scalar(select(User).where(User.email == ADMIN))
        for role in db.session.scalars(select(Role).where(Role.scope == "customer")).all():
            for person in list(role.holders):
                person.roles.remove(role)
            db.session.flush()
            roles.delete(role, actor=admin)
        db.session.commit()

    state(drop_customer_roles)
    html = as_user(ADMIN).get("/office/roles").get_data(as_text=True)
    assert "No customer roles yet." in html


# ---- create ---------------------------------------------------------------------------


def test_admin_creates_a_role_and_lands_on_its_page(as_user, state):
    c = as_user(ADMIN)
    response = c.send("POST", "/office/roles", data={"name": "  Night   shift ", "scope": "staff"})
    assert response.status_code == 302
    new_id = state(lambda: role_id("Night shift"))  # spaces tidied by the service
    assert new_id is not None
    assert response.headers["Location"] == f"/office/roles/{new_id}"
    assert state(lambda: permissions("Night shift")) == set()
    created = state(lambda: [(e.target_id, e.actor_email) for e in audit_entries("role.created")])
    assert (new_id, ADMIN) in created
    page = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "Role “Night shift” created." in page


def test_create_refuses_a_duplicate_name_whatever_its_case(as_user, state):
    before = state(role_count)
    c = as_user(ADMIN)
    response = c.send("POST", "/office/roles", data={"name": "read-ONLY", "scope": "staff"})
    assert response.status_code == 302
    html = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "There is already a role called “Read-only”." in flashes(html)
    assert state(role_count) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scope": "staff"}, "Give the role a name."),
        ({"name": "x" * 81, "scope": "staff"}, "at most 80 characters"),
        ({"name": "Robots", "scope": "martians"}, "Choose staff or customer people."),
    ],
)
def test_create_refuses_bad_input_with_a_message(as_user, state, data, message):
    before = state(role_count)
    c = as_user(ADMIN)
    response = c.send("POST", "/office/roles", data=data)
    html = c.get(response.headers["Location"]).get_data(as_text=True)
    assert message in flashes(html)
    assert state(role_count) == before


def test_a_customer_role_can_be_created(as_user, state):
    response = as_user(ADMIN).send(
        "POST", "/office/roles", data={"name": "Buyer", "scope": "customer"}
    )
    assert response.status_code == 302
    assert state(lambda: db.session.scalar(select(Role.scope).where(Role.name == "Buyer"))) == (
        "customer"
    )


# ---- the role page and its grid -------------------------------------------------------


def test_staff_role_page_shows_the_staff_grid_holders_and_forms(as_user, state):
    rid = state(lambda: role_id("Sales staff"))
    html = as_user(ADMIN).get(f"/office/roles/{rid}").get_data(as_text=True)
    grid = find(html, id="role-permissions")
    assert grid.tag == "form" and grid.attrs["hx-target"] == "this"
    boxes = {i["value"]: i for i in _checkboxes(grid.inner_html)}
    assert "finance.costs" in boxes and "shop.order" not in boxes  # staff modules only
    checked = {code for code, attrs in boxes.items() if "checked" in attrs}
    assert checked == state(lambda: permissions("Sales staff"))
    assert not any("disabled" in attrs for attrs in boxes.values())
    assert 'title="orders.edit: move and cancel orders"' in grid.inner_html
    holders = find(html, class_="holders").text
    assert "anna.sales@portal.test" in holders and "marco.sales@portal.test" in holders
    assert "active" in holders
    assert f'action="/office/roles/{rid}/name"' in html
    assert f'action="/office/roles/{rid}/delete"' in html
    assert "hx-confirm=" in html


def test_customer_role_page_shows_only_storefront_permissions(as_user, state):
    rid = state(lambda: role_id("Requester"))
    html = as_user(ADMIN).get(f"/office/roles/{rid}").get_data(as_text=True)
    codes = {i["value"] for i in _checkboxes(find(html, id="role-permissions").inner_html)}
    assert codes == {
        "shop.prices",
        "shop.cart",
        "shop.order",
        "shop.quote",
        "shop.approve",
        "shop.invoices",
        "shop.users",
        "shop.addresses",
        "shop.lists",
        "shop.webhooks",
    }
    assert "Acme Robotics" in find(html, class_="holders").text


def test_without_roles_edit_the_grid_is_read_only(as_user, state):
    # Give the Read-only role a look at roles, but not the right to change them.
    def grant_view():
        db.session.add(RolePermission(role_id=role_id("Read-only"), permission="roles.view"))
        db.session.commit()

    state(grant_view)
    c = as_user("viewer@portal.test")
    listing = c.get("/office/roles")
    assert listing.status_code == 200
    assert 'action="/office/roles"' not in listing.get_data(as_text=True)  # no create form
    rid = state(lambda: role_id("Admin"))
    html = c.get(f"/office/roles/{rid}").get_data(as_text=True)
    grid = find(html, id="role-permissions")
    assert grid.tag == "div"
    boxes = _checkboxes(grid.inner_html)
    assert boxes and all("disabled" in attrs for attrs in boxes)
    assert "Save permissions" not in html and "Rename" not in html and "Delete role" not in html
    before = state(lambda: permissions("Admin"))
    response = c.send("POST", f"/office/roles/{rid}/permissions", data={"permissions": []})
    assert response.status_code == 403
    assert state(lambda: permissions("Admin")) == before


def test_unknown_role_is_404(as_user):
    c = as_user(ADMIN)
    assert c.get("/office/roles/999999").status_code == 404
    for action in ("name", "permissions", "delete"):
        response = c.send("POST", f"/office/roles/999999/{action}", data={"name": "X"})
        assert response.status_code == 404, action


# ---- permissions ----------------------------------------------------------------------


def test_saving_permissions_stores_exactly_the_ticked_set_and_audits_it(as_user, state):
    rid = make_role(state, perms=["orders.view", "stock.view"])
    wanted = ["audit.view", "orders.view", "products.view"]
    c = as_user(ADMIN)
    response = c.send("POST", f"/office/roles/{rid}/permissions", data={"permissions": wanted})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/office/roles/{rid}"
    assert state(lambda: permissions("Auditors")) == set(wanted)
    entry = state(lambda: audit_entries("role.permissions_changed")[-1])
    assert entry.target_type == "roles" and entry.target_id == rid
    assert entry.actor_email == ADMIN
    assert entry.before == {"permissions": ["orders.view", "stock.view"]}
    assert entry.after == {"permissions": sorted(wanted)}
    page = c.get(f"/office/roles/{rid}").get_data(as_text=True)
    assert "saved." in page
    # Unticking everything is a valid set too: the role then grants nothing.
    c.send("POST", f"/office/roles/{rid}/permissions", data={})
    assert state(lambda: permissions("Auditors")) == set()


def test_holders_get_the_new_permissions_at_once(as_user, state):
    warehouse = as_user("warehouse@portal.test")
    assert warehouse.get("/office/audit").status_code == 403
    rid = state(lambda: role_id("Warehouse"))
    wanted = sorted(state(lambda: permissions("Warehouse")) | {"audit.view"})
    as_user(ADMIN).send("POST", f"/office/roles/{rid}/permissions", data={"permissions": wanted})
    assert warehouse.get("/office/audit").status_code == 200


def test_htmx_save_answers_with_the_fragment_only(as_user, state):
    rid = make_role(state)
    response = as_user(ADMIN).send(
        "POST",
        f"/office/roles/{rid}/permissions",
        data={"permissions": ["products.view"]},
        htmx=True,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert html.lstrip().startswith('<form id="role-permissions"')
    assert find(html, role="status").text == "Saved."
    checked = {i["value"] for i in _checkboxes(html) if "checked" in i}
    assert checked == {"products.view"}
    assert state(lambda: permissions("Auditors")) == {"products.view"}


def test_htmx_save_without_a_change_says_so(as_user, state):
    rid = make_role(state, perms=["products.view"])
    response = as_user(ADMIN).send(
        "POST",
        f"/office/roles/{rid}/permissions",
        data={"permissions": ["products.view"]},
        htmx=True,
    )
    assert find(response.get_data(as_text=True), role="status").text == "No changes to save."
    assert state(lambda: len(audit_entries("role.permissions_changed"))) == 0


@pytest.mark.parametrize(
    ("role", "posted"),
    [
        ("Read-only", ["products.view", "nonsense.do"]),
        ("Read-only", ["shop.order"]),  # a storefront permission on a staff role
        ("Requester", ["shop.cart", "orders.view"]),  # a staff permission on a customer role
    ],
)
def test_unknown_permission_codes_are_refused_and_change_nothing(as_user, state, role, posted):
    rid = state(lambda: role_id(role))
    before = state(lambda: permissions(role))
    c = as_user(ADMIN)
    response = c.send("POST", f"/office/roles/{rid}/permissions", data={"permissions": posted})
    assert response.status_code == 302
    html = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "Unknown permissions for this kind of role" in flashes(html)
    assert state(lambda: permissions(role)) == before
    fragment = c.send(
        "POST", f"/office/roles/{rid}/permissions", data={"permissions": posted}, htmx=True
    )
    assert fragment.status_code == 422
    text = fragment.get_data(as_text=True)
    assert "<html" not in text
    assert "Not saved: Unknown permissions for this kind of role" in find(text, role="alert").text
    assert state(lambda: permissions(role)) == before
    assert state(lambda: len(audit_entries("role.permissions_changed"))) == 0


def test_keeper_rule_refuses_taking_user_management_from_the_admin(as_user, state):
    rid = state(lambda: role_id("Admin"))
    before = state(lambda: permissions("Admin"))
    posted = sorted(before - {"users.manage"})
    c = as_user(ADMIN)
    response = c.send("POST", f"/office/roles/{rid}/permissions", data={"permissions": posted})
    html = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "would leave nobody able to manage users and roles" in flashes(html)
    assert state(lambda: permissions("Admin")) == before
    fragment = c.send(
        "POST", f"/office/roles/{rid}/permissions", data={"permissions": posted}, htmx=True
    )
    assert fragment.status_code == 422
    text = fragment.get_data(as_text=True)
    assert "would leave nobody able to manage users and roles" in text
    # The person's ticks stay on screen so they see what was refused.
    ticked = {i["value"] for i in _checkboxes(text) if "checked" in i}
    assert "users.manage" not in ticked and "roles.edit" in ticked
    assert state(lambda: permissions("Admin")) == before
    assert state(lambda: len(audit_entries("role.permissions_changed"))) == 0


# ---- rename ---------------------------------------------------------------------------


def test_rename_changes_the_name_and_audits_it(as_user, state):
    rid = make_role(state)
    c = as_user(ADMIN)
    response = c.send("POST", f"/office/roles/{rid}/name", data={"name": "Inspectors"})
    assert response.status_code == 302
    assert state(lambda: db.session.get(Role, rid).name) == "Inspectors"
    entry = state(lambda: audit_entries("role.renamed")[-1])
    assert (entry.before, entry.after) == ({"name": "Auditors"}, {"name": "Inspectors"})
    html = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "Role “Auditors” is now called “Inspectors”." in html


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("finance", "There is already a role called “Finance”."),
        ("", "Give the role a name."),
        ("y" * 81, "at most 80 characters"),
    ],
)
def test_rename_refusals_say_why_and_change_nothing(as_user, state, name, message):
    rid = state(lambda: role_id("Read-only"))
    c = as_user(ADMIN)
    response = c.send("POST", f"/office/roles/{rid}/name", data={"name": name})
    assert response.headers["Location"] == f"/office/roles/{rid}"
    assert message in flashes(c.get(response.headers["Location"]).get_data(as_text=True))
    assert state(lambda: db.session.get(Role, rid).name) == "Read-only"
    assert state(lambda: len(audit_entries("role.renamed"))) == 0


# ---- delete ---------------------------------------------------------------------------


def test_deleting_an_unheld_role(as_user, state):
    rid = make_role(state)
    c = as_user(ADMIN)
    response = c.send("POST", f"/office/roles/{rid}/delete", data={"reassign_to": ""})
    assert response.status_code == 302
    assert response.headers["Location"] == "/office/roles"
    assert state(lambda: db.session.get(Role, rid)) is None
    entry = state(lambda: audit_entries("role.deleted")[-1])
    assert entry.before["name"] == "Auditors" and entry.actor_email == ADMIN
    assert "Role “Auditors” deleted." in c.get("/office/roles").get_data(as_text=True)


def test_deleting_a_held_role_needs_somewhere_for_its_holders(as_user, state):
    rid = state(lambda: role_id("Sales staff"))
    c = as_user(ADMIN)
    response = c.send("POST", f"/office/roles/{rid}/delete", data={"reassign_to": ""})
    assert response.headers["Location"] == f"/office/roles/{rid}"
    html = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 people hold this role." in flashes(html)
    assert state(lambda: db.session.get(Role, rid)) is not None
    assert state(lambda: roles_of("anna.sales@portal.test")) == {"Sales staff"}
    assert state(lambda: len(audit_entries("role.deleted"))) == 0


def test_deleting_a_held_role_with_reassignment_moves_its_holders(as_user, state):
    rid = state(lambda: role_id("Sales staff"))
    target = state(lambda: role_id("Read-only"))
    c = as_user(ADMIN)
    response = c.send("POST", f"/office/roles/{rid}/delete", data={"reassign_to": str(target)})
    assert response.headers["Location"] == "/office/roles"
    assert state(lambda: db.session.get(Role, rid)) is None
    assert state(lambda: roles_of("anna.sales@portal.test")) == {"Read-only"}
    assert state(lambda: roles_of("marco.sales@portal.test")) == {"Read-only"}
    entry = state(lambda: audit_entries("role.deleted")[-1])
    assert sorted(entry.before["holders"]) == ["anna.sales@portal.test", "marco.sales@portal.test"]
    assert entry.after == {"reassigned_to": "Read-only"}
    html = c.get("/office/roles").get_data(as_text=True)
    assert "Its holders now have “Read-only”." in html


def test_reassigning_to_a_role_of_the_other_kind_is_refused(as_user, state):
    rid = state(lambda: role_id("Sales staff"))
    customer_role = state(lambda: role_id("Requester"))
    c = as_user(ADMIN)
    response = c.send(
        "POST", f"/office/roles/{rid}/delete", data={"reassign_to": str(customer_role)}
    )
    html = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "Choose one of the listed roles." in flashes(html)
    assert state(lambda: db.session.get(Role, rid)) is not None


def test_deleting_the_only_keeper_role_is_refused(as_user, state):
    rid = state(lambda: role_id("Admin"))
    target = state(lambda: role_id("Store manager"))
    c = as_user(ADMIN)
    response = c.send("POST", f"/office/roles/{rid}/delete", data={"reassign_to": str(target)})
    html = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "would leave nobody able to manage users and roles" in flashes(html)
    assert state(lambda: roles_of(ADMIN)) == {"Admin"}


def test_htmx_delete_sends_the_browser_to_the_next_page(as_user, state):
    rid = make_role(state)
    response = as_user(ADMIN).send(
        "POST", f"/office/roles/{rid}/delete", data={"reassign_to": ""}, htmx=True
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/office/roles"
    assert state(lambda: db.session.get(Role, rid)) is None


# ---- access ---------------------------------------------------------------------------

POSTS = [
    ("/office/roles", {"name": "Sneaky", "scope": "staff"}),
    ("/office/roles/{rid}/name", {"name": "Sneaky"}),
    ("/office/roles/{rid}/permissions", {"permissions": ["users.manage", "roles.edit"]}),
    ("/office/roles/{rid}/delete", {"reassign_to": ""}),
]


@pytest.mark.parametrize(
    "email", ["manager@portal.test", "warehouse@portal.test", "viewer@portal.test"]
)
def test_staff_without_role_permissions_get_403_everywhere(as_user, state, email):
    rid = state(lambda: role_id("Read-only"))
    c = as_user(email)
    for url in ("/office/roles", f"/office/roles/{rid}", "/office/audit"):
        assert c.get(url).status_code == 403, url
    before = state(lambda: (role_count(), permissions("Read-only")))
    for url, data in POSTS:
        response = c.send("POST", url.format(rid=rid), data=data)
        assert response.status_code == 403, url
        response = c.send("POST", url.format(rid=rid), data=data, htmx=True)
        assert response.status_code == 403, url
    assert state(lambda: (role_count(), permissions("Read-only"))) == before
    assert state(lambda: db.session.get(Role, rid).name) == "Read-only"


def test_customers_never_enter_the_roles_module(as_user, state):
    c = as_user("orders@acme.test")
    rid = state(lambda: role_id("Decision-maker"))
    assert c.get("/office/roles").status_code == 403
    assert c.get(f"/office/roles/{rid}").status_code == 403
    response = c.send("POST", f"/office/roles/{rid}/permissions", data={"permissions": []})
    assert response.status_code == 403
    assert state(lambda: permissions("Decision-maker")) != set()


def test_posts_without_the_csrf_token_are_refused(as_user, state):
    rid = state(lambda: role_id("Read-only"))
    response = as_user(ADMIN).send(
        "POST", f"/office/roles/{rid}/name", data={"name": "Forged"}, csrf=False
    )
    assert response.status_code == 400
    assert state(lambda: db.session.get(Role, rid).name) == "Read-only"


def test_roles_appear_in_the_navigation_only_for_those_who_may_see_them(as_user):
    admin_nav = find(as_user(ADMIN).get("/office/").get_data(as_text=True), id="nav")
    assert "/office/roles" in admin_nav.inner_html and "/office/audit" in admin_nav.inner_html
    manager_nav = find(
        as_user("manager@portal.test").get("/office/").get_data(as_text=True), id="nav"
    )
    assert "/office/roles" not in manager_nav.inner_html
    assert "/office/audit" not in manager_nav.inner_html


_INPUT = re.compile(r"<input\b[^>]*>")
_ATTR = re.compile(r'([\w-]+)(?:="([^"]*)")?')


def _checkboxes(html: str) -> list[dict]:
    """The permission checkboxes, each as its attributes (valueless ones map to "")."""
    boxes = []
    for tag in _INPUT.findall(html):
        attrs = {name: value for name, value in _ATTR.findall(tag[len("<input") : -1])}
        if attrs.get("type") == "checkbox" and attrs.get("name") == "permissions":
            boxes.append(attrs)
    return boxes
