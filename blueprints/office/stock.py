"""Back-office stock: exact levels, and adjustments with a reason."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from blueprints.common import listing_args, permission_required, render
from core import access, catalog, stock
from core.errors import Refused
from core.models import Product
from extensions import db

from . import bp


class AdjustForm(FlaskForm):
    """Set a product's stock to what was counted, and say why."""

    counted = IntegerField(
        "Counted stock",
        validators=[
            DataRequired("Enter the counted stock."),
            NumberRange(min=0, max=stock.MAX_STOCK, message="Enter a whole number from 0."),
        ],
    )
    reason = StringField(
        "Reason", validators=[DataRequired("Say why the stock changes."), Length(max=500)]
    )


@bp.route("/stock", endpoint="stock")
@permission_required("stock.view")
def stock_levels():
    """Exact stock of every product, searchable, with an adjust form per row."""
    q, sort, page = listing_args()
    listing = catalog.browse(None, q=q, sort=sort, page=page, per_page=50)
    return render(
        "office/stock/index.html",
        "office/stock/_table.html",
        listing=listing,
        q=q,
        sort=sort,
        sorts=catalog.SORTS,
        can_adjust=access.can(current_user, "stock.edit"),
    )


@bp.route("/stock/<int:product_id>", methods=["POST"])
@permission_required("stock.edit")
def stock_adjust(product_id: int):
    """Adjust one product's stock; htmx gets the row back, a plain form a redirect."""
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404, description="There is no such product.")
    form = AdjustForm()
    error = None
    if form.validate_on_submit():
        try:
            stock.set_level(
                product.id, form.counted.data, reason=form.reason.data, actor=current_user
            )
            db.session.commit()
        except Refused as exc:
            db.session.rollback()
            error = str(exc)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    if request.headers.get("HX-Request") == "true":
        product = db.session.scalar(select(Product).where(Product.id == product_id))
        response = render(
            "office/stock/_row.html",
            "office/stock/_row.html",
            product=product,
            can_adjust=True,
            error=error,
            saved=error is None,
        )
        response.status_code = 422 if error else 200
        return response
    flash(error or f"Stock of {product.sku} is now {product.stock}.", "error" if error else "info")
    return redirect(url_for("office.stock", q=product.sku))
