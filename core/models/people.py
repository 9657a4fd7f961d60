"""People (staff and customer), roles with their permissions, sessions, invitations."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .base import utcnow

user_roles = Table(
    "user_roles",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="RESTRICT"), primary_key=True),
)

STAFF = "staff"
CUSTOMER = "customer"


class User(db.Model):
    """One person with one personal login: seller staff or a customer company's person."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("kind IN ('staff', 'customer')", name="kind"),
        CheckConstraint("status IN ('invited', 'active', 'blocked')", name="status"),
        CheckConstraint(
            "(kind = 'staff' AND company_id IS NULL)"
            " OR (kind = 'customer' AND company_id IS NOT NULL)",
            name="company_matches_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="invited")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]
    # Two-factor sign-in (core.two_factor): the TOTP secret, encrypted; set once confirmed.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]  # the last time step used: a code works once
    # Their own language and time zone (account page); None: the browser's language and
    # the seller's zone decide (blueprints/i18n.py).
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))

    company = relationship("Company", back_populates="people", foreign_keys=[company_id])
    roles = relationship(
        "Role", secondary=user_roles, back_populates="holders", order_by="Role.name"
    )
    assigned_companies = relationship(
        "Company", secondary="company_reps", back_populates="reps", order_by="Company.name"
    )

    # Flask-Login's interface. What Flask-Login keeps in the cookie is not the user id
    # but the token of a server-side session (core.sessions), so a session can be ended.
    session_token = None  # set by core.sessions when the person is loaded
    # Whom this staff person's session opens the storefront as (core.sessions.Assumed),
    # set by core.sessions with the session; None: nobody.
    session_assumed = None
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_staff(self) -> bool:
        return self.kind == STAFF

    @property
    def is_customer(self) -> bool:
        return self.kind == CUSTOMER

    @property
    def is_blocked(self) -> bool:
        return self.status == "blocked"

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Role(db.Model):
    """A named set of permissions from the catalogue in core.access, held by many people."""

    __tablename__ = "roles"
    __table_args__ = (
        CheckConstraint("scope IN ('staff', 'customer')", name="scope"),
        db.UniqueConstraint("scope", "name", name="uq_roles_scope_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(10))
    # Its holders must sign in with a second factor (enrolment is compulsory at sign-in).
    requires_two_factor: Mapped[bool] = mapped_column(default=False, server_default="0")
    preset: Mapped[str | None] = mapped_column(String(40), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    grants = relationship(
        "RolePermission", cascade="all, delete-orphan", back_populates="role", lazy="selectin"
    )
    holders = relationship("User", secondary=user_roles, back_populates="roles")

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset(g.permission for g in self.grants)

    def __repr__(self) -> str:
        return f"<Role {self.scope}:{self.name}>"


class RolePermission(db.Model):
    """One permission (`module.action`) granted by one role."""

    __tablename__ = "role_permissions"

    role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )
    permission: Mapped[str] = mapped_column(String(40), primary_key=True)

    role = relationship("Role", back_populates="grants")


class LoginSession(db.Model):
    """A server-side session: the cookie carries only a token whose hash is stored here."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    # A staff session may open the storefront as one customer person (core.acting): whom,
    # how ("act" or "view", core.access), since when. Ends with the session.
    acting_for_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    acting_mode: Mapped[str | None] = mapped_column(String(8))
    acting_since: Mapped[datetime | None]

    user = relationship("User", foreign_keys=[user_id])
    acting_for = relationship("User", foreign_keys=[acting_for_id])


class Invitation(db.Model):
    """A single-use, expiring activation link for one person."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user = relationship("User", foreign_keys=[user_id])
    invited_by = relationship("User", foreign_keys=[invited_by_id])

    def status_at(self, now: datetime) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "pending"


class LoginAttempt(db.Model):
    """Attempts to prove who one is (core.throttle): a password at sign-in, a second-factor
    code, the current password when changing it, a password reset request."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "created_at"),
        Index("ix_login_attempts_ip_at", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="sign_in", server_default="sign_in")
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))
    succeeded: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecoveryCode(db.Model):
    """A one-time code that stands in for the second factor (ten per enrolment)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class PasswordReset(db.Model):
    """A single-use, expiring link to choose a new password, sent to the account's address."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str] = mapped_column(String(45), default="")

    user = relationship("User")

    def usable_at(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
