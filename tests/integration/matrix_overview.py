"""Matrix rows of the overview's global search (merged by test_authorization_matrix).

Every staff person may search; what each finds is scoped (tests/integration/test_search.py),
so the page itself is never a 403 for staff, and always one for customer people.
"""

from tests.matrix_base import ALL_STAFF, office

ROWS = {
    ("office.search", "GET"): ("/office/search?q=SO-0001", office(ALL_STAFF, ok=200)),
}
