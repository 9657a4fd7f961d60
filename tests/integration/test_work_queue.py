"""The overview's work queue: live counts of what waits, scoped like the lists they open."""

import re
import time

import pytest
from sqlalchemy import func, select

from core import people, roles
from core.models import Order, Role, company_reps
from extensions import db
from tests.html import find
from tests.matrix_base import ADMIN, ANNA, FINANCE, MANAGER, MARCO, VIEWER, WAREHOUSE
from tests.records import company, place, user
from tests.sockets import drain, watch

LINKS = {
    "orders-to-confirm": "/office/orders?status=placed",
    "orders-to-ship": "/office/orders?status=confirmed",
    "quotes-to-answer": "/office/quotes?status=seller",
    "invoices-overdue": "/office/invoices?status=overdue",
    "low-stock": "/office/stock/low",
}
QUEUES_OF = {
    ADMIN: set(LINKS),
    MANAGER: set(LINKS),
    ANNA: set(LINKS),
    MARCO: set(LINKS),
    VIEWER: set(LINKS),
    WAREHOUSE: {"orders-to-confirm", "orders-to-ship", "low-stock"},
    FINANCE: {"orders-to-confirm", "orders-to-ship", "invoices-overdue"},
}
NUMBER = re.compile(r"\d[\d,.\u00a0\u202f]*")


def first_number(text: str) -> int:
    return int(re.sub(r"\D", "", NUMBER.search(text).group(0)))


def tiles(html: str) -> dict[str, tuple[int, str]]:
    """Each tile of the work queue: its count and where it links."""
    region = find(html, id="work-queue")
    assert region is not None, "no work queue on the overview"
    keys = re.findall(r'data-queue="([a-z-]+)"', region.inner_html)
    return {key: read_tile(find(region.inner_html, data_queue=key)) for key in keys}


def read_tile(tile) -> tuple[int, str]:
    link = re.search(r'class="work-queue__link" href="([^"]+)"', tile.inner_html)
    return first_number(tile.text), link.group(1).replace("&amp;", "&")


def list_count(client, url: str) -> int:
    """The count a list page shows at the top of its results."""
    html = client.get(url).get_data(as_text=True)
    return first_number(find(html, class_="results__count").text)


def placed_orders(email: str | None) -> int:
    """Placed orders of the customers assigned to this rep (None: of every customer),
    counted here from the tables, not through the portal's own queries."""
    stmt = select(func.count(Order.id)).where(Order.status == "placed")
    if email is not None:
        reps = select(company_reps.c.company_id).where(company_reps.c.user_id == user(email).id)
        stmt = stmt.where(Order.company_id.in_(reps))
    return db.session.scalar(stmt)


@pytest.mark.parametrize("email", [ADMIN, MANAGER, ANNA, MARCO, WAREHOUSE, FINANCE, VIEWER])
def test_each_count_is_what_its_list_shows(as_user, email):
    client = as_user(email)
    found = tiles(client.get("/office/").get_data(as_text=True))
    assert set(found) == QUEUES_OF[email]
    for key, (count, url) in found.items():
        assert url == LINKS[key]
        assert list_count(client, url) == count, key


def test_out_of_stock_links_to_the_low_stock_list_below_one(as_user):
    client = as_user(WAREHOUSE)
    tile = find(client.get("/office/").get_data(as_text=True), data_queue="low-stock")
    link = re.search(r'class="work-queue__part" href="([^"]+)">([^<]+)<', tile.inner_html)
    assert link.group(1) == "/office/stock/low?below=1"
    assert "Out of stock" in link.group(2)
    assert first_number(link.group(2)) == list_count(client, link.group(1))


def test_reps_count_only_their_own_customers(as_user, ctx):
    counts = {
        email: tiles(as_user(email).get("/office/").get_data(as_text=True))["orders-to-confirm"][0]
        for email in (ADMIN, ANNA, MARCO)
    }
    assert counts[ADMIN] == placed_orders(None)
    assert counts[ANNA] == placed_orders(ANNA)
    assert counts[MARCO] == placed_orders(MARCO)
    assert counts[ANNA] != counts[MARCO]  # the demo gives them different numbers
    assert counts[ANNA] + counts[MARCO] <= counts[ADMIN]


def test_reps_see_only_their_quotes_and_invoices(as_user):
    anna = tiles(as_user(ANNA).get("/office/").get_data(as_text=True))
    marco = tiles(as_user(MARCO).get("/office/").get_data(as_text=True))
    admin = tiles(as_user(ADMIN).get("/office/").get_data(as_text=True))
    # The demo's quotes awaiting an answer and its overdue invoices are Acme's and Baltic's.
    assert anna["quotes-to-answer"][0] == admin["quotes-to-answer"][0] > 0
    assert marco["quotes-to-answer"][0] == 0
    assert anna["invoices-overdue"][0] == admin["invoices-overdue"][0] > 0
    assert marco["invoices-overdue"][0] == 0
    # Stock is not anyone's customer: the same for all who may see it.
    assert anna["low-stock"] == marco["low-stock"] == admin["low-stock"]


