"""Costs and margins reach only holders of `finance.costs`: every back-office page, fragment
and export a staff person may open (PDFs as their text) is read for a cost planted in
the data.

The routes come from the authorization matrix (every route has a row there), so a new
screen is checked as soon as it exists. Live pushes render the same fragments for the
viewer's audience; each area's own tests check its pushes.
"""

import pytest
from sqlalchemy import update

from core.models import OrderLine, Product
from extensions import db
from tests.costs import CSV_HEADINGS, HEADINGS, PLANTED, TRACES, readable
from tests.integration.test_authorization_matrix import MATRIX, route_ids
from tests.matrix_base import ADMIN, ANNA, MARCO, OK, VIEWER, WAREHOUSE

WITHOUT_COSTS = (ANNA, MARCO, WAREHOUSE, VIEWER)

PAGES = sorted(
    (endpoint, template, table)
    for (endpoint, method), (template, table) in MATRIX.items()
    if method == "GET" and template.startswith("/office")
)


@pytest.fixture(scope="module")
def ids(app):
    return route_ids(app)


@pytest.fixture
def planted(ctx, ids):
    """Product `ids["product"]` and every order line of it cost the planted amount."""
    product_id = ids["product"]
    db.session.execute(update(Product).where(Product.id == product_id).values(cost=PLANTED))
    db.session.execute(
        update(OrderLine).where(OrderLine.product_id == product_id).values(unit_cost=PLANTED)
    )
    db.session.commit()
    return product_id


def allowed(table, persona) -> bool:
    return table.get(persona) in (OK, 200)


def read(c, url: str, htmx: bool) -> str:
    """The text a person reads: the page, the fragment, the export, or a PDF's text."""
    response = c.send("GET", url, htmx=htmx, csrf=False)
    body = readable(response)
    response.close()
    return body


@pytest.mark.parametrize("persona", WITHOUT_COSTS)
def test_no_page_fragment_or_export_shows_a_cost_or_margin(planted, as_user, ids, persona):
    c = as_user(persona)
    opened = 0
    for endpoint, template, table in PAGES:
        if not allowed(table, persona):
            continue
        url = template.format(**ids)
        for htmx in (False, True):
            body = read(c, url, htmx)
            opened += 1
            leaked = [t for t in TRACES if t in body]
            assert not leaked, f"{endpoint} ({url}, htmx={htmx}) shows the cost: {leaked}"
            heading = HEADINGS.search(body)
            assert heading is None, f"{endpoint} ({url}) has a {heading.group(1)!r} heading"
            if body.lstrip("\ufeff").startswith(("sku,", "number,", "order,", "invoice")):
                assert not CSV_HEADINGS.search(body), f"{endpoint} exports a cost column"
    assert opened >= 8


def test_the_planted_cost_is_shown_to_those_who_may_see_it(planted, as_user, ids):
    """The check above is meaningful: with finance.costs the same crawl finds the cost."""
    c = as_user(ADMIN)
    found = []
    for endpoint, template, table in PAGES:
        if allowed(table, ADMIN):
            body = read(c, template.format(**ids), False)
            if any(t in body for t in TRACES):
                found.append(endpoint)
    assert found, "no page shows the planted cost even to an admin"
