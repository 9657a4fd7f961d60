"""Customer groups and their policy, and group prices with bulk editing."""

import hashlib

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from blueprints.boundary import apply, attempt
from blueprints.common import (
    audited_csv,
    checked_csrf,
    client_ip,
    go,
    is_htmx,
    or_404,
    page_arg,
    permission_required,
    render,
    unchanged,
)
from core import access, catalog, exports, groups, i18n, numbers, visibility
from core.models import Category, Company, CustomerGroup, Product
from extensions import db

from . import bp
from .groups_forms import BreaksForm, DiscountForm, GroupForm, HideProductForm

PER_PAGE = 50
HIDDEN_PER_PAGE = 25  # products hidden one by one, on the group's page
MAX_ROWS = 500  # rows of one submit: a page has PER_PAGE; more is not a person typing


def load_group(group_id: int) -> CustomerGroup:
    """A customer group, or a 404 (groups are not scoped: every holder of groups.view sees all)."""
    return or_404(db.session.get(CustomerGroup, group_id))


def group_companies(group: CustomerGroup) -> list[Company]:
    """The group's companies that this person may see (a sales rep: only their own)."""
    stmt = access.company_scope(
        current_user, select(Company).where(Company.group_id == group.id), Company.id
    )
    return list(db.session.scalars(stmt.order_by(Company.name)))


@bp.route("/groups", endpoint="groups")
@permission_required("groups.view")
def groups_list():
    """Every customer group with its policy, its companies and its price list size."""
    found = list(db.session.scalars(select(CustomerGroup).order_by(CustomerGroup.name)))
    return render(
        "office/groups/index.html",
        "office/groups/_table.html",
        groups=found,
        companies=groups.company_counts(current_user),
        prices=groups.price_counts(),
    )


def new_group_form() -> GroupForm:
    """A form for a new group: levels, the portal's default thresholds, nothing allowed."""
    few, many = groups.default_thresholds()
    return GroupForm(formdata=None, few_from=few, many_from=many)


def group_page(group: CustomerGroup | None, form: GroupForm, status: int = 200, **extra):
    """The page of one group (or of a new one), with its form as typed."""
    context = {"group": group, "form": form}
    if group is not None:
        context |= {
            "companies": group_companies(group),
            "total_companies": groups.companies_in(group),
            "priced": groups.price_count(group.id),
            **visibility_context(group),
        }
    return render("office/groups/group.html", code=status, **(context | extra))


@bp.route("/groups/new", methods=["GET", "POST"])
@permission_required("groups.edit")
def group_create():
    """Create a customer group with its whole policy."""
    if request.method == "GET":
        return group_page(None, new_group_form())
    form = GroupForm()
    if not form.validate_on_submit():
        return group_page(None, form, 422)
    created = attempt(lambda: groups.create(form.details(), actor=current_user, ip=client_ip()))
    if created.refused:
        form.refuse(created.refusal)
        return group_page(None, form, 422)
    group = created.value
    flash(
        _(
            "Group “%(name)s” created. Give it prices and move companies into it.",
            name=group.name,
        ),
        "info",
    )
    return redirect(url_for("office.group", group_id=group.id))


@bp.route("/groups/<int:group_id>")
@permission_required("groups.view")
def group(group_id: int):
    """One group: its policy (editable with groups.edit), its companies and its price list."""
    found = load_group(group_id)
    return group_page(found, GroupForm(formdata=None, obj=found))


@bp.route("/groups/<int:group_id>", methods=["POST"])
@permission_required("groups.edit")
def group_update(group_id: int):
    """Change a group's policy: its customers' open pages re-render with it at once."""
    found = load_group(group_id)
    form = GroupForm()
    if not form.validate_on_submit():
        return group_page(found, form, 422)
    edited = attempt(lambda: groups.edit(found, form.details(), actor=current_user, ip=client_ip()))
    if edited.refused:
        form.refuse(edited.refusal)
        return group_page(load_group(group_id), form, 422)
    flash(
        _("Group “%(name)s” saved: its customers see the change now.", name=found.name)
        if edited.value
        else _("Nothing to change."),
        "info",
    )
    return redirect(url_for("office.group", group_id=found.id))


