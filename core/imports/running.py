"""Running a job: check the file, then apply its lines in one transaction, or reject it.

An import runs as a background job (core.jobs, `import.run`): `enqueue` keeps the
uploaded file with the import (ImportFile, until it is over) and asks for the job in
the same transaction, so whichever worker runs it (a thread of this process, or a
`flask --app app worker` on another host) reads the file from the database. Its
progress is kept on the ImportJob row, so any process can show it, and each step
records an `import_progress` event that the job page follows live. A run repeated after
a worker died starts over: nothing of an unfinished apply was committed, and a finished
import is not run again.
"""

import logging
import time
from collections.abc import Iterator
from decimal import Decimal

from flask import current_app
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from extensions import db

from .. import audit, events, i18n, jobs, search_index, webhooks
from ..errors import Refused
from ..i18n import N_, _, ngettext
from ..models import (
    GroupPrice,
    ImportFile,
    ImportJob,
    PriceBreak,
    Product,
    StockMovement,
    User,
    search_key_of,
    utcnow,
)
from ..transaction import is_deadlock
from .checking import REASON_LENGTH, check, estimate_lines
from .jobs import RUNNING
from .kinds import KINDS, Kind, may_import
from .reading import Checked, Limits, Lookups

log = logging.getLogger("portal.imports")

BATCH = 1_000  # rows per executemany, and per progress step while applying
APPLY_ATTEMPTS = 3  # a deadlock with a concurrent order replays the whole apply


class Reporter:
    """Writes a running job's progress in short transactions of its own, and tells the page.

    While applying on SQLite the applying transaction holds the database's only write
    lock, so progress is written only while checking there (the page says "Applying").
    """

    def __init__(self, job_id: int, every: int):
        self.job_id = job_id
        self.every = max(1, every)
        self.applied = 0
        self.live_apply = db.engine.dialect.name != "sqlite"

    def write(self, **values) -> None:
        """One progress step, committed apart from the import itself."""
        session = Session(db.engine)
        try:
            session.execute(
                update(ImportJob.__table__)
                .where(ImportJob.__table__.c.id == self.job_id)
                .values(**values)
            )
            events.record(session, "import_progress", self.job_id)
            session.commit()
        except Exception:  # progress is a courtesy: it must never fail the import
            session.rollback()
            log.warning("could not record the progress of import %s", self.job_id, exc_info=True)
        finally:
            session.close()
        time.sleep(0)  # under gevent, let the other greenlets (sockets) run

    def checking(self, total: int) -> None:
        """The check begins; `total` is the estimated number of lines."""
        self.write(status="validating", total_lines=total, processed_lines=0)

    def checked(self, lines: int) -> None:
        """`lines` lines checked so far."""
        self.write(processed_lines=lines)

    def applying(self, lines: int, total: int) -> None:
        """The check is over; the changes are about to be written (nothing written yet, so
        this step can be recorded on SQLite too)."""
        self.applied = 0
        self.write(status="applying", processed_lines=lines, total_lines=total, applied_lines=0)

    def step(self, count: int) -> None:
        """`count` more lines applied."""
        before = self.applied
        self.applied += count
        if self.live_apply and self.applied // self.every != before // self.every:
            self.write(applied_lines=self.applied)
        else:
            time.sleep(0)


IMPORT_TASK = "import.run"
CHUNK = 1024 * 1024  # bytes per ImportFile row: far below MariaDB's packet limit


def limits_of(config) -> Limits:
    """This portal's import limits (config: IMPORT_*)."""
    return Limits(
        max_bytes=config["IMPORT_MAX_BYTES"],
        max_lines=config["IMPORT_MAX_LINES"],
        progress_every=config["IMPORT_PROGRESS_LINES"],
    )


def enqueue(job: ImportJob, data: bytes, *, language: str | None = None) -> None:
    """Keep the file with the import and ask for the job that runs it, both in the
    caller's transaction: it runs once that commits. `language`: its report's (the
    request's by default)."""
    for seq, start in enumerate(range(0, max(len(data), 1), CHUNK)):
        db.session.add(ImportFile(import_id=job.id, seq=seq, chunk=data[start : start + CHUNK]))
    job.queue_job_id = jobs.enqueue(IMPORT_TASK, job.id, language=language).id


