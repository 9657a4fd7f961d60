"""Matrix rows of the storefront's shared lists (merged by test_authorization_matrix).

The rows name Acme's demo list "Drone controller BOM" and its first line. Everyone of a
customer company reads its lists; Decision-makers and Requesters (`shop.lists`) change
them, and put them in the cart (`shop.cart`); Browse-only people get a 403 for any
change; another company's people a 404 for Acme's list. Staff have no storefront.
"""

from sqlalchemy import select

from core.models import ShoppingList, ShoppingListLine
from tests.matrix_base import CART_HOLDERS, shop

ACME = ("orders@acme.test", "request@acme.test", "browse@acme.test")
ACME_EDITORS = ("orders@acme.test", "request@acme.test")
OTHER_EDITORS = tuple(e for e in CART_HOLDERS if e not in ACME_EDITORS)
OTHER_PEOPLE = tuple(
    f"{local}@{slug}.test"
    for slug in ("baltic", "carpathia", "delft", "etna")
    for local in ("orders", "request", "browse")
)
LIST = "/shop/lists/{acme_list}"


def ids(session) -> dict:
    """Demo records the rows' URLs need."""
    list_id = session.scalar(
        select(ShoppingList.id).where(ShoppingList.name == "Drone controller BOM")
    )
    line_id = session.scalar(
        select(ShoppingListLine.id)
        .where(ShoppingListLine.list_id == list_id)
        .order_by(ShoppingListLine.id)
    )
    return {"acme_list": list_id, "acme_list_line": line_id}


ROWS = {
    ("shop.lists", "GET"): ("/shop/lists", shop(ok=200)),
    ("shop.list_create", "POST"): ("/shop/lists", shop(CART_HOLDERS)),
    ("shop.list", "GET"): (LIST, shop(ACME, not_found=OTHER_PEOPLE, ok=200)),
    ("shop.list_export", "GET"): (f"{LIST}.csv", shop(ACME, not_found=OTHER_PEOPLE, ok=200)),
    ("shop.list_add_product", "GET"): (
        "/shop/lists/add?product_id={product}",
        shop(CART_HOLDERS, ok=200),
    ),
    ("shop.list_add_product", "POST"): ("/shop/lists/add", shop(CART_HOLDERS)),
    ("shop.list_to_cart", "POST"): (
        f"{LIST}/cart",
        shop(ACME_EDITORS, not_found=OTHER_EDITORS),
    ),
    **{
        (f"shop.{endpoint}", "POST"): (
            f"{LIST}/{path}",
            shop(ACME_EDITORS, not_found=OTHER_EDITORS),
        )
        for endpoint, path in (
            ("list_edit", "edit"),
            ("list_delete", "delete"),
            ("list_duplicate", "duplicate"),
            ("list_line_add", "lines"),
            ("list_line", "lines/{acme_list_line}"),
            ("list_line_remove", "lines/{acme_list_line}/remove"),
            ("list_import", "import"),
        )
    },
}
