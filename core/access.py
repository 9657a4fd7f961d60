"""THE access policy: the permission catalogue, role presets, can() and record scoping.

Every "may this person do or see this" in the portal is answered here. Views,
templates, reports, exports and live pushes ask this module; none of them
checks a role by name. Anything not granted is denied.
"""

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Select, and_, false, or_, select

from extensions import db

from . import visibility
from .i18n import N_, _
from .models import Company, RolePermission, User, company_reps, user_roles


@dataclass(frozen=True)
class Module:
    """A back-office or storefront area with the actions a role may grant on it."""

    key: str
    label: str
    actions: tuple[tuple[str, str], ...]  # (action, what it allows)
    scope: str = "staff"

    @property
    def permissions(self) -> tuple[str, ...]:
        return tuple(f"{self.key}.{action}" for action, __ in self.actions)


MODULES: tuple[Module, ...] = (
    Module(
        "products",
        _("Products"),
        (
            ("view", _("see the catalogue")),
            ("edit", _("create and change products")),
            ("delete", _("delete or archive products")),
        ),
    ),
    Module(
        "stock",
        _("Stock"),
        (("view", _("see exact stock and movements")), ("edit", _("adjust stock"))),
    ),
    Module(
        "orders", _("Orders"), (("view", _("see orders")), ("edit", _("move and cancel orders")))
    ),
    Module(
        "shipping",
        _("Shipping"),
        (
            ("view", _("see shipments, carriers and shipping methods")),
            ("edit", _("ship orders, keep carriers and shipping methods")),
        ),
    ),
    Module(
        "quotes",
        _("Quotes"),
        (("view", _("see quotes")), ("edit", _("answer and negotiate quotes"))),
    ),
    Module(
        "customers",
        _("Customers"),
        (
            ("view", _("see customer companies and their people")),
            ("edit", _("create and change customer companies")),
            ("delete", _("remove customer companies")),
            ("all", _("every customer, not only assigned ones")),
            ("act", _("act for customer people and view the storefront as they see it")),
        ),
    ),
    Module(
        "groups",
        _("Groups & prices"),
        (
            ("view", _("see customer groups and group prices")),
            ("edit", _("change groups and group prices")),
        ),
    ),
    Module(
        "promotions",
        _("Promotions"),
        (
            ("view", _("see promotions")),
            ("edit", _("create and change promotions")),
            ("delete", _("remove promotions")),
        ),
    ),
    Module(
        "invoices",
        _("Invoices & payments"),
        (
            ("view", _("see invoices and payments")),
            ("edit", _("issue invoices and record payments")),
        ),
    ),
    Module("reports", _("Financial reports"), (("view", _("see sales and receivables reports")),)),
    Module("finance", _("Costs & margins"), (("costs", _("see costs and margins everywhere")),)),
    Module(
        "users",
        _("Staff users"),
        (("view", _("see staff users")), ("manage", _("invite, block, assign"))),
    ),
    Module(
        "roles",
        _("Roles"),
        (("view", _("see roles")), ("edit", _("create, change and delete roles"))),
    ),
    Module("portal", _("Portal access"), (("grant", _("give customer people access")),)),
    Module(
        "settings", _("Settings"), (("view", _("see settings")), ("edit", _("change settings")))
    ),
    Module("audit", _("Audit log"), (("view", _("read the audit log")),)),
    Module(
        "webhooks",
        _("Webhooks"),
        (("manage", _("send events to their own systems' HTTPS endpoints")),),
    ),
    Module(
        "tasks",
        _("Tasks"),
        (
            ("view", _("see follow-up tasks of the customers in their scope")),
            ("edit", _("create, assign, complete and remove tasks")),
        ),
    ),
    Module(
        "shop",
        _("Storefront"),
        (
            # carts, orders, approvals and invoices need it too (PRICED, below)
            ("prices", _("see prices and promotions")),
            ("cart", _("build carts")),
            ("order", _("check out and order")),
            ("quote", _("request quotations and negotiate")),
            ("approve", _("approve colleagues' carts and accept quotes")),
            ("invoices", _("see invoices and the balance")),
            ("users", _("manage their own company's people")),
            ("addresses", _("keep their company's delivery addresses")),
            ("lists", _("create and change their company's shared lists")),
            ("webhooks", _("send their company's events to its systems' HTTPS endpoints")),
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
    "shipping.view",
    "quotes.view",
    "customers.view",
    "customers.all",
    "groups.view",
    "promotions.view",
    "invoices.view",
    "reports.view",
)


# What a Partner (a contract manufacturer, say) reads by default: the admin narrows or
# widens it on the roles page. Never `customers.all` (assigned customers only), never costs.
PARTNER_VIEWS = (
    "products.view",
    "stock.view",
    "orders.view",
    "shipping.view",
    "quotes.view",
    "customers.view",
)


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    scope: str
    description: str
    permissions: frozenset[str]
    two_factor: bool = False  # its holders must sign in with a second factor


PRESETS: tuple[Preset, ...] = (
    Preset(
        "admin",
        "Admin",
        "staff",
        N_("Everything, including staff users, roles, settings and audit"),
        STAFF_PERMISSIONS,
        two_factor=True,
    ),
    Preset(
        "manager",
        "Store manager",
        "staff",
        N_("All modules and all customers, costs and margins, reports; no user administration"),
        STAFF_PERMISSIONS
        - _perms(
            "users.view", "users.manage", "roles.view", "roles.edit", "settings.edit", "audit.view"
        ),
    ),
    Preset(
        "sales",
        "Sales staff",
        "staff",
        N_("Assigned customers with their orders, quotes and invoices; no costs"),
        _perms(
            "products.view",
            "stock.view",
            "orders.view",
            "orders.edit",
            "shipping.view",
            "quotes.view",
            "quotes.edit",
            "customers.view",
            "customers.edit",
            "customers.act",
            "groups.view",
            "promotions.view",
            "invoices.view",
            "reports.view",
            "portal.grant",
            "tasks.view",
            "tasks.edit",
        ),
    ),
    Preset(
        "warehouse",
        "Warehouse",
        "staff",
        N_("Products and stock, orders to fulfil; no costs, no finance"),
        _perms(
            "products.view",
            "products.edit",
            "stock.view",
            "stock.edit",
            "orders.view",
            "orders.edit",
            "shipping.view",
            "shipping.edit",
            "customers.all",
            "tasks.view",
            "tasks.edit",
        ),
    ),
    Preset(
        "finance",
        "Finance",
        "staff",
        N_("Invoices, payments, reports, costs and margins; orders read-only"),
        _perms(
            "products.view",
            "orders.view",
            "shipping.view",
            "customers.view",
            "customers.all",
            "invoices.view",
            "invoices.edit",
            "reports.view",
            "finance.costs",
            "tasks.view",
            "tasks.edit",
        ),
    ),
    Preset(
        "readonly",
        "Read-only",
        "staff",
        N_("Sees the trade modules, changes nothing"),
        _perms(*_VIEW_ALL_TRADE, "tasks.view"),
    ),
    Preset(
        "decision_maker",
        "Decision-maker",
        "customer",
        N_("Orders, approves colleagues' carts, accepts quotes, sees invoices, manages people"),
        CUSTOMER_PERMISSIONS,
    ),
    Preset(
        "requester",
        "Requester",
        "customer",
        N_("Builds carts and requests quotes for a decision-maker to approve"),
        _perms("shop.prices", "shop.cart", "shop.quote", "shop.lists"),
    ),
    Preset(
        "browse_only",
        "Browse-only",
        "customer",
        N_("Browses the offer, nothing else"),
        _perms("shop.prices"),
    ),
    Preset(
        "collaborator",
        "External collaborator",
        "customer",
        N_("Prepares quote requests for a decision-maker; sees no prices, orders or invoices"),
        _perms("shop.quote"),
    ),
    Preset(
        "partner",
        "Partner",
        "staff",
        N_("An outside partner: reads the chosen modules for assigned customers; no costs"),
        _perms(*PARTNER_VIEWS),
    ),
)
PRESETS_BY_KEY = {p.key: p for p in PRESETS}

# The background jobs page (/office/jobs) belongs to the settings module: seen with its
# view permission, a failed job retried with its edit permission. A job names whom a mail
# goes to and what about, for every customer: only those who see every customer see it.
JOBS_VIEW, JOBS_RETRY = ("settings.view", "customers.all"), "settings.edit"


def may_see_jobs(user) -> bool:
    """May this person open the background jobs page?"""
    return all(can(user, permission) for permission in JOBS_VIEW)


def may_retry_jobs(user) -> bool:
    """May this person run a failed background job again?"""
    return may_see_jobs(user) and can(user, JOBS_RETRY)


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
    # Carts, orders, approvals and invoices are made of prices: a role without them
    # (an external collaborator's) gets none of these, whatever else it lists.
    if permission in PRICED and "shop.prices" not in permissions_of(user):
        return False
    return not (permission == "shop.users" and not user.company.manages_own_users)


# Storefront permissions that show prices wherever they are used: they need `shop.prices`.
PRICED = frozenset({"shop.cart", "shop.order", "shop.approve", "shop.invoices"})


def sees_prices(user: User | None) -> bool:
    """Are prices, promotions and totals shown to this person? Staff: always (what the
    back office shows them is decided by their modules); a customer person: with
    `shop.prices`. Every storefront page, fragment, push, PDF, export, mail and API
    answer asks this before it shows a price."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(getattr(user, "is_staff", False)) or can(user, "shop.prices")


# A customer's sales rep: staff assigned to it who answer its quotes. Assignment alone also
# scopes a reader (a Partner) to the customer; reports and mails that mean the seller's
# people who sell to it ask for this permission too.
SELLS = "quotes.edit"


def holders(permission: str) -> Select:
    """The ids of the people whose roles grant this permission (a subquery)."""
    return (
        select(user_roles.c.user_id)
        .join(RolePermission, RolePermission.role_id == user_roles.c.role_id)
        .where(RolePermission.permission == permission)
    )


def can_any(user: User | None, permissions: Iterable[str]) -> bool:
    return any(can(user, p) for p in permissions)


def sees_all_customers(user: User | None) -> bool:
    return can(user, "customers.all")


def effective_permissions(user: User | None) -> frozenset[str]:
    """Every permission `can()` grants this person now (roles, narrowed by the seller's
    commercial policy for customers)."""
    return frozenset(p for p in PERMISSIONS if can(user, p))


def scope_of(user: User | None) -> frozenset[int] | None:
    """The companies this person may see, as ids; None: every company.

    The same rule as `company_scope`, for the live layer, which keeps it per socket.
    """
    if user is None or not getattr(user, "is_authenticated", False) or user.status != "active":
        return frozenset()
    if user.is_customer:
        return frozenset({user.company_id})
    if sees_all_customers(user):
        return None
    return frozenset(
        db.session.scalars(
            select(company_reps.c.company_id).where(company_reps.c.user_id == user.id)
        )
    )


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


def must_use_two_factor(user: User | None) -> bool:
    """Does a role of this person's require two-factor sign-in?"""
    return user is not None and any(role.requires_two_factor for role in user.roles)


def may_reset_second_factor(actor: User | None, person: User) -> bool:
    """Resetting someone's second factor (a lost phone) is for holders of `users.manage`:
    staff people's, and customer people's of companies the actor may see."""
    if actor is None or person is None or not actor.is_staff or not can(actor, "users.manage"):
        return False
    return person.is_staff or load_company(actor, person.company_id) is not None


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


# --- areas a face may read -------------------------------------------------------------

# Records of a trade area, as each face reads them: (staff permission, customer permissions,
# any one of which is enough). Scope narrows the rows further (company_scope).
READERS: dict[str, tuple[str, frozenset[str]]] = {
    "orders": ("orders.view", frozenset({"shop.order", "shop.cart"})),
    "quotes": ("quotes.view", frozenset({"shop.quote"})),
    "invoices": ("invoices.view", frozenset({"shop.invoices"})),
}


def may_read(user: User | None, area: str) -> bool:
    """May this person read the records of a trade area, from their own face?"""
    staff_permission, customer_permissions = READERS[area]
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff:
        return can(user, staff_permission)
    return can_any(user, customer_permissions)


def sees_order_invoice(user: User | None) -> bool:
    """Is an order's invoice shown with the order? To staff who see the order, always (its
    page is a link only with `invoices.view`); to customer people with `shop.invoices`."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_staff or can(user, "shop.invoices")


# The storefront's areas, in menu order: area -> permissions (any one is enough; none: all).
SHOP_AREAS: dict[str, frozenset[str]] = {
    "catalog": frozenset(),
    "cart": frozenset({"shop.cart"}),
    "lists": frozenset(),  # everyone of the company reads its lists; `shop.lists` edits
    "approvals": frozenset({"shop.approve"}),
    "orders": READERS["orders"][1],
    "quotes": READERS["quotes"][1],
    "invoices": READERS["invoices"][1],
    "users": frozenset({"shop.users"}),
    "addresses": frozenset({"shop.addresses"}),
}


def shop_areas(user: User | None) -> list[str]:
    """The storefront areas this customer person may open, in menu order."""
    if user is None or not getattr(user, "is_customer", False):
        return []
    return [area for area, needed in SHOP_AREAS.items() if not needed or can_any(user, needed)]


# Reports beyond `reports.view`: name -> the further permission each needs.
REPORTS: dict[str, str | None] = {
    "sales": None,
    "customers": None,
    "products": None,
    "reps": None,
    "margins": "finance.costs",
    "ageing": None,
}


def visible_reports(user: User | None) -> list[str]:
    """The reports this person may see, in page order."""
    if not can(user, "reports.view"):
        return []
    return [name for name, extra in REPORTS.items() if extra is None or can(user, extra)]


# The permission each kind of CSV import needs: the edit permission of what it changes.
IMPORTS: dict[str, str] = {
    "products": "products.edit",
    "stock": "stock.edit",
    "group_prices": "groups.edit",
}


def may_import(user: User | None, kind: str) -> bool:
    """May this person run this kind of import?"""
    return kind in IMPORTS and can(user, IMPORTS[kind])


# --- record-level decisions ---------------------------------------------------------------


def may_see_product(user: User | None, product) -> bool:
    """Staff who see the catalogue see every product, archived too; customer people only
    products on sale that their group may see (core.visibility)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff:
        return can(user, "products.view")
    return not product.is_archived and not visibility.of_person(user).hides(product)


def load_person(user: User | None, company_id: int, person_id: int) -> User | None:
    """One person of a company this person may see, else None (the caller answers 404)."""
    stmt = select(User).where(User.id == person_id, User.company_id == company_id)
    return db.session.scalars(company_scope(user, stmt, User.company_id)).first()


def visible_people(user: User | None, company_id: int) -> Select:
    """The people of one company, if this person may see it (none otherwise), to refine."""
    return company_scope(user, select(User).where(User.company_id == company_id), User.company_id)


def conversation_area(conversation) -> str:
    """The trade area a conversation's record belongs to: "quotes" or "orders"."""
    return "quotes" if conversation.quote_id is not None else "orders"


def may_read_conversation(user: User | None, conversation) -> bool:
    """May this person read a quote's or order's conversation? Whoever may see the record:
    staff with quotes.view / orders.view for a company in their scope, the company's own
    people who read that area (Browse-only people read neither)."""
    if user is None or conversation is None:
        return False
    if not may_read(user, conversation_area(conversation)):
        return False
    return load_company(user, conversation.company_id) is not None


def may_post(user: User | None, conversation) -> bool:
    """May this person write in a conversation? Staff with quotes.edit / orders.edit in
    scope; the record's company's people who read it, as themselves: a storefront opened
    by staff for them (acting or viewing) writes nothing in their name."""
    if not may_read_conversation(user, conversation):
        return False
    if user.is_staff:
        return can(user, f"{conversation_area(conversation)}.edit")
    return assumption(user) is None


def may_act_on_quote(user: User | None, quote, side: str) -> bool:
    """May this person move a quote for this side: "customer" (their own company's quote,
    with `shop.quote`) or "staff" (`quotes.edit`, for a customer in their scope)?"""
    if user is None:
        return False
    if side == "customer":
        # Negotiating is the customer's own: staff acting for them (or viewing as them) ask
        # for quotes, never answer the seller's prices in the customer's name.
        return (
            user.is_customer
            and user.company_id == quote.company_id
            and can(user, "shop.quote")
            and assumption(user) is None
        )
    return (
        user.is_staff
        and can(user, "quotes.edit")
        and load_company(user, quote.company_id) is not None
    )


def may_mail_quote(user: User | None, quote) -> bool:
    """May this person mail a quote's link to a contact without an account, and see and
    revoke the links sent? Whoever answers the quote for the seller (quotes.edit, in
    scope); staff acting as a customer never do."""
    return may_act_on_quote(user, quote, "staff") and assumption(user) is None


# A company's approvals: its decision-makers approve colleagues' carts (`shop.approve`)
# and accept quotes (`shop.order`); above its approval limit two different people must.
# A company with too few gets the second approval from the seller's staff who may move
# its orders (`SECOND_APPROVER`), so that a large order is never stuck at "1 of 2".
APPROVES = {"cart": "shop.approve", "quote": "shop.order"}
SECOND_APPROVER = "orders.edit"


def approvers(company_id: int, what: str) -> list[User]:
    """The company's active people who may approve its carts ("cart") or accept its
    quotes ("quote") now."""
    permission = APPROVES[what]
    members = db.session.scalars(
        select(User)
        .where(User.company_id == company_id, User.status == "active")
        .order_by(User.name, User.id)
    )
    return [person for person in members if can(person, permission)]


def may_give_second_approval(user: User | None, company_id: int) -> bool:
    """May this person give a customer's second approval in its stead? Staff with
    `orders.edit`, for a company in their scope; never a customer person."""
    return (
        user is not None
        and getattr(user, "is_staff", False)
        and can(user, SECOND_APPROVER)
        and load_company(user, company_id) is not None
    )


def may_withdraw_quote(user: User | None, quote) -> bool:
    """Whoever asked for a quote may withdraw it, and so may their company's decision-makers."""
    return may_act_on_quote(user, quote, "customer") and (
        user.id == quote.requested_by_id or can(user, "shop.order")
    )


# --- tasks -------------------------------------------------------------------------------
# A follow-up task follows its customer: staff with `tasks.view` see the tasks of the
# companies in their scope (a quote's or an order's task carries its company). A task with
# no customer is its creator's and its assignee's, and seen by those who see every customer.


def task_scope(user: User | None, stmt: Select) -> Select:
    """Narrow a query of tasks to those this person may see; none without `tasks.view`."""
    from .models.tasks import Task

    if user is None or not getattr(user, "is_staff", False) or not can(user, "tasks.view"):
        return stmt.where(false())
    if sees_all_customers(user):
        return stmt
    assigned = select(company_reps.c.company_id).where(company_reps.c.user_id == user.id)
    return stmt.where(
        or_(
            Task.company_id.in_(assigned),
            and_(
                Task.company_id.is_(None),
                or_(Task.assignee_id == user.id, Task.created_by_id == user.id),
            ),
        )
    )


def load_task(user: User | None, task_id: int):
    """One task if this person may see it, else None (the caller answers 404)."""
    from .models.tasks import Task

    return db.session.scalars(task_scope(user, select(Task).where(Task.id == task_id))).first()


def may_see_task(user: User | None, task) -> bool:
    """May this person see this task (the rule of `task_scope`, for one loaded task)?"""
    if user is None or not getattr(user, "is_staff", False) or not can(user, "tasks.view"):
        return False
    if task.company_id is None:
        return sees_all_customers(user) or user.id in (task.assignee_id, task.created_by_id)
    return load_company(user, task.company_id) is not None


def may_edit_task(user: User | None, task) -> bool:
    """May this person change, complete, reopen or remove this task?"""
    return can(user, "tasks.edit") and may_see_task(user, task)


def may_be_assigned_task(person: User | None, company_id: int | None) -> bool:
    """May this person be given a task of this customer (None: of no customer)? An active
    staff colleague with `tasks.view` who sees that customer."""
    if person is None or not getattr(person, "is_staff", False) or person.status != "active":
        return False
    if not can(person, "tasks.view"):
        return False
    return company_id is None or load_company(person, company_id) is not None


# --- acting for a customer ----------------------------------------------------------------
# Staff with `customers.act` open the storefront as one active person of a customer company
# in their scope: "act" builds carts, places orders and asks for quotes in that person's
# name (each record keeps who acted, core.acting), "view" shows the storefront as the
# person sees it and changes nothing. Either way the storefront shows no more than the
# person may see, nor more than the staff member may read of that customer.

ACTING = "act"
VIEWING = "view"
ASSUMING_MODES = (ACTING, VIEWING)
# What staff acting for a person may use of that person's rights: their buying, never the
# company's own administration (approving colleagues, people, addresses, lists).
ACTING_PERMISSIONS = _perms("shop.prices", "shop.cart", "shop.order", "shop.quote")
# What there must be to act with: prices alone are only what the person is shown.
ACTING_WITH = ACTING_PERMISSIONS - {"shop.prices"}
# Each storefront permission, with the staff permission it takes to read what it shows
# (None: what it shows needs no more than seeing the company). Deny by default: a
# storefront permission missing here is never lent.
ASSUMED_READS: dict[str, str | None] = {
    "shop.prices": None,  # the group's prices, which staff who open the storefront see
    "shop.cart": "orders.view",
    "shop.order": "orders.view",
    "shop.approve": "orders.view",
    "shop.quote": "quotes.view",
    "shop.invoices": "invoices.view",
    "shop.users": "customers.view",
    "shop.addresses": "customers.view",
    "shop.lists": None,
    # The company's webhook endpoints are kept on the account pages, as the signed-in
    # person (never the one a staff member views as): lent only to those who keep their own.
    "shop.webhooks": "webhooks.manage",
}


@dataclass(frozen=True)
class Assumption:
    """Who opened the storefront as this person, and how (ACTING or VIEWING)."""

    staff: User | None  # None on a live push, which writes nothing
    mode: str


def assumed_permissions(staff: User | None, person: User | None, mode: str) -> frozenset[str]:
    """The person's storefront permissions as `staff` may use them in this mode: acting
    lends only ACTING_PERMISSIONS, and nothing the staff member may not read (ASSUMED_READS)."""
    held = effective_permissions(person)
    if mode == ACTING:
        held &= ACTING_PERMISSIONS
    elif mode != VIEWING:
        return frozenset()
    return frozenset(
        p
        for p in held
        if p in ASSUMED_READS and (ASSUMED_READS[p] is None or can(staff, ASSUMED_READS[p]))
    )


def may_assume(staff: User | None, person: User | None, mode: str) -> bool:
    """May this staff member open the storefront as this person, in this mode, now?

    `customers.act` (with `customers.view`), a person of an active company in the staff
    member's scope, active themselves; acting needs something of theirs to act with
    (a cart, orders or quotes).
    """
    if mode not in ASSUMING_MODES or staff is None or person is None:
        return False
    if not getattr(staff, "is_staff", False) or not can(staff, "customers.act"):
        return False
    if not can(staff, "customers.view"):
        return False
    if not person.is_customer or person.status != "active" or person.company is None:
        return False
    if not person.company.is_active or load_company(staff, person.company_id) is None:
        return False
    if mode == ACTING:
        return bool(assumed_permissions(staff, person, mode) & ACTING_WITH)
    return True


def assume(person: User, staff: User | None, mode: str, permissions=None) -> User:
    """From now on this person object answers `can()` as the storefront opened for them by
    `staff` in `mode` (see assumed_permissions; `permissions`: those already worked out,
    a live push's). The object is the request's (or the push's) own: nothing is stored."""
    if permissions is None:
        permissions = assumed_permissions(staff, person, mode)
    person.__dict__["_permissions"] = frozenset(permissions)
    person.__dict__["_assumption"] = Assumption(staff, mode)
    return person


def assumption(person) -> Assumption | None:
    """How this person object was opened by staff (None: it is the person themselves)."""
    return getattr(person, "__dict__", {}).get("_assumption") if person is not None else None


def acting_staff(person) -> User | None:
    """The staff member placing in this person's name right now (acting, not viewing)."""
    found = assumption(person)
    return found.staff if found is not None and found.mode == ACTING else None


def is_read_only(person) -> bool:
    """Is this the storefront as staff view it for the person, where nothing changes?"""
    found = assumption(person)
    return found is not None and found.mode == VIEWING


# --- live regions: who receives each kind, and what about them changes its markup -------


class Viewer(Protocol):
    """What the live layer knows of a socket's person (see blueprints/live/viewer.py)."""

    user_id: int
    kind: str
    company_id: int | None
    group_id: int | None
    permissions: frozenset[str]
    scope: frozenset[int] | None


@dataclass(frozen=True)
class Audience:
    """One face's share of a region kind.

    A viewer of `face` holding every permission in `needs`, at least one of `any_of` (when
    given) and none of `lacks` receives the region. Viewers who agree on `by` (viewer
    attributes) and on which of `fields` they hold see the same markup, so it is rendered
    once for all of them. `own` names the attribute a storefront list's id ends with: a
    page watching another company's or person's id gets nothing of that kind.
    """

    face: str | None  # "staff", "customer", or None for both
    needs: frozenset[str] = frozenset()
    any_of: frozenset[str] = frozenset()
    lacks: frozenset[str] = frozenset()
    fields: tuple[str, ...] = ()
    by: tuple[str, ...] = ()
    own: str | None = None

    def admits(self, viewer: Viewer) -> bool:
        held = viewer.permissions
        return (
            (self.face is None or viewer.kind == self.face)
            and self.needs <= held
            and (not self.any_of or bool(self.any_of & held))
            and not self.lacks & held
        )


def _staff(*needs: str, fields: tuple[str, ...] = (), by: tuple[str, ...] = ()) -> Audience:
    return Audience("staff", needs=_perms(*needs), fields=fields, by=by)


def _customers(*needs: str, by: tuple[str, ...] = (), **extra) -> Audience:
    return Audience("customer", needs=_perms(*needs), by=by, **extra)


_QUOTE = (
    _customers("shop.quote", by=("company_id",), fields=("shop.prices",)),
    _staff("quotes.view", fields=("finance.costs",), by=("scope",)),
)
_SALES_REPORT = (_staff("reports.view"),)
# a record's panel of open tasks, in the viewer's scope; its "New task" link with tasks.edit
_TASK_FIELDS = ("tasks.edit",)

# Every region kind has its rule here; a kind without one is sent to nobody.
AUDIENCES: dict[str, tuple[Audience, ...]] = {
    # catalogue and stock
    "offer": (_customers(by=("group_id",), fields=("shop.prices",)),),
    # a product page's "no longer available" (the product was hidden from the group)
    "product-status": (_customers(by=("group_id",)),),
    "catalog-results": (_customers(),),
    "product-row": (_staff("products.view", fields=("finance.costs", "stock.view")),),
    "products-table": (_staff("products.view"),),
    "product-facts": (
        _staff("products.view", fields=("finance.costs", "stock.view", "groups.view")),
    ),
    "product-photos": (_staff("products.view"),),
    "stock-level": (_staff("stock.view"),),
    "stock-movements": (_staff("stock.view"),),
    "low-stock": (_staff("stock.view"),),
    "promotions-table": (_staff("promotions.view"),),
    # the navigation: whole permission sets (and, in the live layer, the page)
    "nav": (Audience(None, by=("kind", "permissions")),),
    # carts and orders
    "order": (
        Audience(
            "customer",
            any_of=READERS["orders"][1],
            fields=("shop.invoices",),
            by=("company_id",),
        ),
        _staff(
            "orders.view",
            fields=("orders.edit", "finance.costs", "invoices.view"),
            by=("scope",),
        ),
    ),
    "orders-table": (_staff("orders.view", by=("scope",)),),
    # an order's shipments with their tracking: quantities shipped, never stock figures
    "order-shipments": (
        Audience("customer", any_of=READERS["orders"][1], by=("company_id",)),
        _staff("orders.view", "shipping.view", fields=("shipping.edit",), by=("scope",)),
    ),
    "shipment": (
        Audience("customer", any_of=READERS["orders"][1], by=("company_id",)),
        _staff("shipping.view", fields=("shipping.edit",), by=("scope",)),
    ),
    "shipments-table": (_staff("shipping.view", by=("scope",)),),
    "second-approvals": (_staff("orders.view", by=("scope",)),),
    "shop-orders": (Audience("customer", any_of=READERS["orders"][1], own="company_id"),),
    "approvals": (_customers("shop.approve", own="company_id"),),
    "my-cart": (_customers("shop.cart", own="user_id"),),
    # a company's shared list: its own people (the region renders only their company's
    # lists), offers as their group sees them, controls as their rights allow
    "list": (
        _customers(
            by=("company_id", "group_id"), fields=("shop.lists", "shop.cart", "shop.prices")
        ),
    ),
    # quotes
    "quote": _QUOTE,
    "quote-actions": _QUOTE,
    # a quote's or order's conversation: whoever may see the record (messages carry no
    # prices; the renderer asks may_read_conversation of each record in the viewer's scope)
    "quote-conversation": (
        _customers("shop.quote", by=("company_id",)),
        _staff("quotes.view", by=("scope",)),
    ),
    "order-conversation": (
        Audience("customer", any_of=READERS["orders"][1], by=("company_id",)),
        _staff("orders.view", by=("scope",)),
    ),
    "quotes-table": (_staff("quotes.view"),),
    "shop-quotes": (_customers("shop.quote"),),
    # billing
    "invoice": (
        _customers("shop.invoices", by=("company_id",)),
        _staff("invoices.view", by=("scope",)),
    ),
    "balance": (_customers("shop.invoices", by=("company_id",)),),
    "invoices-table": (_staff("invoices.view"),),
    "shop-invoices": (_customers("shop.invoices"),),
    # customers and groups
    "customer": (_staff("customers.view", by=("scope", "permissions")),),
    "customer-account": (_staff("customers.view", "invoices.view"),),
    "customers-table": (_staff("customers.view"),),
    # a company's delivery addresses: its keepers, and staff who see it (editing with
    # customers.edit); every other customer person reads them only in checkout's choices
    "addresses": (
        _customers("shop.addresses", by=("company_id",)),
        _staff("customers.view", fields=("customers.edit",), by=("scope",)),
    ),
    "shipping-methods-table": (_staff("shipping.view"),),
    "groups-table": (_staff("groups.view"),),
    # one group's price list (signalled; its view answers 204 while nothing shown changed)
    "group-prices": (_staff("groups.view"),),
    # the price explainer's result: whoever may open the explainer
    "explanation": (_staff("customers.view", "products.view"),),
    # imports: each job renders for the person who started it; the list of one's own
    # imports is named by its person, like a storefront list
    "import": (_staff(by=("user_id",)),),
    "imports-recent": (Audience("staff", any_of=_perms(*IMPORTS.values()), own="user_id"),),
    # staff users, roles, settings and the audit log, each to those who may open its page
    "users-table": (_staff("users.view"),),
    "roles-table": (_staff("roles.view"),),
    "settings": (_staff("settings.view"),),
    "audit-results": (_staff("audit.view"),),
    "jobs-results": (_staff(*JOBS_VIEW),),
    # one's webhook endpoints and their logs (lists: each view shows only one's own, or
    # one's company's)
    "webhook-endpoints": (_staff("webhooks.manage"), _customers("shop.webhooks")),
    "webhook-deliveries": (_staff("webhooks.manage"), _customers("shop.webhooks")),
    # one's own open tasks (a list named by its person: each view shows only one's own),
    # and a customer's, quote's or order's panel of open tasks (re-fetched, scoped)
    "my-tasks": (Audience("staff", needs=_perms("tasks.view"), own="user_id"),),
    "company-tasks": (_staff("tasks.view", fields=_TASK_FIELDS, by=("scope",)),),
    "quote-tasks": (_staff("tasks.view", fields=_TASK_FIELDS, by=("scope",)),),
    "order-tasks": (_staff("tasks.view", fields=_TASK_FIELDS, by=("scope",)),),
    # a company's people, to those of its people who manage them
    "shop-users": (_customers("shop.users", own="company_id"),),
    # reports: margins only with costs; the costs notice only for those who lost them
    "report": _SALES_REPORT,
    "report-margins": (_staff("reports.view", "finance.costs"),),
    "report-costs": (Audience("staff", lacks=_perms("finance.costs")),),
    # the overview's work queue: which queues (core.work_queue.PERMISSIONS), counted in
    # the viewer's scope; every staff person, so that gaining a queue shows it at once
    "work-queue": (
        _staff(fields=("orders.view", "quotes.view", "invoices.view", "stock.view"), by=("scope",)),
    ),
}


def is_owned(kind: str) -> bool:
    """Is this kind a storefront list named by its company or person (see `Audience.own`)?"""
    return any(rule.own is not None for rule in AUDIENCES.get(kind, ()))


def audience(viewer: Viewer, kind: str, watched: Iterable[str] = ()) -> Hashable | None:
    """The key of the viewers who see one kind of region alike, or None: not for them.

    `watched`: the ids of this kind the viewer's page shows (checked against `own`).
    """
    for rule in AUDIENCES.get(kind, ()):
        if not rule.admits(viewer):
            continue
        if rule.own is not None:
            mine = f"{kind}-{getattr(viewer, rule.own)}"
            if any(region_id != mine for region_id in watched):
                return None  # a crafted watch list naming another company or person
            return (kind, mine)
        flags = tuple(p in viewer.permissions for p in rule.fields)
        return (kind, viewer.kind, *(getattr(viewer, name) for name in rule.by), *flags)
    return None


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
