"""Invoices and payments: issuing, numbering, payments, balances, both faces, live, print."""

import re
import time
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from html import unescape

import pytest
from sqlalchemy import func, select, update

from blueprints.fragments import billing as billing_fragments
from core import billing, orders, shipments
from core.models import (
    CENT,
    AuditEntry,
    Company,
    Invoice,
    Order,
    Product,
    Sequence,
)
from core.orders import LineRequest
from extensions import db
from tests.conftest import sql
from tests.html import find, find_all
from tests.records import company, user
from tests.sockets import drain, watch

ADMIN = "admin@portal.test"
FINANCE = "finance@portal.test"
ANNA = "anna.sales@portal.test"
MARCO = "marco.sales@portal.test"
VIEWER = "viewer@portal.test"
WAREHOUSE = "warehouse@portal.test"
PRINT_BUTTON = re.compile(r'<button type="button" class="[^"]*" data-print>Print</button>')
SKUS = (("MCU-STM32F401", 3), ("CAP-1206-10U", 7), ("RES-0402-10K", 37))


# Helpers ------------------------------------------------------------------------------


def product_id(sku: str) -> int:
    return db.session.scalar(select(Product.id).where(Product.sku == sku))


def place(slug: str = "carpathia", lines=SKUS) -> Order:
    """A placed order of the company's decision-maker, committed."""
    order = orders.place(
        company(slug),
        [LineRequest(product_id(sku), quantity) for sku, quantity in lines],
        placed_by=user(f"orders@{slug}.test"),
    )
    db.session.commit()
    return order


def confirm(order: Order) -> Invoice:
    """Confirm the order (which issues its invoice) and commit."""
    orders.move(order, "confirmed", actor=user(ADMIN))
    db.session.commit()
    return db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))


def make_invoice(slug: str = "carpathia", lines=SKUS) -> Invoice:
    return confirm(place(slug, lines))


def pay(invoice: Invoice, amount, received_on=None, method="transfer", reference="", email=FINANCE):
    """Record a payment through the service and commit, as the view does."""
    payment = billing.record_payment(
        invoice,
        Decimal(amount),
        received_on or billing.today(),
        method,
        reference,
        actor=user(email),
    )
    db.session.commit()
    return payment


def fresh(invoice_id: int) -> Invoice:
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(Invoice, invoice_id)


def snapshot(invoice_id: int) -> tuple:
    """Everything recording a payment could change, to prove that nothing did."""
    db.session.rollback()
    return (
        tuple(sql("SELECT paid_total FROM invoices WHERE id = :i", i=invoice_id)),
        tuple(sql("SELECT COUNT(*) FROM payments")),
        tuple(sql("SELECT COUNT(*) FROM audit_log")),
        tuple(sql("SELECT COUNT(*) FROM outbox")),
    )


def invoice_of(slug: str, status: str) -> Invoice:
    """A demo invoice of the company in this status (see demo.trade)."""
    db.session.rollback()
    return db.session.scalar(
        billing.visible_invoices(user(ADMIN))
        .join(Invoice.company)
        .where(Company.slug == slug, billing.status_condition(status, billing.today()))
        .order_by(Invoice.number)
        .limit(1)
    )


def input_value(html: str, name: str) -> str | None:
    """The value an <input> of the page holds (tests.html skips void elements)."""
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html)
    assert tag, f"no input named {name}"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else None


def numbers(html: str) -> list[str]:
    return re.findall(r">(INV-\d{6})</a>", html)


def form_post(client, invoice_id: int, htmx: bool = True, **data):
    fields = {
        "amount": "",
        "received_on": billing.today().isoformat(),
        "method": "transfer",
        "reference": "",
    }
    fields.update(data)
    return client.send("POST", f"/office/invoices/{invoice_id}/payments", data=fields, htmx=htmx)


# Issuing and numbering ----------------------------------------------------------------


