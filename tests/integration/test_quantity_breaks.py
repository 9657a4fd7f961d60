"""Quantity breaks, minimum order quantity and pack size (issue 16, part 4).

Demo: MCU-STM32F401 has base breaks 10: 6.10, 100: 5.80, 1000: 5.40 and Wholesale breaks
10: 5.00, 100: 4.80 (Wholesale also has its 10 % promotion); Partner has its own price
and no breaks of its own, so none; Standard pays the base list. CAP-1206-10U is sold
from 10, in packs of 10.
"""

import re
import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import billing, carts, groups, products
from core.models import (
    AuditEntry,
    Cart,
    CartLine,
    CustomerGroup,
    Order,
    PriceBreak,
    Product,
    Quote,
)
from core.offer import offer_for
from extensions import db
from tests.delivery import form as delivery_form
from tests.html import find, find_all
from tests.integration.test_exports import download
from tests.integration.test_imports import job_of, upload
from tests.integration.test_pdfs import page_text, pdf_of
from tests.records import company, pid, user
from tests.sockets import drain, watch

MCU, CAP = "MCU-STM32F401", "CAP-1206-10U"
ADMIN, MANAGER = "admin@portal.test", "manager@portal.test"


def group(name: str) -> CustomerGroup:
    return db.session.scalar(select(CustomerGroup).where(CustomerGroup.name == name))


def product(sku: str) -> Product:
    db.session.expire_all()
    return db.session.scalar(select(Product).where(Product.sku == sku))


def add(c, sku: str, quantity, **kwargs):
    return c.send(
        "POST", "/shop/cart/lines", data={"product_id": pid(sku), "quantity": quantity}, **kwargs
    )


def cart_lines(email: str) -> dict[str, int]:
    db.session.expire_all()
    cart = carts.open_cart(user(email))
    return {ln.product.sku: ln.quantity for ln in cart.lines} if cart else {}


def breaks(sku: str, group_name: str | None = None) -> list[tuple[int, Decimal]]:
    db.session.expire_all()
    group_id = group(group_name).id if group_name else None
    return products.breaks_of(pid(sku), group_id)


def audits(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def input_attrs(html: str, input_id: str) -> dict[str, str]:
    """The attributes of the <input> with this id (tests.html's finder skips some inputs)."""
    tag = re.search(rf'<input[^>]*\bid="{re.escape(input_id)}"[^>]*>', html)
    assert tag is not None, input_id
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag.group(0)))


def latest_order() -> Order:
    db.session.expire_all()
    return db.session.scalar(select(Order).order_by(Order.id.desc()))


# --- the cart -----------------------------------------------------------------------------


def test_the_cart_prices_each_line_at_the_break_it_reaches(as_user, ctx):
    c = as_user("orders@acme.test")
    add(c, MCU, 9)
    html = c.get("/shop/cart").get_data(as_text=True)
    assert 'data-total="42.12"' in html  # 9 x 4.68: below the first break
    line = next(iter(carts.open_cart(user("orders@acme.test")).lines))
    response = c.send("POST", f"/shop/cart/lines/{line.id}", data={"quantity": 10}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-total="45.00"' in html  # 10 x (5.00 less 10 %)
    assert "From 10: €4.50 each" in page_text(response)
    # The offer region is the same as everywhere: the unit price and the breaks.
    region = find(html, id=f"offer-{pid(MCU)}")
    assert "€4.68" in region.text and "10+: €4.50" in region.text and "100+: €4.32" in region.text
    c.send("POST", f"/shop/cart/lines/{line.id}", data={"quantity": 100})
    pricing = carts.priced(carts.open_cart(user("orders@acme.test")))
    assert pricing.total == Decimal("432.00") and pricing.lines[0].offer.price == Decimal("4.32")


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (5, "CAP-1206-10U is sold from 10 units, in packs of 10: order at least 10."),
        (15, "CAP-1206-10U is sold in packs of 10: order 10 or 20 instead of 15."),
    ],
)
def test_adding_below_the_minimum_or_off_the_pack_is_refused(as_user, ctx, quantity, message):
    c = as_user("request@baltic.test")
    before = cart_lines("request@baltic.test")
    response = add(c, CAP, quantity, htmx=True)
    assert response.status_code == 422
    assert message in page_text(response)
    assert cart_lines("request@baltic.test") == before  # nothing added, nothing lost
    # Added to a line already there, the line's new quantity is what must be right.
    assert add(c, CAP, 10).status_code == 302
    assert cart_lines("request@baltic.test")[CAP] == 10
    assert add(c, CAP, 5, htmx=True).status_code == 422
    assert cart_lines("request@baltic.test")[CAP] == 10
    assert add(c, CAP, 30).status_code == 302
    assert cart_lines("request@baltic.test")[CAP] == 40


