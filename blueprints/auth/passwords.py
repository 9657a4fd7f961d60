"""Passwords: a reset link for who forgot theirs, and changing one's own."""

from flask import current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.boundary import attempt
from blueprints.common import client_ip, external_url, render
from core import people, throttle
from core.i18n import N_

from . import bp, signing
from .forms import ChangePasswordForm, ForgotPasswordForm, SetPasswordForm


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a link to choose a new password.

    The answer is the same whether or not an account has the address, and as quick: the
    mail leaves from the job queue, never from the request (core.mail). Requests are
    throttled per client (429) and per account (beyond the limit nothing more is sent, and
    the answer stays the same).
    """
    form = ForgotPasswordForm()
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    if not form.validate_on_submit():
        return render("auth/forgot.html", form=form, code=422 if form.errors else 200)
    email, ip = form.email.data.strip().lower(), client_ip()
    wait = throttle.client_wait("reset", ip)
    if wait:
        message = throttle.wait_message(wait, "reset requests from your network")
        return render("auth/forgot.html", form=form, throttled=message, code=429)
    if not throttle.wait_minutes("reset", email, ip):
        people.request_password_reset(
            email,
            minutes=minutes,
            link=lambda token: external_url("auth.reset_password", token=token),
            ip=ip,
        )
    throttle.note("reset", email, ip, succeeded=False)  # every request counts
    return render("auth/forgot.html", form=form, sent=email, minutes=minutes)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """The link from the mail: choose a new password; every session of the person ends."""
    reset = people.find_password_reset(token)
    if reset is None:
        return render("auth/reset_closed.html", code=410)
    form = SetPasswordForm()
    if form.validate_on_submit():
        done = attempt(lambda: people.reset_password(reset, form.password.data, ip=client_ip()))
        if not done.refused:
            flash(
                _("Your password is changed and every session of yours has ended: sign in."),
                "info",
            )
            return redirect(url_for("auth.login"))
        form.refuse(done.refusal)
    code = 422 if form.errors or form.form_errors else 200
    return render("auth/reset.html", form=form, person=reset.user, code=code)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; every other session of one's own ends. Wrong current
    passwords are throttled like sign-in failures."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return render("auth/password.html", form=form, code=422 if form.errors else 200)
    email, ip = current_user.email, client_ip()
    wait = throttle.wait_minutes("password_change", email, ip)
    if wait:
        message = throttle.wait_message(wait, "wrong current passwords")
        return render("auth/password.html", form=form, throttled=message, code=429)
    changed = attempt(
        lambda: people.change_password(
            current_user,
            form.current.data,
            form.password.data,
            keep_token=current_user.session_token,
            ip=ip,
        )
    )
    if not changed.refused:
        throttle.note("password_change", email, ip, succeeded=True)
        flash(_("Your password is changed. Your other sessions have been signed out."), "info")
        return redirect(signing.home_for(current_user))
    form.refuse(changed.refusal)
    if getattr(changed.refusal, "field", None) == "current":
        signing.wrong_password(N_("Wrong current password"))
    return render("auth/password.html", form=form, code=422)
