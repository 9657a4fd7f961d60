"""Authorization matrix rows of invoices and payments (merged by test_authorization_matrix).

`acme_invoice` and `carpathia_invoice` are outstanding invoices of companies served by
different reps: Anna (Acme) and Marco (Carpathia) each get a 404 for the other's, and
every decision-maker but Acme's gets a 404 for Acme's.
"""

from sqlalchemy import select

from core.models import Company, Invoice
from tests.matrix_base import (
    ACME_VIEWERS,
    ADMIN,
    ANNA,
    CUSTOMER_VIEWERS,
    DECISION_MAKERS,
    FINANCE,
    MANAGER,
    MARCO,
    OTHER_DECISION_MAKERS,
    VIEWER,
    office,
    shop,
)

INVOICE_READERS = CUSTOMER_VIEWERS  # invoices.view: admin, manager, both reps, finance, viewer
CARPATHIA_VIEWERS = (ADMIN, MANAGER, MARCO, FINANCE, VIEWER)
PAYMENT_RECORDERS = (ADMIN, MANAGER, FINANCE)  # invoices.edit

ROWS = {
    ("office.invoices", "GET"): ("/office/invoices", office(INVOICE_READERS, ok=200)),
    ("office.invoice", "GET"): (
        "/office/invoices/{carpathia_invoice}",
        office(CARPATHIA_VIEWERS, not_found=(ANNA,), ok=200),
    ),
    ("office.invoice_payment", "POST"): (
        "/office/invoices/{acme_invoice}/payments",
        office(PAYMENT_RECORDERS),
    ),
    ("shop.invoices", "GET"): ("/shop/invoices", shop(DECISION_MAKERS, ok=200)),
    ("shop.invoice", "GET"): (
        "/shop/invoices/{acme_invoice}",
        shop(("orders@acme.test",), not_found=OTHER_DECISION_MAKERS, ok=200),
    ),
}
assert set(ACME_VIEWERS) - {ANNA} < set(INVOICE_READERS)


def ids(session) -> dict:
    """The lowest-numbered outstanding invoice of Acme and of Carpathia."""

    def outstanding(slug: str) -> int:
        return session.scalar(
            select(Invoice.id)
            .join(Company, Company.id == Invoice.company_id)
            .where(
                Company.slug == slug,
                Invoice.voided_at.is_(None),
                Invoice.paid_total < Invoice.total,
            )
            .order_by(Invoice.number)
            .limit(1)
        )

    return {"acme_invoice": outstanding("acme"), "carpathia_invoice": outstanding("carpathia")}
