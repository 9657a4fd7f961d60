"""Documents as PDF: invoices, credit notes, order confirmations and quotes.

Each PDF is read back as text (pypdf) and held against its page: the same number, lines
and totals, "VOID" across a voided invoice, a status across a cancelled order or a closed
quote; never a cost, a margin or a stock count. A `.pdf` answers exactly like its page,
for people who may see the page and for people who may not. Notification mails carry
the document, in the outbox and over SMTP.
"""

import io
import re
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from html import unescape

import pytest
from flask_babel import force_locale, gettext
from pypdf import PdfReader
from sqlalchemy import select

from blueprints.filters import money
from core import billing, carts, credit_notes, delivery, notify, orders, quotes, tax
from core.models import (
    Company,
    CreditNote,
    Invoice,
    Order,
    OutboxMail,
    Quote,
)
from extensions import db
from tests.records import company, place, product, user

ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"
ANNA = "anna.sales@portal.test"
MARCO = "marco.sales@portal.test"
POLISH = "Łódź Spółka Ślężna"
ROMANIAN = "Ștefan Țărână și fiii"


# --- helpers ------------------------------------------------------------------------------


def invoice_of(order: Order) -> Invoice:
    return db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))


def make_invoice(slug: str = "carpathia") -> Invoice:
    """Confirm a new order (which issues its invoice, and mails it) and commit."""
    order = place(slug)
    orders.move(order, "confirmed", actor=user(ADMIN))
    db.session.commit()
    return invoice_of(order)


def quote_of(slug: str, status: str) -> Quote:
    return db.session.scalar(
        select(Quote)
        .join(Company, Company.id == Quote.company_id)
        .where(Company.slug == slug, Quote.status == status)
        .order_by(Quote.id)
    )


def text_of(data: bytes) -> str:
    """Every page's text, lines joined by spaces (a table cell may wrap)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def page_text(response) -> str:
    """The visible words of an HTML answer, entities decoded."""
    html = response.get_data(as_text=True)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def pdf_of(client, url: str, filename: str) -> str:
    """GET a document's PDF, check how it is answered, and return its text."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="{filename}"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert response.data.startswith(b"%PDF-")
    return text_of(response.data)


def totals_of(figures: tax.Totals, currency: str = "EUR") -> list[str]:
    """The totals block as both the page and the PDF print it."""
    found = [money(figures.net, currency), money(figures.gross, currency)]
    found += [money(line.vat, currency) for line in figures.lines]
    return found


# --- invoices -------------------------------------------------------------------------------


def test_an_invoice_pdf_prints_what_its_page_shows_in_both_faces(ctx, as_user):
    invoice = make_invoice()
    figures = tax.of_invoice(invoice)
    number = invoice.display_number
    seller = billing.seller_details()
    for client, face in ((as_user(ADMIN), "office"), (as_user("orders@carpathia.test"), "shop")):
        page = client.get(f"/{face}/invoices/{invoice.id}")
        assert f'href="/{face}/invoices/{invoice.id}.pdf"' in page.get_data(as_text=True)
        shown = page_text(page)
        printed = pdf_of(client, f"/{face}/invoices/{invoice.id}.pdf", f"{number}.pdf")
        assert number in printed and invoice.order.number in printed
        assert seller["name"] in printed and "Carpathia Makers" in printed
        for line in invoice.lines:
            assert line.sku in printed
            assert money(line.unit_price) in printed and money(line.line_total) in printed
        for amount in totals_of(figures):
            assert amount in shown and amount in printed, amount
        assert f"Due {invoice.due_on:%d %b %Y}" in printed
        terms = (invoice.due_on - invoice.issued_at.date()).days
        assert f"Payment terms {terms} days" in printed
        assert "VOID" not in printed


