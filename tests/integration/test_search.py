"""The back office's global search: each module the person may see, within their scope."""

import re

import pytest
from flask import render_template
from sqlalchemy import select

from core.models import Company, Invoice, Order
from extensions import db
from tests.html import find
from tests.matrix_base import ADMIN, ANNA, FINANCE, MARCO, VIEWER, WAREHOUSE

SECTIONS = ("products", "customers", "orders", "quotes", "invoices")


def results(client, q: str, **kwargs) -> str:
    response = client.get("/office/search", query_string={"q": q}, **kwargs)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def sections_in(html: str) -> set[str]:
    return {key for key in SECTIONS if find(html, id=f"search-{key}") is not None}


def section(html: str, key: str):
    heading = find(html, id=f"search-{key}")
    assert heading is not None, f"no {key} section"
    return find(html, aria_labelledby=f"search-{key}")


def order_of(slug: str) -> Order:
    return db.session.scalar(
        select(Order).join(Company, Company.id == Order.company_id).where(Company.slug == slug)
    )


def test_a_rep_never_finds_another_reps_customers_order(as_user, ctx):
    theirs = order_of("carpathia")  # Marco's customer, not Anna's
    html = results(as_user(ANNA), theirs.number)
    region = find(html, id="search-results")
    # Only her own words come back: no section, no link, no count.
    assert region.text.count(theirs.number) == 1
    assert f"Nothing matches “{theirs.number}”." in region.text
    assert f"/office/orders/{theirs.id}" not in html
    assert not sections_in(html)

    found = section(results(as_user(MARCO), theirs.number), "orders")
    assert theirs.number in found.text
    assert f'href="/office/orders/{theirs.id}"' in found.inner_html


def test_orders_are_found_by_the_customers_own_reference(as_user, ctx):
    order = order_of("acme")
    order.customer_reference = "PO-ACME-7731"
    db.session.commit()
    found = section(results(as_user(ANNA), "acme-7731"), "orders")
    assert order.number in found.text and "PO-ACME-7731" in found.text
    assert "orders" not in sections_in(results(as_user(MARCO), "acme-7731"))


def test_customers_by_name_or_vat_id_within_scope(as_user):
    by_vat = section(results(as_user(ANNA), "LT 1000 0123 4611"), "customers")
    assert "Baltic Drones" in by_vat.text
    by_name = section(results(as_user(ADMIN), "etna"), "customers")
    assert "Etna Labs" in by_name.text
    assert "customers" not in sections_in(results(as_user(MARCO), "LT100001234611"))
    assert "customers" not in sections_in(results(as_user(ANNA), "etna"))  # unassigned


def test_quotes_and_invoices_by_number_within_scope(as_user, ctx):
    acme_invoice = db.session.scalar(
        select(Invoice).join(Company).where(Company.slug == "acme").order_by(Invoice.id)
    )
    number = acme_invoice.display_number
    anna = results(as_user(ANNA), number)
    assert number in section(anna, "invoices").text
    assert "invoices" not in sections_in(results(as_user(MARCO), number))
    # Short forms name the same invoice and quote.
    assert number in section(results(as_user(ANNA), str(acme_invoice.number)), "invoices").text
    assert "QT-00001" in section(results(as_user(ANNA), "qt-1"), "quotes").text
    assert "quotes" not in sections_in(results(as_user(MARCO), "QT-00001"))


@pytest.mark.parametrize(
    ("email", "missing"),
    [
        (WAREHOUSE, {"customers", "quotes", "invoices"}),  # no customers, quotes, invoices
        (FINANCE, {"quotes"}),
    ],
)
def test_sections_need_their_modules_permission(as_user, ctx, email, missing):
    invoice = db.session.scalar(select(Invoice).order_by(Invoice.id))
    for q in (invoice.display_number, "QT-00001", "Acme", "1"):
        html = results(as_user(email), q)
        assert not sections_in(html) & missing, q
    html = results(as_user(email), invoice.display_number)
    assert ("/office/invoices/" in html) == ("invoices" not in missing)
    searched = find(html, class_="search-results__searched").text
    for key in missing:
        assert key.capitalize() not in searched


def test_products_are_found_by_sku_or_name_with_a_link_to_see_all(as_user):
    client = as_user(VIEWER)
    by_sku = section(results(client, "MCU-STM32F401"), "products")
    assert "STM32F401 microcontroller" in by_sku.text
    html = results(client, "1")
    found = section(html, "products")
    assert found.inner_html.count("<tr>") == 10 + 1  # ten hits under the header row
    more = re.search(r'href="(/office/products\?q=1)"', found.inner_html)
    assert more, "no link to see all"
    total = int(re.search(r"\((\d[\d,]*)\)", found.text).group(1).replace(",", ""))
    listing = client.get(more.group(1)).get_data(as_text=True)
    shown = find(listing, class_="results__count").text
    assert int(re.match(r"\d+", shown).group(0)) == total > 10


def test_see_all_orders_opens_the_orders_list_with_the_same_text(as_user):
    html = results(as_user(ADMIN), "SO-0001")
    found = section(html, "orders")
    assert 'href="/office/orders?q=SO-0001"' in found.inner_html
    total = int(re.search(r"\((\d+)\)", found.text).group(1))
    listing = as_user(ADMIN).get("/office/orders?q=SO-0001").get_data(as_text=True)
    assert int(re.match(r"\d+", find(listing, class_="results__count").text).group(0)) == total


def test_no_see_all_link_when_every_hit_is_shown(as_user):
    found = section(results(as_user(ADMIN), "MCU-STM32F401"), "products")
    assert "/office/products?q=" not in found.inner_html


def test_an_empty_query_shows_what_can_be_found(as_user):
    html = results(as_user(WAREHOUSE), "")
    region = find(html, id="search-results")
    assert "products by SKU or name" in region.text and "orders by number" in region.text
    assert "invoices by number" not in region.text  # not the warehouse's to search
    assert not sections_in(html)


def test_no_results_say_so(as_user):
    html = results(as_user(ADMIN), "zzz-no-such-thing")
    assert "Nothing matches “zzz-no-such-thing”." in find(html, id="search-results").text


def test_htmx_gets_the_results_alone(as_user):
    html = results(as_user(ANNA), "acme", headers={"HX-Request": "true"})
    assert "<html" not in html
    assert re.sub(r"^\s*(\{#.*?#\})?\s*", "", html).startswith('<div id="search-results"')


def test_a_query_too_long_is_a_clear_400(as_user):
    response = as_user(ADMIN).get("/office/search", query_string={"q": "x" * 201})
    assert response.status_code == 400


def test_search_text_is_escaped(as_user):
    html = results(as_user(ADMIN), "<script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def box(app, **context) -> str:
    with app.test_request_context("/office/"):
        return render_template("office/_global_search.html", **context)


def test_the_global_search_box_is_a_labelled_get_form(app):
    html = box(app)
    form = find(html, role="search")
    assert form.tag == "form" and form.attrs["method"] == "get"
    assert form.attrs["action"] == "/office/search"
    label = re.search(r'<label[^>]*for="([^"]+)"', html).group(1)
    assert f'id="{label}"' in html and 'name="q"' in html
    # A list's own `q` is another search and does not fill the box.
    assert 'value="abc"' not in box(app, q="abc")
