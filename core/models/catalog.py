"""Categories, products with stock and photos, promotions, stock movements."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    TypeDecorator,
    event,
    false,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .base import Json, Percent, UnitPrice, utcnow

SEARCH_KEY_LENGTH = 270  # SKU (64) + space + name (200), with room to spare


class SearchKey(TypeDecorator):
    """Text that a search matches byte by byte: VARBINARY on MariaDB, where even a binary
    collation converts each value before LOCATE (100,000 keys: 22 ms instead of 30,
    migration 0006); plain text elsewhere. Python always sees a str."""

    impl = String(SEARCH_KEY_LENGTH)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            # UTF-8 takes at most four bytes a character.
            return dialect.type_descriptor(mysql.VARBINARY(SEARCH_KEY_LENGTH * 4))
        return dialect.type_descriptor(String(SEARCH_KEY_LENGTH))

    def process_bind_param(self, value, dialect):
        if isinstance(value, str) and dialect.name in ("mysql", "mariadb"):
            return value.encode()
        return value

    def process_result_value(self, value, dialect):
        return value.decode() if isinstance(value, bytes) else value


promotion_products = Table(
    "promotion_products",
    db.metadata,
    Column("promotion_id", ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)

promotion_categories = Table(
    "promotion_categories",
    db.metadata,
    Column("promotion_id", ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Category(db.Model):
    """A shelf of the catalogue; one level of nesting is used by the demo."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    position: Mapped[int] = mapped_column(default=0)

    parent = relationship("Category", remote_side=[id])

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


class Product(db.Model):
    """A sellable item. Stock never goes below zero (constraint and conditional updates)."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("base_price >= 0 AND cost >= 0", name="money_not_negative"),
        CheckConstraint("tax_class IN ('standard', 'reduced', 'zero')", name="tax_class"),
        Index("ix_products_archived_name", "is_archived", "name"),
        # A search sorted by name walks it and matches search_key in each entry, so its
        # matches are neither sorted nor read (migration 0006).
        Index("ix_products_archived_name_search", "is_archived", "name", "id", "search_key"),
        # Counting a category, and reading its page in name order from the index alone.
        Index("ix_products_archived_category_name", "is_archived", "category_id", "name"),
        # The price order of base-priced products.
        Index("ix_products_archived_base_price", "is_archived", "base_price"),
        # Searching by SKU or name scans this narrow index instead of the table.
        Index("ix_products_archived_search", "is_archived", "search_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    base_price: Mapped[Decimal] = mapped_column(UnitPrice)
    cost: Mapped[Decimal] = mapped_column(UnitPrice, default=Decimal("0"))
    stock: Mapped[int] = mapped_column(default=0)
    unit: Mapped[str] = mapped_column(String(16), default="pcs")
    # Which of the seller's VAT rates applies (core.tax): standard, reduced or zero.
    tax_class: Mapped[str] = mapped_column(String(10), default="standard")
    specs: Mapped[dict] = mapped_column(Json, default=dict)
    is_archived: Mapped[bool] = mapped_column(default=False)
    # "sku name" lower-cased, kept by search_key_of() on every ORM write (bulk writers set
    # it themselves). Matched as bytes: a scan for '%q%' over it is several times cheaper
    # than a case-insensitive one over sku and name (bench/catalog.py).
    search_key: Mapped[str] = mapped_column(SearchKey(), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    category = relationship("Category")
    photos = relationship(
        "ProductPhoto", cascade="all, delete-orphan", order_by="ProductPhoto.position"
    )

    @classmethod
    def sold(cls):
        """The products on sale. `= false`, not `IS false`: only the former can use the
        (is_archived, ...) indexes on MariaDB (bench/catalog.py: a full scan otherwise)."""
        return cls.is_archived == false()

    def __repr__(self) -> str:
        return f"<Product {self.sku}>"


def search_key_of(sku: str, name: str) -> str:
    """What a search by SKU or name matches against: both, lower-cased, in one string."""
    return f"{sku or ''} {name or ''}".lower()[:SEARCH_KEY_LENGTH]


@event.listens_for(Product, "before_insert")
@event.listens_for(Product, "before_update")
def _keep_search_key(mapper, connection, target: Product) -> None:
    target.search_key = search_key_of(target.sku, target.name)


class ProductPhoto(db.Model):
    """An uploaded picture of a product, stored under instance/uploads with a thumbnail."""

    __tablename__ = "product_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(120), unique=True)
    original_name: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Promotion(db.Model):
    """A time-boxed discount on products or whole categories, given per customer group."""

    __tablename__ = "promotions"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="window"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(255), default="")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    products = relationship("Product", secondary=promotion_products)
    categories = relationship("Category", secondary=promotion_categories)
    group_terms = relationship(
        "PromotionGroup", cascade="all, delete-orphan", back_populates="promotion"
    )

    def __repr__(self) -> str:
        return f"<Promotion {self.name}>"


class PromotionGroup(db.Model):
    """How much a promotion gives one group, and whether that group sees it at all."""

    __tablename__ = "promotion_groups"
    __table_args__ = (
        CheckConstraint("discount_percent > 0 AND discount_percent < 100", name="discount"),
    )

    promotion_id: Mapped[int] = mapped_column(
        ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("customer_groups.id", ondelete="CASCADE"), primary_key=True
    )
    discount_percent: Mapped[Decimal] = mapped_column(Percent)
    is_visible: Mapped[bool] = mapped_column(default=True)

    promotion = relationship("Promotion", back_populates="group_terms")
    group = relationship("CustomerGroup")


class StockMovement(db.Model):
    """One change of a product's stock, with who, when, why, before and after."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('initial', 'order', 'cancellation', 'adjustment', 'import', 'receipt')",
            name="kind",
        ),
        Index("ix_stock_movements_product_at", "product_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    delta: Mapped[int]
    stock_before: Mapped[int]
    stock_after: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product = relationship("Product")
    user = relationship("User")
