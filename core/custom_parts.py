"""Custom parts: a quote line made to a customer's drawings instead of a catalogue product.

Staff keep the materials custom parts are made of, each with the thicknesses it comes in
(`Material`). A customer asks for a custom part on a quote request: a description, an
active material and one of its thicknesses, a quantity, and one or more drawings, which
are checked by content (core.attachments) and stored before the request is sent, so a
mistake elsewhere on the form never makes anybody upload them again. Staff price the line
in their offer like any other (there is no catalogue price to start from); an acceptance
orders it as a line without a product (core.orders).

Drawings are read by whoever may see the quote (core.quotes.load), and by nobody else.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import exists, func, select

from extensions import db

from . import audit
from .errors import FieldRefused, NotFound, Refused
from .i18n import _
from .models import (
    Attachment,
    Company,
    Material,
    Order,
    OrderLine,
    Quote,
    QuoteLine,
    QuoteLineDrawing,
    User,
)

MAX_NAME = 100
MAX_DESCRIPTION = 500
MAX_THICKNESSES = 30
MAX_THICKNESS = Decimal("1000")
MAX_DRAWINGS = 10


@dataclass(frozen=True)
class CustomAsk:
    """One custom part asked for: what it is, of what, how thick, how many, and its drawings
    (ids of attachments the asker stored with `keep_drawing`)."""

    description: str
    material_id: int | None
    thickness: str
    quantity: int
    drawing_ids: tuple[int, ...] = field(default_factory=tuple)


# --- materials ---------------------------------------------------------------------------


def plain_thickness(value: Decimal) -> str:
    """3 as "3", 1.50 as "1.5": how a thickness is kept and shown."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def clean_thicknesses(raw: str) -> list[str]:
    """ "1, 2, 3, 5, 8" (commas, semicolons or spaces; a point for decimals) as an ascending
    list of plain decimal strings; Refused with the reason otherwise."""
    parts = [p for p in (raw or "").replace(";", " ").replace(",", " ").split() if p]
    if not parts:
        raise FieldRefused(
            _("Give at least one thickness in millimetres, such as 1, 2, 3."), "thicknesses"
        )
    values = set()
    for part in parts:
        try:
            value = Decimal(part)
        except InvalidOperation:
            raise FieldRefused(
                _(
                    "%(value)s is not a thickness: give numbers in millimetres, such as 1.5, "
                    "separated by commas.",
                    value=part[:20],
                ),
                "thicknesses",
            ) from None
        if not value.is_finite() or value <= 0 or value > MAX_THICKNESS:
            raise FieldRefused(
                _(
                    "A thickness is more than 0 and at most %(most)s mm.",
                    most=plain_thickness(MAX_THICKNESS),
                ),
                "thicknesses",
            )
        if value.as_tuple().exponent < -2:
            raise FieldRefused(_("A thickness has at most two decimals."), "thicknesses")
        values.add(value.normalize())
    if len(values) > MAX_THICKNESSES:
        raise FieldRefused(
            _("A material has at most %(count)s thicknesses.", count=MAX_THICKNESSES),
            "thicknesses",
        )
    return [plain_thickness(v) for v in sorted(values)]


