"""Back-office products: the list, one product's page, create and edit, photos, archive,
restore and delete.

Costs are shown and editable only with `finance.costs`, group prices only with the
groups permissions, exact stock and movements only with `stock.view`: a form or page
made for someone without them has no such field at all.
"""

from decimal import Decimal

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.boundary import apply, attempt
from blueprints.common import (
    checked_csrf,
    choice_arg,
    go,
    is_htmx,
    listing_args,
    or_404,
    permission_required,
    render,
)
from blueprints.fragments.catalog import PHOTOS, facts_context, photos_context
from blueprints.photos import send_photo
from core import access, catalog, numbers, photos, stock, visibility
from core import products as products_service
from core.models import Category, CustomerGroup, Product, ProductPhoto
from extensions import db

from . import bp
from .products_forms import MoveForm, PhotosForm, ProductForm, product_form_class

STATUSES = {"": _l("On sale"), "archived": _l("Archived")}
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
    return or_404(db.session.scalar(stmt))


def load_photo(product: Product, photo_id: int) -> ProductPhoto:
    """One of the product's photos; any other (or none) is a 404."""
    photo = or_404(db.session.get(ProductPhoto, photo_id))
    return or_404(photo if photo.product_id == product.id else None)


def groups() -> list[CustomerGroup]:
    """Every customer group, by name (each may have its own price for a product)."""
    return list(db.session.scalars(select(CustomerGroup).order_by(CustomerGroup.name)))


def _plain(value) -> str:
    """A stored price as a person would type it: 6.40, 0.0125."""
    if value is None:
        return ""
    text = f"{Decimal(value):.4f}".rstrip("0")
    whole, __, frac = text.partition(".")
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
            "min_quantity": product.min_quantity,
            "order_multiple": product.order_multiple,
            "breaks": products_service.breaks_of(product.id),
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
    return render(
        "office/products/form.html",
        code=status,
        form=form,
        product=product,
        rows=spec_rows(form),
        max_size=photos.size_label(current_app.config["PHOTO_MAX_BYTES"]),
        max_files=photos.MAX_FILES,
        units=products_service.UNITS,
    )


def spec_action(form: ProductForm) -> bool:
    """Add or remove a specification row (a form button that saves nothing)."""
    action = request.form.get("spec_action", "")
    if not action:
        return False
    rows = list(form.specs.data or [])
    if action == "add":
        rows.append(("", ""))
    elif action.startswith("remove-"):
        try:
            index = numbers.whole(action[7:], minimum=0, maximum=len(rows) - 1, message="")
        except numbers.NumberRefused:
            index = None  # a row that is not there: nothing to remove
        if index is not None:
            del rows[index]
    form.specs.data = rows
    return True


def uploads_of(field_name: str = "photos") -> list[photos.Upload]:
    """The files chosen in a file input (a browser sends an empty part for none)."""
    chosen = [f for f in request.files.getlist(field_name) if f and f.filename]
    if len(chosen) > photos.MAX_FILES:
        raise photos.PhotoRefused(
            _("Upload at most %(count)s pictures at a time.", count=photos.MAX_FILES)
        )
    limit = current_app.config["PHOTO_MAX_BYTES"]
    return [photos.read(f.stream, f.filename, limit) for f in chosen]


# --- the list and one product ------------------------------------------------------


@bp.route("/products")
@permission_required("products.view")
def products():
    """Products on sale (or archived ones) with exact stock; cost and margin with the right."""
    q, sort, page = listing_args()
    status = choice_arg("status", STATUSES, _("There is no product status “{value}”."))
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
        base_breaks=products_service.breaks_of(found.id),
        group_breaks=_group_breaks(found),
        hidden_from=_hidden_from(found),
    )


def _hidden_from(product: Product) -> list[CustomerGroup]:
    """The groups that do not see the product (core.visibility), for group readers."""
    if not access.can(current_user, "groups.view"):
        return []
    return visibility.groups_hiding(product)


def _group_breaks(product: Product) -> list[tuple[CustomerGroup, list]]:
    """The groups' own breaks of a product, for people who may see group prices."""
    if not access.can(current_user, "groups.view"):
        return []
    own = products_service.group_breaks(product)
    return [(g, own[g.id]) for g in groups() if g.id in own]


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
    except photos.PhotoRefused as exc:  # read before any change: nothing to undo
        refuse_on(form, exc)
        return form_page(form, None, 422)

    def create():
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
            tax_class=form.tax_class.data,
            actor=current_user,
        )
        prices = {k: v for k, v in form.group_prices().items() if v}
        if prices or form.breaks.cleaned:
            products_service.set_prices(
                created, actor=current_user, group_prices=prices, breaks=form.breaks.data
            )
        products_service.set_order_rules(
            created,
            actor=current_user,
            min_quantity=form.min_quantity.data,
            order_multiple=form.order_multiple.data,
        )
        if uploads:
            photos.add(
                created,
                uploads,
                actor=current_user,
                upload_dir=current_app.config["UPLOAD_DIR"],
                max_pixels=current_app.config["PHOTO_MAX_PIXELS"],
            )
        return created

    outcome = attempt(create)
    if outcome.refused:
        refuse_on(form, outcome.refusal)
        return form_page(form, None, 422)
    flash(_("%(sku)s is created and on sale.", sku=outcome.value.sku), "info")
    return go(url_for("office.product", product_id=outcome.value.id))


