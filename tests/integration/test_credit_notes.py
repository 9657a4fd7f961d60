"""Credit notes: against an invoice or on the account, numbered without gaps, audited, shown
on the invoice of both faces and in the balance, live; bad input changes nothing."""

import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import billing, credit_notes, orders, transaction
from core import roles as role_service
from core.errors import Refused
from core.models import AuditEntry, CreditNote, Invoice, OutboxMail, Role, Sequence
from extensions import db
from tests.conftest import sql
from tests.html import find
from tests.integration.test_billing import (
    ADMIN,
    ANNA,
    FINANCE,
    MARCO,
    fresh,
    input_value,
    invoice_of,
    make_invoice,
)
from tests.records import company, user
from tests.sockets import drain, watch


def snapshot() -> tuple:
    """Everything issuing a credit note could change, to prove that nothing did."""
    db.session.rollback()
    return (
        tuple(sql("SELECT id, credited_total FROM invoices ORDER BY id")),
        tuple(sql("SELECT COUNT(*) FROM credit_notes")),
        tuple(sql("SELECT name, next_value FROM sequences ORDER BY name")),
        tuple(sql("SELECT COUNT(*) FROM audit_log")),
        tuple(sql("SELECT COUNT(*) FROM outbox")),
    )


def next_credit_number() -> int:
    db.session.rollback()
    return db.session.get(Sequence, "credit_note").next_value


def post_invoice_credit(client, invoice_id: int, htmx=True, **data):
    fields = {"amount": "", "reason": "", "invoice": str(invoice_id)} | data
    return client.send(
        "POST", f"/office/invoices/{invoice_id}/credit-notes", htmx=htmx, data=fields
    )


def post_company_credit(client, company_id: int, htmx=True, **data):
    fields = {"amount": "", "reason": "", "invoice": ""} | data
    return client.send(
        "POST", f"/office/customers/{company_id}/credit-notes", htmx=htmx, data=fields
    )


# The demo ------------------------------------------------------------------------------


def test_the_demo_has_credit_notes_set_against_open_invoices(ctx):
    notes = list(db.session.scalars(select(CreditNote).order_by(CreditNote.number)))
    assert [n.display_number for n in notes] == ["CN-000001", "CN-000002"]
    assert [n.company.slug for n in notes] == ["baltic", "delft"]
    for note in notes:
        assert note.invoice is not None and note.invoice.credited_total == note.amount
        assert note.invoice.balance >= 0 and note.issued_by.email == FINANCE
    assert db.session.get(Sequence, "credit_note").next_value == 3


def test_a_credited_invoice_without_payments_is_open_in_python_and_in_sql(ctx):
    note = db.session.scalar(select(CreditNote).where(CreditNote.number == 1))
    invoice = note.invoice
    assert invoice.paid_total == 0 and invoice.credited_total > 0
    today = billing.today()
    state = invoice.status_on(today)
    assert state in ("open", "overdue")
    found = db.session.scalar(
        select(Invoice.id).where(
            Invoice.id == invoice.id,
            billing.status_condition(state.replace(" ", "-"), today),
        )
    )
    assert found == invoice.id


# Against an invoice ------------------------------------------------------------------------


