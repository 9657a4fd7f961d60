"""Sign-in and sign-out views."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from core import accounts, sessions
from extensions import db

from . import bp
from .forms import LoginForm

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
    """Sign in with email and password."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            current_app.logger.warning(
                "sign-in failed for %r from %s", form.email.data, request.remote_addr
            )
            form.password.errors.append(GENERIC_FAILURE)
            return render_template("auth/login.html", form=form), 200
        session.clear()
        sessions.open_session(
            user,
            hours=current_app.config["SESSION_ABSOLUTE_HOURS"],
            ip=request.remote_addr or "",
            user_agent=request.user_agent.string,
        )
        login_user(user)
        db.session.commit()
        return redirect(safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out: the session ends on the server, so the old cookie is worthless."""
    if current_user.is_authenticated:
        sessions.end_session(current_user.session_token)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
