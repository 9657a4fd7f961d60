"""Back-office stock: exact levels, adjustments with a reason, goods received (serving
back-orders first), each product's movement history and the low-stock list."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
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
from core import access, catalog, i18n, orders, settings, stock
from core.errors import Refused
from core.models import Order, Product
from extensions import db

from . import bp


class AdjustForm(FlaskForm):
    """Set a product's stock to what was counted, and say why."""

    counted = WholeField(
        _l("Counted stock"),
        minimum=0,
        maximum=stock.MAX_STOCK,
        message=_l(
            "Enter a whole number from 0 to %(maximum)s.", maximum=i18n.number(stock.MAX_STOCK)
        ),
        validators=[InputRequired(_l("Enter the counted stock."))],  # 0 is a count too
    )
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(_l("Say why the stock changes.")), Length(max=500)],
    )


class ReceiptForm(FlaskForm):
    """Goods in: how many came, and the supplier's delivery note they came with."""

    quantity = WholeField(
        _l("Quantity received"),
        minimum=1,
        maximum=stock.MAX_STOCK,
        message=_l(
            "Enter how many came in: a whole number from 1 to %(maximum)s.",
            maximum=i18n.number(stock.MAX_STOCK),
        ),
        validators=[InputRequired(_l("Enter how many came in."))],
    )
    reference = StringField(
        _l("Delivery note"),
        validators=[
            DataRequired(_l("Give the supplier's delivery note (or another reference).")),
            Length(
                max=stock.REFERENCE_LENGTH,
                message=_l(
                    "A reference has at most %(count)s characters.", count=stock.REFERENCE_LENGTH
                ),
            ),
        ],
    )


def receipt_context(product: Product, **extra) -> dict:
    """The goods-receipt component: what waits for this product, and the form."""
    units, waiting = stock.backordered(product.id)
    return {"product": product, "backordered": units, "backorder_orders": waiting, **extra}


def receipt_notice(receipt: stock.Receipt) -> str:
    """What a receipt did, naming only the orders of customers in the viewer's scope."""
    served = receipt.served
    visible = set()
    if served:
        ids = [s.order.id for s in served]
        visible = set(
            db.session.scalars(orders.visible_orders(current_user).where(Order.id.in_(ids)))
        )
    number = i18n.format_number
    told = [
        f"{s.order.number} ({number(s.quantity)})"
        if s.order in visible
        else _("another (%(quantity)s)", quantity=number(s.quantity))
        for s in served
    ]
    values = {
        "quantity": number(receipt.quantity),
        "sku": receipt.product.sku,
        "reference": receipt.reference,
        "to_stock": number(receipt.to_stock),
        "stock": number(receipt.product.stock),
    }
    if not served:
        return _(
            "Received %(quantity)s × %(sku)s (%(reference)s): %(to_stock)s to stock, "
            "now %(stock)s.",
            **values,
        )
    return ngettext(
        "Received %(quantity)s × %(sku)s (%(reference)s): %(to_backorders)s to back-orders "
        "of %(num)d order (%(orders)s), %(to_stock)s to stock, now %(stock)s.",
        "Received %(quantity)s × %(sku)s (%(reference)s): %(to_backorders)s to back-orders "
        "of %(num)d orders (%(orders)s), %(to_stock)s to stock, now %(stock)s.",
        len(served),
        to_backorders=number(receipt.to_backorders),
        orders=", ".join(told),
        **values,
    )


@bp.route("/stock/<int:product_id>/receipt", methods=["POST"])
@permission_required("stock.edit")
def stock_receive(product_id: int):
    """Goods in for one product: open back-orders are served first, oldest order first, the
    rest goes to stock. htmx gets the receipt component back, a plain form a redirect."""
    product = or_404(db.session.get(Product, product_id))
    form = ReceiptForm()
    error = notice = ""
    if form.validate_on_submit():
        received = attempt(
            lambda: stock.receive(
                product.id, form.quantity.data, reference=form.reference.data, actor=current_user
            ),
            replay=True,
        )
        error = received.message
        if not received.refused:
            notice = receipt_notice(received.value)
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if is_htmx():
        fresh = or_404(db.session.get(Product, product_id))
        return render(
            "office/stock/_receipt.html",
            code=422 if error else 200,
            **receipt_context(fresh, notice=notice, error=error),
        )
    flash(error or notice, "error" if error else "info")
    return redirect(url_for("office.stock_product", product_id=product.id))


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
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
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
    flash(
        error or _("Stock of %(sku)s is now %(stock)s.", sku=product.sku, stock=product.stock),
        "error" if error else "info",
    )
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
        movements=movements,
        recent=recent,
        can_adjust=access.can(current_user, "stock.edit"),
        **receipt_context(product),
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
