"""Forms of the back-office products module: a product's details, prices and photos.

Fields are checked here with the same rules core.products applies, so a mistake is shown
next to its field; the service checks again (it is the rule, the form is the messenger).
The cost field exists only for people with `finance.costs`, group prices only for people
who may change them: a form without those fields can neither show nor change them.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    MultipleFileField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, Optional

from blueprints.forms import RefusalMixin, WholeField, strip
from core import i18n, products, tax
from core.errors import Refused
from core.models import Category, CustomerGroup


class SpecsField(Field):
    """Specifications as key/value rows: inputs `specs-key` and `specs-value`, in pairs.

    `data` is the list of (key, value) rows as typed, blank ones included, so a form with
    an error comes back exactly as it was sent; `cleaned` is what core.products accepts.
    """

    cleaned: dict[str, str]

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.cleaned = {}
        if formdata is not None:
            keys = formdata.getlist(f"{self.name}-key")
            values = formdata.getlist(f"{self.name}-value")
            width = max(len(keys), len(values))
            keys += [""] * (width - len(keys))
            values += [""] * (width - len(values))
            self.data = [(str(k), str(v)) for k, v in zip(keys, values, strict=True)]
        else:
            source = data if isinstance(data, dict) else {}
            self.data = [(str(k), str(v)) for k, v in source.items()]

    def pre_validate(self, form):
        if len(self.data) > products.MAX_SPECS * 2:
            raise ValidationError(
                _("A product has at most %(count)s specifications.", count=products.MAX_SPECS)
            )
        try:
            self.cleaned = products.clean_specs(self.data)
        except Refused as exc:
            raise ValidationError(str(exc)) from exc


class ProductForm(RefusalMixin, FlaskForm):
    """A product's details, base price, and (with the right permissions) cost and group prices."""

    sku = StringField(
        _l("SKU"),
        filters=[strip],
        validators=[
            InputRequired(_l("Give the product a SKU.")),
            Length(
                max=products.SKU_LENGTH,
                message=_l("A SKU has at most %(count)s characters.", count=products.SKU_LENGTH),
            ),
        ],
        description=_l("Letters, digits and - _ . / +; stored in capitals."),
    )
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            InputRequired(_l("Give the product a name.")),
            Length(
                max=products.NAME_LENGTH,
                message=_l("A name has at most %(count)s characters.", count=products.NAME_LENGTH),
            ),
        ],
    )
    category = SelectField(
        _l("Category"), coerce=str, invalid_choice_message=_l("Choose one of the categories.")
    )
    unit = StringField(
        _l("Unit"),
        filters=[strip],
        default="pcs",
        validators=[
            InputRequired(_l("Say how the product is counted, such as pcs or reel.")),
            Length(
                max=products.UNIT_LENGTH,
                message=_l("A unit has at most %(count)s characters.", count=products.UNIT_LENGTH),
            ),
        ],
    )
    tax_class = SelectField(
        _l("VAT class"),
        choices=[SelectChoice(key, label) for key, label in tax.TAX_CLASSES.items()],
        default="standard",
        invalid_choice_message=_l("Choose the product's VAT class from the list."),
        description=_l("Which of the seller's VAT rates applies (Settings)."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[
            Length(
                max=products.DESCRIPTION_LENGTH,
                message=_l(
                    "A description has at most %(count)s characters.",
                    count=i18n.number(products.DESCRIPTION_LENGTH),
                ),
            )
        ],
    )
    specs = SpecsField(_l("Specifications"))
    base_price = StringField(
        _l("Base price (EUR)"),
        filters=[strip],
        validators=[
            InputRequired(_l("Enter the base price, such as 12.50.")),
            Length(max=30, message=_l("Enter the price as a number, such as 12.50.")),
        ],
        description=_l("What customers pay when their group has no price of its own."),
    )
    cost = StringField(
        _l("Cost (EUR)"),
        filters=[strip],
        default="0",
        validators=[
            InputRequired(_l("Enter the cost, such as 3.90 (0 if unknown).")),
            Length(max=30, message=_l("Enter the cost as a number, such as 3.90.")),
        ],
        description=_l("What one unit costs us; only people with the costs permission see it."),
    )
    stock = WholeField(
        _l("Opening stock"),
        default=0,
        minimum=0,
        maximum=products.MAX_OPENING_STOCK,
        message=_l(
            "Enter a whole number from 0 to %(maximum)s.",
            maximum=i18n.number(products.MAX_OPENING_STOCK),
        ),
        validators=[InputRequired(_l("Enter the stock on hand (0 if none)."))],
        description=_l("Recorded as the first stock movement."),
    )
    photos = MultipleFileField(_l("Photos"))

    product_id: int | None = None
    group_fields: list[tuple[CustomerGroup, StringField]] = []

    def setup(
        self,
        *,
        categories: list[Category],
        groups: list[CustomerGroup],
        show_costs: bool,
        edit_group_prices: bool,
        product_id: int | None = None,
    ) -> "ProductForm":
        """Fit the form to the person and the product: choices, and which fields exist."""
        self.product_id = product_id
        names = {c.id: c.name for c in categories}
        self.category.choices = [SelectChoice("", _("— No category —"))] + [
            SelectChoice(
                str(c.id), f"{names[c.parent_id]} › {c.name}" if c.parent_id in names else c.name
            )
            for c in categories
        ]
        if not show_costs:
            del self.cost
        if product_id is not None:
            del self.stock
            del self.photos
        self.group_fields = [(g, getattr(self, f"group_{g.id}")) for g in groups]
        if not edit_group_prices:
            for group, __ in self.group_fields:
                delattr(self, f"group_{group.id}")
            self.group_fields = []
        return self

    def validate_sku(self, field):
        try:
            sku = products.clean_sku(field.data)
        except Refused as exc:
            raise ValidationError(str(exc)) from exc
        if products.sku_taken(sku, other_than=self.product_id):
            raise ValidationError(_("There is already a product with SKU %(sku)s.", sku=sku))

    def validate_base_price(self, field):
        _price(field.data, _("The base price"))

    def validate_cost(self, field):
        _price(field.data, _("The cost"))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for group, field in self.group_fields:
            if field.data:
                try:
                    _price(field.data, _("The %(group)s price", group=group.name))
                except ValidationError as exc:
                    field.errors = [*field.errors, str(exc)]
                    valid = False
        return valid

    def group_prices(self) -> dict[int, str | None]:
        """{group id: price or None (no group price)} for the groups shown on the form."""
        return {group.id: (field.data or None) for group, field in self.group_fields}


def _price(raw, label):
    """A price checked by core.products' rule, its refusal as a field error."""
    try:
        return products.clean_price(raw, label)
    except Refused as exc:
        raise ValidationError(str(exc)) from exc


def product_form_class(groups: list[CustomerGroup]) -> type[ProductForm]:
    """The product form with one optional price field per customer group.

    Made per request: the labels name the groups in words of the reader's language, as
    plain text (a lazy string would be taken for safe HTML, the group's name unescaped).
    """
    fields = {
        f"group_{g.id}": StringField(
            _("%(group)s price (EUR)", group=g.name),
            filters=[strip],
            validators=[
                Optional(),
                Length(max=30, message=_l("Enter the price as a number, such as 12.50.")),
            ],
            description=_("Empty: %(group)s pays the base price.", group=g.name),
        )
        for g in groups
    }
    return type("GroupPricedProductForm", (ProductForm,), fields)


class PhotosForm(FlaskForm):
    """One or more pictures to add to a product (checked by core.photos, not here)."""

    photos = MultipleFileField(_l("Add photos"))


class MoveForm(FlaskForm):
    """Move a photo one place earlier or later."""

    step = SelectField(
        _l("Move"),
        choices=[SelectChoice("-1", _l("Earlier")), SelectChoice("1", _l("Later"))],
        invalid_choice_message=_l("Move a photo earlier or later."),
    )