def stored_file(job_id: int) -> bytes | None:
    """The kept file of an import; None once it is no longer kept."""
    chunks = list(
        db.session.scalars(
            select(ImportFile.chunk).where(ImportFile.import_id == job_id).order_by(ImportFile.seq)
        )
    )
    return b"".join(chunks) if chunks else None


def _forget_file(job_id: int) -> None:
    db.session.execute(delete(ImportFile).where(ImportFile.import_id == job_id))


@jobs.task(IMPORT_TASK, label=N_("CSV import"), attempts=3, time_limit=4 * 3600)
def run_queued(job_id: int) -> None:
    """The job: run the import from its kept file; the file goes once it is applied or
    rejected. A failed import is a failed job, which staff may retry."""
    job = db.session.get(ImportJob, job_id)
    if job is None:
        return
    if job.status in RUNNING:
        data = stored_file(job_id)
        if data is None:
            _fail(job_id, _("The file of this import is no longer kept: upload it again."))
        else:
            run(job_id, data, limits_of(current_app.config))
        job = _fresh_job(job_id)
    if job.status in ("done", "rejected"):
        _forget_file(job_id)
        db.session.commit()
    elif job.status == "failed":
        raise jobs.Failed(job.message)


@run_queued.describer
def _describe(job_id: int) -> str:
    job = db.session.get(ImportJob, job_id)
    if job is None:
        return f"#{job_id}"
    who = job.user.name if job.user is not None else "—"
    return f"{KINDS[job.kind].title}: {job.filename} ({who})"


@run_queued.failure_handler
def _out_of_attempts(job_id: int, *, error: str) -> None:
    """The job gave up while the import was unfinished (its workers died): say so."""
    job = db.session.get(ImportJob, job_id)
    if job is not None and job.status in RUNNING:
        job.status = "failed"
        job.message = str(
            _("The import stopped before it finished, several times. Nothing was applied.")
        )
        job.finished_at = utcnow()
        events.record(db.session, "import_progress", job_id)


@run_queued.retry_handler
def _again(job_id: int) -> None:
    """Staff retry a failed import: it runs again from its kept file, from the start."""
    job = db.session.get(ImportJob, job_id)
    if job is None:
        raise Refused(_("This import no longer exists."))
    if job.status in ("done", "rejected"):
        return  # finished after all: the job finds it so
    kept = select(ImportFile.seq).where(ImportFile.import_id == job_id).limit(1)
    if db.session.scalar(kept) is None:
        raise Refused(_("The file of this import is no longer kept: upload it again."))
    job.status = "queued"
    job.message = ""
    job.errors = []
    job.error_count = 0
    job.total_lines = job.processed_lines = job.applied_lines = 0
    job.finished_at = None
    events.record(db.session, "import_progress", job_id)


