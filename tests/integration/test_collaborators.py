"""External collaborators see no price anywhere; Partners read assigned customers only and
change nothing; the upgrade keeps prices for everyone who had them.

The collaborator (`draftsman@acme.test`, the "External collaborator" preset: shop.quote
only) is walked over every storefront, account and API page the authorization matrix
lists, and through a whole quote (request, seller's offer, page, PDF, mail, API, live
push), always looking for prices the demo is known to carry (MCU-STM32F401: 6.40 base,
5.20 Wholesale, 4.68 on promotion) and the price the seller offers in the test (4.44).

The matrix itself keeps its personas (the seller's staff and each company's three
people): the two outsiders would add a column to every row of every area. Instead the
tests below walk the matrix's routes for them and hold their answers to those of the
persona they are narrower than (Read-only for the Partner, Acme's requester for the
collaborator).
"""

import csv
import io
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from pypdf.errors import PdfReadError
from sqlalchemy import func, select

from core import access, quotes, roles, webhooks
from core.models import (
    AuditEntry,
    Company,
    CustomerGroup,
    OutboxMail,
    Product,
    Quote,
    Role,
    ShoppingList,
    User,
)
from extensions import db
from tests.conftest import MARIADB_URL, derived_database, persona_api_token
from tests.costs import readable, shows
from tests.integration.test_authorization_matrix import MATRIX, route_ids
from tests.matrix_base import ANON, OK, VIEWER
from tests.sockets import drain, watch

DRAFTSMAN = "draftsman@acme.test"
REQUESTER = "request@acme.test"
DECIDER = "orders@acme.test"
PARTNER = "partner@portal.test"
ANNA = "anna.sales@portal.test"
MCU = "MCU-STM32F401"
OFFERED = "4.44"
# The demo's MCU prices, in both decimal marks: base, Wholesale, Wholesale on promotion.
KNOWN = ("6.40", "6,40", "5.20", "5,20", "4.68", "4,68")
TRACES = (*KNOWN, OFFERED, "4,44")
DENIED = (403, 404)


def fresh():
    db.session.rollback()
    db.session.expire_all()


