"""The API's JSON shapes (marshmallow): what each answer holds and what each request may send.

Money and prices are strings of decimals ("5.20", "0.1200"), never floats; times are UTC in
ISO 8601. A request body with a field not listed here is refused (422): a typo never
passes silently.
"""

from marshmallow import RAISE, Schema, ValidationError, fields, validate

UNIT_PLACES = 4
MONEY_PLACES = 2


def _decimal_text(places: int, kwargs: dict):
    """A decimal answered as a string ("5.20"): documented as one, with its pattern."""
    metadata = {
        "type": "string",
        "format": "decimal",
        "pattern": rf"^-?[0-9]+\.[0-9]{{{places}}}$",
        **kwargs.pop("metadata", {}),
    }
    return fields.Decimal(places=places, as_string=True, metadata=metadata, **kwargs)


def Money(**kwargs):
    return _decimal_text(MONEY_PLACES, kwargs)


def UnitPrice(**kwargs):
    return _decimal_text(UNIT_PLACES, kwargs)


def Rate(**kwargs):
    """A percentage answered as a string ("19.00")."""
    return _decimal_text(MONEY_PLACES, kwargs)


def positive(value) -> None:
    """Above zero (a Range on a decimal would be documented with a string bound)."""
    if value <= 0:
        raise ValidationError("Must be greater than 0.")


class Strict(Schema):
    """A request body: unknown fields are refused."""

    class Meta:
        unknown = RAISE


# --- problems --------------------------------------------------------------------------


class FieldErrorSchema(Schema):
    in_ = fields.String(data_key="in", metadata={"description": "query, json, header or path"})
    field = fields.String()
    messages = fields.List(fields.String())


class ProblemSchema(Schema):
    """RFC 9457 problem details (`application/problem+json`)."""

    type = fields.String(metadata={"description": "A URI naming the kind of problem."})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    errors = fields.List(fields.Nested(FieldErrorSchema))


# --- catalogue -------------------------------------------------------------------------


class CategorySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()


class TierSchema(Schema):
    min_quantity = fields.Integer()
    list_price = UnitPrice()
    price = UnitPrice()


class PromotionSchema(Schema):
    name = fields.String()
    discount_percent = Rate()
    ends_at = fields.DateTime()


class StockSchema(Schema):
    level = fields.String(
        metadata={"description": "out, few or many"},
        validate=validate.OneOf(["out", "few", "many"]),
    )
    label = fields.String(metadata={"description": "As the pages show it, in your language."})
    count = fields.Integer(
        metadata={"description": "Units in stock; only for groups shown exact counts."}
    )


class OfferSchema(Schema):
    """Prices, promotion and breaks are absent for a person without `shop.prices` (an
    external collaborator): they see the product, its rules and its stock."""

    currency = fields.String()
    list_price = UnitPrice(metadata={"description": "Your group's unit price before promotion."})
    price = UnitPrice(metadata={"description": "What you pay per unit now."})
    price_source = fields.String(metadata={"description": "group or base"})
    promotion = fields.Nested(PromotionSchema, allow_none=True)
    breaks = fields.List(fields.Nested(TierSchema))
    min_quantity = fields.Integer()
    order_multiple = fields.Integer()
    stock = fields.Nested(StockSchema)
    orderable = fields.Boolean()
    backorders = fields.Boolean()


class ProductSchema(Schema):
    """A product as a customer person's group sees it."""

    id = fields.Integer()
    sku = fields.String()
    name = fields.String()
    unit = fields.String()
    category = fields.Nested(CategorySchema, allow_none=True)
    offer = fields.Nested(OfferSchema)


class ProductDetailSchema(ProductSchema):
    description = fields.String()
    specs = fields.Dict(keys=fields.String(), values=fields.String())


class CatalogArgs(Schema):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "Search by SKU or name."},
    )
    category = fields.String(
        load_default=None,
        validate=validate.Length(max=120),
        metadata={"description": "A category's slug."},
    )


# --- carts and orders ------------------------------------------------------------------


class CartLineSchema(Schema):
    id = fields.Integer()
    product_id = fields.Integer()
    sku = fields.String()
    name = fields.String()
    quantity = fields.Integer()
    unit_price = UnitPrice(allow_none=True)
    line_total = Money(allow_none=True)
    sold = fields.Boolean(metadata={"description": "false: no longer sold to your group"})
    problem = fields.String(
        allow_none=True, metadata={"description": "Why this line cannot be ordered as it is."}
    )
    stock = fields.Nested(StockSchema, allow_none=True)


class CartSchema(Schema):
    id = fields.Integer(allow_none=True)
    currency = fields.String()
    lines = fields.List(fields.Nested(CartLineSchema))
    total = Money(metadata={"description": "Goods, net"})
    delivery_address_id = fields.Integer(allow_none=True)
    shipping_method_id = fields.Integer(allow_none=True)
    customer_reference = fields.String()
    requested_date = fields.Date(allow_none=True)
    needs_two_approvals = fields.Boolean()


