"""core.pdf on its own: layouts of priced and unpriced documents, names, hostile text."""

import io

from pypdf import PdfReader

from core import pdf

SELLER = pdf.Party("Northwind Components GmbH", ("Hafenstraße 1\n20457 Hamburg", "VAT DE1"))
BUYER = pdf.Party("Łódź Spółka z o.o.", ("ul. Piotrkowska 1\n90-001 Łódź",))


def text_of(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def test_a_delivery_note_prints_goods_without_prices():
    note = pdf.Document(
        title="Delivery note",
        number="DN-000007",
        seller=SELLER,
        buyer=BUYER,
        ship_to=pdf.Party("Ștefan Țărână", ("Strada Lungă 3", "Brașov")),
        facts=(("Order", "SO-00012"), ("Carrier", "DHL 00340434161094042557")),
        lines=(pdf.Line("MCU-STM32F401", "STM32F401 microcontroller", "1,500"),),
    )
    [page] = text_of(pdf.render(note))
    for words in ("Delivery note", "DN-000007", "Ștefan Țărână", "Brașov", "Łódź", "1,500"):
        assert words in page
    assert "DELIVERED TO" in page
    assert "Unit price" not in page and "Amount" not in page and "VAT" not in page.split("DE1")[1]


def test_a_long_document_runs_over_pages_with_its_totals_at_the_end():
    lines = tuple(
        pdf.Line(f"RES-{i:04d}", "Resistor 10 kΩ 0402 " * 3, "10", "€0.0125", "€0.13", "19 %")
        for i in range(120)
    )
    document = pdf.Document(
        title="Invoice",
        number="INV-000123",
        seller=SELLER,
        buyer=BUYER,
        lines=lines,
        totals=(pdf.Row("Net total", "€15.60"), pdf.Row("Total", "€18.56", strong=True)),
        mentions=("Reverse charge: VAT is due by the buyer.",),
        stamp="void",
    )
    pages = text_of(pdf.render(document))
    assert len(pages) > 2
    assert all("VOID" in page for page in pages)
    # The table's headings are repeated on every page it runs over.
    assert all("Unit price" in page for page in pages if "RES-" in page)
    assert f"page {len(pages)} of {len(pages)}" in pages[-1]
    assert "RES-0119" in " ".join(pages[-2:]) and "€18.56" in pages[-1]
    assert "Reverse charge" in pages[-1]


def test_control_and_bidi_characters_never_reach_the_page():
    hostile = pdf.Document(
        title="Quote",
        number="Q-1/../\x00\u202e",
        buyer=pdf.Party("Acme\x00 \u202eRobotics", ("line\x07one",)),
        lines=(pdf.Line("X\x00", "😀 \u202e", "1", None, None),),
    )
    [page] = text_of(pdf.render(hostile))
    assert "\x00" not in page and "\u202e" not in page and "\x07" not in page
    assert "Acme Robotics" in page and "lineone" in page
    assert hostile.filename == "Q-1.pdf"
    assert pdf.Document("Quote", "", BUYER).filename == "document.pdf"


# Letters of the portal's six languages, the other Latin-script EU languages, Greek and
# Bulgarian Cyrillic, and the signs documents print.
NEEDED = (
    "àâæçéèêëîïôœùûüÿÀÂÆÇÉÈÊËÎÏÔŒÙÛÜŸ"  # French
    "àèéìíîòóùúÀÈÉÌÍÎÒÓÙÚ"  # Italian
    "ĳĲëïéèáóúÉ"  # Dutch
    "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"  # Polish
    "ăâîșțĂÂÎȘȚşţŞŢ"  # Romanian (comma and cedilla forms)
    "äöüßÄÖÜåÅøØæÆčďěňřšťůžČĎĚŇŘŠŤŮŽőűŐŰāēīūĀĒĪŪļķņģĻĶŅĢėįųĖĮŲõÕðÐþÞ"
    "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩάέήίόύώ"
    "абвгдежзийклмнопрстуфхцчшщъьюяАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЬЮЯ"
    "€£$%‰–—‘’“”„«»…•·×÷±°№"
)


def test_the_shipped_font_subset_has_every_letter_documents_need():
    from fontTools.ttLib import TTFont

    for name in pdf.FONT_FILES.values():
        cmap = TTFont(pdf.FONTS / name).getBestCmap()
        missing = sorted({ch for ch in NEEDED if ord(ch) not in cmap})
        assert not missing, f"{name} lacks {''.join(missing)}"
