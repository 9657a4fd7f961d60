"""Sign-in form."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField(
        "Email",
        # No format check here: a sign-in only needs to match an account, and the same
        # generic answer must come back for anything that does not.
        validators=[DataRequired("Enter your email address."), Length(max=254)],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=1024)]
    )


class SetPasswordForm(FlaskForm):
    """The invited person chooses their password (checked by core.passwords)."""

    password = PasswordField(
        "New password", validators=[DataRequired("Choose a password."), Length(max=128)]
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[
            DataRequired("Repeat the password."),
            EqualTo("password", "The two passwords are not the same."),
        ],
    )


class ChangePasswordForm(SetPasswordForm):
    """Change one's own password; the current one proves it is really them."""

    current = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password.")]
    )
