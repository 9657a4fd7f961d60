"""Shared lists of a customer company: requisition lists and bills of materials."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .base import utcnow

LIST_NAME_LENGTH = 120
LIST_DESCRIPTION_LENGTH = 1000
LINE_NOTE_LENGTH = 255


class ShoppingList(db.Model):
    """A named list of products and quantities that a company's people keep together."""

    __tablename__ = "shopping_lists"
    __table_args__ = (
        # The company's index, newest change first; a name is unique within its company
        # (core.lists compares names without regard to case, as people read them).
        Index("ix_shopping_lists_company_updated", "company_id", "updated_at"),
        UniqueConstraint("company_id", "name", name="uq_shopping_lists_company_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(LIST_NAME_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    company = relationship("Company")
    created_by = relationship("User", foreign_keys=[created_by_id])
    updated_by = relationship("User", foreign_keys=[updated_by_id])
    lines = relationship(
        "ShoppingListLine",
        cascade="all, delete-orphan",
        back_populates="list",
        order_by="(ShoppingListLine.position, ShoppingListLine.id)",
        passive_deletes=True,
    )


class ShoppingListLine(db.Model):
    """A product on a list, with its quantity and a note (a designator, a footprint)."""

    __tablename__ = "shopping_list_lines"
    __table_args__ = (
        UniqueConstraint("list_id", "product_id", name="uq_shopping_list_lines_list_product"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        # The list page, in the order the lines were added.
        Index("ix_shopping_list_lines_list_position", "list_id", "position"),
        # Which lists show a product whose offer changed (live pushes).
        Index("ix_shopping_list_lines_product", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("shopping_lists.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    note: Mapped[str] = mapped_column(String(LINE_NOTE_LENGTH), default="")
    position: Mapped[int] = mapped_column(default=0)

    list = relationship("ShoppingList", back_populates="lines")
    product = relationship("Product")
