"""Attached files (a conversation's messages, a custom part's drawings): checked by content,
kept under UPLOAD_DIR/attachments under a random name, and served only as downloads.

A file is accepted only if its bytes are one of the kinds below (PDF, DXF, STEP, PNG, JPEG,
ZIP); its name and declared content type are never trusted. The name it is offered back
under always ends with its kind's extension, so a PDF named "x.html" downloads as
"x.html.pdf". Files are written before the transaction commits and removed again if it
rolls back. Who may download one is the caller's question (the record it hangs on): this
module only answers with the file.
"""

import hashlib
import io
import re
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, send_file
from werkzeug.exceptions import NotFound

from extensions import db

from .errors import Refused
from .i18n import _
from .models import Attachment, User
from .photos import display_name, removed_on_rollback, size_label

SUBFOLDER = "attachments"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
KEY = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Kind:
    """One accepted kind of file: its stored content type, how it is offered back, and the
    extensions its name may end with (the first is added to a name that has none of them)."""

    key: str
    content_type: str
    download_type: str
    extensions: tuple[str, ...]


PDF = Kind("pdf", "application/pdf", "application/pdf", ("pdf",))
PNG = Kind("png", "image/png", "image/png", ("png",))
JPEG = Kind("jpeg", "image/jpeg", "image/jpeg", ("jpg", "jpeg"))
ZIP = Kind("zip", "application/zip", "application/zip", ("zip",))
# Text formats a browser might take for something else: offered as plain bytes.
DXF = Kind("dxf", "image/vnd.dxf", "application/octet-stream", ("dxf",))
STEP = Kind("step", "model/step", "application/octet-stream", ("step", "stp"))
KINDS = {kind.content_type: kind for kind in (PDF, PNG, JPEG, ZIP, DXF, STEP)}


class AttachmentRefused(Refused):
    """A file that is not accepted as an attachment; nothing was stored."""


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed the checks: its shown name, kind and bytes."""

    filename: str
    kind: Kind
    data: bytes

    @property
    def content_type(self) -> str:
        return self.kind.content_type

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def max_bytes() -> int:
    """The largest attachment accepted (ATTACHMENT_MAX_BYTES)."""
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def _is_dxf(data: bytes) -> bool:
    """A DXF drawing: binary ("AutoCAD Binary DXF") or ASCII, whose group-code/value pairs
    open with a SECTION (after optional 999 comments)."""
    if data.startswith(b"AutoCAD Binary DXF\r\n\x1a\x00"):
        return True
    head = data[:4096].lstrip(b"\xef\xbb\xbf").decode("latin-1")
    lines = [line.strip() for line in head.splitlines()][:40]
    pairs = list(zip(lines[0::2], lines[1::2], strict=False))
    for code, value in pairs:
        if code == "999":
            continue
        return code == "0" and value.upper() == "SECTION"
    return False


def _is_step(data: bytes) -> bool:
    """A STEP (ISO 10303-21) model: the file opens with its magic line."""
    return data[:256].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"ISO-10303-21;")


def _is_zip(data: bytes) -> bool:
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.infolist()  # the central directory reads: a whole archive
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return True


def kind_of(data: bytes) -> Kind | None:
    """The kind these bytes are, by their content; None: not one we accept."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if _is_zip(data):
        return ZIP
    if _is_step(data):
        return STEP
    if _is_dxf(data):
        return DXF
    return None


def safe_filename(raw: str | None, kind: Kind) -> str:
    """The uploaded name, printable, short, and ending with an extension of its kind."""
    name = display_name(raw).replace('"', "'")
    if name == "the file":
        name = "attachment"
    __, dot, extension = name.rpartition(".")
    if not dot or extension.lower() not in kind.extensions:
        name = f"{name[:180]}.{kind.extensions[0]}"
    return name[:200]


def check_upload(file_storage) -> CheckedFile:
    """Read one uploaded file and check it by content, or AttachmentRefused (translated)."""
    limit = max_bytes()
    shown = display_name(getattr(file_storage, "filename", None))
    data = file_storage.stream.read(limit + 1)
    if not data:
        raise AttachmentRefused(_("“%(name)s” is empty.", name=shown))
    if len(data) > limit:
        raise AttachmentRefused(
            _(
                "“%(name)s” is larger than %(size)s: send a smaller file, or a ZIP of it.",
                name=shown,
                size=size_label(limit),
            )
        )
    kind = kind_of(data)
    if kind is None:
        raise AttachmentRefused(
            _(
                "“%(name)s” is not a file we accept: attach a PDF, DXF, STEP, PNG, JPEG or "
                "ZIP file (checked by its content, not by its name).",
                name=shown,
            )
        )
    return CheckedFile(safe_filename(file_storage.filename, kind), kind, data)


# --- files ---------------------------------------------------------------------------


def folder() -> Path:
    """The folder of attachments under UPLOAD_DIR."""
    return Path(current_app.config["UPLOAD_DIR"]) / SUBFOLDER


def path_of(attachment: Attachment) -> Path:
    """Where an attachment's bytes are kept (its key is ours: random hex, checked)."""
    if not KEY.fullmatch(attachment.storage_key or ""):
        raise NotFound()
    return folder() / attachment.storage_key


def store(checked: CheckedFile, *, company_id: int | None, uploaded_by: User | None) -> Attachment:
    """Write a checked file under UPLOAD_DIR/attachments and flush its row (message_id
    unset: the caller hangs it on its message or record). A rollback removes the file."""
    target = folder()
    target.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16)
    path = target / key
    removed_on_rollback().append(path)
    temporary = path.with_suffix(".part")
    temporary.write_bytes(checked.data)
    temporary.replace(path)
    attachment = Attachment(
        filename=checked.filename,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        storage_key=key,
        uploaded_by_id=uploaded_by.id if uploaded_by is not None else None,
        company_id=company_id,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def download_response(attachment: Attachment):
    """The file as a download: never shown inline, never sniffed, never cached publicly.
    The caller has checked that the person may see what it hangs on (404 otherwise)."""
    path = path_of(attachment)
    if not path.is_file():
        raise NotFound()
    kind = KINDS.get(attachment.content_type)
    mimetype = kind.download_type if kind is not None else "application/octet-stream"
    response = send_file(
        path,
        mimetype=mimetype,
        as_attachment=True,
        download_name=attachment.filename,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
