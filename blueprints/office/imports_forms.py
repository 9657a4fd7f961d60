"""Forms of the imports module: uploading a CSV file to import."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectChoice, ValidationError

from core import imports

WORKBOOKS = {
    "xlsx": _l("an Excel workbook"),
    "xlsm": _l("an Excel workbook"),
    "xls": _l("an old Excel workbook"),
    "ods": _l("a LibreOffice spreadsheet"),
    "numbers": _l("a Numbers spreadsheet"),
}


class ImportForm(FlaskForm):
    """What the file holds, the file itself, and whether to apply the valid lines alone.

    The file is read here (at most `max_bytes` + 1 bytes); core.imports checks its content.
    """

    kind = RadioField(_l("What the file holds"), validate_choice=False)
    file = FileField(_l("CSV file"))
    apply_valid = BooleanField(
        _l("Apply the valid lines even if some lines are wrong"),
        description=_l("Otherwise nothing is applied while any line has an error."),
    )

    content: bytes = b""

    def __init__(self, *args, kinds: list[imports.Kind], max_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        # SelectChoice, not tuples: WTForms 3.3 deprecates tuples and warnings are errors.
        self.kind.choices = [SelectChoice(k.key, str(k.title)) for k in kinds]
        self.max_bytes = max_bytes
        if len(kinds) == 1 and not self.kind.data:
            self.kind.data = kinds[0].key

    def validate_kind(self, field):
        allowed = {choice.value for choice in field.choices}
        if field.data not in allowed:
            labels = ", ".join(choice.label for choice in field.choices)
            raise ValidationError(_("Choose what the file holds: %(labels)s.", labels=labels))

    def validate_file(self, field):
        upload = field.data
        if upload is None or not getattr(upload, "filename", ""):
            raise ValidationError(_("Choose a CSV file to upload."))
        extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
        if extension in WORKBOOKS:
            raise ValidationError(
                _(
                    "This is %(what)s, not a CSV file: save it as “CSV UTF-8 "
                    "(Comma delimited)” and upload that file.",
                    what=WORKBOOKS[extension],
                )
            )
        if extension not in ("csv", "txt"):
            raise ValidationError(_("Upload a .csv file (comma-separated text, UTF-8)."))
        self.content = upload.stream.read(self.max_bytes + 1)
        if len(self.content) > self.max_bytes:
            raise ValidationError(
                _(
                    "The file is larger than %(size)s: split it into smaller files and import "
                    "them one after the other.",
                    size=imports.megabytes(self.max_bytes),
                )
            )
        if not self.content.strip():
            raise ValidationError(_("The file is empty: there is nothing to import."))