def test_a_quantity_change_off_the_pack_keeps_the_old_quantity(as_user, ctx):
    c = as_user("request@acme.test")
    add(c, CAP, 20)
    line = next(ln for ln in carts.open_cart(user("request@acme.test")).lines)
    for bad, said in ((25, "order 20 or 30 instead of 25"), (3, "order at least 10")):
        response = c.send("POST", f"/shop/cart/lines/{line.id}", data={"quantity": bad}, htmx=True)
        assert response.status_code == 422 and said in page_text(response)
        db.session.expire_all()
        assert db.session.get(CartLine, line.id).quantity == 20
    # The inputs guide the browser too: the pack size as the step, the minimum to start.
    html = c.get("/shop/cart").get_data(as_text=True)
    assert input_attrs(html, f"line-qty-{line.id}")["step"] == "10"
    page = c.get(f"/shop/products/{pid(CAP)}").get_data(as_text=True)
    qty = input_attrs(page, f"qty-{pid(CAP)}")
    assert qty["min"] == "10" and qty["step"] == "10" and qty["value"] == "10"
    assert c.send("POST", f"/shop/cart/lines/{line.id}", data={"quantity": 0}).status_code == 302


def test_the_service_checks_a_quantity_for_other_features(ctx):
    from core.errors import Refused

    person = user("request@acme.test")
    with pytest.raises(Refused, match="order at least 10"):
        carts.add(person, pid(CAP), 1)
    db.session.rollback()
    line = carts.add(person, pid(CAP), 10)
    with pytest.raises(Refused, match="packs of 10"):
        carts.set_quantity(person, line.id, 11)
    db.session.rollback()


def test_checkout_refuses_a_quantity_a_changed_rule_no_longer_allows(as_user, ctx):
    c = as_user("orders@acme.test")
    add(c, CAP, 10)
    add(c, MCU, 3)
    products.set_order_rules(
        db.session.get(Product, pid(CAP)), actor=None, min_quantity=20, order_multiple=20
    )
    db.session.commit()
    html = c.get("/shop/cart").get_data(as_text=True)
    assert "CAP-1206-10U is sold from 20 units" in page_text_of(html)
    orders_before = db.session.scalar(select(Order.id).order_by(Order.id.desc()).limit(1))
    response = c.send("POST", "/shop/cart/checkout", data=delivery_form("acme"), htmx=True)
    assert response.status_code == 422
    message = find(response.get_data(as_text=True), class_="flash flash--error").text
    assert "Change these quantities first" in message and "order at least 20" in message
    assert latest_order().id == orders_before
    assert cart_lines("orders@acme.test") == {CAP: 10, MCU: 3}  # the cart is kept whole


def test_approving_a_request_with_an_illegal_quantity_is_refused(as_user, ctx):
    request = db.session.scalar(
        select(Cart).where(
            Cart.owner_id == user("request@acme.test").id, Cart.status == "submitted"
        )
    )
    assert {ln.product.sku: ln.quantity for ln in request.lines}[CAP] == 20
    products.set_order_rules(
        db.session.get(Product, pid(CAP)), actor=None, min_quantity=30, order_multiple=30
    )
    db.session.commit()
    response = as_user("orders@acme.test").send(
        "POST", f"/shop/approvals/{request.id}/approve", htmx=True
    )
    assert response.status_code == 422
    said = "CAP-1206-10U is sold from 30 units, in packs of 30: order at least 30."
    assert said in page_text(response)
    db.session.expire_all()
    assert db.session.get(Cart, request.id).status == "submitted"