def test_invoice_total_equals_order_total_and_its_lines_to_the_cent(ctx):
    order = place()
    before = db.session.scalar(select(func.max(Invoice.number)))
    invoice = confirm(order)
    invoice = fresh(invoice.id)  # as stored, not as computed in memory
    order = db.session.get(Order, order.id)
    expected = sum(
        (line.unit_price * line.quantity).quantize(CENT, ROUND_HALF_UP) for line in order.lines
    )
    assert any(line.unit_price != line.unit_price.quantize(CENT) for line in order.lines)
    # Net: the order's goods (no shipping on this order); owed: net plus VAT, rounded once
    # per rate (Acme is in the seller's country: 19 %).
    assert invoice.net_total == order.total == expected
    assert sum(line.line_total for line in invoice.lines) == invoice.net_total
    assert (
        invoice.vat_total == order.vat_total == (expected * 19 / 100).quantize(CENT, ROUND_HALF_UP)
    )
    assert invoice.total == invoice.net_total + invoice.vat_total == order.gross_total
    assert [(ln.sku, ln.quantity, ln.unit_price, ln.line_total) for ln in invoice.lines] == [
        (ln.sku, ln.quantity, ln.unit_price, ln.line_total) for ln in order.lines
    ]
    assert invoice.number == before + 1
    # Due after the company's payment terms (Carpathia: 14 days).
    assert invoice.due_on == invoice.issued_at.date() + timedelta(days=14)
    assert invoice.status_on(billing.today()) == "open"
    # Shipping the confirmed order (through a shipment of everything) does not bill it twice.
    sent = shipments.create(
        order, {ln.id: ln.quantity for ln in order.lines}, carrier_id=None, actor=user(ADMIN)
    )
    shipments.mark_shipped(sent, actor=user(ADMIN))
    db.session.commit()
    assert db.session.get(Order, order.id).status == "shipped"
    assert db.session.scalar(select(func.count()).where(Invoice.order_id == order.id)) == 1
    assert db.session.scalar(select(func.max(Invoice.number))) == before + 1


def test_invoice_is_mailed_to_the_invoice_holders_only(ctx):
    invoice = make_invoice()
    mailed = sql(
        "SELECT to_addr FROM outbox WHERE subject LIKE :s", s=f"Invoice {invoice.display_number}%"
    )
    assert [row[0] for row in mailed] == ["orders@carpathia.test"]


def test_numbers_have_no_gaps_and_a_rollback_gives_its_number_back(ctx):
    first, second, third = place(), place(), place()
    start = db.session.get(Sequence, "invoice").next_value
    a = confirm(first).number
    orders.move(second, "confirmed", actor=user(ADMIN))  # takes start + 1 ...
    db.session.flush()
    taken = db.session.scalar(select(Invoice.number).where(Invoice.order_id == second.id))
    db.session.rollback()  # ... and gives it back
    assert taken == start + 1
    b = confirm(db.session.get(Order, third.id)).number
    c = confirm(db.session.get(Order, second.id)).number
    assert [a, b, c] == [start, start + 1, start + 2]
    all_numbers = sorted(db.session.scalars(select(Invoice.number)))
    assert all_numbers == list(range(1, len(all_numbers) + 1))
    assert db.session.get(Sequence, "invoice").next_value == start + 3


# Payments -------------------------------------------------------------------------------


def test_partial_then_full_payment_moves_open_to_partially_paid_to_paid(ctx):
    invoice = make_invoice()
    total, today = invoice.total, billing.today()
    assert invoice.status_on(today) == "open"
    before = billing.balance(invoice.company_id, today)

    pay(invoice, "10.00", reference="BANK-1")
    invoice = fresh(invoice.id)
    assert invoice.status_on(today) == "partially paid"
    assert invoice.paid_total == Decimal("10.00")
    assert invoice.balance == total - Decimal("10.00")
    middle = billing.balance(invoice.company_id, today)
    assert middle.open_amount == before.open_amount - Decimal("10.00")
    assert middle.open_count == before.open_count
    assert middle.paid_amount == before.paid_amount + Decimal("10.00")

    pay(invoice, str(invoice.balance), method="card")
    invoice = fresh(invoice.id)
    assert invoice.status_on(today) == "paid"
    assert invoice.paid_total == total and invoice.balance == 0
    assert [(p.amount, p.method) for p in invoice.payments] == [
        (Decimal("10.00"), "transfer"),
        (total - Decimal("10.00"), "card"),
    ]
    after = billing.balance(invoice.company_id, today)
    assert after.open_count == before.open_count - 1
    assert after.open_amount == before.open_amount - total
    assert after.paid_count == before.paid_count + 1
    assert after.paid_amount == before.paid_amount + total

    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "payment.recorded", AuditEntry.target_id == invoice.id
        )
    ).all()
    assert [e.after["paid_total"] for e in entries] == ["10.00", str(total)]
    assert all(e.actor.email == FINANCE for e in entries)
    receipts = sql(
        "SELECT to_addr, body FROM outbox WHERE subject = :s",
        s=f"Payment received for invoice {invoice.display_number}",
    )
    assert [r[0] for r in receipts] == ["orders@carpathia.test"] * 2
    assert "remains open" in receipts[0][1] and "paid in full" in receipts[1][1]
    # Amounts as the reader's language writes them (English: the sign first).
    assert "We received €10.00 on" in receipts[0][1]
    assert f"€{total - Decimal('10.00'):,.2f} remains open, due on" in receipts[0][1]


