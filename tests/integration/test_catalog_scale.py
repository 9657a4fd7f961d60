"""The catalogue at scale: the trigram search, cursors between pages, kept totals.

Each strategy is held against the plainest query (tests/integration/test_catalog.py's
plain_listing: the substring test in Python, the database's own ORDER BY), on a generated
catalogue, with the bounds lowered so that every path runs at this size.
"""

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from extensions import db
from tests.html import find
from tests.integration.test_catalog import listed, plain_listing, policy_of

QUERIES = (
    # Shorter than a trigram: the scan.
    "e",
    "10",
    "µ",
    # Non-ASCII, case beyond ASCII, wildcards as text.
    "µf",
    "10 µF",
    "1 KΩ",
    "kω 06",
    "1%",
    "o_o",
    # SKU fragments and words ("GEN-0004": its run of four digits is rare; "05 #1": two
    # common trigrams held together by few).
    "GEN-0004",
    "05 #1",
    "gen-00",
    "-0603-",
    "stm32",
    "resistor",
    "Resistor 4.7",
    "capacitor",
    "#17",
    # Held by no product.
    "zz-none",
    "qqq",
)


def grow(count: int = 600) -> None:
    """Generated products like bench/catalog.py's, through a Core insert and the index."""
    from core import search_index
    from core.models import Category, Product, search_key_of, utcnow

    leaves = list(db.session.scalars(select(Category.id).where(Category.parent_id.is_not(None))))
    kinds = ("Resistor 4.7 kΩ 0603", "Capacitor 10 µF 0805", "LED red 0603", "Fuse PTC 500 mA")
    now = utcnow()
    rows = []
    for i in range(count):
        sku, name = f"GEN-{i:05d}", f"{kinds[i % 4]} #{i}"
        rows.append(
            {
                "sku": sku,
                "name": name,
                "search_key": search_key_of(sku, name),
                "description": "",
                "category_id": leaves[i % len(leaves)],
                "base_price": Decimal(i % 37) / 10,
                "cost": Decimal("0.01"),
                "stock": i % 50,
                "unit": "pcs",
                "specs": {},
                "is_archived": i % 29 == 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    db.session.execute(insert(Product.__table__), rows)
    ids = db.session.scalars(select(Product.id).where(Product.sku.like("GEN-%"))).all()
    search_index.refresh(db.session.connection(), ids)
    db.session.commit()


@pytest.fixture
def lowered(monkeypatch):
    """Bounds low enough that a few hundred products take every path of the search."""
    from core import catalog

    monkeypatch.setattr(catalog, "CANDIDATE_CAP", 40)
    monkeypatch.setattr(catalog, "COUNT_CAP", 30)
    monkeypatch.setattr(catalog, "INTERSECT_READ", 600)


@pytest.mark.parametrize("sort", ["name", "price", "sku"])
def test_every_search_path_finds_what_the_plain_scan_finds(ctx, lowered, sort):
    from core import catalog, search_index

    grow()
    # Name buckets of ~15 products, as a large catalogue's hold hundreds: the estimate of
    # a trigram's size counts the buckets its first entries fall in.
    search_index.rebuild(db.session.connection(), buckets=40)
    policy = policy_of("Wholesale")
    paths = set()
    for q in QUERIES:
        expected = plain_listing(policy, q, None, sort)
        for per_page in (7, 24):
            ids, totals = listed(policy, q, None, sort, per_page=per_page)
            assert ids == expected, (q, per_page)
            first = catalog.browse(policy, q=q, sort=sort, page=1, per_page=per_page)
            if first.at_least:
                # Stopped counting: a lower bound that is the cap, and more really match.
                assert first.total == catalog.COUNT_CAP < len(expected), q
            else:
                assert totals == {len(expected)}, (q, per_page)
        grams = catalog._query_trigrams(q)
        paths.add(catalog._plan(grams)[0] if grams else "scan")
    assert paths == {"scan", "rare", "few", "broad", "none"}


def test_a_search_within_a_category_finds_what_the_plain_scan_finds(ctx, lowered):
    grow()
    policy = policy_of("Partner")
    for q in ("resistor", "gen-00", "0603", "zz-none", "µF"):
        for category in ("passives", "capacitors"):
            expected = plain_listing(policy, q, category, "name")
            assert listed(policy, q, category, "name", per_page=5)[0] == expected, (q, category)


def test_the_index_follows_renames_archiving_and_deletion(ctx):
    from core import catalog, products
    from core.models import Product, User

    staff = db.session.scalar(select(User).where(User.email == "manager@portal.test"))
    item = db.session.scalar(select(Product).where(Product.sku == "CAP-1206-10U"))

    def found(q):
        return [p.sku for p, _ in catalog.browse(None, q=q, per_page=96).rows]

    products.update(item, actor=staff, sku="CAP-1206-10U", name="Quartzite thing", unit="pcs")
    db.session.commit()
    assert found("quartzite") == ["CAP-1206-10U"]
    assert "CAP-1206-10U" not in found("capacitor 10 µf")
    products.archive(item, actor=staff)
    db.session.commit()
    assert found("quartzite") == []
    products.restore(item, actor=staff)
    db.session.commit()
    assert found("quartzite") == ["CAP-1206-10U"]
    made = products.create(
        sku="NEW-XYZZY", name="Xyzzy gadget", base_price="1", cost="0.5", actor=staff
    )
    db.session.commit()
    assert found("xyzzy") == ["NEW-XYZZY"]
    products.delete(made, actor=staff)
    db.session.commit()
    assert found("xyzzy") == []


def test_a_rolled_back_write_leaves_the_index_as_it_was(ctx):
    from core import catalog
    from core.models import Product

    item = db.session.scalar(select(Product).where(Product.sku == "MCU-STM32F401"))
    item.name = "Renamed for nothing"
    db.session.flush()
    db.session.rollback()
    assert [p.sku for p, _ in catalog.browse(None, q="stm32f401").rows] == ["MCU-STM32F401"]


@pytest.mark.parametrize("group", ["Wholesale", None])
@pytest.mark.parametrize("sort", ["name", "sku", "price", "-price"])
@pytest.mark.parametrize("category", [None, "passives"])
def test_cursors_walk_every_page_forwards_and_back(ctx, group, sort, category):
    from core import catalog

    grow(300)
    policy = policy_of(group)
    expected = plain_listing(policy, "", category, sort)
    categories = catalog.category_tree()
    chosen = next((c for c in categories if c.slug == category), None)

    def browse(page):
        return catalog.browse(
            policy, category=chosen, categories=categories, sort=sort, page=page, per_page=11
        )

    pages, page = [], browse(1)
    while True:
        pages.append([p.id for p, _ in page.rows])
        if not page.has_next:
            break
        cursor = catalog.Seek.decode(page.next_at)
        page = browse(catalog.PageAt(page.page + 1, cursor))
    assert [pid for ids in pages for pid in ids] == expected
    # Backwards from the last page, by each page's previous cursor.
    for number in range(len(pages) - 1, 0, -1):
        cursor = catalog.Seek.decode(page.prev_at)
        page = browse(catalog.PageAt(number, cursor))
        assert [p.id for p, _ in page.rows] == pages[number - 1], number
    # By number alone: the second half is read from the end, and gives the same pages.
    for number in range(1, len(pages) + 1):
        assert [p.id for p, _ in browse(number).rows] == pages[number - 1], number
    assert browse(len(pages) + 1).rows == []


def test_the_pager_links_carry_cursors_and_a_bad_cursor_is_ignored(as_user, ctx):
    c = as_user("orders@acme.test")
    first = c.get("/shop/").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "at=" in link and "page=2" in link
    second = c.get(link).get_data(as_text=True)
    by_number = c.get("/shop/?page=2").get_data(as_text=True)
    skus = re.findall(r'data-sku="([^"]+)"', second)
    assert len(skus) == 24 and skus == re.findall(r'data-sku="([^"]+)"', by_number)
    assert "Page 2 of" in second
    for bad in ("%%%", "bm90IGpzb24", "WyJhIiwibmFtZSIsMV0", "x" * 700):
        response = c.get(f"/shop/?page=2&at={bad}")
        assert response.status_code == 200
        assert re.findall(r'data-sku="([^"]+)"', response.get_data(as_text=True)) == (
            re.findall(r'data-sku="([^"]+)"', second)
        )


def test_a_broad_search_says_it_stopped_counting(as_user, ctx, lowered):
    grow()
    c = as_user("orders@acme.test")
    html = c.get("/shop/?q=resistor").get_data(as_text=True)
    assert find(html, class_="results__count").text.strip() == "30+ products for “resistor”"
    assert "Page 1" in html and "Page 1 of" not in html and 'rel="next"' in html
    exact = c.get("/shop/?q=gen-0001").get_data(as_text=True)
    assert re.match(r"\d+ products? for", find(exact, class_="results__count").text.strip())
    staff = as_user("manager@portal.test").get("/office/products?q=resistor")
    # Fifty a page: counted at least to the end of the page.
    assert "50+ products for “resistor”" in staff.get_data(as_text=True)


def test_kept_counts_equal_a_recount_after_every_kind_of_write(ctx):
    from core.models import Category, Product
    from core.models.catalog import catalog_counts

    def kept():
        rows = db.session.execute(
            select(catalog_counts.c.category_key, func.sum(catalog_counts.c.sold)).group_by(
                catalog_counts.c.category_key
            )
        )
        return {key: n for key, n in rows if n}

    def recounted():
        rows = db.session.execute(
            select(func.coalesce(Product.category_id, 0), func.count())
            .where(Product.is_archived.is_(False))
            .group_by(func.coalesce(Product.category_id, 0))
        )
        return dict(rows.all())

    assert kept() == recounted()
    grow(100)
    assert kept() == recounted()
    resistors = db.session.scalar(select(Category).where(Category.slug == "resistors"))
    moved = db.session.scalars(select(Product).where(Product.sku.like("GEN-000%"))).all()
    for i, product in enumerate(moved):
        if i % 3 == 0:
            product.category = resistors
        elif i % 3 == 1:
            product.is_archived = not product.is_archived
        else:
            product.category = None
    db.session.commit()
    assert kept() == recounted()
    db.session.execute(Product.__table__.delete().where(Product.sku.like("GEN-001%")))
    db.session.commit()
    assert kept() == recounted()
    db.session.execute(Product.__table__.update().values(is_archived=True))
    db.session.rollback()
    assert kept() == recounted()


def test_the_search_index_command_chooses_buckets_and_every_answer_stays_equal(
    runner, ctx, lowered
):
    """With buckets chosen (production runs the command), a broad search by name reads
    the trigram's entries bucket by bucket: still the plain scan's answer, page by page."""
    from core.models.catalog import product_trigrams, search_buckets

    grow()
    result = runner.invoke(args=["search-index"])
    assert result.exit_code == 0, result.output
    buckets = db.session.scalar(select(func.count()).select_from(search_buckets))
    entries = db.session.scalar(select(func.count()).select_from(product_trigrams))
    assert buckets > 1 and entries > 0
    assert f"{entries:,} entries in {buckets:,} name buckets" in result.output
    policy = policy_of("Wholesale")
    for q in QUERIES:
        expected = plain_listing(policy, q, None, "name")
        for per_page in (7, 24):
            assert listed(policy, q, None, "name", per_page=per_page)[0] == expected, q


def test_two_trigrams_are_intersected_only_when_both_lists_are_read_whole(
    ctx, lowered, monkeypatch
):
    from core import catalog, search_index

    grow()
    search_index.rebuild(db.session.connection(), buckets=40)
    policy = policy_of("Wholesale")
    grams = catalog._query_trigrams("05 #1")
    kind, found = catalog._plan(grams)
    expected = plain_listing(policy, "05 #1", None, "name")
    # The candidates hold both trigrams ("05 " and " #1"): every match, and a few others.
    assert kind == "few" and set(expected) <= found and len(found) <= catalog.CANDIDATE_CAP
    # Lists longer than what is read: not trusted, the search is broad, the answer the same.
    monkeypatch.setattr(catalog, "INTERSECT_READ", 50)
    assert catalog._plan(grams)[0] == "broad"
    assert listed(policy, "05 #1", None, "name", per_page=7)[0] == expected
    # Two common trigrams no product holds together ("004" of GEN-00004, GEN-0004x and
    # GEN-004xx; "#10" of #10 and #10x): nothing matches, known from the index alone.
    monkeypatch.setattr(catalog, "INTERSECT_READ", 600)
    seen = {gram: (41, 0, 20) for gram in catalog._query_trigrams("004#10")[::3]}
    assert len(seen) == 2 and catalog._holding_both(seen) == frozenset()


def test_a_run_of_four_digits_is_a_key_of_its_own(ctx, lowered):
    """An SKU fragment of digits is read from its four-digit run's short list, where its
    trigrams are each held by many (at 1,000,000 products: ~300 against ~4,000)."""
    from core import catalog, search_index

    keys = search_index.grams_of("gen-12345")
    runs = {key - search_index.DIGITS_BASE for key in keys if key >= search_index.DIGITS_BASE}
    assert runs == {1234, 2345} and all(
        key < search_index.DIGITS_BASE for key in search_index.grams_of("a1b2c3d4 123")
    )
    grow()
    search_index.rebuild(db.session.connection(), buckets=40)
    policy = policy_of("Wholesale")
    # "000" and "004" are held by many of GEN-00000 ... GEN-00599; "0004" by eleven.
    held = catalog._read_heads(catalog._query_trigrams("00004"))
    assert sorted(count for count, _reach, _spread in held.values())[-1] > catalog.CANDIDATE_CAP
    kind, gram = catalog._plan(catalog._query_trigrams("00004"))
    assert kind == "rare" and gram >= search_index.DIGITS_BASE
    expected = plain_listing(policy, "00004", None, "name")
    assert expected and listed(policy, "00004", None, "name", per_page=5)[0] == expected


def test_the_migration_adds_the_digit_runs_to_an_index_without_them(ctx):
    """Migration 0025: an index of trigrams only gets every run, as a rebuild would give."""
    from core import search_index
    from core.models.catalog import product_trigrams as pt

    grow(200)
    connection = db.session.connection()
    search_index.rebuild(connection, buckets=40)

    def entries():
        return sorted(connection.execute(select(pt.c.trigram, pt.c.bucket, pt.c.product_id)))

    rebuilt = entries()
    connection.execute(pt.delete().where(pt.c.trigram >= search_index.DIGITS_BASE))
    assert len(entries()) < len(rebuilt)
    search_index.add_digit_runs(connection)
    assert entries() == rebuilt
    search_index.add_digit_runs(connection)  # again (an index rebuilt since): the same
    assert entries() == rebuilt


def test_a_page_past_the_end_reads_no_product(app, as_user):
    from tests.statements import listening

    c = as_user("browse@carpathia.test")
    c.get("/shop/")
    read: list[str] = []

    def products_read(conn, cursor, statement, parameters, context, executemany):
        if "FROM products" in statement:
            read.append(statement)

    with listening(app, products_read):
        beyond = c.get("/shop/?page=99999")
    assert beyond.status_code == 200 and "There is no page 99999" in beyond.get_data(as_text=True)
    assert read == []  # found empty from the kept total, not by skipping every product


def test_a_common_trigram_is_read_once_and_another_process_s_product_is_found_at_once(
    app, ctx, lowered
):
    """The heads of common trigrams are kept per process; what is found never is."""
    from sqlalchemy import create_engine, text

    from core import catalog
    from tests.statements import listening

    grow()
    policy = policy_of("Wholesale")
    heads: list[str] = []

    def reads_heads(conn, cursor, statement, parameters, context, executemany):
        if "heads" in statement:
            heads.append(statement)

    def search(q: str) -> list[int]:
        db.session.rollback()  # a new request's transaction
        return [p.id for p, _offer in catalog.browse(policy, q=q, page=1, per_page=500).rows]

    search("resistor")  # a process's first search begins to follow the index's writes
    catalog._heads.forget()
    with listening(app, reads_heads):
        first = search("resistor")
        assert len(heads) == 1 and catalog._plan(catalog._query_trigrams("resistor"))[0] in (
            "broad",
            "few",
        )
        heads.clear()
        assert search("resistor") == first and heads == []  # kept: not read again
        # A rare trigram ("#17" of #17 and #170-#179) is read at every search.
        search("#17")
        search("#17")
        assert len(heads) == 2

    # Another process adds a resistor (its own engine: this process sees no write).
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    other = create_engine(url)
    with other.begin() as conn:
        template = conn.execute(text("SELECT * FROM products WHERE sku = 'GEN-00001'")).mappings()
        row = {k: v for k, v in template.one().items() if k != "id"}
        row.update(
            sku="AAA-NEW",
            name="AAA Resistor from elsewhere",
            search_key="aaa-new aaa resistor from elsewhere",
        )
        values = ", ".join(f":{name}" for name in row)
        conn.execute(text(f"INSERT INTO products ({', '.join(row)}) VALUES ({values})"), row)
        new_id = conn.execute(text("SELECT id FROM products WHERE sku = 'AAA-NEW'")).scalar()
        from core import search_index

        search_index.refresh(conn, [new_id])
    other.dispose()
    with listening(app, reads_heads):
        heads.clear()
        found = search("resistor")
    # First by name ("AAA"), the others after it as before.
    assert heads == [] and found[0] == new_id and found[1:] == first[: len(found) - 1]
