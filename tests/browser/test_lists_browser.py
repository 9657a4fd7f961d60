"""A shared list in real browsers: a requester at Acme builds a list, a colleague's open
view of it follows live (keeping what they are typing in a row), and the decision-maker
puts it in the cart three times over, the quantity break applied."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.models import Cart, CartLine, Product, ShoppingList
from core.offer import offers_for
from extensions import db
from tests.conftest import wait_live
from tests.records import company, user

pytestmark = pytest.mark.browser

WITHIN = 2000  # ms
MCU, CAP = "MCU-STM32F401", "CAP-1206-10U"


def add_line(page, sku: str, quantity: int) -> None:
    form = page.locator("#list-add-line")
    form.locator("input[name=sku]").fill(sku)
    form.locator("input[name=quantity]").fill(str(quantity))
    form.locator("button[type=submit]").click()
    page.wait_for_selector(f"#list-add-line [role=status]:has-text('{sku}')", timeout=WITHIN)


def test_a_list_built_by_one_person_reaches_the_others_and_the_cart(sign_in, app):
    requester = sign_in("request@acme.test")
    requester.goto("/shop/lists")
    requester.fill("#name", "X4 kit")
    requester.click("text=Create the list")
    requester.wait_for_selector("h1:has-text('X4 kit')")
    url = requester.url
    add_line(requester, MCU, 4)

    decider = sign_in("orders@acme.test")
    decider.goto(url)
    wait_live(decider)
    row = decider.locator(f"tr[data-sku='{MCU}']")
    qty = row.locator("input[name=quantity]")
    qty.fill("7")  # typed, not saved: a push must not take it away

    add_line(requester, CAP, 10)
    decider.wait_for_selector(f"tr[data-sku='{CAP}']", timeout=WITHIN)
    assert qty.input_value() == "7"
    assert "36 in stock" in decider.locator(f"tr[data-sku='{CAP}']").inner_text()

    qty.fill("4")  # back to what the list holds
    decider.fill("#multiplier", "3")
    decider.click("#list-to-cart button[type=submit]")
    decider.wait_for_selector("#list-to-cart .list-cart-outcome__added", timeout=WITHIN)
    added = decider.locator("#list-to-cart .list-cart-outcome__added").inner_text()
    assert f"12 × {MCU}" in added and f"30 × {CAP}" in added

    decider.goto("/shop/cart")
    with app.app_context():
        assert db.session.scalar(select(ShoppingList.id).where(ShoppingList.name == "X4 kit"))
        mcu = db.session.scalar(select(Product).where(Product.sku == MCU))
        offer = offers_for(company("acme").group, [mcu])[mcu.id]
        unit = offer.at(12).price
        assert unit < offer.price  # 12 reaches the 10+ break
        line = db.session.scalar(
            select(CartLine)
            .join(Cart, Cart.id == CartLine.cart_id)
            .where(
                CartLine.product_id == mcu.id,
                Cart.owner_id == user("orders@acme.test").id,
                Cart.status == "open",
            )
        )
        assert line.quantity == 12
    total = decider.locator("tr.cart-line", has_text=MCU).locator("td.line-total")
    shown = Decimal(total.get_attribute("data-total"))
    assert shown == (unit * 12).quantize(Decimal("0.01"))
