"""Import benchmark: time and peak memory to import 100,000 products from CSV, against a floor.

Builds the demo database, then imports a generated CSV file of --products new products
through the real import path (core.imports.run: decoding, checking every line, applying
in one transaction, progress reports, events, audit), and re-imports it with every price
changed (100,000 updates). The floor of each is a plain bulk write of the same rows in the
same run: one executemany INSERT (or UPDATE) of prepared values, in the import's batch
size, then a commit. Rounds alternate the order of import and floor; the figures are
medians, and peak memory (tracemalloc) is taken in rounds of its own. Prints figures and
ratios; never fails on a time.

    .venv/bin/python bench/import.py --smoke
    .venv/bin/python bench/import.py --database-url mysql+pymysql://root@127.0.0.1/portal_bench_import
"""

import argparse
import csv
import gc
import io
import os
import sqlite3
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable
from decimal import Decimal

from common import add_database_url, database
from flask_migrate import upgrade
from sqlalchemy import bindparam, delete, func, insert, select, update

import demo
from app import create_app
from core import imports
from core.models import Category, ImportJob, Product, User, search_key_of, utcnow
from extensions import db

PREFIX = "BENCH-"
ACTOR = "admin@portal.test"
CATEGORIES = ("capacitors", "resistors", "microcontrollers", "connectors", "leds", "sensors")