def test_a_recorded_payment_is_published_only_after_commit(ctx):
    from core import events

    seen = []
    events.subscribe(seen.extend)
    try:
        invoice = make_invoice()
        seen.clear()
        billing.record_payment(
            invoice, Decimal("1.00"), billing.today(), "cash", "", actor=user(FINANCE)
        )
        assert seen == []
        db.session.rollback()
        assert seen == []
        pay(invoice, "1.00")
        assert ("invoice_changed", invoice.id) in [(e.topic, e.id) for e in seen]
    finally:
        events.unsubscribe(seen.extend)


REFUSALS = [
    pytest.param({"amount": "overpay"}, "more than the open balance", id="overpayment"),
    pytest.param({"amount": "0"}, "above zero", id="zero"),
    pytest.param({"amount": "0.00"}, "above zero", id="zero-cents"),
    pytest.param({"amount": "-5.00"}, "above zero", id="negative"),
    pytest.param({"amount": "10.005"}, "two decimals", id="three-decimals"),
    pytest.param({"amount": "0.001"}, "two decimals", id="sub-cent"),
    pytest.param({"days": 1}, "future", id="tomorrow"),
    pytest.param({"days": 400}, "future", id="next-year"),
    pytest.param({"days": -4000}, "before order", id="before-the-order"),
    pytest.param({"method": "bitcoin"}, "how the money was paid", id="unknown-method"),
    pytest.param({"reference": "x" * 81}, "at most 80", id="long-reference"),
]


@pytest.mark.parametrize(("change", "message"), REFUSALS)
def test_refused_payments_change_nothing(ctx, change, message):
    invoice = make_invoice()
    pay(invoice, "1.00")
    invoice = fresh(invoice.id)
    before = snapshot(invoice.id)
    amount = change.get("amount", "1.00")
    amount = invoice.balance + CENT if amount == "overpay" else Decimal(amount)
    with pytest.raises(billing.PaymentRefused, match=message):
        billing.record_payment(
            invoice,
            amount,
            billing.today() + timedelta(days=change.get("days", 0)),
            change.get("method", "transfer"),
            change.get("reference", ""),
            actor=user(FINANCE),
        )
    db.session.rollback()
    assert snapshot(invoice.id) == before


def test_overpayment_message_names_the_open_balance(ctx):
    invoice = make_invoice()
    pay(invoice, "5.00")
    invoice = fresh(invoice.id)
    with pytest.raises(billing.PaymentRefused) as refused:
        billing.record_payment(
            invoice, invoice.total, billing.today(), "transfer", "", actor=user(FINANCE)
        )
    assert f"open balance of €{invoice.balance:.2f}" in str(refused.value)
    assert refused.value.field == "amount"


def test_paid_and_void_invoices_take_no_payment(ctx):
    paid = make_invoice()
    pay(paid, str(paid.total))
    with pytest.raises(billing.PaymentRefused, match="already paid in full"):
        billing.record_payment(
            fresh(paid.id), CENT, billing.today(), "transfer", "", actor=user(FINANCE)
        )
    db.session.rollback()
    order = place()
    void = confirm(order)
    orders.move(db.session.get(Order, order.id), "cancelled", actor=user(ADMIN))
    db.session.commit()
    with pytest.raises(billing.PaymentRefused, match="void"):
        billing.record_payment(
            fresh(void.id), CENT, billing.today(), "transfer", "", actor=user(FINANCE)
        )


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("120.50", "120.50"),
        ("€ 120,5", "120.5"),
        ("1 234,50", "1234.50"),
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("7 EUR", "7"),
        ("10.005", "10.005"),  # parsed as typed: the service refuses it, nothing is rounded
    ],
)
def test_amounts_are_read_as_people_type_them(typed, amount):
    assert billing.parse_amount(typed) == Decimal(amount)


