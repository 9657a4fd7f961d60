"""One's own account: who one is, one's roles, the password, two-factor sign-in, and
the language and time zone one reads the portal in."""

from functools import cache

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required

from blueprints.boundary import attempt
from blueprints.common import client_ip, render
from blueprints.forms import EmptyForm
from core import access, accounts, i18n, settings, throttle, two_factor, webhooks
from core.i18n import N_

from . import bp, signing
from .forms import CodeForm, ConfirmPasswordForm, PreferencesForm


@cache
def zone_choices() -> tuple[tuple[str, str], ...]:
    """The zones one may pick, as options (reading tzdata's list costs ~15 ms: once)."""
    return tuple((zone, zone) for zone in settings.timezones())


def preferences_form(form: PreferencesForm | None = None) -> PreferencesForm:
    """The language and time zone form, its choices filled in: the languages named in
    their own words, the zones by their IANA names; first, what applies without a choice."""
    if form is None:
        form = PreferencesForm(formdata=None)
        form.language.data = current_user.language or ""
        form.timezone.data = current_user.timezone or ""
    form.language.choices = [
        ("", _("Your browser's language")),
        *((code, name, {"lang": code}) for code, name in i18n.LANGUAGES.items()),
    ]
    form.timezone.choices = [
        ("", _("The seller's time zone (%(zone)s)", zone=settings.timezone())),
        *zone_choices(),
    ]
    return form


def account_context(preferences: PreferencesForm | None = None, **extra) -> dict:
    """What the account page shows about one's sign-in, language and time zone."""
    enrolled = two_factor.is_enrolled(current_user)
    return {
        "enrolled": enrolled,
        "required": access.must_use_two_factor(current_user),
        "remaining": two_factor.remaining_codes(current_user) if enrolled else 0,
        "off_form": ConfirmPasswordForm(formdata=None),
        "codes_form": EmptyForm(formdata=None),
        "preferences_form": preferences or preferences_form(),
        "shown_zone": current_user.timezone or settings.timezone(),
        "may_keep_webhooks": webhooks.may_manage(current_user),
        **extra,
    }


@bp.route("/account")
@login_required
def account():
    """One's account: name, email, roles, password, and two-factor sign-in."""
    return render("auth/account.html", **account_context())


def enrol_page(secret: str, form: CodeForm, code: int = 200):
    uri = two_factor.provisioning_uri(current_user, secret)
    return render(
        "auth/enrol.html",
        form=form,
        qr=two_factor.qr_svg(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=False,
        action=url_for("auth.account_two_factor"),
        code=code,
    )


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def account_two_factor():
    """Turn two-factor sign-in on: scan the QR code, type the code the app shows."""
    if two_factor.is_enrolled(current_user):
        flash(_("Two-factor sign-in is already on."), "info")
        return redirect(url_for("auth.account"))
    form = CodeForm()
    secret = two_factor.pending_secret(current_user)
    if request.method == "GET" or secret is None:
        return enrol_page(attempt(lambda: two_factor.start(current_user)).value, form)
    if form.validate_on_submit():
        confirmed = attempt(
            lambda: two_factor.confirm(current_user, form.code.data, ip=client_ip())
        )
        if not confirmed.refused:
            return render(
                "auth/recovery_codes.html", codes=confirmed.value, next_url=url_for("auth.account")
            )
        form.refuse(confirmed.refusal)
    return enrol_page(secret, form, code=422)


@bp.post("/account/two-factor/recovery-codes")
@login_required
def account_recovery_codes():
    """Ten new recovery codes, shown once; the old ones stop working."""
    if not EmptyForm().validate_on_submit():
        flash(_("The form has expired. Reload the page and try again."), "error")
        return redirect(url_for("auth.account"))
    renewed = attempt(lambda: two_factor.regenerate_codes(current_user, ip=client_ip()))
    if renewed.refused:
        flash(renewed.message, "error")
        return redirect(url_for("auth.account"))
    return render("auth/recovery_codes.html", codes=renewed.value, next_url=url_for("auth.account"))


@bp.post("/account/two-factor/off")
@login_required
def account_two_factor_off():
    """Turn two-factor sign-in off, with one's password (throttled like a password change)."""
    form = ConfirmPasswordForm()
    email, ip = current_user.email, client_ip()
    if not form.validate_on_submit():
        return render("auth/account.html", **account_context(off_form=form), code=422)
    wait = throttle.wait_minutes("password_change", email, ip)
    if wait:
        message = throttle.wait_message(wait, "wrong passwords")
        return render(
            "auth/account.html", **account_context(off_form=form, throttled=message), code=429
        )
    if not accounts.password_matches(current_user, form.password.data):
        signing.wrong_password(N_("Wrong password when turning two-factor sign-in off"))
        form.password.errors.append(_("That is not your password."))
        return render("auth/account.html", **account_context(off_form=form), code=422)
    done = attempt(lambda: two_factor.turn_off(current_user, ip=ip))
    flash(done.message or _("Two-factor sign-in is off."), "error" if done.refused else "info")
    return redirect(url_for("auth.account"))


@bp.post("/account/preferences")
@login_required
def account_preferences():
    """Choose one's language and time zone; the next page is in them. A value not on the
    lists is refused (422), nothing kept."""
    form = preferences_form(PreferencesForm())
    if not form.validate_on_submit():
        return render("auth/account.html", **account_context(preferences=form), code=422)
    saved = attempt(
        lambda: accounts.set_preferences(
            current_user, language=form.language.data, zone=form.timezone.data
        )
    )
    if saved.refused:
        form.refuse(saved.refusal)
        return render("auth/account.html", **account_context(preferences=form), code=422)
    refresh()  # the language of this request was chosen before: the notice is in the new one
    flash(_("Your language and time zone are saved."), "info")
    return redirect(url_for("auth.account"))
