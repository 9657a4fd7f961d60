"""/shop/quick-order and reorder (issue 16, parts 1 and 2).

A quick order takes pasted lines of "SKU quantity" or a CSV/XLSX file; "Check" shows
every line priced as the person's group sees it at that quantity, with availability by
the cart's rule and a problem per line, and writes nothing; "Add" puts the valid lines
into the cart through carts.add, one transaction, a savepoint per line. Reorder puts an
order's lines back into the cart at today's offer, naming what cannot go in. Both need
`shop.cart`: Browse-only people get a 403, another company's order is a 404.

Demo: MCU-STM32F401 (stock 4217) has Wholesale breaks 10: 5.00, 100: 4.80 and a 10 %
Wholesale promotion; CAP-1206-10U (stock 36) is sold from 10 in packs of 10;
CON-USBC-16P has no stock. Acme is Wholesale (counts), Baltic Partner (levels: Few from
1, Many from 50).
"""

import io
import re
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from core import carts, quick_order
from core.models import Cart, CartLine, CustomerGroup, GroupPrice, Order, Product
from core.offer import offer_for
from extensions import db
from tests.html import find, find_all
from tests.records import company, pid, user

MCU, CAP, USBC = "MCU-STM32F401", "CAP-1206-10U", "CON-USBC-16P"
DECIDER, REQUESTER, BROWSER = "orders@acme.test", "request@acme.test", "browse@acme.test"
BALTIC = "request@baltic.test"


def text(response) -> str:
    return response.get_data(as_text=True)


def check(c, lines: str, **kwargs):
    return c.send("POST", "/shop/quick-order", data={"lines": lines}, **kwargs)