def refuse_on(form: ProductForm, refusal) -> None:
    """A refused photo is told at the photos field, any other refusal where it belongs."""
    if isinstance(refusal, photos.PhotoRefused):
        form.photos.errors = [str(refusal)]
    else:
        form.refuse(refusal)


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

    def save():
        changed = products_service.update(
            found,
            actor=current_user,
            sku=form.sku.data,
            name=form.name.data,
            description=form.description.data,
            category=category_of(form),
            specs=form.specs.cleaned,
            unit=form.unit.data,
            tax_class=form.tax_class.data,
            cost=form.cost.data if "cost" in form else None,
        )
        ruled = products_service.set_order_rules(
            found,
            actor=current_user,
            min_quantity=form.min_quantity.data,
            order_multiple=form.order_multiple.data,
        )
        repriced = products_service.set_prices(
            found,
            actor=current_user,
            base_price=form.base_price.data,
            group_prices=form.group_prices(),
            breaks=form.breaks.data,
        )
        return changed or ruled or repriced

    saved = attempt(save)
    if saved.refused:
        form.refuse(saved.refusal)
        return form_page(form, load_product(product_id), 422)
    flash(
        _("%(sku)s is saved.", sku=found.sku) if saved.value else _("Nothing was changed."), "info"
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
    changed = attempt(lambda: change(found))
    if changed.refused:
        flash(changed.message, "error")
        return go(url_for("office.product", product_id=product_id))
    message, target = changed.value
    flash(message, "info")
    return go(target)


@bp.post("/products/<int:product_id>/archive")
@permission_required("products.delete")
def product_archive(product_id: int):
    """Stop selling a product: it leaves every catalogue at once; orders keep it."""

    def archive(found):
        products_service.archive(found, actor=current_user)
        return (
            _(
                "%(sku)s is archived: customers no longer see it. Restore it to sell it again.",
                sku=found.sku,
            ),
            url_for("office.product", product_id=found.id),
        )

    return lifecycle(product_id, archive)


@bp.post("/products/<int:product_id>/restore")
@permission_required("products.delete")
def product_restore(product_id: int):
    """Sell an archived product again."""

    def restore(found):
        products_service.restore(found, actor=current_user)
        return (
            _("%(sku)s is on sale again.", sku=found.sku),
            url_for("office.product", product_id=found.id),
        )

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
            return _("%(sku)s is deleted.", sku=sku), url_for("office.products")
        return (
            _(
                "%(sku)s appears in %(references)s, so it is archived instead of deleted: "
                "customers no longer see it and its history stays intact.",
                sku=sku,
                references=products_service.joined(references),
            ),
            url_for("office.product", product_id=product_id),
        )

    return lifecycle(product_id, remove)


# --- photos ------------------------------------------------------------------------


def photos_answer(product: Product, *, notice: str = "", error: str = "", status: int = 200):
    """After a photo change: htmx gets the component back, a plain form a redirect."""
    if is_htmx():
        return render(
            PHOTOS,
            code=status,
            **photos_context(load_product(product.id), notice=notice, error=error),
        )
    flash(error or notice, "error" if error else "info")
    return redirect(
        url_for("office.product", product_id=product.id) + f"#product-photos-{product.id}"
    )


@bp.get("/products/<int:product_id>/photos")
@permission_required("products.view")
def product_photos(product_id: int):
    """The photos component alone (an open product page re-fetches it when photos change)."""
    found = load_product(product_id)
    return render(PHOTOS, **photos_context(found))


@bp.post("/products/<int:product_id>/photos")
@permission_required("products.edit")
def product_photos_add(product_id: int):
    """Add pictures: each is checked by decoding it; all are stored, or none."""
    found = load_product(product_id, lock=True)
    if not PhotosForm().validate_on_submit():
        abort(400, description=_("The form has expired. Reload the page and try again."))
    added = attempt(
        lambda: photos.add(
            found,
            uploads_of(),
            actor=current_user,
            upload_dir=current_app.config["UPLOAD_DIR"],
            max_pixels=current_app.config["PHOTO_MAX_PIXELS"],
        )
    )
    if added.refused:
        return photos_answer(found, error=added.message, status=422)
    count = len(added.value)
    return photos_answer(found, notice=ngettext("Photo added.", "%(num)d photos added.", count))


@bp.post("/products/<int:product_id>/photos/<int:photo_id>/delete")
@permission_required("products.edit")
def product_photo_delete(product_id: int, photo_id: int):
    """Remove one photo of a product."""
    found = load_product(product_id, lock=True)
    photo = load_photo(found, photo_id)
    checked_csrf()
    apply(
        lambda: photos.remove(
            photo, actor=current_user, upload_dir=current_app.config["UPLOAD_DIR"]
        )
    )
    return photos_answer(found, notice=_("Photo removed."))


@bp.post("/products/<int:product_id>/photos/<int:photo_id>/move")
@permission_required("products.edit")
def product_photo_move(product_id: int, photo_id: int):
    """Move a photo earlier or later; the first one is the product's main photo."""
    found = load_product(product_id, lock=True)
    photo = load_photo(found, photo_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return photos_answer(found, error=_("Move a photo earlier or later."), status=422)
    moved = apply(lambda: photos.move(photo, int(form.step.data), actor=current_user))
    return photos_answer(found, notice=_("Order saved.") if moved else _("It is already there."))


@bp.get("/photos/<name>")
@permission_required("products.view")
def photo(name: str):
    """A product photo for staff (archived products' too)."""
    return send_photo(name)
