"""VAT by the rule of core.tax, through every document: order, invoice, credit note, cart,
quote, explainer, settings and product classes. Worked examples state the rounding rule:
VAT once per document and rate, on the sum of the net amounts at that rate."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from core import credit_notes, orders, quotes, tax
from core.models import AuditEntry, Company, Invoice, Order, Quote
from extensions import db
from tests.html import find
from tests.records import company, place, product, user

ADMIN = "admin@portal.test"
MCU, CAP, RES = "MCU-STM32F401", "CAP-1206-10U", "RES-0402-10K"
REVERSE = "Reverse charge: intra-Community supply exempt from VAT (Article 138"


def invoice_of(order: Order) -> Invoice:
    orders.move(order, "confirmed", actor=user(ADMIN))
    db.session.commit()
    return db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))


@pytest.mark.parametrize(
    ("slug", "kind", "rate"),
    [
        ("acme", tax.DOMESTIC, Decimal(19)),  # Germany, like the seller
        ("baltic", tax.REVERSE_CHARGE, Decimal(0)),  # Lithuania, valid VAT ID
        ("carpathia", tax.NO_VAT_ID, Decimal(19)),  # Romania, no VAT ID
        ("delft", tax.REVERSE_CHARGE, Decimal(0)),  # the Netherlands, valid VAT ID
        ("etna", tax.REVERSE_CHARGE, Decimal(0)),  # Italy, valid VAT ID
    ],
)
def test_each_demo_company_is_taxed_by_the_rule(ctx, slug, kind, rate):
    order = place(slug)
    assert order.tax_kind == kind
    assert {line.vat_rate for line in order.lines} == {rate}
    assert order.vat_total == (order.total * rate / 100).quantize(Decimal("0.01"))
    assert order.buyer_country == company(slug).country
    invoice = invoice_of(order)
    assert invoice.net_total == order.total and invoice.vat_total == order.vat_total
    assert invoice.total == order.gross_total


def test_a_company_outside_the_eu_is_an_export(ctx):
    acme = company("acme")
    acme.country, acme.vat_number = "CH", ""
    db.session.commit()
    order = place("acme")
    assert order.tax_kind == tax.EXPORT and order.vat_total == 0
    assert "Export: supply outside the EU" in tax.of_order(order).mention


def test_the_reverse_charge_invoice_says_so_on_both_faces(as_user, ctx):
    invoice = invoice_of(place("baltic"))
    for who, url in (
        ("orders@baltic.test", f"/shop/invoices/{invoice.id}"),
        (ADMIN, f"/office/invoices/{invoice.id}"),
    ):
        html = as_user(who).get(url).get_data(as_text=True)
        sheet = find(html, class_="invoice-sheet").text
        assert REVERSE in sheet
        assert "VAT 0 %" in sheet and "LT100001234611" in sheet and "Lithuania" in sheet


def test_a_domestic_invoice_shows_net_vat_and_gross(as_user, ctx):
    invoice = invoice_of(place("acme"))
    sheet = find(
        as_user(ADMIN).get(f"/office/invoices/{invoice.id}").get_data(as_text=True),
        class_="invoice-sheet",
    )
    assert f'data-net="{invoice.net_total}"' in sheet.inner_html
    assert f'data-vat="{invoice.vat_total}"' in sheet.inner_html
    assert f'data-gross="{invoice.total}"' in sheet.inner_html
    assert "VAT 19 %" in sheet.text and "Reverse charge" not in sheet.text


def test_two_rates_on_one_document_are_rounded_once_each(as_user, ctx):
    """Worked example: 3 x 0.3333 and 3 x 0.3333 at 19 % (2 lines, 2.00 net: 0.38 VAT,
    not 0.19 + 0.19 of rounded halves), and 7 x 0.1500 at 7 % (1.05 net: 0.0735 → 0.07)."""
    low = product(RES)
    low.tax_class = "reduced"
    for sku in (MCU, CAP):
        product(sku).base_price = Decimal("0.3333")
    db.session.commit()
    # Carpathia (Standard group) pays base prices: the test sets them.
    low.base_price = Decimal("0.1500")
    db.session.commit()
    order = place("carpathia", ((MCU, 3), (CAP, 3), (RES, 7)))
    assert [line.line_total for line in order.lines if line.tax_class == "standard"] == [
        Decimal("1.00"),
        Decimal("1.00"),
    ]
    figures = tax.of_order(order)
    assert [(r.rate, r.net, r.vat) for r in figures.lines] == [
        (Decimal(19), Decimal("2.00"), Decimal("0.38")),
        (Decimal(7), Decimal("1.05"), Decimal("0.07")),
    ]
    assert order.vat_total == Decimal("0.45") and order.gross_total == Decimal("3.50")
    html = as_user("orders@carpathia.test").get(f"/shop/orders/{order.id}").get_data(as_text=True)
    assert "VAT 19 % on €2.00" in html and "VAT 7 % on €1.05" in html
    assert 'data-gross="3.50"' in html


def test_a_placed_order_keeps_its_rates_when_the_settings_change(as_user, ctx):
    before = place("acme")
    admin = as_user(ADMIN)
    response = admin.send(
        "POST",
        "/office/settings/vat",
        data={"country": "DE", "standard": "20", "reduced": "5.5"},
    )
    assert response.status_code == 302
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "settings.changed")
        .order_by(AuditEntry.id.desc())
    )
    assert entry.before["standard"] == "19" and entry.after["standard"] == "20"
    after = place("acme")
    assert {line.vat_rate for line in after.lines} == {Decimal(20)}
    db.session.refresh(before)
    assert {line.vat_rate for line in before.lines} == {Decimal(19)}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"standard": "abc"}, "A VAT rate must be a number, such as 19."),
        ({"standard": "1e1"}, "written out in digits"),
        ({"standard": "-1"}, "cannot be negative"),
        ({"reduced": "50"}, "must be below 50"),
        ({"reduced": "7.125"}, "at most two decimals"),
        ({"standard": ""}, "Enter the standard rate"),
        ({"country": "XX"}, "country from the list."),
    ],
)
def test_bad_vat_settings_are_explained_and_change_nothing(as_user, ctx, changes, message):
    data = {"country": "DE", "standard": "21", "reduced": "9", **changes}
    response = as_user(ADMIN).send("POST", "/office/settings/vat", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert tax.for_buyer("DE").rate("standard") == Decimal(19)


def test_a_products_vat_class_is_set_on_its_form_and_taken_by_orders(as_user, ctx):
    cap = product(CAP)
    page = as_user(ADMIN).get(f"/office/products/{cap.id}/edit").get_data(as_text=True)
    assert 'name="tax_class"' in page
    cap.tax_class = "zero"
    db.session.commit()
    order = place("acme", ((CAP, 10),))
    assert order.lines[0].tax_class == "zero" and order.lines[0].vat_rate == 0


def test_the_cart_and_the_quote_show_vat_before_ordering(as_user, ctx):
    buyer = as_user("request@acme.test")
    buyer.send("POST", "/shop/cart/lines", data={"product_id": product(MCU).id, "quantity": 10})
    cart = buyer.get("/shop/cart").get_data(as_text=True)
    assert "VAT 19 %" in cart and "Goods including VAT" in cart
    priced = [
        q
        for q in db.session.scalars(
            select(Quote).join(Company).where(Company.slug.in_(("baltic", "delft", "etna")))
        )
        if quotes.total(q) is not None
    ]
    assert priced, "the demo has priced quotes of reverse-charge customers"
    quote = priced[0]
    figures = quotes.taxes(quote)
    assert figures is not None and figures.vat == 0 and "Reverse charge" in figures.mention
    page = (
        as_user(f"orders@{quote.company.slug}.test")
        .get(f"/shop/quotes/{quote.id}")
        .get_data(as_text=True)
    )
    assert "Reverse charge" in page and "Total including VAT" in page


def test_a_credit_note_splits_its_amount_at_its_invoices_rate(ctx):
    invoice = invoice_of(place("acme"))
    note = credit_notes.issue(
        company("acme"), Decimal("11.90"), "Damaged reel", invoice=invoice, actor=user(ADMIN)
    )
    db.session.commit()
    assert (note.net_amount, note.vat_rate, note.vat_amount) == (
        Decimal("10.00"),
        Decimal(19),
        Decimal("1.90"),
    )
    # Without an invoice: the company's standard rate today (Baltic: reverse charge, 0 %).
    note = credit_notes.issue(company("baltic"), Decimal("50.00"), "Goodwill", actor=user(ADMIN))
    assert (note.net_amount, note.vat_amount) == (Decimal("50.00"), Decimal("0.00"))


def test_the_explainer_shows_the_vat_rule_for_a_customer(as_user, ctx):
    admin = as_user(ADMIN)
    for slug, words in (
        ("baltic", "reverse charge"),
        ("carpathia", "without a valid VAT ID"),
        ("acme", "Domestic sale"),
    ):
        html = admin.get(f"/office/explain?company={company(slug).id}&sku={MCU}").get_data(
            as_text=True
        )
        step = find(html, class_="explain-step explain-step--vat").text
        assert words in step, (slug, step)


def test_a_company_vat_id_is_checked_with_its_check_digits(as_user, ctx):
    acme = company("acme")
    response = as_user(ADMIN).send(
        "POST",
        f"/office/customers/{acme.id}/edit",
        data={
            "name": acme.name,
            "group_id": str(acme.group_id),
            "country": "DE",
            "vat_number": "DE123456789",  # a check digit off
            "payment_terms_days": "30",
        },
    )
    assert response.status_code == 422
    assert "DE123456789 is not a valid VAT ID" in response.get_data(as_text=True)
    db.session.refresh(acme)
    assert acme.vat_number == "DE123456788"


def test_exports_carry_net_vat_and_gross(as_user, ctx):
    from tests.integration.test_exports import download

    order = place("acme")
    invoice = invoice_of(order)
    _, rows, _ = download(as_user(ADMIN), f"/office/exports/invoices?q={invoice.display_number}")
    row = next(r for r in rows if r["invoice"] == invoice.display_number)
    assert Decimal(row["net"]) + Decimal(row["vat"]) == Decimal(row["total"]) == invoice.total
    assert Decimal(row["vat"]) == order.vat_total > 0
    _, rows, _ = download(as_user(ADMIN), f"/office/exports/orders?q={order.number}")
    row = next(r for r in rows if r["order"] == order.number)
    assert Decimal(row["total"]) == order.total and Decimal(row["gross"]) == order.gross_total


def test_checkout_shows_vat_on_goods_and_shipping_before_ordering(as_user, ctx):
    """Acme (19 %): 10 x 4.50 (Wholesale's break from 10, less 10 %) = 45.00 goods and
    Parcel 6.90 (below its 250 free limit) are 51.90 net, 9.86 VAT (9.861), 61.76 gross;
    Baltic's checkout adds no VAT."""
    buyer = as_user("orders@acme.test")
    buyer.send("POST", "/shop/cart/lines", data={"product_id": product(MCU).id, "quantity": 10})
    summary = find(buyer.get("/shop/cart").get_data(as_text=True), id="checkout-summary")
    assert 'data-net-total="51.90"' in summary.inner_html
    assert 'data-vat="9.86"' in summary.inner_html
    assert 'data-gross-total="61.76"' in summary.inner_html
    baltic = as_user("orders@baltic.test")
    baltic.send("POST", "/shop/cart/lines", data={"product_id": product(MCU).id, "quantity": 10})
    summary = find(baltic.get("/shop/cart").get_data(as_text=True), id="checkout-summary")
    assert 'data-vat="0.00"' in summary.inner_html


def test_the_vat_class_goes_out_with_a_product_export_and_back_in_with_an_import(as_user, ctx):
    from tests.integration.test_exports import download
    from tests.integration.test_imports import job_of, upload

    admin = as_user(ADMIN)
    _, rows, _ = download(admin, f"/office/exports/products?q={CAP}")
    assert next(r for r in rows if r["sku"] == CAP)["tax_class"] == "standard"
    job = job_of(
        upload(
            admin,
            "products",
            f"sku,name,base_price,tax_class\n{CAP},,,zero\nVAT-NEW-1,Manual,3,reduced\n",
        )
    )
    assert (job.status, job.error_count) == ("done", 0), job.message
    db.session.expire_all()
    assert product(CAP).tax_class == "zero" and product("VAT-NEW-1").tax_class == "reduced"
