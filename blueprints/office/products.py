"""Back-office products: the list, one product's page, create and edit, photos, archive,
restore and delete.

Costs are shown and editable only with `finance.costs`, group prices only with the
groups permissions, exact stock and movements only with `stock.view`: a form or page
made for someone without them has no such field at all.
"""

from decimal import Decimal

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from blueprints.common import (
    checked_csrf,
    choice_arg,
    go,
    is_htmx,
    listing_args,
    permission_required,
    render,
)
from core import access, catalog, photos, stock
from core import products as products_service
from core.errors import Refused
from core.models import Category, CustomerGroup, Product, ProductPhoto
from extensions import db

from . import bp
from .products_forms import MoveForm, PhotosForm, ProductForm, product_form_class

STATUSES = {"": "On sale", "archived": "Archived"}
SKU_TAKEN = products_service.ProductRefused(
    "Another product has just been given this SKU: choose another one.", "sku"
)
MOVEMENTS_ON_PAGE = 10


# --- loading and context -----------------------------------------------------------


def load_product(product_id: int, *, lock: bool = False) -> Product:
    """A product by number, archived or not (staff with products.view see them all)."""
    stmt = (
        select(Product)
        .where(Product.id == product_id)
        .options(joinedload(Product.category), selectinload(Product.photos))
    )
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    product = db.session.scalar(stmt)
    if product is None:
        abort(404, description="There is no product with this number.")
    return product


def load_photo(product: Product, photo_id: int) -> ProductPhoto:
    """One of the product's photos; any other (or none) is a 404."""
    photo = db.session.get(ProductPhoto, photo_id)
    if photo is None or photo.product_id != product.id:
        abort(404, description="This product has no such photo.")
    return photo


def groups() -> list[CustomerGroup]:
    """Every customer group, by name (each may have its own price for a product)."""
    return list(db.session.scalars(select(CustomerGroup).order_by(CustomerGroup.name)))


def margin(price: Decimal | None, cost: Decimal) -> Decimal | None:
    """The margin of a price over the cost, in percent of the price."""
    if not price:
        return None
    return ((price - cost) / price * 100).quantize(Decimal("0.1"))


def facts_context(product: Product, user) -> dict:
    """What the live facts panel of a product shows to this person (pages and pushes)."""
    show_costs = access.can(user, "finance.costs")
    price_rows = []
    if access.can(user, "groups.view"):
        own = products_service.group_prices(product)
        for group in groups():
            price = own.get(group.id)
            pays = price if price is not None else product.base_price
            price_rows.append(
                {
                    "group": group,
                    "price": price,
                    "margin": margin(pays, product.cost) if show_costs else None,
                }
            )
    return {
        "product": product,
        "show_costs": show_costs,
        "show_stock": access.can(user, "stock.view"),
        "price_rows": price_rows,
        "base_margin": margin(product.base_price, product.cost) if show_costs else None,
    }


def photos_context(product: Product, **extra) -> dict:
    """What the photos component shows."""
    return {
        "product": product,
        "photos": list(product.photos),
        "thumb_name": photos.thumb_name,
        "max_photos": photos.MAX_PHOTOS,
        "max_size": photos.size_label(current_app.config["PHOTO_MAX_BYTES"]),
        **extra,
    }


def _plain(value) -> str:
    """A stored price as a person would type it: 6.40, 0.0125."""
    if value is None:
        return ""
    text = f"{Decimal(value):.4f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def make_form(product: Product | None = None) -> ProductForm:
    """The product form for this person: fields they may not use do not exist."""
    all_groups = groups()
    cls = product_form_class(all_groups)
    data = None
    if product is not None:
        data = {
            "sku": product.sku,
            "name": product.name,
            "category": str(product.category_id) if product.category_id else "",
            "unit": product.unit,
            "description": product.description,
            "specs": dict(product.specs or {}),
            "base_price": _plain(product.base_price),
            "cost": _plain(product.cost),
        }
        own = products_service.group_prices(product)
        data |= {f"group_{g.id}": _plain(own.get(g.id)) for g in all_groups}
    form = cls(data=data) if data is not None else cls()
    return form.setup(
        categories=catalog.category_tree(),
        groups=all_groups,
        show_costs=access.can(current_user, "finance.costs"),
        edit_group_prices=access.can(current_user, "groups.edit"),
        product_id=product.id if product is not None else None,
    )


