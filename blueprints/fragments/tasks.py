"""Tasks' live regions: one's own tasks, and a record's panel of open tasks.

`my-tasks-<person>`, the tasks page's list, is named by its person: a page asking for
someone else's gets nothing of it (core.access: `own`). A list, it is told to refresh and
re-fetches itself through its scoped view, with its filters.

`company-tasks-<id>`, `quote-tasks-<id>` and `order-tasks-<id>` are the panels of open
tasks on those pages: fragments, rendered here for each audience (scope, and whether it
may make tasks) with the panel's own partial, and only for a record in the viewer's
scope: an out-of-scope panel is never rendered, not even as a signal.
"""

import re

from flask import render_template, url_for
from sqlalchemy import select

from core import access, tasks
from core.events import Event
from core.models import Order, Quote, utcnow
from extensions import db

from .registry import RegionKind, affects, register, rendering_as

PANEL = "office/tasks/_panel.html"
RECORDS = ("company", "quote", "order")


def record_tasks_context(user, *, company=None, quote=None, order=None) -> dict:
    """A customer's, quote's or order's panel of open tasks, with its "New task" link."""
    if quote is not None:
        region, args = f"quote-tasks-{quote.id}", {"quote": quote.id}
    elif order is not None:
        region, args = f"order-tasks-{order.id}", {"order": order.id}
    else:
        region, args = f"company-tasks-{company.id}", {"company": company.id}
    return {
        "panel_tasks": tasks.open_tasks_of(user, company=company, quote=quote, order=order),
        "panel_region": region,
        "panel_new": url_for("office.task_create", **args),
        "panel_url": url_for("office.record_tasks", **args),
        "now": utcnow(),
    }


def _records(user, record: str, ids: list[int]) -> list:
    """The records of this kind, of these ids, that the person may see."""
    if record == "company":
        return [c for c in (access.load_company(user, i) for i in ids) if c is not None]
    model, area = (Quote, "quotes") if record == "quote" else (Order, "orders")
    if not access.may_read(user, area):
        return []
    stmt = select(model).where(model.id.in_(ids))
    return list(db.session.scalars(access.company_scope(user, stmt, model.company_id)))


def _panel_renderer(record: str):
    def render(connection, ids: list[int]) -> dict:
        with rendering_as(connection) as user:
            if user is None or not access.can(user, "tasks.view"):
                return {}
            return {
                found.id: render_template(PANEL, **record_tasks_context(user, **{record: found}))
                for found in _records(user, record, ids)
            }

    return render


register(RegionKind("my-tasks", re.compile(r"my-tasks-\d+"), is_list=True))
for _record in RECORDS:
    register(
        RegionKind(
            f"{_record}-tasks", re.compile(rf"{_record}-tasks-(\d+)"), _panel_renderer(_record)
        )
    )


@affects(tasks.CHANGED)
def _task_regions(event: Event) -> set[str]:
    data = dict(event.data)
    found = {f"my-tasks-{person}" for person in data.get("people", ())}
    for record in RECORDS:
        if data.get(record) is not None:
            found.add(f"{record}-tasks-{data[record]}")
    return found
