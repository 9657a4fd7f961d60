"""Signing in (the password, then the second factor or its compulsory enrolment), signing
out, and activation links."""

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from blueprints.boundary import attempt, keep_changes
from blueprints.common import client_ip, or_404, render
from blueprints.headers import CLEAR_SITE_DATA
from core import accounts, audit, people, sessions, throttle, two_factor
from core.access import must_use_two_factor
from core.i18n import N_

from . import bp, signing
from .forms import CodeForm, LoginForm, SetPasswordForm

GENERIC_FAILURE = _l("The email or password is not correct.")


@bp.route("/")
def index():
    """The site root sends each person to their face of the portal."""
    if current_user.is_authenticated:
        return redirect(signing.home_for(current_user))
    return redirect(url_for("auth.login"))


def throttled(kind: str, email: str, what: str):
    """A 429 page if this client has tried too often; audited, whatever the answer."""
    ip = client_ip()
    wait = throttle.wait_minutes(kind, email, ip)
    if not wait:
        return None
    audit.record(
        "auth.throttled",
        actor=None,
        actor_email=email[:254],
        ip=ip,
        summary=f"{what} refused for {wait} more minute(s)",
    )
    keep_changes()  # the refusal is audited although the answer is an error
    return throttle.wait_message(wait, f"{what.lower()}s")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password; throttled per account and client, and per client.

    A person with two-factor sign-in on (or whose role requires it) passes that step next,
    before any session exists.
    """
    if current_user.is_authenticated and request.method == "GET":
        return redirect(signing.home_for(current_user))
    form = LoginForm()
    signed_out = request.args.get("signed_out") == "1"
    if not form.validate_on_submit():
        return render("auth/login.html", form=form, signed_out=signed_out)
    email, ip = form.email.data.strip().lower(), client_ip()
    refusal = throttled("sign_in", email, "Sign-in attempt")
    if refusal:
        return render("auth/login.html", form=form, throttled=refusal, code=429)
    user = accounts.authenticate(email, form.password.data)
    if user is None:
        current_app.logger.warning("sign-in failed for %r from %s", email, ip)
        throttle.note("sign_in", email, ip, succeeded=False)
        audit.record(
            "auth.sign_in_failed",
            actor=None,
            actor_email=email[:254],
            ip=ip,
            summary=N_("Wrong email or password"),
        )
        form.password.errors.append(GENERIC_FAILURE)
        return render("auth/login.html", form=form)
    if two_factor.is_enrolled(user):
        signing.hold(user, enrol=False)
        return redirect(url_for("auth.second_factor"))
    if must_use_two_factor(user):
        signing.hold(user, enrol=True)
        return redirect(url_for("auth.enrol_second_factor"))
    return redirect(signing.open_session(user))


@bp.route("/login/two-factor", methods=["GET", "POST"])
def second_factor():
    """The second step of signing in: a code from the app, or a recovery code."""
    user = signing.held(enrol=False)
    if user is None:
        return signing.start_again()
    form = CodeForm()
    if not form.validate_on_submit():
        return render("auth/two_factor.html", form=form, code=422 if form.errors else 200)
    refusal = throttled("second_factor", user.email, "Two-factor code")
    if refusal:
        return render("auth/two_factor.html", form=form, throttled=refusal, code=429)
    if not two_factor.verify(user, form.code.data):
        throttle.note("second_factor", user.email, client_ip(), succeeded=False)
        audit.record(
            "auth.second_factor_failed",
            actor=None,
            actor_email=user.email,
            target=user,
            ip=client_ip(),
            summary=N_("Wrong or used two-factor code"),
        )
        keep_changes()  # the failure counts although the answer is an error
        form.code.errors.append(_("That code is not right, or it was used already."))
        return render("auth/two_factor.html", form=form, code=422)
    throttle.note("second_factor", user.email, client_ip(), succeeded=True)
    return redirect(signing.open_session(user, how=" with two-factor"))


@bp.route("/login/two-factor/enrol", methods=["GET", "POST"])
def enrol_second_factor():
    """A role of this person's requires two-factor sign-in: they enrol before signing in."""
    user = signing.held(enrol=True)
    if user is None:
        return signing.start_again()
    form = CodeForm()
    if request.method == "GET" or two_factor.pending_secret(user) is None:
        secret = attempt(lambda: two_factor.start(user)).value
        return render("auth/enrol.html", **enrol_context(user, secret, form))
    secret = two_factor.pending_secret(user)
    if form.validate_on_submit():
        confirmed = attempt(lambda: two_factor.confirm(user, form.code.data, ip=client_ip()))
        if not confirmed.refused:
            target = signing.open_session(user, how=" and turned two-factor sign-in on")
            return render("auth/recovery_codes.html", codes=confirmed.value, next_url=target)
        form.refuse(confirmed.refusal)  # the secret stays: a mistyped code needs no new scan
    return render("auth/enrol.html", **enrol_context(user, secret, form), code=422)


def enrol_context(user, secret: str, form: CodeForm) -> dict:
    """The enrolment page: the QR code and the same secret as text, and the code field."""
    uri = two_factor.provisioning_uri(user, secret)
    return {
        "form": form,
        "qr": two_factor.qr_svg(uri),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "required": True,
        "action": url_for("auth.enrol_second_factor"),
    }


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out: the session ends on the server, so the old cookie is worthless, and the
    browser is told to forget what it kept of the signed-in pages."""
    if current_user.is_authenticated:
        sessions.end_session(current_user, current_user.session_token)
    logout_user()
    session.clear()
    response = redirect(url_for("auth.login", signed_out=1))
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """The activation link: the invited person sets their own password, once."""
    invitation, status = people.find_invitation(token)
    or_404(invitation)
    if status != "pending":
        messages = {
            "accepted": _("This link has already been used. Sign in with your password."),
            "revoked": _("This invitation was withdrawn. Ask for a new one if you need access."),
            "expired": _("This invitation has expired. Ask for a new one."),
        }
        return render("auth/invitation_closed.html", message=messages[status], code=410)
    form = SetPasswordForm()
    if form.validate_on_submit():
        accepted = attempt(lambda: people.accept(invitation, form.password.data, ip=client_ip()))
        if not accepted.refused:
            logout_user()
            session.clear()
            flash(
                _("Welcome, %(name)s. Your account is ready: sign in.", name=accepted.value.name),
                "info",
            )
            return redirect(url_for("auth.login"))
        form.password.errors.append(accepted.message)
    return render("auth/accept.html", form=form, person=invitation.user)
