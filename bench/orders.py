"""Orders benchmark: orders per second with concurrent buyers, and correctness after the run.

Builds a fresh database (MariaDB by default, `portal_bench_orders`; a temporary SQLite
file when MariaDB cannot be reached, which the output says), loads the demo, and adds
--buyers decision-makers at Baltic Drones (a company without an approval limit). Then
two phases with real threads, each buyer with its own application context:

1. distinct products: every buyer orders its own product, --orders times;
2. one hot product: every buyer orders the same product, whose stock is set below the
   total demand, so that some orders must be refused.

Each order takes the storefront's path: carts.add, then carts.checkout through
orders.retrying (one commit, deadlock replay). Prints orders per second, p50/p95
latency of placing one order, refusals and deadlock replays; then checks that nothing
was oversold, that stock, stock movements and order lines agree, and that every order
total is the sum of its lines. Never fails on a time; exits 1 only when a check fails.

    .venv/bin/python bench/orders.py --smoke
    .venv/bin/python bench/orders.py --buyers 20 --orders 100
    .venv/bin/python bench/orders.py --database-url mysql+pymysql://root@127.0.0.1/portal_bench_orders
"""

import argparse
import logging
import os
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.engine import make_url

import demo
from app import create_app
from config import engine_options
from core import carts, delivery, orders, transaction, visibility
from core.errors import Refused
from core.models import (
    CENT,
    Company,
    Order,
    OrderLine,
    Product,
    Role,
    StockMovement,
    User,
)
from extensions import db

DEFAULT_URL = "mysql+pymysql://root@127.0.0.1/portal_bench_orders"
COMPANY = "baltic"
PLENTY = 1_000_000
HOT_SHARE = 0.75  # the hot product's stock covers this share of the demand


@dataclass
class Phase:
    """What one phase did: per-order latencies, outcomes and the products it touched."""

    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, placed orders only
    placed: list[int] = field(default_factory=list)
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    replays: int = 0
    elapsed: float = 0.0
    cpu: float = 0.0  # this process's CPU seconds: the GIL bounds what threads can add
    stock_before: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ReplayCounter(logging.Handler):
    """Counts the deadlock replays core.transaction.committed logs."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0
        self._lock = threading.Lock()

    def emit(self, record):
        if "deadlock" in record.getMessage():
            with self._lock:
                self.count += 1


def parse_args() -> argparse.Namespace:
    """Command-line options; --smoke picks a small, fast run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help=f"SQLAlchemy URL (default: BENCH_DATABASE_URL, else {DEFAULT_URL}); a MariaDB "
        "database is dropped and created; without MariaDB a temporary SQLite file is used",
    )
    parser.add_argument("--buyers", type=int, default=20, help="concurrent buyers (default 20)")
    parser.add_argument("--orders", type=int, help="orders per buyer and phase (default 50)")
    parser.add_argument("--quantity", type=int, default=2, help="units per order (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the MariaDB database")
    parser.add_argument("--smoke", action="store_true", help="2 orders per buyer: CI's size")
    args = parser.parse_args()
    args.orders = args.orders or (2 if args.smoke else 50)
    return args


def reachable(url: str) -> bool:
    """Whether the database server of a URL accepts connections at all."""
    parsed = make_url(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 3306), 2):
            return True
    except OSError:
        return False


