"""Product photos: checked by decoding, re-encoded without metadata, kept with a thumbnail.

A file is accepted only if Pillow, limited to the JPEG, PNG and WebP decoders, reads it
whole; its name and declared content type are never trusted. The size is checked before
decoding and the pixel count before the pixels are read (a small file can unpack into
gigabytes). What is stored is a fresh encoding of the pixels (EXIF orientation applied,
EXIF, GPS, comments and colour profiles dropped) under a random name, plus a thumbnail.

Files are written before the transaction commits and removed again if it rolls back;
files of deleted photos are removed only once the deletion has committed.
"""

import io
import re
import secrets
import struct
import warnings
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from PIL import Image, ImageOps
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from extensions import db

from . import audit, events, i18n
from .errors import Refused
from .i18n import N_, _
from .models import Product, ProductPhoto, User

# Pillow format -> (content type, file extension)
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
DISPLAY_SIZE = 1600  # long side of the stored picture; larger uploads are scaled down
THUMB_SIZE = 320
MAX_SIDE = 12_000
MAX_PHOTOS = 12
MAX_FILES = 6  # in one upload
NAME = re.compile(r"^([0-9a-f]{32})(-thumb)?\.(jpg|png|webp)$")
SUBFOLDER = "photos"
_WRITTEN = "portal_photo_files"

# How common files that are not accepted announce themselves, to name them in the message.
_SIGNATURES = (
    (b"GIF87a", N_("a GIF")),
    (b"GIF89a", N_("a GIF")),
    (b"BM", N_("a BMP")),
    (b"II*\x00", N_("a TIFF")),
    (b"MM\x00*", N_("a TIFF")),
    (b"%PDF", N_("a PDF document")),
    (b"PK\x03\x04", N_("a ZIP archive")),
    (b"\x00\x00\x01\x00", N_("an icon")),
)


class PhotoRefused(Refused):
    """A file that is not accepted as a product photo; nothing was stored."""


@dataclass(frozen=True)
class Upload:
    """One uploaded file as received: its name (for messages only) and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Encoded:
    """A checked picture, re-encoded: the stored version and its thumbnail."""

    format: str
    width: int
    height: int
    picture: bytes
    thumbnail: bytes

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][0]

    @property
    def extension(self) -> str:
        return FORMATS[self.format][1]


def display_name(raw: str | None) -> str:
    """The uploaded file's own name, reduced to something safe to show."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:120] or "the file"


def read(stream, name: str | None, max_bytes: int) -> Upload:
    """Read an upload, refusing it as soon as it is larger than allowed."""
    shown = display_name(name)
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PhotoRefused(
            _(
                "“%(name)s” is larger than %(size)s: choose a smaller picture.",
                name=shown,
                size=size_label(max_bytes),
            )
        )
    if not data:
        raise PhotoRefused(_("“%(name)s” is empty.", name=shown))
    return Upload(shown, data)


def size_label(n: int) -> str:
    """A byte count as people say it: 5 MB, 512 KB."""
    return f"{n / (1024 * 1024):g} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def _megapixels(max_pixels: int):
    """The pixel limit in megapixels, as few digits as it needs (40, 0.001)."""
    return i18n.number(Decimal(f"{max_pixels / 1_000_000:g}"))


