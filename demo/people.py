"""The demo's people: preset roles, customer groups, companies with their people, staff."""

import random
from datetime import datetime
from decimal import Decimal

from core import roles as role_service
from core.accounts import hash_password
from core.models import Company, CustomerGroup, Role, User
from extensions import db

PASSWORD = "demo-password"

STAFF = (
    # email, name, preset, assigned company slugs
    ("admin@portal.test", "Helena Adler", "admin", ()),
    ("manager@portal.test", "Martin Brandt", "manager", ()),
    ("anna.sales@portal.test", "Anna Kowalska", "sales", ("acme", "baltic")),
    ("marco.sales@portal.test", "Marco Rossi", "sales", ("carpathia", "delft")),
    ("warehouse@portal.test", "Walter Hahn", "warehouse", ()),
    ("finance@portal.test", "Fiona Lindqvist", "finance", ()),
    ("viewer@portal.test", "Victor Osei", "readonly", ()),
)
# People from outside the seller with a staff account, apart from STAFF (the seller's own
# people, the authorization matrix's personas): a contract manufacturer who reads Acme
# Robotics' orders and quotes, and no costs.
PARTNERS = (("partner@portal.test", "Pavel Novak", "partner", ("acme",)),)

GROUPS = (
    # name, shows promotions, quotes allowed, stock display, description
    ("Wholesale", True, True, "exact", "Volume buyers: group prices, promotions, exact stock"),
    ("Partner", True, True, "levels", "Contract partners: group prices, promotions, stock levels"),
    ("Standard", False, False, "levels", "Everyone else: base prices, stock levels"),
)

COMPANIES = (
    # name, slug, group, payment terms, approval limit, people's names (orders, request, browse)
    (
        "Acme Robotics",
        "acme",
        "Wholesale",
        30,
        Decimal("5000.00"),
        ("Olivia Grant", "Ravi Menon", "Bruno Keller"),
    ),
    ("Baltic Drones", "baltic", "Partner", 30, None, ("Liis Tamm", "Jonas Petraitis", "Eva Ozols")),
    (
        "Carpathia Makers",
        "carpathia",
        "Standard",
        14,
        None,
        ("Ioana Pop", "Mihai Stan", "Dana Rusu"),
    ),
    (
        "Delft Devices",
        "delft",
        "Partner",
        45,
        None,
        ("Daan de Vries", "Sanne Bakker", "Pieter Smit"),
    ),
    (
        "Etna Labs",
        "etna",
        "Wholesale",
        30,
        None,
        ("Giulia Russo", "Salvatore Greco", "Chiara Conti"),
    ),
)
CUSTOMER_ROLES = (("orders", "decision_maker"), ("request", "requester"), ("browse", "browse_only"))
# Beyond each company's three: an external draftsman who prepares Acme's quote requests
# and sees no prices (email, name, preset, company slug).
COLLABORATORS = (("draftsman@acme.test", "Dora Fischer", "collaborator", "acme"),)


# Billing address and VAT ID per company (DESIGN: the seller is in Germany; Baltic, Delft
# and Etna have valid VAT IDs in other EU countries, Carpathia none). Check digits valid.
BILLING = {
    "acme": ("DE", "DE123456788", "Robotikweg 4", "70565", "Stuttgart"),
    "baltic": ("LT", "LT100001234611", "Dronų g. 7", "LT-01100", "Vilnius"),
    "carpathia": ("RO", "", "Strada Meșterilor 12", "400001", "Cluj-Napoca"),
    "delft": ("NL", "NL085376692B01", "Oude Delft 90", "2611 CD", "Delft"),
    "etna": ("IT", "IT01234568887", "Via Etnea 250", "95131", "Catania"),
}


def ensure_presets() -> dict[str, Role]:
    """The preset roles, without the Admin's two-factor requirement: every demo account
    signs in with its password alone (the README says how to switch it on)."""
    return role_service.ensure_presets(two_factor=False)


def build_people(
    rng: random.Random, now: datetime
) -> tuple[dict[str, CustomerGroup], dict[str, Company], dict[str, User]]:
    """The customer groups, the companies with three people each, and the staff: by name,
    by slug and by email."""
    roles = ensure_presets()
    password_hash = hash_password(PASSWORD)  # one hash for the shared demo password

    groups = {}
    for name, promos, quotes, display, description in GROUPS:
        groups[name] = CustomerGroup(
            name=name,
            shows_promotions=promos,
            quotes_allowed=quotes,
            stock_display=display,
            few_from=1,
            many_from=50,
            description=description,
        )
        db.session.add(groups[name])

    companies: dict[str, Company] = {}
    people: dict[str, User] = {}
    for name, slug, group, terms, limit, names in COMPANIES:
        company = Company(
            name=name,
            slug=slug,
            group=groups[group],
            payment_terms_days=terms,
            approval_limit=limit,
            email=f"office@{slug}.test",
        )
        rng.randrange(10**8, 10**9)  # the draw an older VAT number took: later draws stay
        company.country, company.vat_number, street, company.postcode, company.city = BILLING[slug]
        company.address = f"{name}\n{street}"
        db.session.add(company)
        companies[slug] = company
        for (local, preset), person in zip(CUSTOMER_ROLES, names, strict=True):
            email = f"{local}@{slug}.test"
            user = User(
                email=email,
                name=person,
                kind="customer",
                company=company,
                status="active",
                password_hash=password_hash,
                password_changed_at=now,
                roles=[roles[preset]],
            )
            db.session.add(user)
            people[email] = user

    for email, name, preset, assigned in (*STAFF, *PARTNERS):
        user = User(
            email=email,
            name=name,
            kind="staff",
            status="active",
            password_hash=password_hash,
            password_changed_at=now,
            roles=[roles[preset]],
        )
        user.assigned_companies = [companies[s] for s in assigned]
        db.session.add(user)
        people[email] = user

    for email, name, preset, slug in COLLABORATORS:
        user = User(
            email=email,
            name=name,
            kind="customer",
            company=companies[slug],
            status="active",
            password_hash=password_hash,
            password_changed_at=now,
            roles=[roles[preset]],
        )
        db.session.add(user)
        people[email] = user
    return groups, companies, people
