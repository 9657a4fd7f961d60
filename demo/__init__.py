"""The demo data of DESIGN.md section 8, plus a realistic catalogue and trade history.

Loaded by `flask --app app demo`. Deterministic (a fixed random seed) and
idempotent: a second run finds the marker setting and changes nothing.

One module per part of the data, loaded in this order (the random draws follow it):

- `people`: the preset roles, customer groups, companies with their people, and staff.
- `catalogue`: categories, products with group prices and opening stock, promotions.
- `trade`: orders with invoices and payments, quotes, carts, then credit notes.
- `delivery`: each company's delivery addresses and three shipping methods (drawing
  nothing); the history's orders go to their company's default address.
- `shipments`: carriers, and shipments with tracking matching each order's status.
- `backorders`: the Standard group accepts back-orders; one of its open lines waits for
  stock (from the records above, without the random generator).
- `lists`: Acme's shared list "Drone controller BOM" (drawing nothing).
- `breaks`: quantity breaks on MCU-STM32F401 (base and Wholesale), a minimum and pack
  size of 10 on CAP-1206-10U (drawing nothing; after the history, priced without them).
- `visibility`: the Displays category is hidden from the Standard group (drawing nothing).
- `webhooks`: Acme's webhook endpoint for its ERP, switched off (drawing nothing).
- `tasks`: staff follow-up tasks on Acme and Carpathia, and one without a customer.
- `conversations`: messages on one of Acme's quotes (with a drawing) and one of its orders.
"""

import random

from core.models import AuditEntry, Setting, utcnow
from extensions import db

from .backorders import build_backorders
from .breaks import build_breaks
from .catalogue import CATEGORIES, EXACT_ROWS, Item, build_catalogue, catalogue_items
from .conversations import build_conversations
from .custom_parts import build_materials
from .delivery import build_delivery
from .lists import build_lists
from .people import (
    COMPANIES,
    CUSTOMER_ROLES,
    GROUPS,
    PASSWORD,
    STAFF,
    build_people,
    ensure_presets,
)
from .shipments import build_shipments
from .tasks import build_tasks
from .trade import build_trade, next_number
from .visibility import build_visibility
from .webhooks import build_webhooks

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
    # The seller's country and rates first: every order of the history takes its VAT.
    db.session.add(Setting(key="vat", value={"country": "DE", "standard": "19", "reduced": "7"}))
    groups, companies, people = build_people(rng, now)
    products = build_catalogue(rng, now, groups)
    build_trade(rng, now, companies, people, products)
    build_delivery(companies, groups)  # draws nothing: the figures above stay as they are
    build_shipments(now)  # draws from its own generator: the shared one is left as it was
    build_backorders()  # draws nothing: after the shipments, to pick an order without any
    build_lists(now, companies, people, products)  # draws nothing
    build_breaks()  # draws nothing: after the history, whose orders were priced without them
    build_visibility(groups)  # draws nothing: Standard does not see the Displays category
    build_webhooks(now, companies, people)  # draws nothing: switched off, sends nothing
    build_tasks(now, companies, people)  # draws nothing: staff follow-ups, no reminders
    build_materials()  # draws nothing
    build_conversations(now, companies, people)  # draws nothing: after the history

    db.session.add_all(
        [
            Setting(
                key="seller",
                value={
                    "name": "Northwind Components GmbH",
                    "address": "Hafenstraße 12\n20457 Hamburg\nGermany",
                    "vat_number": "DE811907980",
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
