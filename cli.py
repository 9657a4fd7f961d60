"""Command-line tasks: `flask --app app demo`."""

import click
from flask import Flask
from flask_migrate import upgrade


def register(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command():
        """Create or upgrade the schema, then load the demo data (idempotent)."""
        from core import demo

        upgrade()
        if demo.load():
            click.echo("Demo data loaded. Sign in with any demo account; password: demo-password")
        else:
            click.echo("Demo data is already loaded; nothing changed.")
