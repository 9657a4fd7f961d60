"""One page of any list query, with the total for the pager."""

from dataclasses import dataclass
from math import ceil

from sqlalchemy import Select, func, select

from extensions import db


@dataclass(frozen=True)
class Page:
    """Items of one page and what `_pagination.html` needs to link the others."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt: Select, page: int, per_page: int = 25) -> Page:
    """Two statements: the count of the whole query, and the rows of the page."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total or 0, page, per_page)
