"""Forms of signing in, activation, passwords and two-factor sign-in."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from blueprints.forms import RefusalMixin


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


class SetPasswordForm(RefusalMixin, FlaskForm):
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


class ForgotPasswordForm(FlaskForm):
    """Ask for a link to choose a new password."""

    email = EmailField(
        "Email",
        # Any text: the answer is the same whether or not an account has this address.
        validators=[DataRequired("Enter your email address."), Length(max=254)],
    )


class CodeForm(RefusalMixin, FlaskForm):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = StringField(
        "Code",
        validators=[
            DataRequired("Enter the code your app shows, or one of your recovery codes."),
            Length(max=40, message="A code has at most 19 characters."),
        ],
    )


class ConfirmPasswordForm(FlaskForm):
    """Prove it is really the person before turning two-factor sign-in off."""

    password = PasswordField(
        "Your password", validators=[DataRequired("Enter your password."), Length(max=1024)]
    )
