"""A document is drawn in its reader's language: a Polish invoice, read back as text.

The invoice goes through the web layer's mapping (blueprints/documents.py) and core.pdf
under `force_locale("pl")`, as a Polish reader's request or mail draws it: labels are
translated as they are drawn, amounts and dates come from Babel's Polish formats, the
country from its Polish name.

The portal's Polish catalogue is filled in by its translators; this test brings its own
few words (a catalogue of its own for "pl"), so that it checks the drawing, whatever the
catalogue holds today.
"""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.support import Translations
from flask_babel import Domain, force_locale, get_locale
from pypdf import PdfReader

from blueprints.documents import invoice_document
from blueprints.i18n import as_person
from core import pdf
from core.models import Company, Invoice, InvoiceLine, Order

POLISH = {
    "Invoice": "Faktura",
    "Billed to": "Nabywca",
    "Quantity": "Ilość",
    "Unit price": "Cena jedn.",
    "Total including VAT (%(currency)s)": "Razem z VAT (%(currency)s)",
    "Please pay by %(day)s to %(name)s, %(bank)s, quoting %(number)s.": (
        "Prosimy o zapłatę do %(day)s na rachunek %(name)s, %(bank)s, z tytułem %(number)s."
    ),
    "%(title)s %(number)s · page %(page)s of %(pages)s": (
        "%(title)s %(number)s · strona %(page)s z %(pages)s"
    ),
}


@pytest.fixture
def polish_words(monkeypatch):
    """Flask-Babel's translations for "pl" are this test's few words; others as they are."""
    catalogue = Catalog(locale="pl")
    for english, polish in POLISH.items():
        catalogue.add(english, polish, flags=("python-format",) if "%(" in english else ())
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    words = Translations(compiled)
    real = Domain.get_translations

    def translations(self):
        return words if str(get_locale()) == "pl" else real(self)

    monkeypatch.setattr(Domain, "get_translations", translations)


def polish_invoice() -> Invoice:
    """An invoice to a Polish company, held in memory (never flushed)."""
    buyer = Company(
        name="Łódź Spółka z o.o.",
        address="ul. Piotrkowska 1",
        postcode="90-001",
        city="Łódź",
        country="PL",
        vat_number="",
    )
    order = Order(
        number="SO-00042",
        company=buyer,
        customer_reference="",
        delivery_name="",
        buyer_country="PL",
        buyer_vat_number="",
    )
    return Invoice(
        number=42,
        company=buyer,
        order=order,
        issued_at=datetime(2026, 12, 4, 9, 30),
        due_on=date(2027, 1, 3),
        currency="EUR",
        tax_kind="domestic",
        voided_at=None,
        lines=[
            InvoiceLine(
                sku="MCU-STM32F401",
                description="Mikrokontroler STM32F401",
                quantity=15000,
                unit_price=Decimal("0.8230"),
                line_total=Decimal("12345.00"),
                vat_rate=Decimal("23"),
            )
        ],
    )


SELLER = {
    "name": "Northwind Components GmbH",
    "address": "Hafenstraße 1\n20457 Hamburg",
    "vat_number": "DE136695976",
    "bank": "IBAN DE89 3704 0044 0532 0130 00",
}


def text_of(data: bytes) -> str:
    """The PDF's text, its spaces (no-break ones too) as single spaces."""
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages
    )


def test_an_invoice_drawn_in_polish_prints_polish_words_amounts_and_dates(bare_app, polish_words):
    context = {"invoice": polish_invoice(), "seller": SELLER}
    with bare_app.test_request_context(), as_person("en", "Europe/Warsaw"):
        with force_locale("pl"):
            polish = text_of(pdf.render(invoice_document(context)))
        english = text_of(pdf.render(invoice_document(context)))

    # Labels: the document's own (title, headings, totals) and core.pdf's (column heads,
    # the page footer), translated as they are drawn.
    assert "Faktura INV-000042" in polish
    assert "NABYWCA" in polish and "Ilość" in polish and "Cena jedn." in polish
    assert "Razem z VAT (EUR)" in polish
    assert "strona 1 z 1" in polish
    assert "Invoice" not in polish and "Quantity" not in polish
    # Amounts in Polish formats: a space between thousands, a decimal comma, € after.
    assert "12 345,00 €" in polish  # the line's amount
    assert "2 839,35 €" in polish  # 23 % VAT on it
    assert "15 184,35 €" in polish  # the total
    assert "0,823 €" in polish  # a sub-cent unit price keeps its digits
    assert "15 000" in polish  # the quantity
    # Dates with Polish month names, the country by its Polish name.
    assert "04 gru 2026" in polish and "03 sty 2027" in polish
    assert "Polska" in polish
    assert "Prosimy o zapłatę do 03 sty 2027" in polish

    # The same invoice for an English reader, unchanged.
    assert "Invoice INV-000042" in english and "BILLED TO" in english
    assert "€12,345.00" in english and "€15,184.35" in english
    assert "04 Dec 2026" in english and "Poland" in english
    assert "page 1 of 1" in english
