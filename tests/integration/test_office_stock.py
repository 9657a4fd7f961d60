"""Back-office stock: each product's movement history (who, when, why, before and after,
scoped to one's customers), the low-stock list, and both kept live."""

import re
import time

import pytest
from sqlalchemy import func, select

from core import orders, products, stock
from core.models import Company, Product, Setting, StockMovement
from core.orders import LineRequest
from extensions import db
from tests.html import find, find_all
from tests.records import pid, user
from tests.sockets import drain, watch

ADMIN = "admin@portal.test"
WAREHOUSE = "warehouse@portal.test"
ANNA = "anna.sales@portal.test"
FINANCE = "finance@portal.test"
VIEWER = "viewer@portal.test"
CAP = "CAP-1206-10U"  # stock 36
USBC = "CON-USBC-16P"  # stock 0
MCU = "MCU-STM32F401"  # stock 4217


def adjust(client, product_id: int, counted, reason: str, **kwargs):
    return client.send(
        "POST",
        f"/office/stock/{product_id}",
        data={"counted": counted, "reason": reason, **kwargs.pop("data", {})},
        **kwargs,
    )


def rows(html: str) -> list[list[str]]:
    """The cells of each movement row, in order."""
    region = find(html, class_="table movements__table")
    if region is None:
        return []
    found = []
    for row in re.findall(r'<tr id="movement-\d+">(.*?)</tr>', region.inner_html, re.S):
        found.append(
            [
                " ".join(re.sub(r"<[^>]+>", " ", c).split())
                for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            ]
        )
    return found


def place(slug: str, sku: str, quantity: int):
    order = orders.place(
        db.session.scalar(select(Company).where(Company.slug == slug)),
        [LineRequest(pid(sku), quantity)],
        placed_by=user(f"orders@{slug}.test"),
    )
    db.session.commit()
    return order


# History ------------------------------------------------------------------------------------


def test_history_shows_who_when_why_before_after_and_change_newest_first(as_user, ctx):
    cap = pid(CAP)
    warehouse = as_user(WAREHOUSE)
    assert adjust(warehouse, cap, 30, "Stocktake, aisle 4").status_code == 302
    assert adjust(as_user(ADMIN), cap, 45, "Found a reel").status_code == 302
    html = warehouse.get(f"/office/stock/{cap}").get_data(as_text=True)
    cells = rows(html)
    assert len(cells) == 3
    newest, previous, opening = cells
    assert newest[1:6] == ["Adjustment", "+15", "30", "45", "Found a reel"]
    assert newest[6] == user(ADMIN).name
    assert previous[1:6] == ["Adjustment", "-6", "36", "30", "Stocktake, aisle 4"]
    assert previous[6] == user(WAREHOUSE).name
    assert opening[1:6] == ["Opening stock", "+36", "0", "36", "Opening stock"]
    assert opening[6] == "System"
    assert "3 movements" in html
    assert find(html, id=f"stock-{cap}").text == "45"  # the live level cell


def test_history_pages_newest_first(as_user, ctx):
    cap = pid(CAP)
    for level in range(1, 31):
        stock.set_level(cap, level, reason=f"count {level}", actor=user(WAREHOUSE))
    db.session.commit()
    client = as_user(VIEWER)
    first = client.get(f"/office/stock/{cap}").get_data(as_text=True)
    second = client.get(f"/office/stock/{cap}?page=2").get_data(as_text=True)
    assert len(rows(first)) == 25 and len(rows(second)) == 6
    assert rows(first)[0][5] == "count 30" and rows(second)[-1][1] == "Opening stock"
    assert "Page 1 of 2" in first and "31 movements" in first
    assert "the history ends on page 2" in client.get(f"/office/stock/{cap}?page=9").get_data(
        as_text=True
    )
    assert client.get(f"/office/stock/{cap}?page=0").status_code == 400
    assert 'name="counted"' not in first  # read-only: no adjust form


