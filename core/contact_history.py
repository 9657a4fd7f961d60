"""A customer's contact history: one timeline of what passed between the seller and it.

Messages on its quotes' and orders' conversations, mails sent to its people (the
outbox), its quotes, its orders and its follow-up tasks, newest first. Each source is
read only as far as the viewer may: the company itself in their scope (the caller has
loaded it through core.access), messages and records of an area only with its read
permission, tasks through core.access.task_scope. No figure that depends on costs is
part of any item.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select

from extensions import db

from . import access, orders, quotes
from .i18n import _
from .models import Company, Conversation, Message, Order, OutboxMail, Quote, Task, User

TASK_LABELS = {"open": _("Open"), "done": _("Done")}
MAX_PAGE = 200  # a timeline is read from its newest end; deeper pages are not offered


@dataclass(frozen=True)
class Item:
    """One event of the timeline: when, what kind, a line to show, and its record."""

    at: datetime
    kind: str  # "message", "mail", "quote", "order", "task"
    title: str
    detail: str
    record: tuple[str, int] | None  # ("quote", 12): the page it links to, if any
    key: int  # ties broken by it, newest first


@dataclass(frozen=True)
class Timeline:
    """One page of items, and what the pager needs."""

    items: list[Item]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, min(MAX_PAGE, -(-self.total // self.per_page)))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _messages(viewer: User, company: Company) -> Select | None:
    areas = []
    if access.can(viewer, "quotes.view"):
        areas.append(Conversation.quote_id.is_not(None))
    if access.can(viewer, "orders.view"):
        areas.append(Conversation.order_id.is_not(None))
    if not areas:
        return None
    return (
        select(Message, Conversation)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.company_id == company.id, or_(*areas))
        .order_by(Message.created_at.desc(), Message.id.desc())
    )


def _mails(company: Company) -> Select:
    return (
        select(OutboxMail)
        .join(User, User.id == OutboxMail.user_id)
        .where(User.company_id == company.id)
        .order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc())
    )


def _sources(viewer: User, company: Company) -> list[tuple[str, Select]]:
    found = []
    messages = _messages(viewer, company)
    if messages is not None:
        found.append(("message", messages))
    found.append(("mail", _mails(company)))
    if access.can(viewer, "quotes.view"):
        found.append(
            (
                "quote",
                select(Quote)
                .where(Quote.company_id == company.id)
                .order_by(Quote.created_at.desc(), Quote.id.desc()),
            )
        )
    if access.can(viewer, "orders.view"):
        found.append(
            (
                "order",
                select(Order)
                .where(Order.company_id == company.id)
                .order_by(Order.created_at.desc(), Order.id.desc()),
            )
        )
    if access.can(viewer, "tasks.view"):
        found.append(
            (
                "task",
                access.task_scope(viewer, select(Task))
                .where(Task.company_id == company.id)
                .order_by(Task.created_at.desc(), Task.id.desc()),
            )
        )
    return found


def _item(kind: str, row) -> Item:
    if kind == "message":
        message, conversation = row
        record = (
            ("quote", conversation.quote_id)
            if conversation.quote_id is not None
            else ("order", conversation.order_id)
        )
        return Item(
            message.created_at,
            kind,
            message.author_name or message.author_email,
            message.body[:200],
            record,
            message.id,
        )
    if kind == "mail":
        return Item(row.created_at, kind, row.subject, row.to_addr, None, row.id)
    if kind == "quote":
        status = str(quotes.STATUS_LABELS.get(row.status, row.status))
        return Item(row.created_at, kind, row.number, status, ("quote", row.id), row.id)
    if kind == "order":
        status = str(orders.STATUS_LABELS.get(row.status, row.status))
        return Item(row.created_at, kind, row.number, status, ("order", row.id), row.id)
    status = str(TASK_LABELS.get(row.status, row.status))
    return Item(row.created_at, kind, row.title, status, ("task", row.id), row.id)


def timeline(viewer: User, company: Company, page: int = 1, per_page: int = 20) -> Timeline:
    """One page of the company's history as this viewer may read it, newest first.

    Each source gives at most the newest `page * per_page` rows; merged, they hold the
    page exactly (a page of the merged list never reaches deeper into any one source).
    """
    page = max(1, min(page, MAX_PAGE))
    depth = page * per_page
    items: list[Item] = []
    total = 0
    for kind, stmt in _sources(viewer, company):
        total += db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        rows = db.session.execute(stmt.limit(depth)).all()
        items.extend(_item(kind, row if kind == "message" else row[0]) for row in rows)
    items.sort(key=lambda i: (i.at, i.kind, i.key), reverse=True)
    start = (page - 1) * per_page
    return Timeline(items[start : start + per_page], total, page, per_page)
