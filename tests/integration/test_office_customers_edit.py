"""Back-office companies: create, edit, move between groups (live), deactivate, reactivate,
delete; bad input changes nothing, and out-of-scope companies are a 404."""

import re
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from core import customers, people, settings
from core.models import (
    AuditEntry,
    Company,
    CustomerGroup,
    LoginSession,
    Product,
    Setting,
    User,
)
from extensions import db
from tests.html import find
from tests.integration.test_office_users import ADMIN, company_id, person
from tests.sockets import drain, watch

ANNA = "anna.sales@portal.test"
MARCO = "marco.sales@portal.test"
MANAGER = "manager@portal.test"


def group_id(name: str) -> int:
    return db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == name))


def company(slug: str) -> Company:
    db.session.rollback()
    return db.session.scalar(select(Company).where(Company.slug == slug))


def snapshot() -> tuple:
    """Everything the company routes could change, to prove that nothing did."""
    db.session.rollback()
    queries = (
        "SELECT * FROM companies ORDER BY id",
        "SELECT company_id, user_id FROM company_reps ORDER BY company_id, user_id",
        "SELECT id, status FROM users ORDER BY id",
        "SELECT COUNT(*) FROM audit_log",
        "SELECT COUNT(*) FROM login_sessions WHERE revoked_at IS NULL",
    )
    return tuple(tuple(db.session.execute(text(q)).all()) for q in queries)