@bp.route("/groups/<int:group_id>/delete", methods=["POST"])
@permission_required("groups.edit")
def group_delete(group_id: int):
    """Delete a group that has no companies, with its price list."""
    found = load_group(group_id)
    checked_csrf()
    name = found.name
    deleted = attempt(lambda: groups.delete_group(found, actor=current_user, ip=client_ip()))
    if deleted.refused:
        flash(deleted.message, "error")
        target = url_for("office.group", group_id=group_id)
    else:
        flash(_("Group “%(name)s” deleted.", name=name), "info")
        target = url_for("office.groups")
    return go(target, htmx_status=204)


# --- group prices ------------------------------------------------------------------------


def price_filter() -> groups.PriceFilter:
    """The filter of the price list from the query string (or from the posted form, which
    repeats it so that a save shows the same rows again); a malformed value is a 400."""
    args = request.args if request.method == "GET" else request.form
    q = (args.get("q") or "").strip()
    if len(q) > current_app.config["MAX_QUERY_LENGTH"]:
        abort(400, description=_("Search text is too long."))
    priced = args.get("priced", "")
    if priced and priced not in groups.PRICE_FILTERS:
        abort(400, description=_("There is no price filter “%(value)s”.", value=priced[:40]))
    raw = args.get("category", "")
    category = None
    if raw:
        found = numbers.record_id(raw)
        if found is None and not (raw.isascii() and raw.isdigit()):
            abort(400, description=_("The category filter is a category number."))
        category = db.session.get(Category, found) if found is not None else None
        if category is None:
            abort(400, description=_("There is no such category."))
    return groups.PriceFilter(q=q, category=category, priced=priced)


def posted_page() -> int:
    """The page of the list a form was posted from (shown again after the change)."""
    try:
        return catalog.parse_page(request.form.get("page"))
    except catalog.BadQuery:
        return 1


def plain(price) -> str:
    """A price as typed into its input: 5.20, 0.1234 (no currency sign, no thousands)."""
    if price is None:
        return ""
    whole, __, fraction = f"{price:.4f}".rstrip("0").partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def drawn(group: CustomerGroup, listing, may_edit: bool, breaks=None) -> str:
    """A fingerprint of what the price list component shows from the database. Its live
    re-fetch sends it back and is answered 204 while it is the same: a change to another
    group, or one the person just saved themselves, leaves their page (and its notice)
    as it is."""
    rows = [
        (p.id, p.sku, p.name, p.category.name if p.category else "", str(p.base_price), str(price))
        for p, price in listing.items
    ]
    shown = repr((group.name, listing.total, listing.page, listing.pages, may_edit, rows, breaks))
    return hashlib.blake2b(shown.encode(), digest_size=12).hexdigest()


def prices_context(group: CustomerGroup, flt: groups.PriceFilter, page: int, **extra) -> dict:
    """What the price list component shows: one page of rows, the filter, the bulk forms."""
    listing = groups.price_page(group, flt, page, PER_PAGE)
    categories = list(db.session.scalars(select(Category).order_by(Category.position)))
    may_edit = access.can(current_user, "groups.edit")
    __, own_breaks = groups.breaks_by_product(group, [p.id for p, __ in listing.items])
    return {
        "group": group,
        "flt": flt,
        "listing": listing,
        "categories": categories,
        "plain": plain,
        "typed": {},
        "errors": {},
        "selected": set(),
        "discount_form": DiscountForm(formdata=None),
        "may_edit": may_edit,
        "drawn": drawn(group, listing, may_edit, own_breaks),
        "own_breaks": own_breaks,
        **extra,
    }


def prices_answer(group: CustomerGroup, flt, page: int, *, notice="", status=200, **extra):
    """After a price list change: the component for htmx; a redirect or the page otherwise."""
    if status == 200 and not is_htmx():
        flash(notice, "info")
        return redirect(url_for("office.group_prices", group_id=group.id, **filter_args(flt)))
    return render(
        "office/groups/prices.html",
        "office/groups/_prices.html",
        code=status,
        **prices_context(group, flt, page, notice=notice, **extra),
    )


def filter_args(flt: groups.PriceFilter) -> dict:
    """The filter as query parameters (what links and redirects keep)."""
    args = {"q": flt.q, "category": flt.category.id if flt.category else None}
    args["priced"] = flt.priced
    return {key: value for key, value in args.items() if value}


