"""Matrix rows of the catalogue's filters and views (merged by test_authorization_matrix).

The search box's suggestions are the catalogue's own search: every customer person reads
them, as their group sees the catalogue; staff have no storefront. The filters and the
table view are parameters of `/shop/`, whose row is among the matrix's own; their pages
on a phone are checked by tests/browser/test_catalog_filters_browser.py.
"""

from tests.matrix_base import shop

ROWS = {
    ("shop.catalog_suggest", "GET"): ("/shop/suggest?q=stm32", shop(ok=200)),
}
