"""The storefront catalogue: each group's offer, search, sorting, paging, bad input."""

from decimal import Decimal

import pytest
from sqlalchemy import event

from blueprints.boundary import NOT_FOUND
from core import catalog_filters
from extensions import db
from tests.html import find, find_all, offer_of

# persona, sku, price shown, crossed-out list price (promotion) or None, stock text
EXACT_ROWS = [
    ("orders@acme.test", "MCU-STM32F401", "€4.68", "€5.20", "4,217 in stock"),
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
    assert NOT_FOUND in response.get_data(as_text=True)
    missing = c.get("/shop/products/987654")
    assert missing.status_code == 404
    assert NOT_FOUND in missing.get_data(as_text=True)
    unknown = c.get("/no/such/page")
    assert unknown.status_code == 404
    assert NOT_FOUND in unknown.get_data(as_text=True)  # every 404 says the same


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

    def __call__(self, conn, cursor, statement, parameters, *args):
        # The seller's time zone is read once, when a page shows a time (a promotion's
        # end): a constant of the request, not a statement per row.
        if "FROM settings" in statement and "timezone" in str(parameters):
            return
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self)


def _statements_by_page_size(app, client, url: str, panel: bool = False) -> dict[int, int]:
    """How many statements one request for `url` runs at 6, 24 and 96 products a page
    (`panel`: each counting its filter panel afresh, as when none is kept).

    The fewest of two requests: a kept figure (the catalogue's totals, the settings) that
    runs out between them adds a statement by the clock, never by the page size.
    """
    counts = {}
    for size in (6, 24, 96):
        app.config["CATALOG_PAGE_SIZE"] = size
        try:
            with app.app_context():
                engine = db.engine
            tries = []
            for _ in range(2):
                if panel:
                    catalog_filters.forget()
                with StatementCounter(engine) as counter:
                    assert client.get(url).status_code == 200
                tries.append(counter.count)
            counts[size] = min(tries)
        finally:
            app.config["CATALOG_PAGE_SIZE"] = 24
    return counts


@pytest.mark.parametrize(
    "email", ["orders@acme.test", "orders@baltic.test", "browse@carpathia.test"]
)
def test_catalogue_statements_do_not_grow_with_page_size(app, as_user, email):
    c = as_user(email)
    # Before we count: the session's last-seen touch, and the kept total (a process's very
    # first catalogue page reads it in a transaction begun before totals were watched).
    c.get("/shop/")
    c.get("/shop/")
    counts = _statements_by_page_size(app, c, "/shop/?sort=price")
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


# --- the listing's strategies give what the plainest query gives ----------------------


def hidden_from(policy) -> tuple[set[int], set[int]]:
    """What the policy's group may not see, read plainly from the tables: its hidden
    products, and every category with a hidden one above it or itself hidden."""
    from sqlalchemy import select

    from core.models import Category, group_hidden_categories, group_hidden_products

    if policy is None:
        return set(), set()
    hc, hp = group_hidden_categories, group_hidden_products
    products = set(
        db.session.scalars(select(hp.c.product_id).where(hp.c.group_id == policy.group_id))
    )
    chosen = set(
        db.session.scalars(select(hc.c.category_id).where(hc.c.group_id == policy.group_id))
    )
    parents = dict(db.session.execute(select(Category.id, Category.parent_id)).all())

    def under_chosen(category_id):
        while category_id is not None:
            if category_id in chosen:
                return True
            category_id = parents.get(category_id)
        return False

    return products, {c for c in parents if under_chosen(c)}


