"""The price explainer: how a customer's price and stock form for a product were built."""

from flask import abort, current_app, request
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from blueprints.common import company_arg, permission_required, render
from core import access, margins, numbers, offer, orders, quotes, settings, tax
from core.models import Company, Product, Quote, QuoteLine
from extensions import db

from . import bp

SUGGESTIONS = 20


def sku_arg() -> str:
    """The typed SKU; too long is a clear 400."""
    sku = (request.args.get("sku") or "").strip()
    if len(sku) > current_app.config["MAX_QUERY_LENGTH"]:
        abort(400, description=_("The SKU is too long."))
    return sku


def quantity_arg() -> int | None:
    """The quantity asked about (empty: none); anything but a whole number is a clear 400."""
    raw = (request.args.get("qty") or "").strip()
    if not raw:
        return None
    try:
        return numbers.whole(
            raw,
            minimum=1,
            maximum=orders.MAX_QUANTITY,
            message=_(
                "The quantity is a whole number from 1 to %(maximum)s.",
                maximum=f"{orders.MAX_QUANTITY:,}",
            ),
        )
    except numbers.NumberRefused as exc:
        abort(400, description=str(exc))


def find_product(sku: str) -> tuple[Product | None, list[Product]]:
    """The product with exactly this SKU (any case), or up to SUGGESTIONS close ones."""
    if not sku:
        return None, []
    exact = db.session.scalar(select(Product).where(func.upper(Product.sku) == sku.upper()))
    if exact is not None:
        return exact, []
    close = db.session.scalars(
        select(Product)
        .where(
            Product.sold(),
            or_(
                Product.sku.contains(sku, autoescape=True),
                Product.name.contains(sku, autoescape=True),
            ),
        )
        .order_by(Product.sku)
        .limit(SUGGESTIONS)
    )
    return None, list(close)


def open_quotes(company: Company, product: Product) -> list[tuple[Quote, QuoteLine]]:
    """The company's open quotes that ask for this product, with the line (its price if any)."""
    rows = db.session.execute(
        select(Quote, QuoteLine)
        .join(QuoteLine, QuoteLine.quote_id == Quote.id)
        .where(
            Quote.company_id == company.id,
            QuoteLine.product_id == product.id,
            Quote.status.in_(quotes.OPEN),
        )
        .options(selectinload(Quote.rounds))
        .order_by(Quote.created_at.desc(), Quote.id.desc())
    ).all()
    return [(quote, line) for quote, line in rows if quotes.is_open(quote)]


@bp.route("/explain")
@permission_required("customers.view")
@permission_required("products.view")
def explain():
    """For a chosen customer and product: base price, group price, the quantity breaks and
    the one a quantity reaches, the promotions considered, the final price, open quotes,
    and the stock form the customer sees."""
    company, sku = company_arg(_("The company is chosen by its number.")), sku_arg()
    quantity = quantity_arg()
    product, suggestions = find_product(sku)
    companies = db.session.execute(
        access.company_scope(
            current_user, select(Company.id, Company.name, Company.is_active), Company.id
        ).order_by(Company.name)
    ).all()
    context = {
        "company": company,
        "sku": sku,
        "qty": quantity,
        "product": product,
        "suggestions": suggestions,
        "companies": companies,
        "show_costs": access.can(current_user, "finance.costs"),
        "zone": str(get_timezone()),
    }
    if company is not None and product is not None:
        context["explanation"] = offer.explain(company.group, product, quantity=quantity)
        if quantity:
            context["refusal"] = offer.check_quantity(product, quantity)
            # The order's own line builder: the total the cart and the order would show.
            context["line_total"] = orders.order_line(
                product, context["explanation"].offer, quantity
            ).line_total
        context["vat"] = tax.for_company(company)
        context["vat_id_valid"] = tax.vat_id_valid(company.vat_number, company.country)
        context["seller_country"] = settings.vat()[0]
        context["tax_classes"] = tax.TAX_CLASSES
        context["quotes"] = open_quotes(company, product)
        context["quote_labels"] = quotes.STATUS_LABELS
        if context["show_costs"]:
            paid = context["explanation"].line or context["explanation"].offer
            context["unit_margin"] = margins.of_unit(paid.price, product.cost)
    return render("office/explain/index.html", "office/explain/_result.html", **context)