def test_the_history_fragment_re_fetches_itself(as_user, ctx):
    cap = pid(CAP)
    html = as_user(WAREHOUSE).htmx(f"/office/stock/{cap}").get_data(as_text=True)
    assert html.lstrip().startswith(f'<div id="stock-movements-{cap}"')
    assert "<html" not in html
    short = as_user(WAREHOUSE).htmx(f"/office/stock/{cap}?recent=1").get_data(as_text=True)
    assert f"/office/stock/{cap}?recent=1" in short


def test_order_movements_name_the_buyer_only_within_ones_scope(as_user, ctx):
    mcu = pid(MCU)
    acme_order = place("acme", MCU, 3)
    carpathia_order = place("carpathia", MCU, 2)
    anna = as_user(ANNA).get(f"/office/stock/{mcu}").get_data(as_text=True)
    newest, older = rows(anna)[0], rows(anna)[1]
    assert newest[1:5] == ["Order", "-2", "4214", "4212"]
    assert newest[5] == "A customer's order" and newest[6] == "—"
    assert carpathia_order.number not in anna and "Carpathia" not in anna
    assert older[5] == f"Order {acme_order.number}" and "Acme Robotics" in older[6]
    assert f"/office/orders/{acme_order.id}" in anna
    admin = as_user(ADMIN).get(f"/office/stock/{mcu}").get_data(as_text=True)
    assert carpathia_order.number in admin and "Carpathia Makers" in admin


@pytest.mark.parametrize("email", [FINANCE, "orders@acme.test"])
def test_no_stock_view_no_history_or_low_stock(as_user, ctx, email):
    assert as_user(email).get(f"/office/stock/{pid(CAP)}").status_code == 403
    assert as_user(email).get("/office/stock/low").status_code == 403


def test_unknown_product_history_is_404(as_user):
    assert as_user(WAREHOUSE).get("/office/stock/999999").status_code == 404


def test_adjusting_from_the_product_history_page_comes_back_to_it(as_user, ctx):
    cap = pid(CAP)
    page = as_user(WAREHOUSE).get(f"/office/stock/{cap}").get_data(as_text=True)
    assert 'name="from" value="product"' in page
    response = adjust(as_user(WAREHOUSE), cap, 12, "Damaged", data={"from": "product"})
    assert response.headers["Location"].endswith(f"/office/stock/{cap}")


def test_the_product_page_shows_recent_movements(as_user, ctx):
    cap = pid(CAP)
    stock.set_level(cap, 20, reason="Cycle count", actor=user(WAREHOUSE))
    db.session.commit()
    html = as_user(VIEWER).get(f"/office/products/{cap}").get_data(as_text=True)
    region = find(html, id=f"stock-movements-{cap}")
    assert "Cycle count" in region.text and "Opening stock" in region.text
    assert "Full history" in html


# Low stock -------------------------------------------------------------------------------------


def listed(html: str) -> list[str]:
    region = find(html, id="low-stock")
    return [td.text for td in find_all(region.inner_html, class_="mono")]


def test_low_stock_lists_products_on_sale_below_many_emptiest_first(as_user, ctx):
    html = as_user(WAREHOUSE).get("/office/stock/low").get_data(as_text=True)
    low = db.session.scalar(
        select(func.count(Product.id)).where(Product.sold(), Product.stock < 50)
    )
    assert f"{low} products below 50" in html
    assert MCU not in listed(html)
    levels = [int(td.text) for td in find_all(html, class_="num stock-level")]
    assert len(levels) == min(low, 50) and levels == sorted(levels) and max(levels) < 50
    assert 'value="50"' in html  # the default comes from the settings' "Many" threshold
    assert "hx-preserve" in html and 'name="from" value="low"' in html
    assert "Page 1 of" in html
    for sku in (USBC, CAP):
        assert listed(
            as_user(WAREHOUSE).get(f"/office/stock/low?q={sku}").get_data(as_text=True)
        ) == [sku]


