"""CSV imports of products, stock levels and group prices: every line checked, then applied whole.

The file is read and every line checked before anything changes. The report names each
wrong line as a spreadsheet numbers it (the header is line 1), its column and what to
do; the first errors are kept with the job and all of them are counted. Nothing is
applied while any line is wrong, unless the person chose to apply the valid lines. The
changes then go in one transaction: all of them, or none.

One module per stage, each importing only stages listed above it:

- `kinds`: what can be imported (the kinds, their columns) and who may import each.
- `reading`: limits, lookups and the result of checking a file; decoding it, its header.
- `checking`: checking every line of a file, without writing anything (`check`).
- `jobs`: the ImportJob rows: creating, loading and listing them, and where one stands.
- `running`: running a job (a background job of core.jobs): check, then apply or reject.

Callers use this package as one module: `from core import imports; imports.check(...)`.
"""

from .checking import CHECKERS, REASON_LENGTH, check, estimate_lines
from .jobs import (
    FILENAME_LENGTH,
    RUNNING,
    STALE_AFTER,
    TITLES,
    Progress,
    clean_filename,
    create_job,
    error_page,
    load_job,
    progress_of,
    recent_jobs,
)
from .kinds import KINDS, Column, Kind, kinds_for, may_import, template_header
from .reading import (
    Checked,
    FileProblem,
    HeaderProblems,
    Limits,
    Lookups,
    column_key,
    decode,
    letter,
    megabytes,
    read_header,
)
from .running import (
    APPLIERS,
    APPLY_ATTEMPTS,
    BATCH,
    IMPORT_TASK,
    Changed,
    Reporter,
    enqueue,
    limits_of,
    run,
    stored_file,
)

__all__ = [
    "APPLIERS",
    "APPLY_ATTEMPTS",
    "BATCH",
    "CHECKERS",
    "FILENAME_LENGTH",
    "IMPORT_TASK",
    "KINDS",
    "REASON_LENGTH",
    "RUNNING",
    "STALE_AFTER",
    "TITLES",
    "Changed",
    "Checked",
    "Column",
    "FileProblem",
    "HeaderProblems",
    "Kind",
    "Limits",
    "Lookups",
    "Progress",
    "Reporter",
    "check",
    "clean_filename",
    "column_key",
    "create_job",
    "decode",
    "enqueue",
    "error_page",
    "estimate_lines",
    "kinds_for",
    "letter",
    "limits_of",
    "load_job",
    "may_import",
    "megabytes",
    "progress_of",
    "read_header",
    "recent_jobs",
    "run",
    "stored_file",
    "template_header",
]