def page_text_of(html: str) -> str:
    import re
    from html import unescape

    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- orders and invoices --------------------------------------------------------------------


def test_the_order_invoice_and_pdf_carry_the_break_price(as_user, ctx):
    c = as_user("orders@acme.test")
    add(c, MCU, 100)
    assert c.send("POST", "/shop/cart/checkout", data=delivery_form("acme")).status_code == 302
    order = latest_order()
    line = order.lines[0]
    assert line.unit_price == Decimal("4.3200") and line.list_price == Decimal("4.8000")
    assert line.line_total == Decimal("432.00") and order.total == Decimal("432.00")
    invoice = billing.issue_for(order, actor=user(ADMIN))
    db.session.commit()
    assert invoice.lines[0].unit_price == Decimal("4.3200")
    printed = pdf_of(c, f"/shop/invoices/{invoice.id}.pdf", f"{invoice.display_number}.pdf")
    assert "4.32" in printed and "432.00" in printed


# --- the storefront ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "shown", "absent"),
    [
        ("orders@acme.test", ["€4.68", "10+: €4.50", "100+: €4.32"], ["€6.10", "1,000+"]),
        ("browse@carpathia.test", ["€6.40", "10+: €6.10", "100+: €5.80", "1,000+: €5.40"], []),
        ("orders@baltic.test", ["€5.70"], ["10+", "€6.10"]),
    ],
)
def test_the_product_page_shows_the_groups_own_breaks(as_user, ctx, email, shown, absent):
    html = as_user(email).get(f"/shop/products/{pid(MCU)}").get_data(as_text=True)
    region = find(html, id=f"offer-{pid(MCU)}")
    for text in shown:
        assert text in region.text, (email, text, region.text)
    for text in absent:
        assert text not in region.text, (email, text)


def test_the_offer_shows_the_minimum_and_pack_size(as_user, ctx):
    html = as_user("orders@baltic.test").get(f"/shop/?q={CAP}").get_data(as_text=True)
    region = find(html, id=f"offer-{pid(CAP)}")
    assert "Min. 10 · packs of 10" in region.text
    assert (
        "Min."
        not in find(
            as_user("orders@baltic.test").get(f"/shop/?q={MCU}").get_data(as_text=True),
            id=f"offer-{pid(MCU)}",
        ).text
    )


# --- back office: the product's breaks, minimum and pack size -----------------------------------


def product_form(**changes) -> dict:
    found = product(MCU)
    data = {
        "sku": found.sku,
        "name": found.name,
        "category": str(found.category_id),
        "unit": found.unit,
        "tax_class": found.tax_class,
        "description": found.description,
        "base_price": "6.40",
        "cost": "3.90",
        "min_quantity": "1",
        "order_multiple": "1",
        "breaks-qty": ["10", "100", "1000"],
        "breaks-price": ["6.10", "5.80", "5.40"],
    }
    for g in db.session.scalars(select(CustomerGroup)):
        own = products.group_prices(found).get(g.id)
        data[f"group_{g.id}"] = f"{own:.2f}" if own is not None else ""
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"breaks-qty": ["10", "10"], "breaks-price": ["6.10", "6.00"]}, "Two breaks start at 10"),
        ({"breaks-qty": ["ten"], "breaks-price": ["6.10"]}, "such as 10 (not “ten”)"),
        ({"breaks-qty": ["1"], "breaks-price": ["6.10"]}, "A break starts at a whole number"),
        ({"breaks-qty": ["10"], "breaks-price": ["abc"]}, "The price from 10 must be a number"),
        ({"breaks-qty": ["10"], "breaks-price": ["0"]}, "The price from 10 must be above 0."),
        ({"breaks-qty": ["10"], "breaks-price": [""]}, "Give the break from 10 a price."),
        ({"min_quantity": "0"}, "Enter a whole number from 1 to 1,000,000."),
        ({"min_quantity": "15", "order_multiple": "10"}, "must be a multiple of the pack size"),
    ],
)
def test_wrong_breaks_or_rules_are_refused_and_nothing_is_saved(as_user, ctx, changes, message):
    before = breaks(MCU)
    c = as_user(MANAGER)
    response = c.send("POST", f"/office/products/{pid(MCU)}/edit", data=product_form(**changes))
    assert response.status_code == 422
    text = page_text(response)
    assert message in text and "Nothing was saved" in text
    assert breaks(MCU) == before
    found = product(MCU)
    assert (found.min_quantity, found.order_multiple) == (1, 1)