def plain_listing(policy, q, category_slug, sort):
    """Every product the listing must show, in order, by the plainest possible means.

    The search is decided in Python (the SKU or name contains q, ignoring case), and so is
    what the group may not see (hidden_from); the order is the database's own ORDER BY over
    the products found, with no index hint, merge, window or kept total.
    """
    from sqlalchemy import func, select

    from core import catalog
    from core.models import GroupPrice, Product

    categories = catalog.category_tree()
    wanted = None
    if category_slug:
        category = next(c for c in categories if c.slug == category_slug)
        wanted = {category.id} | {c.id for c in categories if c.parent_id == category.id}
    rows = db.session.execute(
        select(Product.id, Product.sku, Product.name, Product.category_id).where(
            Product.is_archived.is_(False)
        )
    ).all()
    unseen_products, unseen_categories = hidden_from(policy)
    ids = [
        pid
        for pid, sku, name, category_id in rows
        if (not q or q.lower() in f"{sku} {name}".lower())
        and (wanted is None or category_id in wanted)
        and pid not in unseen_products
        and category_id not in unseen_categories
    ]
    if policy is not None:
        gp = GroupPrice.__table__.alias("reference_gp")
        effective = func.coalesce(gp.c.price, Product.base_price)
    else:
        effective = Product.base_price
    key, down = {
        "name": (Product.name, (False, False)),
        "sku": (Product.sku, (False, False)),
        "price": (effective, (False, False)),
        "-price": (effective, (True, True)),
        "stock": (Product.stock, (True, False)),
        "newest": (Product.created_at, (True, True)),
    }[sort]
    stmt = select(Product.id).where(Product.id.in_(ids))
    if policy is not None:
        stmt = stmt.outerjoin(
            gp, (gp.c.product_id == Product.id) & (gp.c.group_id == policy.group_id)
        )
    stmt = stmt.order_by(
        key.desc() if down[0] else key, Product.id.desc() if down[1] else Product.id
    )
    return list(db.session.scalars(stmt))


def listed(policy, q, category_slug, sort, per_page):
    """Every page of the listing, walked through: (ids in order, the total each page gave)."""
    from core import catalog

    categories = catalog.category_tree()
    category = next((c for c in categories if c.slug == category_slug), None)
    ids, totals, page = [], set(), 1
    while True:
        listing = catalog.browse(
            policy,
            q=q,
            category=category,
            categories=categories,
            sort=sort,
            page=page,
            per_page=per_page,
        )
        totals.add(listing.total)
        ids += [product.id for product, _ in listing.rows]
        if not listing.has_next:
            return ids, totals
        page += 1


def add_price_ties(group_names=("Wholesale", "Partner")):
    """Products whose base and group prices tie with each other, to test the tie-breaks."""
    from decimal import Decimal

    from core.models import Category, CustomerGroup, GroupPrice, Product

    capacitors = db.session.scalar(db.select(Category).where(Category.slug == "capacitors"))
    groups = list(
        db.session.scalars(db.select(CustomerGroup).where(CustomerGroup.name.in_(group_names)))
    )
    for i in range(6):
        product = Product(
            sku=f"TIE-{i}",
            name="Capacitor tie" if i < 4 else "capacitor TIE",
            base_price=Decimal("0.15"),
            cost=Decimal("0.05"),
            stock=36,
            category=capacitors,
        )
        db.session.add(product)
        db.session.flush()
        if i % 2:
            for group in groups:
                db.session.add(
                    GroupPrice(group_id=group.id, product_id=product.id, price=Decimal("0.15"))
                )
    db.session.commit()


def policy_of(group_name):
    from core.models import CustomerGroup
    from core.offer import GroupPolicy

    if group_name is None:
        return None
    group = db.session.scalar(db.select(CustomerGroup).where(CustomerGroup.name == group_name))
    return GroupPolicy.of(group)


@pytest.mark.parametrize("group", ["Wholesale", "Standard", None])
@pytest.mark.parametrize("sort", ["name", "sku", "price", "-price", "stock", "newest"])
def test_every_listing_matches_the_plainest_query(ctx, group, sort):
    add_price_ties()
    policy = policy_of(group)
    for q in ("", "cap", "10", "zz-none"):
        for category in (None, "passives", "capacitors"):
            expected = plain_listing(policy, q, category, sort)
            ids, totals = listed(policy, q, category, sort, per_page=96)
            assert ids == expected, (q, category)
            assert totals == {len(expected)}, (q, category)


@pytest.mark.parametrize("sort", ["name", "price", "-price"])
def test_small_pages_split_ties_exactly(ctx, sort):
    add_price_ties()
    policy = policy_of("Partner")
    expected = plain_listing(policy, "", "capacitors", sort)
    assert len(expected) > 14
    assert listed(policy, "", "capacitors", sort, per_page=7)[0] == expected
    assert listed(policy, "cap", None, sort, per_page=7)[0] == plain_listing(
        policy, "cap", None, sort
    )


