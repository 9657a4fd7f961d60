"""A walker that sends hostile input to every route of the URL map, and what it records.

For each route it asks the view, first, which parameters it reads: one plain request is
sent through a request class whose `args`, `form` and `files` remember every name a view
(or its form) looks up. It then sends, in each of those parameters in turn, each value of
WITH_OTHERS (the others set to "1") and of ALONE (the others left out), two values at
once, and nothing; each value of EVERY_FIELD in all of them at once; and each value of
PATH_NUMBERS or PATH_TEXT in the URL's own placeholders. Some go as htmx requests, so
that both the page and the fragment answers are walked. An answer of 500 or
more, or an exception the test client raises (TESTING propagates them), is a failure.

A view that reads its parameters by iterating over them (a FieldList, a grid of rows)
names none: ITERATED lists the names to send it instead, and a view that iterates without
a row there fails the walk.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, PathConverter
from werkzeug.utils import cached_property

BIG_TEXT = 100_000
# Sent in one parameter at a time, the others set to "1", so that the value gets past
# the form to the service and the database: ids beyond what a column holds (MariaDB's
# INT, SQLite's 64 bits), a sign, extreme dates.
WITH_OTHERS = ("2147483648", "9223372036854775808", "-1", "0001-01-01", "9999-12-31T23:59")
# Sent in one parameter alone: each field's own parser sees it even when "1" in another
# field would take the view down another path (a button such as "add a row").
ALONE = (
    "1e99",
    "NaN",
    "9" * 40,
    "²",  # str.isdigit() says yes, int() refuses it
)
# Sent in every parameter at once: what breaks a parser breaks it in any field.
EVERY_FIELD = (
    "",
    "0",
    "9223372036854775807",
    "18446744073709551616",
    "-1E99",
    "1e-99",
    "sNaN",
    "inf",
    "0x1F",
    "١٢٣",  # Arabic-Indic digits: int() and Decimal() read them, str.isdigit() says yes
    "1_000",
    "1.5",
    "12,50",
    "１２",  # full-width digits
    "½",
    " ",
    "abc",
    "😀",
    "\u202e",
    "\x00",
    "' OR 1=1 --",
    "9999-12-31",
    "2026-02-30",
    "x" * BIG_TEXT,
    "9" * BIG_TEXT,
)
# Values for the URL's own placeholders (ids, names, tokens).
PATH_NUMBERS = ("0", "2147483648", "9223372036854775808", "9" * 40)
PATH_TEXT = ("x" * 2_000, "😀", "%00", "none.jpg.pdf")
REPEATED = ("1", "9223372036854775808")
ITERATES = "*"  # the name recorded when a view iterates over a mapping


@dataclass
class Reads:
    """What one request's view looked up: names per source, and sources it iterated."""

    names: dict[str, set[str]] = field(default_factory=lambda: {"args": set(), "form": set()})
    iterated: set[str] = field(default_factory=set)

    def note(self, source: str, name: str) -> None:
        if name == ITERATES:
            self.iterated.add(source)
        else:
            self.names["args" if source == "args" else "form"].add(name)


class _Recorder:
    reads: Reads | None = None


def _note(source: str, name) -> None:
    if _Recorder.reads is not None and isinstance(name, str):
        _Recorder.reads.note(source, name)


class RecordingDict(ImmutableMultiDict):
    """An ImmutableMultiDict that remembers the names it is asked for."""

    source = "form"

    def __getitem__(self, key):
        _note(self.source, key)
        return super().__getitem__(key)

    def getlist(self, key, type=None):
        _note(self.source, key)
        return super().getlist(key, type)

    def __contains__(self, key):
        _note(self.source, key)
        return super().__contains__(key)

    def _iterated(self):
        _note(self.source, ITERATES)

    def __iter__(self):
        self._iterated()
        return super().__iter__()

    def keys(self):
        self._iterated()
        return super().keys()

    def items(self, multi=False):
        self._iterated()
        return super().items(multi)

    def lists(self):
        self._iterated()
        return super().lists()

    def values(self):
        self._iterated()
        return super().values()

    def to_dict(self, flat=True):
        self._iterated()
        return super().to_dict(flat)


def _recording(source: str, data) -> RecordingDict:
    recorder = type(f"Recording{source.title()}", (RecordingDict,), {"source": source})
    return recorder(data)


class RecordingRequest(Request):
    """The application's request, with query, form and files that remember what is read."""

    @cached_property
    def args(self):
        return _recording("args", super().args)

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        super()._load_form_data()
        self.__dict__["form"] = _recording("form", self.__dict__["form"])
        self.__dict__["files"] = _recording("files", self.__dict__["files"])


@dataclass
class Failure:
    persona: str
    what: str
    answer: str

    def __str__(self) -> str:
        return f"{self.persona}: {self.what} -> {self.answer}"


@dataclass
class Walk:
    """The requests one route's walk sent, and the answers of 500 or more."""

    requests: int = 0
    failures: list[Failure] = field(default_factory=list)


def shown(value: str) -> str:
    return repr(value) if len(value) <= 40 else f"{value[:12]!r}…({len(value):,} chars)"


