"""The catalogue's kept totals: which statements clear them, and when a count is kept."""

import pytest
from sqlalchemy.exc import PendingRollbackError

from core import catalog, kept
from core.catalog import _new_totals as _Totals
from core.catalog import changes_totals


@pytest.mark.parametrize(
    ("statement", "changes"),
    [
        # What the ORM, Core and the test fixtures send on SQLite and MariaDB.
        ("INSERT INTO products (sku, name) VALUES (?, ?)", True),
        ("INSERT INTO `products` (`sku`) VALUES (%s)", True),
        ('INSERT INTO main."products" SELECT * FROM tpl."products"', True),
        ("insert ignore into products (sku) values (%s)", True),
        ("REPLACE INTO products (id) VALUES (1)", True),
        ("DELETE FROM products WHERE products.id = ?", True),
        ('DELETE FROM main."products"', True),
        ("DELETE FROM `products`", True),
        ("UPDATE products SET is_archived=? WHERE products.id = ?", True),
        ("UPDATE products SET `category_id`=%s, updated_at=%s WHERE products.id = %s", True),
        ("UPDATE `products` SET `is_archived`=%s", True),
        # Stock, prices and names leave the totals alone, even when the WHERE names them.
        (
            "UPDATE products SET stock=(products.stock - ?), updated_at=? "
            "WHERE products.id = ? AND products.is_archived = false",
            False,
        ),
        ("UPDATE products SET name=?, search_key=? WHERE products.category_id = ?", False),
        ("UPDATE products SET base_price=%s WHERE products.id = %s", False),
        # Other tables, and reads.
        ("INSERT INTO product_photos (product_id) VALUES (?)", False),
        ("UPDATE products_archive SET is_archived=1", False),
        ("DELETE FROM group_prices WHERE group_prices.product_id = ?", False),
        ("SELECT count(*) FROM products WHERE products.is_archived = false", False),
        ("UPDATE login_sessions SET last_seen_at=? WHERE id = ?", False),
    ],
)
def test_which_statements_change_the_totals(statement, changes):
    assert changes_totals(statement) is changes


def test_a_count_is_kept_only_from_a_transaction_that_saw_the_latest_change():
    totals = _Totals()
    began = totals.generation
    totals.put("all", 10, began)
    assert totals.get("all") == 10
    totals.changed()
    assert totals.get("all") is None
    totals.put("all", 10, began)  # read before the change: used, never kept
    assert totals.get("all") is None
    totals.put("all", 11, totals.generation)
    assert totals.get("all") == 11
    totals.put("other", 3, None)  # a transaction that began before totals were kept
    assert totals.get("other") is None


def test_a_kept_count_expires_after_the_ttl(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(kept.time, "monotonic", lambda: clock[0])
    totals = _Totals()
    totals.put(None, 7, totals.generation)
    clock[0] += catalog.TOTAL_TTL - 0.01
    assert totals.get(None) == 7
    clock[0] += 0.02
    assert totals.get(None) is None


class FakeConnection:
    invalidated = False

    def __init__(self):
        self.info = {}


class LostConnection:
    """A connection whose database connection is gone: SQLAlchemy's `info` then raises."""

    invalidated = True

    @property
    def info(self):
        raise PendingRollbackError("Can't reconnect until invalid transaction is rolled back.")


def test_a_write_clears_the_totals_at_once_and_again_when_its_transaction_ends():
    totals = _Totals()
    writer, reader = FakeConnection(), FakeConnection()
    totals.on_begin(writer)
    totals.on_statement(writer, None, "UPDATE products SET is_archived=1", (), None, False)
    # Another connection counts while the change is still open: its count is not kept
    # past the commit, which may make the change visible.
    totals.on_begin(reader)
    totals.put("all", 5, totals.began_at(reader))
    assert totals.get("all") == 5
    totals.on_end(writer)
    assert totals.get("all") is None
    # A transaction that wrote nothing that counts clears nothing when it ends.
    totals.put("all", 4, totals.generation)
    totals.on_begin(writer)
    totals.on_statement(writer, None, "UPDATE products SET stock=3", (), None, False)
    totals.on_end(writer)
    assert totals.get("all") == 4


def test_the_end_of_a_transaction_on_a_lost_connection_never_raises():
    """The rollback after a lost connection runs the hook: it must not replace the error
    the request failed with (it raised PendingRollbackError), and it clears the totals."""
    totals = _Totals()
    totals.put("all", 5, totals.generation)
    totals.on_end(LostConnection())
    assert totals.get("all") is None


def test_a_value_kept_for_its_own_time_outlives_the_store_s(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(kept.time, "monotonic", lambda: clock[0])
    store = kept.WriteKept("test", lambda statement: False, seconds=lambda: 2.0)
    store.put("plain", 1, store.generation)
    store.put("dear", 2, store.generation, seconds=30.0)
    clock[0] += 2.5
    assert store.get("plain") is None and store.get("dear") == 2
    clock[0] += 28.0
    assert store.get("dear") is None
    store.put("dear", 2, store.generation, seconds=30.0)
    store.changed()  # a write forgets it at once, however long it was to be kept
    assert store.get("dear") is None


@pytest.mark.parametrize(
    ("spent", "kept_for"),
    [(0.001, 2.0), (0.05, 5.0), (0.3, 30.0), (2.0, 30.0)],
)
def test_a_filter_panel_is_kept_longer_the_more_it_cost(monkeypatch, spent, kept_for):
    from core import catalog_filters

    monkeypatch.setattr(catalog_filters.time, "monotonic", lambda: 100.0 + spent)
    counted = catalog_filters.Facets(counted=True)
    too_many = catalog_filters.Facets(counted=False, too_many=True)
    assert catalog_filters._keep_for(100.0, counted) == pytest.approx(kept_for)
    assert catalog_filters._keep_for(100.0, too_many) == catalog_filters.KEEP_TOO_MANY
    monkeypatch.setattr(catalog_filters, "KEEP_SECONDS", -1)  # tests that keep nothing
    assert catalog_filters._keep_for(100.0, counted) == -1
    assert catalog_filters._keep_for(100.0, too_many) == -1
