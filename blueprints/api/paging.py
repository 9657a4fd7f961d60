"""Cursor pagination: `limit` (1 to 100) items from where `cursor` says, newest first.

A cursor is opaque to the client: what it holds (the last id seen, or for the catalogue the
page and its sort key) is signed with the portal's secret, for the one list it came from.
A cursor that was altered, or comes from another list, is a validation problem. The
answer is `{"items": [...], "next_cursor": "..." | null}` with a `Link: <...>; rel="next"`
header while there is more.
"""

from flask import current_app, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from marshmallow import Schema, fields, validate
from sqlalchemy import Select

from extensions import db

from .problems import Problem

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
CURSOR_LENGTH = 400


class PageArgs(Schema):
    """The two parameters of every list."""

    cursor = fields.String(
        load_default=None,
        validate=validate.Length(max=CURSOR_LENGTH),
        metadata={"description": "`next_cursor` of the previous page; absent: the first."},
    )
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per page, 1 to {MAX_LIMIT}."},
    )


def page_schema(item_schema, name: str) -> type[Schema]:
    """The answer of a list of `item_schema`."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "next_cursor": fields.String(
                allow_none=True,
                required=True,
                metadata={"description": "Pass as `cursor` for the next page; null: no more."},
            ),
        },
        name=name,
    )


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(
        current_app.config["SECRET_KEY"], salt=f"api-cursor:{request.endpoint}"
    )


def encode(value) -> str:
    return _serializer().dumps(value)


def bad_cursor() -> Problem:
    """The problem of a cursor that is not one of this list's."""
    return Problem(
        422,
        _("This cursor is not one of this list's: start again from the first page."),
        kind="validation",
        errors=[{"in": "query", "field": "cursor", "messages": [_("Not a cursor of this list.")]}],
    )


def decode(cursor: str | None):
    """What a cursor of this list holds (None for the first page); a bad one: 422."""
    if not cursor:
        return None
    try:
        return _serializer().loads(cursor)
    except BadSignature:
        raise bad_cursor() from None


def after_id(stmt: Select, id_column, args: dict) -> tuple[list, str | None]:
    """A page of `stmt` (any order is replaced by newest first, by id) after the cursor's
    id, and the next page's cursor."""
    limit = args["limit"]
    last = decode(args.get("cursor"))
    if last is not None:
        if not isinstance(last, int) or isinstance(last, bool):
            raise bad_cursor()
        stmt = stmt.where(id_column < last)
    rows = list(db.session.scalars(stmt.order_by(None).order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode(rows[-1].id) if more and rows else None)


def listed(items: list, next_cursor: str | None, **extra):
    """A list's answer, with a Link header to the next page."""
    headers = {}
    if next_cursor:
        args = {**request.args.to_dict(), "cursor": next_cursor, **request.view_args}
        headers["Link"] = f'<{url_for(request.endpoint, **args)}>; rel="next"'
    return {"items": items, "next_cursor": next_cursor, **extra}, 200, headers
