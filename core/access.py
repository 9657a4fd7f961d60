"""THE access policy: the permission catalogue, role presets, can() and record scoping.

Every "may this person do or see this" in the portal is answered here. Views,
templates, reports, exports and live pushes ask this module; none of them
checks a role by name. Anything not granted is denied.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, false, select

from extensions import db

from .models import Company, User, company_reps


@dataclass(frozen=True)
class Module:
    """A back-office or storefront area with the actions a role may grant on it."""

    key: str
    label: str
    actions: tuple[tuple[str, str], ...]  # (action, what it allows)
    scope: str = "staff"

    @property
    def permissions(self) -> tuple[str, ...]:
        return tuple(f"{self.key}.{action}" for action, _ in self.actions)


MODULES: tuple[Module, ...] = (
    Module(
        "products",
        "Products",
        (
            ("view", "see the catalogue"),
            ("edit", "create and change products"),
            ("delete", "delete or archive products"),
        ),
    ),
    Module("stock", "Stock", (("view", "see exact stock and movements"), ("edit", "adjust stock"))),
    Module("orders", "Orders", (("view", "see orders"), ("edit", "move and cancel orders"))),
    Module("quotes", "Quotes", (("view", "see quotes"), ("edit", "answer and negotiate quotes"))),
    Module(
        "customers",
        "Customers",
        (
            ("view", "see customer companies and their people"),
            ("edit", "create and change customer companies"),
            ("delete", "remove customer companies"),
            ("all", "every customer, not only assigned ones"),
        ),
    ),
    Module(
        "groups",
        "Groups & prices",
        (
            ("view", "see customer groups and group prices"),
            ("edit", "change groups and group prices"),
        ),
    ),
    Module(
        "promotions",
        "Promotions",
        (
            ("view", "see promotions"),
            ("edit", "create and change promotions"),
            ("delete", "remove promotions"),
        ),
    ),
    Module(
        "invoices",
        "Invoices & payments",
        (
            ("view", "see invoices and payments"),
            ("edit", "issue invoices and record payments"),
        ),
    ),
    Module("reports", "Financial reports", (("view", "see sales and receivables reports"),)),
    Module("finance", "Costs & margins", (("costs", "see costs and margins everywhere"),)),
    Module(
        "users", "Staff users", (("view", "see staff users"), ("manage", "invite, block, assign"))
    ),
    Module("roles", "Roles", (("view", "see roles"), ("edit", "create, change and delete roles"))),
    Module("portal", "Portal access", (("grant", "give customer people access"),)),
    Module("settings", "Settings", (("view", "see settings"), ("edit", "change settings"))),
    Module("audit", "Audit log", (("view", "read the audit log"),)),
    Module(
        "shop",
        "Storefront",
        (
            ("cart", "build carts"),
            ("order", "check out and order"),
            ("quote", "request quotations and negotiate"),
            ("approve", "approve colleagues' carts and accept quotes"),
            ("invoices", "see invoices and the balance"),
            ("users", "manage their own company's people"),
        ),
        scope="customer",
    ),
)

PERMISSIONS: frozenset[str] = frozenset(p for m in MODULES for p in m.permissions)
STAFF_PERMISSIONS: frozenset[str] = frozenset(
    p for m in MODULES if m.scope == "staff" for p in m.permissions
)
CUSTOMER_PERMISSIONS: frozenset[str] = frozenset(
    p for m in MODULES if m.scope == "customer" for p in m.permissions
)


def _perms(*codes: str) -> frozenset[str]:
    unknown = set(codes) - PERMISSIONS
    if unknown:
        raise KeyError(f"unknown permissions in preset: {sorted(unknown)}")
    return frozenset(codes)


_VIEW_ALL_TRADE = (
    "products.view",
    "stock.view",
    "orders.view",
    "quotes.view",
    "customers.view",
    "customers.all",
    "groups.view",
    "promotions.view",
    "invoices.view",
    "reports.view",
)


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    scope: str
    description: str
    permissions: frozenset[str]


PRESETS: tuple[Preset, ...] = (
    Preset(
        "admin",
        "Admin",
        "staff",
        "Everything, including staff users, roles, settings and audit",
        STAFF_PERMISSIONS,
    ),
    Preset(
        "manager",
        "Store manager",
        "staff",
        "All modules and all customers, costs and margins, reports; no user administration",
        STAFF_PERMISSIONS
        - _perms(
            "users.view", "users.manage", "roles.view", "roles.edit", "settings.edit", "audit.view"
        ),
    ),
    Preset(
        "sales",
        "Sales staff",
        "staff",
        "Assigned customers with their orders, quotes and invoices; no costs",
        _perms(
            "products.view",
            "stock.view",
            "orders.view",
            "orders.edit",
            "quotes.view",
            "quotes.edit",
            "customers.view",
            "customers.edit",
            "groups.view",
            "promotions.view",
            "invoices.view",
            "reports.view",
            "portal.grant",
        ),
    ),
    Preset(
        "warehouse",
        "Warehouse",
        "staff",
        "Products and stock, orders to fulfil; no costs, no finance",
        _perms(
            "products.view",
            "products.edit",
            "stock.view",
            "stock.edit",
            "orders.view",
            "orders.edit",
            "customers.all",
        ),
    ),
    Preset(
        "finance",
        "Finance",
        "staff",
        "Invoices, payments, reports, costs and margins; orders read-only",
        _perms(
            "products.view",
            "orders.view",
            "customers.view",
            "customers.all",
            "invoices.view",
            "invoices.edit",
            "reports.view",
            "finance.costs",
        ),
    ),
    Preset(
        "readonly",
        "Read-only",
        "staff",
        "Sees the trade modules, changes nothing",
        _perms(*_VIEW_ALL_TRADE),
    ),
    Preset(
        "decision_maker",
        "Decision-maker",
        "customer",
        "Orders, approves colleagues' carts, accepts quotes, sees invoices, manages people",
        CUSTOMER_PERMISSIONS,
    ),
    Preset(
        "requester",
        "Requester",
        "customer",
        "Builds carts and requests quotes for a decision-maker to approve",
        _perms("shop.cart", "shop.quote"),
    ),
    Preset(
        "browse_only", "Browse-only", "customer", "Browses the offer, nothing else", frozenset()
    ),
)
PRESETS_BY_KEY = {p.key: p for p in PRESETS}


def permissions_of(user: User | None) -> frozenset[str]:
    """The union of the permissions of the user's roles, or nothing for an inactive person.

    Memoised on the user object for the life of the request that loaded it.
    """
    if user is None or not getattr(user, "is_authenticated", False) or user.status != "active":
        return frozenset()
    cached = user.__dict__.get("_permissions")
    if cached is None:
        allowed = STAFF_PERMISSIONS if user.is_staff else CUSTOMER_PERMISSIONS
        cached = frozenset(p for role in user.roles for p in role.permissions if p in allowed)
        user.__dict__["_permissions"] = cached
    return cached


def can(user: User | None, permission: str) -> bool:
    """May this person use this permission now? Unknown permissions are a programming error."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if permission not in permissions_of(user):
        return False
    # The seller's commercial policy narrows what a customer role grants.
    if permission == "shop.quote" and not user.company.group.quotes_allowed:
        return False
    return not (permission == "shop.users" and not user.company.manages_own_users)


