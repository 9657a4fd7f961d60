"""The policy of acting for a customer (core.access): who may open the storefront as whom,
in which mode, and what of the person's rights it lends, on tables of cases."""

import pytest

from core import access
from core.models import Company, CustomerGroup, Role, RolePermission, User
from tests.unit.test_access import person


def staff_with(*permissions: str) -> User:
    role = Role(name="R", scope="staff")
    role.grants = [RolePermission(permission=p) for p in permissions]
    return User(email="s@x.test", name="S", kind="staff", status="active", roles=[role])


SALES = ("customers.view", "customers.act", "customers.all", "orders.view", "quotes.view")


def customer(preset: str, **options) -> User:
    found = person(preset, **options)
    found.company.is_active = True
    return found


def test_every_storefront_permission_says_what_reading_it_takes():
    assert set(access.ASSUMED_READS) == access.CUSTOMER_PERMISSIONS
    for needed in access.ASSUMED_READS.values():
        assert needed is None or needed in access.STAFF_PERMISSIONS
    assert {"shop.prices", "shop.cart", "shop.order", "shop.quote"} == access.ACTING_PERMISSIONS
    assert {"shop.cart", "shop.order", "shop.quote"} == access.ACTING_WITH


@pytest.mark.parametrize(
    ("preset", "granted"),
    [("admin", True), ("manager", True), ("sales", True), ("warehouse", False),
     ("finance", False), ("readonly", False), ("decision_maker", False)],
)  # fmt: skip
def test_the_presets_that_act_for_customers(preset, granted):
    assert access.can(person(preset), "customers.act") is granted


# (staff permissions, person's preset, mode) -> what is lent
LENT = [
    # Prices come with the person's buying: acting shows what they are shown.
    (SALES, "decision_maker", "act", {"shop.prices", "shop.cart", "shop.order", "shop.quote"}),
    (SALES, "requester", "act", {"shop.prices", "shop.cart", "shop.quote"}),
    (SALES, "browse_only", "act", {"shop.prices"}),  # nothing to act with (may_assume)
    (SALES, "collaborator", "act", {"shop.quote"}),  # no prices: none shown when acting
    # Viewing lends what the person has, as far as the staff member may read it.
    (
        (*SALES, "invoices.view", "webhooks.manage"),
        "decision_maker",
        "view",
        access.CUSTOMER_PERMISSIONS,
    ),
    (
        SALES,
        "decision_maker",
        "view",
        access.CUSTOMER_PERMISSIONS - {"shop.invoices", "shop.webhooks"},
    ),
    (
        ("customers.view", "customers.act", "customers.all"),
        "decision_maker",
        "view",
        {"shop.users", "shop.addresses", "shop.lists", "shop.prices"},
    ),
    (SALES, "requester", "view", {"shop.prices", "shop.cart", "shop.quote", "shop.lists"}),
    (SALES, "collaborator", "view", {"shop.quote"}),
    (SALES, "decision_maker", "dance", set()),
]


@pytest.mark.parametrize(("staff_permissions", "preset", "mode", "lent"), LENT)
def test_what_acting_and_viewing_lend(staff_permissions, preset, mode, lent):
    staff = staff_with(*staff_permissions)
    assert access.assumed_permissions(staff, customer(preset), mode) == lent


def test_a_group_without_quotes_lends_none():
    staff = staff_with(*SALES)
    someone = customer("decision_maker", quotes_allowed=False)
    assert "shop.quote" not in access.assumed_permissions(staff, someone, "act")


@pytest.mark.parametrize(
    ("staff_permissions", "preset", "status", "active_company", "mode", "allowed"),
    [
        (SALES, "decision_maker", "active", True, "act", True),
        (SALES, "requester", "active", True, "act", True),
        (SALES, "browse_only", "active", True, "act", False),  # nothing to act with
        (SALES, "browse_only", "active", True, "view", True),
        (SALES, "decision_maker", "blocked", True, "view", False),
        (SALES, "decision_maker", "invited", True, "act", False),
        (SALES, "decision_maker", "active", False, "view", False),  # company deactivated
        (("customers.view", "customers.all"), "decision_maker", "active", True, "view", False),
        (("customers.act", "customers.all"), "decision_maker", "active", True, "view", False),
    ],
)
def test_who_may_be_assumed(ctx, staff_permissions, preset, status, active_company, mode, allowed):
    staff = staff_with(*staff_permissions)
    someone = customer(preset, status=status)
    someone.company.is_active = active_company
    # In scope: customers.all; a real company row is looked up by id.
    from tests.records import company

    real = company("acme")
    someone.company_id = real.id
    assert access.may_assume(staff, someone, mode) is allowed


def test_staff_and_nobody_cannot_be_assumed(ctx):
    staff = staff_with(*SALES)
    assert not access.may_assume(staff, staff_with(*SALES), "view")
    assert not access.may_assume(staff, None, "view")
    assert not access.may_assume(None, customer("decision_maker"), "view")
    assert not access.may_assume(customer("decision_maker"), customer("requester"), "view")


def test_an_assumed_person_answers_with_what_is_lent_and_says_how():
    staff = staff_with(*SALES)
    someone = customer("decision_maker")
    assert access.assumption(someone) is None and access.acting_staff(someone) is None
    access.assume(someone, staff, "act")
    assert access.can(someone, "shop.order") and not access.can(someone, "shop.approve")
    assert access.acting_staff(someone) is staff and not access.is_read_only(someone)
    viewed = access.assume(customer("decision_maker"), staff, "view")
    assert access.is_read_only(viewed) and access.acting_staff(viewed) is None
    assert access.can(viewed, "shop.approve")  # reading approvals: the rep may see orders


def test_nobody_answers_a_quote_in_the_customers_name():
    from core.models import Quote

    staff = staff_with(*SALES)
    someone = customer("decision_maker")
    quote = Quote(company=someone.company)
    quote.company_id = someone.company_id = 7
    assert access.may_act_on_quote(someone, quote, "customer")
    access.assume(someone, staff, "act")
    assert not access.may_act_on_quote(someone, quote, "customer")


def test_a_person_object_is_only_ever_assumed_by_hand():
    group = CustomerGroup(name="G", quotes_allowed=True)
    plain = User(kind="customer", status="active", company=Company(name="C", group=group))
    assert access.assumption(plain) is None and access.assumption(None) is None