def test_the_shipping_line_of_an_invoice_is_read_in_its_readers_language(ctx, as_user):
    carpathia = company("carpathia")
    order = orders.place(
        carpathia,
        [orders.LineRequest(product("MCU-STM32F401").id, 3)],
        placed_by=user("orders@carpathia.test"),
        delivery=delivery.defaults_for(carpathia),  # its cheapest method, not free for 3
    )
    orders.move(order, "confirmed", actor=user(ADMIN))
    db.session.commit()
    invoice = invoice_of(order)
    shipping = [line for line in invoice.lines if not line.sku]
    method = invoice.order.shipping_name
    assert method and invoice.order.shipping_price > 0
    # Stored as it always was, in English: the line has no kind of its own.
    assert [line.description for line in shipping] == [f"Shipping: {method}"]
    url = f"/shop/invoices/{invoice.id}"
    buyer = as_user("orders@carpathia.test")
    english = (
        page_text(buyer.get(url)),
        pdf_of(buyer, f"{url}.pdf", f"{invoice.display_number}.pdf"),
    )
    for words in english:
        assert f"Shipping: {method}" in words
    user("orders@carpathia.test").language = "pl"
    db.session.commit()
    with force_locale("pl"):  # the catalogue's words ("Wysyłka: Parcel")
        said = gettext("Shipping: %(method)s", method=method)
    assert not said.startswith("Shipping")
    polish = page_text(buyer.get(url)), pdf_of(buyer, f"{url}.pdf", f"{invoice.display_number}.pdf")
    for words in polish:
        assert said in words and "Shipping" not in words
        for line in invoice.lines:
            if line.sku:  # a product's name is its own, in any language
                assert line.description in words


def test_a_voided_invoice_is_stamped_void(ctx, as_user):
    invoice = make_invoice()
    orders.move(invoice.order, "cancelled", actor=user(ADMIN))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).voided_at is not None
    printed = pdf_of(
        as_user("orders@carpathia.test"),
        f"/shop/invoices/{invoice.id}.pdf",
        f"{invoice.display_number}.pdf",
    )
    assert "VOID" in printed and invoice.display_number in printed
    assert "Please pay" not in printed


def test_a_reverse_charge_sale_prints_its_mention_on_invoice_and_credit_note(ctx, as_user):
    invoice = make_invoice("baltic")  # Lithuania, with a valid VAT ID
    note = credit(invoice, "1.00")
    anna = as_user(ANNA)
    for url, filename in (
        (f"/office/invoices/{invoice.id}", invoice.display_number),
        (f"/office/credit-notes/{note.id}", note.display_number),
    ):
        assert "Reverse charge" in page_text(anna.get(url))
        printed = pdf_of(anna, f"{url}.pdf", f"{filename}.pdf")
        assert "Reverse charge" in printed and "2006/112/EC" in printed
    domestic = make_invoice("acme")  # Germany, like the seller
    printed = pdf_of(anna, f"/office/invoices/{domestic.id}.pdf", f"{domestic.display_number}.pdf")
    assert "Reverse charge" not in printed and "VAT 19 %" in printed


def test_polish_and_romanian_names_print(ctx, as_user):
    carpathia = company("carpathia")
    carpathia.name = f"{POLISH} {ROMANIAN}"
    carpathia.address = "ul. Żółkiewskiego 7\nȘoseaua Ștefan cel Mare 12"
    db.session.commit()
    invoice = make_invoice()
    printed = pdf_of(
        as_user(ADMIN), f"/office/invoices/{invoice.id}.pdf", f"{invoice.display_number}.pdf"
    )
    assert POLISH in printed and ROMANIAN in printed
    assert "ul. Żółkiewskiego 7" in printed and "Șoseaua Ștefan cel Mare 12" in printed


# --- credit notes ---------------------------------------------------------------------------


def credit(invoice: Invoice, amount: str = "12.50") -> CreditNote:
    note = credit_notes.issue(
        invoice.company,
        Decimal(amount),
        "Two reels arrived damaged",
        invoice=invoice,
        actor=user(ADMIN),
    )
    db.session.commit()
    return note


