"""Matrix rows of the quick order and reorder (merged by test_authorization_matrix).

Both fill the cart, so both need `shop.cart`: Decision-makers and Requesters are
served, Browse-only people get a 403, staff have no storefront. Reorder names Acme's
placed order (`acme_order`, from matrix_orders): the cart holders of other companies get
a 404 for it, as for the order's page.
"""

from tests.matrix_base import CART_HOLDERS, shop

ACME_CART_HOLDERS = ("orders@acme.test", "request@acme.test")
OTHER_CART_HOLDERS = tuple(e for e in CART_HOLDERS if e not in ACME_CART_HOLDERS)

ROWS = {
    ("shop.quick_order", "GET"): ("/shop/quick-order", shop(CART_HOLDERS, ok=200)),
    # Sent empty: a clear 422 for whoever may use it.
    ("shop.quick_order_check", "POST"): ("/shop/quick-order", shop(CART_HOLDERS)),
    ("shop.quick_order_add", "POST"): ("/shop/quick-order/cart", shop(CART_HOLDERS)),
    ("shop.order_reorder", "POST"): (
        "/shop/orders/{acme_order}/reorder",
        shop(ACME_CART_HOLDERS, not_found=OTHER_CART_HOLDERS),
    ),
}
