"""Custom parts: the materials staff keep; a request line made to drawings; priced by staff,
countered, accepted into an order line without a product, invoiced and shipped; drawings
read only by whoever may see the quote."""

import io
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

from sqlalchemy import func, select

from core import custom_parts, orders, quotes, shipments, transaction
from core.errors import Refused
from core.models import (
    Attachment,
    AuditEntry,
    Invoice,
    Material,
    Order,
    OutboxMail,
    Quote,
    QuoteLineDrawing,
    QuoteLink,
    QuoteRound,
    StockMovement,
)
from extensions import db
from tests.conftest import persona_api_token
from tests.records import fresh_order, user

MCU = "MCU-STM32F401"
ADMIN, MANAGER = "admin@portal.test", "manager@portal.test"
ANNA, MARCO, VIEWER = "anna.sales@portal.test", "marco.sales@portal.test", "viewer@portal.test"
WAREHOUSE = "warehouse@portal.test"
REQUESTER, BUYER = "request@acme.test", "orders@acme.test"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DXF = b"0\nSECTION\n2\nENTITIES\n0\nENDSEC\n0\nEOF\n"


def text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def steel() -> Material:
    db.session.expire_all()
    return db.session.scalar(select(Material).where(Material.name == "S235 steel"))


def latest(quote_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.max(QuoteRound.id)).where(QuoteRound.quote_id == quote_id))


def load(quote_id: int) -> Quote:
    db.session.expire_all()
    return db.session.get(Quote, quote_id)


def request_data(*, description="Mounting bracket, 4 holes", material=None, quantity="40", **extra):
    data = {
        "note": "",
        "action": "send",
        "custom-0-description": description,
        "custom-0-material": material if material is not None else f"{steel().id}:3",
        "custom-0-quantity": quantity,
    }
    return data | extra


def ask(c, data: dict, files=()):
    """Post the request form as a browser does: multipart, the drawings as files."""
    body = dict(data)
    if files:
        body["custom-0-drawings"] = [(io.BytesIO(content), name) for name, content in files]
    return c.send("POST", "/shop/quotes/new", data=body, content_type="multipart/form-data")


def custom_quote(as_user, files=(("bracket.pdf", PDF),), **fields) -> int:
    response = ask(as_user(REQUESTER), request_data(**fields), files)
    assert response.status_code == 302, text(response)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def offer(c, quote_id: int, prices: list[str]):
    found = load(quote_id)
    data = {
        "seen": str(latest(quote_id)),
        "note": "",
        "valid_until": str(quotes.today() + timedelta(days=10)),
    }
    for i, (line, price) in enumerate(zip(found.lines, prices, strict=True)):
        data[f"lines-{i}-line"] = str(line.id)
        data[f"lines-{i}-unit_price"] = price
    return c.send("POST", f"/office/quotes/{quote_id}/offer", data=data, htmx=True)


def drawing_id(quote_id: int) -> int:
    line = load(quote_id).lines[0]
    return line.drawings[0].attachment_id


# --- the materials list -----------------------------------------------------------------------


def test_staff_keep_materials_with_their_thicknesses(as_user, ctx):
    manager = as_user(MANAGER)
    page = manager.get("/office/quotes/materials")
    assert page.status_code == 200 and "S235 steel" in text(page)
    made = manager.send(
        "POST", "/office/quotes/materials", data={"name": " Brass ", "thicknesses": "2; 1,0.5"}
    )
    assert made.status_code == 302
    brass = db.session.scalar(select(Material).where(Material.name == "Brass"))
    assert brass.thicknesses == ["0.5", "1", "2"] and brass.active
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "material.created"))

    bad = manager.send(
        "POST", "/office/quotes/materials", data={"name": "Zinc", "thicknesses": "1, thick"}
    )
    assert bad.status_code == 422 and "thick is not a thickness" in text(bad)
    assert 'value="1, thick"' in bad.get_data(as_text=True)  # nothing typed is lost
    twice = manager.send(
        "POST", "/office/quotes/materials", data={"name": "brass", "thicknesses": "1"}
    )
    assert twice.status_code == 422 and "There is a material named brass already" in text(twice)

    saved = manager.send(
        "POST",
        f"/office/quotes/materials/{brass.id}",
        data={"name": "Brass CuZn37", "thicknesses": "1, 2"},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert (brass.name, brass.thicknesses, brass.active) == ("Brass CuZn37", ["1", "2"], False)

    brass_id = brass.id
    removed = manager.send("POST", f"/office/quotes/materials/{brass_id}/delete")
    assert removed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Material, brass_id) is None