def test_a_credit_note_has_a_page_and_a_pdf_in_both_faces(ctx, as_user):
    invoice = make_invoice()
    note = credit(invoice)
    for client, face in ((as_user(MARCO), "office"), (as_user("orders@carpathia.test"), "shop")):
        page = client.get(f"/{face}/credit-notes/{note.id}")
        assert page.status_code == 200
        assert f'href="/{face}/credit-notes/{note.id}.pdf"' in page.get_data(as_text=True)
        shown = page_text(page)
        printed = pdf_of(
            client, f"/{face}/credit-notes/{note.id}.pdf", f"{note.display_number}.pdf"
        )
        for words in (note.display_number, invoice.display_number, "Two reels arrived damaged"):
            assert words in shown and words in printed
        assert money(note.amount) in shown and money(note.amount) in printed
        # The invoice page links its credit notes to their pages.
        invoice_page = client.get(f"/{face}/invoices/{invoice.id}").get_data(as_text=True)
        assert f'href="/{face}/credit-notes/{note.id}"' in invoice_page


# --- order confirmations ----------------------------------------------------------------------


def test_an_order_confirmation_prints_the_page_figures_and_never_a_cost(ctx, as_user):
    order = place("acme")
    figures = tax.of_order(order)
    mcu = next(line for line in order.lines if line.sku == "MCU-STM32F401")
    manager = as_user(MANAGER)
    page = manager.get(f"/office/orders/{order.id}")
    assert money(mcu.unit_cost) in page_text(page)  # the manager's page shows costs
    for client, face in ((manager, "office"), (as_user("request@acme.test"), "shop")):
        page = client.get(f"/{face}/orders/{order.id}")
        assert f'href="/{face}/orders/{order.id}.pdf"' in page.get_data(as_text=True)
        shown = page_text(page)
        printed = pdf_of(client, f"/{face}/orders/{order.id}.pdf", f"{order.number}.pdf")
        assert "Order confirmation" in printed and order.number in printed
        for line in order.lines:
            assert line.sku in printed and money(line.line_total) in printed
        for amount in (money(order.total), *totals_of(figures)):
            assert amount in shown and amount in printed, amount
        assert money(mcu.unit_cost) not in printed
        assert "Margin" not in printed and "cost" not in printed.lower()
        assert "CANCELLED" not in printed


def test_a_cancelled_order_says_so_across_its_confirmation(ctx, as_user):
    order = place("acme")
    orders.move(order, "cancelled", actor=user(ADMIN))
    db.session.commit()
    printed = pdf_of(
        as_user("orders@acme.test"), f"/shop/orders/{order.id}.pdf", f"{order.number}.pdf"
    )
    assert "CANCELLED" in printed and "Status Cancelled" in printed


# --- quotes ---------------------------------------------------------------------------------


def test_a_quote_pdf_prints_the_offer_of_its_page(ctx, as_user):
    quote = quote_of("acme", "offered")
    total = quotes.total(quote)
    assert total is not None
    for client, face in ((as_user(MANAGER), "office"), (as_user("request@acme.test"), "shop")):
        page = client.get(f"/{face}/quotes/{quote.id}")
        assert f'href="/{face}/quotes/{quote.id}.pdf"' in page.get_data(as_text=True)
        shown = page_text(page)
        printed = pdf_of(client, f"/{face}/quotes/{quote.id}.pdf", f"{quote.number}.pdf")
        assert quote.number in printed and "Acme Robotics" in printed
        for line in quote.lines:
            assert line.product.sku in printed and money(line.unit_price) in printed
            assert money(line.product.cost) not in printed  # the manager's page shows it
        assert money(total) in shown and money(total) in printed
        assert f"Prices valid until {quote.valid_until:%d %b %Y}" in printed


@pytest.mark.parametrize(
    ("slug", "status", "stamp"),
    [("baltic", "expired", "EXPIRED"), ("etna", "rejected", "REJECTED")],
)
def test_a_closed_quote_is_labelled_with_its_status(ctx, as_user, slug, status, stamp):
    quote = quote_of(slug, status)
    printed = pdf_of(
        as_user(f"orders@{slug}.test"), f"/shop/quotes/{quote.id}.pdf", f"{quote.number}.pdf"
    )
    assert stamp in printed and quote.number in printed


