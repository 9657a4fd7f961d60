"""Command-line tasks: `flask --app app demo`, `create-admin`, `outbox`, `search-index`,
`translations`, `worker`, `mail-receive`."""

import click
from flask import Flask
from flask_migrate import upgrade


def register(app: Flask) -> None:
    register_tokens(app)

    @app.cli.command("demo")
    def demo_command():
        """Create or upgrade the schema, then load the demo data (idempotent)."""
        import demo

        upgrade()
        if demo.load():
            click.echo("Demo data loaded. Sign in with any demo account; password: demo-password")
        else:
            click.echo("Demo data is already loaded; nothing changed.")

    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option("--name", required=True, help="The administrator's full name.")
    def create_admin_command(email: str, name: str):
        """Invite the first administrator (a new, empty portal); prints the activation link."""
        from flask import url_for

        from core import people, settings
        from core.errors import Refused
        from core.transaction import committed

        upgrade()
        with app.test_request_context(base_url=app.config["PORTAL_URL"]):

            def link(token: str) -> str:
                return url_for("auth.accept_invitation", token=token, _external=True)

            try:
                person, activation = committed(
                    lambda: people.first_admin(email=email, name=name, link=link)
                )
            except Refused as exc:
                raise click.ClickException(str(exc)) from exc
            hours = settings.invitation_hours()
        click.echo(
            f"{person.email} is invited as administrator. Within {hours} hours, open this link "
            f"to choose a password; two-factor sign-in is set up at the first sign-in:\n"
            f"{activation}"
        )

    @app.cli.command("search-index")
    def search_index_command():
        """Rebuild the catalogue's search index and choose its name buckets afresh.

        Searches stay correct without it; a broad search in name order reads only its
        first buckets once they fit the catalogue. Run it after loading a catalogue in
        bulk, and now and then as the catalogue grows. The catalogue filters' index of
        specifications (core.specs_index) is rebuilt too.
        """
        from sqlalchemy import func, select

        from core import search_index, specs_index
        from core.models.catalog import product_specs, product_trigrams, search_buckets
        from extensions import db

        upgrade()
        with db.engine.begin() as conn:
            search_index.rebuild(conn)
            buckets = conn.scalar(select(func.count()).select_from(search_buckets))
            entries = conn.scalar(select(func.count()).select_from(product_trigrams))
        click.echo(f"Search index rebuilt: {entries:,} entries in {buckets:,} name buckets.")
        # The filters' index too: a bulk load by Core statements leaves it behind as well.
        with db.engine.begin() as conn:
            specs_index.rebuild(conn)
            specs = conn.scalar(select(func.count()).select_from(product_specs))
        click.echo(f"Specification index rebuilt: {specs:,} specifications.")

    @app.cli.command("translations")
    def translations_command():
        """Extract the marked messages and bring the five catalogues up to date."""
        from blueprints.i18n import update_catalogues

        for code, missing in update_catalogues().items():
            click.echo(f"{code}: {missing} messages to translate")

    @app.cli.command("outbox")
    @click.option("--to", "to_addr", default=None, help="Only mail to this address.")
    @click.option("--limit", default=10, show_default=True, help="How many, newest first.")
    def outbox_command(to_addr: str | None, limit: int):
        """Show the newest outgoing mail (development reads invitations here)."""
        from sqlalchemy import select

        from core.models import OutboxMail
        from extensions import db

        stmt = select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit)
        if to_addr:
            stmt = stmt.where(OutboxMail.to_addr == to_addr.strip().lower())
        found = list(db.session.scalars(stmt))
        if not found:
            click.echo("The outbox is empty.")
        for mail in found:
            state = "sent" if mail.sent_at else ("failed: " + mail.error if mail.error else "kept")
            click.echo(
                f"--- #{mail.id} {mail.created_at:%Y-%m-%d %H:%M} to {mail.to_addr} ({state})"
            )
            click.echo(f"Subject: {mail.subject}\n\n{mail.body}")
            for attachment in mail.attachments:
                size = len(attachment.content) / 1024
                click.echo(f"Attached: {attachment.filename} ({size:.0f} KiB)")

    @app.cli.command("worker")
    @click.option(
        "--threads",
        type=click.IntRange(1, 64),
        default=None,
        help="Jobs run at once (default: JOB_THREADS).",
    )
    def worker_command(threads: int | None):
        """Run background jobs (mail delivery, imports) from Redis until stopped.

        Needs REDIS_URL; run as many as the work needs, on any host sharing the database
        and Redis. SIGTERM or Ctrl-C stops it gracefully.
        """
        import signal
        import threading

        from core.jobs.worker import serve

        if not app.config.get("REDIS_URL"):
            raise click.ClickException(
                "The worker runs jobs from Redis: set REDIS_URL. Without it, the web "
                "process runs its jobs itself and needs no worker."
            )
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        serve(app, threads=threads or app.config["JOB_THREADS"], stop=stop, say=click.echo)

    @app.cli.command("mail-receive")
    @click.option("--host", default=None, help="Address to listen on (default: MAIL_RECEIVE_HOST).")
    @click.option(
        "--port",
        type=click.IntRange(1, 65535),
        default=None,
        help="Port to listen on (default: MAIL_RECEIVE_PORT).",
    )
    def mail_receive_command(host: str | None, port: int | None):
        """Receive replies by SMTP into conversations until stopped (core.mail_receiver).

        Takes mail only for reply+<token>@MAIL_REPLY_DOMAIN addresses of known
        conversations, from people who may write in them; relays nothing. Put it behind
        the mail server that receives for that domain. SIGTERM or Ctrl-C stops it.
        """
        import signal
        import threading

        from core import mail_receiver

        host = host or app.config["MAIL_RECEIVE_HOST"]
        port = port or app.config["MAIL_RECEIVE_PORT"]
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        server = mail_receiver.controller(app, host, port)
        server.start()
        click.echo(f"Receiving replies by mail on {host}:{port}. Ctrl-C stops.")
        try:
            stop.wait()
        finally:
            server.stop()
            click.echo("Stopped.")