def test_a_material_quote_lines_name_is_switched_off_not_removed(as_user, ctx):
    custom_quote(as_user)
    material_id = steel().id
    gone = as_user(MANAGER).send("POST", f"/office/quotes/materials/{material_id}/delete")
    assert gone.status_code == 302
    assert steel() is not None and steel().active is False
    form = as_user(REQUESTER).get("/shop/quotes/new")
    assert "S235 steel" not in text(form)  # customers no longer choose it


def test_only_those_who_answer_quotes_change_materials(as_user, ctx):
    material_id = steel().id
    assert as_user(VIEWER).get("/office/quotes/materials").status_code == 200
    refused = as_user(VIEWER).send(
        "POST", f"/office/quotes/materials/{material_id}", data={"name": "X", "thicknesses": "1"}
    )
    assert refused.status_code == 403
    assert as_user(WAREHOUSE).get("/office/quotes/materials").status_code == 403
    assert steel().name == "S235 steel"


# --- asking ---------------------------------------------------------------------------------


def test_a_custom_part_is_asked_for_with_its_drawings(as_user, ctx):
    quote_id = custom_quote(as_user, files=(("bracket.pdf", PDF), ("bracket.dxf", DXF)))
    found = load(quote_id)
    (line,) = found.lines
    assert line.product_id is None and line.is_custom
    assert line.sku == f"CUSTOM-{found.number}-1"
    assert (line.description, line.material_name, line.thickness, line.quantity) == (
        "Mounting bracket, 4 holes",
        "S235 steel",
        "3",
        40,
    )
    names = [d.attachment.filename for d in line.drawings]
    assert names == ["bracket.pdf", "bracket.dxf"]
    assert {d.attachment.company_id for d in line.drawings} == {found.company_id}
    (first,) = found.rounds
    assert [(rl.product_id, rl.quote_line_id) for rl in first.lines] == [(None, line.id)]
    page = as_user(ANNA).get(f"/office/quotes/{quote_id}")
    assert page.status_code == 200
    assert "Mounting bracket, 4 holes" in text(page) and "bracket.dxf" in text(page)
    with as_user(REQUESTER).get(f"/shop/quotes/{quote_id}.pdf") as document:
        assert document.status_code == 200 and document.mimetype == "application/pdf"
    told = db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == ANNA)).all()
    assert any(line.sku in m.body and "Mounting bracket" in m.body for m in told)


def test_products_and_custom_parts_go_on_one_request(as_user, ctx):
    data = request_data() | {"lines-0-sku": MCU, "lines-0-quantity": "10"}
    response = ask(as_user(REQUESTER), data, (("part.pdf", PDF),))
    assert response.status_code == 302, text(response)
    found = load(int(response.headers["Location"].split("/")[-1]))
    assert [(ln.sku, ln.quantity) for ln in found.lines] == [
        (MCU, 10),
        (f"CUSTOM-{found.number}-1", 40),
    ]


def test_a_file_that_is_no_drawing_is_refused_by_its_content(as_user, ctx):
    before = db.session.scalar(select(func.count(Attachment.id)))
    response = ask(
        as_user(REQUESTER), request_data(), (("drawing.pdf", b"<html><script>x</script></html>"),)
    )
    assert response.status_code == 422
    assert "is not a file we accept" in text(response)
    assert "Mounting bracket, 4 holes" in text(response)  # what was typed stays
    assert db.session.scalar(select(func.count(Attachment.id))) == before
    assert db.session.scalar(select(func.count(Quote.id)).where(Quote.status == "requested")) == (
        db.session.scalar(select(func.count(Quote.id)).where(Quote.status == "requested"))
    )