def test_a_levels_group_never_reads_a_stock_count(ctx, as_user):
    mcu = product("MCU-STM32F401")
    count = mcu.stock
    assert count > 1000
    baltic = company("baltic")
    quote = quotes.request(baltic, [(mcu.id, 10)], actor=user("request@baltic.test"))
    db.session.commit()
    printed = pdf_of(
        as_user("request@baltic.test"), f"/shop/quotes/{quote.id}.pdf", f"{quote.number}.pdf"
    )
    assert quote.number in printed and "MCU-STM32F401" in printed
    assert str(count) not in printed and f"{count:,}" not in printed
    assert not re.search(r"\b(stock|Few|Many)\b", printed, re.IGNORECASE)


# --- access: a .pdf answers exactly like its page -------------------------------------------


def _document_urls() -> dict:
    """Each document's page (both faces) on a demo record of one company."""
    acme_order = db.session.scalar(
        select(Order.id)
        .join(Company, Company.id == Order.company_id)
        .where(Company.slug == "acme")
        .order_by(Order.id)
    )
    acme_invoice = db.session.scalar(
        select(Invoice.id)
        .join(Company, Company.id == Invoice.company_id)
        .where(Company.slug == "acme")
        .order_by(Invoice.id)
    )
    baltic_note = db.session.scalar(
        select(CreditNote.id)
        .join(Company, Company.id == CreditNote.company_id)
        .where(Company.slug == "baltic")
    )
    acme_quote = quote_of("acme", "offered").id
    return {
        "order": (f"orders/{acme_order}", "acme"),
        "invoice": (f"invoices/{acme_invoice}", "acme"),
        "quote": (f"quotes/{acme_quote}", "acme"),
        "credit_note": (f"credit-notes/{baltic_note}", "baltic"),
    }


# (document, face, persona, status of the page and of its PDF)
ACCESS = [
    ("order", "office", ADMIN, 200),
    ("order", "office", MARCO, 404),  # not his customer
    ("order", "shop", "request@acme.test", 200),
    ("order", "shop", "orders@baltic.test", 404),  # another company's
    ("order", "shop", "browse@acme.test", 403),  # neither orders nor builds carts
    ("invoice", "office", ANNA, 200),
    ("invoice", "office", MARCO, 404),
    ("invoice", "office", "warehouse@portal.test", 403),  # no finance module
    ("invoice", "shop", "orders@acme.test", 200),
    ("invoice", "shop", "orders@delft.test", 404),
    ("invoice", "shop", "request@acme.test", 403),  # no shop.invoices
    ("quote", "office", ANNA, 200),
    ("quote", "office", MARCO, 404),
    ("quote", "shop", "request@acme.test", 200),
    ("quote", "shop", "orders@etna.test", 404),
    ("quote", "shop", "orders@carpathia.test", 403),  # a group without quotes
    ("credit_note", "office", "finance@portal.test", 200),
    ("credit_note", "office", MARCO, 404),
    ("credit_note", "shop", "orders@baltic.test", 200),
    ("credit_note", "shop", "orders@acme.test", 404),
    ("credit_note", "shop", "request@baltic.test", 403),
    ("invoice", "shop", ADMIN, 403),  # staff never enter the storefront
    ("invoice", "office", "orders@acme.test", 403),  # nor customers the back office
]


@pytest.mark.parametrize(("document", "face", "persona", "status"), ACCESS)
def test_a_pdf_answers_like_its_page(ctx, as_user, document, face, persona, status):
    path, _ = _document_urls()[document]
    client = as_user(persona)
    page = client.get(f"/{face}/{path}")
    printed = client.get(f"/{face}/{path}.pdf")
    assert (page.status_code, printed.status_code) == (status, status)
    if status != 200:
        assert not printed.data.startswith(b"%PDF")


