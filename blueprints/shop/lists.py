"""Storefront: the company's shared lists (requisition lists, bills of materials).

Everyone of the company reads its lists and exports them; `shop.lists` creates, changes,
imports into and deletes them; putting a list in the cart needs `shop.cart`. Another
company's list is a 404. The list page's lines are the live region `list-<id>`
(fragments/lists.py): every form on it answers htmx with the region, and the outcome of
an action goes next to it, out of band.
"""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from blueprints.boundary import attempt
from blueprints.common import (
    checked_csrf,
    client_ip,
    csv_download,
    go,
    is_htmx,
    or_404,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from blueprints.fragments.lists import LIST, list_context
from core import i18n, lists, visibility
from core.models import Product, ShoppingList
from core.pagination import paginate
from extensions import db

from . import bp
from .lists_forms import (
    AddProductForm,
    ImportForm,
    LineEditForm,
    LineForm,
    ListForm,
    ToCartForm,
)

PER_PAGE = 25
EDIT = lists.EDIT
ADD_LINE = "shop/lists/_add_line.html"
TO_CART = "shop/lists/_to_cart.html"
ADD_TO_LIST = "shop/lists/_add_to_list_form.html"
OUTCOME = "shop/lists/_outcome.html"


def first_error(form) -> str:
    """The first validation message of a form, for a one-line answer."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return _("The form was not sent correctly. Reload the page and try again.")


def own_list(list_id: int) -> ShoppingList:
    """A list of the person's company; another company's (or none) is a 404."""
    return or_404(lists.load(current_user, list_id))


# --- the index ----------------------------------------------------------------------------


def index_page(form: ListForm | None = None, code: int = 200):
    """The company's lists, paginated, with the form to start one."""
    q, page = search_arg(), page_arg()
    listing = paginate(lists.index(current_user, q), page, PER_PAGE)
    return render(
        "shop/lists/index.html",
        "shop/lists/_index.html",
        code=code,
        listing=listing,
        counts=lists.line_counts(listing.items),
        q=q,
        form=form or ListForm(formdata=None),
        may_edit=lists.may_edit(current_user),
    )


@bp.route("/lists", endpoint="lists")
def list_index():
    """The company's shared lists: name, lines, last change and by whom."""
    return index_page()


@bp.route("/lists", methods=["POST"])
@permission_required(EDIT)
def list_create():
    """Start a list (name, optional description); the new list's page follows."""
    form = ListForm()
    if not form.validate_on_submit():
        return index_page(form, 422)
    created = attempt(
        lambda: lists.create(
            current_user, form.name.data, form.description.data or "", ip=client_ip()
        )
    )
    if created.refused:
        form.refuse(created.refusal)
        return index_page(form, 422)
    flash(_("The list “%(name)s” is created: add products to it.", name=created.value.name), "info")
    return redirect(url_for("shop.list", list_id=created.value.id))


# --- one list -----------------------------------------------------------------------------


def page_context(lst: ShoppingList, **extra) -> dict:
    """Everything the list page shows: the live region and the forms around it."""
    return {
        **list_context(lst, current_user),
        "add_form": LineForm(formdata=None),
        "cart_form": ToCartForm(formdata=None),
        "import_form": ImportForm(formdata=None),
        "edit_form": ListForm(formdata=None, obj=lst),
        **extra,
    }


def list_page(lst: ShoppingList, code: int = 200, **extra):
    return render("shop/lists/show.html", code=code, **page_context(lst, **extra))


def region_answer(list_id: int, *, notice: str = "", error: str = ""):
    """After a change on the list: htmx gets the region and the outcome beside it; a plain
    form the page again (an error) or a redirect to it."""
    lst = own_list(list_id)
    if is_htmx():
        return render(
            LIST,
            code=422 if error else 200,
            oob=[(OUTCOME, {"notice": notice, "error": error})],
            **list_context(lst, current_user),
        )
    if error:
        return list_page(lst, 422, error=error)
    flash(notice, "info")
    return redirect(url_for("shop.list", list_id=list_id))


@bp.route("/lists/<int:list_id>", endpoint="list")
def show(list_id: int):
    """One list: its lines with their offers as the person's group sees them."""
    return list_page(own_list(list_id))


@bp.route("/lists/<int:list_id>.csv")
def list_export(list_id: int):
    """The list as CSV: prices and availability as the person's group sees them."""
    lst = own_list(list_id)
    return csv_download(f"list-{lst.id}", lists.EXPORT_HEADER, lists.export_rows(lst, current_user))


@bp.route("/lists/<int:list_id>/edit", methods=["POST"])
@permission_required(EDIT)
def list_edit(list_id: int):
    """Rename the list or change its description."""
    lst = own_list(list_id)
    form = ListForm()
    if not form.validate_on_submit():
        return list_page(lst, 422, edit_form=form, editing=True)
    renamed = attempt(
        lambda: lists.rename(current_user, lst, form.name.data, form.description.data or "")
    )
    if renamed.refused:
        form.refuse(renamed.refusal)
        return list_page(own_list(list_id), 422, edit_form=form, editing=True)
    flash(
        _("The list is now called “%(name)s”.", name=form.name.data)
        if renamed.value
        else _("Nothing to change."),
        "info",
    )
    return redirect(url_for("shop.list", list_id=list_id))


@bp.route("/lists/<int:list_id>/delete", methods=["POST"])
@permission_required(EDIT)
def list_delete(list_id: int):
    """Delete the list with its lines (the products stay in the catalogue)."""
    lst = own_list(list_id)
    checked_csrf()
    name = lst.name
    deleted = attempt(lambda: lists.delete(current_user, lst, ip=client_ip()))
    if deleted.refused:
        flash(deleted.message, "error")
        return redirect(url_for("shop.list", list_id=list_id))
    flash(_("The list “%(name)s” is deleted.", name=name), "info")
    return go(url_for("shop.lists"))


@bp.route("/lists/<int:list_id>/duplicate", methods=["POST"])
@permission_required(EDIT)
def list_duplicate(list_id: int):
    """A copy of the list with all its lines; the copy's page follows."""
    lst = own_list(list_id)
    checked_csrf()
    copied = attempt(lambda: lists.duplicate(current_user, lst, ip=client_ip()))
    if copied.refused:
        flash(copied.message, "error")
        return redirect(url_for("shop.list", list_id=list_id))
    flash(
        _("“%(name)s” is a copy of “%(source)s”.", name=copied.value.name, source=lst.name), "info"
    )
    return redirect(url_for("shop.list", list_id=copied.value.id))


# --- lines --------------------------------------------------------------------------------


def added_notice(line, merged: bool, quantity: int, lst_name: str) -> str:
    sku = line.product.sku
    if merged:
        return _(
            "%(quantity)s more × %(sku)s: the list now has %(total)s.",
            quantity=i18n.format_number(quantity),
            sku=sku,
            total=i18n.format_number(line.quantity),
        )
    return _(
        "%(quantity)s × %(sku)s is on “%(list)s”.",
        quantity=i18n.format_number(quantity),
        sku=sku,
        list=lst_name,
    )


@bp.route("/lists/<int:list_id>/lines", methods=["POST"])
@permission_required(EDIT)
def list_line_add(list_id: int):
    """Add a product by its SKU (a product already on the list gets the quantity added)."""
    lst = own_list(list_id)
    form = LineForm()

    def refused_form():
        if is_htmx():
            return render(ADD_LINE, code=422, lst=lst, add_form=form)
        return list_page(lst, 422, add_form=form)

    if not form.validate_on_submit():
        return refused_form()
    quantity = form.quantity.data
    added = attempt(
        lambda: lists.add_line(current_user, list_id, form.sku.data, quantity, form.note.data)
    )
    if added.refused:
        form.refuse(added.refusal)
        return refused_form()
    line, merged = added.value
    notice = added_notice(line, merged, quantity, lst.name)
    lst = own_list(list_id)
    if is_htmx():
        return render(
            ADD_LINE,
            oob=[(LIST, list_context(lst, current_user))],
            lst=lst,
            add_form=LineForm(formdata=None),
            notice=notice,
        )
    flash(notice, "info")
    return redirect(url_for("shop.list", list_id=list_id))


@bp.route("/lists/<int:list_id>/lines/<int:line_id>", methods=["POST"])
@permission_required(EDIT)
def list_line(list_id: int, line_id: int):
    """Change a line's quantity and note."""
    own_list(list_id)
    form = LineEditForm()
    if not form.validate_on_submit():
        return region_answer(list_id, error=first_error(form))
    changed = attempt(
        lambda: lists.change_line(
            current_user, list_id, line_id, form.quantity.data, form.note.data or ""
        )
    )
    if changed.refused:
        return region_answer(list_id, error=changed.message)
    line = changed.value
    return region_answer(
        list_id,
        notice=_(
            "%(sku)s: quantity %(quantity)s.",
            sku=line.product.sku,
            quantity=i18n.format_number(line.quantity),
        ),
    )


@bp.route("/lists/<int:list_id>/lines/<int:line_id>/remove", methods=["POST"])
@permission_required(EDIT)
def list_line_remove(list_id: int, line_id: int):
    """Take a line off the list."""
    own_list(list_id)
    checked_csrf()
    removed = attempt(lambda: lists.remove_line(current_user, list_id, line_id))
    if removed.refused:
        return region_answer(list_id, error=removed.message)
    return region_answer(list_id, notice=_("%(sku)s is off the list.", sku=removed.value.sku))


# --- into the cart, from a product, CSV in -------------------------------------------------


@bp.route("/lists/<int:list_id>/cart", methods=["POST"])
@permission_required("shop.cart")
def list_to_cart(list_id: int):
    """Every available line into the cart, times the number of kits; each refusal said."""
    lst = own_list(list_id)
    form = ToCartForm()

    def answer(code: int, **extra):
        if is_htmx():
            return render(TO_CART, code=code, lst=lst, cart_form=form, **extra)
        return list_page(lst, code, cart_form=form, **extra)

    if not form.validate_on_submit():
        return answer(422)
    done = attempt(lambda: lists.to_cart(current_user, list_id, form.multiplier.data))
    if done.refused:
        form.refuse(done.refusal)
        return answer(422)
    outcome = done.value
    return answer(200 if outcome.added else 422, outcome=outcome)


def list_choices() -> list[tuple[int, str]]:
    """The company's lists to choose from, by name."""
    stmt = lists.visible(current_user).order_by(ShoppingList.name).limit(500)
    return [(lst.id, lst.name) for lst in db.session.scalars(stmt)]


def sold_product(raw) -> Product:
    """The product a form or query names; not a number is a 400, not sold to the person's
    group (archived, or hidden from it) a 404."""
    if not isinstance(raw, int):
        abort(400, description=_("Choose a product to add to a list."))
    shown = visibility.offered(current_user.company.group_id)
    return or_404(db.session.scalar(select(Product).where(Product.id == raw, *shown)))


@bp.route("/lists/add", methods=["GET", "POST"])
@permission_required(EDIT)
def list_add_product():
    """A product from its page or a catalogue card onto one of the company's lists: the
    choice of list (GET: the control's body for htmx, a page without JavaScript), then
    the product added (POST)."""
    if request.method == "GET":
        raw = request.args.get("product_id", "")
        product = sold_product(
            int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 13 else None
        )
        context = {"product": product, "choices": list_choices()}
        if is_htmx():
            return render(ADD_TO_LIST, **context)
        return render("shop/lists/add_to_list.html", **context)
    form = AddProductForm()
    product = sold_product(form.product_id.data if not form.product_id.errors else None)
    error = notice = ""
    target = None
    if form.validate_on_submit():
        target = own_list(form.list_id.data)
        quantity = form.quantity.data
        added = attempt(lambda: lists.add_product(current_user, target.id, product.id, quantity))
        if added.refused:
            error = added.message
        else:
            line, merged = added.value
            notice = added_notice(line, merged, quantity, target.name)
    else:
        error = first_error(form)
    if is_htmx():
        return render(
            ADD_TO_LIST,
            code=422 if error else 200,
            product=product,
            choices=list_choices(),
            notice=notice,
            error=error,
            added_to=target if notice else None,
        )
    flash(error or notice, "error" if error else "info")
    if error or target is None:
        return redirect(url_for("shop.list_add_product", product_id=product.id))
    return redirect(url_for("shop.list", list_id=target.id))


@bp.route("/lists/<int:list_id>/import", methods=["POST"])
@permission_required(EDIT)
def list_import(list_id: int):
    """Lines from a CSV file (sku, quantity, note), added to the list or replacing it;
    every wrong line is reported by its number."""
    lst = own_list(list_id)
    form = ImportForm()
    if not form.validate_on_submit():
        return list_page(lst, 422, import_form=form, import_error=first_error(form))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return list_page(lst, 422, import_form=form, import_error=_("Choose a CSV file to import."))
    data = upload.read(lists.MAX_IMPORT_BYTES + 1)
    imported = attempt(
        lambda: lists.import_csv(
            current_user, list_id, data, replace=bool(form.replace.data), ip=client_ip()
        )
    )
    if imported.refused:
        return list_page(lst, 422, import_form=form, import_error=imported.message)
    report = imported.value
    return list_page(own_list(list_id), 200 if report.applied else 422, report=report)
