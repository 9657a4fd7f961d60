"""Authorization matrix rows of companies, credit notes, groups, group prices and the price
explainer (merged by test_authorization_matrix).

Acme is Anna's and not Marco's: record-level routes give Marco a 404 where his role would
allow the action. Groups are not scoped (every holder of groups.view sees all of them).
The POSTs are sent without a body: an allowed persona gets a form with errors or a
refusal (Standard still has a company, Acme has a trading history), never a 5xx.
"""

from sqlalchemy import select

from core.models import Company, CustomerGroup, Invoice
from tests.matrix_base import (
    ACME_VIEWERS,
    ADMIN,
    ANNA,
    FINANCE,
    MANAGER,
    MARCO,
    VIEWER,
    office,
)

COMPANY_EDITORS = (ADMIN, MANAGER, ANNA, MARCO)  # customers.edit
COMPANY_REMOVERS = (ADMIN, MANAGER)  # customers.delete
CREDITORS = (ADMIN, MANAGER, FINANCE)  # invoices.edit (with customers.view)
GROUP_READERS = (ADMIN, MANAGER, ANNA, MARCO, VIEWER)  # groups.view
GROUP_EDITORS = (ADMIN, MANAGER)  # groups.edit
EXPLAINERS = (ADMIN, MANAGER, ANNA, MARCO, FINANCE, VIEWER)  # customers.view + products.view

ROWS = {
    ("office.customer_create", "GET"): ("/office/customers/new", office(COMPANY_EDITORS, ok=200)),
    ("office.customer_create", "POST"): ("/office/customers/new", office(COMPANY_EDITORS)),
    ("office.customer_edit", "GET"): (
        "/office/customers/{acme}/edit",
        office((ADMIN, MANAGER, ANNA), not_found=(MARCO,), ok=200),
    ),
    ("office.customer_edit", "POST"): (
        "/office/customers/{acme}/edit",
        office((ADMIN, MANAGER, ANNA), not_found=(MARCO,)),
    ),
    **{
        (f"office.customer_{action}", "POST"): (
            f"/office/customers/{{acme}}/{action}",
            office(COMPANY_REMOVERS),
        )
        for action in ("deactivate", "reactivate", "delete")
    },
    ("office.customer_account", "GET"): (
        "/office/customers/{acme}/account",
        office(ACME_VIEWERS, not_found=(MARCO,), ok=200),
    ),
    ("office.customer_credit_note", "POST"): (
        "/office/customers/{acme}/credit-notes",
        office(CREDITORS),
    ),
    ("office.invoice_credit_note", "POST"): (
        "/office/invoices/{acme_open_invoice}/credit-notes",
        office(CREDITORS),
    ),
    ("office.groups", "GET"): ("/office/groups", office(GROUP_READERS, ok=200)),
    ("office.group", "GET"): ("/office/groups/{standard}", office(GROUP_READERS, ok=200)),
    ("office.group_create", "GET"): ("/office/groups/new", office(GROUP_EDITORS, ok=200)),
    ("office.group_create", "POST"): ("/office/groups/new", office(GROUP_EDITORS)),
    ("office.group_update", "POST"): ("/office/groups/{standard}", office(GROUP_EDITORS)),
    ("office.group_delete", "POST"): ("/office/groups/{standard}/delete", office(GROUP_EDITORS)),
    ("office.group_prices", "GET"): (
        "/office/groups/{standard}/prices",
        office(GROUP_READERS, ok=200),
    ),
    ("office.group_prices_save", "POST"): (
        "/office/groups/{standard}/prices",
        office(GROUP_EDITORS),
    ),
    ("office.group_prices_discount", "POST"): (
        "/office/groups/{standard}/prices/discount",
        office(GROUP_EDITORS),
    ),
    ("office.group_prices_remove", "POST"): (
        "/office/groups/{standard}/prices/remove",
        office(GROUP_EDITORS),
    ),
    ("office.group_prices_export", "GET"): (
        "/office/groups/{standard}/prices/export",
        office(GROUP_READERS, ok=200),
    ),
    # What a group sees: readers see it, editors change it. Product 1 is not hidden from
    # Standard on its own, so showing it "again" is the editors' 404 of a line not there.
    ("office.group_visibility", "GET"): (
        "/office/groups/{standard}/visibility",
        office(GROUP_READERS, ok=200),
    ),
    ("office.group_visibility_categories", "POST"): (
        "/office/groups/{standard}/visibility/categories",
        office(GROUP_EDITORS),
    ),
    ("office.group_visibility_hide", "POST"): (
        "/office/groups/{standard}/visibility/products",
        office(GROUP_EDITORS),
    ),
    ("office.group_visibility_show", "POST"): (
        "/office/groups/{standard}/visibility/products/{product}/show",
        office(GROUP_EDITORS, ok=404),
    ),
    ("office.group_breaks", "GET"): (
        "/office/groups/{wholesale}/prices/{product}/breaks",
        office(GROUP_READERS, ok=200),
    ),
    ("office.group_breaks_save", "POST"): (
        "/office/groups/{standard}/prices/{product}/breaks",
        office(GROUP_EDITORS),
    ),
    ("office.explain", "GET"): (
        "/office/explain?company={acme}&sku=MCU-STM32F401",
        office((ADMIN, MANAGER, ANNA, FINANCE, VIEWER), not_found=(MARCO,), ok=200),
    ),
}
assert set(EXPLAINERS) - {MARCO} == set(ACME_VIEWERS)


def ids(session) -> dict:
    """The Standard group (which has a company), Wholesale (which has its own price and
    breaks of product 1, MCU-STM32F401) and Acme's lowest open invoice."""
    return {
        "wholesale": session.scalar(
            select(CustomerGroup.id).where(CustomerGroup.name == "Wholesale")
        ),
        "standard": session.scalar(
            select(CustomerGroup.id).where(CustomerGroup.name == "Standard")
        ),
        "acme_open_invoice": session.scalar(
            select(Invoice.id)
            .join(Company, Company.id == Invoice.company_id)
            .where(
                Company.slug == "acme",
                Invoice.voided_at.is_(None),
                Invoice.paid_total + Invoice.credited_total < Invoice.total,
            )
            .order_by(Invoice.number)
            .limit(1)
        ),
    }
