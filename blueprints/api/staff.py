"""The back office through the API: products with their prices, stock, and customers with
their people, through core.products, core.stock and core.customers as the office's pages
use them, under the same permissions (a cost only with `finance.costs`, stock only with
`stock.view`, group prices with `groups.view` to read and `groups.edit` to change, customers
only in the staff member's scope: another's is a 404).
"""

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.boundary import attempt
from core import access, addresses, products, stock
from core import groups as groups_service
from core.models import Category, Company, CustomerGroup, Product, User
from extensions import db

from . import bp
from .guard import forbidden, person, staff_route
from .paging import PageArgs, after_id, listed, page_schema
from .present import address as address_of
from .present import party, staff_product
from .problems import Problem, not_found, refused
from .schemas import (
    CustomerSchema,
    CustomerSummarySchema,
    PersonSchema,
    PricesChange,
    ProductChange,
    ProductNew,
    StaffProductArgs,
    StaffProductSchema,
    StockAdjustment,
    StockLevelSchema,
    StockReceipt,
)

StaffProductPage = page_schema(StaffProductSchema, "StaffProductPage")
CustomerPage = page_schema(CustomerSummarySchema, "CustomerPage")
PersonPage = page_schema(PersonSchema, "PersonPage")


def load_product(product_id: int, *, lock: bool = False) -> Product:
    stmt = select(Product).where(Product.id == product_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    found = db.session.scalar(stmt)
    if found is None:
        raise not_found()
    return found


def category_for(category_id) -> Category | None:
    if category_id is None:
        return None
    found = db.session.get(Category, category_id)
    if found is None:
        message = _("There is no such category.")
        raise Problem(
            422,
            message,
            kind="validation",
            errors=[{"in": "json", "field": "category_id", "messages": [message]}],
        )
    return found


def _cost_allowed(body: dict) -> None:
    if "cost" in body and not access.can(person(), "finance.costs"):
        raise Problem(403, forbidden())


# --- products ------------------------------------------------------------------------------


class StaffProductQuery(StaffProductArgs, PageArgs):
    pass


@bp.route("/products")
@staff_route("products.view")
@bp.arguments(StaffProductQuery, location="query")
@bp.response(200, StaffProductPage)
@bp.doc(tags=["Products (staff)"])
def products_list(args):
    """Products, newest first, searched by SKU or name (archived ones with `archived`)."""
    stmt = select(Product).options(joinedload(Product.category))
    stmt = stmt.where(Product.is_archived.is_(bool(args["archived"])))
    q = args["q"].strip()
    if q:
        stmt = stmt.where(
            or_(
                Product.sku.icontains(q, autoescape=True),
                Product.name.icontains(q, autoescape=True),
            )
        )
    found, cursor = after_id(stmt, Product.id, args)
    user = person()
    return listed([staff_product(p, user) for p in found], cursor)


@bp.route("/products/<int:product_id>")
@staff_route("products.view")
@bp.response(200, StaffProductSchema)
@bp.doc(tags=["Products (staff)"])
def product(product_id: int):
    """One product with everything the token's owner may see of it."""
    return staff_product(load_product(product_id), person())


@bp.route("/products", methods=["POST"])
@staff_route("products.edit")
@bp.arguments(ProductNew)
@bp.response(201, StaffProductSchema)
@bp.doc(tags=["Products (staff)"])
def product_create(body):
    """Create a product with its opening stock, on sale at once."""
    _cost_allowed(body)
    user = person()

    def create():
        created = products.create(
            sku=body["sku"],
            name=body["name"],
            base_price=body["base_price"],
            cost=body.get("cost", "0"),
            stock=body["stock"],
            category=category_for(body["category_id"]),
            description=body["description"],
            specs=body["specs"],
            unit=body["unit"],
            tax_class=body["tax_class"],
            actor=user,
        )
        products.set_order_rules(
            created,
            actor=user,
            min_quantity=body["min_quantity"],
            order_multiple=body["order_multiple"],
        )
        return created

    created = attempt(create)
    if created.refused:
        raise refused(created.refusal)
    found = created.value
    location = url_for("api.product", product_id=found.id)
    return staff_product(load_product(found.id), user), 201, {"Location": location}


@bp.route("/products/<int:product_id>", methods=["PATCH"])
@staff_route("products.edit")
@bp.arguments(ProductChange)
@bp.response(200, StaffProductSchema)
@bp.doc(tags=["Products (staff)"])
def product_update(body, product_id: int):
    """Change a product's details; only the fields sent change."""
    _cost_allowed(body)
    user = person()
    found = load_product(product_id, lock=True)

    def save():
        products.update(
            found,
            actor=user,
            sku=body.get("sku", found.sku),
            name=body.get("name", found.name),
            description=body.get("description", found.description or ""),
            category=(
                category_for(body["category_id"]) if "category_id" in body else found.category
            ),
            specs=body.get("specs", found.specs),
            unit=body.get("unit", found.unit),
            tax_class=body.get("tax_class", found.tax_class),
            cost=body.get("cost"),
        )
        if "min_quantity" in body or "order_multiple" in body:
            products.set_order_rules(
                found,
                actor=user,
                min_quantity=body.get("min_quantity", found.min_quantity),
                order_multiple=body.get("order_multiple", found.order_multiple),
            )

    saved = attempt(save)
    if saved.refused:
        raise refused(saved.refusal)
    return staff_product(load_product(product_id), user)


@bp.route("/products/<int:product_id>/prices", methods=["PATCH"])
@staff_route("products.edit")
@bp.arguments(PricesChange)
@bp.response(200, StaffProductSchema)
@bp.doc(tags=["Products (staff)"])
def product_prices(body, product_id: int):
    """Change the base price, the base list's quantity breaks, group prices and a group's
    own breaks (with groups.edit); only what is sent changes, all or nothing."""
    user = person()
    if ("group_prices" in body or "group_breaks" in body) and not access.can(user, "groups.edit"):
        raise Problem(403, forbidden())
    group_breaks = {}
    for key, rows in body.get("group_breaks", {}).items():
        group = db.session.get(CustomerGroup, int(key))
        if group is None:
            message = _("There is no customer group %(id)s.", id=key)
            raise Problem(
                422,
                message,
                kind="validation",
                errors=[{"in": "json", "field": "group_breaks", "messages": [message]}],
            )
        group_breaks[group] = [(str(b["min_quantity"]), str(b["price"])) for b in rows]
    found = load_product(product_id, lock=True)
    breaks = None
    if "breaks" in body:
        breaks = [(str(b["min_quantity"]), str(b["price"])) for b in body["breaks"]]
    groups = None
    if "group_prices" in body:
        groups = {
            int(k): (str(v) if v is not None else None) for k, v in body["group_prices"].items()
        }

    def reprice():
        products.set_prices(
            found,
            actor=user,
            base_price=str(body["base_price"]) if "base_price" in body else None,
            group_prices=groups,
            breaks=breaks,
        )
        for group, rows in group_breaks.items():
            groups_service.set_breaks(group, found, rows, actor=user)

    repriced = attempt(reprice)
    if repriced.refused:
        raise refused(repriced.refusal)
    return staff_product(load_product(product_id), user)


# --- stock ---------------------------------------------------------------------------------


@bp.route("/stock/<int:product_id>/adjustments", methods=["POST"])
@staff_route("stock.view", "stock.edit")
@bp.arguments(StockAdjustment)
@bp.response(200, StockLevelSchema)
@bp.doc(tags=["Stock (staff)"])
def stock_adjust(body, product_id: int):
    """Set a product's stock to a counted level, saying why (a stocktake, damage)."""
    user = person()
    load_product(product_id)
    adjusted = attempt(
        lambda: stock.set_level(product_id, body["counted"], reason=body["reason"], actor=user),
        replay=True,
    )
    if adjusted.refused:
        raise refused(adjusted.refusal)
    found = load_product(product_id)
    return {"product_id": found.id, "sku": found.sku, "stock": found.stock, "to_backorders": 0}


@bp.route("/stock/<int:product_id>/receipts", methods=["POST"])
@staff_route("stock.view", "stock.edit")
@bp.arguments(StockReceipt)
@bp.response(200, StockLevelSchema)
@bp.doc(tags=["Stock (staff)"])
def stock_receive(body, product_id: int):
    """Goods in: open back-orders are served first, oldest order first; the rest goes on
    the shelf."""
    user = person()
    load_product(product_id)
    received = attempt(
        lambda: stock.receive(
            product_id, body["quantity"], reference=body["reference"], actor=user
        ),
        replay=True,
    )
    if received.refused:
        raise refused(received.refusal)
    found = load_product(product_id)
    return {
        "product_id": found.id,
        "sku": found.sku,
        "stock": found.stock,
        "to_backorders": received.value.to_backorders,
    }


# --- customers -----------------------------------------------------------------------------


def customer_summary(found: Company) -> dict:
    return {
        "id": found.id,
        "name": found.name,
        "slug": found.slug,
        "group": party(found.group),
        "country": found.country,
        "is_active": bool(found.is_active),
    }


def load_customer(company_id: int) -> Company:
    found = access.load_company(person(), company_id)
    if found is None:
        raise not_found()
    return found


@bp.route("/customers")
@staff_route("customers.view")
@bp.arguments(PageArgs, location="query")
@bp.response(200, CustomerPage)
@bp.doc(tags=["Customers (staff)"])
def customers_list(args):
    """The customer companies you may see (yours, or all with customers.all)."""
    stmt = access.visible_companies(person()).options(joinedload(Company.group))
    found, cursor = after_id(stmt, Company.id, args)
    return listed([customer_summary(c) for c in found], cursor)


@bp.route("/customers/<int:company_id>")
@staff_route("customers.view")
@bp.response(200, CustomerSchema)
@bp.doc(tags=["Customers (staff)"])
def customer(company_id: int):
    """One customer company with its terms, sales reps and delivery addresses."""
    found = load_customer(company_id)
    return {
        **customer_summary(found),
        "email": found.email,
        "phone": found.phone,
        "vat_number": found.vat_number,
        "address": found.address,
        "postcode": found.postcode,
        "city": found.city,
        "payment_terms_days": found.payment_terms_days,
        "approval_limit": found.approval_limit,
        "reference_required": bool(found.reference_required),
        "reps": [party(rep) for rep in found.reps],
        "addresses": [address_of(a) for a in addresses.book(found.id)],
    }


@bp.route("/customers/<int:company_id>/people")
@staff_route("customers.view")
@bp.arguments(PageArgs, location="query")
@bp.response(200, PersonPage)
@bp.doc(tags=["Customers (staff)"])
def customer_people(args, company_id: int):
    """The people of one of your customer companies, with their roles and status."""
    load_customer(company_id)
    stmt = access.visible_people(person(), company_id).options(selectinload(User.roles))
    found, cursor = after_id(stmt, User.id, args)
    return listed(
        [
            {
                "id": p.id,
                "name": p.name,
                "email": p.email,
                "status": p.status,
                "roles": [r.name for r in p.roles],
                "last_login_at": p.last_login_at,
            }
            for p in found
        ],
        cursor,
    )
