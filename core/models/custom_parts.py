"""Custom parts: the materials staff keep for them, and the drawings of a custom quote line.

A quote line is either a catalogue product or a custom part (core.custom_parts): a
description, a material from this list with one of its thicknesses, and drawings.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .base import Json, utcnow


class Material(db.Model):
    """A material custom parts are made of, with the thicknesses (in mm) it comes in.

    `thicknesses` holds plain decimal strings ("1", "1.5"), ascending. A material some
    quote line used is switched off rather than removed, so that line keeps its name.
    """

    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    thicknesses: Mapped[list] = mapped_column(Json, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class QuoteLineDrawing(db.Model):
    """One drawing (an attachment, core.attachments) of a custom quote line."""

    __tablename__ = "quote_line_drawings"

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_line_id: Mapped[int] = mapped_column(
        ForeignKey("quote_lines.id", ondelete="CASCADE"), index=True
    )
    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), unique=True
    )

    attachment = relationship("Attachment")