def test_a_custom_part_needs_a_drawing_a_material_and_an_allowed_thickness(as_user, ctx):
    quotes_before = db.session.scalar(select(func.count(Quote.id)))
    requester = as_user(REQUESTER)
    no_drawing = ask(requester, request_data())
    assert no_drawing.status_code == 422
    assert "Add at least one drawing of the custom part" in text(no_drawing)
    wrong = ask(requester, request_data(material=f"{steel().id}:4", description=""))
    assert wrong.status_code == 422
    assert "Choose a material and thickness from the list" in text(wrong)
    assert "Describe the custom part" in text(wrong)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Quote.id))) == quotes_before


def test_a_drawing_is_kept_while_the_rest_of_the_form_is_corrected(as_user, ctx):
    requester = as_user(REQUESTER)
    first = ask(requester, request_data(quantity="zero"), (("plate.pdf", PDF),))
    assert first.status_code == 200  # the drawing is stored: kept for the next try
    assert "Enter a whole number" in text(first) and "plate.pdf" in text(first)
    kept = re.search(r'name="custom-0-kept" value="(\d+)"', first.get_data(as_text=True))
    assert kept, "the stored drawing comes back with the form"
    again = ask(requester, request_data(**{"custom-0-kept": kept.group(1)}))
    assert again.status_code == 302, text(again)
    quote_id = int(again.headers["Location"].split("/")[-1])
    assert drawing_id(quote_id) == int(kept.group(1))
    # A drawing on a line is nobody's to name again.
    reuse = ask(requester, request_data(**{"custom-0-kept": kept.group(1)}))
    assert reuse.status_code == 422 and "Add at least one drawing" in text(reuse)


def test_another_persons_stored_drawing_cannot_be_named(as_user, ctx):
    first = ask(as_user(REQUESTER), request_data(quantity=""), (("mine.pdf", PDF),))
    kept = re.search(r'name="custom-0-kept" value="(\d+)"', first.get_data(as_text=True))
    theirs = ask(as_user(BUYER), request_data(**{"custom-0-kept": kept.group(1)}))
    assert theirs.status_code == 422 and "mine.pdf" not in text(theirs)


# --- reading drawings -----------------------------------------------------------------------


def test_drawings_are_read_only_by_those_who_see_the_quote(as_user, ctx):
    quote_id = custom_quote(as_user)
    attachment = drawing_id(quote_id)
    shop = f"/shop/quotes/{quote_id}/drawings/{attachment}"
    office = f"/office/quotes/{quote_id}/drawings/{attachment}"
    with as_user(BUYER).get(shop) as got:
        assert got.status_code == 200 and got.data == PDF
        assert got.headers["Content-Disposition"].startswith("attachment")
        assert got.headers["X-Content-Type-Options"] == "nosniff"
    with as_user(ANNA).get(office) as got:
        assert got.status_code == 200 and got.data == PDF
    assert as_user(MARCO).get(office).status_code == 404  # Acme is not his customer
    assert as_user("orders@baltic.test").get(shop).status_code == 404
    assert as_user("orders@baltic.test").get(f"/shop/quotes/{quote_id}").status_code == 404
    # The drawing of another quote, reached through a quote one may see: not there either.
    other = custom_quote(as_user)
    assert as_user(BUYER).get(f"/shop/quotes/{other}/drawings/{attachment}").status_code == 404
    assert as_user(BUYER).get(f"/shop/quotes/{quote_id}/drawings/999999").status_code == 404


# --- pricing, countering, accepting, invoicing, shipping ----------------------------------------


