"""The overview's work queue (`work-queue`): what waits, as live counts linking to lists.

One tile per queue the viewer may see (core.work_queue), each counted in the viewer's
scope with its list page's own query and linking to that list, filtered alike. The
region is rendered once per audience: the viewer's scope and the permissions that
choose the queues (core.access.AUDIENCES), so two reps with different customers get
different counts, and nobody is told of a row their list would not show them.

Any order, quote, invoice or stock change re-renders every open overview.
"""

import re
from dataclasses import dataclass

from flask import render_template, url_for

from core import work_queue
from core.events import Event

from .registry import RegionKind, affects, register, rendering_as

WORK_QUEUE = "office/_work_queue.html"
# The list page of each queue's area (core.work_queue.Queue.area).
LISTS = {
    "orders": "office.orders",
    "quotes": "office.quotes",
    "invoices": "office.invoices",
    "stock_low": "office.stock_low",
}


@dataclass(frozen=True)
class Link:
    """A count with the filtered list it opens."""

    label: object
    count: int
    url: str


@dataclass(frozen=True)
class Tile:
    """One queue as the overview shows it: its count, linked, and what else it says."""

    key: str
    main: Link
    hint: object
    amount: object = None
    part: Link | None = None


def tile(found: work_queue.Count) -> Tile:
    """A queue's count as a tile linking to its list page, filtered as it was counted."""
    endpoint = LISTS[found.queue.area]
    part = found.part
    return Tile(
        found.queue.key,
        Link(found.queue.label, found.count, url_for(endpoint, **found.filters)),
        found.hint,
        found.amount,
        Link(part.label, part.count, url_for(endpoint, **part.filters)) if part else None,
    )


def queue_context(user) -> dict:
    """The tiles of the queues this person may see, and how much waits in all."""
    tiles = [tile(found) for found in work_queue.counts(user)]
    return {"tiles": tiles, "waiting": sum(t.main.count for t in tiles)}


def _render(connection, _keys) -> dict:
    with rendering_as(connection) as user:
        if user is None:
            return {}
        return {"work-queue": render_template(WORK_QUEUE, **queue_context(user))}


register(RegionKind("work-queue", re.compile(r"work-queue"), _render))


# Orders come, move and go (their stock with them); quotes and invoices change state;
# stock moves, and products go on or off sale (one by one, or by an import).
@affects(
    "order_changed",
    "quote_changed",
    "invoice_changed",
    "credit_note_issued",
    "stock_changed",
    "product_created",
    "product_removed",
    "catalogue_changed",
)
def _work_waiting(event: Event) -> set[str]:
    return {"work-queue"}
