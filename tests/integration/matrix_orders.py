"""Matrix rows of carts, approvals and orders (merged by test_authorization_matrix).

Record ids come from the demo: an Acme order (Anna's customer, not Marco's), Acme's
submitted request (request@acme.test's cart) and a line of Baltic's requester's open
cart, so swapping ids across companies, people and reps must answer 404.
"""

from sqlalchemy import select

from core.models import Cart, CartLine, Company, Order, User
from tests.matrix_base import (
    ADMIN,
    ANNA,
    CART_HOLDERS,
    DECISION_MAKERS,
    FINANCE,
    MANAGER,
    MARCO,
    OTHER_DECISION_MAKERS,
    VIEWER,
    WAREHOUSE,
    office,
    shop,
)

ACME_READERS = ("orders@acme.test", "request@acme.test")
BALTIC_REQUESTER = "request@baltic.test"
ORDER_VIEWERS_FOR_ACME = (ADMIN, MANAGER, ANNA, WAREHOUSE, FINANCE, VIEWER)
ORDER_MOVERS_FOR_ACME = (ADMIN, MANAGER, ANNA, WAREHOUSE)


def _company_order(session, slug: str) -> int:
    return session.scalar(
        select(Order.id)
        .join(Company, Company.id == Order.company_id)
        .where(Company.slug == slug, Order.status == "placed")
        .order_by(Order.id)
    )


def ids(session) -> dict:
    """Demo records the rows' URLs need."""
    requester = select(User.id).where(User.email == "request@acme.test").scalar_subquery()
    baltic = select(User.id).where(User.email == BALTIC_REQUESTER).scalar_subquery()
    return {
        "acme_order": _company_order(session, "acme"),
        "carpathia_order": _company_order(session, "carpathia"),
        "acme_request": session.scalar(
            select(Cart.id).where(Cart.owner_id == requester, Cart.status == "submitted")
        ),
        "baltic_line": session.scalar(
            select(CartLine.id)
            .join(Cart, Cart.id == CartLine.cart_id)
            .where(Cart.owner_id == baltic, Cart.status == "open")
            .order_by(CartLine.id)
        ),
    }


# Another person's cart line is not found for every other holder of a cart.
NOT_MY_LINE = tuple(e for e in CART_HOLDERS if e != BALTIC_REQUESTER)
NOT_ACME = tuple(e for e in CART_HOLDERS if e not in ACME_READERS)

ROWS = {
    ("shop.cart", "GET"): ("/shop/cart", shop(CART_HOLDERS, ok=200)),
    ("shop.cart_add", "POST"): ("/shop/cart/lines", shop(CART_HOLDERS)),
    ("shop.cart_line", "POST"): (
        "/shop/cart/lines/{baltic_line}",
        shop((BALTIC_REQUESTER,), not_found=NOT_MY_LINE),
    ),
    ("shop.cart_remove", "POST"): (
        "/shop/cart/lines/{baltic_line}/remove",
        shop((BALTIC_REQUESTER,), not_found=NOT_MY_LINE),
    ),
    ("shop.cart_submit", "POST"): ("/shop/cart/submit", shop(CART_HOLDERS)),
    ("shop.checkout", "POST"): ("/shop/cart/checkout", shop(DECISION_MAKERS)),
    ("shop.approvals", "GET"): ("/shop/approvals", shop(DECISION_MAKERS, ok=200)),
    ("shop.approval", "GET"): (
        "/shop/approvals/{acme_request}",
        shop(("orders@acme.test",), not_found=OTHER_DECISION_MAKERS, ok=200),
    ),
    ("shop.approve", "POST"): (
        "/shop/approvals/{acme_request}/approve",
        shop(("orders@acme.test",), not_found=OTHER_DECISION_MAKERS),
    ),
    ("shop.reject", "POST"): (
        "/shop/approvals/{acme_request}/reject",
        shop(("orders@acme.test",), not_found=OTHER_DECISION_MAKERS),
    ),
    ("shop.orders", "GET"): ("/shop/orders", shop(CART_HOLDERS, ok=200)),
    ("shop.order", "GET"): (
        "/shop/orders/{acme_order}",
        shop(ACME_READERS, not_found=NOT_ACME, ok=200),
    ),
    # A document's PDF has exactly its page's rules.
    ("shop.order_pdf", "GET"): (
        "/shop/orders/{acme_order}.pdf",
        shop(ACME_READERS, not_found=NOT_ACME, ok=200),
    ),
    ("office.orders", "GET"): ("/office/orders", office((*ORDER_VIEWERS_FOR_ACME, MARCO), ok=200)),
    ("office.order", "GET"): (
        "/office/orders/{acme_order}",
        office(ORDER_VIEWERS_FOR_ACME, not_found=(MARCO,), ok=200),
    ),
    ("office.order_pdf", "GET"): (
        "/office/orders/{acme_order}.pdf",
        office(ORDER_VIEWERS_FOR_ACME, not_found=(MARCO,), ok=200),
    ),
    ("office.order_move", "POST"): (
        "/office/orders/{acme_order}/move",
        office(ORDER_MOVERS_FOR_ACME, not_found=(MARCO,)),
    ),
    # Carts (and quotes) waiting for a customer's second approval, of one company here;
    # staff who may move its orders give it. The demo's Acme request has no first
    # approval yet, so those who may give one are told why not.
    ("office.second_approvals", "GET"): (
        "/office/orders/second-approvals?company={acme}",
        office(ORDER_VIEWERS_FOR_ACME, not_found=(MARCO,), ok=200),
    ),
    ("office.cart_second_approval", "POST"): (
        "/office/orders/second-approvals/carts/{acme_request}",
        office(ORDER_MOVERS_FOR_ACME, not_found=(MARCO,)),
    ),
}
