"""Promotions: time window, products or categories, a discount and visibility per group."""

from datetime import timedelta

from flask import abort, flash, redirect, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints.boundary import apply, attempt
from blueprints.common import (
    checked_csrf,
    choice_arg,
    client_ip,
    go,
    or_404,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from blueprints.forms import EmptyForm
from core import access
from core import promotions as service
from core.models import Category, CustomerGroup, Product, Promotion, PromotionGroup, utcnow
from core.pagination import paginate
from extensions import db

from . import bp
from .promotions_forms import PromotionForm, promotion_form

PER_PAGE = 25


# Loading --------------------------------------------------------------------------------


def load_promotion(promotion_id: int) -> Promotion:
    """One promotion with what its page shows; an unknown number is a 404."""
    found = db.session.scalar(
        select(Promotion)
        .where(Promotion.id == promotion_id)
        .options(
            selectinload(Promotion.products),
            selectinload(Promotion.categories),
            selectinload(Promotion.group_terms).joinedload(PromotionGroup.group),
        )
    )
    return or_404(found)


def all_groups() -> list[CustomerGroup]:
    """Every customer group, by name: each gets a row of terms in the form."""
    return list(db.session.scalars(select(CustomerGroup).order_by(CustomerGroup.name)))


def all_categories() -> list[Category]:
    """Main categories, each followed by its subcategories, in catalogue order."""
    found = list(db.session.scalars(select(Category).order_by(Category.position, Category.id)))
    children: dict[int | None, list[Category]] = {}
    for category in found:
        children.setdefault(category.parent_id, []).append(category)
    ordered: list[Category] = []

    def walk(parent_id):
        for category in children.get(parent_id, []):
            ordered.append(category)
            walk(category.id)

    walk(None)
    return ordered


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg("status", service.STATUSES, _("There is no promotion status “{value}”."))


def _percent(value) -> str:
    """12.50 as "12.5": a discount as a person would type it."""
    return f"{value.normalize():f}"


def form_data(promotion: Promotion) -> dict:
    """A promotion as its edit form shows it (its times in UTC: the form shows them in the
    person's zone)."""
    data = {
        "name": promotion.name,
        "description": promotion.description,
        "starts_at": promotion.starts_at,
        "ends_at": promotion.ends_at,
        "skus": "\n".join(sorted(p.sku for p in promotion.products)),
        "categories": [c.id for c in promotion.categories],
    }
    for term in promotion.group_terms:
        data[f"discount_{term.group_id}"] = _percent(term.discount_percent)
        data[f"visible_{term.group_id}"] = term.is_visible
    return data


def new_defaults() -> dict:
    """A week from now (to the minute), switched on."""
    now = utcnow().replace(second=0, microsecond=0)
    return {"starts_at": now, "ends_at": now + timedelta(days=7), "is_active": True}


def same_minute(posted, stored):
    """The stored time when the form posted it back unchanged (the input shows minutes only).

    Otherwise saving a promotion whose times carry seconds would move its window.
    """
    if posted is not None and posted == stored.replace(second=0, microsecond=0):
        return stored
    return posted


def chosen_categories(form: PromotionForm) -> list[Category]:
    """The categories ticked in the form (their ids were checked against the choices)."""
    ids = set(form.categories.data or ())
    return [c for c in all_categories() if c.id in ids]


def product_link(product: Product) -> str:
    """Where a product of the promotion leads: the back-office list, for those who may open it."""
    if access.can(current_user, "products.view"):
        return url_for("office.products", q=product.sku)
    return ""


def page_context(form: PromotionForm, promotion: Promotion | None = None) -> dict:
    """What the new and edit pages show next to the form."""
    context = {
        "form": form,
        "promotion": promotion,
        "categories": all_categories(),
        "now": utcnow(),
        "statuses": service.STATUSES,
        "zone": str(get_timezone()),
    }
    if promotion is not None:
        covered = service.covered_product_ids(promotion.id)
        context["status"] = service.status_of(promotion)
        context["covered"] = len(covered)
        context["archived"] = {p.id for p in promotion.products if p.is_archived}
        context["switch_form"] = EmptyForm(formdata=None)
        context["delete_form"] = EmptyForm(formdata=None)
        context["product_link"] = product_link
    return context


# Views ----------------------------------------------------------------------------------


@bp.route("/promotions")
@permission_required("promotions.view")
def promotions():
    """Promotions by status and name, each with what it covers and its term per group."""
    q, page, status = search_arg(), page_arg(), status_arg()
    now = utcnow()
    stmt = select(Promotion).options(
        selectinload(Promotion.group_terms).joinedload(PromotionGroup.group)
    )
    if status:
        stmt = stmt.where(service.status_condition(status, now))
    if q:
        stmt = stmt.where(Promotion.name.icontains(q, autoescape=True))
    listing = paginate(
        stmt.order_by(Promotion.ends_at <= now, Promotion.starts_at.desc(), Promotion.id.desc()),
        page,
        PER_PAGE,
    )
    return render(
        "office/promotions/index.html",
        "office/promotions/_table.html",
        listing=listing,
        q=q,
        status=status,
        statuses=service.STATUSES,
        status_of=lambda p: service.status_of(p, now),
        counts=service.counts([p.id for p in listing.items]),
        percent=_percent,
        zone=str(get_timezone()),
    )


@bp.route("/promotions/new", methods=["GET", "POST"])
@permission_required("promotions.edit")
def promotion_new():
    """Create a promotion: window, products or categories, and a discount per group."""
    groups, categories = all_groups(), all_categories()
    if request.method == "GET":
        form = promotion_form(groups, categories, new=True, formdata=None, data=new_defaults())
        return render("office/promotions/new.html", **page_context(form), groups=groups)
    form = promotion_form(groups, categories, new=True)
    if form.validate_on_submit():
        created = attempt(
            lambda: service.create(
                name=form.name.data,
                description=form.description.data or "",
                starts_at=form.starts_at.data,
                ends_at=form.ends_at.data,
                products=form.products,
                categories=chosen_categories(form),
                terms=form.terms,
                is_active=form.is_active.data,
                actor=current_user,
                ip=client_ip(),
            )
        )
        if not created.refused:
            flash(_("Promotion “%(name)s” created.", name=created.value.name), "info")
            return redirect(url_for("office.promotion", promotion_id=created.value.id))
        form.refuse(created.refusal)
    return render("office/promotions/new.html", code=422, **page_context(form), groups=groups)


@bp.route("/promotions/<int:promotion_id>")
@permission_required("promotions.view")
def promotion(promotion_id: int):
    """One promotion: its terms and coverage, and for editors the form to change it."""
    found = load_promotion(promotion_id)
    groups = all_groups()
    form = promotion_form(groups, all_categories(), new=False, formdata=None, data=form_data(found))
    return render("office/promotions/show.html", **page_context(form, found), groups=groups)


@bp.post("/promotions/<int:promotion_id>")
@permission_required("promotions.edit")
def promotion_save(promotion_id: int):
    """Save a promotion's changes; the offers it covers, and those it left, change live."""
    found = load_promotion(promotion_id)
    groups = all_groups()
    form = promotion_form(groups, all_categories(), new=False)
    if form.validate_on_submit():
        saved = attempt(
            lambda: service.update(
                found,
                name=form.name.data,
                description=form.description.data or "",
                starts_at=same_minute(form.starts_at.data, found.starts_at),
                ends_at=same_minute(form.ends_at.data, found.ends_at),
                products=form.products,
                categories=chosen_categories(form),
                terms=form.terms,
                actor=current_user,
                ip=client_ip(),
            )
        )
        if not saved.refused:
            flash(_("Promotion saved.") if saved.value else _("Nothing to change."), "info")
            return redirect(url_for("office.promotion", promotion_id=promotion_id))
        form.refuse(saved.refusal)
        found = load_promotion(promotion_id)
    return render(
        "office/promotions/show.html", code=422, **page_context(form, found), groups=groups
    )


@bp.post("/promotions/<int:promotion_id>/switch")
@permission_required("promotions.edit")
def promotion_switch(promotion_id: int):
    """Switch a promotion on or off at once, keeping its window."""
    found = load_promotion(promotion_id)
    wanted = request.form.get("on", "")
    checked_csrf()
    if wanted not in ("0", "1"):
        abort(400, description=_("Choose whether to switch the promotion on or off."))
    on = wanted == "1"
    changed = apply(lambda: service.switch(found, on, actor=current_user, ip=client_ip()))
    if not changed and on:
        flash(_("“%(name)s” was already switched on.", name=found.name), "info")
    elif not changed:
        flash(_("“%(name)s” was already switched off.", name=found.name), "info")
    elif on and service.status_of(found) == "ended":
        flash(_("“%(name)s” is switched on, but its window has ended.", name=found.name), "info")
    elif on:
        flash(_("“%(name)s” is switched on.", name=found.name), "info")
    else:
        flash(_("“%(name)s” is switched off.", name=found.name), "info")
    return redirect(url_for("office.promotion", promotion_id=promotion_id))


@bp.post("/promotions/<int:promotion_id>/delete")
@permission_required("promotions.delete")
def promotion_delete(promotion_id: int):
    """Delete a promotion for good; the prices it lowered go back at once."""
    found = load_promotion(promotion_id)
    checked_csrf()
    name = found.name
    apply(lambda: service.delete(found, actor=current_user, ip=client_ip()))
    flash(_("Promotion “%(name)s” deleted.", name=name), "info")
    # The confirm dialog posts through htmx: it loads the list whole, not into the form.
    return go(url_for("office.promotions"))
