"""The trade portal's application factory: `flask --app app run` finds create_app()."""

import gc
import logging
from pathlib import Path

from flask import Flask, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from config import build_config
from core.i18n import N_
from extensions import csrf, db, login_manager, migrate, sock

BASE_DIR = Path(__file__).resolve().parent
# Werkzeug's names of the statuses the portal answers with, for the catalogue: the error
# page shows an error's name translated (templates/errors/error.html).
HTTP_ERROR_NAMES = (
    N_("Bad Request"),
    N_("Unauthorized"),
    N_("Forbidden"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Not Acceptable"),
    N_("Request Timeout"),
    N_("Conflict"),
    N_("Gone"),
    N_("Length Required"),
    N_("Precondition Failed"),
    N_("Request Entity Too Large"),
    N_("Request URI Too Long"),
    N_("Unsupported Media Type"),
    N_("Requested Range Not Satisfiable"),
    N_("Unprocessable Entity"),
    N_("Too Many Requests"),
    N_("Request Header Fields Too Large"),
    N_("Internal Server Error"),
    N_("Not Implemented"),
    N_("Bad Gateway"),
    N_("Service Unavailable"),
    N_("Gateway Timeout"),
)


def create_app(config: dict | None = None) -> Flask:
    """Build the portal: configuration, extensions, blueprints, error pages, commands."""
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(build_config(Path(app.instance_path), config))
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_acting(app)  # after the request boundary: see blueprints/acting.init_acting
    register_template_helpers(app)
    register_commands(app)
    register_jobs(app)
    register_security_headers(app)
    register_admission(app)
    register_proxies(app)  # outermost: the others see the client ProxyFix names
    logging.getLogger("portal").setLevel(logging.INFO)
    if app.config["PORTAL_ENV"] == "production":
        # What start-up built (modules, the app, templates) lives as long as the process:
        # moved out of the collector's sight, full collections no longer rescan it
        # (bench/catalog.py --freeze-gc: ~110 ms pauses down to under 10 ms).
        gc.freeze()
    return app


def register_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto/-Host only from the PROXY_HOPS proxies in front.

    With none (the default) forwarded headers are ignored: anyone could send them, and a
    forged address would dodge the throttles or blame another client.
    """
    hops = app.config["PROXY_HOPS"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_acting(app: Flask) -> None:
    """Staff opening the storefront as a customer person, checked on every request."""
    from blueprints.acting import init_acting

    init_acting(app)


def register_admission(app: Flask) -> None:
    """At most ADMISSION_LIMIT requests at once per process; past a bounded wait, 503."""
    from blueprints.admission import init_admission

    init_admission(app)


def register_extensions(app: Flask) -> None:
    import core.models  # noqa: F401  (every model registered before Alembic looks)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    sock.init_app(app)
    login_manager.init_app(app)

    from blueprints.i18n import init_i18n

    init_i18n(app)

    from blueprints.auth.loader import configure_login

    configure_login(app, login_manager)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from core.db_sqlite import configure_sqlite

        with app.app_context():
            configure_sqlite(db.engine)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("mysql"):
        from core.db_mariadb import configure_mariadb

        with app.app_context():  # a restart of the server is waited for, not failed
            configure_mariadb(db.engine, app.config["DB_CONNECT_WAIT_SECONDS"])


def register_blueprints(app: Flask) -> None:
    import blueprints.fragments  # noqa: F401  (every live region kind registers)
    from blueprints.api import init_api
    from blueprints.auth import bp as auth_bp
    from blueprints.common import IdConverter
    from blueprints.live import bp as live_bp
    from blueprints.live import init_live
    from blueprints.office import bp as office_bp
    from blueprints.shop import bp as shop_bp

    # Before any route is added: every <int:...> is an id the database can hold, else 404.
    app.url_map.converters["int"] = IdConverter
    init_api(app)  # first: its token guard runs before every other request hook
    app.register_blueprint(auth_bp)
    app.register_blueprint(office_bp, url_prefix="/office")
    app.register_blueprint(shop_bp, url_prefix="/shop")
    app.register_blueprint(live_bp)
    init_live(app)


def register_errorhandlers(app: Flask) -> None:
    """One page per HTTP error; htmx requests get the bare message to show in a toast.

    The request boundary commits or rolls back each request and turns the domain's
    refusals into 422 and 404 answers rendered here.
    """
    from blueprints.api.problems import answer as api_problem
    from blueprints.api.problems import is_api_request
    from blueprints.boundary import fixed_description, init_boundary

    def render_error(error: HTTPException):
        if request_ctx.url_adapter is not None and is_api_request():
            return api_problem(error)  # the API answers problems (RFC 9457), never pages
        code = error.code or 500
        description = error.description
        if not getattr(error, "keeps_description", False):  # a refusal that says why
            description = fixed_description(code, error.description)
        if isinstance(error, RequestEntityTooLarge) and (
            error.description == RequestEntityTooLarge.description
        ):
            # Werkzeug's words say nothing a person can act on: say what the limit is.
            from core.photos import size_label

            limit = size_label(app.config["MAX_CONTENT_LENGTH"])
            photo = size_label(app.config["PHOTO_MAX_BYTES"])
            description = _(
                "The upload is larger than the %(limit)s a form may send. Photos may be at "
                "most %(photo)s each: make the picture smaller and try again.",
                limit=limit,
                photo=photo,
            )
        if request_ctx.url_adapter is None:
            # The request never reached routing (a Host not in TRUSTED_HOSTS): no page can
            # be built for it, so the answer is the bare reason.
            return str(description), code, {"Content-Type": "text/plain; charset=utf-8"}
        htmx = request.headers.get("HX-Request") == "true"
        template = "errors/_message.html" if htmx else "errors/error.html"
        return render_template(template, error=error, description=description), code

    app.register_error_handler(HTTPException, render_error)
    init_boundary(app, render_error)


def register_template_helpers(app: Flask) -> None:
    from blueprints.common import template_globals
    from blueprints.filters import FILTERS

    app.jinja_env.filters.update(FILTERS)
    app.context_processor(template_globals)


def register_commands(app: Flask) -> None:
    from cli import register

    register(app)


def register_jobs(app: Flask) -> None:
    """Background jobs (core.jobs). Without Redis, threads of this process run them: they
    start with the first request and take up what an earlier process left undone."""
    if app.config["JOBS_INLINE"] or app.config.get("REDIS_URL"):
        return  # run as they are handed over, or by `flask --app app worker`
    from core import jobs

    @app.before_request
    def start_jobs() -> None:
        if "jobs" not in app.extensions:
            jobs.queue_of(app)


def register_security_headers(app: Flask) -> None:
    from blueprints.headers import apply_security_headers

    app.after_request(apply_security_headers)