def person(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def mcu() -> Product:
    return db.session.scalar(select(Product).where(Product.sku == MCU))


def bearer(email: str) -> dict:
    return {"Authorization": f"Bearer {persona_api_token(email)}"}


def allowed(expected) -> bool:
    """Is this matrix expectation an answer that serves the persona (not a refusal)?"""
    return expected == OK or (isinstance(expected, int) and expected not in (401, 403, 404, 405))


def leaks(text: str, traces=TRACES) -> list[str]:
    """The traces found as numbers of their own (tests.costs.shows)."""
    return [t for t in traces if shows(text, t)]


@pytest.fixture(scope="module")
def ids(app):
    return route_ids(app)


@pytest.fixture
def offered(app, as_user, ctx):
    """A quote the draftsman asked for (100 MCUs), answered by Anna at 4.44."""
    c = as_user(DRAFTSMAN)
    answer = c.send(
        "POST",
        "/shop/quotes/new",
        data={"note": "", "action": "send", "lines-0-sku": MCU, "lines-0-quantity": "100"},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    fresh()
    quote = db.session.scalar(select(Quote).order_by(Quote.id.desc()))
    assert quote.requested_by.email == DRAFTSMAN and quote.status == "requested"
    quotes.answer(
        quote.id,
        {quote.lines[0].id: OFFERED},
        quotes.today() + timedelta(days=10),
        actor=person(ANNA),
        seen=quotes.latest_round(quote).id,
    )
    db.session.commit()
    return quote.id


# --- the presets -----------------------------------------------------------------------


def test_presets_are_ordinary_permission_sets(ctx):
    preset = access.PRESETS_BY_KEY
    assert preset["collaborator"].scope == "customer"
    assert preset["collaborator"].permissions == {"shop.quote"}
    for key in ("decision_maker", "requester", "browse_only"):
        assert "shop.prices" in preset[key].permissions, key
    partner = preset["partner"].permissions
    assert preset["partner"].scope == "staff"
    assert all(p.endswith(".view") for p in partner)
    assert "customers.all" not in partner and "finance.costs" not in partner
    made = roles.ensure_presets()
    assert made["collaborator"].permissions == {"shop.quote"}
    assert made["partner"].permissions == partner


def test_buying_needs_prices_whatever_the_role_lists(ctx):
    """A role with carts and orders but without shop.prices gets none of them."""
    role = roles.create(
        "Buyer without prices",
        "customer",
        {"shop.cart", "shop.order", "shop.approve", "shop.invoices", "shop.quote"},
        actor=person("admin@portal.test"),
    )
    buyer = person(DECIDER)
    buyer.roles = [role]
    db.session.flush()
    buyer.__dict__.pop("_permissions", None)
    assert not access.sees_prices(buyer)
    for permission in access.PRICED:
        assert not access.can(buyer, permission), permission
    assert access.can(buyer, "shop.quote")
    assert access.shop_areas(buyer) == ["catalog", "lists", "quotes"]


# --- the collaborator: no price anywhere ------------------------------------------------


SHOP_PAGES = sorted(
    (endpoint, template, table)
    for (endpoint, method), (template, table) in MATRIX.items()
    if method == "GET" and template.startswith(("/shop", "/account", "/api"))
)


def test_the_collaborator_sees_no_price_on_any_page_or_fragment(offered, as_user, ids):
    c = as_user(DRAFTSMAN)
    ids = {**ids, "quote": offered}
    opened = []
    for endpoint, template, table in SHOP_PAGES:
        try:
            url = template.format(**ids)
        except KeyError:
            continue
        for htmx in (False, True):
            response = c.send("GET", url, htmx=htmx, csrf=False)
            if not allowed(table.get(REQUESTER)):  # never more than Acme's requester
                # (API routes answer a session with 401: their matrix is the token one)
                assert response.status_code != 200 or url.startswith("/api"), endpoint
            try:
                body = readable(response)
            except PdfReadError:  # a drawing uploaded as a PDF: its bytes, then
                body = response.get_data().decode("latin-1")
            finally:
                response.close()
            if response.status_code == 200:
                opened.append(endpoint)
                assert not leaks(body), f"{endpoint} ({url}, htmx={htmx}): {leaks(body)}"
    assert {"shop.catalog", "shop.product", "shop.quotes", "shop.lists"} <= set(opened)
    # The quote itself, its PDF and a catalogue search for the product.
    for url in (
        f"/shop/quotes/{offered}",
        f"/shop/quotes/{offered}.pdf",
        f"/shop/?q={MCU}",
        f"/shop/quotes/new?sku={MCU}",
    ):
        response = c.send("GET", url, csrf=False)
        assert response.status_code == 200, url
        body = readable(response)
        assert not leaks(body), f"{url}: {leaks(body)}"
        if "quotes/" in url and "new" not in url:
            assert "100" in body  # the quantity is theirs to see
    page = c.get(f"/shop/?q={MCU}").get_data(as_text=True)
    assert "Price on request" in page and "Add to cart" not in page
    # The same walk finds the prices for the company's decision-maker: the check bites.
    seen = as_user(DECIDER).get(f"/shop/quotes/{offered}").get_data(as_text=True)
    assert "4.44" in seen
    assert "4.68" in as_user(DECIDER).get(f"/shop/?q={MCU}").get_data(as_text=True)


def test_the_collaborator_may_not_buy(as_user, ids):
    c = as_user(DRAFTSMAN)
    for url in ("/shop/cart", "/shop/orders", "/shop/invoices", "/shop/approvals"):
        assert c.get(url).status_code in DENIED, url
    assert c.get("/shop/quick-order").status_code in DENIED
    assert c.get("/shop/checkout").status_code in (*DENIED, 405)
    answer = c.send("POST", "/shop/cart/lines", data={"sku": MCU, "quantity": "1"})
    assert answer.status_code in DENIED


def test_a_shared_list_and_its_export_carry_no_price(as_user, ctx):
    acme = db.session.scalar(select(Company.id).where(Company.slug == "acme"))
    lst = db.session.scalar(select(ShoppingList).where(ShoppingList.company_id == acme))
    assert lst is not None, "the demo keeps a list for Acme"
    c = as_user(DRAFTSMAN)
    for url in (f"/shop/lists/{lst.id}", f"/shop/lists/{lst.id}.csv"):
        response = c.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert not leaks(body, KNOWN) and "€" not in body, url

    def second_row(email):
        text = as_user(email).get(f"/shop/lists/{lst.id}.csv").get_data(as_text=True)
        return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1]

    assert second_row(DRAFTSMAN)[4] == ""  # the unit_price column stays, empty
    assert second_row(DECIDER)[4] != ""


def test_the_collaborator_cannot_counter_the_sellers_prices(offered, as_user, ctx):
    quote = db.session.get(Quote, offered)
    page = as_user(DRAFTSMAN).get(f"/shop/quotes/{offered}").get_data(as_text=True)
    assert "Propose other prices" not in page and "decision-maker" in page
    with pytest.raises(quotes.Refused):
        quotes.counter(
            offered,
            {quote.lines[0].id: "3.00"},
            actor=person(DRAFTSMAN),
            seen=quotes.latest_round(quote).id,
        )
    fresh()
    answer = as_user(DRAFTSMAN).send(
        "POST",
        f"/shop/quotes/{offered}/counter",
        data={
            "seen": str(quotes.latest_round(db.session.get(Quote, offered)).id),
            "note": "",
            "lines-0-line": str(db.session.get(Quote, offered).lines[0].id),
            "lines-0-unit_price": "3.00",
        },
        htmx=True,
    )
    assert answer.status_code == 422
    fresh()
    assert db.session.get(Quote, offered).status == "offered"


def test_quote_mails_tell_the_collaborator_no_price(offered, ctx):
    fresh()
    told = list(db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == DRAFTSMAN)))
    assert told, "the person who asked hears that the seller answered"
    for mail in told:
        assert not leaks(mail.subject + mail.body), mail.body
        assert mail.document_kind is None  # no quote PDF with prices attached
    decider = db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == DECIDER)).all()
    assert any(OFFERED in m.body for m in decider)


