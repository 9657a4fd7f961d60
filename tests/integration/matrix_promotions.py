"""Authorization matrix rows of promotions and settings (merged by test_authorization_matrix).

Promotions are read by everyone whose role includes promotions.view (admin, manager, both
sales reps, the read-only viewer), changed by admin and manager (promotions.edit) and
deleted by the same two (promotions.delete). Settings are read by admin and manager and
changed by the admin alone (the manager preset lacks settings.edit).
"""

from sqlalchemy import select

from core.models import Promotion
from tests.matrix_base import ADMIN, ANNA, MANAGER, MARCO, VIEWER, office

PROMOTION_READERS = (ADMIN, MANAGER, ANNA, MARCO, VIEWER)
PROMOTION_EDITORS = (ADMIN, MANAGER)
SETTINGS_READERS = (ADMIN, MANAGER)

ROWS = {
    ("office.promotions", "GET"): ("/office/promotions", office(PROMOTION_READERS, ok=200)),
    ("office.promotion_new", "GET"): (
        "/office/promotions/new",
        office(PROMOTION_EDITORS, ok=200),
    ),
    ("office.promotion_new", "POST"): ("/office/promotions/new", office(PROMOTION_EDITORS)),
    ("office.promotion", "GET"): (
        "/office/promotions/{promotion}",
        office(PROMOTION_READERS, ok=200),
    ),
    ("office.promotion_save", "POST"): (
        "/office/promotions/{promotion}",
        office(PROMOTION_EDITORS),
    ),
    ("office.promotion_switch", "POST"): (
        "/office/promotions/{promotion}/switch",
        office(PROMOTION_EDITORS),
    ),
    ("office.promotion_delete", "POST"): (
        "/office/promotions/{promotion}/delete",
        office(PROMOTION_EDITORS),
    ),
    ("office.settings", "GET"): ("/office/settings", office(SETTINGS_READERS, ok=200)),
    **{
        (f"office.settings_{section}", "POST"): (f"/office/settings/{section}", office((ADMIN,)))
        for section in ("seller", "thresholds", "terms", "invitations", "vat", "timezone")
    },
}


def ids(session) -> dict:
    """The demo's running promotion on the STM32F401."""
    return {
        "promotion": session.scalar(select(Promotion.id).where(Promotion.name == "MCU spring sale"))
    }
