"""Flask-Login wiring: the cookie's id is a server-side session token."""

from flask import Flask, current_app, redirect, request, url_for
from flask_babel import gettext
from flask_login import LoginManager

from core import sessions
from core.i18n import N_


def configure_login(app: Flask, manager: LoginManager) -> None:
    manager.login_view = "auth.login"
    manager.login_message = N_("Please sign in to continue.")
    manager.localize_callback = gettext  # flashed in the language of the request
    manager.login_message_category = "info"
    # The server-side session already binds the token; Flask-Login's own
    # "strong" protection would sign people out on every address change.
    manager.session_protection = "basic"

    app.extensions["kept_sessions"] = sessions.KeptSessions()

    @manager.user_loader
    def load_user(token: str):
        # The login manager is one object for every app of the process, and its loader
        # the one of the app made last: each request takes its own app's kept sessions
        # and hub (a closure over the first app's would serve it another app's).
        # The generation is read before the session: a change committed in between makes
        # what is read now one not to be reused.
        kept = current_app.extensions["kept_sessions"]
        hub = current_app.extensions.get("live_hub")
        generation = hub.access_state() if hub is not None else None
        return sessions.resolve(
            token,
            idle_minutes=current_app.config["SESSION_IDLE_MINUTES"],
            kept=kept,
            generation=generation,
        )

    @manager.unauthorized_handler
    def unauthorized():
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request") == "true":
            # A login page swapped into a table cell helps nobody: send the whole page there.
            response = current_app.response_class(status=401)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)
