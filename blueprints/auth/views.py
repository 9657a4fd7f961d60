"""Sign-in and sign-out, activation links, and changing one's password."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from blueprints.boundary import attempt, keep_changes
from blueprints.common import client_ip, or_404, render
from core import accounts, audit, people, sessions, throttle

from . import bp
from .forms import ChangePasswordForm, LoginForm, SetPasswordForm

GENERIC_FAILURE = "The email or password is not correct."


def home_for(user) -> str:
    """Staff land in the back office, customer people in the storefront."""
    return url_for("office.dashboard") if user.is_staff else url_for("shop.catalog")


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative '//'."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.route("/")
def index():
    """The site root sends each person to their face of the portal."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password; throttled per account and per address."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_for(current_user))
    form = LoginForm()
    if not form.validate_on_submit():
        return render("auth/login.html", form=form)
    email, ip = form.email.data.strip().lower(), client_ip()
    wait = throttle.wait_minutes(email, ip)
    if wait:
        audit.record(
            "auth.throttled",
            actor=None,
            actor_email=email[:254],
            ip=ip,
            summary=f"Sign-in refused for {wait} more minute(s)",
        )
        keep_changes()  # the refusal is audited although the answer is an error
        message = (
            f"Too many sign-in attempts. Wait {wait} minute{'s' if wait != 1 else ''} "
            "and try again."
        )
        return render("auth/login.html", form=form, throttled=message, code=429)
    user = accounts.authenticate(email, form.password.data)
    if user is None:
        current_app.logger.warning("sign-in failed for %r from %s", email, ip)
        throttle.note(email, ip, succeeded=False)
        audit.record(
            "auth.sign_in_failed",
            actor=None,
            actor_email=email[:254],
            ip=ip,
            summary="Wrong email or password",
        )
        form.password.errors.append(GENERIC_FAILURE)
        return render("auth/login.html", form=form)
    throttle.note(email, ip, succeeded=True)
    session.clear()
    sessions.open_session(
        user,
        hours=current_app.config["SESSION_ABSOLUTE_HOURS"],
        ip=ip,
        user_agent=request.user_agent.string,
    )
    login_user(user)
    audit.record("auth.sign_in", actor=user, target=user, ip=ip, summary=f"{user.email} signed in")
    return redirect(safe_next(request.args.get("next")) or home_for(user))


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out: the session ends on the server, so the old cookie is worthless."""
    if current_user.is_authenticated:
        sessions.end_session(current_user, current_user.session_token)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """The activation link: the invited person sets their own password, once."""
    invitation, status = people.find_invitation(token)
    or_404(invitation)
    if status != "pending":
        messages = {
            "accepted": "This link has already been used. Sign in with your password.",
            "revoked": "This invitation was withdrawn. Ask for a new one if you need access.",
            "expired": "This invitation has expired. Ask for a new one.",
        }
        return render("auth/invitation_closed.html", message=messages[status], code=410)
    form = SetPasswordForm()
    if form.validate_on_submit():
        accepted = attempt(lambda: people.accept(invitation, form.password.data, ip=client_ip()))
        if not accepted.refused:
            logout_user()
            session.clear()
            flash(f"Welcome, {accepted.value.name}. Your account is ready: sign in.", "info")
            return redirect(url_for("auth.login"))
        form.password.errors.append(accepted.message)
    return render("auth/accept.html", form=form, person=invitation.user)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; every other session of one's own ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        changed = attempt(
            lambda: people.change_password(
                current_user,
                form.current.data,
                form.password.data,
                keep_token=current_user.session_token,
                ip=client_ip(),
            )
        )
        if not changed.refused:
            flash("Your password is changed. Your other sessions have been signed out.", "info")
            return redirect(home_for(current_user))
        field = form.current if "current password" in changed.message else form.password
        field.errors.append(changed.message)
    return render("auth/password.html", form=form, code=200 if not form.errors else 422)
