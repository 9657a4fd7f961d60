"""Matrix rows of acting for a customer (merged by test_authorization_matrix).

Staff with `customers.act` (Admin, Store manager, Sales staff) open the storefront as a
person of a customer in their scope: Marco's customers are not Acme (404), and staff
without the permission get a 403, as does every customer person (no back office). Any
member of staff may leave the storefront they opened (nothing open: back to the office).
"""

from tests.matrix_base import ADMIN, ALL_STAFF, ANNA, MANAGER, MARCO, office

ACTORS = (ADMIN, MANAGER, ANNA)

ROWS = {
    ("office.customer_act", "POST"): (
        "/office/customers/{acme}/act",
        office(ACTORS, not_found=(MARCO,)),
    ),
    ("office.customer_view_as", "POST"): (
        "/office/customers/{acme}/view-as",
        office(ACTORS, not_found=(MARCO,)),
    ),
    ("office.acting_end", "POST"): ("/office/acting/end", office(ALL_STAFF)),
    ("office.acting_records", "GET"): ("/office/acting", office((*ACTORS, MARCO), ok=200)),
}
