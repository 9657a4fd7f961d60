"""Webhooks: one's endpoints (staff) or one's company's (customers), and their delivery logs.

Staff with `webhooks.manage` keep their own endpoints; a customer company's people with
`shop.webhooks` (decision-makers) keep the company's together. A new endpoint's signing
secret, and a rotated one, is shown once, on the page that made it. Every change is
audited (core.webhooks); the delivery log follows deliveries live.
"""

from functools import wraps

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.boundary import attempt
from blueprints.common import checked_csrf, client_ip, go, or_404, page_arg, render
from blueprints.forms import EmptyForm
from core import webhooks
from core.pagination import paginate
from extensions import db

from . import bp
from .webhooks_forms import EndpointForm

PER_PAGE = 25


def managing(view):
    """Route guard: a signed-in person who may keep webhooks (403 otherwise)."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not webhooks.may_manage(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _me():
    return current_user._get_current_object()


def list_page(form: EndpointForm | None = None, *, code: int = 200):
    endpoints = list(db.session.scalars(webhooks.visible_endpoints(current_user)))
    return render(
        "auth/webhooks/list.html",
        "auth/webhooks/_endpoints.html",
        code=code,
        endpoints=endpoints,
        form=form or EndpointForm(formdata=None, owner=_me()),
        type_label=webhooks.type_label,
    )


def endpoint_page(endpoint, *, form=None, new_secret: str = "", code: int = 200):
    """The endpoint's page; its delivery log alone for htmx (the log's live re-fetch),
    except when it shows a new secret: that is always the whole page."""
    listing = paginate(webhooks.deliveries_of(endpoint), page_arg(), PER_PAGE)
    if form is None:
        form = EndpointForm(formdata=None, owner=endpoint.owner, obj=endpoint)
    return render(
        "auth/webhooks/endpoint.html",
        None if new_secret else "auth/webhooks/_deliveries.html",
        code=code,
        endpoint=endpoint,
        form=form,
        listing=listing,
        button_form=EmptyForm(formdata=None),
        new_secret=new_secret,
        type_label=webhooks.type_label,
        state_label=webhooks.state_label,
        owner_active=endpoint.owner.status == "active",
    )


@bp.route("/account/webhooks")
@managing
def webhooks_list():
    """Your webhook endpoints (a company's, for its people), and a form for a new one."""
    return list_page()


@bp.route("/account/webhooks", methods=["POST"])
@managing
def webhook_create():
    """Register an endpoint; its signing secret is shown once, on the page that answers."""
    form = EndpointForm(owner=_me())
    if not form.validate_on_submit():
        return list_page(form, code=422)
    made = attempt(
        lambda: webhooks.create(
            _me(),
            form.url.data,
            form.event_types.data,
            description=form.description.data,
            ip=client_ip(),
        )
    )
    if made.refused:
        form.refuse(made.refusal)
        return list_page(form, code=422)
    endpoint, secret = made.value
    return endpoint_page(endpoint, new_secret=secret, code=201)


def _endpoint(endpoint_id: int):
    return or_404(webhooks.load_visible(current_user, endpoint_id))


@bp.route("/account/webhooks/<int:endpoint_id>")
@managing
def webhook_page(endpoint_id: int):
    """One endpoint: its settings, its actions, and its delivery log (newest first)."""
    return endpoint_page(_endpoint(endpoint_id))


@bp.route("/account/webhooks/<int:endpoint_id>", methods=["POST"])
@managing
def webhook_update(endpoint_id: int):
    """Change an endpoint's address, description or events."""
    endpoint = _endpoint(endpoint_id)
    form = EndpointForm(owner=endpoint.owner)
    if not form.validate_on_submit():
        return endpoint_page(endpoint, form=form, code=422)
    changed = attempt(
        lambda: webhooks.update(
            endpoint,
            actor=_me(),
            url=form.url.data,
            event_types=form.event_types.data,
            description=form.description.data,
            ip=client_ip(),
        )
    )
    if changed.refused:
        form.refuse(changed.refusal)
        return endpoint_page(endpoint, form=form, code=422)
    flash(_("The endpoint is saved."), "info")
    return _back(endpoint)


def _back(endpoint):
    """To the endpoint's page (a redirect, or HX-Redirect for htmx)."""
    return go(url_for("auth.webhook_page", endpoint_id=endpoint.id))


def _action(endpoint_id: int, work, done: str):
    """A bare POST on one endpoint: check the token, do it, say so, back to its page."""
    endpoint = _endpoint(endpoint_id)
    checked_csrf()
    outcome = attempt(lambda: work(endpoint))
    if outcome.refused:
        flash(outcome.message, "error")
    elif done:
        flash(done, "info")
    return outcome, endpoint


@bp.route("/account/webhooks/<int:endpoint_id>/switch", methods=["POST"])
@managing
def webhook_switch(endpoint_id: int):
    """Switch an endpoint on (its count of failures starts again) or off."""
    on = request.form.get("on") == "1"
    done = _("The endpoint is on.") if on else _("The endpoint is off: nothing is sent to it.")
    __, endpoint = _action(
        endpoint_id, lambda e: webhooks.switch(e, on, actor=_me(), ip=client_ip()), done
    )
    return _back(endpoint)


@bp.route("/account/webhooks/<int:endpoint_id>/test", methods=["POST"])
@managing
def webhook_test(endpoint_id: int):
    """Send a test event now; the log shows how the endpoint answered."""
    __, endpoint = _action(
        endpoint_id,
        lambda e: webhooks.send_test(e, actor=_me(), ip=client_ip()),
        _("A test event is on its way; its line in the log shows the answer."),
    )
    return _back(endpoint)


@bp.route("/account/webhooks/<int:endpoint_id>/rotate", methods=["POST"])
@managing
def webhook_rotate(endpoint_id: int):
    """A new signing secret, shown once; the old one signs nothing more."""
    outcome, endpoint = _action(
        endpoint_id, lambda e: webhooks.rotate(e, actor=_me(), ip=client_ip()), ""
    )
    return _back(endpoint) if outcome.refused else endpoint_page(endpoint, new_secret=outcome.value)


@bp.route("/account/webhooks/<int:endpoint_id>/remove", methods=["POST"])
@managing
def webhook_remove(endpoint_id: int):
    """Remove an endpoint and its log; nothing more is sent to it."""
    outcome, endpoint = _action(
        endpoint_id, lambda e: webhooks.remove(e, actor=_me(), ip=client_ip()), ""
    )
    if outcome.refused:
        return _back(endpoint)
    flash(_("The endpoint %(url)s is removed.", url=endpoint.url), "info")
    return go(url_for("auth.webhooks_list"))


@bp.route("/account/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>")
@managing
def webhook_delivery(endpoint_id: int, delivery_id: int):
    """One delivery: what was sent, how many tries, and the endpoint's last answer."""
    endpoint = _endpoint(endpoint_id)
    delivery = or_404(webhooks.load_delivery(endpoint, delivery_id))
    return render(
        "auth/webhooks/delivery.html",
        endpoint=endpoint,
        delivery=delivery,
        payload=webhooks.pretty(delivery.payload),
        button_form=EmptyForm(formdata=None),
        type_label=webhooks.type_label,
        state_label=webhooks.state_label,
    )


@bp.route(
    "/account/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend", methods=["POST"]
)
@managing
def webhook_resend(endpoint_id: int, delivery_id: int):
    """Send a delivery again, as it was (the same `webhook-id`)."""
    endpoint = _endpoint(endpoint_id)
    delivery = or_404(webhooks.load_delivery(endpoint, delivery_id))
    checked_csrf()
    outcome = attempt(lambda: webhooks.resend(delivery, actor=_me(), ip=client_ip()))
    if outcome.refused:
        flash(outcome.message, "error")
    else:
        flash(_("The event is being sent again."), "info")
    return go(url_for("auth.webhook_delivery", endpoint_id=endpoint.id, delivery_id=delivery.id))
