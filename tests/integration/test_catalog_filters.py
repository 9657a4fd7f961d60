"""The storefront catalogue's filters and views (issue 16, part 5): filters built from
product specifications with faceted counts, "in stock only" per kind of group, the table
view, thumbnails, suggestions while typing, and no "Add to cart" on what cannot be
ordered. Counts and listings are checked against the plainest computation in Python."""

import html as htmllib
import re
from collections import Counter

import pytest
from sqlalchemy import event, func, insert, select, update

from core import catalog_filters, products
from core.models import (
    Category,
    CustomerGroup,
    Product,
    ProductPhoto,
    User,
    group_hidden_products,
)
from core.models.catalog import product_specs, spec_values
from extensions import db
from tests.html import find, find_all, offer_of
from tests.records import product as product_by_sku

ACME = "orders@acme.test"  # Wholesale: exact stock, quotes, no back-orders
BALTIC = "orders@baltic.test"  # Partner: levels, quotes, no back-orders
CARPATHIA = "orders@carpathia.test"  # Standard: levels, no quotes, back-orders
LEAVES = {"capacitors": ["capacitors"], "passives": None}


@pytest.fixture(autouse=True)
def _counted_afresh():
    """Each test counts for itself: panels kept by an earlier one (core.catalog_filters
    keeps them for KEEP_SECONDS) would hide what a test changed without a write."""
    catalog_filters.forget()


# --- reading the page -------------------------------------------------------------------


def panel(page: str) -> dict[str, dict[str, tuple[int, bool]]]:
    """The filter panel: {name: {value: (count, chosen)}}."""
    found: dict[str, dict[str, tuple[int, bool]]] = {}
    for item in find_all(page, class_="facet__value"):
        markup = item.inner_html
        name = htmllib.unescape(re.search(r'name="spec\.([^"]*)"', markup).group(1))
        value = htmllib.unescape(re.search(r'value="([^"]*)"', markup).group(1))
        count = int(re.search(r"\(([\d,]+)\)</span>", markup).group(1).replace(",", ""))
        found.setdefault(name, {})[value] = (count, " checked" in markup.split(">")[0])
    return found


def listed(page: str) -> list[str]:
    """The SKUs of the results, in order."""
    results = page[page.index('id="catalog-results"') :]
    return re.findall(r'data-sku="([^"]+)"', results)


def total_of(page: str) -> int:
    text = find(page, class_="results__count").text
    return int(re.search(r"([\d,]+)", text).group(1).replace(",", ""))


# --- the plainest computation -----------------------------------------------------------


def on_sale_in(slug: str | None) -> list[Product]:
    stmt = select(Product).where(Product.sold())
    if slug:
        category = db.session.scalar(select(Category).where(Category.slug == slug))
        children = select(Category.id).where(Category.parent_id == category.id)
        ids = [category.id, *db.session.scalars(children)]
        stmt = stmt.where(Product.category_id.in_(ids))
    return list(db.session.scalars(stmt))


def expected_counts(items: list[Product], chosen: dict[str, set[str]]) -> dict:
    """Faceted counts: each name's values among the products passing every other name."""
    names = {name for p in items for name in (p.specs or {})}
    counts = {}
    for name in names:
        passing = [
            p
            for p in items
            if all((p.specs or {}).get(n) in values for n, values in chosen.items() if n != name)
        ]
        counts[name] = Counter(p.specs[name] for p in passing if name in (p.specs or {}))
    return counts


def expected_listing(items: list[Product], chosen: dict[str, set[str]]) -> list[str]:
    """The SKUs passing every chosen name, in name order as the database compares names."""
    passing = [p.id for p in items if all((p.specs or {}).get(n) in vs for n, vs in chosen.items())]
    if not passing:
        return []
    return list(
        db.session.scalars(
            select(Product.sku).where(Product.id.in_(passing)).order_by(Product.name, Product.id)
        )
    )


def query(base: str, chosen: dict[str, set[str]], **extra) -> str:
    from urllib.parse import urlencode

    pairs = [(f"spec.{name}", value) for name, values in chosen.items() for value in values]
    pairs += list(extra.items())
    return base + ("&" if "?" in base else "?") + urlencode(pairs)


