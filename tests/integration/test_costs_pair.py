"""Costs reach exactly the holders of `finance.costs`: two staff people alike in every
permission but that one, side by side, in every page and fragment, in every kind of live
region, and in the messages pushed to their open pages.

The two share everything else (the Store manager preset, so also every customer), which
makes costs the only thing their pages and pushes may differ in. If a region's audience
forgot the costs flag, they would share one rendering: then one of them gets the other's.
"""

from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from blueprints.fragments import registry
from blueprints.live.viewer import load_viewer
from core import access
from core.events import record
from core.models import (
    Company,
    OrderLine,
    Product,
    Quote,
    Role,
    RolePermission,
    ShoppingList,
    User,
)
from core.sessions import token_hash
from extensions import db
from tests.conftest import persona_session, persona_token
from tests.costs import PLANTED, cost_shown, readable
from tests.integration.test_authorization_matrix import MATRIX, route_ids
from tests.sockets import drain, watch

WITH, WITHOUT = "costs.pair@portal.test", "no.costs.pair@portal.test"
MANAGER_PERMISSIONS = access.PRESETS_BY_KEY["manager"].permissions
assert "finance.costs" in MANAGER_PERMISSIONS

# Pages whose content is product facts, quote lines, order lines or reports: with costs
# they must show them (else this test would prove nothing for them).
COSTLY_PAGES = {
    "office.products",
    "office.product",
    "office.order",
    "office.quote",
    "office.reports",
    "office.report_margins",
    "office.explain",
    "office.export_products",
    "office.export_orders",
}
# Region kinds that show costs to those who may see them (checked, not assumed, below).
COSTLY_KINDS = {"product-row", "product-facts", "quote"}
OFFICE_PAGES = sorted(
    (endpoint, template)
    for (endpoint, method), (template, _) in MATRIX.items()
    if method == "GET" and template.startswith("/office")
)


@pytest.fixture(scope="module")
def ids(app):
    return route_ids(app)


@pytest.fixture
def pair(ctx, ids):
    """The two people, signed in (a session each), and every cost in the data planted."""
    for email, name, permissions in (
        (WITH, "Costs Pair", MANAGER_PERMISSIONS),
        (WITHOUT, "No Costs Pair", MANAGER_PERMISSIONS - {"finance.costs"}),
    ):
        role = Role(name=f"Pair: {name}", scope="staff")
        role.grants = [RolePermission(permission=p) for p in sorted(permissions)]
        person = User(email=email, name=name, kind="staff", status="active", roles=[role])
        db.session.add(person)
        persona_session(person)
    db.session.execute(update(Product).values(cost=PLANTED))
    db.session.execute(update(OrderLine).values(unit_cost=PLANTED))
    db.session.commit()
    people = {
        email: db.session.scalar(select(User).where(User.email == email))
        for email in (WITH, WITHOUT)
    }
    held = {e: access.effective_permissions(p) for e, p in people.items()}
    assert held[WITH] - held[WITHOUT] == {"finance.costs"}
    assert held[WITHOUT] < held[WITH]
    return people


def read(c, url: str, htmx: bool) -> tuple[int, str]:
    response = c.send("GET", url, htmx=htmx, csrf=False)
    body = readable(response)
    response.close()
    return response.status_code, body


def test_pages_and_fragments_show_costs_to_one_of_the_pair_only(pair, as_user, ids):
    with_costs, without_costs = as_user(WITH), as_user(WITHOUT)
    shown = set()
    for endpoint, template in OFFICE_PAGES:
        url = template.format(**ids)
        for htmx in (False, True):
            status, body = read(without_costs, url, htmx)
            leak = cost_shown(body)
            assert leak is None, f"{endpoint} ({url}, htmx={htmx}) shows {leak} without costs"
            status, body = read(with_costs, url, htmx)
            if status == 200 and cost_shown(body) and not htmx:
                shown.add(endpoint)
    missing = COSTLY_PAGES - shown
    assert not missing, f"these pages show no cost even with finance.costs: {missing}"