def upload(c, content: bytes, name: str = "order.csv", lines: str = ""):
    return c.send(
        "POST",
        "/shop/quick-order",
        data={"lines": lines, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def rows(html: str) -> dict[int, dict]:
    """Line number -> what the check table says of it."""
    found = {}
    for row in find_all(html, class_="quick-order-line"):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.inner_html, re.S)
        found[int(row.attrs["data-line"])] = {
            "state": row.attrs["data-state"],
            "sku": row.attrs.get("data-sku"),
            "text": row.text,
            "html": row.inner_html,
            "problem": re.sub(r"<[^>]+>", " ", cells[-1]).strip() if cells else "",
        }
    return found


def attr(html: str, name: str) -> str | None:
    match = re.search(rf'{name}="([^"]*)"', html)
    return match.group(1) if match else None


def added_lines(html: str) -> str:
    """The text the "Add to cart" form sends."""
    match = re.search(r'<textarea[^>]*id="quick-order-add-lines"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, "no add form"
    return match.group(1).strip()


def add(c, lines: str, typed: str = "", **kwargs):
    return c.send("POST", "/shop/quick-order/cart", data={"lines": lines, "typed": typed}, **kwargs)


def cart_lines(email: str) -> dict[str, int]:
    db.session.expire_all()
    rows_ = db.session.execute(
        select(Product.sku, CartLine.quantity)
        .join(Cart, Cart.id == CartLine.cart_id)
        .join(Product, Product.id == CartLine.product_id)
        .where(Cart.owner_id == user(email).id, Cart.status == "open")
    )
    return dict(rows_.all())


def empty_cart(email: str) -> None:
    cart = carts.open_cart(user(email))
    if cart is not None:
        for line in list(cart.lines):
            db.session.delete(line)
    db.session.commit()


# --- reading what is pasted ----------------------------------------------------------------


def test_paste_separators_blank_lines_and_line_numbers(ctx):
    lines, errors = quick_order.read_text(
        f"sku quantity\n{MCU} 10\n\n{CAP}\t20\n  {MCU};3  \n{USBC},4\nRES-1\nA B C\n"
    )
    assert errors == []
    got = [(ln.number, ln.sku, ln.raw_quantity, ln.problem is None) for ln in lines]
    assert got == [
        (2, MCU, "10", True),
        (4, CAP, "20", True),
        (5, MCU, "3", True),
        (6, USBC, "4", True),
        (7, "RES-1", "1", True),  # a SKU alone: one unit
        (8, "A", "", False),
    ]
    assert "Write a SKU and a quantity" in str(lines[-1].problem)


def test_check_shows_the_offer_at_the_quantity_for_an_exact_group(as_user, ctx):
    empty_cart(DECIDER)
    response = check(as_user(DECIDER), f"{MCU} 10\n{CAP} 20\n")
    assert response.status_code == 200
    html = text(response)
    found = rows(html)
    mcu, cap = found[1], found[2]
    assert mcu["state"] == "ok" and mcu["sku"] == MCU
    # the Wholesale 10+ break (5.00) with the 10 % promotion: 4.50 each, 45.00 the line
    assert Decimal(attr(mcu["html"], "data-price")) == Decimal("4.50")
    assert Decimal(attr(mcu["html"], "data-total")) == Decimal("45.00")
    assert attr(mcu["html"], "data-break") == "10"
    assert "4,217 in stock" in mcu["text"]  # Wholesale sees counts
    assert cap["state"] == "ok" and Decimal(attr(cap["html"], "data-price")) == Decimal("0.12")
    assert "36 in stock" in cap["text"]
    assert cart_lines(DECIDER) == {}  # nothing is added at this step
    assert added_lines(html) == f"{MCU} 10\n{CAP} 20"
    assert "Add 2 lines to cart" in html


def test_a_levels_group_never_sees_a_count_and_its_answer_does_not_turn_at_the_count(as_user, ctx):
    c = as_user(BALTIC)
    # 30 and 40 straddle CAP's exact stock (36), both inside the "Few" band (1..49)
    html = text(check(c, f"{CAP} 30\n"))
    below = rows(html)[1]
    html_above = text(check(c, f"{CAP} 40\n"))
    above = rows(html_above)[1]
    for row in (below, above):
        assert row["state"] == "ok"
        assert attr(row["html"], "data-availability") == "few"
        assert attr(row["html"], "data-doubt") == "unsure"
        assert "36" not in row["text"]
    assert not re.search(r"\d in stock", html + html_above)  # no "N in stock" count
    # beyond the band's top the answer is the band's, still no count
    beyond = rows(text(check(c, f"{CAP} 50\n")))[1]
    assert attr(beyond["html"], "data-doubt") == "short"
    assert "at most 49 can be in stock" in beyond["text"] and "36" not in beyond["text"]
    # the same function as the cart's: quantities inside the band give one state
    offer = offer_for(company("baltic").group, db.session.get(Product, pid(CAP)))
    assert offer.stock.promise(30).state == offer.stock.promise(40).state == "unsure"
    mcu = rows(text(check(c, f"{MCU} 10\n")))[1]
    # Partner: its own price (6.00) less its 5 % promotion, no breaks of its own
    assert Decimal(attr(mcu["html"], "data-price")) == Decimal("5.70")
    assert attr(mcu["html"], "data-availability") == "many" and "4217" not in mcu["text"]
    assert "4,217" not in mcu["text"]


def test_problems_are_reported_by_line(as_user, ctx):
    db.session.get(Product, pid(USBC)).is_archived = True
    db.session.commit()
    typed = f"NOPE-1 3\n{CAP} 15\n{CAP} 5\n{MCU} lots\n{MCU} 0\n{USBC} 1\n{MCU} 1000001\n"
    response = check(as_user(DECIDER), typed)
    assert response.status_code == 200  # one line (CAP, merged) can go in
    found = rows(text(response))
    assert "There is no product with the SKU “NOPE-1”." in found[1]["problem"]
    # 15 then 5 of CAP: one line of 20 would be fine, so merge before judging packs
    assert found[2]["state"] == "ok" and found[3]["state"] == "merged"
    assert "“lots” is not a quantity" in found[4]["problem"]
    assert "“0” is not a quantity" in found[5]["problem"]
    assert f"{USBC} is not sold any more." in found[6]["problem"]
    assert "“1000001” is not a quantity" in found[7]["problem"]
    packs = rows(text(check(as_user(DECIDER), f"{CAP} 15\n{CAP} 5\n{CAP} 5\n")))
    assert "sold in packs of 10: order 20 or 30 instead of 25" in packs[1]["problem"]
    minimum = rows(text(check(as_user(DECIDER), f"{CAP} 5\n")))
    assert "sold from 10 units" in minimum[1]["problem"]
    refused = check(as_user(DECIDER), f"{CAP} 15\n")
    assert refused.status_code == 422 and "Add 1 line" not in text(refused)
    single = rows(text(refused))
    assert (
        "CAP-1206-10U is sold in packs of 10: order 10 or 20 instead of 15." in single[1]["problem"]
    )


def test_an_out_of_stock_product_is_a_problem_for_a_group_without_backorders(as_user, ctx):
    found = rows(text(check(as_user(DECIDER), f"{USBC} 2\n{MCU} 1\n")))
    assert "CON-USBC-16P is out of stock." in found[1]["problem"]
    assert found[2]["state"] == "ok"


def test_a_sku_typed_twice_is_merged_and_says_so(as_user, ctx):
    response = check(as_user(DECIDER), f"{MCU} 4\n{CAP} 10\nmcu-stm32f401 6\n")
    html = text(response)
    found = rows(html)
    assert found[1]["state"] == "ok" and found[3]["state"] == "merged"
    assert attr(found[1]["html"], "data-quantity") == "10"
    assert "Typed on lines 1, 3: counted once, 4 + 6 = 10." in found[1]["text"]
    assert "Counted with line 1." in found[3]["text"]
    # the break of the merged quantity applies (10+: 4.50 with the promotion)
    assert Decimal(attr(found[1]["html"], "data-price")) == Decimal("4.50")
    assert added_lines(html) == f"{MCU} 10\n{CAP} 10"


def test_the_text_is_kept_on_a_refused_check(as_user, ctx):
    typed = "NOPE-9 3\nZZZ-1 x"
    response = check(as_user(DECIDER), typed)
    assert response.status_code == 422
    area = find(text(response), id="lines")
    assert area is not None and "NOPE-9 3" in area.text and "ZZZ-1 x" in area.text
    for nothing in ("  \n ", "sku quantity\n"):
        empty = check(as_user(DECIDER), nothing)
        assert empty.status_code == 422
        assert "Paste lines of SKU and quantity, or choose a file." in text(empty)


def test_too_many_lines_or_too_much_text_is_refused_clearly(as_user, ctx):
    c = as_user(DECIDER)
    many = "\n".join(f"{MCU} 1" for _ in range(quick_order.MAX_LINES + 1))
    response = check(c, many)
    assert response.status_code == 422
    assert "At most 500 lines are taken at a time" in text(response)
    assert find(text(response), id="lines").text.count(MCU) == quick_order.MAX_LINES + 1
    long = check(c, "x" * (quick_order.MAX_TEXT + 1))
    assert long.status_code == 422 and "The text is longer than" in text(long)


# --- files ---------------------------------------------------------------------------------


def test_csv_upload_with_a_header(as_user, ctx):
    content = f"\ufeffSKU;Quantity;Note\n{MCU};10;U2\n\nNOPE;1;\n{CAP};20;\n".encode()
    response = upload(as_user(DECIDER), content)
    assert response.status_code == 200
    html = text(response)
    found = rows(html)
    # numbered as the spreadsheet numbers them: the header is line 1
    assert found[2]["state"] == "ok" and Decimal(attr(found[2]["html"], "data-price")) == Decimal(
        "4.50"
    )
    assert "There is no product with the SKU “NOPE”." in found[4]["problem"]
    assert found[5]["state"] == "ok"
    assert added_lines(html) == f"{MCU} 10\n{CAP} 20"
    no_header = upload(as_user(DECIDER), f"{MCU},2\n".encode())
    assert no_header.status_code == 422
    assert "The first line must name the columns: sku and quantity" in text(no_header)


def xlsx(rows_: list[tuple]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows_:
        sheet.append(list(row))
    book.create_sheet("Other").append(["sku", "quantity"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_upload_reads_the_first_sheet(as_user, ctx):
    content = xlsx([("sku", "quantity"), (MCU, 10), (CAP, 20.0), (None, None), ("NOPE", 2)])
    response = upload(as_user(DECIDER), content, "order.xlsx")
    assert response.status_code == 200
    found = rows(text(response))
    assert found[2]["state"] == "ok" and Decimal(attr(found[2]["html"], "data-price")) == Decimal(
        "4.50"
    )
    assert found[3]["state"] == "ok" and attr(found[3]["html"], "data-quantity") == "20"
    assert "There is no product with the SKU “NOPE”." in found[5]["problem"]
    broken = upload(as_user(DECIDER), b"PK\x03\x04not really a zip", "order.xlsx")
    assert broken.status_code == 422
    assert "cannot be read as an Excel workbook" in text(broken)


def test_too_big_a_file_is_refused_and_the_text_kept(as_user, ctx, monkeypatch):
    monkeypatch.setattr(quick_order, "MAX_BYTES", 64)
    content = ("sku,quantity\n" + f"{MCU},1\n" * 20).encode()
    response = upload(as_user(DECIDER), content, lines=f"{MCU} 3")
    assert response.status_code == 422
    assert "The file is larger than 64 bytes" in text(response)
    assert f"{MCU} 3" in find(text(response), id="lines").text
    big_book = upload(as_user(DECIDER), xlsx([("sku", "quantity")] * 40), "order.xlsx")
    assert big_book.status_code == 422 and "larger than" in text(big_book)
    many = ("sku,quantity\n" + f"{MCU},1\n" * (quick_order.MAX_LINES + 1)).encode()
    monkeypatch.setattr(quick_order, "MAX_BYTES", 1024 * 1024)
    too_many = upload(as_user(DECIDER), many)
    assert too_many.status_code == 422 and "At most 500 lines" in text(too_many)


# --- into the cart -------------------------------------------------------------------------


def test_add_puts_exactly_the_valid_lines_in_the_cart(as_user, ctx):
    empty_cart(REQUESTER)
    c = as_user(REQUESTER)
    html = text(check(c, f"{MCU} 4\nNOPE 1\n{CAP} 15\n{MCU} 6\n{CAP} 10\n"))
    lines = added_lines(html)
    assert lines == f"{MCU} 10"  # CAP's 15 + 10 = 25 breaks its packs of 10
    response = add(c, lines, typed="whatever")
    assert response.status_code == 302 and response.headers["Location"].endswith("/shop/cart")
    assert cart_lines(REQUESTER) == {MCU: 10}
    cart_page = text(c.get("/shop/cart"))
    assert "1 line went into your cart: 10 × MCU-STM32F401." in cart_page
    # the cart prices it at the break reached, as the check said
    pricing = carts.priced(carts.open_cart(user(REQUESTER)))
    assert pricing.lines[0].offer.price == Decimal("4.50")


def test_lines_the_cart_refuses_are_reported_and_the_others_go_in(as_user, ctx):
    empty_cart(DECIDER)
    carts.add(user(DECIDER), pid(MCU), 999_995)
    db.session.commit()
    c = as_user(DECIDER)
    response = add(c, f"{MCU} 10\n{CAP} 10\n")
    assert response.status_code == 302
    assert cart_lines(DECIDER) == {MCU: 999_995, CAP: 10}
    flashes = text(c.get("/shop/cart"))
    assert "1 line went into your cart: 10 × CAP-1206-10U." in flashes
    assert "1 line did not go in: MCU-STM32F401: Quantities are whole numbers" in flashes


def test_add_checks_again_and_keeps_the_text_when_nothing_goes_in(as_user, ctx):
    empty_cart(DECIDER)
    c = as_user(DECIDER)
    html = text(check(c, f"{CAP} 20"))
    lines = added_lines(html)
    # meanwhile the seller makes CAP a pack of 30
    db.session.get(Product, pid(CAP)).order_multiple = 30
    db.session.commit()
    response = add(c, lines, typed=f"{CAP} 20\n# my note")
    assert response.status_code == 422
    page = text(response)
    assert "Nothing went into your cart." in page
    assert "sold in packs of 30" in page
    assert "# my note" in find(page, id="lines").text
    assert cart_lines(DECIDER) == {}


def test_browse_only_and_staff_get_403(as_user, ctx):
    for email in (BROWSER, "admin@portal.test"):
        c = as_user(email)
        assert c.get("/shop/quick-order").status_code == 403
        assert check(c, f"{MCU} 1").status_code == 403
        assert add(c, f"{MCU} 1").status_code == 403
    assert cart_lines(BROWSER) == {}


def test_csrf_is_required(as_user, ctx):
    empty_cart(DECIDER)
    c = as_user(DECIDER)
    assert check(c, f"{MCU} 1", csrf=False).status_code == 400
    assert add(c, f"{MCU} 1", csrf=False).status_code == 400
    assert cart_lines(DECIDER) == {}


def test_links_from_the_cart_and_the_navigation(as_user, ctx):
    c = as_user(REQUESTER)
    assert 'href="/shop/quick-order"' in text(c.get("/shop/cart"))
    nav = find(text(c.get("/shop/")), id="nav")
    assert "Quick order" in nav.text
    browse_nav = find(text(as_user(BROWSER).get("/shop/")), id="nav")
    assert "Quick order" not in browse_nav.text


# --- reorder -------------------------------------------------------------------------------


def acme_order() -> Order:
    return db.session.scalar(
        select(Order)
        .where(Order.company_id == company("acme").id, Order.status == "placed")
        .order_by(Order.id)
    )


def reorder(c, order_id: int, **kwargs):
    return c.send("POST", f"/shop/orders/{order_id}/reorder", **kwargs)


def test_reorder_puts_the_lines_back_at_todays_price(as_user, ctx):
    empty_cart(DECIDER)
    order = acme_order()
    ordered = {}
    for line in order.lines:
        ordered[line.sku] = ordered.get(line.sku, 0) + line.quantity
    line = order.lines[0]
    old_price = line.unit_price
    wholesale = company("acme").group
    price = db.session.scalar(
        select(GroupPrice).where(
            GroupPrice.group_id == wholesale.id, GroupPrice.product_id == line.product_id
        )
    )
    new = (Decimal(old_price) + Decimal("1.37")).quantize(Decimal("0.01"))
    if price is None:
        db.session.add(GroupPrice(group_id=wholesale.id, product_id=line.product_id, price=new))
    else:
        price.price = new
    db.session.commit()

    c = as_user(DECIDER)
    assert f"/shop/orders/{order.id}/reorder" in text(c.get(f"/shop/orders/{order.id}"))
    response = reorder(c, order.id)
    assert response.status_code == 302 and response.headers["Location"].endswith("/shop/cart")
    assert cart_lines(DECIDER) == ordered
    pricing = carts.priced(carts.open_cart(user(DECIDER)))
    priced = next(p for p in pricing.lines if p.product.id == line.product_id)
    group = db.session.get(CustomerGroup, wholesale.id)
    today = offer_for(group, db.session.get(Product, line.product_id)).at(priced.line.quantity)
    assert priced.offer.price == today.price != old_price
    assert "went into your cart" in text(c.get("/shop/cart"))


def test_reorder_names_an_archived_product_and_skips_it(as_user, ctx):
    empty_cart(DECIDER)
    order = acme_order()
    gone = order.lines[0]
    db.session.get(Product, gone.product_id).is_archived = True
    db.session.commit()
    others = {ln.sku for ln in order.lines if ln.product_id != gone.product_id}
    assert others, "the demo order has more than one product"
    c = as_user(DECIDER)
    response = reorder(c, order.id)
    assert response.status_code == 302 and response.headers["Location"].endswith("/shop/cart")
    page = text(c.get("/shop/cart"))
    assert f"did not go in: {gone.sku}: {gone.sku} is not sold any more." in page
    assert set(cart_lines(DECIDER)) == others


def test_reorder_of_another_companys_order_is_404_and_browse_only_403(as_user, ctx):
    order = acme_order()
    assert reorder(as_user(BALTIC), order.id).status_code == 404
    assert reorder(as_user("orders@baltic.test"), order.id).status_code == 404
    assert reorder(as_user(BROWSER), order.id).status_code == 403
    assert reorder(as_user(DECIDER), order.id, csrf=False).status_code == 400


@pytest.mark.parametrize("email", [REQUESTER])
def test_a_requester_may_reorder(as_user, ctx, email):
    empty_cart(email)
    order = acme_order()
    response = reorder(as_user(email), order.id)
    assert response.status_code == 302
    assert cart_lines(email)