def assert_panel_matches(page: str, items: list[Product], chosen: dict[str, set[str]]):
    shown = panel(page)
    expected = expected_counts(items, chosen)
    assert shown, "no filter panel"
    for name, values in shown.items():
        for value, (count, ticked) in values.items():
            assert count == expected.get(name, Counter())[value], (name, value)
            assert ticked == (value in chosen.get(name, set())), (name, value)
    # Every value that some product would add is offered.
    for name, counter in expected.items():
        for value, count in counter.items():
            if count and len(counter) <= catalog_filters.VALUES_READ:
                assert value in shown.get(name, {}), (name, value)


# --- filters and counts -------------------------------------------------------------------


@pytest.mark.parametrize(
    "chosen",
    [
        {},
        {"Package": {"0603"}},
        {"Package": {"0603", "0805"}},  # OR within a name
        {"Package": {"0603", "0805"}, "Voltage": {"50 V"}},  # AND across names
        {"Voltage": {"16 V"}, "Capacitance": {"10 µF", "1 µF"}},
    ],
)
def test_a_category_is_filtered_and_counted_as_faceted_search(as_user, ctx, chosen):
    c = as_user(ACME)
    page = c.get(query("/shop/?category=capacitors", chosen)).get_data(as_text=True)
    items = on_sale_in("capacitors")
    assert listed(page) == expected_listing(items, chosen)[:24]
    assert total_of(page) == len(expected_listing(items, chosen))
    assert_panel_matches(page, items, chosen)


def test_ticking_a_value_gives_as_many_products_as_its_count_said(as_user):
    c = as_user(ACME)
    before = panel(c.get("/shop/?category=passives").get_data(as_text=True))
    count, _ = before["Package"]["0603"]
    assert count > 1
    after = c.get("/shop/?category=passives&spec.Package=0603").get_data(as_text=True)
    assert total_of(after) == count
    assert panel(after)["Package"]["0603"] == (count, True)
    # The alternatives of the chosen name keep their own counts.
    assert panel(after)["Package"]["0805"][0] == before["Package"]["0805"][0]


def test_a_search_is_filtered_and_counted_too(as_user, ctx):
    c = as_user(ACME)
    chosen = {"Package": {"0603"}}
    page = c.get(query("/shop/?q=0603", chosen)).get_data(as_text=True)
    items = [p for p in on_sale_in(None) if "0603" in f"{p.sku} {p.name}".lower()]
    assert listed(page) == expected_listing(items, chosen)[:24]
    assert_panel_matches(page, items, chosen)


def test_the_whole_catalogue_asks_for_a_category_and_reads_no_specification(app, as_user):
    c = as_user(ACME)
    c.get("/shop/")
    with db_statements(app) as seen:
        page = c.get("/shop/").get_data(as_text=True)
    assert "Choose a category, or search, to filter by specification." in page
    assert not find_all(page, class_="facet__value")
    assert not [s for s in seen if "product_specs" in s]


def test_a_category_counts_its_values_in_one_statement_and_keeps_them(
    app, as_user, ctx, monkeypatch
):
    c, url = as_user(ACME), "/shop/?category=capacitors&in_stock=1"
    c.get("/shop/?category=capacitors")  # the session, kept totals, a process's first panel
    with db_statements(app) as seen:
        first = c.get(url).get_data(as_text=True)
    assert len([s for s in seen if "product_specs" in s]) == 1
    # Kept for the next request of this process, with the same answer.
    with db_statements(app) as seen:
        assert panel(c.get(url).get_data(as_text=True)) == panel(first)
    assert not [s for s in seen if "product_specs" in s]
    # A write of what is counted (here: stock, under "in stock only") forgets it at once.
    before = panel(first)["Package"]["0603"][0]
    set_stock("CAP-0603-100N", 0 if product_by_sku("CAP-0603-100N").stock else 5)
    # (From now on nothing is kept even for a moment: past KEEP_SECONDS, for the writes of
    # other processes, a panel is counted again.)
    monkeypatch.setattr(catalog_filters, "KEEP_SECONDS", -1)
    after = panel(c.get(url).get_data(as_text=True))["Package"]["0603"][0]
    assert after != before
    with db_statements(app) as seen:
        c.get(url)
    assert len([s for s in seen if "product_specs" in s]) == 1


