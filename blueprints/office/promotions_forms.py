"""Forms of the promotions module: window, products by SKU, categories and a term per group.

The rules themselves live in core.promotions; these forms parse what a person typed,
ask core.promotions whether it is acceptable, and put each message next to its field.
"""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length

from blueprints.forms import strip
from core import numbers, promotions
from core.errors import Refused

# Minutes are enough for a promotion; the first format is the one the input shows.
WHEN_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
WHEN_INVALID = "Enter a date and time, such as 2026-05-01 09:00."


class PromotionForm(FlaskForm):
    """A promotion as edited: the per-group fields are added by promotion_form()."""

    name = StringField(
        "Name",
        filters=[strip],
        validators=[
            InputRequired("Give the promotion a name."),
            Length(
                max=promotions.NAME_LENGTH,
                message=f"A name has at most {promotions.NAME_LENGTH} characters.",
            ),
        ],
        description="Customers see it next to the promoted price.",
    )
    description = TextAreaField(
        "Description",
        filters=[strip],
        validators=[
            Length(
                max=promotions.DESCRIPTION_LENGTH,
                message=f"A description has at most {promotions.DESCRIPTION_LENGTH} characters.",
            )
        ],
        description="For staff only.",
    )
    starts_at = DateTimeLocalField(
        "Starts (UTC)",
        format=WHEN_FORMATS,
        validators=[InputRequired("Enter when the promotion starts.")],
        invalid_value_message=WHEN_INVALID,
    )
    ends_at = DateTimeLocalField(
        "Ends (UTC)",
        format=WHEN_FORMATS,
        validators=[InputRequired("Enter when the promotion ends.")],
        invalid_value_message=WHEN_INVALID,
    )
    skus = TextAreaField(
        "Products (SKUs)",
        filters=[strip],
        description="One SKU per line, or separated by spaces or commas.",
    )
    categories = SelectMultipleField(
        "Categories",
        coerce=numbers.id_choice,
        default=(),
        invalid_value_message="Choose categories from the list.",
        invalid_choice_message="Choose categories from the list.",
        description="A main category includes all its subcategories.",
    )

    # Set by promotion_form(): the customer groups, and once validated the products of the
    # SKUs and a core.promotions.Term per group given a discount.
    groups: list
    products: list
    terms: list
    term_errors: list

    def discount_field(self, group):
        return self[f"discount_{group.id}"]

    def visible_field(self, group):
        return self[f"visible_{group.id}"]

    def validate_skus(self, field):
        try:
            self.products, unknown = promotions.products_by_sku(
                promotions.parse_skus(field.data or "")
            )
        except Refused as exc:
            self.products = []
            field.errors.append(str(exc))
            return
        if unknown:
            shown = ", ".join(unknown[:20]) + (
                f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
            )
            noun = "this SKU" if len(unknown) == 1 else "these SKUs"
            field.errors.append(f"No product has {noun}: {shown}. Check them, or remove them.")

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            field.errors.append("The promotion must end after it starts.")

    def validate(self, extra_validators=None) -> bool:
        self.term_errors = []
        valid = super().validate(extra_validators)
        self.terms = []
        for group in self.groups:
            field = self.discount_field(group)
            if not (field.data or "").strip():
                continue  # no term: this group gets nothing from the promotion
            try:
                discount = promotions.clean_discount(field.data, group.name)
            except Refused as exc:
                field.errors.append(str(exc))
                valid = False
                continue
            self.terms.append(
                promotions.Term(group, discount, bool(self.visible_field(group).data))
            )
        if not self.terms and not any(self.discount_field(g).errors for g in self.groups):
            self.term_errors.append("Give at least one customer group a discount.")
            valid = False
        if not self.skus.errors and not self.products and not self.categories.data:
            self.skus.errors.append("Choose at least one product or category.")
            valid = False
        return valid and not self.skus.errors and not self.ends_at.errors

    def refuse(self, exc: Refused) -> None:
        """Show a service refusal next to the field it is about, or above the terms."""
        name = getattr(exc, "field", None)
        if name == "terms" or name is None:
            self.term_errors.append(str(exc))
            return
        self[name].errors = [*self[name].errors, str(exc)]


class NewPromotionForm(PromotionForm):
    """A new promotion may start switched off, to be switched on later."""

    is_active = BooleanField("Switched on", default=True)


def promotion_form(groups, categories, *, new: bool, **kwargs) -> PromotionForm:
    """The form with a discount and a visibility field per customer group."""
    fields = {}
    for group in groups:
        fields[f"discount_{group.id}"] = StringField(
            f"Discount for {group.name} (%)",
            filters=[strip],
            validators=[Length(max=12, message="Enter the discount as a number, such as 12.5.")],
        )
        fields[f"visible_{group.id}"] = BooleanField(f"{group.name} sees it", default=True)
    base = NewPromotionForm if new else PromotionForm
    form = type("GroupsPromotionForm", (base,), fields)(**kwargs)
    form.groups = list(groups)
    form.products, form.terms, form.term_errors = [], [], []
    form.categories.choices = [
        SelectChoice(c.id, c.name if c.parent_id is None else f"— {c.name}") for c in categories
    ]
    return form