@pytest.mark.parametrize("typed", ["", "abc", "12a", "1e5", "NaN", "Infinity", "--1", "1.2.3,4,"])
def test_amounts_that_are_not_numbers_are_refused(typed):
    with pytest.raises(billing.PaymentRefused, match="as a number"):
        billing.parse_amount(typed)


# Statuses and balances ------------------------------------------------------------------


def test_overdue_is_computed_from_the_due_date(ctx):
    invoice = make_invoice()
    due = invoice.due_on
    assert invoice.status_on(due) == "open"
    assert invoice.status_on(due + timedelta(days=1)) == "overdue"
    pay(invoice, "2.00")
    invoice = fresh(invoice.id)
    assert invoice.status_on(due) == "partially paid"
    assert invoice.status_on(due + timedelta(days=1)) == "overdue"
    on_due = billing.balance(invoice.company_id, due)
    late = billing.balance(invoice.company_id, due + timedelta(days=1))
    assert late.overdue_count == on_due.overdue_count + 1
    assert late.overdue_amount == on_due.overdue_amount + invoice.balance
    assert late.open_amount == on_due.open_amount  # overdue is part of what is open

    def listed(status, on):
        stmt = select(Invoice.id).where(billing.status_condition(status, on))
        return invoice.id in set(db.session.scalars(stmt))

    assert listed("partially-paid", due) and not listed("overdue", due)
    assert listed("overdue", due + timedelta(days=1))
    assert not listed("partially-paid", due + timedelta(days=1))


def test_sql_status_filters_agree_with_status_on(ctx):
    make_invoice()  # open
    pay(make_invoice(), "3.00")  # partially paid
    order = place()
    confirm(order)
    orders.move(db.session.get(Order, order.id), "cancelled", actor=user(ADMIN))  # void
    db.session.commit()
    today = billing.today()
    everything = list(db.session.scalars(select(Invoice)))
    states = {i.id: i.status_on(today) for i in everything}
    assert set(states.values()) == {"open", "partially paid", "overdue", "paid", "void"}
    for status in billing.STATUS_FILTERS:
        found = set(
            db.session.scalars(select(Invoice.id).where(billing.status_condition(status, today)))
        )
        if status == "outstanding":
            wanted = {k for k, v in states.items() if v in ("open", "partially paid", "overdue")}
        else:
            wanted = {k for k, v in states.items() if v == status.replace("-", " ")}
        assert found == wanted, status


def test_balance_is_summed_in_sql_and_matches_the_invoices(ctx):
    today = billing.today()
    for slug in ("acme", "baltic", "carpathia", "delft", "etna"):
        mine = [
            i
            for i in db.session.scalars(
                select(Invoice).join(Invoice.company).where(Company.slug == slug)
            )
            if not i.voided_at
        ]
        owed = [i for i in mine if i.balance > 0]
        late = [i for i in owed if i.due_on < today]
        assert billing.balance(company(slug).id, today) == billing.Balance(
            open_count=len(owed),
            open_amount=sum((i.balance for i in owed), Decimal("0.00")),
            overdue_count=len(late),
            overdue_amount=sum((i.balance for i in late), Decimal("0.00")),
            paid_count=sum(1 for i in mine if i.balance <= 0),
            paid_amount=sum((i.paid_total for i in mine), Decimal("0.00")),
        ), slug