def test_a_listing_too_large_to_count_asks_to_narrow_it(as_user, monkeypatch):
    monkeypatch.setattr(catalog_filters, "FACET_LIMIT", 20)
    c = as_user(ACME)
    passives = c.get("/shop/?category=passives").get_data(as_text=True)  # kept total: > 20
    assert "Too many products to filter by specification" in passives
    assert not find_all(passives, class_="facet__value")
    capacitors = c.get("/shop/?category=capacitors&in_stock=1").get_data(as_text=True)
    assert "Too many products" in capacitors  # 36 capacitors, more than 20
    # A search of two letters has no plan to bound it: its products are counted first.
    few = c.get("/shop/?q=1u&spec.Package=0603").get_data(as_text=True)
    assert "Too many products to filter by specification" not in few
    assert panel(few)["Package"]["0603"][1] is True
    broad = c.get("/shop/?q=re&in_stock=1").get_data(as_text=True)
    assert "Too many products to filter by specification" in broad


def test_a_filtered_listing_stops_counting_at_the_cap(app, as_user, ctx, monkeypatch):
    from core import catalog

    monkeypatch.setattr(catalog, "COUNT_CAP", 10)
    monkeypatch.setitem(app.config, "CATALOG_PAGE_SIZE", 6)
    c = as_user(ACME)
    everything = expected_listing(on_sale_in("capacitors"), {"Voltage": {"50 V"}})
    assert len(everything) > 12
    first = c.get("/shop/?category=capacitors&spec.Voltage=50+V").get_data(as_text=True)
    assert "10+ products" in find(first, class_="results__count").text
    assert listed(first) == everything[:6] and 'rel="next"' in first
    third = c.get("/shop/?category=capacitors&spec.Voltage=50+V&page=3").get_data(as_text=True)
    assert listed(third) == everything[12:18]


def test_a_chosen_value_nothing_holds_stays_shown_to_untick(as_user):
    page = as_user(ACME).get("/shop/?category=capacitors&spec.Package=9999").get_data(as_text=True)
    assert panel(page)["Package"]["9999"] == (0, True)
    assert "No product passes these filters." in page
    assert listed(page) == []


def test_htmx_gets_the_results_and_the_panel_out_of_band(as_user):
    response = as_user(ACME).htmx("/shop/?category=capacitors&spec.Package=0603")
    page = response.get_data(as_text=True)
    assert "<html" not in page and page.lstrip().startswith('<div id="catalog-results"')
    facets = re.search(r'<div id="catalog-facets"[^>]*>', page).group(0)
    assert 'hx-swap-oob="true"' in facets
    assert panel(page)["Package"]["0603"][1] is True
    assert "HX-Request" in response.headers["Vary"]


def test_the_address_bar_gets_the_state_as_a_link_says_it(as_user):
    c = as_user(ACME)
    sent = "/shop/?category=capacitors&q=&sort=name&spec.Package=0603&in_stock=0"
    response = c.get(sent, headers={"HX-Request": "true", "HX-Trigger": "catalog-search"})
    assert response.headers["HX-Push-Url"] == "/shop/?category=capacitors&spec.Package=0603"
    # A live list re-fetching itself leaves the address alone.
    refresh = c.get(sent, headers={"HX-Request": "true", "HX-Trigger": "catalog-results"})
    assert "HX-Push-Url" not in refresh.headers


def test_links_keep_the_state_and_remove_one_filter_at_a_time(as_user):
    page = (
        as_user(ACME)
        .get(
            "/shop/?category=capacitors&sort=-price&spec.Package=0603&spec.Package=0805&in_stock=1"
        )
        .get_data(as_text=True)
    )
    chips = {
        e.text.rstrip(" ×"): htmllib.unescape(e.attrs["href"])
        for e in find_all(page, class_="chip")
    }
    assert chips["Package: 0603"] == (
        "/shop/?category=capacitors&sort=-price&spec.Package=0805&in_stock=1"
    )
    assert chips["In stock only"] == (
        "/shop/?category=capacitors&sort=-price&spec.Package=0603&spec.Package=0805"
    )
    # Another category keeps the sort and "in stock only", not the chosen values.
    assert find(page, href="/shop/?category=resistors&sort=-price&in_stock=1") is not None