def test_staff_must_price_a_custom_part_themselves(as_user, ctx):
    quote_id = custom_quote(as_user)
    anna = as_user(ANNA)
    page = anna.get(f"/office/quotes/{quote_id}")
    assert re.search(r'name="lines-0-unit_price"[^>]*value=""', page.get_data(as_text=True))
    empty = offer(anna, quote_id, [""])
    assert empty.status_code == 422 and "Enter a unit price" in text(empty)
    assert load(quote_id).status == "requested"


def test_a_custom_part_is_priced_countered_accepted_ordered_invoiced_and_shipped(as_user, ctx):
    data = request_data() | {"lines-0-sku": MCU, "lines-0-quantity": "10"}
    response = ask(as_user(REQUESTER), data, (("part.pdf", PDF),))
    quote_id = int(response.headers["Location"].split("/")[-1])
    anna, buyer = as_user(ANNA), as_user(BUYER)
    assert offer(anna, quote_id, ["6.00", "4.50"]).status_code == 200
    custom = load(quote_id).lines[1]
    assert custom.unit_price == 4.5

    countered = buyer.send(
        "POST",
        f"/shop/quotes/{quote_id}/counter",
        data={
            "seen": str(latest(quote_id)),
            "note": "",
            "lines-0-line": str(load(quote_id).lines[0].id),
            "lines-0-unit_price": "6.00",
            "lines-1-line": str(custom.id),
            "lines-1-unit_price": "4.00",
        },
        htmx=True,
    )
    assert countered.status_code == 200, text(countered)
    assert quotes.asked_prices(load(quote_id)) == {load(quote_id).lines[0].key: 6, custom.key: 4}
    assert offer(anna, quote_id, ["6.00", "4.20"]).status_code == 200
    steps = quotes.timeline(load(quote_id))
    assert [c.sku for c in steps[-1].changes] == [MCU, custom.sku]
    # Before: the customer's counter-offer; now: the seller's answer.
    assert (steps[-1].changes[1].old, steps[-1].changes[1].new) == (Decimal(4), Decimal("4.2"))

    movements = db.session.scalar(select(func.count(StockMovement.id)))
    accepted = buyer.send(
        "POST",
        f"/shop/quotes/{quote_id}/accept",
        data={"seen": str(latest(quote_id)), "note": ""},
        htmx=True,
    )
    assert accepted.status_code == 200, text(accepted)
    found = load(quote_id)
    assert found.status == "accepted"
    order = fresh_order(found.order_id)
    line = next(ln for ln in order.lines if ln.product_id is None)
    assert line.sku == f"CUSTOM-{found.number}-1"
    assert line.name == "Mounting bracket, 4 holes, S235 steel 3 mm"
    assert (line.quantity, line.unit_price, line.line_total) == (40, Decimal("4.2"), 168)
    assert line.tax_class == "standard" and line.vat_rate == 19
    # Only the catalogue product took stock.
    assert db.session.scalar(select(func.count(StockMovement.id))) == movements + 1

    for face, who in (("shop", buyer), ("office", anna)):
        page = who.get(f"/{face}/orders/{order.id}")
        assert page.status_code == 200 and line.sku in text(page)
        assert who.get(f"/{face}/orders/{order.id}.pdf").status_code == 200

    transaction.committed(
        lambda: orders.move(fresh_order(order.id), "confirmed", actor=user(ADMIN))
    )
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    assert any(il.sku == line.sku and il.quantity == 40 for il in invoice.lines)
    assert buyer.get(f"/shop/invoices/{invoice.id}.pdf").status_code == 200

    shipment = transaction.committed(
        lambda: shipments.create(
            fresh_order(order.id),
            {ln.id: ln.quantity for ln in fresh_order(order.id).lines},
            carrier_id=None,
            actor=user(WAREHOUSE),
        )
    )
    db.session.expire_all()
    assert {sl.order_line_id for sl in shipment.lines} >= {line.id}
    assert as_user(WAREHOUSE).get(f"/office/shipments/{shipment.id}").status_code == 200