def test_void_invoices_are_excluded_from_balances(ctx):
    carpathia, today = company("carpathia").id, billing.today()
    before = billing.balance(carpathia, today)
    order = place()
    invoice = confirm(order)
    issued = billing.balance(carpathia, today)
    assert issued.open_count == before.open_count + 1
    assert issued.open_amount == before.open_amount + invoice.total
    orders.move(db.session.get(Order, order.id), "cancelled", actor=user(ADMIN))
    db.session.commit()
    invoice = fresh(invoice.id)
    assert invoice.voided_at is not None and invoice.status_on(today) == "void"
    assert billing.balance(carpathia, today) == before
    # Even once overdue, a void invoice stays out.
    db.session.execute(
        update(Invoice).where(Invoice.id == invoice.id).values(due_on=today - timedelta(days=30))
    )
    db.session.commit()
    assert billing.balance(carpathia, today) == before


# Storefront -----------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["request@acme.test", "browse@acme.test", "browse@etna.test"])
def test_requesters_and_browse_only_get_403(as_user, ctx, email):
    acme_invoice = invoice_of("acme", "outstanding").id
    c = as_user(email)
    assert c.get("/shop/invoices").status_code == 403
    assert c.get(f"/shop/invoices/{acme_invoice}").status_code == 403
    assert "Invoices" not in [
        a.text for a in find_all(c.get("/shop/").get_data(True), href="/shop/invoices")
    ]


def test_staff_never_enter_the_storefront_invoices(as_user):
    assert as_user(FINANCE).get("/shop/invoices").status_code == 403


def test_a_decision_maker_sees_the_company_balance_and_only_its_invoices(as_user, ctx):
    html = as_user("orders@acme.test").get("/shop/invoices").get_data(as_text=True)
    acme = company("acme")
    own = {
        i.display_number
        for i in db.session.scalars(select(Invoice).where(Invoice.company_id == acme.id))
    }
    assert set(numbers(html)) == own and len(own) == 4
    summary = billing.balance(acme.id, billing.today())
    region = find(html, id="balance")
    assert "data-live" in region.attrs
    assert f"€{summary.open_amount:,.2f}" in region.text
    assert f"€{summary.overdue_amount:,.2f}" in region.text
    assert f"€{summary.paid_amount:,.2f}" in region.text
    assert f"{summary.open_count} invoices" in region.text
    assert "data-live" in find(html, id="shop-invoices").attrs
    for name in ("Baltic Drones", "Carpathia Makers", "Delft Devices", "Etna Labs"):
        assert name not in html


def test_another_company_invoice_is_a_404(as_user, ctx):
    carpathia_invoice = invoice_of("carpathia", "outstanding").id
    assert as_user("orders@acme.test").get(f"/shop/invoices/{carpathia_invoice}").status_code == 404
    assert as_user("orders@acme.test").get("/shop/invoices/999999").status_code == 404
    assert (
        as_user("orders@carpathia.test").get(f"/shop/invoices/{carpathia_invoice}").status_code
        == 200
    )


def test_storefront_list_filters_by_status_and_pages(as_user, ctx, monkeypatch):
    c = as_user("orders@acme.test")
    paid = c.get("/shop/invoices?status=paid").get_data(as_text=True)
    overdue = c.get("/shop/invoices?status=overdue").get_data(as_text=True)
    assert len(numbers(paid)) == 2 and len(numbers(overdue)) == 2
    assert set(numbers(paid)).isdisjoint(numbers(overdue))
    assert "No invoice is void" in c.get("/shop/invoices?status=void").get_data(as_text=True)
    assert c.get("/shop/invoices?status=bogus").status_code == 400
    assert c.get("/shop/invoices?page=0").status_code == 400

    monkeypatch.setattr(billing_fragments, "PER_PAGE", 3)
    first = c.get("/shop/invoices").get_data(as_text=True)
    second = c.get("/shop/invoices?page=2").get_data(as_text=True)
    assert len(numbers(first)) == 3 and len(numbers(second)) == 1
    assert "Page 1 of 2" in first and 'href="/shop/invoices?page=2"' in first
    assert "There is no page 5" in c.get("/shop/invoices?page=5").get_data(as_text=True)


def test_storefront_list_fragment_for_htmx(as_user):
    html = as_user("orders@acme.test").htmx("/shop/invoices?status=paid").get_data(as_text=True)
    assert html.lstrip().startswith('<div id="shop-invoices"')
    assert "<html" not in html and 'id="balance"' not in html
    assert len(numbers(html)) == 2