def test_high_to_low_is_low_to_high_reversed(ctx):
    add_price_ties()
    policy = policy_of("Wholesale")
    up = listed(policy, "", "passives", "price", per_page=96)[0]
    down = listed(policy, "", "passives", "-price", per_page=96)[0]
    assert down == list(reversed(up))


@pytest.mark.parametrize("sort", ["name", "price", "-price", "stock"])
def test_a_search_broader_than_its_window_is_sorted_and_counted_in_full(ctx, monkeypatch, sort):
    from core import catalog

    monkeypatch.setattr(catalog, "SEARCH_WINDOW", 3)
    policy = policy_of("Wholesale")
    for q, category in (("cap", None), ("10", "passives"), ("stm32", None)):
        expected = plain_listing(policy, q, category, sort)
        assert len(expected) > 3 or q == "stm32"
        ids, totals = listed(policy, q, category, sort, per_page=5)
        assert ids == expected
        assert totals == {len(expected)}
    beyond = catalog.browse(policy, q="cap", sort=sort, page=500, per_page=5)
    assert beyond.rows == [] and beyond.total == len(plain_listing(policy, "cap", None, sort))


def skus_on(html: str) -> list[str]:
    import re

    return re.findall(r'data-sku="([^"]+)"', html)


def test_search_ignores_case_beyond_ascii_alike_on_every_database(as_user):
    c = as_user("orders@acme.test")
    lower = skus_on(c.get("/shop/", query_string={"q": "1 kω"}).get_data(as_text=True))
    upper = skus_on(c.get("/shop/", query_string={"q": "1 KΩ"}).get_data(as_text=True))
    assert lower == upper == ["RES-0402-1K", "RES-0603-1K", "RES-0805-1K", "RES-1206-1K"]
    micro = c.get("/shop/", query_string={"q": "10 µF 1206"}).get_data(as_text=True)
    assert skus_on(micro) == ["CAP-1206-10U"]


def test_wildcards_quotes_and_backslashes_in_a_search_are_text(ctx):
    policy = policy_of("Partner")
    for q in ("'", "\\", "%", "_", "1%", "1_", "o'clock\\%", "%_%"):
        expected = plain_listing(policy, q, None, "name")
        assert listed(policy, q, None, "name", per_page=96) == (expected, {len(expected)}), q
    assert plain_listing(policy, "1%", None, "name")  # the resistors' "1%" is found as text


# --- the kept total ---------------------------------------------------------------------


def total_of(response) -> int:
    import re

    text = find(response.get_data(as_text=True), class_="results__count").text
    return int(re.match(r"(\d+) products?", text).group(1))


def test_the_total_follows_archiving_restoring_and_moving_at_once(as_user, ctx):
    from core.models import Category, Product

    c = as_user("orders@acme.test")
    everything = total_of(c.get("/shop/"))
    capacitors = total_of(c.get("/shop/?category=capacitors"))
    resistors = total_of(c.get("/shop/?category=resistors"))
    product = db.session.scalar(db.select(Product).where(Product.sku == "CAP-1206-10U"))

    product.is_archived = True
    db.session.commit()
    assert total_of(c.get("/shop/")) == everything - 1
    assert total_of(c.get("/shop/?category=capacitors")) == capacitors - 1

    product.is_archived = False
    product.category = db.session.scalar(db.select(Category).where(Category.slug == "resistors"))
    db.session.commit()
    assert total_of(c.get("/shop/")) == everything
    assert total_of(c.get("/shop/?category=capacitors")) == capacitors - 1
    assert total_of(c.get("/shop/?category=resistors")) == resistors + 1


