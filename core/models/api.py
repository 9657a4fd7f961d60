"""The integration API's personal access tokens and the answers kept for idempotency keys."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.mysql import MEDIUMTEXT
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .base import utcnow

# An order's answer with many lines outgrows TEXT's 64 KiB on MariaDB.
LongText = Text().with_variant(MEDIUMTEXT(), "mysql")


class ApiToken(db.Model):
    """A personal access token: acts as its owner, never more (core.tokens).

    Only the SHA-256 of the token is kept; `prefix` finds the row (and names the token in
    lists). `window_*` count its requests for the rate limit, `last_used_*` its last use.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    read_only: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    last_used_ip: Mapped[str] = mapped_column(String(45), default="")
    window_started_at: Mapped[datetime | None]
    window_count: Mapped[int] = mapped_column(default=0)

    user = relationship("User")

    def status_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class IdempotencyKey(db.Model):
    """The first successful answer to a request that carried an `Idempotency-Key`, kept
    per token until `expires_at`: the same key and body get it again, unchanged."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (
        UniqueConstraint("token_id", "idempotency_key", name="uq_api_idempotency_keys_token_key"),
        Index("ix_api_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    endpoint: Mapped[str] = mapped_column(String(80))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    body: Mapped[str] = mapped_column(LongText)
    location: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
