"""Where goods go and how: delivery addresses, shipping methods, carriers and shipments."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .base import Money, utcnow

SHIPMENT_STATUSES = ("prepared", "shipped", "delivered")

# Which customer groups may use a shipping method (none listed: no group may).
shipping_method_groups = Table(
    "shipping_method_groups",
    db.metadata,
    Column("method_id", ForeignKey("shipping_methods.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("customer_groups.id", ondelete="CASCADE"), primary_key=True),
)


class DeliveryAddress(db.Model):
    """One entry of a company's address book; one of them is the default."""

    __tablename__ = "delivery_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(160))
    street: Mapped[str] = mapped_column(String(300))
    postcode: Mapped[str] = mapped_column(String(16))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    company = relationship("Company", back_populates="delivery_addresses")


class ShippingMethod(db.Model):
    """A way of sending goods, kept by staff: its price, free above an order value, lead time."""

    __tablename__ = "shipping_methods"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("lead_days >= 0", name="lead_days_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # Orders whose goods are worth at least this much (net) ship free; None: never free.
    free_above: Mapped[Decimal | None] = mapped_column(Money)
    lead_days: Mapped[int] = mapped_column(default=1)  # working days
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    groups = relationship("CustomerGroup", secondary=shipping_method_groups)


class Carrier(db.Model):
    """A parcel or freight company; its tracking link is made from a template."""

    __tablename__ = "carriers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # e.g. "https://www.dhl.de/en/privatkunden/dhl-sendungsverfolgung.html?piececode={tracking}"
    tracking_url: Mapped[str] = mapped_column(String(300), default="")
    is_active: Mapped[bool] = mapped_column(default=True)


class Shipment(db.Model):
    """Goods of one order sent together: some or all of its open quantities."""

    __tablename__ = "shipments"
    __table_args__ = (
        CheckConstraint("status IN ('prepared', 'shipped', 'delivered')", name="status"),
        Index("ix_shipments_order", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("carriers.id"))
    tracking_number: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(12), default="prepared")
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order = relationship("Order", back_populates="shipments")
    carrier = relationship("Carrier")
    created_by = relationship("User")
    lines = relationship("ShipmentLine", cascade="all, delete-orphan", order_by="ShipmentLine.id")


class ShipmentLine(db.Model):
    """A quantity of one order line in a shipment."""

    __tablename__ = "shipment_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int]

    order_line = relationship("OrderLine")