def test_finance_credits_part_of_an_invoice_from_its_page(as_user, ctx):
    invoice = invoice_of("carpathia", "outstanding")
    balance, number = invoice.balance, next_credit_number()
    response = post_invoice_credit(
        as_user(FINANCE), invoice.id, amount="10.50", reason="Three connectors were bent."
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    expected = f"CN-{number:06d}"
    assert f"Credit note {expected} of €10.50 issued against invoice" in html
    # The invoice's live region and the payment form come along, out of band.
    account = find(html, id=f"invoice-{invoice.id}")
    assert account.attrs.get("hx-swap-oob") == "true"
    assert "Credited" in account.text and "€10.50" in account.text
    assert expected in account.text and "Three connectors were bent." in account.text
    assert find(html, id="payment-form").attrs.get("hx-swap-oob") == "true"
    after = fresh(invoice.id)
    assert after.credited_total == Decimal("10.50")
    assert after.balance == balance - Decimal("10.50")
    note = db.session.scalar(select(CreditNote).where(CreditNote.number == number))
    assert (note.invoice_id, note.company_id, note.amount) == (
        invoice.id,
        invoice.company_id,
        Decimal("10.50"),
    )
    assert note.issued_by.email == FINANCE
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "credit_note.issued", AuditEntry.target_id == note.id
        )
    )
    assert entry.actor_email == FINANCE
    assert entry.before == {"credited_total": "0.00"}
    assert entry.after["amount"] == "10.50" and entry.after["invoice"] == invoice.display_number
    mailed = db.session.scalars(
        select(OutboxMail.to_addr).where(OutboxMail.subject == f"Credit note {expected}")
    ).all()
    assert mailed == ["orders@carpathia.test"]  # the decision-maker (shop.invoices)
    body = db.session.scalar(
        select(OutboxMail.body).where(OutboxMail.subject == f"Credit note {expected}")
    )
    assert f"We have credited €10.50 to {invoice.company.name} against invoice" in body
    assert f"€{after.balance:,.2f} remains open on the invoice." in body


def test_the_credit_note_shows_on_the_invoice_of_both_faces(as_user, ctx):
    invoice = invoice_of("carpathia", "outstanding")
    post_invoice_credit(as_user(FINANCE), invoice.id, amount="4", reason="Price correction")
    for client, url in (
        (as_user(FINANCE), f"/office/invoices/{invoice.id}"),
        (as_user("orders@carpathia.test"), f"/shop/invoices/{invoice.id}"),
    ):
        html = client.get(url).get_data(as_text=True)
        region = find(html, id=f"invoice-{invoice.id}")
        assert "Credit notes" in region.text and "Price correction" in region.text
        assert "€4.00" in region.text
        staff = "Issued by" in region.text
        assert staff == url.startswith("/office")  # customers do not see who issued it


