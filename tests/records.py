"""Demo records by their natural keys (a person's email, a company's slug, a product's SKU),
and an order placed as checkout places it, for tests that call services directly.

Call inside an application context (the `ctx` fixture).
"""

from sqlalchemy import select

from core import orders, transaction
from core.models import Company, Order, Product, User
from core.orders import LineRequest
from extensions import db

LINES = (("MCU-STM32F401", 3), ("CAP-1206-10U", 7))


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def company(slug: str) -> Company:
    return db.session.scalar(select(Company).where(Company.slug == slug))


def product(sku: str) -> Product:
    return db.session.scalar(select(Product).where(Product.sku == sku))


def pid(sku: str) -> int:
    return db.session.scalar(select(Product.id).where(Product.sku == sku))


def fresh_order(order_id: int) -> Order:
    """The order as the database has it now."""
    db.session.expire_all()
    return db.session.get(Order, order_id)


def place(slug: str = "carpathia", lines=LINES) -> Order:
    """An order of the company's decision-maker placed through the service, as checkout
    does, committed and read afresh. `lines`: {sku: quantity} or (sku, quantity) pairs."""
    buyer = user(f"orders@{slug}.test")
    requests = [LineRequest(pid(sku), quantity) for sku, quantity in dict(lines).items()]
    order = transaction.committed(lambda: orders.place(company(slug), requests, placed_by=buyer))
    return fresh_order(order.id)