def test_low_stock_threshold_search_and_settings(as_user, ctx):
    client = as_user(WAREHOUSE)

    def shown(query: str) -> list[str]:
        return listed(client.get(f"/office/stock/low?{query}").get_data(as_text=True))

    assert shown(f"below=10&q={USBC}") == [USBC] and shown(f"below=10&q={CAP}") == []
    assert shown(f"below=37&q={CAP}") == [CAP] and shown(f"below=36&q={CAP}") == []
    searched = client.get("/office/stock/low?q=cap-1206-10u").get_data(as_text=True)
    assert listed(searched) == [CAP] and "1 product below 50" in searched
    db.session.get(Setting, "stock.thresholds").value = {"few_from": 1, "many_from": 30}
    db.session.commit()
    assert shown(f"q={CAP}") == []  # 36 is not below the new default
    assert 'value="30"' in client.get("/office/stock/low").get_data(as_text=True)


@pytest.mark.parametrize("below", ["0", "-5", "abc", "2000000", "1.5"])
def test_a_bad_threshold_is_a_clear_400(as_user, below):
    response = as_user(WAREHOUSE).get(f"/office/stock/low?below={below}")
    assert response.status_code == 400
    assert "whole number of units, from 1 to 1,000,000" in response.get_data(as_text=True)


def test_archived_products_are_not_low_stock(as_user, ctx):
    products.archive(db.session.get(Product, pid(CAP)), actor=None)
    db.session.commit()
    html = as_user(WAREHOUSE).get(f"/office/stock/low?q={CAP}").get_data(as_text=True)
    assert listed(html) == []


def test_empty_low_stock_list_says_so(as_user, ctx):
    html = as_user(WAREHOUSE).get("/office/stock/low?below=1&q=STM32").get_data(as_text=True)
    assert "No product below 1 matches" in html


def test_adjusting_on_the_low_stock_list_returns_its_row(as_user, ctx):
    response = adjust(as_user(WAREHOUSE), pid(USBC), 5, "Delivery", htmx=True, data={"from": "low"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Saved" in html
    assert "hx-preserve" in html and 'placeholder="Counted"' in html
    refused = adjust(as_user(WAREHOUSE), pid(USBC), 5, "", htmx=True, data={"from": "low"})
    assert refused.status_code == 422 and "Say why the stock changes" in refused.get_data(
        as_text=True
    )


# Live ----------------------------------------------------------------------------------------


def test_stock_changes_refresh_history_and_low_stock_for_staff_only(connect, ctx):
    cap = pid(CAP)
    staff, customer, finance = connect(WAREHOUSE), connect("orders@acme.test"), connect(FINANCE)
    regions = {f"stock-movements-{cap}", "low-stock", f"product-facts-{cap}"}
    for ws in (staff, customer, finance):
        watch(ws, regions)
    time.sleep(0.3)
    stock.set_level(cap, 7, reason="Damaged reel", actor=user(ADMIN))
    db.session.commit()
    to_staff = "".join(drain(staff, 2.0, expect=1))
    assert f'data-refresh="stock-movements-{cap}"' in to_staff
    assert 'data-refresh="low-stock"' in to_staff
    assert f'id="product-facts-{cap}"' in to_staff and ">7</strong>" in to_staff
    assert drain(customer, 0.5) == []
    to_finance = "".join(drain(finance, 0.5))
    assert "stock-movements" not in to_finance and "low-stock" not in to_finance
    assert "Damaged" not in to_finance and ">7</strong>" not in to_finance


def test_movements_are_rows_with_who_and_why(ctx):
    cap = pid(CAP)
    movement = stock.set_level(cap, 40, reason="  Found   two reels ", actor=user(WAREHOUSE))
    db.session.commit()
    stored = db.session.get(StockMovement, movement.id)
    assert (stored.kind, stored.delta, stored.stock_before, stored.stock_after) == (
        "adjustment",
        4,
        36,
        40,
    )
    assert stored.reason == "Found two reels" and stored.user_id == user(WAREHOUSE).id