def register_tokens(app: Flask) -> None:
    """`flask --app app token create EMAIL --name NAME`: an API token, printed once."""

    @app.cli.group("token")
    def token_group():
        """Personal access tokens of the integration API (/api/v1)."""

    @token_group.command("create")
    @click.argument("email")
    @click.option("--name", required=True, help="Which system uses the token.")
    @click.option("--read-only", is_flag=True, help="The token may only read.")
    @click.option(
        "--expires-days",
        type=click.IntRange(1, 3650),
        default=None,
        help="Days until it expires (default: never).",
    )
    def token_create_command(email: str, name: str, read_only: bool, expires_days: int | None):
        """Make a token for the person with this email; it is printed once, never kept."""
        from sqlalchemy import func, select

        from core import tokens
        from core.errors import Refused
        from core.models import User
        from core.transaction import committed
        from extensions import db

        address = email.strip().lower()
        owner = db.session.scalar(select(User).where(func.lower(User.email) == address))
        if owner is None:
            raise click.ClickException(f"There is no account with the email address {email}.")
        try:
            token, raw = committed(
                lambda: tokens.create(
                    owner,
                    name,
                    read_only=read_only,
                    expires_days=expires_days,
                    actor=None,
                    actor_email="(command line)",
                )
            )
        except Refused as exc:
            raise click.ClickException(str(exc)) from exc
        access = "read-only" if read_only else "read and write"
        until = f"until {token.expires_at:%Y-%m-%d}" if token.expires_at else "without expiry"
        click.echo(
            f"API token “{token.name}” for {owner.email} ({access}, {until}). It is shown "
            f"only now: store it safely.\n{raw}"
        )
