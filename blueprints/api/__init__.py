"""The integration API, /api/v1: JSON over the same services and the same policy as the
pages, for customers' purchasing systems and the seller's ERP and accounting.

Built with flask-smorest (marshmallow schemas, webargs parsing, apispec): it works with
the plain Flask app that create_app builds (an `Api` object attached with `init_app`, the
routes on one blueprint), and the OpenAPI 3.1 document is generated from the routes'
schemas, so it cannot drift from the code. flask-smorest's own error handler is not used:
the portal's handlers answer every error under /api/ as an RFC 9457 problem
(blueprints/api/problems.py).

- blueprints/api/guard.py: bearer tokens, acting as their owner; read-only tokens; rate
  limit; writes audited with the token's name.
- blueprints/api/paging.py, idempotency.py: cursor pagination, Idempotency-Key.
- ETag on every successful read (`If-None-Match` answers 304), here.
- The resources, one module per area; the document and reference page in docs.py.
"""

from flask import Flask, request
from flask_smorest import Api, Blueprint

from extensions import csrf

from . import guard
from .schemas import ProblemSchema

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class PortalApi(Api):
    """flask-smorest's Api without its error handler (the portal's answers problems)."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "Problem"

    def _register_error_handlers(self):
        """The portal's own handlers answer API errors (app.register_errorhandlers)."""


def conditional(response):
    """A successful read gets an ETag of its body; `If-None-Match` with it answers 304."""
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        response.add_etag()
        response.make_conditional(request)
    return response


def init_api(app: Flask) -> None:
    """Attach the API: its token guard runs before every other request hook (so nothing
    reads the session cookie for an API request), and its CSRF exemption (bearer only)."""
    app.before_request(guard.authenticate)
    app.config.setdefault("API_TITLE", "Trade portal API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    api = PortalApi()
    api.init_app(
        app,
        spec_kwargs={
            "info": {"description": docs.INTRODUCTION},
            "security": [{"bearerToken": []}],
            "servers": [{"url": app.config["PORTAL_URL"]}],
        },
    )
    api.spec.components.security_scheme(
        "bearerToken",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token (ptk_...), made at /account/tokens.",
        },
    )
    from blueprints.common import IdConverter

    api.register_converter(IdConverter, docs.id_parameter)
    csrf.exempt(bp)
    api.register_blueprint(bp)
    app.extensions["portal_api"] = api


bp.before_request(guard.readable_body)
bp.after_request(conditional)
bp.after_request(guard.rate_headers)
bp.after_request(guard.audit_write)

from . import (  # noqa: E402,F401  (routes register on import)
    billing,
    catalog,
    delivery,
    docs,
    orders,
    quotes,
    staff,
    webhooks,
)
