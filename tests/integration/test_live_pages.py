"""Every page live, over real websockets: staff users, roles, settings, the audit log, a
group's price list, the price explainer, the imports list and a company's people.

For each: a change made elsewhere signals the open page, whose list re-fetches itself
through its own (scoped) view; a person who may not see the page gets nothing, even when
their page asks for its region. And the quote page's notices follow the quote's state.
"""

import re
import time

from simple_websocket import ConnectionClosed
from sqlalchemy import select

from core import imports, people, products, sessions, settings, stock
from core.models import CustomerGroup, Role
from extensions import db
from tests.html import find
from tests.integration.test_quotes import counter, new_acme_quote, offer, text
from tests.records import company, pid, product, user
from tests.sockets import drain, watch

ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"
SALES = "anna.sales@portal.test"
WAREHOUSE = "warehouse@portal.test"
NOTHING_WITHIN = 0.5  # s: a socket that gets nothing, checked after the others got theirs


def signal(region: str) -> str:
    return f'data-refresh="{region}"'


def watching(app, ws, email: str, regions: set[str]) -> None:
    """Tell the server what the socket's page shows, and wait until it has taken it."""
    watch(ws, regions)
    hub, person, wanted = app.extensions["live_hub"], user(email).id, frozenset(regions)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if any(c.viewer.user_id == person and c.watching == wanted for c in hub.snapshot()):
            return
        time.sleep(0.01)
    raise AssertionError(f"the server never took the watch list of {email}")


