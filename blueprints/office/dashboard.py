"""The back office's start page."""

from flask_login import current_user
from sqlalchemy import func, select

from blueprints.common import render
from core import access
from core.models import Order, Product
from extensions import db

from . import bp


@bp.route("/")
def dashboard():
    """Start page: the modules this person may use, with a few counts they may see."""
    figures = {}
    if access.can(current_user, "products.view"):
        figures["Active products"] = db.session.scalar(
            select(func.count(Product.id)).where(Product.sold())
        )
    if access.can(current_user, "stock.view"):
        figures["Out of stock"] = db.session.scalar(
            select(func.count(Product.id)).where(Product.sold(), Product.stock <= 0)
        )
    if access.can(current_user, "orders.view"):
        open_orders = access.company_scope(
            current_user,
            select(func.count(Order.id)).where(
                Order.status.in_(("placed", "confirmed", "partly_shipped"))
            ),
            Order.company_id,
        )
        figures["Open orders"] = db.session.scalar(open_orders)
    return render(
        "office/dashboard.html", figures=figures, modules=access.nav_modules(current_user)
    )