def test_hidden_products_never_count_or_appear(as_user, ctx):
    hidden = product_by_sku("CAP-0603-100N")
    wholesale = db.session.scalar(select(CustomerGroup).where(CustomerGroup.name == "Wholesale"))
    db.session.execute(
        insert(group_hidden_products).values(group_id=wholesale.id, product_id=hidden.id)
    )
    db.session.commit()
    seen_by = {}
    for email in (ACME, BALTIC):
        page = as_user(email).get("/shop/?category=capacitors&spec.Package=0603")
        seen_by[email] = page.get_data(as_text=True)
    acme, baltic = seen_by[ACME], seen_by[BALTIC]
    assert hidden.sku not in listed(acme) and hidden.sku in listed(baltic)
    assert panel(acme)["Package"]["0603"][0] == panel(baltic)["Package"]["0603"][0] - 1
    assert total_of(acme) == total_of(baltic) - 1
    suggested = as_user(ACME).get("/shop/suggest?q=cap-0603-100n").get_data(as_text=True)
    assert hidden.sku not in suggested
    assert hidden.sku in as_user(BALTIC).get("/shop/suggest?q=cap-0603-100n").get_data(as_text=True)


# --- in stock only ------------------------------------------------------------------------


def set_stock(sku: str, stock: int) -> None:
    db.session.execute(update(Product).where(Product.sku == sku).values(stock=stock))
    db.session.commit()


def test_in_stock_only_for_an_exact_group_is_stock_above_zero(as_user, ctx):
    set_stock("CAP-0603-100N", 0)
    set_stock("CAP-0603-1U", 1)
    c = as_user(ACME)
    everything = listed(
        c.get("/shop/?category=capacitors&spec.Package=0603").get_data(as_text=True)
    )
    page = c.get("/shop/?category=capacitors&spec.Package=0603&in_stock=1").get_data(as_text=True)
    assert "CAP-0603-100N" in everything and "CAP-0603-100N" not in listed(page)
    assert "CAP-0603-1U" in listed(page)
    assert "1 in stock" in offer_of(page, "CAP-0603-1U").text
    items = [p for p in on_sale_in("capacitors") if p.stock > 0]
    assert listed(page) == expected_listing(items, {"Package": {"0603"}})
    assert_panel_matches(page, items, {"Package": {"0603"}})


def test_in_stock_only_for_a_levels_group_follows_its_thresholds_and_tells_no_count(as_user, ctx):
    partner = db.session.scalar(select(CustomerGroup).where(CustomerGroup.name == "Partner"))
    partner.few_from = 10  # below 10: "Out of stock" for Partner
    db.session.commit()
    set_stock("CAP-0603-100N", 7)
    set_stock("CAP-0603-1U", 10)
    page = (
        as_user(BALTIC)
        .get("/shop/?category=capacitors&spec.Package=0603&in_stock=1")
        .get_data(as_text=True)
    )
    assert "CAP-0603-100N" not in listed(page) and "CAP-0603-1U" in listed(page)
    assert offer_of(page, "CAP-0603-1U").text.endswith("Few")
    assert not re.search(r"\b\d[\d,]* in stock", page)
    items = [p for p in on_sale_in("capacitors") if p.stock >= 10]
    assert listed(page) == expected_listing(items, {"Package": {"0603"}})
    assert_panel_matches(page, items, {"Package": {"0603"}})
    # Acme sees counts: 7 is in stock for it.
    acme = as_user(ACME).get("/shop/?category=capacitors&spec.Package=0603&in_stock=1")
    assert "CAP-0603-100N" in listed(acme.get_data(as_text=True))


def test_a_back_order_group_is_told_what_in_stock_only_leaves_out(as_user):
    carpathia = as_user(CARPATHIA).get("/shop/?category=capacitors").get_data(as_text=True)
    acme = as_user(ACME).get("/shop/?category=capacitors").get_data(as_text=True)
    hint = "as a back-order delivered when goods arrive"
    assert hint in carpathia and hint not in acme


# --- the table view -----------------------------------------------------------------------


def test_the_table_view_lists_key_specs_and_is_remembered(as_user, ctx):
    c = as_user(ACME)
    page = c.get("/shop/?category=microcontrollers&view=table").get_data(as_text=True)
    table = find(page, class_="table table--compact catalog-table")
    assert table is not None and not find_all(page, class_="cards")
    row = find(page, class_="catalog-table__row orderable")
    first = row.inner_html
    sku = re.search(r'data-sku="([^"]+)"', first).group(1)
    item = product_by_sku(sku)
    specs = list(item.specs.items())[:3]
    assert [f"{k}: {v}" for k, v in specs] == [
        " ".join(e.text.split()) for e in find_all(first, class_="spec")
    ]
    assert item.sku in first and item.name in first and "add-to-cart" in first
    # The person's choice stays for the next visit, and the search form carries it.
    again = c.get("/shop/").get_data(as_text=True)
    assert find(again, class_="table table--compact catalog-table") is not None
    assert '<input type="hidden" name="view" value="table" form="catalog-search">' in again
    assert find(c.get("/shop/?view=cards").get_data(as_text=True), class_="cards") is not None
    assert find(c.get("/shop/").get_data(as_text=True), class_="cards") is not None