def test_overdue_invoices_say_what_is_owed(as_user):
    tile = find(
        as_user(FINANCE).get("/office/").get_data(as_text=True), data_queue="invoices-overdue"
    )
    assert "owed" in tile.text and "€" in tile.text


def test_no_stock_figures_without_the_stock_permission(as_user):
    html = as_user(FINANCE).get("/office/").get_data(as_text=True)
    assert find(html, data_queue="low-stock") is None
    assert "Out of stock" not in html and "/office/stock" not in html


def test_a_role_without_queues_says_so(as_user, ctx):
    readonly = db.session.scalar(select(Role).where(Role.preset == "readonly"))
    roles.set_permissions(readonly, {"products.view"}, actor=user(ADMIN))
    db.session.commit()
    region = find(as_user(VIEWER).get("/office/").get_data(as_text=True), id="work-queue")
    assert "none of the work queues" in region.text
    assert "data-queue" not in region.inner_html


def test_nothing_waiting_is_said_plainly(as_user, ctx):
    # Quotes without `customers.all`: the viewer serves no customer, so nothing waits.
    readonly = db.session.scalar(select(Role).where(Role.preset == "readonly"))
    roles.set_permissions(readonly, {"quotes.view"}, actor=user(ADMIN))
    db.session.commit()
    region = find(as_user(VIEWER).get("/office/").get_data(as_text=True), id="work-queue")
    assert "Nothing waits for you right now." in region.text
    assert "data-queue" not in region.inner_html


def test_the_queue_is_a_live_region_and_its_fragment_for_htmx(as_user):
    client = as_user(ANNA)
    page = client.get("/office/").get_data(as_text=True)
    region = find(page, id="work-queue")
    assert "data-live" in region.attrs
    fragment = client.htmx("/office/").get_data(as_text=True)
    assert "<html" not in fragment
    assert re.sub(r"^\s*(\{#.*?#\})?\s*", "", fragment).startswith('<section id="work-queue"')


def pushed_count(messages: list[str], key: str) -> int | None:
    """The count of one queue in the last work queue pushed, if any was."""
    pushed = [m for m in messages if 'id="work-queue"' in m]
    if not pushed:
        return None
    tile = find(find(pushed[-1], id="work-queue").inner_html, data_queue=key)
    return first_number(tile.text)


def test_counts_update_live_for_each_scope(connect, ctx):
    anna, marco = connect(ANNA), connect(MARCO)
    for ws in (anna, marco):
        watch(ws, {"work-queue"}, mode="load")
    before_anna = pushed_count(drain(anna, 2.0, expect=1), "orders-to-confirm")
    before_marco = pushed_count(drain(marco, 2.0, expect=1), "orders-to-confirm")
    assert before_anna == placed_orders(ANNA) and before_marco == placed_orders(MARCO)
    time.sleep(0.2)

    place("acme")  # Anna's customer: her count moves, Marco's stays

    after_anna = pushed_count(drain(anna, 2.0, expect=1), "orders-to-confirm")
    assert after_anna == before_anna + 1
    marco_messages = drain(marco, 1.0)
    assert pushed_count(marco_messages, "orders-to-confirm") in (None, before_marco)


def test_an_unassigned_customers_order_moves_only_the_counts_of_those_who_see_it(connect, ctx):
    admin, anna = connect(ADMIN), connect(ANNA)
    for ws in (admin, anna):
        watch(ws, {"work-queue"}, mode="load")
    before_admin = pushed_count(drain(admin, 2.0, expect=1), "orders-to-confirm")
    before_anna = pushed_count(drain(anna, 2.0, expect=1), "orders-to-confirm")
    time.sleep(0.2)

    place("etna")  # nobody's customer: only those who see every customer count it

    assert pushed_count(drain(admin, 2.0, expect=1), "orders-to-confirm") == before_admin + 1
    assert pushed_count(drain(anna, 1.0), "orders-to-confirm") in (None, before_anna)


def test_a_rep_given_a_customer_counts_its_orders_at_once(connect, ctx):
    marco = connect(MARCO)
    watch(marco, {"work-queue"}, mode="load")
    before = pushed_count(drain(marco, 2.0, expect=1), "orders-to-confirm")
    time.sleep(0.2)
    acme = company("acme")
    people.set_reps(acme, [*acme.reps, user(MARCO)], actor=user(ADMIN))
    db.session.commit()

    after = pushed_count(drain(marco, 2.0, expect=1), "orders-to-confirm")
    acme_placed = db.session.scalar(
        select(func.count(Order.id)).where(Order.company_id == acme.id, Order.status == "placed")
    )
    assert after == before + acme_placed > before
