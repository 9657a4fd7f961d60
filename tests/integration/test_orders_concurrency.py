"""Stock integrity under real concurrency, on MariaDB with real threads.

The tests build their own MariaDB database with the demo (as test_live_scaleout does),
so they run in both CI passes; without MariaDB they skip locally and fail in CI. Each
thread has its own application context, hence its own session and connection.
"""

import logging
import random
import re
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select, update

from config import engine_options
from core import carts, orders, transaction
from core.errors import Refused
from core.models import (
    Cart,
    Company,
    Order,
    OrderLine,
    Product,
    Role,
    StockMovement,
    User,
    utcnow,
)
from extensions import db
from tests.conftest import demo_portal, derived_database
from tests.delivery import choices as delivery_choices

BUYERS = 50
HOT_STOCK = 10


@pytest.fixture(scope="module")
def maria():
    """A portal on its own fresh MariaDB database with the demo loaded."""
    with derived_database("orders") as url:
        # One connection per buyer: the default pool would queue the threads instead.
        options = {**engine_options(url), "pool_size": BUYERS + 5, "max_overflow": 10}
        with demo_portal(
            url, SECRET_KEY="concurrency-test", SQLALCHEMY_ENGINE_OPTIONS=options
        ) as app:
            yield app


def run_threads(app, count: int, work) -> list:
    """Run work(i) in `count` threads released at once; each result or exception returned."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(i):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = work(i)
            except Exception as exc:  # collected: the test says which are allowed
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a buyer never finished"
    return results


def set_stock(product_id: int, level: int) -> None:
    db.session.execute(update(Product).where(Product.id == product_id).values(stock=level))
    db.session.commit()


def single_units(product_ids) -> None:
    """Sell these products by the unit (the demo sells CAP-1206-10U from 10, in packs of
    10): these tests race stock, not quantity rules (test_quantity_breaks.py)."""
    db.session.execute(
        update(Product)
        .where(Product.id.in_(list(product_ids)))
        .values(min_quantity=1, order_multiple=1)
    )
    db.session.commit()


def demo_buyers(n: int, slug: str, preset: str = "decision_maker") -> list[int]:
    """`n` new people of one company (each buyer its own person and cart)."""
    role = db.session.scalar(select(Role).where(Role.preset == preset))
    company = db.session.scalar(select(Company).where(Company.slug == slug))
    stamp = utcnow().strftime("%H%M%S%f")
    people = [
        User(
            email=f"{preset}{i}-{stamp}@{slug}.test",
            name=f"Buyer {i}",
            kind="customer",
            company=company,
            status="active",
            roles=[role],
        )
        for i in range(n)
    ]
    db.session.add_all(people)
    db.session.commit()
    return [p.id for p in people]


class DeadlockCounter(logging.Handler):
    """Counts the replays core.transaction.committed logs."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def emit(self, record):
        if "deadlock" in record.getMessage():
            self.count += 1