def test_the_table_view_shows_levels_not_counts_to_a_levels_group(as_user):
    page = as_user(BALTIC).get("/shop/?q=CAP-1206-10U&view=table").get_data(as_text=True)
    assert find(page, class_="table table--compact catalog-table") is not None
    assert offer_of(page, "CAP-1206-10U").text.endswith("Few")
    assert "36" not in offer_of(page, "CAP-1206-10U").text and "36 in stock" not in page


def test_an_unknown_view_is_a_clear_400(as_user):
    response = as_user(ACME).get("/shop/?view=grid")
    assert response.status_code == 400
    assert "Unknown view: choose cards or table." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        ("spec.Package=" + "x" * 201, "A specification value has at most 200 characters."),
        ("spec." + "N" * 61 + "=x", "A specification name has at most 60 characters."),
        ("in_stock=yes", "is either on (1) or off (0)."),
        ("&".join(f"spec.P={i}" for i in range(41)), "Too many filters at once"),
    ],
)
def test_malformed_filters_are_a_clear_400(as_user, query_string, message):
    response = as_user(ACME).get(f"/shop/?category=capacitors&{query_string}")
    assert response.status_code == 400
    assert message in htmllib.unescape(response.get_data(as_text=True))


# --- thumbnails ---------------------------------------------------------------------------


def test_cards_show_a_fixed_size_lazy_thumbnail_or_a_placeholder(as_user, ctx):
    item = product_by_sku("MCU-STM32F401")
    db.session.add(
        ProductPhoto(
            product_id=item.id,
            filename="p1-first.jpg",
            content_type="image/jpeg",
            size_bytes=10,
            position=0,
        )
    )
    db.session.add(
        ProductPhoto(
            product_id=item.id,
            filename="p1-second.jpg",
            content_type="image/jpeg",
            size_bytes=10,
            position=1,
        )
    )
    db.session.commit()
    page = as_user(ACME).get("/shop/?category=microcontrollers").get_data(as_text=True)
    card = next(
        e for e in find_all(page, class_="card product-card orderable") if item.sku in e.inner_html
    )
    img = re.search(r"<img [^>]*>", card.inner_html).group(0)
    assert 'src="/shop/photos/p1-first-thumb.jpg"' in img
    assert f'alt="{item.name}"' in img
    assert 'width="96"' in img and 'height="96"' in img and 'loading="lazy"' in img
    other = next(
        e
        for e in find_all(page, class_="card product-card orderable")
        if item.sku not in e.inner_html
    )
    assert '<span class="thumb thumb--none" aria-hidden="true">' in other.inner_html


def test_thumbnails_cost_no_statement_of_their_own(app, as_user):
    c = as_user(ACME)
    c.get("/shop/")
    with db_statements(app) as seen:
        c.get("/shop/")
    photos = [s for s in seen if "product_photos" in s]
    # Read inside the page's own statement, as a column of each row.
    assert len(photos) == 1 and "FROM products" in photos[0]


# --- suggestions ---------------------------------------------------------------------------


def test_suggestions_are_links_to_matching_products(as_user, ctx):
    response = as_user(ACME).get("/shop/suggest?q=stm32")
    page = response.get_data(as_text=True)
    options = find_all(page, role="option")
    assert 1 <= len(options) <= 8
    for option in options:
        assert "stm32" in option.text.lower()
        pid = int(option.attrs["href"].rsplit("/", 1)[1])
        assert option.attrs["id"] == f"q-option-{pid}"
        assert option.attrs["aria-selected"] == "false"
        assert "stm32" in db.session.get(Product, pid).search_key
    assert "<mark>STM32</mark>" in page
    assert "suggestions: use the arrow keys" in page or "suggestion: use the arrow keys" in page


def test_suggestions_are_at_most_eight(as_user):
    page = as_user(ACME).get("/shop/suggest?q=res").get_data(as_text=True)
    assert len(find_all(page, role="option")) == 8