def test_staff_edit_breaks_minimum_and_pack_size_audited_and_pushed(app, connect, as_user, ctx):
    shop = connect("browse@carpathia.test")
    watch(shop, {f"offer-{pid(MCU)}"})
    time.sleep(0.2)
    c = as_user(MANAGER)
    page = c.get(f"/office/products/{pid(MCU)}/edit").get_data(as_text=True)
    assert input_attrs(page, "break-qty-1")["value"] == "10"
    data = product_form(
        **{
            "breaks-qty": ["500", "50", ""],
            "breaks-price": ["5.00", "6.00", ""],
            "min_quantity": "50",
            "order_multiple": "25",
        }
    )
    response = c.send("POST", f"/office/products/{pid(MCU)}/edit", data=data)
    assert response.status_code == 302
    assert breaks(MCU) == [(50, Decimal("6.0000")), (500, Decimal("5.0000"))]
    found = product(MCU)
    assert (found.min_quantity, found.order_multiple) == (50, 25)
    price = audits("price.changed")[-1]
    assert price.before["breaks"] == ["10: 6.1000", "100: 5.8000", "1000: 5.4000"]
    assert price.after["breaks"] == ["50: 6.0000", "500: 5.0000"]
    rules = audits("product.updated")[-1]
    assert rules.after == {"min_quantity": 50, "order_multiple": 25}
    pushed = "".join(drain(shop, 2.0, expect=1))
    assert "50+: €6.00" in pushed and "Min. 50 · packs of 25" in pushed
    shown = page_text(c.get(f"/office/products/{pid(MCU)}"))
    assert "Minimum order quantity 50" in shown and "50+: €6.00 · 500+: €5.00" in shown


# --- the group's breaks ---------------------------------------------------------------------------


def test_a_groups_breaks_are_edited_on_its_price_list(app, connect, as_user, ctx):
    wholesale, standard = group("Wholesale"), group("Standard")
    acme, carpathia = connect("orders@acme.test"), connect("browse@carpathia.test")
    for ws in (acme, carpathia):
        watch(ws, {f"offer-{pid(MCU)}"})
    time.sleep(0.2)
    c = as_user(MANAGER)
    listing = c.get(f"/office/groups/{wholesale.id}/prices?q={MCU}").get_data(as_text=True)
    assert "10+: €5.00 · 100+: €4.80" in page_text_of(listing)
    url = f"/office/groups/{wholesale.id}/prices/{pid(MCU)}/breaks"
    assert "Base list breaks" in page_text(c.get(url))
    wrong = c.send("POST", url, data={"breaks-qty": ["20", "20"], "breaks-price": ["5", "4"]})
    assert wrong.status_code == 422 and "Two breaks start at 20" in page_text(wrong)
    assert breaks(MCU, "Wholesale") == [(10, Decimal("5.0000")), (100, Decimal("4.8000"))]
    saved = c.send("POST", url, data={"breaks-qty": ["20"], "breaks-price": ["4.00"]})
    assert saved.status_code == 302
    assert breaks(MCU, "Wholesale") == [(20, Decimal("4.0000"))]
    entry = audits("price.changed")[-1]
    assert entry.after == {MCU: {"breaks": ["20: 4.0000"]}}
    # Each open offer re-renders with its own group's prices.
    assert "20+: €3.60" in "".join(drain(acme, 2.0, expect=1))  # 4.00 less 10 %
    assert "10+: €6.10" in "".join(drain(carpathia, 2.0, expect=1))  # the base list
    # A group without its own price pays the base list: it has no breaks of its own.
    url = f"/office/groups/{standard.id}/prices/{pid(MCU)}/breaks"
    assert "give it a group price first" not in page_text(c.get(url))
    refused = c.send("POST", url, data={"breaks-qty": ["20"], "breaks-price": ["4.00"]})
    assert refused.status_code == 422 and "give it a group price first" in page_text(refused)
    assert breaks(MCU, "Standard") == []
    # Read-only for those who may only look.
    assert "Save the breaks" not in page_text(as_user("viewer@portal.test").get(url))