def test_a_custom_part_cannot_be_reordered_as_a_product(as_user, ctx):
    quote_id = custom_quote(as_user)
    assert offer(as_user(ANNA), quote_id, ["3.00"]).status_code == 200
    buyer = as_user(BUYER)
    buyer.send(
        "POST",
        f"/shop/quotes/{quote_id}/accept",
        data={"seen": str(latest(quote_id)), "note": ""},
        htmx=True,
    )
    order_id = load(quote_id).order_id
    (line,) = db.session.get(Order, order_id).lines
    assert line.product_id is None
    again = buyer.send("POST", f"/shop/orders/{order_id}/reorder")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/orders/{order_id}")
    page = text(buyer.get(f"/shop/orders/{order_id}"))
    assert f"{line.sku} is a custom part made to your drawings, not a catalogue product" in page
    assert "Nothing went into your cart." in page
    # Asking again from the quote copies no custom line as a SKU.
    again = buyer.get(f"/shop/quotes/new?from={quote_id}")
    assert again.status_code == 200 and "CUSTOM-" not in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(QuoteLineDrawing.id))) >= 1


def test_the_api_presents_custom_lines_and_their_order_lines(as_user, client, ctx):
    quote_id = custom_quote(as_user, files=(("bracket.pdf", PDF), ("bracket.dxf", DXF)))
    number = load(quote_id).number
    auth = {"Authorization": f"Bearer {persona_api_token(BUYER)}"}
    got = client.get(f"/api/v1/quotes/{quote_id}", headers=auth)
    assert got.status_code == 200, got.get_data(as_text=True)
    (line,) = got.get_json()["lines"]
    assert line["kind"] == "custom" and line["product_id"] is None
    assert line["sku"] == f"CUSTOM-{number}-1"
    assert (line["description"], line["material"], line["thickness"]) == (
        "Mounting bracket, 4 holes",
        "S235 steel",
        "3",
    )
    assert line["drawings"] == ["bracket.pdf", "bracket.dxf"]
    other = {"Authorization": f"Bearer {persona_api_token('orders@baltic.test')}"}
    assert client.get(f"/api/v1/quotes/{quote_id}", headers=other).status_code == 404

    assert offer(as_user(ANNA), quote_id, ["2.00"]).status_code == 200
    as_user(BUYER).send(
        "POST",
        f"/shop/quotes/{quote_id}/accept",
        data={"seen": str(latest(quote_id)), "note": ""},
        htmx=True,
    )
    order_id = load(quote_id).order_id
    shown = client.get(f"/api/v1/orders/{order_id}", headers=auth)
    assert shown.status_code == 200, shown.get_data(as_text=True)
    (ordered,) = shown.get_json()["lines"]
    assert (ordered["product_id"], ordered["sku"]) == (None, f"CUSTOM-{number}-1")


def test_adding_a_custom_part_keeps_the_drawings_already_chosen(as_user, ctx):
    requester = as_user(REQUESTER)
    more = ask(requester, request_data(action="more_custom"), (("first.pdf", PDF),))
    assert more.status_code == 200
    html = more.get_data(as_text=True)
    assert 'name="custom-1-description"' in html  # a second part to fill in
    kept = re.search(r'name="custom-0-kept" value="(\d+)"', html).group(1)
    second = {
        "custom-0-kept": kept,
        "custom-1-description": "Cover plate",
        "custom-1-material": f"{steel().id}:1",
        "custom-1-quantity": "5",
    }
    body = request_data() | second
    body["custom-1-drawings"] = [(io.BytesIO(DXF), "cover.dxf")]
    sent = requester.send("POST", "/shop/quotes/new", data=body, content_type="multipart/form-data")
    assert sent.status_code == 302, text(sent)
    found = load(int(sent.headers["Location"].split("/")[-1]))
    assert [
        (ln.sku, ln.description, [d.attachment.filename for d in ln.drawings]) for ln in found.lines
    ] == [
        (f"CUSTOM-{found.number}-1", "Mounting bracket, 4 holes", ["first.pdf"]),
        (f"CUSTOM-{found.number}-2", "Cover plate", ["cover.dxf"]),
    ]