@pytest.mark.parametrize("typed", ["", "st", "   "])
def test_too_little_typed_suggests_nothing(as_user, typed):
    response = as_user(ACME).get(f"/shop/suggest?q={typed}")
    assert response.status_code == 200
    assert find_all(response.get_data(as_text=True), role="option") == []


def test_nothing_matching_says_so_for_screen_readers(as_user):
    page = as_user(ACME).get("/shop/suggest?q=zzz-none").get_data(as_text=True)
    assert find_all(page, role="option") == []
    assert "No product matches “zzz-none”." in page


def test_too_long_a_suggestion_query_is_a_clear_400(as_user):
    response = as_user(ACME).get("/shop/suggest?q=" + "x" * 201)
    assert response.status_code == 400
    assert "Search text is too long" in response.get_data(as_text=True)


def test_suggestions_escape_what_products_and_people_type(as_user, ctx):
    admin = db.session.scalar(select(User).where(User.email == "admin@portal.test"))
    products.create(
        sku="ESC-1",
        name='Probe <b>bold</b> "quoted" & co',
        base_price="1",
        cost="0.5",
        stock=5,
        actor=admin,
    )
    db.session.commit()
    page = as_user(ACME).get("/shop/suggest", query_string={"q": "<b>"}).get_data(as_text=True)
    assert "<b>bold" not in page and "<mark>&lt;b&gt;</mark>bold&lt;/b&gt;" in page
    assert "&#34;quoted&#34; &amp; co" in page or "&quot;quoted&quot; &amp; co" in page


# --- ordering -----------------------------------------------------------------------------


def add_form(page: str, sku: str):
    pid = offer_of(page, sku).attrs["id"].removeprefix("offer-")
    return re.search(rf'<form id="add-{pid}"[^>]*>', page)


def reason(page: str, sku: str):
    pid = offer_of(page, sku).attrs["id"].removeprefix("offer-")
    holder = page[page.index(f'id="add-{pid}"') :] if f'id="add-{pid}"' in page else ""
    return re.search(r'<p class="order-why small"[^>]*>(.*?)</p>', holder, re.S)


def test_browse_only_people_get_no_add_to_cart_and_are_told_why(as_user):
    for url in ("/shop/?q=MCU-STM32F401", "/shop/?q=MCU-STM32F401&view=table"):
        page = as_user("browse@acme.test").get(url).get_data(as_text=True)
        assert offer_of(page, "MCU-STM32F401")
        assert "add-to-cart" not in page and "Ask for a quote" not in page
        assert "ordering is done by your company's buyers" in page
    pid = offer_of(page, "MCU-STM32F401").attrs["id"].removeprefix("offer-")
    product_page = as_user("browse@acme.test").get(f"/shop/products/{pid}").get_data(as_text=True)
    assert "add-to-cart" not in product_page
    assert "ordering is done by your company's buyers" in product_page


@pytest.mark.parametrize("view", ["cards", "table"])
def test_out_of_stock_without_back_orders_shows_why_and_no_add_to_cart(as_user, view):
    page = as_user(ACME).get(f"/shop/?q=CON-USBC-16P&view={view}").get_data(as_text=True)
    assert offer_of(page, "CON-USBC-16P").attrs["data-orderable"] == "false"
    form = add_form(page, "CON-USBC-16P").group(0)
    assert " hidden" in form
    why = reason(page, "CON-USBC-16P")
    assert "hidden" not in why.group(0).split(">")[0]
    assert "Out of stock: it cannot be ordered now." in why.group(1)
    assert 'href="/shop/quotes/new?sku=CON-USBC-16P">Ask for a quote</a>' in why.group(1)
    in_stock = as_user(ACME).get(f"/shop/?q=MCU-STM32F401&view={view}").get_data(as_text=True)
    assert offer_of(in_stock, "MCU-STM32F401").attrs["data-orderable"] == "true"
    assert " hidden" not in add_form(in_stock, "MCU-STM32F401").group(0)
    assert " hidden>" in reason(in_stock, "MCU-STM32F401").group(0)


def test_a_back_order_group_may_add_what_is_out_of_stock(as_user):
    page = as_user(CARPATHIA).get("/shop/?q=CON-USBC-16P").get_data(as_text=True)
    assert offer_of(page, "CON-USBC-16P").attrs["data-orderable"] == "true"
    assert " hidden" not in add_form(page, "CON-USBC-16P").group(0)
    assert "Can be back-ordered" in offer_of(page, "CON-USBC-16P").text


