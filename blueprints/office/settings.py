"""Portal settings: seller details on invoices, default thresholds and terms, invitations,
VAT and the seller's time zone."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from blueprints.boundary import attempt
from blueprints.common import choice_arg, client_ip, is_htmx, permission_required, render
from blueprints.fragments import administration
from core import settings

from . import bp
from .settings_forms import (
    InvitationsForm,
    SellerForm,
    TermsForm,
    ThresholdsForm,
    TimezoneForm,
    VatForm,
)


def saved_forms() -> dict:
    """Each section's form filled with what is saved now."""
    seller = settings.seller()
    few, many = settings.stock_thresholds()
    country, rates = settings.vat()
    return {
        "seller": SellerForm(
            formdata=None, data={key: seller.get(key, "") for key in settings.SELLER_FIELDS}
        ),
        "thresholds": ThresholdsForm(formdata=None, data={"few_from": few, "many_from": many}),
        "terms": TermsForm(formdata=None, data={"days": settings.payment_terms_days()}),
        "invitations": InvitationsForm(formdata=None, data={"hours": settings.invitation_hours()}),
        "vat": VatForm(
            formdata=None,
            data={
                "country": country,
                "standard": f"{rates['standard'].normalize():f}",
                "reduced": f"{rates['reduced'].normalize():f}",
            },
        ),
        "timezone": TimezoneForm(formdata=None, data={"timezone": settings.timezone()}),
    }


def page_context(**extra) -> dict:
    """What the settings page shows: every section's form, the saved seller and limits."""
    return {
        "forms": saved_forms(),
        "seller": settings.seller(),
        "notices": {},
        "limits": {
            "days": settings.MAX_PAYMENT_DAYS,
            "hours": settings.MAX_INVITATION_HOURS,
            "lengths": settings.SELLER_LENGTHS,
        },
        **extra,
    }


def answer(section: str, *, form=None, notice: str = "", status: int = 200):
    """After a section was posted: that section for htmx, else a redirect or the page."""
    context = page_context(notices={section: notice})
    if form is not None:  # keep what was typed, with the messages next to it
        context["forms"][section] = form
    if status == 200 and not is_htmx():
        flash(notice, "info")
        return redirect(url_for("office.settings", _anchor=f"settings-{section}"))
    return render(
        "office/settings/index.html", f"office/settings/_{section}.html", code=status, **context
    )


def save(section: str, form, change, notice: str):
    """Validate one section and apply it all, or nothing at all with the reasons."""
    if form.validate_on_submit():
        saved = attempt(lambda: change(form))
        if not saved.refused:
            return answer(section, notice=notice if saved.value else _("Nothing to change."))
        form.refuse(saved.refusal)
    return answer(section, form=form, status=422)


@bp.route("/settings", endpoint="settings")  # `settings` is the module core.settings here
@permission_required("settings.view")
def settings_page():
    """The portal's settings, each section with its own form for those who may edit; for
    htmx, one `section` alone (what a section re-fetches when someone else saved it)."""
    sections = administration.SECTIONS.values()  # each a live region of its own
    section = choice_arg("section", sections, _l("There is no settings section “%(value)s”."))
    fragment = f"office/settings/_{section}.html" if section else None
    return render("office/settings/index.html", fragment, **page_context())


@bp.post("/settings/seller")
@permission_required("settings.edit")
def settings_seller():
    """Save the seller's details; invoices shown or printed from now on carry them."""
    return save(
        "seller",
        SellerForm(),
        lambda f: settings.set_seller(f.values(), actor=current_user, ip=client_ip()),
        _("Seller details saved. Invoices show them from now on."),
    )


@bp.post("/settings/thresholds")
@permission_required("settings.edit")
def settings_thresholds():
    """Save the stock levels new customer groups start with."""
    return save(
        "thresholds",
        ThresholdsForm(),
        lambda f: settings.set_stock_thresholds(
            f.few_from.data, f.many_from.data, actor=current_user, ip=client_ip()
        ),
        _("Stock levels saved. New customer groups start with them; existing ones keep theirs."),
    )


@bp.post("/settings/terms")
@permission_required("settings.edit")
def settings_terms():
    """Save the payment terms new customer companies start with."""
    return save(
        "terms",
        TermsForm(),
        lambda f: settings.set_payment_terms(f.days.data, actor=current_user, ip=client_ip()),
        _("Payment terms saved. New customers start with them; existing ones keep theirs."),
    )


@bp.post("/settings/invitations")
@permission_required("settings.edit")
def settings_invitations():
    """Save how long new invitation links stay valid."""
    return save(
        "invitations",
        InvitationsForm(),
        lambda f: settings.set_invitation_hours(f.hours.data, actor=current_user, ip=client_ip()),
        _(
            "Invitation lifetime saved. Links sent from now on use it; "
            "links already sent keep theirs."
        ),
    )


@bp.post("/settings/vat")
@permission_required("settings.edit")
def settings_vat():
    """Save the seller's country and VAT rates; orders placed from now on take them."""
    return save(
        "vat",
        VatForm(),
        lambda f: settings.set_vat(
            f.country.data, f.standard.data, f.reduced.data, actor=current_user, ip=client_ip()
        ),
        _("VAT saved. Orders placed from now on take these rates; placed orders keep theirs."),
    )


@bp.post("/settings/timezone")
@permission_required("settings.edit")
def settings_timezone():
    """Save the seller's time zone: times are shown in it to whoever has not picked one."""
    return save(
        "timezone",
        TimezoneForm(),
        lambda f: settings.set_timezone(f.timezone.data, actor=current_user, ip=client_ip()),
        _("Time zone saved. Times are shown in it to everyone who has not chosen their own."),
    )