@pytest.mark.mariadb
def test_fifty_buyers_of_ten_units_give_exactly_ten_orders(maria):
    with maria.app_context():
        product_id = db.session.scalar(select(Product.id).where(Product.sku == "CAP-1206-10U"))
        single_units([product_id])
        buyers = demo_buyers(BUYERS, "baltic")
        for buyer_id in buyers:
            carts.add(db.session.get(User, buyer_id), product_id, 1)
        db.session.commit()
        set_stock(product_id, HOT_STOCK)
        orders_before = db.session.scalar(select(func.count(Order.id)))
        chosen = delivery_choices("baltic")

    counter = DeadlockCounter()
    logging.getLogger("portal.transaction").addHandler(counter)
    try:

        def buy(i):
            person = db.session.get(User, buyers[i])
            return transaction.committed(lambda: carts.checkout(person, choices=chosen)).id

        results = run_threads(maria, BUYERS, buy)
    finally:
        logging.getLogger("portal.transaction").removeHandler(counter)
    placed = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, orders.NotEnoughStock)]
    others = [r for r in results if not isinstance(r, (int, orders.NotEnoughStock))]
    assert others == []
    assert len(placed) == HOT_STOCK and len(refused) == BUYERS - HOT_STOCK
    # "Not enough stock of CAP-1206-10U (...)": past the SKU and name, no number at all.
    assert all(
        re.fullmatch(r"Not enough stock of CAP-1206-10U \([^)]*\) for this order\.", str(r))
        for r in refused
    )
    with maria.app_context():
        assert db.session.scalar(select(Product.stock).where(Product.id == product_id)) == 0
        assert db.session.scalar(select(func.count(Order.id))) == orders_before + HOT_STOCK
        sold = db.session.scalar(
            select(func.sum(OrderLine.quantity)).where(OrderLine.order_id.in_(placed))
        )
        assert sold == HOT_STOCK
        taken = db.session.scalars(
            select(StockMovement).where(StockMovement.order_id.in_(placed))
        ).all()
        assert len(taken) == HOT_STOCK and all(m.delta == -1 for m in taken)
        # Each movement saw the stock one lower than the one before it: no lost update.
        assert sorted(m.stock_after for m in taken) == list(range(HOT_STOCK))
        # The refused buyers keep their carts, open, to try again later.
        still_open = select(func.count(Cart.id)).where(
            Cart.owner_id.in_(buyers), Cart.status == "open"
        )
        assert db.session.scalar(still_open) == BUYERS - HOT_STOCK
    # Rows are locked before any insert takes a shared lock: the buyers queue, never deadlock.
    assert counter.count == 0


@pytest.mark.mariadb
def test_carts_of_several_lines_in_random_order_leave_no_deadlock_unhandled(maria):
    skus = ["MCU-STM32F401", "CAP-1206-10U", "CON-USBC-16P"]
    buyers_count = 24
    with maria.app_context():
        extra = db.session.scalars(
            select(Product.id).where(Product.sku.notin_(skus)).order_by(Product.id).limit(5)
        ).all()
        product_ids = [
            *db.session.scalars(select(Product.id).where(Product.sku.in_(skus))),
            *extra,
        ]
        for product_id in product_ids:
            set_stock(product_id, 100_000)
        single_units(product_ids)
        buyers = demo_buyers(buyers_count, "delft")  # Partner, no approval limit
        to_delft = delivery_choices("delft")
        rng = random.Random(7)
        wanted = {}
        for buyer_id in buyers:
            chosen = rng.sample(product_ids, rng.randint(3, len(product_ids)))
            person = db.session.get(User, buyer_id)
            for product_id in chosen:  # added to the cart in a random order
                carts.add(person, product_id, rng.randint(1, 9))
            db.session.commit()
            wanted[buyer_id] = {ln.product_id: ln.quantity for ln in carts.open_cart(person).lines}
        before = dict(
            db.session.execute(
                select(Product.id, Product.stock).where(Product.id.in_(product_ids))
            ).all()
        )

    counter = DeadlockCounter()
    logging.getLogger("portal.transaction").addHandler(counter)
    try:

        def checkout(i):
            person = db.session.get(User, buyers[i])
            return transaction.committed(
                lambda: carts.checkout(person, choices=to_delft), attempts=8
            ).id

        results = run_threads(maria, buyers_count, checkout)
    finally:
        logging.getLogger("portal.transaction").removeHandler(counter)
    failures = [r for r in results if isinstance(r, Exception)]
    assert failures == [], failures
    with maria.app_context():
        after = dict(
            db.session.execute(
                select(Product.id, Product.stock).where(Product.id.in_(product_ids))
            ).all()
        )
        ordered = Counter()
        for quantities in wanted.values():
            ordered.update(quantities)
        assert {p: before[p] - after[p] for p in product_ids} == {
            p: ordered.get(p, 0) for p in product_ids
        }
        for order_id in results:
            order = db.session.get(Order, order_id)
            assert order.total == sum(ln.line_total for ln in order.lines)
            assert {ln.product_id: ln.quantity for ln in order.lines} == wanted[order.placed_by_id]
        assert (
            db.session.scalar(
                select(func.count(Cart.id)).where(
                    Cart.owner_id.in_(buyers), Cart.status == "approved"
                )
            )
            == buyers_count
        )
    print(f"deadlock replays: {counter.count}")