def test_the_api_gives_the_collaborator_no_price(offered, client, ctx):
    headers = bearer(DRAFTSMAN)
    product_id = mcu().id
    for url in (
        f"/api/v1/catalog?q={MCU}",
        f"/api/v1/catalog/{product_id}",
        "/api/v1/quotes",
        f"/api/v1/quotes/{offered}",
    ):
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, (url, answer.get_data(as_text=True)[:300])
        body = answer.get_data(as_text=True)
        assert not leaks(body), (url, leaks(body))
        assert '"price"' not in body and '"unit_price"' not in body and '"total"' not in body
    for url in ("/api/v1/cart", "/api/v1/orders", "/api/v1/invoices"):
        assert client.get(url, headers=headers).status_code == 403, url
    theirs = client.get(f"/api/v1/quotes/{offered}", headers=bearer(DECIDER)).get_json()
    assert theirs["lines"][0]["unit_price"] is not None


def test_price_events_are_not_offered_without_prices(ctx):
    role = roles.create(
        "Integrator without prices",
        "customer",
        {"shop.webhooks", "shop.quote"},
        actor=person("admin@portal.test"),
    )
    owner = person(DRAFTSMAN)
    owner.roles = [role]
    db.session.flush()
    owner.__dict__.pop("_permissions", None)
    keys = {t.key for t in webhooks.types_for(owner)}
    assert "price.changed" not in keys and "stock.changed" in keys
    from blueprints.api.webhooks import _product_for

    shown = _product_for(owner, mcu())
    assert "price" not in shown["offer"] and "stock" in shown["offer"]
    decider = person(DECIDER)
    assert "price.changed" in {t.key for t in webhooks.types_for(decider)}


def test_a_pushed_offer_never_carries_a_price_to_the_collaborator(connect, ctx):
    from core import products

    product = mcu()
    draftsman, decider = connect(DRAFTSMAN), connect(DECIDER)
    for ws in (draftsman, decider):
        watch(ws, {f"offer-{product.id}"})
    time.sleep(0.2)
    wholesale = db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == "Wholesale"))
    products.set_prices(product, actor=None, base_price="7.00", group_prices={wholesale: "5.00"})
    db.session.commit()
    theirs = "".join(drain(decider, 2.0, expect=1))
    pushed = "".join(drain(draftsman, 2.0, expect=1))
    assert "€4.50" in theirs  # 5.00 less 10%: the push happened, with prices where due
    assert f"offer-{product.id}" in pushed and "Price on request" in pushed
    assert "€" not in pushed and "4.50" not in pushed and "data-price" not in pushed


# --- the partner: assigned customers, no costs, no changes ----------------------------


def test_the_partner_reads_assigned_customers_only(as_user, ctx):
    c = as_user(PARTNER)
    listing = c.get("/office/customers").get_data(as_text=True)
    assert "Acme Robotics" in listing and "Baltic Drones" not in listing
    baltic = db.session.scalar(select(Company.id).where(Company.slug == "baltic"))
    acme = db.session.scalar(select(Company.id).where(Company.slug == "acme"))
    assert c.get(f"/office/customers/{acme}").status_code == 200
    assert c.get(f"/office/customers/{baltic}").status_code == 404
    orders = c.get("/office/orders").get_data(as_text=True)
    assert "Acme Robotics" in orders and "Baltic Drones" not in orders
    for url in ("/office/invoices", "/office/reports", "/office/users", "/office/roles"):
        assert c.get(url).status_code == 403, url
    product = c.get(f"/office/products/{mcu().id}").get_data(as_text=True)
    assert not shows(product, "3.90", "3,90")  # the MCU's cost


MATRIX_ROUTES = sorted(
    (endpoint, method, template, table) for (endpoint, method), (template, table) in MATRIX.items()
)


