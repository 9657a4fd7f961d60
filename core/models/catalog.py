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
    select,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

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
        # "In stock only" in a category, and the counts of its filters, from the index
        # alone (migration 0015: a category of 30,000 products counted 4x faster).
        Index("ix_products_archived_category_stock", "is_archived", "category_id", "stock"),
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
    # The least a line may order, and the pack size every quantity is a multiple of
    # (core.offer.check_quantity); 1 and 1 leave any whole quantity.
    min_quantity: Mapped[int] = mapped_column(default=1, server_default="1")
    order_multiple: Mapped[int] = mapped_column(default=1, server_default="1")
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


# The search index (core.search_index): each byte trigram of a product's search key, for
# the products on sale, with the product's name bucket so that one trigram's products come
# roughly in name order (migration 0011). Kept by core.search_index on every write.
product_trigrams = Table(
    "product_trigrams",
    db.metadata,
    Column("trigram", db.Integer, primary_key=True, autoincrement=False),
    Column("bucket", db.Integer, primary_key=True, autoincrement=False),
    Column("product_id", db.Integer, primary_key=True, autoincrement=False),
    Index("ix_product_trigrams_product", "product_id"),
    sqlite_with_rowid=False,
)

# Lower bounds of the name buckets: a product is in the last bucket whose first_name is not
# after its name, compared as the database compares names (so in its collation).
search_buckets = Table(
    "search_buckets",
    db.metadata,
    Column("bucket", db.Integer, primary_key=True, autoincrement=False),
    Column("first_name", String(200), nullable=False, index=True),
)

# Products on sale per category (0: none), kept by triggers on products in the same
# transaction as the change (migration 0011). MariaDB spreads each category over shards
# by connection, so concurrent writers do not queue on one row; a total sums the shards.
catalog_counts = Table(
    "catalog_counts",
    db.metadata,
    Column("category_key", db.Integer, primary_key=True, autoincrement=False),
    Column("shard", db.Integer, primary_key=True, autoincrement=False),
    Column("sold", db.Integer, nullable=False, default=0),
)

SPEC_NAME_LENGTH = 60  # as core.products.SPEC_KEY_LENGTH
SPEC_VALUE_LENGTH = 200


def _spec_text(length: int):
    """A specification's name or value, compared byte by byte on MariaDB too (a binary
    collation), so that "SOT-23" and "sot-23" are two values there as they are in SQLite
    and in the product's JSON."""
    return String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


# The catalogue's specification values, each (name, value) once (core.specs_index), and
# each product's values by number: what the catalogue's filters select on and count
# (core.catalog_filters). A count groups by the value's number, never by its text: the
# database's temporary table keeps a few bytes a row instead of a kilobyte (bench/catalog.py:
# a category of 30,000 products counted in a quarter of the time). Kept on every ORM write
# of products.specs; bulk writers call core.specs_index.refresh() (migration 0015).
spec_values = Table(
    "spec_values",
    db.metadata,
    Column("id", db.Integer, primary_key=True),
    Column("name", _spec_text(SPEC_NAME_LENGTH), nullable=False),
    Column("value", _spec_text(SPEC_VALUE_LENGTH), nullable=False),
    Index("ix_spec_values_name_value", "name", "value", unique=True),
)

product_specs = Table(
    "product_specs",
    db.metadata,
    Column(
        "product_id",
        ForeignKey("products.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("value_id", ForeignKey("spec_values.id"), primary_key=True, autoincrement=False),
    # The specification's place in the product's own list (its "key specs" come first).
    Column("position", db.Integer, nullable=False, default=0),
    # The products holding a value, read from the index alone.
    Index("ix_product_specs_value", "value_id", "product_id"),
    sqlite_with_rowid=False,
)


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


# The file name of a product's first photo (None: it has none), for a list's thumbnails:
# deferred, so that only a listing that asks for it (core.catalog.browse) reads it, as a
# column of its own statement rather than one more statement per page.
# Told its index on MariaDB, which would read a small photo table whole for each row.
Product.first_photo = column_property(
    select(ProductPhoto.filename)
    .where(ProductPhoto.product_id == Product.id)
    .order_by(ProductPhoto.position, ProductPhoto.id)
    .limit(1)
    .with_hint(ProductPhoto, "FORCE INDEX (ix_product_photos_product_id)", "mysql")
    .correlate_except(ProductPhoto)
    .scalar_subquery(),
    deferred=True,
)


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