def signalled(ws, region: str, seconds: float = 3.0) -> bool:
    """Whether a refresh signal for `region` arrives, waiting for it at most `seconds`."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = ws.receive(timeout=left)
        except ConnectionClosed:
            return False
        if message is None:
            return False
        if signal(region) in message:
            return True
    return False


# --- staff users -------------------------------------------------------------------------


def test_the_staff_users_list_follows_blocks_invitations_and_sign_ins(app, as_user, connect, ctx):
    admin, manager = connect(ADMIN), connect(MANAGER)
    watching(app, admin, ADMIN, {"users-table"})
    watching(app, manager, MANAGER, {"users-table"})  # no users.view: a crafted watch list

    blocked = user(WAREHOUSE).id
    response = as_user(ADMIN).send("POST", f"/office/users/{blocked}/block", htmx=True)
    assert response.status_code == 200
    assert signalled(admin, "users-table")
    listing = as_user(ADMIN).htmx("/office/users?status=blocked").get_data(as_text=True)
    assert "warehouse@portal.test" in find(listing, id=f"user-row-{blocked}").text

    data = {"name": "Nadia Berg", "email": "nadia@portal.test", "roles": [role("warehouse").id]}
    assert as_user(ADMIN).send("POST", "/office/users/invite", data=data).status_code == 302
    assert signalled(admin, "users-table")

    sessions.open_session(user("finance@portal.test"), hours=1)  # signs in elsewhere
    db.session.commit()
    assert signalled(admin, "users-table")
    assert drain(manager, NOTHING_WITHIN) == []


def test_the_staff_list_is_not_told_of_customer_people(app, connect, ctx):
    admin = connect(ADMIN)
    watching(app, admin, ADMIN, {"users-table"})
    sessions.open_session(user("browse@baltic.test"), hours=1)
    db.session.commit()
    assert drain(admin, NOTHING_WITHIN) == []


def test_the_users_list_re_fetches_with_its_filters_and_page(as_user):
    html = as_user(ADMIN).get("/office/users?q=sales&status=active").get_data(as_text=True)
    region = find(html, id="users-table")
    assert "data-live" in region.attrs and region.attrs["hx-trigger"] == "live:refresh"
    assert region.attrs["hx-get"] == "/office/users?q=sales&status=active"


# --- roles ---------------------------------------------------------------------------------


def role(preset: str) -> Role:
    return db.session.scalar(select(Role).where(Role.preset == preset))


def test_the_roles_list_follows_new_roles_and_their_holders(app, as_user, connect, ctx):
    admin, sales = connect(ADMIN), connect(SALES)
    watching(app, admin, ADMIN, {"roles-table"})
    watching(app, sales, SALES, {"roles-table"})

    created = as_user(ADMIN).send(
        "POST", "/office/roles", data={"name": "Night shift", "scope": "staff"}
    )
    assert created.status_code == 302
    assert signalled(admin, "roles-table")
    listing = as_user(ADMIN).htmx("/office/roles")
    fragment = listing.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="roles-table"') and "<html" not in fragment
    assert "Night shift" in fragment

    finance = user("finance@portal.test")
    people.set_roles(finance, [*finance.roles, role("warehouse")], actor=user(ADMIN))
    db.session.commit()
    assert signalled(admin, "roles-table")  # the holders counted
    assert drain(sales, NOTHING_WITHIN) == []


# --- settings --------------------------------------------------------------------------------


def test_a_saved_setting_signals_its_own_section_to_those_who_see_settings(
    app, as_user, connect, ctx
):
    manager, warehouse = connect(MANAGER), connect(WAREHOUSE)
    sections = {"settings-thresholds", "settings-seller"}
    watching(app, manager, MANAGER, sections)  # settings.view, not settings.edit
    watching(app, warehouse, WAREHOUSE, sections)  # not even settings.view

    data = {"few_from": "3", "many_from": "80"}
    saved = as_user(ADMIN).send("POST", "/office/settings/thresholds", htmx=True, data=data)
    assert saved.status_code == 200
    messages = "".join(drain(manager, 3.0, expect=1))
    assert signal("settings-thresholds") in messages
    assert signal("settings-seller") not in messages
    assert drain(warehouse, NOTHING_WITHIN) == []

    # What the section re-fetches: itself alone, with the new levels, read-only for them.
    section = as_user(MANAGER).htmx("/office/settings?section=thresholds")
    html = section.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="settings-thresholds"')
    assert "<html" not in html and "<form" not in html
    assert "<strong>3</strong>" in html and "<strong>80</strong>" in html


def test_a_settings_section_that_does_not_exist_is_a_400(as_user):
    response = as_user(MANAGER).htmx("/office/settings?section=passwords")
    assert response.status_code == 400


def test_settings_sections_watch_themselves_and_keep_edits(as_user):
    html = as_user(ADMIN).get("/office/settings").get_data(as_text=True)
    for section in ("seller", "thresholds", "terms", "vat", "timezone", "invitations"):
        region = find(html, id=f"settings-{section}")
        assert "data-live" in region.attrs and "data-keep-edits" in region.attrs
        assert region.attrs["hx-get"] == f"/office/settings?section={section}"


# --- audit log -------------------------------------------------------------------------------


def test_every_audited_action_signals_the_open_audit_logs(app, connect, ctx):
    admin, manager = connect(ADMIN), connect(MANAGER)
    watching(app, admin, ADMIN, {"audit-results"})
    watching(app, manager, MANAGER, {"audit-results"})  # no audit.view
    stock.set_level(pid("CAP-1206-10U"), 40, reason="Stocktake", actor=user(WAREHOUSE))
    db.session.commit()
    assert signalled(admin, "audit-results")
    settings.set_payment_terms(45, actor=user(ADMIN))
    db.session.commit()
    assert signalled(admin, "audit-results")
    assert drain(manager, NOTHING_WITHIN) == []


# --- a group's price list --------------------------------------------------------------------


def group_id(name: str) -> int:
    return db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == name))


def test_a_price_change_signals_the_open_price_lists(app, as_user, connect, ctx):
    wholesale = group_id("Wholesale")
    region = f"group-prices-{wholesale}"
    manager, buyer = connect(MANAGER), connect("orders@acme.test")
    watching(app, manager, MANAGER, {region})
    watching(app, buyer, "orders@acme.test", {region})

    page = as_user(SALES).get(f"/office/groups/{wholesale}/prices?q=STM32F401")
    shown = find(page.get_data(as_text=True), id=region).attrs["hx-get"]
    assert "shown=" in shown
    # Nothing changed: the re-fetch is answered 204 and the page keeps what it shows.
    assert as_user(SALES).htmx(shown).status_code == 204

    mcu = pid("MCU-STM32F401")
    data = {f"price-{mcu}": "5.05", f"was-{mcu}": "5.20", "q": "STM32F401"}
    saved = as_user(ADMIN).send("POST", f"/office/groups/{wholesale}/prices", htmx=True, data=data)
    assert saved.status_code == 200 and "1 group price saved." in saved.get_data(as_text=True)
    assert signalled(manager, region)
    assert drain(buyer, NOTHING_WITHIN) == []

    fresh = as_user(SALES).htmx(shown)
    assert fresh.status_code == 200 and "€5.05" in fresh.get_data(as_text=True)


def test_a_base_price_change_reaches_every_groups_price_list(app, connect, ctx):
    lists = {f"group-prices-{group_id(name)}" for name in ("Wholesale", "Partner", "Standard")}
    manager = connect(MANAGER)
    watching(app, manager, MANAGER, lists)
    stock.set_level(pid("CAP-1206-10U"), 12, reason="Damaged reel", actor=user(WAREHOUSE))
    db.session.commit()  # stock is not on a price list: no signal
    products.set_prices(product("CAP-1206-10U"), actor=user(ADMIN), base_price="0.19")
    db.session.commit()
    messages = "".join(drain(manager, 3.0, expect=1))
    assert all(signal(region) in messages for region in lists), messages


# --- the price explainer ---------------------------------------------------------------------


def test_an_open_explanation_re_fetches_when_the_offer_changes(app, as_user, connect, ctx):
    acme = company("acme").id
    page = as_user(MANAGER).get(f"/office/explain?company={acme}&sku=CAP-1206-10U")
    region = find(page.get_data(as_text=True), id="explanation")
    assert "data-live" in region.attrs
    assert region.attrs["hx-get"] == f"/office/explain?company={acme}&sku=CAP-1206-10U"
    idle = as_user(MANAGER).get("/office/explain").get_data(as_text=True)
    assert "data-live" not in find(idle, id="explanation").attrs  # explains nothing yet

    manager, warehouse = connect(MANAGER), connect(WAREHOUSE)
    watching(app, manager, MANAGER, {"explanation"})
    watching(app, warehouse, WAREHOUSE, {"explanation"})  # no customers.view
    stock.set_level(pid("CAP-1206-10U"), 7, reason="Stocktake", actor=user(WAREHOUSE))
    db.session.commit()
    assert signalled(manager, "explanation")
    assert drain(warehouse, NOTHING_WITHIN) == []
    fresh = as_user(MANAGER).htmx(region.attrs["hx-get"]).get_data(as_text=True)
    assert fresh.lstrip().startswith('<div id="explanation"')


def test_a_sales_reps_explainer_re_fetches_only_their_own_customers(as_user, ctx):
    etna = company("etna").id  # unassigned: outside anna's scope
    url = f"/office/explain?company={etna}&sku=CAP-1206-10U"
    assert as_user(SALES).htmx(url).status_code == 404


# --- the imports list ------------------------------------------------------------------------


def test_ones_imports_list_follows_ones_own_imports_only(app, connect, ctx):
    admin_id = user(ADMIN).id
    region = f"imports-recent-{admin_id}"
    admin, manager = connect(ADMIN), connect(MANAGER)
    watching(app, admin, ADMIN, {region})
    watching(app, manager, MANAGER, {region})  # someone else's list, by its id
    job = imports.create_job(user(ADMIN), "stock", "count.csv", apply_valid=False)
    db.session.commit()
    imports.run(job.id, b"sku,stock,reason\nCAP-1206-10U,30,count\n", imports.Limits())
    assert signalled(admin, region)
    assert drain(manager, NOTHING_WITHIN) == []


def test_the_imports_page_watches_ones_own_list(as_user, ctx):
    html = as_user(WAREHOUSE).get("/office/imports").get_data(as_text=True)
    region = find(html, id=f"imports-recent-{user(WAREHOUSE).id}")
    assert "data-live" in region.attrs and region.attrs["hx-get"] == "/office/imports"


# --- a company's people ----------------------------------------------------------------------


def test_a_companys_people_list_is_told_of_its_own_people_only(app, as_user, connect, ctx):
    acme = company("acme")
    region = f"shop-users-{acme.id}"
    buyer = connect("orders@acme.test")
    requester = connect("request@acme.test")  # no shop.users
    baltic = connect("orders@baltic.test")  # another company asking for acme's list
    watching(app, buyer, "orders@acme.test", {region})
    watching(app, requester, "request@acme.test", {region})
    watching(app, baltic, "orders@baltic.test", {region, f"shop-users-{company('baltic').id}"})

    # A sales rep gives a new acme person access, from the back office.
    people.invite(
        email="nina.new@acme.test",
        name="Nina New",
        kind="customer",
        company=acme,
        chosen_roles=[role("requester")],
        actor=user(SALES),
        link=lambda token: f"http://portal.test/invitation/{token}",
    )
    db.session.commit()
    assert signalled(buyer, region)
    listing = as_user("orders@acme.test").htmx("/shop/users").get_data(as_text=True)
    assert "nina.new@acme.test" in listing
    assert drain(requester, NOTHING_WITHIN) == []
    assert drain(baltic, NOTHING_WITHIN) == []

    people.block(user("browse@acme.test"), actor=user(ADMIN))
    db.session.commit()
    assert signalled(buyer, region)


def test_a_companys_people_list_watches_itself(as_user, ctx):
    html = as_user("orders@acme.test").get("/shop/users?q=ravi").get_data(as_text=True)
    region = find(html, id=f"shop-users-{company('acme').id}")
    assert region.attrs["data-keep-edits"] == "tr[id]"
    assert region.attrs["hx-get"] == "/shop/users?q=ravi"


# --- quote notices -----------------------------------------------------------------------------


def actions_panel(c, quote_id: int, shown=None) -> tuple[int, str]:
    url = f"/shop/quotes/{quote_id}" + (f"?shown={shown}" if shown else "")
    response = c.htmx(url)
    return response.status_code, text(response)


def seen_of(c, quote_id: int) -> str:
    html = c.get(f"/shop/quotes/{quote_id}").get_data(as_text=True)
    region = find(html, id=f"quote-actions-{quote_id}")
    return re.search(r"shown=(\d+)", region.attrs["hx-get"]).group(1)


def test_where_the_quote_is_is_said_while_it_is_so_and_goes_with_it(app, as_user, connect, ctx):
    requester, buyer = as_user("request@acme.test"), as_user("orders@acme.test")
    anna = as_user(SALES)
    quote_id = new_acme_quote(as_user)
    with_seller = "is with the seller; you will hear back"

    # The request's page: said in the actions panel (live), not in a flash over the page.
    page = requester.get(f"/shop/quotes/{quote_id}").get_data(as_text=True)
    panel = find(page, id=f"quote-actions-{quote_id}")
    assert with_seller in panel.text
    assert with_seller not in page.replace(panel.inner_html, "")
    drawn_for = seen_of(requester, quote_id)

    ws = connect("request@acme.test")
    watching(app, ws, "request@acme.test", {f"quote-actions-{quote_id}"})

    # Round two: the seller offers. The open page is told; its panel re-fetches without it.
    assert offer(anna, quote_id, ["4.80", "0.1150"]).status_code == 200
    assert signalled(ws, f"quote-actions-{quote_id}")
    status, panel_text = actions_panel(requester, quote_id, drawn_for)
    assert status == 200 and with_seller not in panel_text and "Your move" in panel_text

    # Round three: the customer counters; the panel says so, not the request's words.
    drawn_for = seen_of(buyer, quote_id)
    countered = counter(buyer, quote_id, ["4.50", "0.1000"])
    assert countered.status_code == 200
    answer = text(countered)
    assert answer.count("Your counter-offer is with the seller.") == 1
    assert with_seller not in answer
    assert signalled(ws, f"quote-actions-{quote_id}")

    # Round four: the seller answers again; nothing says the quote is with the seller.
    drawn_for = seen_of(requester, quote_id)
    assert offer(anna, quote_id, ["4.70", "0.1100"]).status_code == 200
    assert signalled(ws, f"quote-actions-{quote_id}")
    status, panel_text = actions_panel(requester, quote_id, drawn_for)
    assert status == 200
    assert "with the seller" not in panel_text
    assert "with the seller" not in text(requester.get(f"/shop/quotes/{quote_id}"))


def test_a_request_flashes_nothing_that_could_outlive_it(as_user, ctx):
    quote_id = new_acme_quote(as_user)
    page = as_user("request@acme.test").get(f"/shop/quotes/{quote_id}").get_data(as_text=True)
    assert not re.search(r'<p class="flash flash--', page)  # no flash over the page
