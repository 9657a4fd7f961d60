"""The API's description: the OpenAPI 3.1 document and a readable reference page, both
generated from the routes and their schemas (flask-smorest), answered to anyone.

The document is built once per process from the app's routes, then completed with what
every route shares: the problems it may answer, the ETag and 304 of every read, the
Idempotency-Key of the routes that create orders and payments. The reference page is
rendered on the server from that same document (no script, no outside asset).
"""

import copy

from flask import current_app, json, render_template
from flask_babel import gettext as _

from . import bp
from .guard import PUBLIC_ENDPOINTS
from .problems import DESCRIPTIONS, MEDIA_TYPE, TYPES

INTRODUCTION = """\
JSON over the same rules as the portal's pages. Authenticate with a personal access token,
made on your account page (/account/tokens) or with `flask --app app token create`, sent as
`Authorization: Bearer <token>`. A token acts with exactly its owner's permissions, customers
and customer group, and may be read-only.

Lists are paged by cursor: pass a page's `next_cursor` as `cursor` (and `limit`, 1 to 100)
to get the next one; null means there is no more. Every error is an RFC 9457 problem
(`application/problem+json`). Every successful read carries an `ETag`: send it back as
`If-None-Match` to get 304 when nothing changed. Creating an order or a payment takes an
`Idempotency-Key` header: a retry with the same key and body returns the first answer.
Each token may make API_RATE_LIMIT requests per window (120 a minute by default); beyond
that the answer is 429 with `Retry-After`. Prices and amounts are decimal strings, times UTC.
"""

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
PROBLEM_RESPONSES = {
    "401": "No valid token",
    "403": "The token's owner may not use this, or the token is read-only",
    "404": "Not there, or not among the records the token's owner may see",
    "422": "The request did not validate, or the rules refuse it",
    "429": "Too many requests for this token: see Retry-After",
}


def id_parameter(converter) -> dict:
    """A record's id in a path: a positive whole number."""
    return {"type": "integer", "minimum": 1, "maximum": converter.max}


def _problem_ref(description: str) -> dict:
    return {
        "description": description,
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def build(app) -> dict:
    """The OpenAPI document of this app's API."""
    from flask_smorest.spec.plugins import FlaskPlugin

    api = app.extensions["portal_api"]
    document = copy.deepcopy(api.spec.to_dict())
    responses = document.setdefault("components", {}).setdefault("responses", {})
    responses["Problem"] = _problem_ref("A problem (RFC 9457)")
    for answer in responses.values():  # flask-smorest's own, described as JSON
        if "content" in answer and "application/json" in answer["content"]:
            answer["content"] = {MEDIA_TYPE: answer["content"]["application/json"]}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = document["paths"].get(FlaskPlugin.flaskpath2openapi(rule.rule), {})
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = path.get(method.lower())
            if operation is None:
                continue
            operation.setdefault("operationId", rule.endpoint.removeprefix("api."))
            answers = operation.setdefault("responses", {})
            if rule.endpoint in PUBLIC_ENDPOINTS:
                operation["security"] = []
            else:
                for code, description in PROBLEM_RESPONSES.items():
                    answers.setdefault(code, _problem_ref(description))
            if method == "GET":
                operation.setdefault("parameters", []).append(
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "required": False,
                        "description": "The ETag of an earlier answer: 304 if unchanged.",
                        "schema": {"type": "string"},
                    }
                )
                answers.setdefault("304", {"description": "Not modified since that ETag"})
                ok = answers.get("200")
                if ok is not None:
                    ok.setdefault("headers", {})["ETag"] = {
                        "description": "The answer's entity tag",
                        "schema": {"type": "string"},
                    }
            if getattr(view, "idempotent", False):
                from .idempotency import PARAMETER

                operation.setdefault("parameters", []).append(dict(PARAMETER))
    return document


def document() -> dict:
    """This process's document, built at its first request."""
    app = current_app._get_current_object()
    found = app.extensions.get("portal_api_document")
    if found is None:
        found = app.extensions["portal_api_document"] = build(app)
    return found


@bp.route("/openapi.json")
@bp.doc(tags=["Reference"], summary="This document (OpenAPI 3.1)")
def openapi():
    """The OpenAPI 3.1 document of this API."""
    return current_app.response_class(
        json.dumps(document(), ensure_ascii=False), mimetype="application/json"
    )


@bp.route("/docs")
@bp.doc(tags=["Reference"], summary="The reference, as a page")
def reference():
    """The API's reference as a readable page, rendered from the OpenAPI document."""
    spec = document()
    operations = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue  # the path's own parameters
            operations.append((operation.get("tags", [""])[0], path, method.upper(), operation))
    groups: dict[str, list] = {}
    for tag, path, method, operation in sorted(operations, key=lambda o: (o[0], o[1], o[2])):
        groups.setdefault(tag, []).append((path, method, operation))
    problems = [(name, _(title), _(DESCRIPTIONS[name])) for name, title in TYPES.items()]
    return render_template(
        "api/reference.html",
        spec=spec,
        groups=groups,
        problems=problems,
        schemas=spec.get("components", {}).get("schemas", {}),
    )