def _what(data: bytes) -> str:
    """What the file seems to be, as a message id (translated where it is shown)."""
    head = data[:512].lstrip()
    for signature, label in _SIGNATURES:
        if data.startswith(signature):
            return label
    if head[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in head.lower():
        return N_("an SVG drawing")
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return N_("a HEIC/AVIF picture")
    return N_("not a picture we can read")


def encode(upload: Upload, *, max_pixels: int) -> Encoded:
    """Check one upload by decoding it and re-encode it without metadata, or PhotoRefused."""
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check only warns below twice its limit: make it refuse.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(upload.data), formats=list(FORMATS))
            width, height = image.size
            if width * height > max_pixels or max(width, height) > MAX_SIDE:
                raise PhotoRefused(
                    _(
                        "“%(name)s” is %(width)s × %(height)s pixels: at most "
                        "%(megapixels)s megapixels and %(side)s pixels a side.",
                        name=upload.name,
                        width=i18n.number(width),
                        height=i18n.number(height),
                        megapixels=_megapixels(max_pixels),
                        side=i18n.number(MAX_SIDE),
                    )
                )
            if getattr(image, "n_frames", 1) > 1:
                raise PhotoRefused(
                    _("“%(name)s” is animated: upload a still picture.", name=upload.name)
                )
            image.load()
    except PhotoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRefused(
            _(
                "“%(name)s” has too many pixels: at most %(megapixels)s megapixels.",
                name=upload.name,
                megapixels=_megapixels(max_pixels),
            )
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, MemoryError) as exc:
        # UnidentifiedImageError (an OSError) for anything that is not one of the three.
        what = _what(upload.data)
        if what == "not a picture we can read" and upload.data[:3] in (b"\xff\xd8\xff",):
            what = N_("a damaged or incomplete JPEG")
        elif what == "not a picture we can read" and upload.data[:8] == b"\x89PNG\r\n\x1a\n":
            what = N_("a damaged or incomplete PNG")
        raise PhotoRefused(
            _(
                "“%(name)s” is %(what)s. "
                "Upload a JPEG, PNG or WebP picture of at most the allowed size.",
                name=upload.name,
                what=_(what),
            )
        ) from exc
    fmt = image.format
    image = ImageOps.exif_transpose(image)
    image = _plain_mode(image, fmt)
    picture = _fresh(image, DISPLAY_SIZE)
    thumbnail = _fresh(image, THUMB_SIZE)
    return Encoded(
        format=fmt,
        width=picture.width,
        height=picture.height,
        picture=_save(picture, fmt),
        thumbnail=_save(thumbnail, fmt),
    )


def _plain_mode(image: Image.Image, fmt: str) -> Image.Image:
    """A pixel mode each format stores well (JPEG has no alpha; palettes resample badly)."""
    if fmt == "JPEG":
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    if image.mode in ("RGB", "RGBA", "L", "LA") and not (fmt == "WEBP" and "L" in image.mode):
        return image
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def _fresh(image: Image.Image, longest: int) -> Image.Image:
    """The pixels alone, at most `longest` on a side, in a new image that carries no info."""
    scale = min(1.0, longest / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    resized = image.resize(size, Image.Resampling.LANCZOS) if scale < 1 else image
    clean = Image.new(resized.mode, resized.size)
    clean.paste(resized)
    return clean


def _save(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=88, optimize=True, progressive=True)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=88, method=4)
    return out.getvalue()


# --- files ---------------------------------------------------------------------------


def folder_of(upload_dir: str | Path) -> Path:
    """The folder of product photos under the upload folder."""
    return Path(upload_dir) / SUBFOLDER


def thumb_name(filename: str) -> str:
    """The thumbnail's file name of a stored photo."""
    stem, _, ext = filename.rpartition(".")
    return f"{stem}-thumb.{ext}"


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_bytes(data)
    temporary.replace(path)


def removed_on_rollback() -> list[Path]:
    """The files written in the current transaction: a path added here is removed again if
    the transaction rolls back, and kept once it commits (photos and attachments)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()
    return session.info.setdefault(_WRITTEN, [])


@event.listens_for(Session, "after_commit")
def _keep_written(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_soft_rollback")
def _remove_written(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        for path in session.info.pop(_WRITTEN, []):
            path.unlink(missing_ok=True)


def unlink_after_commit(upload_dir: str | Path, photos: list[ProductPhoto]) -> None:
    """Remove these photos' files once their deletion is committed (never if it is not)."""
    paths = []
    for photo in photos:
        paths += [
            folder_of(upload_dir) / photo.filename,
            folder_of(upload_dir) / thumb_name(photo.filename),
        ]

    def unlink():
        for path in paths:
            path.unlink(missing_ok=True)

    events.after_commit(db.session, unlink)


# --- the service -----------------------------------------------------------------------