def test_the_partner_changes_nothing_and_sees_no_more_than_read_only(app, as_user, ids):
    """Every back-office POST that the Read-only preset is refused is refused to the
    Partner, writing nothing (those left are everyone's own, such as ending a view as a
    customer); no page is served to them that Read-only (every trade module, every
    customer) is refused."""
    c = as_user(PARTNER)
    c.csrf_token()
    _, tracker = app.extensions["test_template"]
    checked = 0
    for endpoint, method, template, table in MATRIX_ROUTES:
        if not template.startswith("/office") or table.get(VIEWER) == ANON:
            continue
        url = template.format(**ids)
        before = set(tracker.tables)
        response = c.send(method, url, csrf=method == "POST")
        status = response.status_code
        response.close()
        if allowed(table.get(VIEWER)):
            continue
        if method == "POST":
            assert status in DENIED, f"{endpoint} {url}: {status}"
            written = set(tracker.tables) - before - {"login_sessions"}
            assert not written, f"{endpoint} wrote {written}"
            checked += 1
        else:
            assert status in DENIED, f"{endpoint} {url}: {status}"
    assert checked > 30


def test_the_roles_page_shows_and_edits_the_partner_like_any_role(as_user, ctx):
    role_id = db.session.scalar(select(Role.id).where(Role.preset == "partner"))
    c = as_user("admin@portal.test")
    assert "Partner" in c.get("/office/roles").get_data(as_text=True)
    page = c.get(f"/office/roles/{role_id}").get_data(as_text=True)
    assert "Partner" in page and 'value="invoices.view"' in page
    chosen = [*access.PARTNER_VIEWS, "invoices.view"]
    answer = c.send("POST", f"/office/roles/{role_id}/permissions", data={"permissions": chosen})
    assert answer.status_code in (200, 302), answer.status_code
    fresh()
    assert "invoices.view" in db.session.get(Role, role_id).permissions
    assert db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "role.permissions_changed")
    )
    assert as_user(PARTNER).get("/office/invoices").status_code == 200


# --- the upgrade ------------------------------------------------------------------------


@pytest.fixture
def bare_database(tmp_path):
    """A database of the test's own: MariaDB's when the tests run there, else SQLite."""
    if MARIADB_URL:
        with derived_database("upgrade") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'upgrade.db'}"


def test_the_upgrade_keeps_prices_for_everyone_who_had_them(bare_database):
    """An installation at 0021 with its presets and a role of its own: after 0022 each of
    them sees prices, and the two new presets exist; downgrading takes both back."""
    from app import create_app

    url = bare_database
    app = create_app({"PORTAL_ENV": "testing", "DATABASE_URL": url, "SERVER_NAME": None})
    with app.app_context():
        upgrade(revision="0021")
        now = "2027-01-01 00:00:00"
        rows = (
            (1, "Decision-maker", "customer", "decision_maker", "shop.order"),
            (2, "Requester", "customer", "requester", "shop.cart"),
            (3, "Browse-only", "customer", "browse_only", None),
            (4, "Our buyers", "customer", None, "shop.cart"),
            (5, "Read-only", "staff", "readonly", "orders.view"),
            (6, "Partner", "staff", None, "orders.view"),  # an admin's own, same name
        )
        with db.engine.begin() as conn:
            for role_id, name, scope, preset, permission in rows:
                conn.execute(
                    sa.text(
                        "INSERT INTO roles (id, name, scope, preset, description, "
                        "requires_two_factor, created_at, updated_at) VALUES "
                        "(:id, :name, :scope, :preset, '', 0, :now, :now)"
                    ),
                    {"id": role_id, "name": name, "scope": scope, "preset": preset, "now": now},
                )
                if permission:
                    conn.execute(
                        sa.text("INSERT INTO role_permissions VALUES (:id, :p)"),
                        {"id": role_id, "p": permission},
                    )
        upgrade(revision="0022")
        with db.engine.connect() as conn:
            granted = {
                row[0]
                for row in conn.execute(
                    sa.text("SELECT role_id FROM role_permissions WHERE permission='shop.prices'")
                )
            }
            made = dict(
                conn.execute(sa.text("SELECT preset, name FROM roles WHERE id > 6")).fetchall()
            )
            partner_perms = {
                row[0]
                for row in conn.execute(
                    sa.text(
                        "SELECT permission FROM role_permissions JOIN roles ON roles.id = "
                        "role_permissions.role_id WHERE roles.preset = 'partner'"
                    )
                )
            }
        assert granted == {1, 2, 3, 4}  # every customer role; never a staff one
        assert made == {"collaborator": "External collaborator", "partner": "Partner (preset)"}
        assert partner_perms == set(access.PARTNER_VIEWS)
        from flask_migrate import downgrade

        downgrade(revision="0021")
        with db.engine.connect() as conn:
            left = conn.execute(
                sa.text("SELECT count(*) FROM role_permissions WHERE permission='shop.prices'")
            ).scalar()
            presets = conn.execute(
                sa.text("SELECT count(*) FROM roles WHERE preset IN ('collaborator', 'partner')")
            ).scalar()
        assert left == 0 and presets == 0
        db.session.remove()
        db.engine.dispose()
