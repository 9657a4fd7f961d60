"""A counted stock of 0 is a count: the Stock page's form accepts it (issue 13, point 7).

Through the real page: the adjust form that /office/stock shows for a product is posted
as a person would, with 0 and a reason; an empty count is still refused.
"""

import re

from sqlalchemy import func, select

from core.models import AuditEntry, Product, StockMovement
from extensions import db
from tests.html import find

WAREHOUSE = "warehouse@portal.test"
CAP = "CAP-1206-10U"  # 36 in stock in the demo


def product(sku: str) -> Product:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalar(select(Product).where(Product.sku == sku))


def adjust_form(html: str, product_id: int) -> str:
    """The action of the product's adjust form on the Stock page, checked to ask for a count."""
    row = find(html, id=f"stock-row-{product_id}")
    assert row is not None, "the Stock page shows no row for the product"
    assert f'id="counted-{product_id}"' in row.inner_html and 'min="0"' in row.inner_html
    return re.search(r'<form class="adjust" method="post" action="([^"]+)"', row.inner_html)[1]


def movements(product_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(StockMovement)
        .where(StockMovement.product_id == product_id)
    )


def test_a_counted_stock_of_zero_is_accepted(as_user, ctx):
    cap = product(CAP)
    assert cap.stock == 36
    warehouse = as_user(WAREHOUSE)
    page = warehouse.get(f"/office/stock?q={CAP}").get_data(as_text=True)
    action = adjust_form(page, cap.id)
    before = movements(cap.id)

    response = warehouse.send(
        "POST", action, data={"counted": "0", "reason": "Stocktake: the reel is empty"}
    )
    assert response.status_code == 302
    shown = warehouse.get(response.headers["Location"]).get_data(as_text=True)
    assert "Enter the counted stock." not in shown
    assert f"Stock of {CAP} is now 0." in shown
    assert product(CAP).stock == 0
    assert movements(cap.id) == before + 1
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "stock.adjusted", AuditEntry.target_id == cap.id)
        .order_by(AuditEntry.id.desc())
    )
    assert entry.before == {"stock": 36} and entry.after == {"stock": 0}


def test_zero_through_htmx_answers_the_row(as_user, ctx):
    cap = product(CAP)
    response = as_user(WAREHOUSE).send(
        "POST", f"/office/stock/{cap.id}", data={"counted": "0", "reason": "Empty"}, htmx=True
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "field__error" not in html and find(html, id=f"stock-{cap.id}").text == "0"
    assert product(CAP).stock == 0


def test_an_empty_count_is_still_refused(as_user, ctx):
    cap = product(CAP)
    warehouse = as_user(WAREHOUSE)
    before = movements(cap.id)
    response = warehouse.send(
        "POST", f"/office/stock/{cap.id}", data={"counted": "", "reason": "Stocktake"}, htmx=True
    )
    assert response.status_code == 422
    assert "Enter the counted stock." in response.get_data(as_text=True)
    missing = warehouse.send(
        "POST", f"/office/stock/{cap.id}", data={"reason": "Stocktake"}, htmx=True
    )
    assert missing.status_code == 422
    assert product(CAP).stock == 36 and movements(cap.id) == before
