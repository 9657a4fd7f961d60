"""Sign-in form."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length


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
