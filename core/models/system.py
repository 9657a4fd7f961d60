"""The append-only audit log, settings, the outgoing mail outbox, imports and background jobs."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, event
from sqlalchemy.dialects.mysql import MEDIUMBLOB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .base import Json, utcnow


class AuditEntry(db.Model):
    """Who did what, when, to which record, with the values before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_action_at", "action", "created_at"),
        Index("ix_audit_log_actor_at", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as text too, so the entry still says who it was if the account is ever removed.
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(String(255), default="")
    before: Mapped[dict | None] = mapped_column(Json)
    after: Mapped[dict | None] = mapped_column(Json)
    ip: Mapped[str] = mapped_column(String(45), default="")

    actor = relationship("User")


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or remove an audit entry."""


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise AuditLogIsAppendOnly("audit entries cannot be changed")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AuditLogIsAppendOnly("audit entries cannot be removed")


class Setting(db.Model):
    """One portal-wide setting (company details on invoices, defaults), stored as JSON."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict | list | str | int | None] = mapped_column(Json)


class OutboxMail(db.Model):
    """A message to send: delivered by SMTP when configured, readable here in development."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")
    # The person it is written to (None: an address only), whose document it carries.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # A document still to draw and attach ("invoice", 12), by the job that delivers the
    # mail (core.mail): cleared once drawn (or given up on: the mail goes without it).
    document_kind: Mapped[str | None] = mapped_column(String(20))
    document_id: Mapped[int | None]
    # Where a reply goes ("" : to MAIL_FROM): a conversation's reply+<token>@ address.
    reply_to: Mapped[str] = mapped_column(String(254), default="", server_default="")

    attachments = relationship(
        "OutboxAttachment", cascade="all, delete-orphan", order_by="OutboxAttachment.id"
    )


class OutboxAttachment(db.Model):
    """A file sent with an outgoing mail (a document's PDF), kept with it in the outbox."""

    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(100))
    # MEDIUMBLOB on MariaDB (up to 16 MB): a BLOB stops at 64 KB, less than a long invoice.
    content: Mapped[bytes] = mapped_column(LargeBinary().with_variant(MEDIUMBLOB(), "mysql"))


class ImportJob(db.Model):
    """One CSV import (products, stock levels or group prices): its progress and its report.

    The file is validated line by line; nothing is applied while any line is wrong unless
    the person chose to apply the valid lines. Progress is kept here so any process can
    show it, and pushed live while the job runs.
    """

    __tablename__ = "import_jobs"
    __table_args__ = (
        CheckConstraint("kind IN ('products', 'stock', 'group_prices')", name="kind"),
        CheckConstraint(
            "status IN ('queued', 'validating', 'applying', 'done', 'rejected', 'failed')",
            name="status",
        ),
        Index("ix_import_jobs_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255), default="")
    apply_valid: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    total_lines: Mapped[int] = mapped_column(default=0)
    processed_lines: Mapped[int] = mapped_column(default=0)
    applied_lines: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    # The first errors in line order: [{"line": n, "column": "...", "message": "..."}].
    errors: Mapped[list | None] = mapped_column(Json)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # The background job that runs it (core.jobs); None for an import run before the queue.
    queue_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), index=True
    )

    user = relationship("User")


class ImportFile(db.Model):
    """The uploaded file of an import, in chunks, until the import is over: the worker
    that runs it may be another process or host. Chunks of IMPORT_CHUNK bytes stay
    below MariaDB's packet limit and a MEDIUMBLOB's 16 MB."""

    __tablename__ = "import_files"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    chunk: Mapped[bytes] = mapped_column(LargeBinary().with_variant(MEDIUMBLOB(), "mysql"))


JOB_STATES = ("queued", "running", "done", "failed")


class Job(db.Model):
    """One piece of work run outside a request (core.jobs): a mail to deliver, an import.

    The row is written in the transaction that asks for the work and handed to the queue
    after it commits, carrying only ids. A worker claims it (state "running", a lease it
    renews while it works); a claim whose lease ran out belongs to a worker that died, and
    another may take the job over. Retries wait longer each time; a job out of attempts
    is "failed", with its error, until staff retry it.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')",
            name="state",
        ),
        Index("ix_jobs_state_run_after", "state", "run_after"),
        Index("ix_jobs_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    args: Mapped[list] = mapped_column(Json)  # ids only: the worker loads what they name
    state: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)  # claims so far, this round
    max_attempts: Mapped[int] = mapped_column(default=5)
    language: Mapped[str] = mapped_column(String(10), default="")  # its texts' language
    run_after: Mapped[datetime] = mapped_column(default=utcnow)  # due from then on
    lease_until: Mapped[datetime | None]  # while running: the claim holds until then
    claim: Mapped[str] = mapped_column(String(80), default="")  # the running claim's token
    worker: Mapped[str] = mapped_column(String(120), default="")  # who ran it last
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    enqueued_at: Mapped[datetime | None]  # last handed to the queue (None: never was)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
