"""Matrix rows of custom parts: the materials list (quotes.view sees it, quotes.edit changes
it) and the drawings of custom lines: a quote's (its readers, in both faces) and an
order's (the order's readers: the workshop makes the part without seeing quotes).

The demo holds no drawing, so a drawing URL is a 404 even for the record's readers;
tests/integration/test_custom_parts.py serves a real one to them and to nobody else.
"""

from sqlalchemy import select

from core.models import Material
from tests.integration.matrix_orders import ACME_READERS, NOT_ACME, ORDER_VIEWERS_FOR_ACME
from tests.integration.matrix_quotes import (
    ACME_QUOTE_EDITORS,
    ACME_QUOTE_VIEWERS,
    ACME_QUOTERS,
    OTHER_QUOTERS,
    QUOTE_VIEWERS,
)
from tests.matrix_base import MARCO, office, shop

# Every rep answers quotes: the materials list is no customer's record, so Marco too.
MATERIAL_EDITORS = (*ACME_QUOTE_EDITORS, MARCO)


def ids(session) -> dict:
    """A material no quote line names (the demo's switched-off Copper)."""
    return {"material": session.scalar(select(Material.id).where(Material.name == "Copper"))}


ROWS = {
    ("office.materials", "GET"): ("/office/quotes/materials", office(QUOTE_VIEWERS, ok=200)),
    ("office.material_create", "POST"): (
        "/office/quotes/materials",
        office(MATERIAL_EDITORS, ok=422),
    ),
    ("office.material", "GET"): (
        "/office/quotes/materials/{material}",
        office(QUOTE_VIEWERS, ok=200),
    ),
    ("office.material_save", "POST"): (
        "/office/quotes/materials/{material}",
        office(MATERIAL_EDITORS, ok=422),
    ),
    ("office.material_delete", "POST"): (
        "/office/quotes/materials/{material}/delete",
        office(MATERIAL_EDITORS, ok=302),
    ),
    ("office.quote_drawing", "GET"): (
        "/office/quotes/{acme_quote}/drawings/999999",
        office(ACME_QUOTE_VIEWERS, not_found=(MARCO,), ok=404),
    ),
    ("shop.quote_drawing", "GET"): (
        "/shop/quotes/{acme_quote}/drawings/999999",
        shop(ACME_QUOTERS, not_found=OTHER_QUOTERS, ok=404),
    ),
    ("office.order_drawing", "GET"): (
        "/office/orders/{acme_order}/drawings/999999",
        office(ORDER_VIEWERS_FOR_ACME, not_found=(MARCO,), ok=404),
    ),
    ("shop.order_drawing", "GET"): (
        "/shop/orders/{acme_order}/drawings/999999",
        shop(ACME_READERS, not_found=NOT_ACME, ok=404),
    ),
}
