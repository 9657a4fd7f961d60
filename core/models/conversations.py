"""Conversations on quotes and orders: messages, their attachments, and read positions."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .base import utcnow

SIDES = ("customer", "staff")
VIAS = ("portal", "mail", "link")


class Conversation(db.Model):
    """The one conversation of a quote or an order, between its company and the seller.

    Exactly one of `quote_id` / `order_id` is set. `company_id` is the record's company,
    kept here so that scoping a conversation never needs its record. `reply_token` names
    the conversation in a mail's Reply-To address (core.conversations.reply_to_address).
    """

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint("(quote_id IS NULL) <> (order_id IS NULL)", name="one_record"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    quote_id: Mapped[int | None] = mapped_column(
        ForeignKey("quotes.id", ondelete="CASCADE"), unique=True
    )
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), unique=True
    )
    reply_token: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    company = relationship("Company")
    quote = relationship("Quote")
    order = relationship("Order")
    messages = relationship(
        "Message",
        back_populates="conversation",
        order_by="Message.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def record(self):
        """The quote or order this conversation is about."""
        return self.quote if self.quote_id is not None else self.order


class Message(db.Model):
    """One message: who wrote it (a person, or a contact without an account who replied by
    mail), from which side, through what (`portal`, `mail`, `link`), and its files."""

    __tablename__ = "conversation_messages"
    __table_args__ = (
        Index("ix_conversation_messages_conversation_id_id", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    author_name: Mapped[str] = mapped_column(String(200), default="")
    author_email: Mapped[str] = mapped_column(String(254), default="")
    side: Mapped[str] = mapped_column(String(10))
    via: Mapped[str] = mapped_column(String(10), default="portal")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation = relationship("Conversation", back_populates="messages")
    author = relationship("User")
    attachments = relationship("Attachment", order_by="Attachment.id", back_populates="message")


class Attachment(db.Model):
    """A file checked by content (core.attachments) and kept under UPLOAD_DIR/attachments.

    Belongs to a message once it is posted (`message_id`), or to whatever else holds its
    id (a custom part's drawing), always to one company: the one whose record it is on.
    """

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation_messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    message = relationship("Message", back_populates="attachments")
    uploaded_by = relationship("User")


class ConversationRead(db.Model):
    """How far one person has read one conversation: the last message id they were shown."""

    __tablename__ = "conversation_reads"
    __table_args__ = (
        UniqueConstraint("conversation_id", "user_id", name="uq_conversation_reads_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    last_message_id: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