def spec_rows(form: ProductForm) -> list[tuple[str, str]]:
    """The specification rows to show: the ones typed, and one blank row to fill in."""
    rows = list(form.specs.data or [])
    if not rows or any(rows[-1]):
        rows.append(("", ""))
    return rows


def form_page(form: ProductForm, product: Product | None, status: int = 200):
    """The create or edit page with this form (422 when it comes back with errors)."""
    response = render(
        "office/products/form.html",
        form=form,
        product=product,
        rows=spec_rows(form),
        max_size=photos.size_label(current_app.config["PHOTO_MAX_BYTES"]),
        max_files=photos.MAX_FILES,
        units=products_service.UNITS,
    )
    response.status_code = status
    return response


def spec_action(form: ProductForm) -> bool:
    """Add or remove a specification row (a form button that saves nothing)."""
    action = request.form.get("spec_action", "")
    if not action:
        return False
    rows = list(form.specs.data or [])
    if action == "add":
        rows.append(("", ""))
    elif action.startswith("remove-") and action[7:].isdigit():
        index = int(action[7:])
        if 0 <= index < len(rows):
            del rows[index]
    form.specs.data = rows
    return True


def uploads_of(field_name: str = "photos") -> list[photos.Upload]:
    """The files chosen in a file input (a browser sends an empty part for none)."""
    chosen = [f for f in request.files.getlist(field_name) if f and f.filename]
    if len(chosen) > photos.MAX_FILES:
        raise photos.PhotoRefused(f"Upload at most {photos.MAX_FILES} pictures at a time.")
    limit = current_app.config["PHOTO_MAX_BYTES"]
    return [photos.read(f.stream, f.filename, limit) for f in chosen]


# --- the list and one product ------------------------------------------------------


@bp.route("/products")
@permission_required("products.view")
def products():
    """Products on sale (or archived ones) with exact stock; cost and margin with the right."""
    q, sort, page = listing_args()
    status = choice_arg("status", STATUSES, "There is no product status “{value}”.")
    if status == "archived":
        found = products_service.archived(q, page)
        listing = catalog.Listing(
            [(p, None) for p in found.items], found.total, found.page, found.per_page
        )
    else:
        listing = catalog.browse(None, q=q, sort=sort, page=page, per_page=50)
    return render(
        "office/products/index.html",
        "office/products/_table.html",
        listing=listing,
        q=q,
        sort=sort,
        sorts=catalog.SORTS,
        status=status,
        statuses=STATUSES,
        show_costs=access.can(current_user, "finance.costs"),
        show_stock=access.can(current_user, "stock.view"),
    )


@bp.route("/products/<int:product_id>")
@permission_required("products.view")
def product(product_id: int):
    """One product: prices, group prices, stock, cost and margin, photos, recent movements."""
    found = load_product(product_id)
    show_stock = access.can(current_user, "stock.view")
    movements = stock.history(found.id, current_user, 1, MOVEMENTS_ON_PAGE) if show_stock else None
    may_delete = access.can(current_user, "products.delete")
    return render(
        "office/products/show.html",
        **(facts_context(found, current_user) | photos_context(found)),
        movements=movements,
        references=products_service.trade_references(found) if may_delete else [],
    )


# --- create and edit ---------------------------------------------------------------


