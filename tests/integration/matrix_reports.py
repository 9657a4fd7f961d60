"""Authorization matrix rows of the financial reports (merged by test_authorization_matrix).

Every report needs `reports.view` (a whole module: 403 without it, e.g. the warehouse);
margins also need `finance.costs`, so the sales reps and the read-only viewer, who see
the other reports, get a 403 there. Record scope narrows the figures, never the access.
"""

from tests.matrix_base import ADMIN, ANNA, FINANCE, MANAGER, MARCO, VIEWER, office

REPORT_READERS = (ADMIN, MANAGER, ANNA, MARCO, FINANCE, VIEWER)  # reports.view
COST_READERS = (ADMIN, MANAGER, FINANCE)  # reports.view and finance.costs

ROWS = {
    ("office.reports", "GET"): ("/office/reports", office(REPORT_READERS, ok=200)),
    **{
        (f"office.report_{name}", "GET"): (
            f"/office/reports/{name}?by=week",
            office(REPORT_READERS, ok=200),
        )
        for name in ("sales", "customers", "products", "reps", "ageing")
    },
    ("office.report_margins", "GET"): ("/office/reports/margins", office(COST_READERS, ok=200)),
}
