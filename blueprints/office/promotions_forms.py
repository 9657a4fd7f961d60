"""Forms of the promotions module: window, products by SKU, categories and a term per group.

The rules themselves live in core.promotions; these forms parse what a person typed,
ask core.promotions whether it is acceptable, and put each message next to its field.
"""

from flask_babel import get_timezone, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
from core import i18n, numbers, promotions
from core.errors import Refused

# Minutes are enough for a promotion; the first format is the one the input shows.
WHEN_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
WHEN_INVALID = _l("Enter a date and time, such as 2026-05-01 09:00.")


class ViewerZone:
    """The name of the viewer's time zone (Europe/Rome), when shown."""

    def __str__(self) -> str:
        return str(get_timezone())


class ZonedDateTimeField(DateTimeLocalField):
    """A moment typed and shown in the viewer's time zone, kept as naive UTC as stored.

    `data` is always UTC (the stored value, a default, or what was typed, converted);
    the input shows it in the person's zone (theirs, else the seller's: core.i18n).
    """

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = i18n.to_utc(self.data)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return i18n.to_local(self.data).strftime(self.format[0]) if self.data else ""


class PromotionForm(FlaskForm):
    """A promotion as edited: the per-group fields are added by promotion_form()."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            InputRequired(_l("Give the promotion a name.")),
            Length(
                max=promotions.NAME_LENGTH,
                message=_l(
                    "A name has at most %(count)s characters.", count=promotions.NAME_LENGTH
                ),
            ),
        ],
        description=_l("Customers see it next to the promoted price."),
    )
    description = TextAreaField(
        _l("Description"),
        filters=[strip],
        validators=[
            Length(
                max=promotions.DESCRIPTION_LENGTH,
                message=_l(
                    "A description has at most %(count)s characters.",
                    count=promotions.DESCRIPTION_LENGTH,
                ),
            )
        ],
        description=_l("For staff only."),
    )
    # Typed in the person's own time zone, stored in UTC.
    starts_at = ZonedDateTimeField(
        _l("Starts (%(zone)s)", zone=ViewerZone()),
        format=WHEN_FORMATS,
        validators=[InputRequired(_l("Enter when the promotion starts."))],
        invalid_value_message=WHEN_INVALID,
    )
    ends_at = ZonedDateTimeField(
        _l("Ends (%(zone)s)", zone=ViewerZone()),
        format=WHEN_FORMATS,
        validators=[InputRequired(_l("Enter when the promotion ends."))],
        invalid_value_message=WHEN_INVALID,
    )
    skus = TextAreaField(
        _l("Products (SKUs)"),
        filters=[strip],
        description=_l("One SKU per line, or separated by spaces or commas."),
    )
    categories = SelectMultipleField(
        _l("Categories"),
        coerce=numbers.id_choice,
        default=(),
        invalid_value_message=_l("Choose categories from the list."),
        invalid_choice_message=_l("Choose categories from the list."),
        description=_l("A main category includes all its subcategories."),
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
            shown = ", ".join(unknown[:20])
            if len(unknown) > 20:
                shown = _("%(skus)s and %(count)s more", skus=shown, count=len(unknown) - 20)
            field.errors.append(
                ngettext(
                    "No product has this SKU: %(skus)s. Check them, or remove them.",
                    "No product has these SKUs: %(skus)s. Check them, or remove them.",
                    len(unknown),
                    skus=shown,
                )
            )

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            field.errors.append(_("The promotion must end after it starts."))

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
            self.term_errors.append(_("Give at least one customer group a discount."))
            valid = False
        if not self.skus.errors and not self.products and not self.categories.data:
            self.skus.errors.append(_("Choose at least one product or category."))
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

    is_active = BooleanField(_l("Switched on"), default=True)


def promotion_form(groups, categories, *, new: bool, **kwargs) -> PromotionForm:
    """The form with a discount and a visibility field per customer group.

    Made per request: the labels name the groups as plain text in the reader's language (a
    lazy string would be taken for safe HTML, the group's name unescaped).
    """
    fields = {}
    for group in groups:
        fields[f"discount_{group.id}"] = StringField(
            _("Discount for %(group)s (%%)", group=group.name),
            filters=[strip],
            validators=[
                Length(max=12, message=_l("Enter the discount as a number, such as 12.5."))
            ],
        )
        fields[f"visible_{group.id}"] = BooleanField(
            _("%(group)s sees it", group=group.name), default=True
        )
    base = NewPromotionForm if new else PromotionForm
    form = type("GroupsPromotionForm", (base,), fields)(**kwargs)
    form.groups = list(groups)
    form.products, form.terms, form.term_errors = [], [], []
    form.categories.choices = [
        SelectChoice(c.id, c.name if c.parent_id is None else f"— {c.name}") for c in categories
    ]
    return form
