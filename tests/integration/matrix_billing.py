"""Authorization matrix rows of invoices, payments and credit notes (merged by
test_authorization_matrix).

`acme_invoice` and `carpathia_invoice` are outstanding invoices of companies served by
different reps: Anna (Acme) and Marco (Carpathia) each get a 404 for the other's, and
every decision-maker but Acme's gets a 404 for Acme's. `baltic_credit_note` is Baltic's
(Anna's customer, not Marco's). A document's PDF has exactly its page's rules.
"""

from sqlalchemy import select

from core.models import Company, CreditNote, Invoice
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
BALTIC_VIEWERS = (ADMIN, MANAGER, ANNA, FINANCE, VIEWER)  # invoices.view, Baltic in scope
NOT_BALTIC = tuple(e for e in DECISION_MAKERS if e != "orders@baltic.test")

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
    ("office.invoice_pdf", "GET"): (
        "/office/invoices/{carpathia_invoice}.pdf",
        office(CARPATHIA_VIEWERS, not_found=(ANNA,), ok=200),
    ),
    ("shop.invoice_pdf", "GET"): (
        "/shop/invoices/{acme_invoice}.pdf",
        shop(("orders@acme.test",), not_found=OTHER_DECISION_MAKERS, ok=200),
    ),
    **{
        (f"office.credit_note{suffix}", "GET"): (
            f"/office/credit-notes/{{baltic_credit_note}}{extension}",
            office(BALTIC_VIEWERS, not_found=(MARCO,), ok=200),
        )
        for suffix, extension in (("", ""), ("_pdf", ".pdf"))
    },
    **{
        (f"shop.credit_note{suffix}", "GET"): (
            f"/shop/credit-notes/{{baltic_credit_note}}{extension}",
            shop(("orders@baltic.test",), not_found=NOT_BALTIC, ok=200),
        )
        for suffix, extension in (("", ""), ("_pdf", ".pdf"))
    },
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

    baltic_note = session.scalar(
        select(CreditNote.id)
        .join(Company, Company.id == CreditNote.company_id)
        .where(Company.slug == "baltic")
        .order_by(CreditNote.number)
        .limit(1)
    )
    return {
        "acme_invoice": outstanding("acme"),
        "carpathia_invoice": outstanding("carpathia"),
        "baltic_credit_note": baltic_note,
    }
