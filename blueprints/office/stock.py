"""Back-office stock: exact levels, adjustments with a reason, each product's movement
history and the low-stock list."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, InputRequired, Length

from blueprints.boundary import attempt
from blueprints.common import (
    is_htmx,
    listing_args,
    or_404,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from blueprints.forms import WholeField
from core import access, catalog, settings, stock
from core.errors import Refused
from core.models import Product
from extensions import db

from . import bp


class AdjustForm(FlaskForm):
    """Set a product's stock to what was counted, and say why."""

    counted = WholeField(
        "Counted stock",
        minimum=0,
        maximum=stock.MAX_STOCK,
        message=f"Enter a whole number from 0 to {stock.MAX_STOCK:,}.",
        validators=[InputRequired("Enter the counted stock.")],  # 0 is a count too
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
    product = or_404(db.session.get(Product, product_id))
    form = AdjustForm()
    error = None
    if form.validate_on_submit():
        adjusted = attempt(
            lambda: stock.set_level(
                product.id, form.counted.data, reason=form.reason.data, actor=current_user
            )
        )
        error = adjusted.message or None
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    if is_htmx():
        return render(
            "office/stock/_row.html",
            code=422 if error else 200,
            product=or_404(db.session.get(Product, product_id)),
            can_adjust=True,
            error=error,
            saved=error is None,
            low=request.form.get("from") == "low",
            from_page="product" if request.form.get("from") == "product" else None,
        )
    flash(error or f"Stock of {product.sku} is now {product.stock}.", "error" if error else "info")
    if request.form.get("from") == "product":
        return redirect(url_for("office.stock_product", product_id=product.id))
    if request.form.get("from") == "low":
        return redirect(url_for("office.stock_low"))
    return redirect(url_for("office.stock", q=product.sku))


@bp.route("/stock/<int:product_id>", endpoint="stock_product")
@permission_required("stock.view")
def stock_product(product_id: int):
    """One product's stock with the adjust form and its whole movement history, newest first."""
    product = or_404(db.session.get(Product, product_id))
    # `recent`: the short list on the product page, re-fetched when the stock changes.
    recent = request.args.get("recent") == "1"
    movements = stock.history(product.id, current_user, page_arg(), 10 if recent else 25)
    return render(
        "office/stock/show.html",
        "office/stock/_movements.html",
        product=product,
        movements=movements,
        recent=recent,
        can_adjust=access.can(current_user, "stock.edit"),
    )


@bp.route("/stock/low", endpoint="stock_low")
@permission_required("stock.view")
def stock_low():
    """Products on sale below a threshold (default: where "Many" starts), emptiest first."""
    default = settings.stock_thresholds()[1]
    try:
        below = stock.parse_threshold(request.args.get("below"), default)
    except Refused as exc:
        abort(400, description=str(exc))
    q, page = search_arg(), page_arg()
    return render(
        "office/stock/low.html",
        "office/stock/_low.html",
        listing=stock.low_stock(below, q=q, page=page),
        below=below,
        default_below=default,
        q=q,
        can_adjust=access.can(current_user, "stock.edit"),
    )
