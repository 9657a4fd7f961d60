"""Forms shared by every blueprint."""

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A bare POST button (block, revoke, delete): only its CSRF token."""