def run(job_id: int, data: bytes, limits: Limits) -> None:
    """Check the file, then apply it or reject it; the job row says how it went."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status not in RUNNING:
        return
    actor = db.session.get(User, job.user_id) if job.user_id else None
    if actor is not None:
        actor.__dict__.pop("_permissions", None)  # rights as they are now, not when it was queued
    kind = KINDS[job.kind]
    reporter = Reporter(job_id, limits.progress_every)
    try:
        if actor is None or not may_import(actor, job.kind):
            checked = Checked().stop(None, "", _("Your role no longer includes this import."))
        else:
            lookups = Lookups.load(job.kind, actor)
            db.session.commit()  # end the reading transaction before the long check
            reporter.checking(estimate_lines(data))
            checked = check(job.kind, data, lookups, limits, progress=reporter.checked)
        job = _fresh_job(job_id)
        if checked.fatal or not checked.rows or (checked.error_count and not job.apply_valid):
            _reject(job, actor, kind, checked)
            db.session.commit()
            return
        _apply_retrying(job_id, actor, kind, checked, reporter, limits)
    except Exception:
        db.session.rollback()
        log.exception("import %s failed", job_id)
        _fail(job_id, _("The import stopped on an unexpected error. Nothing was applied."))


def _fresh_job(job_id: int) -> ImportJob:
    """The job as the progress steps (other transactions) left it: a stale copy would take
    a final value equal to what it last saw for no change, and skip writing it."""
    return db.session.get(ImportJob, job_id, populate_existing=True)


class Changed(Exception):
    """The catalogue changed between checking and applying: a line no longer fits."""


def _apply_retrying(job_id, actor, kind, checked, reporter, limits) -> None:
    """Apply in one transaction; a deadlock with a concurrent order replays it."""
    for attempt in range(1, APPLY_ATTEMPTS + 1):
        try:
            reporter.applying(checked.lines, len(checked.rows))
            job = _fresh_job(job_id)
            counts = APPLIERS[kind.key](job, actor, checked.rows, reporter, limits)
            _finish(job, actor, kind, checked, counts)
            db.session.commit()
            return
        except OperationalError as exc:
            db.session.rollback()
            if not is_deadlock(exc) or attempt == APPLY_ATTEMPTS:
                raise
            log.warning("import %s deadlocked, applying again (attempt %d)", job_id, attempt)
        except (Changed, IntegrityError) as exc:
            db.session.rollback()
            _fail(
                job_id,
                _(
                    "Someone changed the catalogue while the import ran (%(detail)s). "
                    "Nothing was applied: upload the file again.",
                    detail=str(exc),
                )
                if isinstance(exc, Changed)
                else _(
                    "Someone changed the catalogue while the import ran. "
                    "Nothing was applied: upload the file again."
                ),
            )
            return


def _plural(count: int, word: str) -> str:
    """For the audit log's summaries, which are kept in English."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


# How each count of an applied import reads in its report (the counts' keys stay as they
# are in the audit entry).
COUNT_WORDS = {
    "created": N_("%(count)s created"),
    "updated": N_("%(count)s updated"),
    "unchanged": N_("%(count)s unchanged"),
    "changed": N_("%(count)s changed"),
    "added": N_("%(count)s added"),
    "removed": N_("%(count)s removed"),
}
translate = _  # a message of COUNT_WORDS, in the reader's language


def _count(count: int) -> str:
    return i18n.format_number(count)


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(
        str(translate(COUNT_WORDS[name])) % {"count": _count(value)}
        for name, value in counts.items()
        if value
    )


def _record_errors(job: ImportJob, checked: Checked) -> None:
    job.total_lines = checked.lines
    job.processed_lines = checked.lines
    job.error_count = checked.error_count
    job.errors = checked.errors
    job.finished_at = utcnow()


def _reject(job: ImportJob, actor: User | None, kind: Kind, checked: Checked) -> None:
    """Nothing applied: say why, keep the errors, audit it, tell the page."""
    _record_errors(job, checked)
    job.status = "rejected"
    job.applied_lines = 0
    if checked.fatal:
        message = _("Nothing was applied: %(reason)s", reason=checked.errors[0]["message"])
    elif not checked.rows:
        message = ngettext(
            "Nothing was applied: every line has errors (%(count)s line).",
            "Nothing was applied: every line has errors (%(count)s lines).",
            checked.bad_lines,
            count=_count(checked.bad_lines),
        )
    else:
        message = ngettext(
            "Nothing was applied: %(bad)s of %(count)s line have errors. Correct them and "
            "upload the file again, or tick “Apply the valid lines” to leave them out.",
            "Nothing was applied: %(bad)s of %(count)s lines have errors. Correct them and "
            "upload the file again, or tick “Apply the valid lines” to leave them out.",
            checked.lines,
            bad=_count(checked.bad_lines),
            count=_count(checked.lines),
        )
    job.message = str(message)  # kept with the job, in the language it was run in
    audit.record(
        "import.rejected",
        actor=actor,
        target=job,
        summary=f"{kind.label} import {job.filename} rejected: {checked.bad_lines:,} of "
        f"{_plural(checked.lines, 'line')} wrong"
        if not checked.fatal
        else f"{kind.label} import {job.filename} rejected: the file cannot be read",
        after={
            "kind": job.kind,
            "file": job.filename,
            "lines": checked.lines,
            "wrong_lines": checked.bad_lines,
            "errors": checked.error_count,
        },
    )
    events.record(db.session, "import_progress", job.id)


