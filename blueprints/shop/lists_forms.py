"""Forms of the storefront's shared lists."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from blueprints.forms import RefusalMixin, WholeField, strip
from core import i18n, lists, numbers
from core.models.lists import LINE_NOTE_LENGTH, LIST_DESCRIPTION_LENGTH, LIST_NAME_LENGTH
from core.orders import MAX_QUANTITY

QUANTITY_MESSAGE = _l(
    "Enter a whole number from 1 to %(maximum)s.", maximum=i18n.number(MAX_QUANTITY)
)
MULTIPLIER_MESSAGE = _l(
    "Build between 1 and %(maximum)s kits at a time.", maximum=i18n.number(lists.MAX_MULTIPLIER)
)
NOTE_MESSAGE = _l("A note has at most %(count)s characters.", count=LINE_NOTE_LENGTH)


class ListForm(RefusalMixin, FlaskForm):
    """A list's name and description (creating or renaming it)."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the list a name.")),
            Length(
                max=LIST_NAME_LENGTH,
                message=_l(
                    "A list's name has at most %(count)s characters.", count=LIST_NAME_LENGTH
                ),
            ),
        ],
    )
    description = TextAreaField(
        _l("Description (optional)"),
        filters=[strip],
        validators=[
            Optional(),
            Length(
                max=LIST_DESCRIPTION_LENGTH,
                message=_l(
                    "A description has at most %(count)s characters.",
                    count=i18n.number(LIST_DESCRIPTION_LENGTH),
                ),
            ),
        ],
    )


class LineForm(RefusalMixin, FlaskForm):
    """A product by its SKU, a quantity and a note, onto a list."""

    sku = StringField(
        _l("SKU"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter a SKU.")),
            Length(max=64, message=_l("A SKU has at most %(count)s characters.", count=64)),
        ],
    )
    quantity = WholeField(
        _l("Quantity"),
        default=1,
        minimum=1,
        maximum=MAX_QUANTITY,
        message=QUANTITY_MESSAGE,
        validators=[InputRequired(QUANTITY_MESSAGE)],
    )
    note = StringField(
        _l("Note (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=LINE_NOTE_LENGTH, message=NOTE_MESSAGE)],
    )


class LineEditForm(RefusalMixin, FlaskForm):
    """A line's new quantity and note."""

    quantity = WholeField(
        _l("Quantity"),
        minimum=1,
        maximum=MAX_QUANTITY,
        message=QUANTITY_MESSAGE,
        validators=[InputRequired(QUANTITY_MESSAGE)],
    )
    note = StringField(
        _l("Note"),
        filters=[strip],
        validators=[Optional(), Length(max=LINE_NOTE_LENGTH, message=NOTE_MESSAGE)],
    )


class ToCartForm(RefusalMixin, FlaskForm):
    """How many kits of the list go into the cart."""

    multiplier = WholeField(
        _l("Kits"),
        default=1,
        minimum=1,
        maximum=lists.MAX_MULTIPLIER,
        message=MULTIPLIER_MESSAGE,
        validators=[InputRequired(MULTIPLIER_MESSAGE)],
    )


class ImportForm(RefusalMixin, FlaskForm):
    """A CSV file of lines, added to the list or replacing it."""

    file = FileField(_l("CSV file"))
    replace = BooleanField(_l("Replace the list's lines with the file's"))


class AddProductForm(FlaskForm):
    """A product (from its page or a catalogue card) onto one of the company's lists."""

    product_id = WholeField(
        _l("Product"),
        minimum=1,
        maximum=numbers.MAX_ID,
        message=_l("Choose a product."),
        validators=[InputRequired(_l("Choose a product."))],
    )
    list_id = WholeField(
        _l("List"),
        minimum=1,
        maximum=numbers.MAX_ID,
        message=_l("Choose a list."),
        validators=[InputRequired(_l("Choose a list."))],
    )
    quantity = WholeField(
        _l("Quantity"),
        default=1,
        minimum=1,
        maximum=MAX_QUANTITY,
        message=QUANTITY_MESSAGE,
        validators=[InputRequired(QUANTITY_MESSAGE)],
    )
