"""Authorization matrix rows of products, photos and stock (merged by test_authorization_matrix).

From DESIGN.md: every staff person sees products; Admin, Store manager and Warehouse
change them (products.edit); only Admin and Store manager archive, restore or delete
them (products.delete); stock and its history are for those with stock.view (not
Finance). Customers never enter the back office. Photo ids that do not exist are a 404
for those who may act on photos, a 403 for everyone else.
"""

from tests.matrix_base import (
    ADMIN,
    ALL_STAFF,
    ANNA,
    MANAGER,
    MARCO,
    VIEWER,
    WAREHOUSE,
    office,
)

EDITORS = (ADMIN, MANAGER, WAREHOUSE)  # products.edit
DELETERS = (ADMIN, MANAGER)  # products.delete
STOCK_VIEWERS = (ADMIN, MANAGER, ANNA, MARCO, WAREHOUSE, VIEWER)  # stock.view
STOCK_EDITORS = (ADMIN, MANAGER, WAREHOUSE)  # stock.edit
NO_PHOTO = 999_999_999

ROWS = {
    ("office.product_new", "GET"): ("/office/products/new", office(EDITORS, ok=200)),
    ("office.product_new", "POST"): ("/office/products/new", office(EDITORS)),
    ("office.product", "GET"): ("/office/products/{product}", office(ALL_STAFF, ok=200)),
    ("office.product_edit", "GET"): ("/office/products/{product}/edit", office(EDITORS, ok=200)),
    ("office.product_edit", "POST"): ("/office/products/{product}/edit", office(EDITORS)),
    ("office.product_archive", "POST"): ("/office/products/{product}/archive", office(DELETERS)),
    ("office.product_restore", "POST"): ("/office/products/{product}/restore", office(DELETERS)),
    ("office.product_delete", "POST"): ("/office/products/{product}/delete", office(DELETERS)),
    ("office.product_photos", "GET"): (
        "/office/products/{product}/photos",
        office(ALL_STAFF, ok=200),
    ),
    ("office.product_photos_add", "POST"): (
        "/office/products/{product}/photos",
        office(EDITORS),
    ),
    ("office.product_photo_delete", "POST"): (
        f"/office/products/{{product}}/photos/{NO_PHOTO}/delete",
        office(not_found=EDITORS),
    ),
    ("office.product_photo_move", "POST"): (
        f"/office/products/{{product}}/photos/{NO_PHOTO}/move",
        office(not_found=EDITORS),
    ),
    ("office.photo", "GET"): ("/office/photos/none.jpg", office(ALL_STAFF, ok=404)),
    ("office.stock_product", "GET"): ("/office/stock/{product}", office(STOCK_VIEWERS, ok=200)),
    ("office.stock_low", "GET"): ("/office/stock/low", office(STOCK_VIEWERS, ok=200)),
    # Goods in (back-orders served first): those who adjust stock (stock.edit).
    ("office.stock_receive", "POST"): (
        "/office/stock/{product}/receipt",
        office(STOCK_EDITORS),
    ),
}