def _finish(job: ImportJob, actor: User, kind: Kind, checked: Checked, counts: dict) -> None:
    """Applied: the job's counts and message, the audit entry and the event, in the same
    transaction as the changes."""
    _record_errors(job, checked)
    job.status = "done"
    job.applied_lines = len(checked.rows)
    applied = len(checked.rows)
    message = str(
        ngettext(
            "%(count)s line applied: %(summary)s.",
            "%(count)s lines applied: %(summary)s.",
            applied,
            count=_count(applied),
            summary=_summary(counts),
        )
    )
    if checked.bad_lines:
        left_out = ngettext(
            "%(count)s line with errors left out.",
            "%(count)s lines with errors left out.",
            checked.bad_lines,
            count=_count(checked.bad_lines),
        )
        message += f" {left_out}"
    job.message = message  # kept with the job, in the language it was run in
    audit.record(
        "import.applied",
        actor=actor,
        target=job,
        summary=f"{kind.label} import {job.filename}: {_plural(len(checked.rows), 'line')} "
        f"applied" + (f", {checked.bad_lines:,} left out" if checked.bad_lines else ""),
        after={
            "kind": job.kind,
            "file": job.filename,
            "lines": checked.lines,
            "applied": len(checked.rows),
            "wrong_lines": checked.bad_lines,
            **counts,
        },
    )
    events.record(db.session, "import_progress", job.id)