@pytest.mark.mariadb
def test_a_failure_between_stock_and_order_leaves_everything_unchanged(maria, monkeypatch):
    with maria.app_context():
        buyer_id = demo_buyers(1, "baltic")[0]
        person = db.session.get(User, buyer_id)
        ids = sorted(
            db.session.scalars(
                select(Product.id).where(Product.sku.in_(["MCU-STM32F401", "CAP-1206-10U"]))
            )
        )
        set_stock(ids[0], 500)
        set_stock(ids[1], 500)
        single_units(ids)
        for product_id in ids:
            carts.add(person, product_id, 5)
        db.session.commit()
        cart_id = carts.open_cart(person).id
        counts = (
            db.session.scalar(select(func.count(Order.id))),
            db.session.scalar(select(func.count(StockMovement.id))),
        )

        real = orders._take_stock
        calls = []

        def failing(product, quantity, order, actor):
            calls.append(product.id)
            if len(calls) == 2:  # the first line's stock is already taken
                raise RuntimeError("injected: the server died between two statements")
            return real(product, quantity, order, actor)

        monkeypatch.setattr(orders, "_take_stock", failing)
        with pytest.raises(RuntimeError, match="injected"):
            transaction.committed(
                lambda: carts.checkout(person, choices=delivery_choices("baltic"))
            )
        assert calls == ids
        db.session.remove()

    with maria.app_context():
        stocks = db.session.scalars(select(Product.stock).where(Product.id.in_(ids))).all()
        assert stocks == [500, 500]
        assert db.session.scalar(select(func.count(Order.id))) == counts[0]
        assert db.session.scalar(select(func.count(StockMovement.id))) == counts[1]
        cart = db.session.get(Cart, cart_id)
        assert cart.status == "open" and cart.order_id is None and len(cart.lines) == 2


@pytest.mark.mariadb
def test_two_decision_makers_approving_at_once_place_one_order(maria):
    with maria.app_context():
        requester = db.session.get(User, demo_buyers(1, "baltic", "requester")[0])
        mcu = db.session.scalar(select(Product.id).where(Product.sku == "MCU-STM32F401"))
        carts.add(requester, mcu, 3)
        cart_id = carts.open_cart(requester).id
        carts.submit(requester, "", delivery_choices("baltic"))
        db.session.commit()
        approvers = demo_buyers(6, "baltic")
        orders_before = db.session.scalar(select(func.count(Order.id)))

    def approve(i):
        person = db.session.get(User, approvers[i])
        return transaction.committed(lambda: carts.approve(person, cart_id))

    results = run_threads(maria, len(approvers), approve)
    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(placed) == 1 and len(refused) == len(approvers) - 1
    assert all("already approved" in str(r) for r in refused)
    with maria.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == orders_before + 1


def test_the_deadlock_replay_gives_up_after_its_bound(ctx, monkeypatch):
    """On any database: `retrying` replays a deadlock a bounded number of times, then raises."""
    from sqlalchemy.exc import OperationalError

    attempts = []

    def deadlocked():
        attempts.append(1)
        raise OperationalError("UPDATE products", {}, Exception(1213, "Deadlock found"))

    monkeypatch.setattr(transaction.time, "sleep", lambda _: None)
    with pytest.raises(OperationalError):
        transaction.committed(deadlocked, attempts=3)
    assert len(attempts) == 3
