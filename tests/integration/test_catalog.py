"""The storefront catalogue: each group's offer, search, sorting, paging, bad input."""

from decimal import Decimal

import pytest
from sqlalchemy import event

from extensions import db
from tests.html import find, find_all, offer_of

# persona, sku, price shown, crossed-out list price (promotion) or None, stock text
EXACT_ROWS = [
    ("orders@acme.test", "MCU-STM32F401", "€4.68", "€5.20", "4217 in stock"),
    ("orders@acme.test", "CAP-1206-10U", "€0.12", None, "36 in stock"),
    ("orders@acme.test", "CON-USBC-16P", "€0.80", None, "Out of stock"),
    ("orders@baltic.test", "MCU-STM32F401", "€5.70", "€6.00", "Many"),
    ("orders@baltic.test", "CAP-1206-10U", "€0.16", None, "Few"),
    ("orders@baltic.test", "CON-USBC-16P", "€0.90", None, "Out of stock"),
    ("browse@carpathia.test", "MCU-STM32F401", "€6.40", None, "Many"),
    ("browse@carpathia.test", "CAP-1206-10U", "€0.18", None, "Few"),
    ("browse@carpathia.test", "CON-USBC-16P", "€0.95", None, "Out of stock"),
]


@pytest.mark.parametrize(("email", "sku", "price", "was", "stock"), EXACT_ROWS)
def test_each_group_sees_its_own_offer(as_user, email, sku, price, was, stock):
    html = as_user(email).get(f"/shop/?q={sku}").get_data(as_text=True)
    offer = offer_of(html, sku)
    assert find(offer.inner_html, class_="price").text == price
    was_price = find(offer.inner_html, class_="price price--was")
    badge = find(offer.inner_html, class_="badge badge--promo")
    if was:
        assert was_price.text == was
        discount = "10%" if "acme" in email else "5%"
        assert badge.text.startswith(f"MCU spring sale: −{discount}")
    else:
        assert was_price is None and badge is None
    assert stock in offer.text


@pytest.mark.parametrize("email", ["orders@baltic.test", "browse@carpathia.test"])
def test_levels_groups_never_receive_a_count(as_user, email):
    html = as_user(email).get("/shop/?q=CAP-1206-10U").get_data(as_text=True)
    assert "36 in stock" not in html
    assert ">36<" not in html and " 36 " not in offer_of(html, "CAP-1206-10U").text
    product_page = as_user(email).get(
        f"/shop/products/{offer_of(html, 'CAP-1206-10U').attrs['id'][6:]}"
    )
    assert "36" not in offer_of(product_page.get_data(as_text=True), "CAP-1206-10U").text


def test_product_page_shows_offer_and_specs(as_user):
    c = as_user("orders@acme.test")
    listing = c.get("/shop/?q=MCU-STM32F401").get_data(as_text=True)
    product_id = offer_of(listing, "MCU-STM32F401").attrs["id"].removeprefix("offer-")
    html = c.get(f"/shop/products/{product_id}").get_data(as_text=True)
    assert "STM32F401 microcontroller" in html
    assert find(offer_of(html, "MCU-STM32F401").inner_html, class_="price").text == "€4.68"
    assert "Specifications" in html


def test_search_by_name_part_is_case_insensitive(as_user):
    html = as_user("orders@acme.test").get("/shop/?q=usb-c receptacle").get_data(as_text=True)
    assert offer_of(html, "CON-USBC-16P")


def test_search_treats_like_wildcards_as_text(as_user):
    html = as_user("orders@acme.test").get("/shop/?q=%25_%25").get_data(as_text=True)
    assert find_all(html, class_="card product-card") == []
    assert "No product matches" in html


def test_category_filter(as_user):
    html = as_user("orders@acme.test").get("/shop/?category=capacitors").get_data(as_text=True)
    skus = [e.attrs["data-sku"] for e in find_all(html, class_="offer")]
    assert skus and all(sku.startswith("CAP-") for sku in skus)
    parent = as_user("orders@acme.test").get("/shop/?category=passives&q=CAP-1206-10U")
    assert offer_of(parent.get_data(as_text=True), "CAP-1206-10U")


def prices_on(html):
    return [
        Decimal(e.attrs["data-price"])
        for e in find_all(html, class_="price")
        if "data-price" in e.attrs
    ]


def test_sorting_by_price_uses_the_group_price(as_user):
    c = as_user("orders@acme.test")
    ascending = prices_on(
        c.get("/shop/?sort=price&category=microcontrollers").get_data(as_text=True)
    )
    descending = prices_on(
        c.get("/shop/?sort=-price&category=microcontrollers").get_data(as_text=True)
    )
    assert len(ascending) > 5
    # The promoted MCU shows its promoted price but sorts by its group list price.
    assert ascending[0] <= ascending[-1]
    assert descending[0] >= descending[-1]
    assert max(descending) == descending[0]