class CartLineNew(Strict):
    product_id = fields.Integer(validate=validate.Range(min=1))
    sku = fields.String(validate=validate.Length(min=1, max=64))
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=1_000_000))


class CartLineChange(Strict):
    quantity = fields.Integer(required=True, validate=validate.Range(min=0, max=1_000_000))


class CheckoutSchema(Strict):
    """Where, how and when to deliver (absent: what the cart keeps) and a note."""

    delivery_address_id = fields.Integer(validate=validate.Range(min=1))
    shipping_method_id = fields.Integer(validate=validate.Range(min=1))
    customer_reference = fields.String(validate=validate.Length(max=60))
    requested_date = fields.Date()
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class PartySchema(Schema):
    id = fields.Integer()
    name = fields.String()


class OrderLineSchema(Schema):
    product_id = fields.Integer(
        allow_none=True, metadata={"description": "null for a custom part from a quote"}
    )
    sku = fields.String()
    name = fields.String()
    quantity = fields.Integer()
    list_price = UnitPrice()
    unit_price = UnitPrice()
    line_total = Money()
    vat_rate = Rate()
    backordered = fields.Integer(
        metadata={"description": "Units waiting for stock; absent where your group sees levels."}
    )
    backordered_waiting = fields.Boolean(metadata={"description": "Part of the line waits."})
    unit_cost = UnitPrice(metadata={"description": "Only with the finance.costs permission."})


class DeliverySchema(Schema):
    name = fields.String()
    street = fields.String()
    postcode = fields.String()
    city = fields.String()
    country = fields.String()
    method = fields.String()
    price = Money()


class TotalsSchema(Schema):
    goods = Money()
    shipping = Money()
    net = Money()
    vat = Money()
    gross = Money()


class OrderSummarySchema(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.String()
    status_label = fields.String()
    company = fields.Nested(PartySchema)
    placed_by = fields.Nested(PartySchema, allow_none=True)
    created_at = fields.DateTime()
    currency = fields.String()
    customer_reference = fields.String()
    totals = fields.Nested(TotalsSchema)


class OrderSchema(OrderSummarySchema):
    note = fields.String()
    requested_date = fields.Date(allow_none=True)
    delivery = fields.Nested(DeliverySchema)
    lines = fields.List(fields.Nested(OrderLineSchema))
    invoice_id = fields.Integer(allow_none=True)
    next_states = fields.List(
        fields.String(), metadata={"description": "Only for staff who may move orders."}
    )
    shipments = fields.List(fields.Nested(lambda: ShipmentSchema()))


class AwaitingApprovalSchema(Schema):
    status = fields.String(metadata={"description": "awaiting_approval"})
    cart_id = fields.Integer()
    total = Money()
    detail = fields.String()


class OrderListArgs(Schema):
    status = fields.String(
        load_default="",
        validate=validate.OneOf(
            ["", "placed", "confirmed", "partly_shipped", "shipped", "delivered", "cancelled"]
        ),
    )
    company_id = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "Staff: one customer's orders."},
    )


class OrderMove(Strict):
    to = fields.String(
        required=True,
        validate=validate.OneOf(
            ["confirmed", "partly_shipped", "shipped", "delivered", "cancelled"]
        ),
    )
    note = fields.String(load_default="", validate=validate.Length(max=2000))


# --- shipments ---------------------------------------------------------------------------


class ShipmentLineSchema(Schema):
    sku = fields.String()
    name = fields.String()
    quantity = fields.Integer()


class ShipmentSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    order_id = fields.Integer()
    order_number = fields.String()
    status = fields.String()
    carrier = fields.String(allow_none=True)
    tracking_number = fields.String()
    tracking_url = fields.String(allow_none=True)
    shipped_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    lines = fields.List(fields.Nested(ShipmentLineSchema))


# --- delivery addresses ------------------------------------------------------------------


class AddressSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    street = fields.String()
    postcode = fields.String()
    city = fields.String()
    country = fields.String()
    is_default = fields.Boolean()


class AddressNew(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=160))
    street = fields.String(required=True, validate=validate.Length(min=1, max=300))
    postcode = fields.String(required=True, validate=validate.Length(min=1, max=16))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    country = fields.String(required=True, validate=validate.Length(equal=2))
    is_default = fields.Boolean(load_default=False)


# --- quotes ------------------------------------------------------------------------------