def test_the_total_counts_bulk_inserts_and_ignores_rolled_back_changes(as_user, ctx):
    from decimal import Decimal

    from sqlalchemy import insert

    from core.models import Product, search_key_of, utcnow

    c = as_user("orders@acme.test")
    everything = total_of(c.get("/shop/"))
    now = utcnow()
    db.session.execute(
        insert(Product.__table__),
        [
            {
                "sku": f"BULK-{i}",
                "name": f"Bulk part {i}",
                "description": "",
                "base_price": Decimal("1"),
                "cost": Decimal("0.5"),
                "stock": 1,
                "unit": "pcs",
                "specs": {},
                "is_archived": False,
                "created_at": now,
                "updated_at": now,
                "search_key": search_key_of(f"BULK-{i}", f"Bulk part {i}"),
            }
            for i in range(3)
        ],
    )
    # A Core writer keeps the search index itself (the total is kept by the triggers).
    from core import search_index

    bulk = db.session.scalars(db.select(Product.id).where(Product.sku.like("BULK-%"))).all()
    search_index.refresh(db.session.connection(), bulk)
    db.session.commit()
    assert total_of(c.get("/shop/")) == everything + 3
    assert total_of(c.get("/shop/?q=bulk part")) == 3

    db.session.execute(Product.__table__.update().values(is_archived=True))
    c.get("/shop/")  # another request while the change is open, uncommitted
    db.session.rollback()
    assert total_of(c.get("/shop/")) == everything + 3


def test_an_unchanged_catalogue_is_not_recounted(as_user, ctx, monkeypatch):
    from core import catalog, stock
    from core.models import Product, User

    # The TTL is for other processes' changes; this test's own must not race with it.
    monkeypatch.setattr(catalog, "TOTAL_TTL", 3600.0)

    c = as_user("orders@acme.test")
    c.get("/shop/")
    c.get("/shop/")
    with StatementCounter(db.engine) as kept:
        c.get("/shop/")
    product = db.session.scalar(db.select(Product).where(Product.sku == "CAP-1206-10U"))
    staff = db.session.scalar(db.select(User).where(User.email == "warehouse@portal.test"))
    stock.set_level(product.id, 40, reason="stocktake", actor=staff)
    db.session.commit()
    with StatementCounter(db.engine) as after_stock:
        c.get("/shop/")
    assert after_stock.count == kept.count
    product.is_archived = True
    db.session.commit()
    with StatementCounter(db.engine) as after_archive:
        c.get("/shop/")
    assert after_archive.count == kept.count + 1


def test_changes_by_another_process_show_within_the_ttl(app, as_user, ctx, monkeypatch):
    from decimal import Decimal

    from sqlalchemy import create_engine, delete, insert

    from core import catalog
    from core.models import Product, search_key_of, utcnow

    c = as_user("orders@acme.test")
    everything = total_of(c.get("/shop/"))
    elsewhere = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    now = utcnow()
    try:
        with elsewhere.begin() as conn:
            conn.execute(
                insert(Product.__table__).values(
                    sku="ELSEWHERE-1",
                    name="Made by another process",
                    description="",
                    base_price=Decimal("1"),
                    cost=Decimal("0.5"),
                    stock=1,
                    unit="pcs",
                    specs={},
                    is_archived=False,
                    created_at=now,
                    updated_at=now,
                    search_key=search_key_of("ELSEWHERE-1", "Made by another process"),
                )
            )
        assert total_of(c.get("/shop/")) == everything  # kept, not yet recounted
        monkeypatch.setattr(catalog, "TOTAL_TTL", 0.0)
        assert total_of(c.get("/shop/")) == everything + 1
    finally:
        elsewhere.dispose()
        # Through the app's engine, so the test database is restored afterwards.
        db.session.execute(delete(Product).where(Product.sku == "ELSEWHERE-1"))
        db.session.commit()


@pytest.mark.parametrize(
    "url",
    ["/shop/?q=STM32", "/shop/?q=cap&sort=-price", "/shop/?q=zz-none", "/shop/?category=passives"],
)
def test_search_and_category_statements_do_not_grow_with_page_size(app, as_user, url):
    c = as_user("orders@acme.test")
    c.get(url)
    # Each request counts its panel: a panel kept from an earlier one (for 2 s) made the
    # first request cost one statement more than the others, or not, by the clock.
    counts = _statements_by_page_size(app, c, url, panel=True)
    assert len(set(counts.values())) == 1, counts
    # At most 5 for the listing, and 1 for its filter panel's counts (a search and a
    # category have one: core.catalog_filters.count, a single statement).
    assert counts[96] <= 6, counts


class StatementRecorder(StatementCounter):
    """The SELECTs on products a request ran, with their parameters, to explain afterwards."""

    def __init__(self, engine):
        super().__init__(engine)
        self.statements = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "FROM products" in statement:
            self.statements.append((statement, parameters))