def test_signed_out_people_are_sent_to_sign_in(client, ctx):
    path, _ = _document_urls()["invoice"]
    response = client.get(f"/shop/{path}.pdf")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- mail -----------------------------------------------------------------------------------


def attachments_to(email: str, subject_start: str):
    """(filename, mime type, text) of each file of the mails to `email` with this subject."""
    db.session.expire_all()
    mails = db.session.scalars(
        select(OutboxMail).where(
            OutboxMail.to_addr == email, OutboxMail.subject.startswith(subject_start)
        )
    ).all()
    assert mails, f"no mail {subject_start!r} to {email}"
    return [(a.filename, a.mime_type, text_of(a.content)) for m in mails for a in m.attachments]


def test_the_invoice_mail_attaches_the_invoice(ctx):
    invoice = make_invoice()
    number = invoice.display_number
    [(filename, mime, printed)] = attachments_to("orders@carpathia.test", f"Invoice {number}")
    assert (filename, mime) == (f"{number}.pdf", "application/pdf")
    assert number in printed and money(tax.of_invoice(invoice).gross) in printed


def test_the_order_mail_attaches_the_confirmation(ctx):
    buyer = user("orders@baltic.test")
    line = carts.add(buyer, product("CAP-1206-10U").id, 20)
    chosen = delivery.suggested(line.cart)
    order = carts.checkout(buyer, choices=replace(chosen, reference="PO-7731"))
    db.session.commit()
    assert isinstance(order, Order)
    [(filename, _, printed)] = attachments_to(buyer.email, f"Order {order.number} placed")
    assert filename == f"{order.number}.pdf"
    assert "Order confirmation" in printed and money(order.total) in printed
    assert "Your reference PO-7731" in printed and order.delivery_name in printed


def test_the_offer_mail_attaches_the_quote(ctx, as_user):
    quote = quotes.request(
        company("acme"), [(product("CAP-1206-10U").id, 500)], actor=user("request@acme.test")
    )
    db.session.commit()
    latest = quotes.latest_round(quote).id
    quotes.answer(
        quote.id,
        {quote.lines[0].id: Decimal("0.1100")},
        quotes.today() + timedelta(days=10),
        actor=user(ANNA),
        seen=latest,
    )
    db.session.commit()
    found = attachments_to("request@acme.test", f"Quote {quote.number}: new prices")
    [(filename, _, printed)] = found
    assert filename == f"{quote.number}.pdf"
    assert quote.number in printed and money(Decimal("55.00")) in printed  # 500 at 0.11
    # The company's decision-maker hears of it too, with the same document.
    assert attachments_to("orders@acme.test", f"Quote {quote.number}: new prices") == found


def test_the_credit_note_mail_attaches_the_credit_note(ctx):
    note = credit(make_invoice())
    [(filename, _, printed)] = attachments_to(
        "orders@carpathia.test", f"Credit note {note.display_number}"
    )
    assert filename == f"{note.display_number}.pdf" and money(note.amount) in printed


def test_a_mail_without_a_renderer_goes_without_the_file(ctx, monkeypatch):
    monkeypatch.setattr(notify, "_RENDERERS", {})
    invoice = make_invoice()
    assert attachments_to("orders@carpathia.test", f"Invoice {invoice.display_number}") == []


def test_smtp_delivers_the_attachment(app, ctx, smtp_server):
    sink, port = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        invoice = make_invoice()
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    [envelope] = [e for e in sink.messages if e.rcpt_tos == ["orders@carpathia.test"]]
    message = message_from_bytes(envelope.content, policy=policy.default)
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    assert part.get_filename() == f"{invoice.display_number}.pdf"
    assert invoice.display_number in text_of(part.get_content())
    assert "Hello" in message.get_body(("plain",)).get_content()


def test_the_outbox_command_lists_attachments(ctx, runner):
    invoice = make_invoice()
    result = runner.invoke(args=["outbox", "--to", "orders@carpathia.test", "--limit", "1"])
    assert f"Attached: {invoice.display_number}.pdf" in result.output
