"""Forms of the quick order."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from blueprints.forms import RefusalMixin
from core import i18n, quick_order

TOO_LONG = _l(
    "The text is longer than %(count)s characters: split the order into parts.",
    count=i18n.number(quick_order.MAX_TEXT),
)


class QuickOrderForm(RefusalMixin, FlaskForm):
    """Pasted lines of SKU and quantity, or a file of them (the file wins when both)."""

    lines = TextAreaField(
        _l("Lines: a SKU and a quantity on each"),
        validators=[Optional(), Length(max=quick_order.MAX_TEXT, message=TOO_LONG)],
    )
    file = FileField(_l("Or a CSV or Excel (.xlsx) file"))


class AddForm(RefusalMixin, FlaskForm):
    """The checked lines, sent again to go into the cart (checked once more there), and
    the text as the person typed it, given back if nothing can go in."""

    # Text areas, rendered hidden: an <input>'s value may lose its line ends.
    lines = TextAreaField(validators=[Length(max=quick_order.MAX_TEXT, message=TOO_LONG)])
    typed = TextAreaField(validators=[Optional(), Length(max=quick_order.MAX_TEXT)])