def test_storefront_invoice_is_the_printable_document(as_user, ctx):
    invoice = invoice_of("acme", "outstanding")
    html = as_user("orders@acme.test").get(f"/shop/invoices/{invoice.id}").get_data(as_text=True)
    sheet = find(html, class_="invoice-sheet")
    assert "Northwind Components GmbH" in sheet.text and "DE811907980" in sheet.text
    assert "Hafenstraße 12" in sheet.text and "IBAN DE89" in sheet.text
    assert invoice.company.vat_number in sheet.text and "Robotikweg 4" in sheet.text
    assert invoice.order.number in sheet.text
    for line in invoice.lines:
        assert line.sku in sheet.text
    region = find(html, id=f"invoice-{invoice.id}")
    assert "data-live" in region.attrs and "Overdue" in region.text
    assert PRINT_BUTTON.search(html)
    assert "Recorded by" not in html  # staff-only detail


# Back office ----------------------------------------------------------------------------


def office_numbers(client, query: str = "") -> set[str]:
    return set(numbers(client.get(f"/office/invoices{query}").get_data(as_text=True)))


def numbers_of(*slugs: str) -> set[str]:
    return {
        i.display_number
        for i in db.session.scalars(
            select(Invoice).join(Invoice.company).where(Company.slug.in_(slugs))
        )
    }


def test_a_sales_rep_sees_only_assigned_companies_invoices(as_user, ctx):
    assert office_numbers(as_user(ANNA)) == numbers_of("acme", "baltic")
    assert office_numbers(as_user(MARCO)) == numbers_of("carpathia", "delft")
    carpathia_invoice = invoice_of("carpathia", "outstanding").id
    acme_invoice = invoice_of("acme", "outstanding").id
    assert as_user(ANNA).get(f"/office/invoices/{carpathia_invoice}").status_code == 404
    assert as_user(MARCO).get(f"/office/invoices/{acme_invoice}").status_code == 404
    assert (
        as_user(ANNA).get(f"/office/invoices?company={company('carpathia').id}").status_code == 404
    )
    assert office_numbers(as_user(ANNA), "?q=carpathia") == set()


@pytest.mark.parametrize("email", [FINANCE, ADMIN, "manager@portal.test", VIEWER])
def test_finance_and_all_customer_staff_see_every_invoice(as_user, ctx, email):
    everything = numbers_of("acme", "baltic", "carpathia", "delft", "etna")
    assert office_numbers(as_user(email)) == everything and len(everything) == 13


def test_warehouse_without_invoices_permission_gets_403(as_user, ctx):
    invoice = invoice_of("acme", "outstanding").id
    c = as_user(WAREHOUSE)
    assert c.get("/office/invoices").status_code == 403
    assert c.get(f"/office/invoices/{invoice}").status_code == 403
    assert form_post(c, invoice, amount="1.00").status_code == 403


def test_office_search_by_number_or_company_and_balance_by_company(as_user, ctx):
    c = as_user(FINANCE)
    invoice = invoice_of("carpathia", "outstanding")
    for query in (invoice.display_number, str(invoice.number), invoice.display_number.lower()):
        assert invoice.display_number in office_numbers(c, f"?q={query}")
    assert office_numbers(c, "?q=Carpathia") == numbers_of("carpathia")
    assert office_numbers(c, "?status=paid&q=acme") == {
        i.display_number
        for i in db.session.scalars(
            select(Invoice)
            .join(Invoice.company)
            .where(Company.slug == "acme", billing.status_condition("paid", billing.today()))
        )
    }
    assert "Balance of" not in c.get("/office/invoices").get_data(as_text=True)
    carpathia = company("carpathia")
    html = c.get(f"/office/invoices?company={carpathia.id}").get_data(as_text=True)
    assert set(numbers(html)) == numbers_of("carpathia")
    summary = billing.balance(carpathia.id, billing.today())
    balance = find(html, class_="balance")
    assert "Carpathia Makers" in balance.text
    assert f"€{summary.open_amount:,.2f}" in balance.text
    assert c.get("/office/invoices?company=abc").status_code == 400
    assert c.get("/office/invoices?status=late").status_code == 400


def test_office_list_fragment_for_htmx(as_user):
    html = as_user(FINANCE).htmx("/office/invoices?status=overdue").get_data(as_text=True)
    assert html.lstrip().startswith('<div id="invoices-table"') and "<html" not in html


