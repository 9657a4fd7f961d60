"""Forms of quotes, for both faces: asking, answering, countering and deciding."""

from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    MultipleFileField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, StopValidation, ValidationError
from wtforms.widgets import HiddenInput

from blueprints.forms import WholeField
from core import custom_parts, i18n, numbers, orders, quotes
from core.errors import Refused
from core.products import clean_price

NOTE_MESSAGE = _l("A note has at most %(count)s characters.", count=quotes.MAX_NOTE)
STALE_FORM = _l("The form was not sent correctly: reload the page and try again.")


class PriceField(StringField):
    """A unit price typed as text; valid when above zero with at most 4 decimals (`.price`)."""

    price = None

    def pre_validate(self, form):
        self.price = None
        raw = (self.data or "").strip()
        if not raw:
            raise StopValidation(_("Enter a unit price."))
        try:
            value = clean_price(raw, _("The unit price"))
        except Refused as exc:
            raise StopValidation(str(exc)) from exc
        if value <= 0:
            raise StopValidation(_("The unit price must be more than zero."))
        self.price = value


def whole_quantity(raw: str) -> int:
    """A quantity typed as text: a whole number from 1, or ValidationError saying so."""
    message = _(
        "Enter a whole number from 1 to %(most)s.", most=i18n.format_number(orders.MAX_QUANTITY)
    )
    try:
        return numbers.whole(raw, minimum=1, maximum=orders.MAX_QUANTITY, message=message)
    except numbers.NumberRefused as exc:
        raise ValidationError(str(exc)) from None


class AskLine(Form):
    """One line of a request: a SKU and a quantity (both blank: the line is unused)."""

    sku = StringField(
        _l("SKU"),
        validators=[
            Length(max=64, message=_l("A SKU has at most %(count)s characters.", count=64))
        ],
    )
    quantity = StringField(_l("Quantity"))

    product = None  # set by RequestForm.resolve
    asked = None  # the line's valid quantity, set by RequestForm.resolve: its price break

    @property
    def blank(self) -> bool:
        return not (self.sku.data or "").strip() and not (self.quantity.data or "").strip()


class CustomLine(Form):
    """One custom part of a request: a description, a material with its thickness (one
    choice, "<material id>:<thickness>"), a quantity and drawings. Drawings already stored
    come back as `kept` ids (core.custom_parts.keep_drawing), so none is uploaded twice."""

    description = TextAreaField(
        _l("Description"),
        validators=[
            Length(
                max=custom_parts.MAX_DESCRIPTION,
                message=_l(
                    "A description has at most %(count)s characters.",
                    count=custom_parts.MAX_DESCRIPTION,
                ),
            )
        ],
    )
    material = StringField(_l("Material and thickness"))
    quantity = StringField(_l("Quantity"))
    drawings = MultipleFileField(_l("Drawings"))

    kept: list = ()  # the stored drawings of this line (Attachment rows), set by resolve_custom

    def uploads(self) -> list:
        # A hand-made post may put text where a file goes: only files count.
        return [f for f in (self.drawings.data or []) if isinstance(f, FileStorage) and f.filename]

    @property
    def blank(self) -> bool:
        return (
            not (self.description.data or "").strip()
            and not (self.material.data or "").strip()
            and not (self.quantity.data or "").strip()
            and not self.uploads()
            and not self.kept
        )


def material_choice(raw: str) -> tuple[int | None, str]:
    """ "12:3" as (12, "3"); (None, "") for anything else."""
    material, _sep, thickness = (raw or "").partition(":")
    material_id = numbers.record_id(material) if material.isascii() else None
    return material_id, thickness.strip()[:12]