@contextmanager
def database(url: str, keep: bool) -> Iterator[str]:
    """A fresh database: the MariaDB one dropped and created, or a temporary SQLite file."""
    if url.startswith("sqlite") or not reachable(url):
        if not url.startswith("sqlite"):
            print(f"MariaDB is not reachable at {make_url(url).host}: falling back to SQLite.")
            print("SQLite serialises every write; its figures say nothing about MariaDB.\n")
        with tempfile.TemporaryDirectory(prefix="portal-bench-orders-") as tmp:
            yield f"sqlite:///{tmp}/portal.db"
        return
    parsed = make_url(url)
    server = create_engine(parsed.set(database=""))
    with server.begin() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{parsed.database}`")
        conn.exec_driver_sql(
            f"CREATE DATABASE `{parsed.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    try:
        yield url
    finally:
        if not keep:
            with server.begin() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{parsed.database}`")
        server.dispose()


def build(url: str, buyers: int) -> Flask:
    """The portal on the fresh database, with the demo and a pool with a connection per buyer."""
    # A connection per buyer: a smaller pool would queue the buyers before the database does.
    options = {**engine_options(url), "pool_size": buyers + 5, "max_overflow": 5}
    app = create_app(
        {
            "PORTAL_ENV": "testing",
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "SERVER_NAME": None,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
        }
    )
    with app.app_context():
        upgrade()
        demo.load()
    logging.getLogger("portal").setLevel(logging.ERROR)  # replays are counted, not printed
    return app


def describe_database() -> str:
    """The database kind and version."""
    if db.engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    version = db.session.scalar(select(func.version()))
    return f"MariaDB {version}" if "MariaDB" in version else f"MySQL {version}"


def add_buyers(count: int) -> list[int]:
    """`count` decision-makers of the bench company, each with their own cart."""
    role = db.session.scalar(select(Role).where(Role.preset == "decision_maker"))
    company = db.session.scalar(select(Company).where(Company.slug == COMPANY))
    people = [
        User(
            email=f"bench-buyer-{i}@{COMPANY}.test",
            name=f"Bench buyer {i}",
            kind="customer",
            company=company,
            status="active",
            roles=[role],
        )
        for i in range(count)
    ]
    db.session.add_all(people)
    db.session.commit()
    return [p.id for p in people]


def set_stock(levels: dict[int, int]) -> None:
    """Set products' stock directly (the bench's starting point, not a movement)."""
    for product_id, level in levels.items():
        db.session.execute(update(Product).where(Product.id == product_id).values(stock=level))
    db.session.commit()


def run_phase(app: Flask, phase: Phase, buyers: list[int], products: list[int], args) -> None:
    """Every buyer orders `args.orders` times its product (products[i % len]) at once."""
    counter = ReplayCounter()
    logging.getLogger("portal.transaction").addHandler(counter)
    barrier = threading.Barrier(len(buyers) + 1)

    def buyer(i: int) -> None:
        try:
            barrier.wait(timeout=60)
        except threading.BrokenBarrierError:
            return
        with app.app_context():
            person = db.session.get(User, buyers[i])
            product_id = products[i % len(products)]
            # Checkout's choices: the company's default address, its cheapest method.
            chosen = delivery.standard(person.company)
            for _ in range(args.orders):
                start = time.perf_counter()
                try:
                    carts.add(person, product_id, args.quantity)
                    db.session.commit()
                    order = transaction.committed(lambda: carts.checkout(person, choices=chosen))
                except Refused as exc:
                    db.session.rollback()
                    with phase.lock:
                        phase.refused += 1
                    if isinstance(exc, orders.NotEnoughStock):
                        # The refused cart stays open: empty it, as a buyer giving up would.
                        for line in list(carts.open_cart(person).lines):
                            carts.remove(person, line.id)
                        db.session.commit()
                    continue
                except Exception as exc:  # reported, and fails the run's checks
                    db.session.rollback()
                    with phase.lock:
                        phase.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    continue
                elapsed = time.perf_counter() - start
                with phase.lock:
                    phase.latencies.append(elapsed)
                    phase.placed.append(order.id)
            db.session.remove()

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(len(buyers))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    phase.elapsed = time.perf_counter() - started
    phase.cpu = time.process_time() - cpu
    logging.getLogger("portal.transaction").removeHandler(counter)
    phase.replays = counter.count


def check(phase: Phase, demand: dict[int, int]) -> list[str]:
    """What must hold after a phase; each broken rule is one line."""
    problems = list(phase.errors)
    ids = phase.placed
    after = dict(
        db.session.execute(
            select(Product.id, Product.stock).where(Product.id.in_(phase.stock_before))
        ).all()
    )
    sold: dict[int, int] = dict.fromkeys(phase.stock_before, 0)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for product_id, quantity in db.session.execute(
            select(OrderLine.product_id, func.sum(OrderLine.quantity))
            .where(OrderLine.order_id.in_(chunk))
            .group_by(OrderLine.product_id)
        ):
            sold[product_id] = sold.get(product_id, 0) + int(quantity)
    moved: dict[int, int] = dict.fromkeys(phase.stock_before, 0)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for product_id, delta in db.session.execute(
            select(StockMovement.product_id, func.sum(StockMovement.delta))
            .where(StockMovement.order_id.in_(chunk), StockMovement.kind == "order")
            .group_by(StockMovement.product_id)
        ):
            moved[product_id] = moved.get(product_id, 0) + int(delta)
    for product_id, before in phase.stock_before.items():
        if after[product_id] < 0:
            problems.append(f"product {product_id}: stock {after[product_id]} is negative")
        if before - after[product_id] != sold[product_id]:
            problems.append(
                f"product {product_id}: stock fell by {before - after[product_id]}, "
                f"order lines say {sold[product_id]}"
            )
        if -moved[product_id] != sold[product_id]:
            problems.append(f"product {product_id}: movements {moved[product_id]} ≠ sold")
        expected = min(demand[product_id], before)
        if sold[product_id] != expected:
            problems.append(f"product {product_id}: sold {sold[product_id]}, expected {expected}")
    for start in range(0, len(ids), 500):
        for order in db.session.scalars(
            select(Order).where(Order.id.in_(ids[start : start + 500]))
        ):
            lines = order.lines
            if order.total != sum(line.line_total for line in lines):
                problems.append(f"{order.number}: total {order.total} ≠ sum of its lines")
            for line in lines:
                if line.line_total != (line.unit_price * line.quantity).quantize(
                    CENT, ROUND_HALF_UP
                ):
                    problems.append(f"{order.number}: line {line.sku} total is not price × qty")
    return problems


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def report(phase: Phase) -> None:
    """One line of figures for a phase."""
    ms = [v * 1000 for v in phase.latencies]
    done = len(phase.placed) + phase.refused
    rate = len(phase.placed) / phase.elapsed if phase.elapsed else float("nan")
    cpu = phase.cpu / done * 1000 if done else float("nan")
    print(
        f"{phase.name:<18} {len(phase.placed):>7} {phase.refused:>8} {rate:>9.1f} "
        f"{percentile(ms, 0.50):>8.1f} {percentile(ms, 0.95):>8.1f} {phase.replays:>8} "
        f"{cpu:>8.1f} {phase.elapsed:>7.2f}"
    )


def main() -> int:
    """Build, run both phases, print the figures and the checks; 1 if a check fails."""
    args = parse_args()
    # SQLite stores NUMERIC through float at the column's scale, exact for our scales.
    warnings.filterwarnings("ignore", message="Dialect sqlite\\+pysqlite does \\*not\\* support")
    with database(args.database_url, args.keep) as url:
        began = time.perf_counter()
        app = build(url, args.buyers)
        with app.app_context():
            loaded = time.perf_counter() - began
            print(f"Database: {describe_database()}  (demo loaded in {loaded:.1f} s)")
            load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
            print(f"Machine: {os.cpu_count()} CPUs, load average {load}")
            buyers = add_buyers(args.buyers)
            hot = db.session.scalar(select(Product.id).where(Product.sku == "MCU-STM32F401"))
            # Products the buyers' group may order in any quantity: on sale and not hidden
            # from it, with no minimum or pack size (the demo gives CAP-1206-10U both).
            group_id = db.session.scalar(select(Company.group_id).where(Company.slug == COMPANY))
            in_stock = select(Product.id).where(
                *visibility.offered(group_id),
                Product.stock > 0,
                Product.id != hot,
                Product.min_quantity == 1,
                Product.order_multiple == 1,
            )
            distinct = db.session.scalars(in_stock.order_by(Product.id).limit(args.buyers)).all()
            per_buyer = args.orders * args.quantity
            hot_stock = int(args.buyers * per_buyer * HOT_SHARE)
            set_stock(dict.fromkeys(distinct, PLENTY))
            set_stock({hot: hot_stock})
        print(
            f"{args.buyers} buyers, {args.orders} orders each per phase, {args.quantity} units "
            f"per order; hot product stock {hot_stock} for a demand of "
            f"{args.buyers * per_buyer}\n"
        )
        print(
            f"{'phase':<18} {'orders':>7} {'refused':>8} {'orders/s':>9} {'p50 ms':>8} "
            f"{'p95 ms':>8} {'replays':>8} {'cpu ms':>8} {'seconds':>7}"
        )
        problems = []
        for name, products, demand in (
            ("distinct products", distinct, {p: per_buyer for p in distinct}),
            ("one hot product", [hot], {hot: args.buyers * per_buyer}),
        ):
            phase = Phase(name)
            with app.app_context():
                phase.stock_before = dict(
                    db.session.execute(
                        select(Product.id, Product.stock).where(Product.id.in_(products))
                    ).all()
                )
            run_phase(app, phase, buyers, products, args)
            report(phase)
            with app.app_context():
                problems += [f"{name}: {p}" for p in check(phase, demand)]
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    print(
        "\norders/s counts placed orders; p50/p95: one order (add to cart + checkout, "
        "replays included);\ncpu ms: this process's CPU per attempt. The threads share one "
        "interpreter, so 1000 / cpu ms\nbounds orders/s here: more processes, not more "
        "threads, raise it."
    )
    print()
    if problems:
        print("Correctness: FAILED")
        for problem in problems[:50]:
            print(f"  {problem}")
        return 1
    print(
        "Correctness: ok (no oversell, stock = order lines = movements per product, "
        "every total = its lines to the cent)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