@bp.route("/groups/<int:group_id>/prices")
@permission_required("groups.view")
def group_prices(group_id: int):
    """The group's price list: every product with its base price and group price, a page at
    a time, searchable by SKU or name, by category, with or without a group price."""
    found = load_group(group_id)
    flt, page = price_filter(), page_arg()
    context = prices_context(found, flt, page)
    if is_htmx() and request.args.get("shown") == context["drawn"]:
        return unchanged()  # the live re-fetch of a list that shows nothing new
    return render("office/groups/prices.html", "office/groups/_prices.html", **context)


@bp.route("/groups/<int:group_id>/prices", methods=["POST"])
@permission_required("groups.edit")
def group_prices_save(group_id: int):
    """Save the edited rows of a page in one go: all or nothing, with a message per wrong row."""
    found = load_group(group_id)
    checked_csrf()
    flt, page = price_filter(), posted_page()
    rows = {}
    for key, value in request.form.items():
        pid = numbers.record_id(key[6:]) if key.startswith("price-") else None
        if pid is not None:  # no product has any other number
            rows[pid] = (value[:40], request.form.get(f"was-{pid}", "")[:40])
    if len(rows) > MAX_ROWS:
        abort(400, description=_("At most %(count)s rows are saved at once.", count=MAX_ROWS))
    saved = attempt(lambda: groups.save_prices(found, rows, actor=current_user, ip=client_ip()))
    if isinstance(saved.refusal, groups.PriceRowsRefused):
        exc = saved.refusal
        # Plain text in the reader's language (a lazy message would be taken for safe HTML).
        row_errors = {pid: str(message) for pid, message in exc.errors.items()}
        typed = {pid: typed for pid, (typed, __) in rows.items()}
        skus = dict(
            db.session.execute(
                select(Product.id, Product.sku).where(Product.id.in_(list(exc.errors)))
            ).all()
        )
        # Listed above the table too: a long page need not be searched for its marked rows.
        summary = sorted((skus.get(pid, f"#{pid}"), message) for pid, message in row_errors.items())
        return prices_answer(
            found,
            flt,
            page,
            status=422,
            error=str(exc),
            errors=row_errors,
            error_rows=summary,
            typed=typed,
        )
    if saved.refused:
        return prices_answer(found, flt, page, status=422, error=saved.message)
    count = saved.value
    notice = (
        ngettext("%(num)d group price saved.", "%(num)d group prices saved.", count)
        if count
        else _("Nothing to change: no price was edited.")
    )
    return prices_answer(found, flt, page, notice=notice)


@bp.route("/groups/<int:group_id>/prices/discount", methods=["POST"])
@permission_required("groups.edit")
def group_prices_discount(group_id: int):
    """Bulk: group price = base price less X % for every product the current filter shows."""
    found = load_group(group_id)
    flt, page = price_filter(), posted_page()
    form = DiscountForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400, description=_("The form has expired. Reload the page and try again."))
        return prices_answer(found, flt, page, status=422, discount_form=form)
    discounted = attempt(
        lambda: groups.discount_from_base(
            found, form.value, flt, actor=current_user, ip=client_ip()
        )
    )
    if discounted.refused:
        if getattr(discounted.refusal, "field", None):
            form.refuse(discounted.refusal)
            return prices_answer(found, flt, page, status=422, discount_form=form)
        return prices_answer(
            found, flt, page, status=422, discount_form=form, error=discounted.message
        )
    count = discounted.value
    percent = i18n.format_number(form.value)
    notice = (
        ngettext(
            "%(num)d group price set to the base price less %(percent)s %% (%(filter)s).",
            "%(num)d group prices set to the base price less %(percent)s %% (%(filter)s).",
            count,
            percent=percent,
            filter=flt.describe(),
        )
        if count
        else _(
            "Nothing to change: every product of the filter already costs base less "
            "%(percent)s %%.",
            percent=percent,
        )
    )
    return prices_answer(found, flt, page, notice=notice)


