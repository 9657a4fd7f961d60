"""One's own account: who one is, one's roles, the password, and two-factor sign-in."""

from flask import flash, redirect, request, url_for
from flask_login import current_user, login_required

from blueprints.boundary import attempt
from blueprints.common import client_ip, render
from blueprints.forms import EmptyForm
from core import access, accounts, throttle, two_factor

from . import bp, signing
from .forms import CodeForm, ConfirmPasswordForm


def account_context(**extra) -> dict:
    """What the account page shows about one's sign-in."""
    enrolled = two_factor.is_enrolled(current_user)
    return {
        "enrolled": enrolled,
        "required": access.must_use_two_factor(current_user),
        "remaining": two_factor.remaining_codes(current_user) if enrolled else 0,
        "off_form": ConfirmPasswordForm(formdata=None),
        "codes_form": EmptyForm(formdata=None),
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
        flash("Two-factor sign-in is already on.", "info")
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
        flash("The form has expired. Reload the page and try again.", "error")
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
        signing.wrong_password("Wrong password when turning two-factor sign-in off")
        form.password.errors.append("That is not your password.")
        return render("auth/account.html", **account_context(off_form=form), code=422)
    done = attempt(lambda: two_factor.turn_off(current_user, ip=ip))
    flash(done.message or "Two-factor sign-in is off.", "error" if done.refused else "info")
    return redirect(url_for("auth.account"))