def test_office_invoice_page_shows_seller_customer_lines_and_payments(as_user, ctx):
    invoice = invoice_of("acme", "paid")
    html = as_user(FINANCE).get(f"/office/invoices/{invoice.id}").get_data(as_text=True)
    sheet = find(html, class_="invoice-sheet").text
    assert "Northwind Components GmbH" in sheet and "DE811907980" in sheet
    assert invoice.company.vat_number in sheet and "Robotikweg 4" in sheet
    region = find(html, id=f"invoice-{invoice.id}")
    assert "Paid" in region.text and "Fiona Lindqvist" in region.text  # who recorded it
    assert "Paid in full" in find(html, id="payment-form").text
    assert PRINT_BUTTON.search(html)


def test_only_finance_gets_the_payment_form(as_user, ctx):
    invoice = invoice_of("acme", "outstanding").id
    finance = as_user(FINANCE).get(f"/office/invoices/{invoice}").get_data(as_text=True)
    assert find(finance, id="payment-form") is not None
    for email in (VIEWER, ANNA):
        html = as_user(email).get(f"/office/invoices/{invoice}").get_data(as_text=True)
        assert 'id="payment-form"' not in html and "/payments" not in html
        before = snapshot(invoice)
        assert form_post(as_user(email), invoice, amount="1.00").status_code == 403
        assert snapshot(invoice) == before


def test_finance_records_a_part_then_the_rest_through_the_page(as_user, ctx):
    invoice = make_invoice()
    c = as_user(FINANCE)
    response = form_post(c, invoice.id, amount="10,00", reference="BANK-77")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="payment-form"')
    assert "Payment of €10.00 recorded" in html
    region = find(html, id=f"invoice-{invoice.id}")
    assert region.attrs.get("hx-swap-oob") == "true"
    assert "Partially paid" in region.text and "BANK-77" in region.text
    assert input_value(html, "amount") in (None, "")  # a fresh form

    rest = fresh(invoice.id).balance
    response = form_post(c, invoice.id, htmx=False, amount=str(rest), method="card")
    assert response.status_code == 302
    page = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "The invoice is paid in full" in page
    assert "Paid in full: nothing is left to record" in page
    assert fresh(invoice.id).status_on(billing.today()) == "paid"


BAD_FORMS = [
    pytest.param({"amount": "abc"}, "as a number", id="not-a-number"),
    pytest.param({"amount": ""}, "Enter the amount", id="empty"),
    pytest.param({"amount": "0"}, "above zero", id="zero"),
    pytest.param({"amount": "-3"}, "above zero", id="negative"),
    pytest.param({"amount": "1.005"}, "two decimals", id="three-decimals"),
    pytest.param({"amount": "999999"}, "more than the open balance", id="overpayment"),
    pytest.param({"amount": "1.00", "days": 2}, "future", id="future"),
    pytest.param({"amount": "1.00", "received_on": "31/12"}, "as a date", id="bad-date"),
    pytest.param({"amount": "1.00", "method": "gold"}, "how the money was paid", id="method"),
    pytest.param({"amount": "1.00", "reference": "r" * 81}, "at most 80", id="reference"),
]


