"""Customer groups (the commercial policy), companies and their sales reps."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .base import Money, UnitPrice, utcnow

company_reps = Table(
    "company_reps",
    db.metadata,
    Column("company_id", ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

# What a group may not see (core.visibility): whole categories, each with its
# subcategories, and single products. A row goes with its group, category or product.
group_hidden_categories = Table(
    "group_hidden_categories",
    db.metadata,
    Column("group_id", ForeignKey("customer_groups.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)

group_hidden_products = Table(
    "group_hidden_products",
    db.metadata,
    Column("group_id", ForeignKey("customer_groups.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)

EXACT = "exact"
LEVELS = "levels"


class CustomerGroup(db.Model):
    """What every company in the group is offered: prices, promotions, quotes, stock display."""

    __tablename__ = "customer_groups"
    __table_args__ = (
        CheckConstraint("stock_display IN ('exact', 'levels')", name="stock_display"),
        CheckConstraint("few_from >= 0 AND many_from > few_from", name="thresholds"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    shows_promotions: Mapped[bool] = mapped_column(default=False)
    quotes_allowed: Mapped[bool] = mapped_column(default=False)
    stock_display: Mapped[str] = mapped_column(String(10), default=LEVELS)
    # Below few_from a product shows as "Out of stock", from many_from on as "Many".
    few_from: Mapped[int] = mapped_column(default=1)
    many_from: Mapped[int] = mapped_column(default=50)
    # The part of a line beyond available stock is accepted as back-ordered.
    backorders_allowed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    companies = relationship("Company", back_populates="group", order_by="Company.name")

    def __repr__(self) -> str:
        return f"<CustomerGroup {self.name}>"


class GroupPrice(db.Model):
    """A group's price for one product; without one the group pays the base price."""

    __tablename__ = "group_prices"
    __table_args__ = (
        db.UniqueConstraint("group_id", "product_id", name="uq_group_prices_group_product"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        # A group's prices in price order (the catalogue's price sort).
        Index("ix_group_prices_group_price", "group_id", "price", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("customer_groups.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    price: Mapped[Decimal] = mapped_column(UnitPrice)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    group = relationship("CustomerGroup")
    product = relationship("Product")


class PriceBreak(db.Model):
    """The unit price from a quantity on: on the base list (group_id None) or on a group's.

    A group's breaks replace the base breaks for that group when it has its own price for
    the product (core.offer). NULL is distinct from NULL in a unique key, so the base
    list's one break per quantity is kept by core.products, under the product's row lock.
    """

    __tablename__ = "price_breaks"
    __table_args__ = (
        db.UniqueConstraint(
            "product_id", "group_id", "min_quantity", name="uq_price_breaks_product_id"
        ),
        CheckConstraint("min_quantity >= 2", name="from_two"),
        CheckConstraint("price > 0", name="price_positive"),
        Index("ix_price_breaks_group_product", "group_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_groups.id", ondelete="CASCADE")
    )
    min_quantity: Mapped[int]
    price: Mapped[Decimal] = mapped_column(UnitPrice)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Company(db.Model):
    """A customer company: its group decides its offer, its reps serve it."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("customer_groups.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    # The VAT ID as stored by core.tax.clean_vat_id (compact, with its country prefix).
    vat_number: Mapped[str] = mapped_column(String(40), default="")
    # Billing address; `country` (ISO 3166 alpha-2) also decides the VAT rule (core.tax).
    address: Mapped[str] = mapped_column(Text, default="")  # street lines
    postcode: Mapped[str] = mapped_column(String(16), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="DE")
    # Checkout requires the customer's own reference (purchase-order number).
    reference_required: Mapped[bool] = mapped_column(default=False)
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    # Orders above this amount need a second decision-maker; None means never.
    approval_limit: Mapped[Decimal | None] = mapped_column(Money)
    # Whether the seller lets this company's decision-makers manage their own people.
    manages_own_users: Mapped[bool] = mapped_column(default=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group = relationship("CustomerGroup", back_populates="companies")
    people = relationship("User", back_populates="company", foreign_keys="User.company_id")
    reps = relationship(
        "User", secondary=company_reps, back_populates="assigned_companies", order_by="User.name"
    )
    delivery_addresses = relationship(
        "DeliveryAddress",
        back_populates="company",
        cascade="all, delete-orphan",
        order_by="(DeliveryAddress.is_default.desc(), DeliveryAddress.name)",
    )

    def __repr__(self) -> str:
        return f"<Company {self.name}>"