def test_thicknesses_are_read_as_plain_ascending_millimetres(ctx):
    assert custom_parts.clean_thicknesses("8, 1;2 3  5,1.50") == ["1", "1.5", "2", "3", "5", "8"]
    for bad, says in (
        ("", "at least one thickness"),
        ("0", "more than 0"),
        ("1001", "at most 1000 mm"),
        ("1.255", "at most two decimals"),
        ("NaN", "more than 0"),
        ("2mm", "2mm is not a thickness"),
    ):
        try:
            custom_parts.clean_thicknesses(bad)
        except Refused as refusal:
            assert says in str(refusal), (bad, str(refusal))
        else:
            raise AssertionError(f"{bad!r} was taken")


def test_the_orders_readers_download_its_drawings_without_the_quote(as_user, ctx):
    quote_id = custom_quote(as_user)
    assert offer(as_user(ANNA), quote_id, ["3.00"]).status_code == 200
    as_user(BUYER).send(
        "POST",
        f"/shop/quotes/{quote_id}/accept",
        data={"seen": str(latest(quote_id)), "note": ""},
        htmx=True,
    )
    order_id = load(quote_id).order_id
    attachment = drawing_id(quote_id)
    (line,) = fresh_order(order_id).lines
    assert line.quote_line_id == load(quote_id).lines[0].id
    workshop = as_user(WAREHOUSE)  # makes the part; sees orders, not quotes
    assert workshop.get(f"/office/quotes/{quote_id}/drawings/{attachment}").status_code == 403
    page = workshop.get(f"/office/orders/{order_id}").get_data(as_text=True)
    assert f"/office/orders/{order_id}/drawings/{attachment}" in page
    with workshop.get(f"/office/orders/{order_id}/drawings/{attachment}") as got:
        assert got.status_code == 200 and got.data == PDF
        assert got.headers["Content-Disposition"].startswith("attachment")
    with as_user(REQUESTER).get(f"/shop/orders/{order_id}/drawings/{attachment}") as got:
        assert got.status_code == 200
    assert as_user(MARCO).get(f"/office/orders/{order_id}/drawings/{attachment}").status_code == 404
    baltic = as_user("orders@baltic.test")
    assert baltic.get(f"/shop/orders/{order_id}/drawings/{attachment}").status_code == 404
    # A drawing reached through another order: not there.
    other = db.session.scalar(select(Order.id).where(Order.id != order_id).order_by(Order.id))
    assert workshop.get(f"/office/orders/{other}/drawings/{attachment}").status_code == 404


def test_a_contact_mailed_the_quote_downloads_its_drawings_through_the_link(as_user, client, ctx):
    quote_id = custom_quote(as_user)
    assert offer(as_user(ANNA), quote_id, ["12.50"]).status_code == 200
    contact = "jane.buyer@acme-robotics.example"
    sent = as_user(ANNA).send(
        "POST",
        f"/office/quotes/{quote_id}/mail",
        data={"name": "Jane Buyer", "email": contact, "language": "en", "message": ""},
        htmx=True,
    )
    assert sent.status_code == 200, text(sent)
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_addr == contact))
    token = re.search(r"/q/([A-Za-z0-9_-]{20,})", mail.body).group(1)
    attachment = drawing_id(quote_id)
    url = f"/q/{token}/drawings/{attachment}"
    page = client.get(f"/q/{token}").get_data(as_text=True)
    assert url in page and f"/shop/quotes/{quote_id}/drawings" not in page
    with client.get(url) as got:
        assert got.status_code == 200 and got.data == PDF
        assert got.headers["Content-Disposition"].startswith("attachment")
    other = drawing_id(custom_quote(as_user))  # another quote's drawing, through this link
    assert client.get(f"/q/{token}/drawings/{other}").status_code == 404
    link = db.session.scalar(select(QuoteLink).where(QuoteLink.quote_id == quote_id))
    as_user(ANNA).send("POST", f"/office/quotes/{quote_id}/links/{link.id}/revoke")
    assert client.get(url).status_code == 410
