"""The policy: permission catalogue, presets and can(), on tables of cases."""

import pytest

from core import access
from core.models import Company, CustomerGroup, Role, RolePermission, User


def person(preset_key: str, *, status="active", quotes_allowed=True, manages_own_users=True):
    preset = access.PRESETS_BY_KEY[preset_key]
    role = Role(name=preset.name, scope=preset.scope, preset=preset.key)
    role.grants = [RolePermission(permission=p) for p in preset.permissions]
    if preset.scope == "staff":
        return User(
            email=f"{preset_key}@x.test", name="X", kind="staff", status=status, roles=[role]
        )
    group = CustomerGroup(name="G", quotes_allowed=quotes_allowed)
    company = Company(name="C", slug="c", group=group, manages_own_users=manages_own_users)
    return User(
        email=f"{preset_key}@c.test",
        name="X",
        kind="customer",
        status=status,
        company=company,
        roles=[role],
    )


def test_catalogue_covers_every_module_with_view_and_edit():
    for module in (
        "products",
        "stock",
        "orders",
        "quotes",
        "customers",
        "groups",
        "promotions",
        "invoices",
        "roles",
        "settings",
    ):
        assert f"{module}.view" in access.PERMISSIONS
        assert f"{module}.edit" in access.PERMISSIONS
    for extra in (
        "products.delete",
        "finance.costs",
        "customers.all",
        "users.manage",
        "portal.grant",
        "audit.view",
        "reports.view",
        "shop.order",
        "shop.quote",
        "shop.approve",
        "shop.invoices",
        "shop.users",
        "shop.cart",
    ):
        assert extra in access.PERMISSIONS


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(KeyError):
        access.can(person("admin"), "products.teleport")


# preset, permission, expected
MATRIX = [
    ("admin", "users.manage", True),
    ("admin", "finance.costs", True),
    ("admin", "audit.view", True),
    ("admin", "shop.order", False),
    ("manager", "finance.costs", True),
    ("manager", "customers.all", True),
    ("manager", "users.manage", False),
    ("manager", "roles.edit", False),
    ("sales", "customers.view", True),
    ("sales", "customers.all", False),
    ("sales", "finance.costs", False),
    ("sales", "quotes.edit", True),
    ("warehouse", "stock.edit", True),
    ("warehouse", "finance.costs", False),
    ("warehouse", "invoices.view", False),
    ("warehouse", "orders.edit", True),
    ("finance", "finance.costs", True),
    ("finance", "invoices.edit", True),
    ("finance", "orders.edit", False),
    ("finance", "orders.view", True),
    ("readonly", "products.view", True),
    ("readonly", "products.edit", False),
    ("readonly", "finance.costs", False),
    ("readonly", "orders.edit", False),
    ("decision_maker", "shop.order", True),
    ("decision_maker", "shop.approve", True),
    ("decision_maker", "shop.invoices", True),
    ("decision_maker", "products.view", False),
    ("requester", "shop.cart", True),
    ("requester", "shop.quote", True),
    ("requester", "shop.order", False),
    ("requester", "shop.approve", False),
    ("browse_only", "shop.cart", False),
    ("browse_only", "shop.order", False),
    ("browse_only", "shop.quote", False),
    ("browse_only", "shop.invoices", False),
]


@pytest.mark.parametrize(("preset", "permission", "expected"), MATRIX)
def test_presets(preset, permission, expected):
    assert access.can(person(preset), permission) is expected


def test_readonly_changes_nothing():
    granted = access.PRESETS_BY_KEY["readonly"].permissions
    assert all(p.endswith((".view", ".all")) for p in granted)


@pytest.mark.parametrize("status", ["blocked", "invited"])
def test_inactive_people_may_do_nothing(status):
    assert not access.can(person("admin", status=status), "products.view")
    assert not access.can(person("decision_maker", status=status), "shop.order")


def test_nobody_signed_in_may_do_nothing():
    assert not access.can(None, "products.view")


def test_group_without_quotes_removes_the_quote_permission():
    assert not access.can(person("decision_maker", quotes_allowed=False), "shop.quote")
    assert access.can(person("decision_maker", quotes_allowed=True), "shop.quote")


def test_seller_decides_whether_a_company_manages_its_people():
    assert not access.can(person("decision_maker", manages_own_users=False), "shop.users")


def test_staff_role_permissions_never_leak_into_the_storefront():
    staff = person("admin")
    role = staff.roles[0]
    role.grants.append(RolePermission(permission="shop.order"))
    staff.__dict__.pop("_permissions", None)
    assert not access.can(staff, "shop.order")


def test_nav_shows_only_permitted_modules():
    keys = [m.key for m in access.nav_modules(person("warehouse"))]
    assert "products" in keys and "stock" in keys and "orders" in keys
    assert "invoices" not in keys and "users" not in keys and "finance" not in keys
