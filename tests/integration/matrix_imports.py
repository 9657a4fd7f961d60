"""Authorization matrix rows of CSV imports and exports (merged by test_authorization_matrix).

Imports are for people who may change products, stock or group prices (admin, manager,
warehouse); everyone else's request is a 403. An import job is its starter's alone: the
template database holds none, so a job URL is a 404 even for those who may import (their
own jobs are tested in test_imports.py). Exports follow the list they export.
"""

from tests.matrix_base import (
    ADMIN,
    ALL_STAFF,
    ANNA,
    FINANCE,
    MANAGER,
    MARCO,
    VIEWER,
    WAREHOUSE,
    office,
)

IMPORTERS = (ADMIN, MANAGER, WAREHOUSE)  # products.edit, stock.edit or groups.edit
GROUP_PRICE_IMPORTERS = (ADMIN, MANAGER)  # groups.edit
INVOICE_READERS = (ADMIN, MANAGER, ANNA, MARCO, FINANCE, VIEWER)

ROWS = {
    ("office.imports_page", "GET"): ("/office/imports", office(IMPORTERS, ok=200)),
    # Without a file the form answers 422: allowed, and nothing is written.
    ("office.import_start", "POST"): ("/office/imports", office(IMPORTERS, ok=422)),
    ("office.import_job", "GET"): ("/office/imports/999999", office((), not_found=IMPORTERS)),
    ("office.import_errors", "GET"): (
        "/office/imports/999999/errors.csv",
        office((), not_found=IMPORTERS),
    ),
    ("office.import_template", "GET"): (
        "/office/imports/template/group_prices.csv",
        {
            **office(GROUP_PRICE_IMPORTERS, ok=200),
            WAREHOUSE: 403,  # may import products and stock, not group prices
        },
    ),
    ("office.export_products", "GET"): ("/office/exports/products", office(ALL_STAFF, ok=200)),
    ("office.export_orders", "GET"): ("/office/exports/orders", office(ALL_STAFF, ok=200)),
    ("office.export_invoices", "GET"): (
        "/office/exports/invoices",
        office(INVOICE_READERS, ok=200),
    ),
}
