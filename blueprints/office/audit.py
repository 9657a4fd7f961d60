"""Back-office audit log: read-only, newest first, filtered by person, action and dates.

The log is append-only, so this module has no route that changes or removes an entry.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import abort, current_app, request
from sqlalchemy import Select, func, select

from blueprints.common import page_arg, permission_required, render
from core.audit import ACTIONS
from core.models import AuditEntry
from core.pagination import paginate

from . import bp

PER_PAGE = 50
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ABSENT = object()


@dataclass(frozen=True)
class AuditFilters:
    """The filters of the list as typed (to echo back) and as parsed (to query)."""

    person: str = ""
    action: str = ""
    start: date | None = None
    end: date | None = None

    def apply(self, stmt: Select) -> Select:
        if self.person:
            # Lower on both sides: SQLite's LIKE folds only ASCII, MariaDB's follows the
            # collation; autoescape keeps % and _ in an address literal.
            needle = self.person.lower()
            stmt = stmt.where(func.lower(AuditEntry.actor_email).contains(needle, autoescape=True))
        if self.action:
            stmt = stmt.where(AuditEntry.action == self.action)
        if self.start:
            stmt = stmt.where(AuditEntry.created_at >= datetime.combine(self.start, time.min))
        if self.end and self.end < date.max:
            # Inclusive: everything before the start of the next day (there is none after
            # 9999-12-31, which therefore limits nothing).
            next_day = datetime.combine(self.end + timedelta(days=1), time.min)
            stmt = stmt.where(AuditEntry.created_at < next_day)
        return stmt

    @property
    def query_args(self) -> dict[str, str]:
        """The filters in use, as query parameters for links (pagination keeps them)."""
        args = {
            "person": self.person,
            "action": self.action,
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
        }
        return {key: value for key, value in args.items() if value}

    @property
    def active(self) -> bool:
        return bool(self.query_args)


def _day(name: str, raw: str | None) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        if not _DAY.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"The “{name}” date must be a real date written YYYY-MM-DD.")


def filters_arg() -> AuditFilters:
    """The filters of the query string; a malformed value is a clear 400."""
    limit = current_app.config["MAX_QUERY_LENGTH"]
    person = (request.args.get("person") or "").strip()
    if len(person) > limit:
        abort(400, description=f"The person filter is too long: at most {limit} characters.")
    action = (request.args.get("action") or "").strip()
    if action and action not in ACTIONS:
        abort(400, description="Unknown action. Choose one from the list of actions.")
    start, end = _day("from", request.args.get("from")), _day("to", request.args.get("to"))
    if start and end and start > end:
        abort(400, description="The “from” date is after the “to” date.")
    return AuditFilters(person=person, action=action, start=start, end=end)


@dataclass(frozen=True)
class Change:
    """One key of an entry's before/after, as text; lists on both sides as a difference."""

    key: str
    old: str | None = None
    new: str | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.key.replace("_", " ")

    @property
    def is_difference(self) -> bool:
        return bool(self.added or self.removed)


def _text(value) -> str:
    if value is _ABSENT or value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def changes(before: dict | None, after: dict | None) -> list[Change]:
    """What an entry changed, key by key, for keys present in either side.

    A key on both sides reads "old → new" (lists as what was added and removed); a key
    on one side only (a role created, a role deleted) shows its value alone.
    """
    before, after = before or {}, after or {}
    keys = list(before) + [key for key in after if key not in before]
    result = []
    for key in keys:
        old, new = before.get(key, _ABSENT), after.get(key, _ABSENT)
        old_text, new_text = _text(old), _text(new)
        if old_text == new_text == "—":
            continue  # nothing on either side: a line of dashes tells the reader nothing
        if isinstance(old, list) and isinstance(new, list) and old != new:
            added = tuple(_text(item) for item in new if item not in old)
            removed = tuple(_text(item) for item in old if item not in new)
            result.append(Change(key, added=added, removed=removed))
        elif old is _ABSENT:
            result.append(Change(key, new=new_text))
        elif new is _ABSENT:
            result.append(Change(key, old=old_text))
        else:
            result.append(Change(key, old=old_text, new=new_text))
    return result


@bp.route("/audit")
@permission_required("audit.view")
def audit():
    """The audit log, newest first, 50 a page, filtered by person, action and dates."""
    filters = filters_arg()
    page = page_arg()
    stmt = filters.apply(
        select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    listing = paginate(stmt, page, per_page=PER_PAGE)
    return render(
        "office/audit/index.html",
        "office/audit/_results.html",
        listing=listing,
        filters=filters,
        actions=ACTIONS,
        changes=changes,
    )
