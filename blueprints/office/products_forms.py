"""Forms of the back-office products module: a product's details, prices and photos.

Fields are checked here with the same rules core.products applies, so a mistake is shown
next to its field; the service checks again (it is the rule, the form is the messenger).
The cost field exists only for people with `finance.costs`, group prices only for people
who may change them: a form without those fields can neither show nor change them.
"""

from decimal import Decimal

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


class BreaksField(Field):
    """Quantity breaks as rows of inputs `breaks-qty` and `breaks-price`, in pairs.

    `data` is the rows as typed (blank ones included, so a form with an error comes back
    as it was sent); `cleaned` is what core.products.clean_breaks accepts, sorted.
    """

    cleaned: list

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.cleaned = []
        if formdata is not None and (
            f"{self.name}-qty" in formdata or f"{self.name}-price" in formdata
        ):
            quantities = formdata.getlist(f"{self.name}-qty")
            prices = formdata.getlist(f"{self.name}-price")
            width = max(len(quantities), len(prices))
            quantities += [""] * (width - len(quantities))
            prices += [""] * (width - len(prices))
            self.data = [(str(q), str(p)) for q, p in zip(quantities, prices, strict=True)]
            self.sent = True
        else:
            self.data = [(str(q), plain(p)) for q, p in (data or [])]
            self.sent = formdata is None
        self.cleaned = None

    def pre_validate(self, form):
        if len(self.data) > products.MAX_BREAKS * 3:
            raise ValidationError(
                _(
                    "A price list has at most %(count)s breaks per product.",
                    count=products.MAX_BREAKS,
                )
            )
        try:
            self.cleaned = products.clean_breaks(self.data)
        except Refused as exc:
            raise ValidationError(str(exc)) from exc

    def rows(self, blank: int = 3) -> list[tuple[str, str]]:
        """The rows to show: the ones typed or stored, and a few blank ones to fill in."""
        rows = list(self.data or [])
        filled = [r for r in rows if any(x.strip() for x in r)]
        spare = max(blank, len(rows) - len(filled))
        return filled + [("", "")] * min(spare, max(products.MAX_BREAKS - len(filled), 1))


def plain(value) -> str:
    """A stored price as a person would type it: 6.40, 0.0125."""
    if value is None or value == "":
        return ""
    text = f"{Decimal(value):.4f}".rstrip("0")
    whole, __, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _rule_field(label, description) -> WholeField:
    """A product's minimum or pack size: a whole number from 1. Optional: a form sent
    without it (an older page) keeps the product's value; sent empty, core.products
    refuses it at the field."""
    return WholeField(
        label,
        default=1,
        minimum=1,
        maximum=products.MAX_RULE_QUANTITY,
        message=_l(
            "Enter a whole number from 1 to %(maximum)s.",
            maximum=i18n.number(products.MAX_RULE_QUANTITY),
        ),
        validators=[Optional()],
        description=description,
    )


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
    min_quantity = _rule_field(
        _l("Minimum order quantity"),
        _l("The least a customer orders at once; 1 for no minimum."),
    )
    order_multiple = _rule_field(
        _l("Pack size"),
        _l("Every quantity ordered is a multiple of it; 1 for single units."),
    )
    breaks = BreaksField(
        _l("Quantity breaks (base list)"),
        description=_l(
            "The unit price from a quantity on, such as 10 at 6.10: groups without a "
            "price of their own pay these too, their promotions applied."
        ),
    )

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

    def validate_min_quantity(self, field):
        multiple = self.order_multiple.data
        if field.data and isinstance(multiple, int) and multiple > 0 and field.data % multiple:
            try:
                products.clean_order_rules(field.data, multiple)
            except Refused as exc:
                raise ValidationError(str(exc)) from exc

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
