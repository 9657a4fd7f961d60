"""Command-line tasks: `flask --app app demo`, `create-admin`, `outbox`, `translations`."""

import click
from flask import Flask
from flask_migrate import upgrade


def register(app: Flask) -> None:
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
