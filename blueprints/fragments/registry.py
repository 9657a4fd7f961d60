"""The registry of live region kinds: which ids a page may watch, which events touch them.

A region is a piece of a page with a stable id (`offer-12`, `nav`, `catalog-results`).
Each area module of this package registers its kinds here, with the partial and context
that its pages use too. Who receives a kind, and what about a viewer changes its markup,
is core.access's to say (`access.audience`): a kind without a rule there reaches nobody.

Fragment regions are rendered with the page's own partial, once per audience. List
regions (whose rows come and go) get a refresh signal instead and re-fetch themselves
through their own scoped view, so a list never shows a row its viewer may not see.

The live engine (blueprints/live) knows the areas only through this module.
"""

import re
from collections.abc import Callable, Hashable
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, g
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.i18n import as_person
from core import access
from core.events import Event
from core.models import User
from extensions import db

MAX_WATCHED = 400
REGION_ID = re.compile(r"^[a-z][a-z-]{0,40}(?:-\d{1,12})?$")


@dataclass(frozen=True)
class RegionKind:
    """One kind of live region: how to recognise its ids and render it for a socket.

    `render(connection, keys) -> {key: html}` renders a fragment region for the socket's
    person (None for a list, which is signalled instead). `per_page`: the markup also
    depends on the page showing it (the navigation marks the current one).
    """

    name: str
    pattern: re.Pattern
    render: Callable[[object, list], dict[object, str]] | None = None
    is_list: bool = False
    per_page: bool = False

    def key_of(self, region_id: str):
        match = self.pattern.fullmatch(region_id)
        if not match:
            return None
        return int(match.group(1)) if match.groups() else region_id

    def audience(self, connection) -> Hashable | None:
        """The key of the sockets that get the same markup; None: this socket gets none."""
        watched = (
            [rid for rid, (kind, _) in connection.parsed.items() if kind is self]
            if access.is_owned(self.name)
            else ()
        )
        key = access.audience(connection.viewer, self.name, watched)
        if key is None:
            return None
        # Markup is in its reader's language and time zone: one render per each, too; and
        # a storefront opened by staff for a customer person (core.access.assume) renders
        # apart from the person's own pages.
        viewer = connection.viewer
        key = (key, viewer.locale, viewer.zone, getattr(viewer, "acting_mode", ""))
        return (key, connection.page) if self.per_page else key


KINDS: list[RegionKind] = []
_AFFECTS: dict[str, list[Callable[[Event], set[str]]]] = {}


def register(kind: RegionKind) -> RegionKind:
    """Add a region kind (each area module of this package registers its own)."""
    # A list's refresh signal names the region by its key: keyed by the whole id, never
    # by a captured number, or the page would be told to refresh "3".
    if kind.is_list and kind.pattern.groups:
        raise ValueError(f"list region {kind.name!r} must not capture a key: {kind.pattern}")
    if not kind.is_list and kind.render is None:
        raise ValueError(f"fragment region {kind.name!r} needs a render function")
    KINDS.append(kind)
    return kind


def affects(*topics: str):
    """Decorator: `fn(event) -> region ids` says which regions these topics change."""

    def decorator(fn):
        for topic in topics:
            _AFFECTS.setdefault(topic, []).append(fn)
        return fn

    return decorator


def kind_of(region_id: str) -> tuple[RegionKind, object] | tuple[None, None]:
    for kind in KINDS:
        key = kind.key_of(region_id)
        if key is not None:
            return kind, key
    return None, None


def clean_watch_list(raw) -> frozenset[str]:
    """The region ids a page says it shows: well-formed, known, and not too many."""
    if not isinstance(raw, list):
        return frozenset()
    ids = [r for r in raw[:MAX_WATCHED] if isinstance(r, str) and REGION_ID.match(r)]
    return frozenset(r for r in ids if kind_of(r)[0] is not None)


def affected(event: Event) -> set[str]:
    """The region ids an event may change."""
    found: set[str] = set()
    for fn in _AFFECTS.get(event.topic, ()):
        found |= fn(event)
    return found


def parse_watch(watching: frozenset[str]) -> dict[str, tuple[RegionKind, object]]:
    """Each watched region id with its kind and key, parsed once when the page says so."""
    parsed = {}
    for region_id in watching:
        kind, key = kind_of(region_id)
        if kind is not None:
            parsed[region_id] = (kind, key)
    return parsed


def watched_keys(parsed: dict, region_ids) -> dict[RegionKind, list]:
    """The keys, by kind, of the given regions that a socket watches."""
    found: dict[RegionKind, list] = {}
    for region_id in region_ids:
        hit = parsed.get(region_id)
        if hit is not None:
            found.setdefault(hit[0], []).append(hit[1])
    return found


def refresh_signal(region_id: str) -> str:
    """Tells the page to re-fetch one list region through its own (scoped) view."""
    return f'<div id="live-signal" hidden data-refresh="{escape(region_id)}"></div>'


@contextmanager
def rendering_as(connection):
    """A request context whose current_user is this socket's person, loaded fresh.

    Its address is PORTAL_URL's: a host production answers (TRUSTED_HOSTS), so that the
    fragment's links can be built.
    """
    viewer = connection.viewer
    with (
        current_app.test_request_context("/", base_url=current_app.config["PORTAL_URL"]),
        as_person(viewer.locale, viewer.zone or None),
    ):
        user = db.session.scalar(
            select(User)
            .where(User.id == connection.viewer.user_id)
            .options(joinedload(User.company), joinedload(User.roles))
        )
        if getattr(viewer, "acting_id", None) is not None and user is not None:
            # The person as the staff member opened them: the rights the viewer was lent.
            access.assume(user, None, viewer.acting_mode, viewer.permissions)
        g._login_user = user
        yield user
