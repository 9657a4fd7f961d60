"""The form of a new personal access token for the API (core.tokens checks it again)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional

from blueprints.forms import RefusalMixin, WholeField, strip
from core import tokens


class TokenForm(RefusalMixin, FlaskForm):
    """A name saying which system uses the token, an optional expiry, and read-only."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the token a name, such as the system that will use it.")),
            Length(
                max=tokens.NAME_LENGTH,
                message=_l("A token's name has at most %(count)s characters.", count=80),
            ),
        ],
        description=_l("Which system uses it, such as “ERP purchasing”."),
    )
    expires_days = WholeField(
        _l("Expires after (days)"),
        validators=[Optional()],
        minimum=1,
        maximum=tokens.MAX_EXPIRY_DAYS,
        message=_l(
            "A token expires after 1 to %(most)s days, or never (leave it empty).",
            most=tokens.MAX_EXPIRY_DAYS,
        ),
        description=_l("Leave empty for a token that does not expire."),
    )
    read_only = BooleanField(_l("Read-only: it may read, never change anything"))
