"""Quotes mailed to a customer's contact who has no portal account: signed, expiring links."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .base import utcnow

QUOTE_LINK_DECISIONS = ("accepted", "rejected")


class QuoteLink(db.Model):
    """A quote sent by mail to one contact (core.quote_links).

    Only the token's SHA-256 is kept: the link itself lives in the contact's mailbox. It
    opens the quote as the company's group sees it until `expires_at`; a decision
    (accept or reject) uses it up (`used_at`, `decision`), viewing and replying do not.
    Staff revoke it (`revoked_at`). The contact's name and address are kept here, as
    typed by the staff member who sent it: the contact has no account.
    """

    __tablename__ = "quote_links"
    __table_args__ = (CheckConstraint("decision IN ('accepted', 'rejected')", name="decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    recipient_name: Mapped[str] = mapped_column(String(120))
    recipient_email: Mapped[str] = mapped_column(String(254), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    viewed_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(10))
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    quote = relationship("Quote")
    sent_by = relationship("User", foreign_keys=[sent_by_id])
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])

    def status_at(self, now: datetime) -> str:
        """used, revoked, expired or open."""
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "open"