class QuoteLineSchema(Schema):
    kind = fields.String(metadata={"description": "product, or custom (a part made to drawings)"})
    product_id = fields.Integer(allow_none=True, metadata={"description": "null for a custom part"})
    sku = fields.String()
    name = fields.String()
    quantity = fields.Integer()
    description = fields.String(metadata={"description": "A custom part's description"})
    material = fields.String(metadata={"description": "A custom part's material"})
    thickness = fields.String(metadata={"description": "A custom part's thickness, in mm"})
    drawings = fields.List(
        fields.String(), metadata={"description": "A custom part's drawings, by file name"}
    )
    unit_price = UnitPrice(allow_none=True, metadata={"description": "null until priced"})
    line_total = Money(allow_none=True)


class QuoteRoundSchema(Schema):
    id = fields.Integer()
    side = fields.String(metadata={"description": "customer or staff"})
    action = fields.String()
    note = fields.String()
    valid_until = fields.Date(allow_none=True)
    created_at = fields.DateTime()


class QuoteSummarySchema(Schema):
    """`total`, and each line's `unit_price` and `line_total`, are absent for a person
    without `shop.prices` (an external collaborator)."""

    id = fields.Integer()
    number = fields.String()
    status = fields.String()
    status_label = fields.String()
    company = fields.Nested(PartySchema)
    requested_by = fields.Nested(PartySchema, allow_none=True)
    created_at = fields.DateTime()
    valid_until = fields.Date(allow_none=True)
    turn = fields.String(allow_none=True, metadata={"description": "customer, staff or null"})
    total = Money(allow_none=True)


class QuoteSchema(QuoteSummarySchema):
    note = fields.String()
    lines = fields.List(fields.Nested(QuoteLineSchema))
    rounds = fields.List(fields.Nested(QuoteRoundSchema))
    latest_round_id = fields.Integer(allow_none=True)
    order_id = fields.Integer(allow_none=True)


class QuoteAsk(Strict):
    product_id = fields.Integer(validate=validate.Range(min=1))
    sku = fields.String(validate=validate.Length(min=1, max=64))
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=1_000_000))


class QuoteRequest(Strict):
    lines = fields.List(
        fields.Nested(QuoteAsk), required=True, validate=validate.Length(min=1, max=50)
    )
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class QuoteAccept(Strict):
    latest_round_id = fields.Integer(
        load_default=None,
        metadata={"description": "The round you read: refused if the quote moved since."},
    )
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class QuoteAccepted(Schema):
    status = fields.String(metadata={"description": "ordered or awaiting_approval"})
    order = fields.Nested(OrderSchema, allow_none=True)
    quote = fields.Nested(QuoteSchema)
    detail = fields.String()


class QuoteListArgs(Schema):
    status = fields.String(
        load_default="",
        validate=validate.OneOf(
            [
                "",
                "seller",
                "customer",
                "requested",
                "offered",
                "countered",
                "accepted",
                "rejected",
                "withdrawn",
                "expired",
            ]
        ),
        metadata={"description": "Whose turn it is (seller, customer), or a status."},
    )


# --- invoices, payments, credit notes --------------------------------------------------------


class InvoiceLineSchema(Schema):
    sku = fields.String()
    description = fields.String()
    quantity = fields.Integer()
    unit_price = UnitPrice()
    line_total = Money()
    vat_rate = Rate()


class PaymentSchema(Schema):
    id = fields.Integer()
    invoice_id = fields.Integer()
    amount = Money()
    received_on = fields.Date()
    method = fields.String()
    reference = fields.String()