@bp.route("/groups/<int:group_id>/prices/remove", methods=["POST"])
@permission_required("groups.edit")
def group_prices_remove(group_id: int):
    """Bulk: remove the group prices of the ticked products (the base price applies again)."""
    found = load_group(group_id)
    checked_csrf()
    flt, page = price_filter(), posted_page()
    chosen = [numbers.record_id(r) for r in request.form.getlist("selected")]
    if None in chosen:
        abort(400, description=_("The selection is a list of product numbers."))
    ids = sorted(set(chosen))
    if len(ids) > MAX_ROWS:
        abort(
            400,
            description=_(
                "At most %(count)s products are changed at once this way.", count=MAX_ROWS
            ),
        )
    removed = attempt(lambda: groups.remove_prices(found, ids, actor=current_user, ip=client_ip()))
    if removed.refused:
        return prices_answer(found, flt, page, status=422, error=removed.message)
    count = removed.value
    notice = (
        ngettext(
            "%(num)d group price removed: the base price applies.",
            "%(num)d group prices removed: the base price applies.",
            count,
        )
        if count
        else _("None of the ticked products had a group price: nothing to remove.")
    )
    return prices_answer(found, flt, page, notice=notice)


@bp.route("/groups/<int:group_id>/prices/export")
@permission_required("groups.view")
def group_prices_export(group_id: int):
    """The group's own prices as CSV with their quantity breaks (sku, group, price,
    breaks), filtered like the list: a group-prices import reads the file back."""
    found = load_group(group_id)
    flt = price_filter()
    narrowed = None
    if flt.q or flt.category is not None:
        narrowed = groups.filtered_ids(found, flt)
    header, rows = exports.group_price_rows(found, product_ids=narrowed)
    return audited_csv(
        "Group prices",
        header,
        rows,
        {
            "group": found.name,
            "search": flt.q,
            "category": flt.category.name if flt.category else "",
        },
    )


# --- one product's breaks on the group's list ---------------------------------------------


def load_priced_product(product_id: int) -> Product:
    """A product on sale, or a 404 (archived ones are off every price list)."""
    return or_404(
        db.session.scalar(select(Product).where(Product.id == product_id, Product.sold()))
    )


def breaks_page(group: CustomerGroup, product: Product, form: BreaksForm, status: int = 200):
    """The group's breaks of one product, beside the base list's, with the form as typed."""
    own = groups.group_price_of(group, product)
    return render(
        "office/groups/breaks.html",
        code=status,
        group=group,
        product=product,
        form=form,
        own_price=own,
        base_breaks=groups.breaks_of(product.id),
        may_edit=access.can(current_user, "groups.edit"),
    )


@bp.route("/groups/<int:group_id>/prices/<int:product_id>/breaks")
@permission_required("groups.view")
def group_breaks(group_id: int, product_id: int):
    """A product's quantity breaks on the group's list, beside the base list's."""
    found, product = load_group(group_id), load_priced_product(product_id)
    form = BreaksForm(formdata=None, data={"breaks": groups.breaks_of(product.id, found.id)})
    return breaks_page(found, product, form)


@bp.route("/groups/<int:group_id>/prices/<int:product_id>/breaks", methods=["POST"])
@permission_required("groups.edit")
def group_breaks_save(group_id: int, product_id: int):
    """Replace the group's breaks of one product; a wrong row keeps everything as typed."""
    found, product = load_group(group_id), load_priced_product(product_id)
    form = BreaksForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400, description=_("The form has expired. Reload the page and try again."))
        return breaks_page(found, product, form, 422)
    saved = attempt(
        lambda: groups.set_breaks(
            found, product, form.breaks.data, actor=current_user, ip=client_ip()
        )
    )
    if saved.refused:
        form.refuse(saved.refusal)
        return breaks_page(found, product, form, 422)
    flash(
        _("Quantity breaks of %(sku)s for %(group)s saved.", sku=product.sku, group=found.name)
        if saved.value
        else _("Nothing was changed."),
        "info",
    )
    return go(url_for("office.group_breaks", group_id=found.id, product_id=product.id))


# --- what the group sees ------------------------------------------------------------------