def test_the_full_open_balance_can_be_credited_and_the_invoice_is_then_settled(as_user, ctx):
    invoice = make_invoice()
    response = post_invoice_credit(
        as_user(FINANCE), invoice.id, amount=str(invoice.total), reason="Order refused on arrival"
    )
    assert response.status_code == 200
    after = fresh(invoice.id)
    assert after.balance == 0 and after.status_on(billing.today()) == "paid"
    html = as_user(FINANCE).get(f"/office/invoices/{invoice.id}").get_data(as_text=True)
    assert "Nothing is left open to credit" in find(html, id="credit-note-form").text
    assert "Paid in full" in find(html, id="payment-form").text


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        ("", "Damaged", "Enter the amount to credit."),
        ("abc", "Damaged", "Enter the amount as a number"),
        ("0", "Damaged", "A credit note is an amount above zero."),
        ("-5", "Damaged", "A credit note is an amount above zero."),
        ("1.005", "Damaged", "at most two decimals"),
        ("10", "", "Say why the company is credited."),
        ("10", "   ", "Say why the company is credited."),
        ("10", "x" * 501, "A reason has at most 500 characters."),
        ("999999", "Damaged", "is more than the open balance"),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_bad_credit_notes_are_explained_keep_the_input_and_change_nothing(
    as_user, ctx, amount, reason, message, htmx
):
    invoice = invoice_of("carpathia", "outstanding").id
    before = snapshot()
    response = post_invoice_credit(
        as_user(FINANCE), invoice, htmx=htmx, amount=amount, reason=reason
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    form = find(html, id="credit-note-form")
    assert message in form.text
    assert (input_value(form.inner_html, "amount") or "") == amount.strip()
    if htmx:
        assert "<html" not in html and "hx-swap-oob" not in html
    else:
        assert "invoice-sheet" in html  # the whole page again, with the form's errors
    assert snapshot() == before


def test_a_void_invoice_cannot_be_credited(as_user, ctx):
    invoice = make_invoice()
    orders.move(invoice.order, "cancelled", actor=user(ADMIN))
    db.session.commit()
    before = snapshot()
    response = post_invoice_credit(as_user(FINANCE), invoice.id, amount="1", reason="x")
    assert response.status_code == 422
    assert "is void" in response.get_data(as_text=True)
    assert snapshot() == before


def test_a_refused_note_gives_its_number_back(ctx):
    invoice = invoice_of("carpathia", "outstanding")
    number = next_credit_number()
    with pytest.raises(Refused, match="open balance"):
        credit_notes.issue(
            invoice.company,
            invoice.balance + 1,
            "Too much",
            invoice=invoice,
            actor=user(FINANCE),
        )
    db.session.rollback()
    assert next_credit_number() == number
    first = credit_notes.issue(company("acme"), Decimal("5"), "Goodwill", actor=user(FINANCE))
    second = credit_notes.issue(company("etna"), Decimal("6"), "Goodwill", actor=user(FINANCE))
    db.session.commit()
    assert (first.number, second.number) == (number, number + 1)
    assert second.display_number == f"CN-{number + 1:06d}"


# On the company's account ------------------------------------------------------------------


def test_a_credit_on_the_account_shows_in_the_balance_of_both_faces(as_user, ctx):
    acme = company("acme")
    before = billing.balance(acme.id, billing.today())
    response = post_company_credit(
        as_user(FINANCE), acme.id, amount="1 250,00", reason="Volume rebate, first quarter"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    notice = find(html, role="status").text
    assert notice.startswith("Credit note CN-") and "it stays to the company's credit" in notice
    account = find(html, id=f"customer-account-{acme.id}")
    assert account.attrs.get("hx-swap-oob") == "true"
    assert "€1,250.00" in account.text and "Volume rebate, first quarter" in account.text
    assert "Account credit" in account.text
    after = billing.balance(acme.id, billing.today())
    assert (after.credit_count, after.credit_amount) == (1, Decimal("1250.00"))
    assert after.open_amount == before.open_amount  # no invoice was touched
    shop = as_user("orders@acme.test").get("/shop/invoices").get_data(as_text=True)
    balance = find(shop, id="balance")
    assert "€1,250.00" in balance.text and "To the company's credit" in balance.text
    page = as_user(ANNA).get(f"/office/customers/{acme.id}").get_data(as_text=True)
    assert "€1,250.00" in find(page, id=f"customer-account-{acme.id}").text
    assert 'id="credit-note-form"' not in page  # Anna may see invoices, not issue notes


def test_a_credit_chosen_against_an_invoice_on_the_company_page(as_user, ctx):
    invoice = invoice_of("acme", "outstanding")
    response = post_company_credit(
        as_user(FINANCE),
        invoice.company_id,
        amount="2.00",
        reason="Rounding",
        invoice=str(invoice.id),
    )
    assert response.status_code == 200
    assert fresh(invoice.id).credited_total == Decimal("2.00")


def test_another_companys_invoice_cannot_be_chosen(as_user, ctx):
    acme = company("acme")
    other = invoice_of("carpathia", "outstanding").id
    before = snapshot()
    response = post_company_credit(
        as_user(FINANCE), acme.id, amount="1", reason="x", invoice=str(other)
    )
    assert response.status_code == 422
    form = find(response.get_data(as_text=True), id="credit-note-form")
    assert "Choose one of this company's open invoices." in form.text
    assert snapshot() == before


def test_the_company_page_offers_its_open_invoices_only(as_user, ctx):
    acme = company("acme")
    html = as_user(FINANCE).get(f"/office/customers/{acme.id}").get_data(as_text=True)
    form = find(html, id="credit-note-form")
    open_numbers = {
        i.display_number
        for i in db.session.scalars(select(Invoice).where(Invoice.company_id == acme.id))
        if i.balance > 0 and not i.voided_at
    }
    for number in open_numbers:
        assert number in form.text
    paid = [
        i.display_number
        for i in db.session.scalars(select(Invoice).where(Invoice.company_id == acme.id))
        if i.balance <= 0
    ]
    assert paid and not any(number in form.text for number in paid)


def test_credit_notes_are_scoped_like_invoices(as_user, ctx):
    # A sales role that may also issue credit notes still reaches only its own companies.
    sales = db.session.scalar(select(Role).where(Role.preset == "sales"))
    role_service.set_permissions(sales, sales.permissions | {"invoices.edit"}, actor=user(ADMIN))
    db.session.commit()
    carpathia = invoice_of("carpathia", "outstanding")
    acme = invoice_of("acme", "outstanding")
    before = snapshot()
    anna = as_user(ANNA)
    assert post_invoice_credit(anna, carpathia.id, amount="1", reason="x").status_code == 404
    assert (
        post_company_credit(anna, carpathia.company_id, amount="1", reason="x").status_code == 404
    )
    assert snapshot() == before
    assert post_invoice_credit(anna, acme.id, amount="1", reason="x").status_code == 200
    assert post_invoice_credit(as_user(MARCO), acme.id, amount="1", reason="x").status_code == 404


def test_the_account_pages_through_many_credit_notes(as_user, ctx):
    acme = company("acme")
    for n in range(12):
        credit_notes.issue(acme, Decimal(n + 1), f"Note {n + 1}", actor=user(FINANCE))
    db.session.commit()
    first = as_user(FINANCE).htmx(f"/office/customers/{acme.id}/account")
    html = first.get_data(as_text=True)
    assert html.lstrip().startswith(f'<section id="customer-account-{acme.id}"')
    assert "Note 12" in html and "Note 2<" not in html and "Page 1 of 2" in html
    second = as_user(FINANCE).get(f"/office/customers/{acme.id}/account?page=2")
    text = second.get_data(as_text=True)
    assert second.status_code == 200 and "Note 1<" in text and "<html" in text
    assert as_user(FINANCE).get(f"/office/customers/{acme.id}/account?page=x").status_code == 400


# Live and concurrent ---------------------------------------------------------------------


def test_a_credit_note_reaches_open_invoice_pages_and_account_lists(connect, ctx):
    invoice = invoice_of("carpathia", "outstanding")
    carpathia = invoice.company_id
    customer = connect("orders@carpathia.test")
    watch(customer, {f"invoice-{invoice.id}", "balance"})
    staff = connect(FINANCE)
    watch(staff, {f"customer-account-{carpathia}", "invoices-table"})
    outsider = connect("orders@acme.test")
    watch(outsider, {f"invoice-{invoice.id}", "balance"})
    time.sleep(0.3)
    credit_notes.issue(
        invoice.company, Decimal("3.00"), "Late", invoice=invoice, actor=user(FINANCE)
    )
    db.session.commit()
    pushed = "".join(drain(customer, 2.0, expect=1))
    assert f'id="invoice-{invoice.id}"' in pushed and "Credited" in pushed and "€3.00" in pushed
    assert "Issued by" not in pushed  # the customer's rendering
    signals = "".join(drain(staff, 2.0))
    assert f'data-refresh="customer-account-{carpathia}"' in signals
    assert 'data-refresh="invoices-table"' in signals
    leaked = "".join(drain(outsider, 1.0))
    assert f'id="invoice-{invoice.id}"' not in leaked and "Carpathia" not in leaked


def test_two_people_crediting_the_same_balance_at_once_never_exceed_it(app, ctx):
    invoice = make_invoice()
    total, invoice_id = invoice.total, invoice.id
    results = []
    start = threading.Barrier(2)

    def credit():
        with app.app_context():
            start.wait()
            try:
                transaction.committed(
                    lambda: credit_notes.issue(
                        db.session.get(Invoice, invoice_id).company,
                        total,
                        "Refused delivery",
                        invoice=db.session.get(Invoice, invoice_id),
                        actor=user(FINANCE),
                    )
                )
                results.append("ok")
            except Refused as exc:
                results.append(str(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=credit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results)[-1] == "ok" and results.count("ok") == 1, results
    assert fresh(invoice_id).credited_total == total
    count = db.session.scalar(
        select(func.count(CreditNote.id)).where(CreditNote.invoice_id == invoice_id)
    )
    assert count == 1