class InvoiceSummarySchema(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.String()
    company = fields.Nested(PartySchema)
    order_id = fields.Integer()
    issued_at = fields.DateTime()
    due_on = fields.Date()
    currency = fields.String()
    net_total = Money()
    vat_total = Money()
    total = Money()
    paid_total = Money()
    credited_total = Money()
    balance = Money()


class InvoiceSchema(InvoiceSummarySchema):
    tax_kind = fields.String()
    lines = fields.List(fields.Nested(InvoiceLineSchema))
    payments = fields.List(fields.Nested(PaymentSchema))


class InvoiceListArgs(Schema):
    status = fields.String(
        load_default="",
        validate=validate.OneOf(
            ["", "outstanding", "open", "partially-paid", "overdue", "paid", "void"]
        ),
    )
    company_id = fields.Integer(load_default=None, validate=validate.Range(min=1))


class PaymentNew(Strict):
    amount = fields.Decimal(required=True, places=2, validate=positive)
    received_on = fields.Date(required=True)
    method = fields.String(
        required=True, validate=validate.OneOf(["transfer", "card", "cash", "cheque", "other"])
    )
    reference = fields.String(load_default="", validate=validate.Length(max=80))


class CreditNoteSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    company = fields.Nested(PartySchema)
    invoice_id = fields.Integer(allow_none=True)
    amount = Money()
    net_amount = Money()
    vat_rate = Rate()
    vat_amount = Money()
    reason = fields.String()
    currency = fields.String()
    issued_at = fields.DateTime()


class CreditNoteNew(Strict):
    amount = fields.Decimal(required=True, places=2, validate=positive)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


# --- the back office: products, stock, customers ---------------------------------------------


class BreakSchema(Schema):
    min_quantity = fields.Integer(required=True, validate=validate.Range(min=2, max=1_000_000))
    price = UnitPrice(required=True)


class GroupPriceSchema(Schema):
    group_id = fields.Integer()
    group = fields.String()
    price = UnitPrice()
    breaks = fields.List(fields.Nested(BreakSchema))


class StaffProductSchema(Schema):
    """A product as staff see it: stock with `stock.view`, cost with `finance.costs`,
    group prices with `groups.view`."""

    id = fields.Integer()
    sku = fields.String()
    name = fields.String()
    description = fields.String()
    category = fields.Nested(CategorySchema, allow_none=True)
    unit = fields.String()
    tax_class = fields.String()
    base_price = UnitPrice()
    breaks = fields.List(fields.Nested(BreakSchema))
    min_quantity = fields.Integer()
    order_multiple = fields.Integer()
    is_archived = fields.Boolean()
    specs = fields.Dict(keys=fields.String(), values=fields.String())
    stock = fields.Integer(metadata={"description": "Only with stock.view."})
    cost = UnitPrice(metadata={"description": "Only with finance.costs."})
    group_prices = fields.List(
        fields.Nested(GroupPriceSchema), metadata={"description": "Only with groups.view."}
    )


class StaffProductArgs(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    archived = fields.Boolean(load_default=False)


class ProductNew(Strict):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    base_price = fields.Decimal(required=True)
    cost = fields.Decimal(metadata={"description": "Only with finance.costs."})
    stock = fields.Integer(load_default=0, validate=validate.Range(min=0))
    category_id = fields.Integer(load_default=None, allow_none=True)
    description = fields.String(load_default="", validate=validate.Length(max=20_000))
    specs = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    unit = fields.String(load_default="pcs", validate=validate.Length(min=1, max=16))
    tax_class = fields.String(
        load_default="standard", validate=validate.OneOf(["standard", "reduced", "zero"])
    )
    min_quantity = fields.Integer(load_default=1, validate=validate.Range(min=1))
    order_multiple = fields.Integer(load_default=1, validate=validate.Range(min=1))


class ProductChange(Strict):
    """Only the fields sent change."""

    sku = fields.String(validate=validate.Length(min=1, max=64))
    name = fields.String(validate=validate.Length(min=1, max=200))
    cost = fields.Decimal(metadata={"description": "Only with finance.costs."})
    category_id = fields.Integer(allow_none=True)
    description = fields.String(validate=validate.Length(max=20_000))
    specs = fields.Dict(keys=fields.String(), values=fields.String())
    unit = fields.String(validate=validate.Length(min=1, max=16))
    tax_class = fields.String(validate=validate.OneOf(["standard", "reduced", "zero"]))
    min_quantity = fields.Integer(validate=validate.Range(min=1))
    order_multiple = fields.Integer(validate=validate.Range(min=1))


class PricesChange(Strict):
    """The base price, the base list's quantity breaks (the whole list), group prices
    (group id -> price, null removes it) and a group's own breaks (group id -> the whole
    list; [] removes them; the group needs a price of its own). Groups need groups.edit.
    Only what is sent changes."""

    base_price = fields.Decimal()
    breaks = fields.List(fields.Nested(BreakSchema), validate=validate.Length(max=20))
    group_prices = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[0-9]{1,9}$")),
        values=fields.Decimal(allow_none=True),
    )
    group_breaks = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[0-9]{1,9}$")),
        values=fields.List(fields.Nested(BreakSchema), validate=validate.Length(max=20)),
    )


class StockAdjustment(Strict):
    counted = fields.Integer(required=True, validate=validate.Range(min=0))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class StockReceipt(Strict):
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=10_000_000))
    reference = fields.String(required=True, validate=validate.Length(min=1, max=120))


class StockLevelSchema(Schema):
    product_id = fields.Integer()
    sku = fields.String()
    stock = fields.Integer()
    to_backorders = fields.Integer(metadata={"description": "Receipts: what served back-orders."})


class CustomerSummarySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()
    group = fields.Nested(PartySchema)
    country = fields.String()
    is_active = fields.Boolean()


class CustomerSchema(CustomerSummarySchema):
    email = fields.String()
    phone = fields.String()
    vat_number = fields.String()
    address = fields.String()
    postcode = fields.String()
    city = fields.String()
    payment_terms_days = fields.Integer()
    approval_limit = Money(allow_none=True)
    reference_required = fields.Boolean()
    reps = fields.List(fields.Nested(PartySchema))
    addresses = fields.List(fields.Nested(AddressSchema))


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    status = fields.String()
    roles = fields.List(fields.String())
    last_login_at = fields.DateTime(allow_none=True)