def test_no_quote_link_for_a_group_without_quotes(as_user, ctx):
    standard = db.session.scalar(select(CustomerGroup).where(CustomerGroup.name == "Standard"))
    standard.backorders_allowed = False
    db.session.commit()
    page = as_user(CARPATHIA).get("/shop/?q=CON-USBC-16P").get_data(as_text=True)
    assert offer_of(page, "CON-USBC-16P").attrs["data-orderable"] == "false"
    assert "Out of stock: it cannot be ordered now." in reason(page, "CON-USBC-16P").group(1)
    assert "Ask for a quote" not in page


def test_the_product_page_follows_the_same_rule(as_user):
    c = as_user(ACME)
    pid = offer_of(c.get("/shop/?q=CON-USBC-16P").get_data(as_text=True), "CON-USBC-16P")
    page = c.get(f"/shop/products/{pid.attrs['id'].removeprefix('offer-')}").get_data(as_text=True)
    assert " hidden" in add_form(page, "CON-USBC-16P").group(0)
    assert "Ask for a quote" in reason(page, "CON-USBC-16P").group(1)


# --- the specification index --------------------------------------------------------------


def specs_rows(product_id: int) -> list[tuple[str, str, int]]:
    ps, sv = product_specs, spec_values
    return [
        tuple(row)
        for row in db.session.execute(
            select(sv.c.name, sv.c.value, ps.c.position)
            .join(sv, sv.c.id == ps.c.value_id)
            .where(ps.c.product_id == product_id)
            .order_by(ps.c.position)
        )
    ]


def test_the_index_follows_every_write_of_specifications(ctx):
    admin = db.session.scalar(select(User).where(User.email == "admin@portal.test"))
    item = products.create(
        sku="IDX-1",
        name="Indexed part",
        base_price="1",
        cost="0.5",
        specs={"Package": "0603", "Voltage": "16 V"},
        actor=admin,
    )
    db.session.commit()
    assert specs_rows(item.id) == [("Package", "0603", 0), ("Voltage", "16 V", 1)]
    products.update(
        item,
        actor=admin,
        sku="IDX-1",
        name="Indexed part",
        specs={"Voltage": "25 V", "Dielectric": "X7R"},
    )
    db.session.commit()
    assert specs_rows(item.id) == [("Voltage", "25 V", 0), ("Dielectric", "X7R", 1)]
    products.archive(item, actor=admin)
    db.session.commit()
    assert len(specs_rows(item.id)) == 2  # kept: a listing joins the products on sale
    products.delete(item, actor=admin)
    db.session.commit()
    assert specs_rows(item.id) == []


def test_a_value_another_writer_added_meanwhile_is_found_not_added_twice(app):
    """Two writers giving products the same new value end with its one number: one that
    began before the other committed it finds it, and adds only its own."""
    from core import specs_index

    with app.app_context():
        engine = db.engine
    sv = spec_values
    with engine.connect() as mine, engine.connect() as other:
        mine.execute(select(sv.c.id).limit(1)).all()  # my transaction reads first
        with other.begin():
            other.execute(insert(sv).values(name="Race", value="won by the other"))
        theirs = other.execute(select(sv.c.id).where(sv.c.name == "Race")).scalar_one()
        found = specs_index.value_ids(mine, [("Race", "won by the other"), ("Race", "mine")])
        assert found[("Race", "won by the other")] == theirs
        assert found[("Race", "mine")] != theirs
        mine.commit()
        assert other.execute(select(func.count()).where(sv.c.name == "Race")).scalar_one() == 2


def test_the_demo_catalogue_is_indexed_whole(ctx):
    expected = sum(len(p.specs or {}) for p in db.session.scalars(select(Product)))
    assert db.session.scalar(select(func.count()).select_from(product_specs)) == expected


def test_a_rolled_back_change_leaves_the_index_as_it_was(ctx):
    item = product_by_sku("MCU-STM32F401")
    before = specs_rows(item.id)
    item.specs = {"Core": "changed"}
    db.session.flush()
    assert specs_rows(item.id) == [("Core", "changed", 0)]
    db.session.rollback()
    assert specs_rows(item.id) == before


# --- helpers ------------------------------------------------------------------------------


class db_statements:
    """The SQL statements the app's engine runs inside the block."""

    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        self.seen: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self.seen

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self)