def visibility_context(group: CustomerGroup, page: int = 1, **extra) -> dict:
    """What the "What the group sees" component shows: the category tree with the hidden
    categories ticked (their subcategories hidden with them), the products hidden one by
    one a page at a time, and how many products on sale the group does not see."""
    listing = visibility.hidden_products(group, page, HIDDEN_PER_PAGE)
    if page > listing.pages:  # the last one shown again (after a removal, say)
        listing = visibility.hidden_products(group, listing.pages, HIDDEN_PER_PAGE)
    return {
        "tree": catalog.category_tree(),
        "chosen": visibility.chosen_categories(group),
        "hidden": visibility.hidden_for(group.id),
        "hidden_listing": listing,
        "hidden_on_sale": visibility.hidden_on_sale(group),
        "hide_form": HideProductForm(formdata=None),
        **extra,
    }


def visibility_answer(group: CustomerGroup, *, notice="", status=200, page=1, **extra):
    """After a change: the component for htmx; a redirect (or the page, refused) otherwise."""
    if is_htmx():
        return render(
            "office/groups/_visibility.html",
            code=status,
            group=group,
            **visibility_context(group, page, notice=notice, **extra),
        )
    if status == 200:
        flash(notice, "info")
        return redirect(url_for("office.group", group_id=group.id) + "#group-visibility")
    context = visibility_context(group, page, notice=notice, **extra)
    return group_page(group, GroupForm(formdata=None, obj=group), status, **context)


def visibility_page() -> int:
    """The page of hidden products a form was posted from, or a link asks for."""
    raw = request.values.get("page")
    try:
        return catalog.parse_page(raw)
    except catalog.BadQuery:
        return 1


@bp.route("/groups/<int:group_id>/visibility")
@permission_required("groups.view")
def group_visibility(group_id: int):
    """The group's hidden categories and products (the component alone for htmx)."""
    found = load_group(group_id)
    if is_htmx():
        return render(
            "office/groups/_visibility.html",
            group=found,
            **visibility_context(found, visibility_page()),
        )
    return group_page(
        found, GroupForm(formdata=None, obj=found), **visibility_context(found, visibility_page())
    )


@bp.route("/groups/<int:group_id>/visibility/categories", methods=["POST"])
@permission_required("groups.edit")
def group_visibility_categories(group_id: int):
    """Hide the ticked categories (with their subcategories) from the group, and show the
    others again: its customers' open pages follow at once."""
    found = load_group(group_id)
    checked_csrf()
    chosen = [numbers.record_id(raw) for raw in request.form.getlist("category")]
    if None in chosen:
        abort(400, description=_("The categories are a list of category numbers."))
    changed = attempt(
        lambda: visibility.set_categories(found, chosen, actor=current_user, ip=client_ip())
    )
    if changed.refused:
        return visibility_answer(found, status=422, error=changed.message)
    notice = (
        _(
            "Hidden categories of %(group)s saved: its customers see the change now.",
            group=found.name,
        )
        if changed.value
        else _("Nothing to change.")
    )
    return visibility_answer(found, notice=notice, page=visibility_page())


@bp.route("/groups/<int:group_id>/visibility/products", methods=["POST"])
@permission_required("groups.edit")
def group_visibility_hide(group_id: int):
    """Hide one product, by its SKU, from the group."""
    found = load_group(group_id)
    form = HideProductForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400, description=_("The form has expired. Reload the page and try again."))
        return visibility_answer(found, status=422, hide_form=form)
    sku = form.sku.data
    hidden = attempt(
        lambda: visibility.hide_product(found, sku, actor=current_user, ip=client_ip())
    )
    if hidden.refused:
        form.refuse(hidden.refusal)
        return visibility_answer(found, status=422, hide_form=form)
    notice = _(
        "%(sku)s is hidden from %(group)s: its customers no longer see it.",
        sku=hidden.value.sku,
        group=found.name,
    )
    return visibility_answer(found, notice=notice)


@bp.route("/groups/<int:group_id>/visibility/products/<int:product_id>/show", methods=["POST"])
@permission_required("groups.edit")
def group_visibility_show(group_id: int, product_id: int):
    """Show a product hidden one by one to the group again (one not hidden: a 404)."""
    found = load_group(group_id)
    checked_csrf()
    product = apply(
        lambda: visibility.show_product(found, product_id, actor=current_user, ip=client_ip())
    )
    notice = _("%(sku)s is shown to %(group)s again.", sku=product.sku, group=found.name)
    return visibility_answer(found, notice=notice, page=visibility_page())