def _clean_name(name: str, material: Material | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise FieldRefused(_("Give the material a name."), "name")
    if len(name) > MAX_NAME:
        raise FieldRefused(
            _("A material's name has at most %(count)s characters.", count=MAX_NAME), "name"
        )
    taken = select(Material.id).where(func.lower(Material.name) == name.lower())
    if material is not None and material.id is not None:
        taken = taken.where(Material.id != material.id)
    if db.session.scalar(taken) is not None:
        raise FieldRefused(_("There is a material named %(name)s already.", name=name), "name")
    return name


def materials(*, active_only: bool = False) -> list[Material]:
    """The materials list, by name; only those offered with `active_only`."""
    stmt = select(Material).order_by(Material.name, Material.id)
    if active_only:
        stmt = stmt.where(Material.active.is_(True))
    return list(db.session.scalars(stmt))


def active_material(material_id: int | None) -> Material | None:
    """A material customers may choose now, or None."""
    material = db.session.get(Material, material_id) if material_id else None
    return material if material is not None and material.active else None


def load_material(material_id: int) -> Material:
    material = db.session.get(Material, material_id)
    if material is None:
        raise NotFound(_("There is no such material."))
    return material


def is_used(material: Material) -> bool:
    """Whether a quote line names this material (it is then switched off, never removed)."""
    return bool(db.session.scalar(select(exists().where(QuoteLine.material_id == material.id))))


def create_material(name: str, thicknesses: str, *, actor: User) -> Material:
    """Add a material to the list, offered at once."""
    material = Material(
        name=_clean_name(name), thicknesses=clean_thicknesses(thicknesses), active=True
    )
    db.session.add(material)
    db.session.flush()
    audit.record(
        "material.created",
        actor=actor,
        target=material,
        summary=f"Material {material.name} added ({', '.join(material.thicknesses)} mm)",
        after={"name": material.name, "thicknesses": material.thicknesses},
    )
    return material


def update_material(
    material: Material, name: str, thicknesses: str, active: bool, *, actor: User
) -> Material:
    """Rename it, change its thicknesses, or switch it on or off. Lines already asked for
    keep the material and thickness they named."""
    before = {"name": material.name, "thicknesses": material.thicknesses, "active": material.active}
    material.name = _clean_name(name, material)
    material.thicknesses = clean_thicknesses(thicknesses)
    material.active = bool(active)
    after = {"name": material.name, "thicknesses": material.thicknesses, "active": material.active}
    if after == before:
        return material
    db.session.flush()
    audit.record(
        "material.changed",
        actor=actor,
        target=material,
        summary=f"Material {material.name} changed",
        before=before,
        after=after,
    )
    return material


def remove_material(material: Material, *, actor: User) -> str:
    """Remove a material no quote line has named ("removed"); one that quote lines name
    stays, switched off, so customers can no longer choose it ("switched_off")."""
    if is_used(material):
        if material.active:
            material.active = False
            db.session.flush()
            audit.record(
                "material.changed",
                actor=actor,
                target=material,
                summary=f"Material {material.name} switched off (quote lines name it)",
                before={"active": True},
                after={"active": False},
            )
        return "switched_off"
    audit.record(
        "material.removed",
        actor=actor,
        target=material,
        summary=f"Material {material.name} removed",
        before={"name": material.name, "thicknesses": material.thicknesses},
    )
    db.session.delete(material)
    db.session.flush()
    return "removed"


# --- drawings ------------------------------------------------------------------------------


def keep_drawing(upload, *, company: Company, actor: User) -> Attachment:
    """Check an uploaded drawing by its content and store it, not yet on any line (the
    request that names it links it). AttachmentRefused, a Refused, says what is wrong."""
    from . import attachments  # the conversations' module, shared with drawings

    try:
        checked = attachments.check_upload(upload)
    except attachments.AttachmentRefused as exc:
        raise Refused(str(exc)) from None
    return attachments.store(checked, company_id=company.id, uploaded_by=actor)


def _unlinked():
    return ~exists().where(QuoteLineDrawing.attachment_id == Attachment.id)


def pending_drawings(actor: User, ids: Iterable[int]) -> dict[int, Attachment]:
    """Of these attachment ids, the drawings this person stored for their company and
    that no line and no message holds yet: the only ones a request may name."""
    wanted = {i for i in ids if isinstance(i, int)}
    if not wanted or actor.company_id is None:
        return {}
    found = db.session.scalars(
        select(Attachment).where(
            Attachment.id.in_(wanted),
            Attachment.uploaded_by_id == actor.id,
            Attachment.company_id == actor.company_id,
            Attachment.message_id.is_(None),
            _unlinked(),
        )
    )
    return {a.id: a for a in found}


def check_ask(ask: CustomAsk, *, actor: User) -> tuple[Material, str, list[Attachment]]:
    """The material, thickness and drawings a custom ask names, all checked; Refused else."""
    description = (ask.description or "").strip()
    if not description:
        raise Refused(_("Describe the custom part."))
    if len(description) > MAX_DESCRIPTION:
        raise Refused(_("A description has at most %(count)s characters.", count=MAX_DESCRIPTION))
    material = active_material(ask.material_id)
    if material is None:
        raise Refused(_("Choose a material from the list."))
    if (ask.thickness or "") not in material.thicknesses:
        raise Refused(
            _(
                "%(material)s comes in %(list)s mm: choose one of these thicknesses.",
                material=material.name,
                list=", ".join(material.thicknesses),
            )
        )
    ids = list(dict.fromkeys(ask.drawing_ids))
    if not ids:
        raise Refused(_("Add at least one drawing of the custom part."))
    if len(ids) > MAX_DRAWINGS:
        raise Refused(_("A custom part has at most %(count)s drawings.", count=MAX_DRAWINGS))
    drawings = pending_drawings(actor, ids)
    if set(drawings) != set(ids):
        raise Refused(_("A drawing of this request is no longer there: add it again."))
    return material, ask.thickness, [drawings[i] for i in ids]


def custom_line(ask: CustomAsk, *, actor: User, reference: str) -> QuoteLine:
    """A custom quote line from a checked ask, with its drawings linked."""
    material, thickness, drawings = check_ask(ask, actor=actor)
    line = QuoteLine(
        product=None,
        quantity=ask.quantity,
        custom_sku=reference,
        description=" ".join(ask.description.split()),
        material=material,
        material_name=material.name,
        thickness=thickness,
    )
    line.drawings = [QuoteLineDrawing(attachment=a) for a in drawings]
    return line


def order_drawing_of(order: Order, attachment_id: int) -> Attachment:
    """A drawing of a custom part ordered on this order (the caller loaded the order in
    the viewer's scope: its readers make or ship the part); NotFound for any other."""
    attachment = db.session.scalar(
        select(Attachment)
        .join(QuoteLineDrawing, QuoteLineDrawing.attachment_id == Attachment.id)
        .join(OrderLine, OrderLine.quote_line_id == QuoteLineDrawing.quote_line_id)
        .where(Attachment.id == attachment_id, OrderLine.order_id == order.id)
    )
    if attachment is None:
        raise NotFound(_("There is no such drawing on this order."))
    return attachment


def drawing_of(quote: Quote, attachment_id: int) -> Attachment:
    """A drawing of one of this quote's lines (the caller loaded the quote in the viewer's
    scope); NotFound for any other attachment."""
    attachment = db.session.scalar(
        select(Attachment)
        .join(QuoteLineDrawing, QuoteLineDrawing.attachment_id == Attachment.id)
        .join(QuoteLine, QuoteLine.id == QuoteLineDrawing.quote_line_id)
        .where(Attachment.id == attachment_id, QuoteLine.quote_id == quote.id)
    )
    if attachment is None:
        raise NotFound(_("There is no such drawing on this quote."))
    return attachment
