"""Back-orders and goods receipts racing, on MariaDB with real threads.

Orders of a group that accepts back-orders and goods receipts of the same product, all at
once: nothing is lost or served twice, stock never goes negative, and stock on the shelf
and open back-orders never exist together (a placement takes the shelf before it waits; a
receipt serves every waiting line before it fills the shelf).
"""

import pytest
from sqlalchemy import func, select

from config import engine_options
from core import orders, stock, transaction
from core.models import Company, Order, OrderLine, Product, StockMovement, User
from core.orders import LineRequest
from extensions import db
from tests.conftest import demo_portal, derived_database
from tests.integration.test_orders_concurrency import run_threads, set_stock

CAP = "CAP-1206-10U"
BUYERS, RECEIPTS = 20, 6
EACH, RECEIVED = 3, 4
START = 10


@pytest.fixture(scope="module")
def maria():
    """A portal on its own fresh MariaDB database with the demo loaded."""
    with derived_database("backorders") as url:
        options = {**engine_options(url), "pool_size": BUYERS + RECEIPTS + 5, "max_overflow": 10}
        with demo_portal(
            url, SECRET_KEY="backorders-test", SQLALCHEMY_ENGINE_OPTIONS=options
        ) as app:
            yield app


@pytest.mark.mariadb
def test_orders_and_receipts_at_once_lose_nothing_and_serve_nothing_twice(maria):
    with maria.app_context():
        product_id = db.session.scalar(select(Product.id).where(Product.sku == CAP))
        set_stock(product_id, START)
        company_id = db.session.scalar(select(Company.id).where(Company.slug == "carpathia"))
        buyer_id = db.session.scalar(select(User.id).where(User.email == "orders@carpathia.test"))
        warehouse_id = db.session.scalar(
            select(User.id).where(User.email == "warehouse@portal.test")
        )
        first_order = db.session.scalar(select(func.max(Order.id))) or 0
        first_movement = db.session.scalar(select(func.max(StockMovement.id))) or 0

    def work(i):
        if i < BUYERS:
            return transaction.committed(
                lambda: orders.place(
                    db.session.get(Company, company_id),
                    [LineRequest(product_id, EACH)],
                    placed_by=db.session.get(User, buyer_id),
                )
            ).id
        return transaction.committed(
            lambda: stock.receive(
                product_id,
                RECEIVED,
                reference=f"DN-{i}",
                actor=db.session.get(User, warehouse_id),
            )
        ).quantity

    results = run_threads(maria, BUYERS + RECEIPTS, work)
    assert [r for r in results if isinstance(r, Exception)] == []
    with maria.app_context():
        lines = db.session.scalars(
            select(OrderLine).where(
                OrderLine.order_id > first_order, OrderLine.product_id == product_id
            )
        ).all()
        assert len(lines) == BUYERS
        waiting = sum(line.backordered for line in lines)
        supplied = sum(line.quantity - line.backordered for line in lines)
        shelf = db.session.scalar(select(Product.stock).where(Product.id == product_id))
        assert shelf >= 0 and waiting >= 0
        assert supplied + shelf == START + RECEIPTS * RECEIVED  # nothing lost, nothing twice
        assert shelf == 0 or waiting == 0  # never both
        # Every change is a movement, and they add up to the shelf's change.
        moved = db.session.scalar(
            select(func.sum(StockMovement.delta)).where(
                StockMovement.product_id == product_id, StockMovement.id > first_movement
            )
        )
        assert START + moved == shelf
