"""One's personal access tokens for the integration API (/api/v1): make, list, revoke.

A new token is shown once, on the page that made it, and never again (only its hash is
kept: core.tokens). Revoking asks for confirmation and kills the token at once.
"""

from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.boundary import attempt
from blueprints.common import checked_csrf, client_ip, go, or_404, render
from blueprints.forms import EmptyForm
from core import tokens
from core.models import utcnow

from . import bp
from .tokens_forms import TokenForm


def tokens_page(form: TokenForm | None = None, *, new_token: str = "", code: int = 200):
    """The person's tokens with their state and last use, and the form for a new one."""
    return render(
        "auth/tokens.html",
        code=code,
        form=form or TokenForm(formdata=None),
        revoke_form=EmptyForm(formdata=None),
        tokens=tokens.tokens_of(current_user),
        now=utcnow(),
        new_token=new_token,
        prefix=tokens.SCHEME,
    )


@bp.route("/account/tokens")
@login_required
def tokens_list():
    """Your API tokens: name, state, expiry and last use; a new one; revoke."""
    return tokens_page()


@bp.route("/account/tokens", methods=["POST"])
@login_required
def token_create():
    """Make a token; it is shown once, on the page that answers."""
    form = TokenForm()
    if not form.validate_on_submit():
        return tokens_page(form, code=422)
    person = current_user._get_current_object()
    made = attempt(
        lambda: tokens.create(
            person,
            form.name.data,
            read_only=form.read_only.data,
            expires_days=form.expires_days.data,
            actor=person,
            ip=client_ip(),
        )
    )
    if made.refused:
        form.refuse(made.refusal)
        return tokens_page(form, code=422)
    __, raw = made.value
    return tokens_page(new_token=raw, code=201)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def token_revoke(token_id: int):
    """Revoke one of your tokens: from this moment it opens nothing."""
    found = or_404(tokens.load_own(current_user, token_id))
    checked_csrf()
    person = current_user._get_current_object()
    revoked = attempt(lambda: tokens.revoke(found, actor=person, ip=client_ip()))
    if revoked.refused:
        flash(revoked.message, "error")
    else:
        flash(
            _("Token “%(name)s” is revoked: it no longer opens anything.", name=found.name), "info"
        )
    return go(url_for("auth.tokens_list"))