@pytest.mark.parametrize(("data", "message"), BAD_FORMS)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_bad_payments_are_explained_keep_the_input_and_change_nothing(
    as_user, ctx, data, message, htmx
):
    invoice = invoice_of("carpathia", "outstanding").id
    data = dict(data)
    days = data.pop("days", 0)
    if days:
        data["received_on"] = (billing.today() + timedelta(days=days)).isoformat()
    data.setdefault("reference", "kept-ref")
    before = snapshot(invoice)
    response = form_post(as_user(FINANCE), invoice, htmx=htmx, **data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in find(html, id="payment-form").text
    assert (input_value(html, "amount") or "") == data["amount"]
    if "reference" in data and len(data["reference"]) <= 80:
        assert input_value(html, "reference") == data["reference"]
    if htmx:
        assert "<html" not in html and "hx-swap-oob" not in html
    else:
        assert "invoice-sheet" in html  # the whole page again, with the form's errors
    assert snapshot(invoice) == before


# Live -------------------------------------------------------------------------------------


def test_a_recorded_payment_reaches_open_pages_of_those_who_may_see_it(connect, ctx):
    invoice = invoice_of("carpathia", "outstanding")
    region = f"invoice-{invoice.id}"
    sockets = {
        email: connect(email)
        for email in (
            "orders@carpathia.test",
            "request@carpathia.test",
            "orders@acme.test",
            MARCO,
            ANNA,
            WAREHOUSE,
        )
    }
    for ws in sockets.values():
        watch(ws, {region, "balance", "shop-invoices", "invoices-table"})
    time.sleep(0.3)
    pay(invoice, "25.00", reference="LIVE-1")
    received = {email: "".join(drain(ws, 1.5)) for email, ws in sockets.items()}

    customer = received["orders@carpathia.test"]
    assert f'id="{region}"' in customer and "€25.00" in customer and "LIVE-1" in customer
    assert "Partially paid" in customer or "Overdue" in customer
    summary = billing.balance(invoice.company_id, billing.today())
    assert 'id="balance"' in customer and f"€{summary.open_amount:,.2f}" in customer
    assert 'data-refresh="shop-invoices"' in customer
    assert "Recorded by" not in customer

    rep = received[MARCO]
    assert f'id="{region}"' in rep and "Fiona Lindqvist" in rep
    assert 'data-refresh="invoices-table"' in rep and 'id="balance"' not in rep

    # Not assigned, another company, no invoices permission: never this invoice.
    for email in (ANNA, "orders@acme.test", "request@carpathia.test", WAREHOUSE):
        assert f'id="{region}"' not in received[email], email
        assert "LIVE-1" not in received[email] and "Carpathia" not in received[email], email
    assert received["request@carpathia.test"] == "" and received[WAREHOUSE] == ""


# Browser ------------------------------------------------------------------------------------


@pytest.mark.browser
def test_print_hides_navigation_and_buttons(sign_in, ctx):
    invoice = invoice_of("acme", "outstanding")
    page = sign_in(FINANCE)
    page.goto(f"/office/invoices/{invoice.id}")
    assert page.locator("#nav").is_visible() and page.locator("#payment-form").is_visible()
    page.emulate_media(media="print")
    for selector in ("#nav", ".topbar", "#payment-form", "[data-print]", ".crumbs"):
        assert not page.locator(selector).first.is_visible(), selector
    sheet = page.locator(".invoice-sheet")
    assert sheet.is_visible() and "DE811907980" in sheet.inner_text()
    assert page.locator(f"#invoice-{invoice.id}").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")


@pytest.mark.browser
def test_a_payment_updates_the_customer_page_and_balance_without_reload(sign_in, ctx):
    invoice = invoice_of("carpathia", "outstanding")
    customer = sign_in("orders@carpathia.test")
    customer.goto(f"/shop/invoices/{invoice.id}")
    customer.wait_for_function("() => window.htmx && document.body.dataset.page")
    summary_page = sign_in("orders@carpathia.test")
    summary_page.goto("/shop/invoices")
    summary_page.wait_for_function("() => window.htmx && document.body.dataset.page")
    customer.wait_for_timeout(400)  # the sockets have said what they show

    finance = sign_in(FINANCE)
    finance.goto(f"/office/invoices/{invoice.id}")
    finance.fill("input[name=amount]", "30.00")
    finance.fill("input[name=reference]", "BROWSER-1")
    finance.click("#payment-form button[type=submit]")
    finance.wait_for_selector("text=Payment of €30.00 recorded")

    customer.wait_for_function(
        "id => document.querySelector('#invoice-' + id + ' [data-paid]').innerText === '€30.00'",
        arg=invoice.id,
        timeout=1500,
    )
    left = fresh(invoice.id).balance
    assert customer.locator(f"#invoice-{invoice.id} [data-balance]").inner_text() == f"€{left:,.2f}"
    summary = billing.balance(invoice.company_id, billing.today())
    summary_page.wait_for_function(
        "text => document.querySelector('#balance').innerText.includes(text)",
        arg=f"€{summary.open_amount:,.2f}",
        timeout=1500,
    )
    assert customer.url.endswith(f"/shop/invoices/{invoice.id}")  # no reload, no navigation
