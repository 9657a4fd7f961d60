"""The form of a material custom parts are made of (core.custom_parts)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length

from blueprints.forms import RefusalMixin, strip
from core import custom_parts


class MaterialForm(RefusalMixin, FlaskForm):
    """A material: its name, the thicknesses it comes in, and whether customers may choose it."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            Length(
                max=custom_parts.MAX_NAME,
                message=_l(
                    "A material's name has at most %(count)s characters.",
                    count=custom_parts.MAX_NAME,
                ),
            )
        ],
    )
    thicknesses = StringField(
        _l("Thicknesses (mm)"),
        filters=[strip],
        validators=[Length(max=300, message=_l("Give at most 300 characters of thicknesses."))],
        description=_l("Separated by commas, a point for decimals: 1, 1.5, 2, 3, 5, 8"),
    )
    active = BooleanField(_l("Offered: customers may choose it for custom parts"), default=True)
