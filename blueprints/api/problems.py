"""Every error of the API as an RFC 9457 problem: `application/problem+json` with type,
title, status and detail, and the wrong fields of a request that did not validate.

The portal's error handlers (app.register_errorhandlers, blueprints.boundary) hand an
error met under /api/ to `answer()` instead of rendering a page: a route that does not
exist, a method it does not take, a record out of scope, a refusal of the domain, a
database that went away and anything unexpected all come back as a problem.
"""

from flask import current_app, json, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from core.i18n import N_

PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"

# The problems this API names beyond a bare HTTP status ("about:blank"): the reference
# page describes each at /api/v1/docs#problem-<name>.
TYPES = {
    "validation": N_("The request did not validate"),
    "unauthenticated": N_("No valid API token"),
    "read-only-token": N_("The token is read-only"),
    "rate-limited": N_("Too many requests for this token"),
    "idempotency-mismatch": N_("Idempotency key reused for another request"),
    "idempotency-in-progress": N_("A request with this idempotency key is in progress"),
    "refused": N_("The request was refused"),
}
DESCRIPTIONS = {
    "validation": N_(
        "A parameter or a field of the body is missing, of the wrong type or out of range: "
        "`errors` names each one with its messages."
    ),
    "unauthenticated": N_(
        "The request carries no `Authorization: Bearer` token, or one that is unknown, "
        "revoked, expired, or whose owner (or their company) no longer has access."
    ),
    "read-only-token": N_("A read-only token may only read (GET): it changes nothing."),
    "rate-limited": N_(
        "The token made more requests than its limit in the current window: wait the "
        "seconds `Retry-After` gives."
    ),
    "idempotency-mismatch": N_(
        "The Idempotency-Key was used before with another request (another route or "
        "body): use a new key for a new request."
    ),
    "idempotency-in-progress": N_(
        "Another request with the same Idempotency-Key is being answered right now: try "
        "again in a moment to receive its answer."
    ),
    "refused": N_(
        "The rules do not allow this change (a quantity, a status, a stock level): "
        "`detail` says why, in the token owner's language; nothing was changed."
    ),
}


def is_api_request() -> bool:
    """Whether the request is for the API (its errors are problems, never pages)."""
    return request.path.startswith(PREFIX)


def type_uri(name: str | None) -> str:
    """The problem's type: a link to its description in the reference, or about:blank."""
    if name is None:
        return "about:blank"
    return f"/api/v1/docs#problem-{name}"


def problem(
    status: int,
    detail: str = "",
    *,
    kind: str | None = None,
    title: str | None = None,
    errors: list | None = None,
    headers: dict | None = None,
    **extra,
):
    """One problem response."""
    if title is None:
        title = _(TYPES[kind]) if kind else _http_title(status)
    body = {"type": type_uri(kind), "title": str(title), "status": status}
    if detail:
        body["detail"] = str(detail)
    body["instance"] = request.path
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class Problem(HTTPException):
    """An error of the API's own raised from a view or a guard: answered as a problem."""

    def __init__(self, status: int, detail: str = "", **problem_args):
        super().__init__(description=str(detail))
        self.code = status
        self.problem_args = problem_args

    def get_response(self, environ=None, scope=None):
        return problem(self.code, self.description, **self.problem_args)


def not_found() -> Problem:
    """The one 404: not there, or not the token owner's to see."""
    from blueprints.boundary import NOT_FOUND

    return Problem(404, _(NOT_FOUND))


def refused(refusal) -> Problem:
    """A refusal of the domain as a 422 problem (its field named when it has one)."""
    field = getattr(refusal, "field", None)
    errors = [{"in": "json", "field": field, "messages": [str(refusal)]}] if field else None
    return Problem(422, str(refusal), kind="refused", errors=errors)


def _http_title(status: int) -> str:
    from werkzeug.http import HTTP_STATUS_CODES

    return _(HTTP_STATUS_CODES.get(status, "Unknown Error"))


def field_errors(messages) -> list[dict]:
    """webargs' nested messages ({location: {field: [message]}}) as a flat list of
    {location, field, messages}, field paths dotted."""
    found = []

    def walk(node, path, location):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, str(key)], location)
        elif isinstance(node, list) and node and all(isinstance(m, str) for m in node):
            found.append({"in": location, "field": ".".join(path), "messages": node})
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, [*path, str(index)], location)
        else:
            found.append({"in": location, "field": ".".join(path), "messages": [str(node)]})

    for location, fields in (messages or {}).items():
        walk(fields, [], location)
    return found


def answer(error: HTTPException):
    """The problem for an HTTP error met by an API request."""
    if isinstance(error, Problem):
        return error.get_response()
    code = error.code or 500
    if code == 304:
        return current_app.response_class(status=304)
    headers = {
        name: value
        for name, value in error.get_headers()
        if name.lower() not in ("content-type", "content-length")
    }
    data = getattr(error, "data", None) or {}
    if "messages" in data:  # webargs: the parameters or the body did not validate
        return problem(
            422,
            _("Correct the fields listed in `errors` and send the request again."),
            kind="validation",
            errors=field_errors(data["messages"]),
            headers=headers,
        )
    from blueprints.boundary import fixed_description

    detail = error.description or ""
    if not getattr(error, "keeps_description", False):
        detail = fixed_description(code, detail)
    if code >= 500:
        detail = detail if code == 503 else _("Something went wrong on our side.")
    if detail == getattr(type(error), "description", None):
        detail = _(detail)  # Werkzeug's own sentence, in the reader's language if known
    if code == 422:
        return problem(422, detail, kind="refused", headers=headers)
    return problem(code, detail, headers=headers)
