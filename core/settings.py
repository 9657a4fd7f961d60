"""Portal-wide settings: the seller's details on invoices, defaults, lifetimes.

Each setting is one row of `settings` (JSON). Readers fall back to a sensible default
(or the configuration) when a setting was never saved, so a fresh portal works.
"""

from flask import current_app

from extensions import db

from .models import Setting

SELLER = "seller"
STOCK_THRESHOLDS = "stock.thresholds"
PAYMENT_TERMS = "payment_terms_days"
INVITATION_HOURS = "invitation_hours"


def _value(key: str, default=None):
    found = db.session.get(Setting, key)
    return default if found is None or found.value is None else found.value


def seller() -> dict:
    """The seller's name, address, VAT number and bank details printed on invoices."""
    value = _value(SELLER, {})
    return value if isinstance(value, dict) else {}


def stock_thresholds() -> tuple[int, int]:
    """(few_from, many_from): the levels new customer groups start with."""
    value = _value(STOCK_THRESHOLDS, {})
    if isinstance(value, dict):
        try:
            few, many = int(value.get("few_from", 1)), int(value.get("many_from", 50))
        except (TypeError, ValueError):
            return 1, 50
        if 0 <= few < many:
            return few, many
    return 1, 50


def payment_terms_days() -> int:
    """Days to pay that new customer companies start with."""
    value = _value(PAYMENT_TERMS, 30)
    return value if isinstance(value, int) and 0 <= value <= 365 else 30


def invitation_hours() -> int:
    """How long an invitation link stays valid."""
    value = _value(INVITATION_HOURS, None)
    if isinstance(value, int) and 1 <= value <= 24 * 30:
        return value
    return current_app.config["INVITATION_HOURS"]