def form_data(**changes) -> dict:
    data = {
        "name": "Nordic Rotors AB",
        "group_id": str(group_id("Partner")),
        "email": "buyers@nordic-rotors.test",
        "phone": "+46 8 123 45 67",
        "vat_number": "se 5566 7788 0801",
        "address": "Nordic Rotors AB\nKungsgatan 1",
        "postcode": "111 43",
        "city": "Stockholm",
        "country": "SE",
        "payment_terms_days": "45",
        "approval_limit": "5 000,00",
        "manages_own_users": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def edit_data(slug: str, **changes) -> dict:
    """The edit form of a company as the page fills it in, with some fields changed."""
    c = company(slug)
    data = {
        "name": c.name,
        "group_id": str(c.group_id),
        "email": c.email,
        "phone": c.phone,
        "vat_number": c.vat_number,
        "address": c.address,
        "postcode": c.postcode,
        "city": c.city,
        "country": c.country,
        "reference_required": "y" if c.reference_required else None,
        "payment_terms_days": str(c.payment_terms_days),
        "approval_limit": f"{c.approval_limit:.2f}" if c.approval_limit is not None else "",
        "manages_own_users": "y" if c.manages_own_users else None,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def audit(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


# Creating ---------------------------------------------------------------------------------


def test_the_new_form_starts_from_the_portals_defaults(as_user, ctx):
    db.session.merge(Setting(key="payment_terms_days", value=21))
    db.session.commit()
    html = as_user(ADMIN).get("/office/customers/new").get_data(as_text=True)
    assert re.search(r'name="payment_terms_days"[^>]*value="21"', html)
    assert '<option selected value="">Choose a group…</option>' in html  # a choice to make
    assert re.search(r'name="manages_own_users"[^>]*checked|checked[^>]*name="manages_own', html)
    assert settings.payment_terms_days() == 21


def test_an_admin_creates_a_company(as_user, ctx):
    admin = as_user(ADMIN)
    response = admin.send("POST", "/office/customers/new", data=form_data())
    assert response.status_code == 302
    created = company("nordic-rotors-ab")
    assert response.headers["Location"] == f"/office/customers/{created.id}"
    assert created.group.name == "Partner"
    assert (created.email, created.phone, created.vat_number) == (
        "buyers@nordic-rotors.test",
        "+46 8 123 45 67",
        "SE556677880801",
    )
    assert (created.postcode, created.city, created.country) == ("111 43", "Stockholm", "SE")
    assert created.payment_terms_days == 45 and created.approval_limit == Decimal("5000.00")
    assert created.manages_own_users and created.is_active and created.reps == []
    entry = audit("customer.created")[-1]
    assert entry.target_id == created.id and entry.after["group"] == "Partner"
    page = admin.get(f"/office/customers/{created.id}").get_data(as_text=True)
    assert "created. Invite its people" in page
    assert "Orders above €5,000.00 need a second decision-maker" in page


def test_a_sales_rep_who_creates_a_company_serves_it(as_user, ctx):
    response = as_user(ANNA).send(
        "POST", "/office/customers/new", data=form_data(name="Øresund Tech", approval_limit="")
    )
    assert response.status_code == 302
    created = company("oresund-tech")
    assert [r.email for r in created.reps] == [ANNA]
    assert created.approval_limit is None
    listed = as_user(ANNA).get("/office/customers").get_data(as_text=True)
    assert "Øresund Tech" in listed
    assert "Øresund Tech" not in as_user(MARCO).get("/office/customers").get_data(as_text=True)


def test_slugs_are_unique_and_never_change(ctx):
    assert customers.slug_for("Acme Robotics") == "acme-robotics"
    assert customers.slug_for("Acme", taken={"acme"}) == "acme-2"
    assert customers.slug_for("Acme", taken={"acme", "acme-2"}) == "acme-3"
    assert customers.slug_for("!!!") == "company"
    assert customers.slug_for("Müller & Söhne GmbH") == "muller-sohne-gmbh"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Give the company a name."),
        ({"name": "ACME ROBOTICS"}, "name", "There is already a customer named"),
        ({"name": "x" * 161}, "name", "at most 160 characters"),
        ({"group_id": ""}, "group_id", "Choose the company's customer group."),
        ({"group_id": "999999"}, "group_id", "Choose one of the listed groups."),
        ({"group_id": "abc"}, "group_id", "Choose one of the listed groups."),
        ({"email": "not-an-address"}, "email", "That email address is not valid"),
        ({"phone": "call me maybe"}, "phone", "A phone number has digits"),
        ({"vat_number": "DE 12#4"}, "vat_number", "A VAT ID of this country starts with SE."),
        ({"vat_number": "SE556677880701"}, "vat_number", "is not a valid VAT ID"),
        ({"country": "US"}, "vat_number", "checked for EU countries only"),
        ({"country": ""}, "country", "Choose the company's country"),
        ({"country": "XX"}, "country", "Choose one of the listed countries."),
        ({"postcode": "1" * 17}, "postcode", "at most 16 characters"),
        ({"city": "c" * 101}, "city", "at most 100 characters"),
        ({"payment_terms_days": ""}, "payment_terms_days", "Enter the payment terms"),
        ({"payment_terms_days": "-1"}, "payment_terms_days", "from 0 to 365"),
        ({"payment_terms_days": "400"}, "payment_terms_days", "from 0 to 365"),
        ({"payment_terms_days": "thirty"}, "payment_terms_days", "such as 30"),
        ({"approval_limit": "-5"}, "approval_limit", "An approval limit is an amount from 0."),
        ({"approval_limit": "12.345"}, "approval_limit", "at most two decimals"),
        ({"approval_limit": "lots"}, "approval_limit", "Enter the limit as an amount"),
    ],
)
def test_bad_company_details_are_explained_and_change_nothing(
    as_user, ctx, changes, field, message
):
    before = snapshot()
    response = as_user(ADMIN).send("POST", "/office/customers/new", data=form_data(**changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in find(html, class_="field field--error").text
    assert f'name="{field}"' in find(html, class_="field field--error").inner_html
    if "name" not in changes:
        assert 'value="Nordic Rotors AB"' in html  # what was typed is kept
    assert snapshot() == before


# Editing ----------------------------------------------------------------------------------


def test_editing_saves_only_what_changed_and_audits_it(as_user, ctx):
    acme = company_id("acme")
    anna = as_user(ANNA)
    form = anna.get(f"/office/customers/{acme}/edit").get_data(as_text=True)
    assert 'value="Acme Robotics"' in form
    response = anna.send(
        "POST",
        f"/office/customers/{acme}/edit",
        data=edit_data("acme", payment_terms_days="60", phone="+49 40 1234"),
    )
    assert response.status_code == 302
    after = company("acme")
    assert (after.payment_terms_days, after.phone) == (60, "+49 40 1234")
    entry = audit("customer.changed")[-1]
    assert entry.actor_email == ANNA
    assert entry.before == {"payment_terms_days": 30, "phone": ""}
    assert entry.after == {"payment_terms_days": 60, "phone": "+49 40 1234"}
    anna.get(f"/office/customers/{acme}")  # shows (and so clears) the first message
    again = anna.send("POST", f"/office/customers/{acme}/edit", data=edit_data("acme"))
    assert again.status_code == 302
    assert len(audit("customer.changed")) == 1  # nothing changed, nothing written
    page = anna.get(f"/office/customers/{acme}").get_data(as_text=True)
    assert "Nothing to change." in page


def test_renaming_to_another_companys_name_is_refused(as_user, ctx):
    acme = company_id("acme")
    before = snapshot()
    response = as_user(ADMIN).send(
        "POST", f"/office/customers/{acme}/edit", data=edit_data("acme", name="baltic drones")
    )
    assert response.status_code == 422
    assert "There is already a customer named" in response.get_data(as_text=True)
    assert snapshot() == before


def test_out_of_scope_companies_cannot_be_edited(as_user, ctx):
    acme = company_id("acme")
    before = snapshot()
    marco = as_user(MARCO)
    assert marco.get(f"/office/customers/{acme}/edit").status_code == 404
    data = edit_data("acme", name="Hijacked")
    assert marco.send("POST", f"/office/customers/{acme}/edit", data=data).status_code == 404
    assert as_user(MARCO).get("/office/customers/999999/edit").status_code == 404
    assert snapshot() == before


def test_moving_a_company_changes_what_its_people_are_offered(as_user, ctx):
    baltic = company_id("baltic")
    shop = as_user("orders@baltic.test")
    before = shop.get("/shop/?q=MCU-STM32F401").get_data(as_text=True)
    assert "€5.70" in before and "Many" in before
    admin = as_user(ADMIN)
    response = admin.send(
        "POST",
        f"/office/customers/{baltic}/edit",
        data=edit_data("baltic", group_id=str(group_id("Wholesale"))),
    )
    assert response.status_code == 302
    page = admin.get(f"/office/customers/{baltic}").get_data(as_text=True)
    assert "moved from Partner to Wholesale" in page
    entry = audit("customer.changed")[-1]
    assert (entry.before, entry.after) == ({"group": "Partner"}, {"group": "Wholesale"})
    after = shop.get("/shop/?q=MCU-STM32F401").get_data(as_text=True)
    assert "€4.68" in after and "4,217 in stock" in after


def test_a_company_moved_to_another_group_sees_it_live(connect, ctx):
    mcu = db.session.scalar(select(Product.id).where(Product.sku == "MCU-STM32F401"))
    cap = db.session.scalar(select(Product.id).where(Product.sku == "CAP-1206-10U"))
    baltic = connect("orders@baltic.test")
    watch(baltic, {f"offer-{mcu}", f"offer-{cap}", "nav", "catalog-results"})
    delft = connect("orders@delft.test")  # also Partner, not moved
    watch(delft, {f"offer-{mcu}"})
    time.sleep(0.3)
    moved = company("baltic")
    customers.edit(
        moved,
        customers.CompanyDetails(
            name=moved.name,
            group_id=group_id("Wholesale"),
            email=moved.email,
            vat_number=moved.vat_number,
            address=moved.address,
            payment_terms_days=moved.payment_terms_days,
            approval_limit=moved.approval_limit,
            manages_own_users=moved.manages_own_users,
            postcode=moved.postcode,
            city=moved.city,
            country=moved.country,
        ),
        actor=person(ADMIN),
    )
    db.session.commit()
    pushed = "".join(drain(baltic, 2.0))
    assert f'id="offer-{mcu}"' in pushed and "€4.68" in pushed and "4,217 in stock" in pushed
    assert f'id="offer-{cap}"' in pushed and "€0.12" in pushed and "36 in stock" in pushed
    assert 'data-refresh="catalog-results"' in pushed  # the list re-fetches with the new group
    assert drain(delft, 0.5) == []


# Deactivating, reactivating, deleting -------------------------------------------------------


def test_deactivating_blocks_its_people_and_reactivating_lets_them_back(as_user, ctx):
    delft = company_id("delft")
    people.block(person("browse@delft.test"), actor=person(ADMIN))  # blocked on their own
    db.session.commit()
    response = as_user(MANAGER).send("POST", f"/office/customers/{delft}/deactivate")
    assert response.status_code == 302
    assert not company("delft").is_active
    statuses = {p.email: p.status for p in company("delft").people}
    assert set(statuses.values()) == {"blocked"}
    live = db.session.scalar(
        select(func.count(LoginSession.id))
        .join(User, User.id == LoginSession.user_id)
        .where(User.company_id == delft, LoginSession.revoked_at.is_(None))
    )
    assert live == 0
    assert as_user("orders@delft.test").get("/shop/").status_code == 302  # to sign-in
    entry = audit("customer.deactivated")[-1]
    assert sorted(entry.after["blocked"]) == sorted(
        [person("orders@delft.test").id, person("request@delft.test").id]
    )
    listing = as_user(MANAGER).get("/office/customers?status=inactive").get_data(as_text=True)
    assert "Delft Devices" in listing and "Acme Robotics" not in listing
    # While inactive, nobody of it gets access back one by one.
    refused = as_user(MANAGER).send(
        "POST",
        f"/office/customers/{delft}/people/{person('orders@delft.test').id}/unblock",
        htmx=True,
    )
    assert refused.status_code == 422 and "reactivate the company" in refused.get_data(True)
    assert person("orders@delft.test").status == "blocked"
    response = as_user(MANAGER).send("POST", f"/office/customers/{delft}/reactivate")
    assert response.status_code == 302
    assert company("delft").is_active
    assert person("orders@delft.test").status == "active"
    assert person("request@delft.test").status == "active"
    assert person("browse@delft.test").status == "blocked"  # stays as it was before


def test_deactivating_signs_open_pages_out(connect, ctx):
    ws = connect("request@carpathia.test")
    watch(ws, {"nav"})
    time.sleep(0.2)
    customers.deactivate(company("carpathia"), actor=person(ADMIN))
    db.session.commit()
    messages = drain(ws, 2.0)
    assert any("signed out" in m for m in messages)
    assert ws.close_reason == 1008


def test_deactivating_twice_or_reactivating_an_active_company_is_refused(as_user, ctx):
    acme = company_id("acme")
    before = snapshot()
    admin = as_user(ADMIN)
    response = admin.send("POST", f"/office/customers/{acme}/reactivate")
    assert response.status_code == 302
    page = admin.get(f"/office/customers/{acme}").get_data(as_text=True)
    assert "Acme Robotics is already active." in page
    assert snapshot() == before


def test_a_company_with_a_history_is_not_deleted(as_user, ctx):
    acme = company_id("acme")
    before = snapshot()
    admin = as_user(ADMIN)
    response = admin.send("POST", f"/office/customers/{acme}/delete", htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/office/customers/{acme}"
    page = admin.get(f"/office/customers/{acme}").get_data(as_text=True)
    assert "cannot be deleted" in page and "Deactivate it instead" in page
    assert "orders" in page and "invoices" in page
    assert snapshot() == before
    lifecycle = find(page, id="customer-lifecycle")
    assert "Deactivate" in lifecycle.text and "/delete" not in lifecycle.inner_html


def test_a_company_that_never_traded_is_deleted_with_its_people(as_user, ctx):
    admin = as_user(ADMIN)
    admin.send("POST", "/office/customers/new", data=form_data())
    created = company("nordic-rotors-ab")
    admin.send(
        "POST",
        f"/office/customers/{created.id}/people/invite",
        data={
            "name": "Nils Buyer",
            "email": "nils@nordic-rotors.test",
            "roles": [db.session.scalar(text("SELECT id FROM roles WHERE preset='requester'"))],
        },
    )
    assert person("nils@nordic-rotors.test") is not None
    page = admin.get(f"/office/customers/{created.id}").get_data(as_text=True)
    assert "never traded" in find(page, id="customer-lifecycle").text
    response = admin.send("POST", f"/office/customers/{created.id}/delete")
    assert response.status_code == 302 and response.headers["Location"] == "/office/customers"
    assert company("nordic-rotors-ab") is None
    assert person("nils@nordic-rotors.test") is None
    entry = audit("customer.deleted")[-1]
    assert entry.before["people"] == ["nils@nordic-rotors.test"]


def test_a_sales_rep_may_edit_but_not_deactivate_or_delete(as_user, ctx):
    acme = company_id("acme")
    page = as_user(ANNA).get(f"/office/customers/{acme}").get_data(as_text=True)
    assert f"/office/customers/{acme}/edit" in page
    assert 'id="customer-lifecycle"' not in page
    before = snapshot()
    for action in ("deactivate", "delete"):
        assert as_user(ANNA).send("POST", f"/office/customers/{acme}/{action}").status_code == 403
    assert snapshot() == before
