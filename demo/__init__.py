"""The demo data of DESIGN.md section 8, plus a realistic catalogue and trade history.

Loaded by `flask --app app demo`. Deterministic (a fixed random seed) and
idempotent: a second run finds the marker setting and changes nothing.

One module per part of the data, loaded in this order (the random draws follow it):

- `people`: the preset roles, customer groups, companies with their people, and staff.
- `catalogue`: categories, products with group prices and opening stock, promotions.
- `trade`: orders with invoices and payments, quotes, carts, then credit notes.
"""

import random

from core.models import AuditEntry, Setting, utcnow
from extensions import db

from .catalogue import CATEGORIES, EXACT_ROWS, Item, build_catalogue, catalogue_items
from .people import (
    COMPANIES,
    CUSTOMER_ROLES,
    GROUPS,
    PASSWORD,
    STAFF,
    build_people,
    ensure_presets,
)
from .trade import build_trade, next_number

__all__ = [
    "CATEGORIES",
    "COMPANIES",
    "CUSTOMER_ROLES",
    "EXACT_ROWS",
    "GROUPS",
    "MARKER",
    "PASSWORD",
    "STAFF",
    "Item",
    "catalogue_items",
    "ensure_presets",
    "is_loaded",
    "load",
    "next_number",
]

MARKER = "demo.loaded"


def is_loaded() -> bool:
    return db.session.get(Setting, MARKER) is not None


def load() -> bool:
    """Load everything in one transaction. Returns False when it was already loaded."""
    if is_loaded():
        return False
    rng = random.Random(20261123)
    now = utcnow().replace(microsecond=0)
    groups, companies, people = build_people(rng, now)
    products = build_catalogue(rng, now, groups)
    build_trade(rng, now, companies, people, products)

    db.session.add_all(
        [
            Setting(
                key="seller",
                value={
                    "name": "Northwind Components GmbH",
                    "address": "Hafenstraße 12\n20457 Hamburg\nGermany",
                    "vat_number": "DE123456789",
                    "email": "sales@northwind.test",
                    "bank": "IBAN DE89 3704 0044 0532 0130 00",
                },
            ),
            Setting(key="stock.thresholds", value={"few_from": 1, "many_from": 50}),
            Setting(key="payment_terms_days", value=30),
            Setting(key="invitation_hours", value=72),
            Setting(key=MARKER, value=now.isoformat()),
        ]
    )
    db.session.add(AuditEntry(action="demo.loaded", summary="Demo data loaded", created_at=now))
    db.session.commit()
    return True
