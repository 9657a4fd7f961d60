"""Carts with their approval, orders with their status history, quotes with their rounds."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .base import Money, Percent, UnitPrice, utcnow

CART_STATUSES = ("open", "submitted", "approved", "rejected")
ORDER_STATUSES = ("placed", "confirmed", "partly_shipped", "shipped", "delivered", "cancelled")
QUOTE_STATUSES = (
    "requested",
    "offered",
    "countered",
    "accepted",
    "rejected",
    "expired",
    "withdrawn",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def custom_title(description: str | None, material: str | None, thickness: str | None) -> str:
    """ "Bracket, S235 steel 3 mm": a custom part's name on its quote, order and invoice."""
    what = " ".join((description or "").split())
    made_of = " ".join(p for p in (material or "", f"{thickness} mm" if thickness else "") if p)
    return f"{what}, {made_of}" if made_of else what


class Cart(db.Model):
    """A person's cart; a requester submits it and a decision-maker approves or rejects it."""

    __tablename__ = "carts"
    __table_args__ = (
        CheckConstraint(_in("status", CART_STATUSES), name="status"),
        Index("ix_carts_company_status", "company_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open")
    # The staff member who built it in the customer person's name (core.acting), if any.
    acting_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None]
    # An order over the company's approval limit needs two decision-makers.
    first_approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    # Checkout's choices, kept with the cart so that they travel with an approval request.
    delivery_address_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_addresses.id", ondelete="SET NULL")
    )
    shipping_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("shipping_methods.id", ondelete="SET NULL")
    )
    customer_reference: Mapped[str] = mapped_column(String(60), default="")
    requested_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    company = relationship("Company")
    delivery_address = relationship("DeliveryAddress")
    shipping_method = relationship("ShippingMethod")
    owner = relationship("User", foreign_keys=[owner_id])
    first_approver = relationship("User", foreign_keys=[first_approver_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    acting_staff = relationship("User", foreign_keys=[acting_staff_id])
    lines = relationship(
        "CartLine", cascade="all, delete-orphan", back_populates="cart", order_by="CartLine.id"
    )


class CartLine(db.Model):
    """A product and a quantity in a cart; the price comes from the offer when it is shown."""

    __tablename__ = "cart_lines"
    __table_args__ = (
        db.UniqueConstraint("cart_id", "product_id", name="uq_cart_lines_cart_product"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]

    cart = relationship("Cart", back_populates="lines")
    product = relationship("Product")


class Order(db.Model):
    """A customer's order. Lines keep the price of the moment it was placed."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(_in("status", ORDER_STATUSES), name="status"),
        Index("ix_orders_company_created", "company_id", "created_at"),
        Index("ix_orders_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"))
    # The staff member who placed it in the customer person's name (core.acting), if any.
    acting_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="placed")
    # The goods' net total (the sum of the lines): what reports count.
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    note: Mapped[str] = mapped_column(Text, default="")
    customer_reference: Mapped[str] = mapped_column(String(60), default="")
    requested_date: Mapped[date | None]
    # The shipping method as chosen, and its net price (0 when free above its threshold).
    shipping_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("shipping_methods.id", ondelete="SET NULL")
    )
    shipping_name: Mapped[str] = mapped_column(String(80), default="")
    shipping_price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    shipping_vat_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0"))
    # Where the goods go, copied from the address book when the order was placed.
    delivery_name: Mapped[str] = mapped_column(String(160), default="")
    delivery_street: Mapped[str] = mapped_column(String(300), default="")
    delivery_postcode: Mapped[str] = mapped_column(String(16), default="")
    delivery_city: Mapped[str] = mapped_column(String(100), default="")
    delivery_country: Mapped[str] = mapped_column(String(2), default="")
    # The VAT rule applied (core.tax), with the buyer's country and VAT ID of that moment.
    tax_kind: Mapped[str] = mapped_column(String(16), default="domestic")
    buyer_country: Mapped[str] = mapped_column(String(2), default="")
    buyer_vat_number: Mapped[str] = mapped_column(String(40), default="")
    vat_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    company = relationship("Company")
    placed_by = relationship("User", foreign_keys=[placed_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    quote = relationship("Quote", foreign_keys=[quote_id])
    acting_staff = relationship("User", foreign_keys=[acting_staff_id])
    shipping_method = relationship("ShippingMethod")
    lines = relationship(
        "OrderLine", cascade="all, delete-orphan", back_populates="order", order_by="OrderLine.id"
    )
    shipments = relationship(
        "Shipment", cascade="all, delete-orphan", back_populates="order", order_by="Shipment.id"
    )
    events = relationship(
        "OrderEvent", cascade="all, delete-orphan", order_by="OrderEvent.id", back_populates="order"
    )

    @property
    def net_total(self) -> Decimal:
        """Goods and shipping, net of VAT."""
        return self.total + self.shipping_price

    @property
    def gross_total(self) -> Decimal:
        return self.net_total + self.vat_total


class OrderLine(db.Model):
    """One product on an order, at the price the offer gave when the order was placed."""

    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    # None for a custom part ordered from a quote (core.custom_parts): sku and name say it.
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    list_price: Mapped[Decimal] = mapped_column(UnitPrice)
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice)
    unit_cost: Mapped[Decimal] = mapped_column(UnitPrice, default=Decimal("0"))
    promotion_id: Mapped[int | None] = mapped_column(
        ForeignKey("promotions.id", ondelete="SET NULL")
    )
    line_total: Mapped[Decimal] = mapped_column(Money)
    tax_class: Mapped[str] = mapped_column(String(10), default="standard")
    vat_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0"))
    # Of `quantity`, how much was accepted beyond the stock there was: served on receipt.
    backordered: Mapped[int] = mapped_column(default=0)
    # A custom part's quote line, whose drawings the order's readers download.
    quote_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("quote_lines.id", ondelete="SET NULL"), index=True
    )

    order = relationship("Order", back_populates="lines")
    product = relationship("Product")
    quote_line = relationship("QuoteLine")


class OrderEvent(db.Model):
    """A step in an order's life: who moved it to which status, when, and why."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order = relationship("Order", back_populates="events")
    user = relationship("User")


class Quote(db.Model):
    """A request for quotation and its negotiation; the lines hold the current terms."""

    __tablename__ = "quotes"
    __table_args__ = (
        CheckConstraint(_in("status", QUOTE_STATUSES), name="status"),
        Index("ix_quotes_company_created", "company_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12), default="requested")
    # The staff member who asked for it in the customer person's name (core.acting), if any.
    acting_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    valid_until: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")
    # orders.quote_id points back here: this side is added after both tables exist.
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", use_alter=True, name="fk_quotes_order_id_orders")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    company = relationship("Company")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    order = relationship("Order", foreign_keys=[order_id])
    acting_staff = relationship("User", foreign_keys=[acting_staff_id])
    lines = relationship(
        "QuoteLine", cascade="all, delete-orphan", back_populates="quote", order_by="QuoteLine.id"
    )
    rounds = relationship(
        "QuoteRound", cascade="all, delete-orphan", back_populates="quote", order_by="QuoteRound.id"
    )


class QuoteLine(db.Model):
    """A product and quantity asked for, with the currently offered unit price.

    Or a custom part (no product): a description, a material and thickness, drawings, and
    its own reference `sku` (CUSTOM-<quote number>-<n>), core.custom_parts.
    """

    __tablename__ = "quote_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal | None] = mapped_column(UnitPrice)
    custom_sku: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    material_id: Mapped[int | None] = mapped_column(ForeignKey("materials.id"), index=True)
    material_name: Mapped[str | None] = mapped_column(String(100))
    thickness: Mapped[str | None] = mapped_column(String(12))

    quote = relationship("Quote", back_populates="lines")
    product = relationship("Product")
    material = relationship("Material")
    drawings = relationship(
        "QuoteLineDrawing", cascade="all, delete-orphan", order_by="QuoteLineDrawing.id"
    )

    @property
    def is_custom(self) -> bool:
        return self.product_id is None and self.product is None

    @property
    def key(self) -> str:
        """What ties this line to its lines in the rounds: the product, or this line."""
        return f"c{self.id}" if self.is_custom else f"p{self.product_id or self.product.id}"

    @property
    def sku(self) -> str:
        return self.custom_sku if self.is_custom else self.product.sku

    @property
    def title(self) -> str:
        """The product's name, or the custom part's description with material and thickness."""
        if not self.is_custom:
            return self.product.name
        return custom_title(self.description, self.material_name, self.thickness)

    @property
    def tax_class(self) -> str:
        return "standard" if self.is_custom else self.product.tax_class


class QuoteRound(db.Model):
    """One move in a negotiation. Rounds are written once and never edited: the timeline."""

    __tablename__ = "quote_rounds"
    __table_args__ = (
        CheckConstraint("side IN ('customer', 'staff')", name="side"),
        CheckConstraint(
            "action IN ('request', 'offer', 'counter', 'approve', 'accept', 'reject', 'withdraw', "
            "'expire')",
            name="action",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    side: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    valid_until: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    quote = relationship("Quote", back_populates="rounds")
    author = relationship("User")
    lines = relationship(
        "QuoteRoundLine", cascade="all, delete-orphan", order_by="QuoteRoundLine.id"
    )


class QuoteRoundLine(db.Model):
    """The terms one round proposed for one product."""

    __tablename__ = "quote_round_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("quote_rounds.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    # For a custom part (no product): the quote line it proposed terms for.
    quote_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("quote_lines.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int]
    unit_price: Mapped[Decimal | None] = mapped_column(UnitPrice)

    product = relationship("Product")
    quote_line = relationship("QuoteLine")

    @property
    def key(self) -> str:
        """The same key as its QuoteLine's."""
        return f"p{self.product_id}" if self.product_id is not None else f"c{self.quote_line_id}"