def _is_mariadb(engine) -> bool:
    return engine.dialect.name in ("mysql", "mariadb")


def _plans(engine, recorded) -> list[list[tuple[str, str]]]:
    """Each recorded statement's plan on the test's database: per step, the index it
    reads (or "") and what the step says it does."""
    explain = "EXPLAIN " if _is_mariadb(engine) else "EXPLAIN QUERY PLAN "
    plans = []
    with engine.connect() as conn:
        for statement, parameters in recorded:
            rows = conn.exec_driver_sql(explain + statement, parameters).mappings().all()
            if _is_mariadb(engine):
                steps = [(row["key"] or "", f"{row['type']} {row['Extra']}") for row in rows]
            else:
                steps = [(_sqlite_index(row["detail"]), row["detail"]) for row in rows]
            plans.append(steps)
    return plans


def _plans_of_request(app, client, url: str):
    """The engine, and the plans of the product SELECTs of a second request for `url`
    (the first one refreshes the session's last-seen)."""
    client.get(url)
    with app.app_context():
        engine = db.engine
    with StatementRecorder(engine) as recorder:
        assert client.get(url).status_code == 200
    return engine, _plans(engine, recorder.statements)


def _sqlite_index(detail: str) -> str:
    words = detail.split()
    return words[words.index("INDEX") + 1] if "INDEX" in words else ""


@pytest.mark.parametrize(
    ("url", "index"),
    [
        # Shorter than a trigram, sorted by name: MariaDB walks the name order and matches
        # each entry's search key.
        ("/shop/?q=e", "ix_products_archived_name_search"),
        ("/shop/?q=e&sort=-price", "ix_products_archived_search"),
    ],
)
def test_a_search_reads_one_index_and_never_the_whole_table(app, as_user, url, index):
    engine, plans = _plans_of_request(app, as_user("orders@acme.test"), url)
    searches = [step for plan in plans for step in plan if "search" in step[0]]
    assert searches, plans
    if not _is_mariadb(engine):
        # SQLite scans the search key's index, not the table (see _search_filters).
        assert searches[0][0] == "ix_products_archived_search", plans
        return
    # MariaDB reads the index it is told, never the whole table; sorted by name, the
    # matches come in order from the index alone.
    assert searches[0][0] == index, plans
    assert not searches[0][1].startswith("ALL"), plans
    if index == "ix_products_archived_name_search":
        assert "Using index" in searches[0][1] and "filesort" not in searches[0][1], plans


def test_a_deep_page_by_name_walks_the_name_index(app, as_user):
    _, plans = _plans_of_request(app, as_user("browse@carpathia.test"), "/shop/?page=5")
    # The page's ids come in order from the name index (only those 24 rows are sorted).
    steps = [step for plan in plans for step in plan if step[0] == "ix_products_archived_name"]
    assert steps, plans
    assert all("filesort" not in what and "B-TREE" not in what for _, what in steps), plans


@pytest.mark.parametrize(
    "url",
    [
        "/shop/?q=resistor",
        "/shop/?q=resistor&sort=-price",
        "/shop/?q=resistor&category=passives",
        "/shop/?q=STM32",
    ],
)
def test_a_search_of_three_bytes_or_more_reads_only_its_rarest_trigram(app, as_user, url):
    client = as_user("orders@acme.test")
    engine, plans = _plans_of_request(app, client, url)
    steps = [step for plan in plans for step in plan]
    # The index is looked up by trigram, and no products index is scanned.
    assert any("trigram" in what or step == "PRIMARY" for step, what in steps), plans
    assert not any("search" in step for step, _what in steps), plans
    if _is_mariadb(engine):
        with StatementRecorder(engine) as recorder:
            client.get(url)
        with engine.connect() as conn:
            for statement, parameters in recorder.statements:
                rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).mappings()
                # Only derived tables (a few rows each) are read whole.
                scanned = [r["table"] for r in rows if r["type"] in ("ALL", "index")]
                assert all(t.startswith("<") for t in scanned), (statement, scanned)
    else:
        assert not any(what.startswith("SCAN products") for _step, what in steps), plans