def can_any(user: User | None, permissions: Iterable[str]) -> bool:
    return any(can(user, p) for p in permissions)


def sees_all_customers(user: User | None) -> bool:
    return can(user, "customers.all")


def company_scope(user: User | None, stmt: Select, company_column) -> Select:
    """Narrow a query to the companies this person may see; rows of others simply vanish.

    Staff with `customers.all` see every company, other staff only those assigned
    to them, a customer person only their own company, anyone else nothing.
    """
    if user is None or not getattr(user, "is_authenticated", False) or user.status != "active":
        return stmt.where(false())
    if user.is_customer:
        return stmt.where(company_column == user.company_id)
    if sees_all_customers(user):
        return stmt
    assigned = select(company_reps.c.company_id).where(company_reps.c.user_id == user.id)
    return stmt.where(company_column.in_(assigned))


def visible_companies(user: User | None) -> Select:
    """Companies this person may see, as a query to refine."""
    return company_scope(user, select(Company), Company.id)


def load_company(user: User | None, company_id: int) -> Company | None:
    """One company if this person may see it, else None (the caller answers 404)."""
    stmt = company_scope(user, select(Company).where(Company.id == company_id), Company.id)
    return db.session.scalars(stmt).first()


def can_manage_person(actor: User | None, person: User) -> bool:
    """May `actor` invite, block, unblock or change the roles of `person`?

    Staff people are managed with `users.manage`; customer people by staff with
    `portal.grant` over that company, or by their own company's people with
    `shop.users`. Nobody manages another company's people.
    """
    if actor is None or person is None:
        return False
    if person.is_staff:
        return actor.is_staff and can(actor, "users.manage")
    if actor.is_customer:
        return can(actor, "shop.users") and actor.company_id == person.company_id
    return can(actor, "portal.grant") and load_company(actor, person.company_id) is not None


def may_grant_role(actor: User | None, role, person_kind: str) -> bool:
    """A role may be given only to its kind of person, and never above the giver's rights.

    Staff giving customer roles (`portal.grant`) may give any customer role; everyone
    else may give only roles whose permissions they hold themselves.
    """
    if actor is None or role.scope != person_kind:
        return False
    if actor.is_staff and person_kind == "customer":
        return can(actor, "portal.grant")
    return role.permissions <= permissions_of(actor)


def nav_modules(user: User | None) -> list[Module]:
    """The back-office modules this person may open (their `.view`, or only action)."""
    shown = []
    for module in MODULES:
        if module.scope != "staff":
            continue
        entry = (
            f"{module.key}.view" if f"{module.key}.view" in PERMISSIONS else module.permissions[0]
        )
        if can(user, entry):
            shown.append(module)
    return shown