@bp.route("/products/new", methods=["GET", "POST"])
@permission_required("products.edit")
def product_new():
    """Create a product with its prices, opening stock and photos, all at once or not at all."""
    form = make_form()
    if request.method == "GET" or spec_action(form):
        return form_page(form, None)
    if not form.validate_on_submit():
        return form_page(form, None, 422)
    try:
        uploads = uploads_of()
    except photos.PhotoRefused as exc:
        form.photos.errors = [str(exc)]
        return form_page(form, None, 422)
    try:
        created = products_service.create(
            sku=form.sku.data,
            name=form.name.data,
            base_price=form.base_price.data,
            cost=form.cost.data if "cost" in form else "0",
            stock=form.stock.data,
            category=category_of(form),
            description=form.description.data,
            specs=form.specs.cleaned,
            unit=form.unit.data,
            actor=current_user,
        )
        prices = {k: v for k, v in form.group_prices().items() if v}
        if prices:
            products_service.set_prices(created, actor=current_user, group_prices=prices)
        if uploads:
            photos.add(
                created,
                uploads,
                actor=current_user,
                upload_dir=current_app.config["UPLOAD_DIR"],
                max_pixels=current_app.config["PHOTO_MAX_PIXELS"],
            )
    except photos.PhotoRefused as exc:
        db.session.rollback()
        form.photos.errors = [str(exc)]
        return form_page(form, None, 422)
    except Refused as exc:
        db.session.rollback()
        form.refuse(exc)
        return form_page(form, None, 422)
    except IntegrityError:
        # Someone else took the SKU between the check and the insert.
        db.session.rollback()
        form.refuse(SKU_TAKEN)
        return form_page(form, None, 422)
    db.session.commit()
    flash(f"{created.sku} is created and on sale.", "info")
    return go(url_for("office.product", product_id=created.id))


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@permission_required("products.edit")
def product_edit(product_id: int):
    """Change a product's details and prices; a cost one may not see stays as it is."""
    found = load_product(product_id)
    form = make_form(found)
    if request.method == "GET" or spec_action(form):
        return form_page(form, found)
    if not form.validate_on_submit():
        return form_page(form, found, 422)
    found = load_product(product_id, lock=True)
    try:
        changed = products_service.update(
            found,
            actor=current_user,
            sku=form.sku.data,
            name=form.name.data,
            description=form.description.data,
            category=category_of(form),
            specs=form.specs.cleaned,
            unit=form.unit.data,
            cost=form.cost.data if "cost" in form else None,
        )
        repriced = products_service.set_prices(
            found,
            actor=current_user,
            base_price=form.base_price.data,
            group_prices=form.group_prices(),
        )
        db.session.flush()
    except Refused as exc:
        db.session.rollback()
        form.refuse(exc)
        return form_page(form, load_product(product_id), 422)
    except IntegrityError:
        db.session.rollback()
        form.refuse(SKU_TAKEN)
        return form_page(form, load_product(product_id), 422)
    db.session.commit()
    flash(
        f"{found.sku} is saved." if changed or repriced else "Nothing was changed.",
        "info",
    )
    return go(url_for("office.product", product_id=found.id))


def category_of(form: ProductForm):
    """The chosen category (the form has checked it is one of the choices)."""
    return db.session.get(Category, int(form.category.data)) if form.category.data else None


# --- archive, restore, delete ------------------------------------------------------


def lifecycle(product_id: int, change):
    """A bare POST button on one product: `change` returns what to tell and where to go."""
    found = load_product(product_id, lock=True)
    checked_csrf()
    try:
        message, target = change(found)
    except Refused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return go(url_for("office.product", product_id=product_id))
    db.session.commit()
    flash(message, "info")
    return go(target)


@bp.post("/products/<int:product_id>/archive")
@permission_required("products.delete")
def product_archive(product_id: int):
    """Stop selling a product: it leaves every catalogue at once; orders keep it."""

    def archive(found):
        products_service.archive(found, actor=current_user)
        return (
            f"{found.sku} is archived: customers no longer see it. Restore it to sell it again.",
            url_for("office.product", product_id=found.id),
        )

    return lifecycle(product_id, archive)


@bp.post("/products/<int:product_id>/restore")
@permission_required("products.delete")
def product_restore(product_id: int):
    """Sell an archived product again."""

    def restore(found):
        products_service.restore(found, actor=current_user)
        return f"{found.sku} is on sale again.", url_for("office.product", product_id=found.id)

    return lifecycle(product_id, restore)