class RequestForm(FlaskForm):
    """A request for quotation: several lines by SKU and quantity, custom parts, and a note."""

    lines = FieldList(FormField(AskLine), min_entries=5, max_entries=quotes.MAX_LINES)
    custom = FieldList(FormField(CustomLine), min_entries=1, max_entries=quotes.MAX_LINES)
    note = TextAreaField(
        _l("Note for the seller"),
        validators=[Length(max=quotes.MAX_NOTE, message=NOTE_MESSAGE)],
    )

    def resolve(self, group_id: int | None = None) -> list[tuple[int, int]]:
        """Check every used line against the products still sold to the group `group_id` (a
        product hidden from it reads as no such product); (product id, quantity) pairs.

        Errors go next to the line they concern, so a mistake loses none of the other lines.
        """
        used = [entry.form for entry in self.lines if not entry.form.blank]
        for line in used:  # errors are tuples until a field has been validated
            line.sku.errors = list(line.sku.errors)
            line.quantity.errors = list(line.quantity.errors)
        found = quotes.find_products((line.sku.data for line in used), group_id)
        asks, seen = [], {}
        for line in used:
            sku = (line.sku.data or "").strip().upper()
            line.sku.data = sku
            if not sku:
                line.sku.errors.append(_("Enter the SKU of the product."))
            elif sku not in found:
                line.sku.errors.append(_("No product with SKU %(sku)s is for sale.", sku=sku))
            elif sku in seen:
                line.sku.errors.append(_("This product is already on another line."))
            else:
                line.product = found[sku]
                seen[sku] = line
            try:
                quantity = whole_quantity(line.quantity.data)
            except ValidationError as exc:
                line.quantity.errors.append(str(exc))
                continue
            line.asked = quantity
            if line.product is not None and line.sku.errors == []:
                asks.append((line.product.id, quantity))
        return asks

    def resolve_custom(
        self, actor, kept_ids, *, judge: bool = True
    ) -> tuple[list[custom_parts.CustomAsk], bool]:
        """Check every used custom line and store the drawings it brings; the custom asks
        and whether a drawing was stored now (the answer must then keep it: a success).

        `kept_ids(prefix)` gives the ids of drawings a line kept from an earlier post; only
        those this person stored and nothing holds yet are kept (others are dropped).
        Without `judge` (adding lines) it only stores drawings: nothing is marked missing.
        """
        from core.errors import Refused as Refusal

        asks, stored = [], False
        for entry in self.custom:
            line = entry.form
            for name in ("description", "material", "quantity", "drawings"):
                field = getattr(line, name)
                field.errors = list(field.errors)
            pending = custom_parts.pending_drawings(actor, kept_ids(line._prefix))
            line.kept = list(pending.values())
            if line.blank:
                line.kept = []
                continue
            for upload in line.uploads():
                if len(line.kept) >= custom_parts.MAX_DRAWINGS:
                    line.drawings.errors.append(
                        _(
                            "A custom part has at most %(count)s drawings.",
                            count=custom_parts.MAX_DRAWINGS,
                        )
                    )
                    break
                try:
                    line.kept.append(
                        custom_parts.keep_drawing(upload, company=actor.company, actor=actor)
                    )
                    stored = True
                except Refusal as exc:
                    line.drawings.errors.append(str(exc))
            if not judge:
                continue
            if not (line.description.data or "").strip():
                line.description.errors.append(_("Describe the custom part."))
            material_id, thickness = material_choice(line.material.data)
            material = custom_parts.active_material(material_id)
            if material is None or thickness not in material.thicknesses:
                line.material.errors.append(_("Choose a material and thickness from the list."))
            if not line.kept and not line.drawings.errors:
                line.drawings.errors.append(_("Add at least one drawing of the custom part."))
            try:
                quantity = whole_quantity(line.quantity.data)
            except ValidationError as exc:
                line.quantity.errors.append(str(exc))
                continue
            if not (line.description.errors or line.material.errors or line.drawings.errors):
                asks.append(
                    custom_parts.CustomAsk(
                        description=line.description.data,
                        material_id=material_id,
                        thickness=thickness,
                        quantity=quantity,
                        drawing_ids=tuple(a.id for a in line.kept),
                    )
                )
        return asks, stored

    def check_used(self) -> None:
        """At least one line, a product or a custom part, is filled in."""
        used = any(not e.form.blank for e in self.lines) or any(
            not e.form.blank for e in self.custom
        )
        if not used:
            self.form_errors.append(_("Add at least one product with a quantity."))

    @property
    def ok(self) -> bool:
        """Valid, including what resolve() found (FieldList keeps no live error list)."""
        return (
            not self.form_errors
            and not self.note.errors
            and not (self.csrf_token.errors if hasattr(self, "csrf_token") else ())
            and not any(e.form.sku.errors or e.form.quantity.errors for e in self.lines)
            and not any(
                e.form.description.errors
                or e.form.material.errors
                or e.form.quantity.errors
                or e.form.drawings.errors
                for e in self.custom
            )
        )


class PriceLine(Form):
    """One quote line's unit price; the line id keeps the form tied to the quote it was made for."""

    line = HiddenField()
    unit_price = PriceField(_l("Unit price"))


class _Seen(FlaskForm):
    """Every move names the latest round its author saw, so nobody acts on a stale page."""

    seen = WholeField(
        widget=HiddenInput(),
        minimum=0,
        maximum=numbers.MAX_ID,
        message=STALE_FORM,
        validators=[InputRequired(STALE_FORM)],
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=quotes.MAX_NOTE, message=NOTE_MESSAGE)])


class DecisionForm(_Seen):
    """Accept, reject, decline or withdraw: a button with an optional note."""


class CounterForm(_Seen):
    """The customer's counter-offer: a unit price for every line."""

    lines = FieldList(FormField(PriceLine), max_entries=quotes.MAX_LINES)

    def matches(self, quote) -> bool:
        """The posted lines are exactly this quote's, in order (else the page was stale)."""
        posted = [(entry.form.line.data or "") for entry in self.lines]
        return posted == [str(line.id) for line in quote.lines]

    def prices(self) -> dict[int, object]:
        """Line id → the cleaned price, for core.quotes."""
        return {int(e.form.line.data): e.form.unit_price.price for e in self.lines}


class AnswerForm(CounterForm):
    """The seller's offer or counter-offer: unit prices and how long they hold."""

    valid_until = DateField(
        _l("Valid until"),
        validators=[InputRequired(_l("Choose the date until which these prices hold."))],
        invalid_value_message=_l("Enter a date such as 2026-12-31."),
    )

    def validate_valid_until(self, field):
        if field.data is None:  # unreadable: the field already says so
            return
        today = quotes.today()
        if field.data <= today:
            raise ValidationError(_("The offer must be valid until a date in the future."))
        if field.data > today + timedelta(days=quotes.MAX_VALIDITY_DAYS):
            raise ValidationError(
                _("An offer holds for at most %(days)s days.", days=quotes.MAX_VALIDITY_DAYS)
            )


def price_form(form_class, quote, prices: dict[int, object], **data):
    """A price form for this quote, filled in (for showing, not from a request)."""
    lines = [
        {
            "line": str(line.id),
            "unit_price": ""
            if prices.get(line.id) is None
            else quotes.plain_price(prices[line.id]),
        }
        for line in quote.lines
    ]
    return form_class(formdata=None, data={"lines": lines, **data})
