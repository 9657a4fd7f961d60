"""Back-office audit log: read-only, newest first, filtered by person, action and dates.

The log is append-only, so this module has no route that changes or removes an entry.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import abort, current_app, request
from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from blueprints.common import page_arg, permission_required, render
from core.audit import ACTIONS, action_label, changes, summary_text
from core.i18n import to_utc
from core.models import AuditEntry
from core.pagination import paginate

from . import bp

PER_PAGE = 50
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


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
        # Days are the viewer's: someone filtering "12 March" means their 12 March, from
        # their midnight to the next (the stored times are UTC).
        if self.start and (since := _midnight(self.start)):
            stmt = stmt.where(AuditEntry.created_at >= since)
        if self.end and self.end < date.max and (before := _midnight(self.end + timedelta(days=1))):
            # Inclusive: everything before the start of the next day (there is none after
            # 9999-12-31, which therefore limits nothing).
            stmt = stmt.where(AuditEntry.created_at < before)
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


def _midnight(day: date) -> datetime | None:
    """The start of `day` in the viewer's zone, as a stored (UTC) time; None when that
    falls before the first representable moment (1 January of year 1 east of UTC), which
    then limits nothing."""
    try:
        return to_utc(datetime.combine(day, time.min))
    except OverflowError:
        return None


def _day(name: str, raw: str | None) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        if not _DAY.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        abort(
            400,
            description=_("The “%(name)s” date must be a real date written YYYY-MM-DD.", name=name),
        )


def filters_arg() -> AuditFilters:
    """The filters of the query string; a malformed value is a clear 400."""
    limit = current_app.config["MAX_QUERY_LENGTH"]
    person = (request.args.get("person") or "").strip()
    if len(person) > limit:
        abort(
            400,
            description=_(
                "The person filter is too long: at most %(limit)s characters.", limit=limit
            ),
        )
    action = (request.args.get("action") or "").strip()
    if action and action not in ACTIONS:
        abort(400, description=_("Unknown action. Choose one from the list of actions."))
    start, end = _day("from", request.args.get("from")), _day("to", request.args.get("to"))
    if start and end and start > end:
        abort(400, description=_("The “from” date is after the “to” date."))
    return AuditFilters(person=person, action=action, start=start, end=end)


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
        actions={key: action_label(key) for key in ACTIONS},
        changes=changes,
        summary_text=summary_text,
    )