@bp.post("/products/<int:product_id>/delete")
@permission_required("products.delete")
def product_delete(product_id: int):
    """Delete a product nothing refers to; one with orders, quotes or carts is archived."""

    def remove(found):
        sku, references = found.sku, products_service.trade_references(found)
        outcome = products_service.remove(
            found, actor=current_user, folder=current_app.config["UPLOAD_DIR"]
        )
        if outcome == "deleted":
            return f"{sku} is deleted.", url_for("office.products")
        return (
            f"{sku} appears in {products_service.joined(references)}, so it is archived "
            "instead of deleted: customers no longer see it and its history stays intact.",
            url_for("office.product", product_id=product_id),
        )

    return lifecycle(product_id, remove)


# --- photos ------------------------------------------------------------------------


def photos_answer(product: Product, *, notice: str = "", error: str = "", status: int = 200):
    """After a photo change: htmx gets the component back, a plain form a redirect."""
    if is_htmx():
        response = render(
            "office/products/_photos.html",
            "office/products/_photos.html",
            **photos_context(load_product(product.id), notice=notice, error=error),
        )
        response.status_code = status
        return response
    flash(error or notice, "error" if error else "info")
    return redirect(
        url_for("office.product", product_id=product.id) + f"#product-photos-{product.id}"
    )


@bp.get("/products/<int:product_id>/photos")
@permission_required("products.view")
def product_photos(product_id: int):
    """The photos component alone (an open product page re-fetches it when photos change)."""
    found = load_product(product_id)
    return render(
        "office/products/_photos.html", "office/products/_photos.html", **photos_context(found)
    )


@bp.post("/products/<int:product_id>/photos")
@permission_required("products.edit")
def product_photos_add(product_id: int):
    """Add pictures: each is checked by decoding it; all are stored, or none."""
    found = load_product(product_id, lock=True)
    if not PhotosForm().validate_on_submit():
        abort(400, description="The form has expired. Reload the page and try again.")
    try:
        added = photos.add(
            found,
            uploads_of(),
            actor=current_user,
            upload_dir=current_app.config["UPLOAD_DIR"],
            max_pixels=current_app.config["PHOTO_MAX_PIXELS"],
        )
    except Refused as exc:
        db.session.rollback()
        return photos_answer(found, error=str(exc), status=422)
    db.session.commit()
    return photos_answer(
        found, notice="Photo added." if len(added) == 1 else f"{len(added)} photos added."
    )


@bp.post("/products/<int:product_id>/photos/<int:photo_id>/delete")
@permission_required("products.edit")
def product_photo_delete(product_id: int, photo_id: int):
    """Remove one photo of a product."""
    found = load_product(product_id, lock=True)
    photo = load_photo(found, photo_id)
    checked_csrf()
    photos.remove(photo, actor=current_user, upload_dir=current_app.config["UPLOAD_DIR"])
    db.session.commit()
    return photos_answer(found, notice="Photo removed.")


@bp.post("/products/<int:product_id>/photos/<int:photo_id>/move")
@permission_required("products.edit")
def product_photo_move(product_id: int, photo_id: int):
    """Move a photo earlier or later; the first one is the product's main photo."""
    found = load_product(product_id, lock=True)
    photo = load_photo(found, photo_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return photos_answer(found, error="Move a photo earlier or later.", status=422)
    moved = photos.move(photo, int(form.step.data), actor=current_user)
    db.session.commit()
    return photos_answer(found, notice="Order saved." if moved else "It is already there.")


def send_photo(name: str, may_see):
    """Serve a stored photo or thumbnail if `may_see(product)`; 404 otherwise.

    The type comes from what was stored (it was decoded and re-encoded), never from the
    name; nosniff and a sandboxing CSP keep a browser from treating it as anything else.
    """
    found = photos.find(name)
    if found is None:
        abort(404, description="There is no such photo.")
    photo, thumbnail = found
    owner = db.session.get(Product, photo.product_id)
    if owner is None or not may_see(owner):
        abort(404, description="There is no such photo.")
    path = photos.file_of(current_app.config["UPLOAD_DIR"], photo, thumbnail)
    if not path.is_file():
        abort(404, description="This photo's file is missing.")
    response = send_file(path, mimetype=photo.content_type, conditional=True, etag=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.get("/photos/<name>")
@permission_required("products.view")
def photo(name: str):
    """A product photo for staff (archived products' too)."""
    return send_photo(name, lambda product: True)
