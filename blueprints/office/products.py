"""Back-office product list (the management screens come with the products issue)."""

from flask_login import current_user

from blueprints.common import listing_args, permission_required, render
from core import access, catalog

from . import bp


@bp.route("/products")
@permission_required("products.view")
def products():
    """Every product with exact stock; cost and margin only with `finance.costs`."""
    categories = catalog.category_tree()
    q, sort, page = listing_args()
    listing = catalog.browse(None, q=q, categories=categories, sort=sort, page=page, per_page=50)
    return render(
        "office/products/index.html",
        "office/products/_table.html",
        listing=listing,
        q=q,
        sort=sort,
        sorts=catalog.SORTS,
        show_costs=access.can(current_user, "finance.costs"),
        show_stock=access.can(current_user, "stock.view"),
    )
