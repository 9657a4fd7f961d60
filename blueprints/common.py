"""What every view shares: page-or-fragment rendering, face guards, template globals."""

from collections.abc import Sequence
from functools import wraps
from typing import TypeVar

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.routing import IntegerConverter, ValidationError

from blueprints.forms import EmptyForm
from blueprints.fragments import navigation
from core import access, audit, catalog, exports, numbers, settings
from core.errors import NotFound
from core.models import Company, utcnow
from extensions import login_manager

T = TypeVar("T")


def is_htmx() -> bool:
    """A request made by htmx (and not a boosted full navigation)."""
    return (
        request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"
    )


def render(
    page: str,
    fragment: str | None = None,
    *,
    code: int = 200,
    oob: Sequence[tuple[str, dict]] = (),
    **context,
) -> Response:
    """The one answer of a view: the full page, or only its fragment for htmx.

    `code` is the HTTP status (`status` is left to the templates: many lists filter by
    one). The page includes the fragment, so its markup exists once. For htmx, `oob` adds
    other regions, each (template, context), rendered with `oob=True` so that they swap
    out of band. `Vary: HX-Request` keeps caches from serving one in place of the other.
    """
    htmx = is_htmx()
    html = render_template(fragment if fragment and htmx else page, **context)
    if htmx:
        html += "".join(render_template(template, **extra, oob=True) for template, extra in oob)
    response = make_response(html, code)
    response.vary.add("HX-Request")
    return response


def csv_download(name: str, header: list[str], rows, *, dated: bool = True) -> Response:
    """A CSV attachment streamed as it is written (UTF-8 with a byte-order mark)."""
    filename = f"{name}-{utcnow():%Y-%m-%d}.csv" if dated else f"{name}.csv"
    response = Response(stream_with_context(exports.stream(header, rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def audited_csv(what: str, header: list[str], rows, filters: dict) -> Response:
    """An export as a dated CSV, recording who took it out and with which filters (the
    audit summary is kept in English, as data).

    The boundary commits the record before the file streams (after_request runs first).
    """
    shown = {key: value for key, value in filters.items() if value not in ("", None)}
    summary = f"{what} exported" + (
        " (" + ", ".join(f"{k} {v}" for k, v in shown.items()) + ")" if shown else ""
    )
    audit.record(
        "export.downloaded",
        actor=current_user._get_current_object(),
        summary=summary,
        after={"export": what.lower(), **{k: str(v) for k, v in shown.items()}},
        ip=client_ip(),
    )
    return csv_download(what.lower(), header, rows)


def unchanged() -> Response:
    """204 for a region that asked whether it is still current, and is."""
    response = make_response("", 204)
    response.vary.add("HX-Request")
    return response


def or_404(found: T | None) -> T:
    """The record a loader found, or the one 404 (not there, or not the viewer's to see)."""
    if found is None:
        raise NotFound()
    return found


def go(url: str, htmx_status: int = 200):
    """Navigate: a redirect for a plain form, HX-Redirect for htmx (a whole new page)."""
    if is_htmx():
        response = make_response("", htmx_status)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url)


def checked_csrf() -> None:
    """A bare POST's token (CSRFProtect checks it first; this keeps the views explicit)."""
    if not EmptyForm().validate_on_submit():
        abort(400, description=_("The form has expired. Reload the page and try again."))


def client_ip() -> str:
    """The address of the person's client: the peer, or what the PROXY_HOPS trusted
    proxies say it is (app.register_proxies), never a header anyone could send."""
    return (request.remote_addr or "")[:45]


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a mail or a document: PORTAL_URL, never the request's Host."""
    return current_app.config["PORTAL_URL"] + url_for(endpoint, **values)


def invitation_link(token: str) -> str:
    """The activation link mailed to an invited person."""
    return external_url("auth.accept_invitation", token=token)


def page_arg() -> int:
    """The `page` query parameter of a list; malformed is a clear 400."""
    try:
        return catalog.parse_page(request.args.get("page"))
    except catalog.BadQuery as exc:
        abort(400, description=str(exc))


def choice_arg(name: str, allowed, message: str, default: str = "") -> str:
    """A query parameter that must be one of `allowed` (empty means "any"); else a 400.

    `message` (a lazy message, translated here) may name the value as %(value)s, or as
    {value} in the older style; it is cut short, never echoed whole.
    """
    value = request.args.get(name, "") or default
    if value and value not in allowed:
        text, shown = str(message), value[:40]
        if "%(value)s" in text:
            text = text.replace("%(value)s", shown)
        else:
            text = text.replace("{value}", shown)
        abort(400, description=text)
    return value


def search_arg() -> str:
    """The `q` query parameter of a list; too long is a clear 400."""
    try:
        return catalog.parse_query(request.args.get("q"), current_app.config["MAX_QUERY_LENGTH"])
    except catalog.BadQuery as exc:
        abort(400, description=str(exc))


def listing_args() -> tuple[str, str, int]:
    """(q, sort, page) of a list page; a malformed value is a clear 400, never a 500."""
    try:
        return catalog.parse_listing(request.args, current_app.config["MAX_QUERY_LENGTH"])
    except catalog.BadQuery as exc:
        abort(400, description=str(exc))


def id_value(raw: str, malformed: str) -> int:
    """A record's number sent as a parameter: not digits is a 400 saying `malformed`; a
    number beyond any record's (core.numbers.MAX_ID) names nothing, the one 404."""
    if not raw.isascii() or not raw.isdigit():
        abort(400, description=malformed)
    return or_404(numbers.record_id(raw))


def company_arg(malformed: str | None = None) -> Company | None:
    """The `company` parameter: one of the person's companies, a 404 for any other."""
    raw = request.args.get("company", "")
    if not raw:
        return None
    malformed = malformed or _("The company filter is a company number.")
    return or_404(access.load_company(current_user, id_value(raw, malformed)))


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a record's number, which the database can hold.

    Werkzeug's converter takes any run of digits, and an id beyond what SQLite binds
    (2^63) answered 500; one beyond core.numbers.MAX_ID names no record on any database,
    so the route does not match: the one 404, before any guard or query. ASCII digits
    only: `\\d` would also read "١٢٣" as 123.
    """

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(
            map,
            fixed_digits,
            min=0 if min is None else min,
            max=numbers.MAX_ID if max is None else max,
            signed=signed,
        )

    def to_python(self, value: str) -> int:
        if len(value) > len(str(self.max)):  # never int() of a thousand digits
            raise ValidationError()
        return super().to_python(value)


def require_face(kind: str):
    """A blueprint guard: signed in, and of the face's kind (staff or customer), else 403."""

    def guard():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.kind != kind:
            abort(403)
        return None

    return guard


def permission_required(permission: str):
    """Route guard: a whole module outside one's permissions is a 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not access.can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator


def reader_required(area: str):
    """Route guard: whoever may not read a trade area's records from their face gets a 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not access.may_read(current_user, area):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def template_globals() -> dict:
    """`can(...)` for the signed-in person, navigation, the CSRF token for htmx, and
    settings that pages quote (read only when a template calls them)."""

    def can(permission: str) -> bool:
        return access.can(current_user, permission)

    def sees_prices() -> bool:
        return access.sees_prices(current_user)

    return {
        "can": can,
        "sees_prices": sees_prices,
        "csrf_token": generate_csrf,
        "nav_items": navigation.nav_items,
        "invitation_hours": settings.invitation_hours,
    }
