"""Matrix rows of address books, shipping methods and checkout's delivery choices (merged by
test_authorization_matrix).

Address routes name Acme's second (not default) address: Anna's customer, not Marco's,
so record-level routes give Marco a 404 where his role would allow the action, and every
other company's decision-maker a 404 on the storefront. Shipping methods are not scoped.
"""

from sqlalchemy import select

from core.models import Company, DeliveryAddress, ShippingMethod
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

ADDRESS_KEEPERS_FOR_ACME = (ADMIN, MANAGER, ANNA)  # customers.edit, Acme in scope
SHIPPING_VIEWERS = (ADMIN, MANAGER, ANNA, MARCO, WAREHOUSE, FINANCE, VIEWER)  # shipping.view
SHIPPING_EDITORS = (ADMIN, MANAGER, WAREHOUSE)  # shipping.edit


def ids(session) -> dict:
    """Demo records the rows' URLs need."""
    acme = select(Company.id).where(Company.slug == "acme").scalar_subquery()
    return {
        "acme_address": session.scalar(
            select(DeliveryAddress.id).where(
                DeliveryAddress.company_id == acme, DeliveryAddress.is_default.is_(False)
            )
        ),
        "shipping_method": session.scalar(
            select(ShippingMethod.id).where(ShippingMethod.name == "Express")
        ),
    }


ACME_ADDRESS = "/office/customers/{acme}/addresses/{acme_address}"

ROWS = {
    ("shop.addresses", "GET"): ("/shop/addresses", shop(DECISION_MAKERS, ok=200)),
    ("shop.address_create", "POST"): ("/shop/addresses", shop(DECISION_MAKERS)),
    ("shop.address_edit", "GET"): (
        "/shop/addresses/{acme_address}/edit",
        shop(("orders@acme.test",), not_found=OTHER_DECISION_MAKERS, ok=200),
    ),
    **{
        (f"shop.address_{action}", "POST"): (
            f"/shop/addresses/{{acme_address}}/{action}",
            shop(("orders@acme.test",), not_found=OTHER_DECISION_MAKERS),
        )
        for action in ("edit", "default", "delete")
    },
    ("office.customer_address_new", "GET"): (
        "/office/customers/{acme}/addresses/new",
        office(ADDRESS_KEEPERS_FOR_ACME, not_found=(MARCO,), ok=200),
    ),
    ("office.customer_address_new", "POST"): (
        "/office/customers/{acme}/addresses/new",
        office(ADDRESS_KEEPERS_FOR_ACME, not_found=(MARCO,)),
    ),
    ("office.customer_address_edit", "GET"): (
        f"{ACME_ADDRESS}/edit",
        office(ADDRESS_KEEPERS_FOR_ACME, not_found=(MARCO,), ok=200),
    ),
    **{
        (f"office.customer_address_{action}", "POST"): (
            f"{ACME_ADDRESS}/{action}",
            office(ADDRESS_KEEPERS_FOR_ACME, not_found=(MARCO,)),
        )
        for action in ("edit", "default", "delete")
    },
    ("office.shipping_methods", "GET"): (
        "/office/shipping-methods",
        office(SHIPPING_VIEWERS, ok=200),
    ),
    ("office.shipping_method_create", "GET"): (
        "/office/shipping-methods/new",
        office(SHIPPING_EDITORS, ok=200),
    ),
    ("office.shipping_method_create", "POST"): (
        "/office/shipping-methods/new",
        office(SHIPPING_EDITORS),
    ),
    ("office.shipping_method", "GET"): (
        "/office/shipping-methods/{shipping_method}",
        office(SHIPPING_VIEWERS, ok=200),
    ),
    **{
        (endpoint, "POST"): (
            f"/office/shipping-methods/{{shipping_method}}{path}",
            office(SHIPPING_EDITORS),
        )
        for endpoint, path in (
            ("office.shipping_method_update", ""),
            ("office.shipping_method_active", "/active"),
            ("office.shipping_method_delete", "/delete"),
        )
    },
    ("shop.cart_choices", "POST"): ("/shop/cart/choices", shop(CART_HOLDERS)),
}