def _fail(job_id: int, message) -> None:
    """The import could not finish: nothing of it was applied; record that and say so."""
    try:
        job = _fresh_job(job_id)
        job.status = "failed"
        job.message = str(message)
        job.finished_at = utcnow()
        events.record(db.session, "import_progress", job_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("could not record the failure of import %s", job_id)


def _chunks(items: list, size: int = BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _large(count: int, limits: Limits) -> bool:
    """Too many changed products for one event each: open pages get one signal instead."""
    return count > limits.live_events


def _announce(changes: dict[str, set[int]], count: int, limits: Limits) -> None:
    """Per-product events for a modest import; one bounded signal for a large one."""
    if not count:
        return
    if _large(count, limits):
        events.record(db.session, "catalogue_changed")
        return
    for topic, ids in changes.items():
        for product_id in sorted(ids):
            events.record(db.session, topic, product_id)


def _new_product(row: tuple, now) -> dict:
    """The columns of a product a line creates (Core insert: search_key is set here)."""
    _line, sku, _id, name, category_id, base, cost, description, unit, tax_class = row
    return {
        "sku": sku,
        "name": name,
        "description": description or "",
        "category_id": category_id,
        "base_price": base,
        "cost": cost if cost is not None else Decimal(0),
        "stock": 0,
        "unit": unit or "pcs",
        "tax_class": tax_class or "standard",
        "specs": {},
        "is_archived": False,
        "search_key": search_key_of(sku, name),
        "created_at": now,
        "updated_at": now,
    }


_UPDATED = ("name", "category_id", "base_price", "cost", "description", "unit", "tax_class")


def _apply_products(job, actor, rows, reporter: Reporter, limits: Limits) -> dict[str, int]:
    """Create new SKUs, update existing ones where a value changes; costs stay unless given."""
    table = Product.__table__
    now = utcnow()
    creating = [row for row in rows if row[2] is None]
    for chunk in _chunks(creating):
        # Rows are built a batch at a time: 100,000 dicts at once would double the memory.
        db.session.execute(insert(table), [_new_product(row, now) for row in chunk])
        # Core inserts skip the ORM's listeners: the search index is kept here, in bulk.
        made = db.session.scalars(select(table.c.id).where(table.c.sku.in_([r[1] for r in chunk])))
        search_index.refresh(db.session.connection(), list(made))
        reporter.step(len(chunk))
    # Existing products in id order, as orders lock them: the two never wait in a circle.
    existing = sorted((row for row in rows if row[2] is not None), key=lambda row: row[2])
    statement = update(table).where(table.c.id == bindparam("_id"))
    priced, changed = set(), set()
    for chunk in _chunks(existing):
        current = {
            found.id: found
            for found in db.session.execute(
                select(table.c.id, *(table.c[name] for name in _UPDATED)).where(
                    table.c.id.in_([row[2] for row in chunk])
                )
            )
        }
        values = []
        for _line, sku, product_id, *given in chunk:
            old = current.get(product_id)
            if old is None:
                raise Changed(_("%(sku)s was deleted", sku=sku))
            new = {
                name: value if value is not None else getattr(old, name)
                for name, value in zip(_UPDATED, given, strict=True)
            }
            if all(new[name] == getattr(old, name) for name in _UPDATED):
                continue
            (priced if new["base_price"] != old.base_price else changed).add(product_id)
            values.append(
                {
                    "_id": product_id,
                    **new,
                    "search_key": search_key_of(sku, new["name"]),
                    "updated_at": now,
                }
            )
        if values:
            db.session.execute(statement, values)
            renamed = [v["_id"] for v in values if v["name"] != current[v["_id"]].name]
            if renamed:
                search_index.refresh(db.session.connection(), renamed)
        reporter.step(len(chunk))
    updated = len(priced) + len(changed)
    count = len(creating) + updated
    created: set[int] = set()
    if creating and not _large(count, limits):
        skus = [row[1] for row in creating]
        created = set(db.session.scalars(select(table.c.id).where(table.c.sku.in_(skus))))
    for product_id in sorted(priced):
        webhooks.emit_price(product_id)
    _announce(
        {"product_created": created, "price_changed": priced, "product_changed": changed},
        count,
        limits,
    )
    return {
        "created": len(creating),
        "updated": updated,
        "unchanged": len(existing) - updated,
    }


def _apply_stock(job, actor, rows, reporter: Reporter, limits: Limits) -> dict[str, int]:
    """Set each product's stock to the counted level, with a movement saying who and why."""
    table = Product.__table__
    now = utcnow()
    levels: dict[int, int] = {}
    ids = sorted({row[1] for row in rows})
    for chunk in _chunks(ids):
        # Locked in id order, as orders lock them: counted levels are not overtaken.
        for product_id, level in db.session.execute(
            select(table.c.id, table.c.stock)
            .where(table.c.id.in_(chunk))
            .order_by(table.c.id)
            .with_for_update()
        ):
            levels[product_id] = level
    default_reason = f"Stock import {job.filename}"[:REASON_LENGTH]
    updates, movements = [], []
    for _line, product_id, counted, reason in rows:
        before = levels.get(product_id)
        if before is None:
            raise Changed(_("a product was deleted"))
        if before == counted:
            continue
        updates.append({"_id": product_id, "stock": counted, "updated_at": now})
        movements.append(
            {
                "product_id": product_id,
                "kind": "import",
                "delta": counted - before,
                "stock_before": before,
                "stock_after": counted,
                "reason": reason or default_reason,
                "user_id": actor.id,
                "order_id": None,
                "created_at": now,
            }
        )
    updates.sort(key=lambda u: u["_id"])
    statement = update(table).where(table.c.id == bindparam("_id"))
    for chunk in _chunks(updates):
        db.session.execute(statement, chunk)
        reporter.step(len(chunk))
    for chunk in _chunks(movements):
        db.session.execute(insert(StockMovement.__table__), chunk)
    reporter.step(len(rows) - len(updates))
    for movement in movements:
        webhooks.emit_stock(
            movement["product_id"], movement["stock_before"], movement["stock_after"]
        )
    _announce({"stock_changed": {u["_id"] for u in updates}}, len(updates), limits)
    return {"changed": len(updates), "unchanged": len(rows) - len(updates)}


def _apply_group_prices(job, actor, rows, reporter: Reporter, limits: Limits) -> dict[str, int]:
    """Add, change or remove each group price; an empty price removes it."""
    table = GroupPrice.__table__
    now = utcnow()
    existing: dict[tuple[int, int], tuple[int, Decimal]] = {}
    for chunk in _chunks(sorted({row[1] for row in rows})):
        for price_id, group_id, product_id, price in db.session.execute(
            select(table.c.id, table.c.group_id, table.c.product_id, table.c.price).where(
                table.c.product_id.in_(chunk)
            )
        ):
            existing[(group_id, product_id)] = (price_id, price)
    inserts, updates, deletes = [], [], []
    touched: set[int] = set()
    # (product, group): the breaks to keep; a removed price takes its breaks with it.
    wanted_breaks: dict[tuple[int, int], list] = {}
    repriced: set[tuple[int, int]] = set()  # (product, group) added, changed or removed
    for _line, product_id, group_id, price, breaks in rows:
        current = existing.get((group_id, product_id))
        if (price is None) != (current is None) or (current is not None and current[1] != price):
            repriced.add((product_id, group_id))
        if price is None:
            wanted_breaks[(product_id, group_id)] = []
        elif breaks is not None:
            wanted_breaks[(product_id, group_id)] = breaks
        if price is None:
            if current is not None:
                deletes.append({"_id": current[0]})
                touched.add(product_id)
        elif current is None:
            inserts.append(
                {"group_id": group_id, "product_id": product_id, "price": price, "updated_at": now}
            )
            touched.add(product_id)
        elif current[1] != price:
            updates.append({"_id": current[0], "price": price, "updated_at": now})
            touched.add(product_id)
    for chunk in _chunks(inserts):
        db.session.execute(insert(table), chunk)
        reporter.step(len(chunk))
    updates.sort(key=lambda u: u["_id"])
    for chunk in _chunks(updates):
        db.session.execute(update(table).where(table.c.id == bindparam("_id")), chunk)
        reporter.step(len(chunk))
    for chunk in _chunks(deletes):
        db.session.execute(delete(table).where(table.c.id == bindparam("_id")), chunk)
        reporter.step(len(chunk))
    breaks_changed = _apply_group_breaks(wanted_breaks)
    touched |= {product_id for product_id, __ in breaks_changed}
    # A line whose price stays but whose breaks change counts as changed.
    only_breaks = len(breaks_changed - repriced)
    unchanged = len(rows) - len(inserts) - len(updates) - len(deletes) - only_breaks
    reporter.step(unchanged)
    for product_id, group_id in sorted(repriced | breaks_changed):
        webhooks.emit_price(product_id, group_id=group_id)
    _announce({"price_changed": touched}, len(touched), limits)
    return {
        "added": len(inserts),
        "changed": len(updates) + only_breaks,
        "removed": len(deletes),
        "unchanged": unchanged,
    }


def _apply_group_breaks(wanted: dict[tuple[int, int], list]) -> set[tuple[int, int]]:
    """Replace the groups' breaks of these (product, group) pairs where they differ; the
    pairs changed. Read in chunks, then written pair by pair (a handful per product)."""
    if not wanted:
        return set()
    table = PriceBreak.__table__
    current: dict[tuple[int, int], list] = {}
    for chunk in _chunks(sorted({product_id for product_id, __ in wanted})):
        for product_id, group_id, quantity, price in db.session.execute(
            select(table.c.product_id, table.c.group_id, table.c.min_quantity, table.c.price)
            .where(table.c.product_id.in_(chunk), table.c.group_id.is_not(None))
            .order_by(table.c.min_quantity)
        ):
            current.setdefault((product_id, group_id), []).append((quantity, Decimal(price)))
    changed = {pair for pair, breaks in wanted.items() if current.get(pair, []) != list(breaks)}
    now = utcnow()
    for product_id, group_id in sorted(changed):
        db.session.execute(
            delete(table).where(table.c.product_id == product_id, table.c.group_id == group_id)
        )
        steps = wanted[(product_id, group_id)]
        if steps:
            db.session.execute(
                insert(table),
                [
                    {
                        "product_id": product_id,
                        "group_id": group_id,
                        "min_quantity": quantity,
                        "price": price,
                        "updated_at": now,
                    }
                    for quantity, price in steps
                ],
            )
    return changed


APPLIERS = {
    "products": _apply_products,
    "stock": _apply_stock,
    "group_prices": _apply_group_prices,
}
