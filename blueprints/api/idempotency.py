"""`Idempotency-Key`: an order or a payment created once however often it is sent.

The first successful answer (2xx) to a request carrying a key is kept with the key, per
token, for API_IDEMPOTENCY_HOURS (a day by default), in the same transaction as the change
it answers: either both are stored or neither. Sent again with the same key and the same
request (route and body), the kept answer comes back as it was, marked
`Idempotent-Replayed: true`, and nothing runs again. The same key with another request is
a 422 problem. A refused request keeps nothing: it may be sent again with the same key.

Two requests with one key at the same time: the database's unique key lets one store its
change; the other's whole transaction (its change included) is rolled back and it answers
what the first stored, or, if that is not visible yet, a 409 problem to try again.
"""

import contextlib
import hashlib
from datetime import timedelta
from functools import wraps

from flask import current_app, g, json, request
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from blueprints.boundary import undo
from core.models import IdempotencyKey, utcnow
from extensions import db

from .problems import Problem

HEADER = "Idempotency-Key"
KEY_LENGTH = 255

PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Any unique string (a UUID) naming this request: sent again with the same key and "
        "body, the first successful answer comes back and nothing is created twice. Kept "
        "per token for a day."
    ),
    "schema": {"type": "string", "maxLength": KEY_LENGTH},
}


def _key() -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise Problem(
            422,
            _("An Idempotency-Key is 1 to %(count)s printable ASCII characters.", count=KEY_LENGTH),
            kind="validation",
            errors=[{"in": "header", "field": HEADER, "messages": [_("Not a valid key.")]}],
        )
    return key


def _fingerprint() -> str:
    """The request a key stands for: its method, route, path and body (JSON compared by
    value, so that spacing and key order do not matter)."""
    body = request.get_data(cache=True)
    with contextlib.suppress(ValueError):  # not JSON: compared byte for byte
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    seen = f"{request.method} {request.endpoint} {request.path}\n".encode() + body
    return hashlib.sha256(seen).hexdigest()


def _kept(token_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.token_id == token_id,
            IdempotencyKey.idempotency_key == key,
            IdempotencyKey.expires_at > utcnow(),
        )
    )


def _replay(kept: IdempotencyKey, fingerprint: str):
    if kept.request_hash != fingerprint:
        raise Problem(
            422,
            _(
                "This Idempotency-Key was used for another request: send a new key with a new "
                "request."
            ),
            kind="idempotency-mismatch",
        )
    response = current_app.response_class(
        kept.body, status=kept.status_code, mimetype="application/json"
    )
    if kept.location:
        response.headers["Location"] = kept.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """Decorate a view that creates something (below the route, above its arguments)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = _key()
        if key is None:
            return view(*args, **kwargs)
        token_id = g.api_token.token_id
        fingerprint = _fingerprint()
        kept = _kept(token_id, key)
        if kept is not None:
            return _replay(kept, fingerprint)
        response = current_app.make_response(view(*args, **kwargs))
        if not 200 <= response.status_code < 300:
            return response
        now = utcnow()
        hours = current_app.config["API_IDEMPOTENCY_HOURS"]
        try:
            # An expired answer under the same key makes way (the unique key holds one).
            db.session.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.token_id == token_id, IdempotencyKey.expires_at <= now
                )
            )
            db.session.add(
                IdempotencyKey(
                    token_id=token_id,
                    idempotency_key=key,
                    endpoint=(request.endpoint or "")[:80],
                    request_hash=fingerprint,
                    status_code=response.status_code,
                    body=response.get_data(as_text=True),
                    location=response.headers.get("Location", "")[:300],
                    created_at=now,
                    expires_at=now + timedelta(hours=hours),
                )
            )
            db.session.flush()
        except IntegrityError:
            # Another request with this key stored its change first: ours is undone whole.
            undo()
            kept = _kept(token_id, key)
            if kept is not None:
                return _replay(kept, fingerprint)
            raise Problem(
                409,
                _(
                    "A request with this Idempotency-Key is being answered right now: try "
                    "again in a moment to receive its answer."
                ),
                kind="idempotency-in-progress",
            ) from None
        return response

    wrapped.idempotent = True  # the reference documents the header (blueprints/api/docs)
    return wrapped