def test_removing_a_group_price_takes_its_breaks(ctx):
    wholesale = group("Wholesale")
    groups.remove_prices(wholesale, [pid(MCU)], actor=user(ADMIN))
    db.session.commit()
    assert breaks(MCU, "Wholesale") == []
    offer = offer_for(wholesale, product(MCU))
    assert offer.price_source == "base" and offer.at(1000).list_price == Decimal("5.4000")


def test_a_bulk_discount_derives_the_groups_breaks_from_the_base_list(as_user, ctx):
    standard = group("Standard")
    c = as_user(MANAGER)
    response = c.send(
        "POST",
        f"/office/groups/{standard.id}/prices/discount?q={MCU}",
        data={"percent": "10", "q": MCU},
    )
    assert response.status_code in (200, 302), page_text(response)
    db.session.expire_all()
    assert products.group_prices(product(MCU))[standard.id] == Decimal("5.7600")
    assert breaks(MCU, "Standard") == [
        (10, Decimal("5.4900")),
        (100, Decimal("5.2200")),
        (1000, Decimal("4.8600")),
    ]
    entry = audits("price.changed")[-1]
    assert entry.after[MCU] == {
        "price": "5.7600",
        "breaks": ["10: 5.4900", "100: 5.2200", "1000: 4.8600"],
    }
    # Wholesale's own breaks are rederived only by a discount on Wholesale's list.
    assert breaks(MCU, "Wholesale") == [(10, Decimal("5.0000")), (100, Decimal("4.8000"))]


# --- import and export ---------------------------------------------------------------------


def test_group_prices_go_out_and_back_in_with_their_breaks(as_user, ctx):
    wholesale = group("Wholesale")
    c = as_user(MANAGER)
    header, rows, __ = download(c, f"/office/groups/{wholesale.id}/prices/export?q={MCU}")
    assert header == ["sku", "group", "price", "breaks"]
    assert rows == [
        {"sku": MCU, "group": "Wholesale", "price": "5.20", "breaks": "10:5.00 100:4.80"}
    ]
    assert audits("export.downloaded")[-1].summary.startswith("Group prices exported")
    # Changed breaks read back; an empty cell removes them; a wrong cell is refused by line.
    job = job_of(
        upload(
            c,
            "group_prices",
            "sku,group,price,breaks\n"
            f"{MCU},Wholesale,5.20,50:4.90 500:4.70\n"
            f"{CAP},Wholesale,0.12,\n",
        )
    )
    assert job.status == "done", job.message
    assert job.message == "2 lines applied: 1 changed, 1 unchanged."
    assert breaks(MCU, "Wholesale") == [(50, Decimal("4.9000")), (500, Decimal("4.7000"))]
    header, rows, __ = download(c, f"/office/groups/{wholesale.id}/prices/export?q={MCU}")
    assert rows[0]["breaks"] == "50:4.90 500:4.70"
    bad = job_of(upload(c, "group_prices", f"sku,group,price,breaks\n{MCU},Wholesale,5.20,10-4\n"))
    assert bad.status == "rejected" and "Write each break as quantity:price" in page_text(
        c.get(f"/office/imports/{bad.id}")
    )
    # An old file, without the breaks column, leaves them as they are.
    job = job_of(upload(c, "group_prices", f"sku,group,price\n{MCU},Wholesale,5.10\n"))
    assert job.status == "done"
    assert breaks(MCU, "Wholesale") == [(50, Decimal("4.9000")), (500, Decimal("4.7000"))]
    # Removing the price removes its breaks.
    job = job_of(upload(c, "group_prices", f"sku,group,price,breaks\n{MCU},Wholesale,,\n"))
    assert job.status == "done" and breaks(MCU, "Wholesale") == []