class Walker:
    """Walks one route (endpoint, method) for a persona's client."""

    def __init__(self, app, endpoint: str, method: str, url: str, iterated_names: dict):
        self.app = app
        self.endpoint = endpoint
        self.method = method
        self.url = url
        self.iterated_names = iterated_names
        self.walk = Walk()
        self.walked: set[tuple[frozenset, frozenset]] = set()
        adapter = app.url_map.bind("localhost")
        path, _, query = url.partition("?")
        self.url = path
        self.query = dict(parse_qsl(query))
        self.rule = next(r for r in app.url_map.iter_rules(endpoint) if method in (r.methods or ()))
        found, self.values = adapter.match(path, method=method, websocket=self.rule.websocket)
        assert found == endpoint, f"{url} is {found}, not {endpoint}"

    # --- sending ------------------------------------------------------------------------

    def send(
        self, client, persona: str, what: str, *, url=None, args=None, form=(), htmx=False
    ) -> int | None:
        """One request; a server error (or an exception) is recorded as a failure."""
        self.walk.requests += 1
        kwargs = {"query_string": MultiDict(list(args) if args is not None else self.query)}
        if self.method == "POST":
            kwargs["data"] = MultiDict([("csrf_token", client.csrf_token()), *form])
        try:
            response = client.send(
                self.method, url or self.url, htmx=htmx, csrf=self.method == "POST", **kwargs
            )
        except HTTPException as exc:  # pragma: no cover - the client returns these
            return exc.code
        except Exception as exc:  # a 500: TESTING propagates the exception to the client
            self.walk.failures.append(Failure(persona, what, f"{type(exc).__name__}: {exc}"))
            return 500
        status = response.status_code
        response.close()
        if status >= 500:
            self.walk.failures.append(Failure(persona, what, str(status)))
        return status

    def discover(self, client, persona: str) -> Reads:
        """The names the view reads on a plain request (form posts carry their CSRF token)."""
        reads = Reads()
        _Recorder.reads = reads
        try:
            self.send(client, persona, "a plain request")
        finally:
            _Recorder.reads = None
        return reads

    # --- the walk -----------------------------------------------------------------------

    def paths(self) -> Iterable[tuple[str, str]]:
        """(description, URL) with one placeholder of the URL made hostile."""
        for name in sorted(self.rule.arguments):
            converter = self.rule._converters[name]
            hostile = PATH_NUMBERS if isinstance(converter, IntegerConverter) else PATH_TEXT
            for value in hostile:
                url = self._build({**self.values, name: value})
                if url is not None:
                    yield f"<{name}> = {shown(value)}", url

    def _build(self, values: dict) -> str | None:
        # Built by hand, not by the adapter: its converters would refuse the values.
        parts = []
        for is_dynamic, data in self.rule._trace:
            if is_dynamic:
                path = isinstance(self.rule._converters[data], PathConverter)
                parts.append(quote(str(values[data]), safe="/" if path else ""))
            else:
                parts.append(data)
        built = "".join(parts)
        return built[built.index("|") + 1 :] if "|" in built else built

    def run(self, client, persona: str) -> None:
        client.csrf_token()  # fetched first: its own request must not count as the view's reads
        for what, url in self.paths():
            self.send(client, persona, what, url=url)
        reads = self.discover(client, persona)
        sources = reads.iterated & {"form", "files"} if self.method == "POST" else reads.iterated
        names = {src: set(found) for src, found in reads.names.items()}
        names["form"].discard("csrf_token")
        if sources or "args" in reads.iterated:
            extra = self.iterated_names.get((self.endpoint, self.method))
            assert extra is not None, (
                f"{self.endpoint} {self.method} iterates over its "
                f"{', '.join(sorted(reads.iterated))}: name what to send it in ITERATED"
            )
            for source, listed in extra.items():
                names[source] |= set(listed)
        seen = (frozenset(names["args"]), frozenset(names["form"]))
        if seen in self.walked:
            return  # another persona walked the same parameters of this route
        self.walked.add(seen)
        for source in ("args", "form"):
            if source == "form" and self.method != "POST":
                continue
            self.hostile(client, persona, source, sorted(names[source]), names)

    def hostile(self, client, persona: str, source: str, fields: list[str], names) -> None:
        if not fields:
            return
        other = "form" if source == "args" else "args"

        def plain(name: str, src: str) -> str:
            return self.query.get(name, "1") if src == "args" else "1"

        rest = [(n, plain(n, other)) for n in sorted(names[other])]

        def send(what: str, pairs: list[tuple[str, str]], htmx: bool = False) -> None:
            self.send(client, persona, what, htmx=htmx, **{source: pairs, other: rest})

        for name in fields:
            others = [(n, plain(n, source)) for n in fields if n != name]
            for value in WITH_OTHERS:
                send(f"{source} {name} = {shown(value)}", [*others, (name, value)])
            for value in ALONE:
                send(f"{source} {name} = {shown(value)} alone", [(name, value)], True)
            send(f"{source} {name} twice", [*others, *((name, v) for v in REPEATED)])
            send(f"{source} {name} missing", others)
        for value in EVERY_FIELD:
            send(f"every {source} field = {shown(value)}", [(n, value) for n in fields], True)