def test_pagination_pages_are_distinct_and_bounded(as_user):
    c = as_user("browse@carpathia.test")
    first = c.get("/shop/").get_data(as_text=True)
    second = c.get("/shop/?page=2").get_data(as_text=True)
    skus_1 = {e.attrs["data-sku"] for e in find_all(first, class_="offer")}
    skus_2 = {e.attrs["data-sku"] for e in find_all(second, class_="offer")}
    assert len(skus_1) == 24 and len(skus_2) == 24 and not skus_1 & skus_2
    assert "Page 1 of" in first and 'rel="next"' in first
    beyond = c.get("/shop/?page=999")
    assert beyond.status_code == 200
    assert "There is no page 999" in beyond.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=-1", "The page must be a whole number from 1 upwards."),
        ("page=0", "The page must be a whole number from 1 upwards."),
        ("page=abc", "The page must be a whole number from 1 upwards."),
        ("page=1e9", "The page must be a whole number from 1 upwards."),
        ("page=99999999999", "The page must be a whole number from 1 upwards."),
        ("q=" + "x" * 10_000, "Search text is too long: at most 200 characters."),
        ("sort=cost", "Unknown sort order."),
        ("sort=name;drop", "Unknown sort order."),
    ],
)
@pytest.mark.parametrize("path", ["/shop/", "/office/products"])
def test_malformed_parameters_get_a_clear_400(as_user, path, query, message):
    email = "orders@acme.test" if path.startswith("/shop") else "manager@portal.test"
    response = as_user(email).get(f"{path}?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_unknown_category_and_product_are_404_pages(as_user):
    c = as_user("orders@acme.test")
    response = c.get("/shop/?category=warp-drives")
    assert response.status_code == 404
    assert "There is no such category." in response.get_data(as_text=True)
    missing = c.get("/shop/products/987654")
    assert missing.status_code == 404
    assert "There is no such product." in missing.get_data(as_text=True)
    assert c.get("/no/such/page").status_code == 404


def test_archived_products_are_not_offered(as_user, ctx):
    from core.models import Product

    product = db.session.scalar(db.select(Product).where(Product.sku == "CAP-1206-10U"))
    product.is_archived = True
    db.session.commit()
    c = as_user("orders@acme.test")
    assert "CAP-1206-10U" not in c.get("/shop/?q=CAP-1206").get_data(as_text=True)
    assert c.get(f"/shop/products/{product.id}").status_code == 404


def test_htmx_gets_only_the_results_fragment(as_user):
    response = as_user("orders@acme.test").htmx("/shop/?q=STM32")
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="catalog-results"')
    assert "<html" not in html and 'id="nav"' not in html
    assert "HX-Request" in response.headers["Vary"]
    full = as_user("orders@acme.test").get("/shop/?q=STM32").get_data(as_text=True)
    assert "<html" in full and 'id="nav"' in full and 'id="catalog-results"' in full


def test_every_offer_region_has_a_stable_id_and_sku(as_user):
    html = as_user("orders@baltic.test").get("/shop/").get_data(as_text=True)
    offers = find_all(html, class_="offer")
    offers += find_all(html, class_="offer offer--promo")
    for element in offers:
        assert element.attrs["id"] == f"offer-{element.attrs['id'][6:]}"
        assert element.attrs["data-sku"]


class StatementCounter:
    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def __call__(self, *args):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self)


@pytest.mark.parametrize(
    "email", ["orders@acme.test", "orders@baltic.test", "browse@carpathia.test"]
)
def test_catalogue_statements_do_not_grow_with_page_size(app, as_user, email):
    c = as_user(email)
    c.get("/shop/")  # the session's last-seen touch happens once, before we count
    counts = {}
    for size in (6, 24, 96):
        app.config["CATALOG_PAGE_SIZE"] = size
        try:
            with app.app_context():
                engine = db.engine
            with StatementCounter(engine) as counter:
                assert c.get("/shop/?sort=price").status_code == 200
            counts[size] = counter.count
        finally:
            app.config["CATALOG_PAGE_SIZE"] = 24
    assert len(set(counts.values())) == 1, counts
    assert counts[96] <= 6, counts


def test_a_request_that_refreshes_its_session_stays_within_six_statements(app, as_user, ctx):
    from datetime import timedelta

    from core.models import LoginSession, utcnow

    c = as_user("orders@acme.test")
    c.get("/shop/")
    db.session.execute(
        LoginSession.__table__.update().values(last_seen_at=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()
    with StatementCounter(db.engine) as counter:
        assert c.get("/shop/?sort=price").status_code == 200
    assert counter.count <= 6, counter.count