# --- the explainer -------------------------------------------------------------------------


def test_the_explainer_shows_the_breaks_and_the_one_a_quantity_reaches(as_user, ctx):
    acme = company("acme")
    c = as_user(MANAGER)
    html = c.get(f"/office/explain?company={acme.id}&sku={MCU}&qty=100").get_data(as_text=True)
    rows = find_all(html, class_="explain-breaks--chosen")
    assert len(rows) == 1 and rows[0].attrs["data-break"] == "100"
    assert find(html, data_step="line").attrs["data-price"] == "4.3200"
    text = page_text_of(html)
    assert "For 100: €4.32 each, €432.00 in all." in text
    assert "Wholesale has its own price, so its own breaks apply" in text
    # A quantity below the first break: the unit price; the breaks are listed anyway.
    html = c.get(f"/office/explain?company={acme.id}&sku={MCU}&qty=9").get_data(as_text=True)
    assert find_all(html, class_="explain-breaks--chosen")[0].attrs["data-break"] == "1"
    # The product's rules, and a quantity they refuse.
    html = c.get(f"/office/explain?company={acme.id}&sku={CAP}&qty=15").get_data(as_text=True)
    assert "order 10 or 20 instead of 15" in page_text_of(html)
    assert c.get(f"/office/explain?company={acme.id}&sku={MCU}&qty=abc").status_code == 400
    carpathia = company("carpathia")
    html = c.get(f"/office/explain?company={carpathia.id}&sku={MCU}&qty=1000").get_data(
        as_text=True
    )
    assert "pays the base list, so the base list's breaks apply" in page_text_of(html)
    assert find(html, data_step="line").attrs["data-price"] == "5.4000"


def test_base_breaks_without_a_row_key_stay_unique(ctx):
    """NULL is distinct in a unique key: the service replaces the base list whole."""
    found = db.session.get(Product, pid(MCU))
    products.set_prices(found, actor=None, breaks=[("10", "6.00")])
    products.set_prices(found, actor=None, breaks=[("10", "6.00"), ("20", "5.90")])
    db.session.commit()
    rows = db.session.scalars(
        select(PriceBreak).where(PriceBreak.product_id == found.id, PriceBreak.group_id.is_(None))
    ).all()
    assert sorted(r.min_quantity for r in rows) == [10, 20]


# --- quotes -------------------------------------------------------------------------------


def test_a_quote_starts_from_the_break_its_quantity_reaches(as_user, ctx):
    from tests.integration.test_quotes import ask, new_acme_quote

    # Wholesale at 150: the 100 break (4.80) less the 10 % promotion, not the unit price.
    check = ask(as_user("request@acme.test"), [(MCU, 150)], action="check")
    assert "€4.32" in page_text(check) and "€4.68" not in page_text(check)
    single = ask(as_user("request@acme.test"), [(MCU, 1)], action="check")
    assert "€4.68" in page_text(single)

    quote_id = new_acme_quote(as_user, lines=((MCU, 150),))
    shop = as_user("request@acme.test").get(f"/shop/quotes/{quote_id}")
    assert "€4.32" in page_text(shop) and "€4.68" not in page_text(shop)
    office = as_user("anna.sales@portal.test").get(f"/office/quotes/{quote_id}")
    html = office.get_data(as_text=True)
    (line,) = db.session.get(Quote, quote_id).lines
    price = input_attrs(html, "lines-0-unit_price")
    assert Decimal(price["value"]) == Decimal("4.32"), price  # the answer starts there
    assert line.unit_price is None  # the request itself names no price
