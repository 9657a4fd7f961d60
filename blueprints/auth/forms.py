"""Forms of signing in, activation, passwords, two-factor sign-in, and one's language."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from blueprints.forms import RefusalMixin


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        # No format check here: a sign-in only needs to match an account, and the same
        # generic answer must come back for anything that does not.
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)]
    )


class SetPasswordForm(RefusalMixin, FlaskForm):
    """The invited person chooses their password (checked by core.passwords)."""

    password = PasswordField(
        _l("New password"), validators=[DataRequired(_l("Choose a password.")), Length(max=128)]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(_l("Repeat the password.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
    )


class ChangePasswordForm(SetPasswordForm):
    """Change one's own password; the current one proves it is really them."""

    current = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )


class ForgotPasswordForm(FlaskForm):
    """Ask for a link to choose a new password."""

    email = EmailField(
        _l("Email"),
        # Any text: the answer is the same whether or not an account has this address.
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
    )


class CodeForm(RefusalMixin, FlaskForm):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(_l("Enter the code your app shows, or one of your recovery codes.")),
            Length(max=40, message=_l("A code has at most 19 characters.")),
        ],
    )


class ConfirmPasswordForm(FlaskForm):
    """Prove it is really the person before turning two-factor sign-in off."""

    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=1024)],
    )


class PreferencesForm(RefusalMixin, FlaskForm):
    """One's language and time zone; "" is the browser's language, the seller's zone.

    The view fills in the choices; core.accounts.set_preferences checks what comes back,
    so an unknown value is refused with its own words, not WTForms' "Not a valid choice".
    """

    language = SelectField(_l("Language"), validate_choice=False)
    timezone = SelectField(_l("Time zone"), validate_choice=False)
