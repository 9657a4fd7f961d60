"""The demo's delivery: each company's address book, and three shipping methods.

Draws nothing from the random generator (loaded after the trade history, whose figures it
leaves as they are): the history's orders get their company's default address as where
they went, without a shipping method or price, so no total changes; Acme's request
waiting for approval carries a full set of choices.
"""

from decimal import Decimal

from sqlalchemy import update

from core.models import Cart, Company, CustomerGroup, DeliveryAddress, Order, ShippingMethod
from extensions import db

# slug -> addresses (name, street, postcode, city, country); the first is the default.
ADDRESSES = {
    "acme": (
        ("Main plant", "Robotikweg 4\nGoods in, gate 2", "70565", "Stuttgart", "DE"),
        ("Assembly hall Esslingen", "Fabrikstraße 21", "73728", "Esslingen am Neckar", "DE"),
    ),
    "baltic": (("Warehouse", "Sandėlių g. 3", "LT-02189", "Vilnius", "LT"),),
    "carpathia": (("Workshop", "Strada Meșterilor 12", "400001", "Cluj-Napoca", "RO"),),
    "delft": (("Lab", "Oude Delft 90", "2611 CD", "Delft", "NL"),),
    "etna": (("Laboratory", "Via Etnea 250", "95131", "Catania", "IT"),),
}

# name, price, free above, lead time in working days, groups (None: every group)
METHODS = (
    ("Parcel", Decimal("6.90"), Decimal("250.00"), 2, None),
    ("Express", Decimal("19.50"), None, 1, ("Wholesale", "Partner")),
    ("Pallet freight", Decimal("85.00"), None, 4, None),
)


def build_delivery(
    companies: dict[str, Company], groups: dict[str, CustomerGroup]
) -> dict[str, ShippingMethod]:
    """Address books, shipping methods, the history's delivery addresses, and Acme's
    request's choices. Returns the methods by name."""
    defaults = {}
    for slug, entries in ADDRESSES.items():
        company = companies[slug]
        for index, (name, street, postcode, city, country) in enumerate(entries):
            address = DeliveryAddress(
                company=company,
                name=name,
                street=street,
                postcode=postcode,
                city=city,
                country=country,
                is_default=index == 0,
            )
            db.session.add(address)
            if index == 0:
                defaults[company.id] = address
    methods = {}
    for name, price, free_above, lead_days, allowed in METHODS:
        chosen = groups.values() if allowed is None else [groups[g] for g in allowed]
        methods[name] = ShippingMethod(
            name=name,
            price=price,
            free_above=free_above,
            lead_days=lead_days,
            is_active=True,
            groups=sorted(chosen, key=lambda g: g.name),
        )
        db.session.add(methods[name])
    db.session.flush()

    # Statements, not attributes: the rows keep their `updated_at` (the ORM would set it
    # to now), so the history reads as it did.
    for company_id, address in defaults.items():
        db.session.execute(
            update(Order)
            .where(Order.company_id == company_id)
            .values(
                delivery_name=address.name,
                delivery_street=address.street,
                delivery_postcode=address.postcode,
                delivery_city=address.city,
                delivery_country=address.country,
                updated_at=Order.updated_at,
            )
            .execution_options(synchronize_session="fetch")
        )
    acme = companies["acme"].id
    db.session.execute(
        update(Cart)
        .where(Cart.company_id == acme, Cart.status == "submitted")
        .values(
            delivery_address_id=defaults[acme].id,
            shipping_method_id=methods["Parcel"].id,
            customer_reference="PO-2026-0418",
            updated_at=Cart.updated_at,
        )
        .execution_options(synchronize_session="fetch")
    )
    return methods