def add(
    product: Product,
    uploads: list[Upload],
    *,
    actor: User | None,
    upload_dir: str | Path,
    max_pixels: int,
) -> list[ProductPhoto]:
    """Add photos to a product: every file is checked first, then all are stored, or none."""
    if not uploads:
        raise PhotoRefused(_("Choose a picture to upload."))
    if len(uploads) > MAX_FILES:
        raise PhotoRefused(_("Upload at most %(count)s pictures at a time.", count=MAX_FILES))
    existing = db.session.scalar(
        select(func.count(ProductPhoto.id)).where(ProductPhoto.product_id == product.id)
    )
    if existing + len(uploads) > MAX_PHOTOS:
        room = MAX_PHOTOS - existing
        if room > 0:
            raise PhotoRefused(
                _(
                    "A product has at most %(count)s photos; there is room for %(room)s more.",
                    count=MAX_PHOTOS,
                    room=room,
                )
            )
        raise PhotoRefused(
            _("A product has at most %(count)s photos; remove one first.", count=MAX_PHOTOS)
        )
    encoded = [encode(upload, max_pixels=max_pixels) for upload in uploads]
    position = db.session.scalar(
        select(func.max(ProductPhoto.position)).where(ProductPhoto.product_id == product.id)
    )
    position = -1 if position is None else position
    folder = folder_of(upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = removed_on_rollback()
    added = []
    for upload, picture in zip(uploads, encoded, strict=True):
        filename = f"{secrets.token_hex(16)}.{picture.extension}"
        for name, data in ((filename, picture.picture), (thumb_name(filename), picture.thumbnail)):
            path = folder / name
            written.append(path)
            _write(path, data)
        position += 1
        photo = ProductPhoto(
            product_id=product.id,
            filename=filename,
            original_name=upload.name[:255],
            content_type=picture.content_type,
            size_bytes=len(picture.picture),
            width=picture.width,
            height=picture.height,
            position=position,
        )
        db.session.add(photo)
        added.append(photo)
    db.session.flush()
    for photo in added:
        audit.record(
            "photo.added",
            actor=actor,
            target=product,
            summary=f"Photo “{photo.original_name}” added to {product.sku}",
            after={"photo": photo.id, "size": f"{photo.width}×{photo.height}"},
        )
    db.session.expire(product, ["photos"])
    events.record(db.session, "photos_changed", product.id)
    return added


def remove(photo: ProductPhoto, *, actor: User | None, upload_dir: str | Path) -> None:
    """Remove a photo; its files go once the removal is committed."""
    product = db.session.get(Product, photo.product_id)
    audit.record(
        "photo.removed",
        actor=actor,
        target=product,
        summary=f"Photo “{photo.original_name}” removed from {product.sku}",
        before={"photo": photo.id},
    )
    unlink_after_commit(upload_dir, [photo])
    db.session.delete(photo)
    db.session.flush()
    db.session.expire(product, ["photos"])
    _renumber(product.id)
    events.record(db.session, "photos_changed", product.id)


def move(photo: ProductPhoto, step: int, *, actor: User | None) -> bool:
    """Move a photo one place earlier (-1) or later (+1); the first one is the main photo."""
    ordered = _ordered(photo.product_id)
    index = next(i for i, p in enumerate(ordered) if p.id == photo.id)
    target = index + (1 if step > 0 else -1)
    if not 0 <= target < len(ordered):
        return False
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, item in enumerate(ordered):
        item.position = position
    product = db.session.get(Product, photo.product_id)
    audit.record(
        "photo.moved",
        actor=actor,
        target=product,
        summary=f"Photo “{photo.original_name}” of {product.sku} moved to place {target + 1}",
    )
    db.session.expire(product, ["photos"])
    events.record(db.session, "photos_changed", product.id)
    return True


def _ordered(product_id: int) -> list[ProductPhoto]:
    return list(
        db.session.scalars(
            select(ProductPhoto)
            .where(ProductPhoto.product_id == product_id)
            .order_by(ProductPhoto.position, ProductPhoto.id)
        )
    )


def _renumber(product_id: int) -> None:
    for position, item in enumerate(_ordered(product_id)):
        item.position = position


def find(name: str) -> tuple[ProductPhoto, bool] | None:
    """The photo a served file name belongs to, and whether it is the thumbnail."""
    match = NAME.fullmatch(name or "")
    if match is None:
        return None
    token, thumb, ext = match.groups()
    photo = db.session.scalar(select(ProductPhoto).where(ProductPhoto.filename == f"{token}.{ext}"))
    return (photo, bool(thumb)) if photo is not None else None


def file_of(upload_dir: str | Path, photo: ProductPhoto, thumbnail: bool) -> Path:
    """Where a photo (or its thumbnail) lives on disk."""
    name = thumb_name(photo.filename) if thumbnail else photo.filename
    return folder_of(upload_dir) / name