def sample_ids(ids) -> dict[str, str]:
    """One region id of every registered kind, naming records the pair may both see."""
    acme = db.session.scalar(select(Company.id).where(Company.slug == "acme"))
    quote = db.session.get(Quote, ids["acme_quote"])
    keys = {
        "offer": quote.lines[0].product_id,
        "product-row": quote.lines[0].product_id,
        "stock-level": quote.lines[0].product_id,
        "product-facts": quote.lines[0].product_id,
        "product-status": quote.lines[0].product_id,
        "quote": quote.id,
        "quote-actions": quote.id,
        "order": ids["acme_order"],
        "invoice": ids["acme_invoice"],
        "customer": acme,
        "addresses": acme,
        "import": 1,
        "order-shipments": ids["acme_shipped_order"],
        "shipment": ids["acme_shipment"],
        "list": db.session.scalar(select(ShoppingList.id).where(ShoppingList.company_id == acme)),
        "quote-conversation": quote.id,
        "order-conversation": ids["acme_order"],
        "company-tasks": acme,
        "quote-tasks": quote.id,
        "order-tasks": ids["acme_order"],
    }
    found = {}
    for kind in registry.KINDS:
        if kind.pattern.groups:
            found[kind.name] = kind.pattern.pattern.replace(r"(\d+)", str(keys[kind.name]))
        else:
            sample = kind.pattern.pattern.replace(r"\d+", str(acme)).replace("(?:", "")
            found[kind.name] = sample.replace(")", "").split("|")[0]
        assert kind.key_of(found[kind.name]) is not None, kind.name
    return found


def socket_of(person: User, region_ids) -> SimpleNamespace:
    """What the live engine knows of an open page of this person's."""
    viewer = load_viewer(person.id, token_hash(persona_token(person.email)))
    watching = frozenset(region_ids)
    return SimpleNamespace(
        viewer=viewer, page="test", watching=watching, parsed=registry.parse_watch(watching)
    )


def test_every_region_kind_renders_costs_for_one_of_the_pair_only(pair, ids):
    samples = sample_ids(ids)
    sockets = {e: socket_of(p, samples.values()) for e, p in pair.items()}
    costly = set()
    for kind in registry.KINDS:
        region = samples[kind.name]
        audiences = {e: kind.audience(s) for e, s in sockets.items()}
        if kind.is_list:
            # A list is only ever told to re-fetch itself: its signal names the region.
            if audiences[WITHOUT] is not None:
                assert cost_shown(registry.refresh_signal(region)) is None
            if kind.name == "report-margins":
                assert audiences[WITH] is not None and audiences[WITHOUT] is None
            continue
        key = kind.key_of(region)
        rendered = {
            e: kind.render(s, [key]).get(key, "") if audiences[e] is not None else ""
            for e, s in sockets.items()
        }
        leak = cost_shown(rendered[WITHOUT])
        assert leak is None, f"{kind.name} shows {leak} without costs"
        if cost_shown(rendered[WITH]):
            costly.add(kind.name)
            # Rendered once per audience: the pair must never be one audience.
            assert audiences[WITH] != audiences[WITHOUT], kind.name
    assert costly == COSTLY_KINDS


def test_pushed_regions_carry_costs_to_one_of_the_pair_only(pair, connect, ids):
    samples = sample_ids(ids)
    watched = {samples[k] for k in (*COSTLY_KINDS, "report-margins", "report-costs")}
    sockets = {email: connect(email) for email in (WITH, WITHOUT)}
    loaded = {}
    for email, ws in sockets.items():
        watch(ws, watched, mode="load")  # answered with the watched fragments, fresh
        loaded[email] = "".join(drain(ws, 5, expect=1))
    product = registry.kind_of(samples["product-facts"])[1]
    # One commit of what changes every watched region: the pair's sockets share its fan-out.
    record(db.session, "price_changed", product)
    record(db.session, "quote_changed", ids["acme_quote"])
    record(db.session, "order_changed", ids["acme_order"])
    db.session.commit()
    pushed = {email: "".join(drain(ws, 5, expect=1)) for email, ws in sockets.items()}
    for got in (loaded, pushed):
        for kind in COSTLY_KINDS:
            assert f'id="{samples[kind]}"' in got[WITH], kind
            assert f'id="{samples[kind]}"' in got[WITHOUT], kind
        assert cost_shown(got[WITH]), "the pushes carry no cost even with finance.costs"
        leak = cost_shown(got[WITHOUT])
        assert leak is None, f"a push shows {leak} without costs"
    assert 'data-refresh="report-margins"' in pushed[WITH]
    assert "report-margins" not in pushed[WITHOUT]
