"""A person switches the portal to Polish, then to Romanian, on their account page: the
pages, a live push and a PDF document all follow, with that language's words, number
formats and letters.

Expected words and numbers are read from the portal's own catalogues and Babel under the
same locale, and checked to differ from the English: the test holds the wiring, the
translators hold the wording.
"""

import io

import pytest
from flask_babel import force_locale, gettext
from pypdf import PdfReader
from sqlalchemy import select

from core import i18n
from core.models import Invoice, User
from extensions import db
from tests.conftest import wait_live

pytestmark = pytest.mark.browser

WITHIN = 2000  # ms
BUYER = "orders@acme.test"
SKU = "MCU-STM32F401"
# Letters only these languages have: the page, the push and the PDF must keep them.
LETTERS = {"pl": set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"), "ro": set("ăâîșțĂÂÎȘȚ")}


def spaced(text: str) -> str:
    """Any run of spaces (no-break, narrow no-break, line ends) as one space."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def in_language(app, code, fn, *args, **kwargs):
    with app.test_request_context(), force_locale(code):
        return str(fn(*args, **kwargs))


def choose_language(page, code):
    page.goto("/account")
    page.select_option("select[name=language]", value=code)
    page.locator("form.account__preferences button[type=submit]").click()
    page.wait_for_selector(f"html[lang={code}]", state="attached")


def recount(warehouse, counted):
    warehouse.goto(f"/office/stock?q={SKU}")
    row = warehouse.locator("tr", has=warehouse.locator(f"text={SKU}"))
    row.locator("input[name=counted]").fill(str(counted))
    row.locator("input[name=reason]").fill("Stocktake")
    row.locator("button[type=submit]").click()
    warehouse.wait_for_selector("text=Saved")


@pytest.mark.parametrize(("code", "counted"), [("pl", 12345), ("ro", 23456)])
def test_a_person_reads_pages_pushes_and_pdfs_in_their_language(app, sign_in, code, counted):
    buyer = sign_in(BUYER)
    warehouse = sign_in("warehouse@portal.test")
    choose_language(buyer, code)

    # A translated page: the catalogue's heading and price in the language's format.
    buyer.goto(f"/shop/?q={SKU}")
    wait_live(buyer)
    heading = in_language(app, code, gettext, "Catalogue")
    assert heading != "Catalogue"
    assert buyer.locator("h1").first.inner_text().strip() == heading
    price = buyer.locator(f'[data-sku="{SKU}"] .price').first.inner_text()
    assert "," in price and ("€" in price or "EUR" in price), price  # 4,68 €, not €4.68
    assert "." not in price

    # A live push, rendered in the buyer's language: the count in its digit grouping.
    recount(warehouse, counted)
    stock = in_language(
        app, code, lambda: gettext("%(count)s in stock", count=i18n.format_number(counted))
    )
    assert stock != f"{counted} in stock"
    buyer.wait_for_function(
        "([s, want]) => document.querySelector(s).innerText === want",
        arg=[f'[data-sku="{SKU}"] .stock', stock],
        timeout=WITHIN,
    )

    # The PDF of one of the company's invoices: its words, its numbers, its letters.
    with app.app_context():
        buyer_row = db.session.scalar(select(User).where(User.email == BUYER))
        invoice = db.session.scalar(
            select(Invoice).where(Invoice.company_id == buyer_row.company_id).limit(1)
        )
        assert invoice is not None, "the demo gives Acme an invoice"
        total = invoice.total
        invoice_id = invoice.id
    answer = buyer.request.get(f"/shop/invoices/{invoice_id}.pdf")
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.body())).pages)
    title = in_language(app, code, gettext, "Invoice")
    assert title != "Invoice" and title.upper() in text.upper()
    amount = in_language(app, code, i18n.format_money, total, "EUR")
    assert "," in amount and spaced(amount) in spaced(text), (amount, text[:400])
    assert LETTERS[code] & set(text), f"no {code} letters in the PDF"