def parse_args() -> argparse.Namespace:
    """Command-line options; --smoke picks a small, fast run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_url(parser)
    parser.add_argument("--products", type=int, help="products in the file (default 100000)")
    parser.add_argument("--rounds", type=int, help="timed rounds of each (default 3)")
    parser.add_argument("--smoke", action="store_true", help="2,000 products, 2 rounds")
    args = parser.parse_args()
    small = (2_000, 2) if args.smoke else (100_000, 3)
    args.products = args.products or small[0]
    args.rounds = args.rounds or small[1]
    return args


def product_rows(count: int, categories: dict[str, int], *, repriced: bool = False) -> list:
    """The generated products as the rows of a plain bulk insert (the floor's input)."""
    now = utcnow()
    rows = []
    for i in range(1, count + 1):
        sku = f"{PREFIX}{i:06d}"
        slug = CATEGORIES[i % len(CATEGORIES)]
        name = f"Bench part {i} {slug}"
        base = Decimal(i % 5000 + 1) / 100 + (Decimal("0.5") if repriced else 0)
        rows.append(
            {
                "sku": sku,
                "name": name,
                "description": f"Generated part number {i} for the import benchmark.",
                "category_id": categories[slug],
                "base_price": base,
                "cost": (base * Decimal("0.6")).quantize(Decimal("0.0001")),
                "stock": 0,
                "unit": "pcs",
                "specs": {},
                "is_archived": False,
                "search_key": search_key_of(sku, name),
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def csv_file(rows: list[dict], slugs: dict[int, str]) -> bytes:
    """The same products as a CSV file, as a spreadsheet would save it (UTF-8 with BOM)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sku", "name", "category", "base_price", "cost", "description", "unit"])
    for row in rows:
        writer.writerow(
            [
                row["sku"],
                row["name"],
                slugs[row["category_id"]],
                row["base_price"],
                row["cost"],
                row["description"],
                row["unit"],
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def floor_insert(rows: list[dict]) -> None:
    """The floor of creating: executemany INSERT of the prepared rows, then commit."""
    for start in range(0, len(rows), imports.BATCH):
        db.session.execute(insert(Product.__table__), rows[start : start + imports.BATCH])
    db.session.commit()


def floor_update(rows: list[dict]) -> None:
    """The floor of updating: executemany UPDATE by id of the prepared rows, then commit."""
    table = Product.__table__
    statement = update(table).where(table.c.id == bindparam("_id"))
    for start in range(0, len(rows), imports.BATCH):
        db.session.execute(statement, rows[start : start + imports.BATCH])
    db.session.commit()


def import_file(data: bytes, limits: imports.Limits, expect: str) -> ImportJob:
    """The real path: a queued import, then core.imports.run as its background job runs it."""
    actor = db.session.scalar(select(User).where(User.email == ACTOR))
    job = imports.create_job(actor, "products", "bench.csv", apply_valid=False)
    db.session.commit()
    imports.run(job.id, data, limits)
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    if job.status != "done" or expect not in job.message:
        raise RuntimeError(f"import {job.id}: {job.status}: {job.message} {job.errors[:3]}")
    return job


def remove_products() -> None:
    """Back to the demo catalogue (untimed)."""
    db.session.execute(delete(Product).where(Product.sku.startswith(PREFIX)))
    db.session.commit()


def update_rows(rows: list[dict]) -> list[dict]:
    """The repriced rows keyed by the ids the products now have, for the update floor."""
    ids = dict(
        db.session.execute(
            select(Product.sku, Product.id).where(Product.sku.startswith(PREFIX))
        ).all()
    )
    now = utcnow()
    return [
        {
            "_id": ids[row["sku"]],
            "name": row["name"],
            "category_id": row["category_id"],
            "base_price": row["base_price"],
            "cost": row["cost"],
            "description": row["description"],
            "unit": row["unit"],
            "search_key": row["search_key"],
            "updated_at": now,
        }
        for row in rows
    ]


def timed(work: Callable[[], object]) -> float:
    """Seconds of one call, after a garbage collection so that none falls inside it."""
    gc.collect()
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def peak(work: Callable[[], object]) -> float:
    """Peak Python memory (MiB) allocated during one call, above what was held before."""
    gc.collect()
    tracemalloc.start()
    try:
        work()
        _, top = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return top / (1024 * 1024)


def describe_database() -> str:
    if db.engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    version = db.session.scalar(select(func.version()))
    return f"MariaDB {version}" if "MariaDB" in version else f"MySQL {version}"


def run(url: str, count: int, rounds: int) -> None:
    """Build, measure creating and updating against their floors, print."""
    app = create_app({"PORTAL_ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": "bench"})
    limits = imports.Limits(
        max_bytes=app.config["IMPORT_MAX_BYTES"],
        max_lines=app.config["IMPORT_MAX_LINES"],
        progress_every=app.config["IMPORT_PROGRESS_LINES"],
    )
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        demo.load()
        built = time.perf_counter() - started
        kind = describe_database()
        categories = dict(db.session.execute(select(Category.slug, Category.id)).all())
        slugs = {cid: slug for slug, cid in categories.items()}
        rows = product_rows(count, categories)
        new_rows = product_rows(count, categories, repriced=True)
        data, repriced = csv_file(rows, slugs), csv_file(new_rows, slugs)
        actor = db.session.scalar(select(User).where(User.email == ACTOR))
        lookups = imports.Lookups.load("products", actor)
        db.session.commit()

        times = {
            name: [] for name in ("check", "import", "insert floor", "reimport", "update floor")
        }
        for round_number in range(rounds):
            times["check"].append(timed(lambda: imports.check("products", data, lookups, limits)))
            steps = [
                ("import", lambda: import_file(data, limits, f"{count:,} created")),
                ("insert floor", lambda: floor_insert(rows)),
            ]
            for name, work in steps if round_number % 2 == 0 else reversed(steps):
                times[name].append(timed(work))
                remove_products()
            # Updating: the products exist, every price changes.
            floor_insert(rows)
            updates = update_rows(new_rows)
            steps = [
                ("reimport", lambda: import_file(repriced, limits, f"{count:,} updated")),
                ("update floor", lambda updates=updates: floor_update(updates)),
            ]
            for name, work in steps if round_number % 2 == 0 else reversed(steps):
                times[name].append(timed(work))
                floor_update(update_rows(rows))  # back to the first prices (untimed)
            remove_products()

        memory = {
            "import": peak(lambda: import_file(data, limits, f"{count:,} created")),
        }
        remove_products()
        # The floor's peak includes building its rows: they are what it holds in memory.
        memory["insert floor"] = peak(lambda: floor_insert(product_rows(count, categories)))
        remove_products()
        load = os.getloadavg()[0]
        db.session.remove()
        db.engine.dispose()

    median = {name: statistics.median(values) for name, values in times.items()}
    size = len(data) / (1024 * 1024)
    print()
    print(
        f"Import benchmark · {kind} · {count:,} products in a {size:.1f} MiB CSV file "
        f"(7 columns, UTF-8 with BOM) · {rounds} rounds, medians"
    )
    print(
        f"Build: migrations + demo {built:.1f} s. Host: {os.cpu_count()} CPUs, 1-minute load "
        f"average {load:.1f} at the end (other work on the host skews the times)"
    )
    print()
    print(f"{'what':<44} {'median s':>9} {'rows/s':>10} {'vs floor':>9}")
    lines = (
        ("check only (decode, parse, check every line)", "check", "insert floor"),
        ("import: create (the real path, all of it)", "import", "insert floor"),
        ("floor: executemany INSERT + commit", "insert floor", "insert floor"),
        ("re-import: update every price", "reimport", "update floor"),
        ("floor: executemany UPDATE + commit", "update floor", "update floor"),
    )
    for label, name, floor in lines:
        seconds = median[name]
        print(
            f"{label:<44} {seconds:>9.2f} {count / seconds:>10,.0f} "
            f"{seconds / median[floor]:>8.2f}x"
        )
    print()
    print(
        f"Peak Python memory (tracemalloc, a round of its own): import {memory['import']:.0f} "
        f"MiB, insert floor {memory['insert floor']:.0f} MiB with its prepared rows "
        f"({memory['import'] / max(memory['insert floor'], 0.01):.1f}x); the file itself is "
        f"{size:.1f} MiB"
    )
    print(
        "Rounds (s): "
        + "; ".join(f"{k} " + ", ".join(f"{v:.2f}" for v in vs) for k, vs in times.items())
    )


def main() -> None:
    """Entry point."""
    args = parse_args()
    # SQLite stores NUMERIC through float at the column's scale, exact for our scales.
    warnings.filterwarnings("ignore", message="Dialect sqlite\\+pysqlite does \\*not\\* support")
    with database(args.database_url, prefix="portal-bench-import-") as url:
        run(url, args.products, args.rounds)


if __name__ == "__main__":
    main()
