"""Shipments: created from an order's open quantities by shipping staff, marked shipped and
delivered, the order's status following; seen with their tracking by the customer, live;
each with a delivery note (page and PDF) that carries no prices."""

import io
import re
import threading
import time

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from core import orders, shipments, transaction
from core.errors import Refused
from core.models import (
    AuditEntry,
    Carrier,
    Invoice,
    Order,
    OutboxMail,
    Shipment,
    ShipmentLine,
    User,
)
from extensions import db
from tests.conftest import need_mariadb
from tests.html import find
from tests.records import company, fresh_order, place, user
from tests.sockets import received_text, watch

MCU, CAP = "MCU-STM32F401", "CAP-1206-10U"
ADMIN, ANNA, MARCO = "admin@portal.test", "anna.sales@portal.test", "marco.sales@portal.test"
WAREHOUSE, FINANCE, VIEWER = "warehouse@portal.test", "finance@portal.test", "viewer@portal.test"


def carrier(name: str) -> Carrier:
    return db.session.scalar(select(Carrier).where(Carrier.name.startswith(name)))


def confirmed(slug: str, lines: dict[str, int]) -> Order:
    order = place(slug, lines)
    transaction.committed(
        lambda: orders.move(fresh_order(order.id), "confirmed", actor=user(ADMIN))
    )
    return fresh_order(order.id)


def line_of(order: Order, sku: str):
    return next(line for line in order.lines if line.sku == sku)


def new_shipment(c, order: Order, quantities: dict[str, object], *, carrier_id="", tracking=""):
    data = {f"quantity-{line_of(order, sku).id}": q for sku, q in quantities.items()}
    data |= {"carrier": carrier_id, "tracking_number": tracking}
    return c.send("POST", f"/office/orders/{order.id}/shipments/new", data=data)


def shipments_of(order_id: int) -> list[Shipment]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
        )
    )


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def pdf_text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(page.extract_text() for page in reader.pages)


# --- creating, shipping, delivering: the order follows ----------------------------------------


def test_the_new_shipment_form_is_filled_with_each_lines_open_quantity(as_user, ctx):
    order = confirmed("acme", {MCU: 10, CAP: 4})
    page = as_user(WAREHOUSE).get(f"/office/orders/{order.id}/shipments/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for sku, quantity in ((MCU, 10), (CAP, 4)):
        field = re.search(rf'name="quantity-{line_of(order, sku).id}"[^>]*value="(\d+)"', html)
        assert field and field.group(1) == str(quantity)
    assert "DHL Paket" in html and "Spedition Kraus" in html


def test_partial_then_complete_shipments_move_the_order_to_shipped_then_delivered(as_user, ctx):
    order = confirmed("acme", {MCU: 10, CAP: 4})
    warehouse = as_user(WAREHOUSE)
    dhl = carrier("DHL")
    invoices = select(func.count()).select_from(Invoice).where(Invoice.order_id == order.id)
    assert db.session.scalar(invoices) == 1  # issued on confirmation

    response = new_shipment(warehouse, order, {MCU: 4, CAP: 0}, carrier_id=dhl.id)
    assert response.status_code == 302
    [first] = shipments_of(order.id)
    assert re.fullmatch(r"SH-\d{5}", first.number) and first.status == "prepared"
    assert [(sl.order_line.sku, sl.quantity) for sl in first.lines] == [(MCU, 4)]
    assert fresh_order(order.id).status == "confirmed"  # nothing has left yet
    open_now = {
        item.line.sku: item.shippable for item in shipments.open_lines(fresh_order(order.id))
    }
    assert open_now == {MCU: 6, CAP: 4}

    shipped = warehouse.send(
        "POST", f"/office/shipments/{first.id}/ship", data={"tracking_number": "JD0140001"}
    )
    assert shipped.status_code == 302
    assert fresh_order(order.id).status == "partly_shipped"

    # The form now offers what is left; the rest goes in a second shipment.
    assert new_shipment(warehouse, order, {MCU: 6, CAP: 4}, carrier_id="").status_code == 302
    second = shipments_of(order.id)[-1]
    warehouse.send("POST", f"/office/shipments/{second.id}/ship")
    assert fresh_order(order.id).status == "shipped"
    assert shipments.open_quantity(fresh_order(order.id)) == 0

    warehouse.send("POST", f"/office/shipments/{first.id}/deliver")
    assert fresh_order(order.id).status == "shipped"  # one parcel is still on its way
    warehouse.send("POST", f"/office/shipments/{second.id}/deliver")
    order = fresh_order(order.id)
    assert order.status == "delivered"
    steps = [(e.status, e.user.email if e.user else None, e.note) for e in order.events][-3:]
    assert steps == [
        ("partly_shipped", WAREHOUSE, f"Shipment {first.number}"),
        ("shipped", WAREHOUSE, f"Shipment {second.number}"),
        ("delivered", WAREHOUSE, f"Shipment {second.number}"),
    ]
    assert db.session.scalar(invoices) == 1  # never billed twice
    actions = set(
        db.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.target_type == "shipments",
                AuditEntry.target_id.in_((first.id, second.id)),
            )
        )
    )
    assert actions == {"shipment.created", "shipment.shipped", "shipment.delivered"}


def test_the_buyers_decision_makers_hear_when_a_parcel_leaves(as_user, ctx):
    order = confirmed("acme", {MCU: 10})
    warehouse = as_user(WAREHOUSE)
    new_shipment(warehouse, order, {MCU: 4}, carrier_id=carrier("UPS").id, tracking="1Z77")
    [sent] = shipments_of(order.id)
    subject = f"Order {order.number}: shipment {sent.number} is on its way"
    assert db.session.scalar(select(OutboxMail).where(OutboxMail.subject == subject)) is None
    warehouse.send("POST", f"/office/shipments/{sent.id}/ship")
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.subject == subject)).all()
    assert [m.to_addr for m in mails] == ["orders@acme.test"]
    assert "https://www.ups.com/track?tracknum=1Z77" in mails[0].body
    [pdf] = mails[0].attachments
    assert pdf.filename == f"{sent.number}.pdf" and pdf.mime_type == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Delivery note" in text and sent.number in text and "1Z77" in text


def test_an_order_shipped_before_it_was_confirmed_is_invoiced_when_first_shipped(ctx):
    order = place("baltic", {MCU: 3})
    invoices = select(func.count()).select_from(Invoice).where(Invoice.order_id == order.id)
    assert db.session.scalar(invoices) == 0
    warehouse = user(WAREHOUSE)
    sent = transaction.committed(
        lambda: shipments.create(
            fresh_order(order.id), {line_of(order, MCU).id: 1}, carrier_id=None, actor=warehouse
        )
    )
    assert db.session.scalar(invoices) == 0  # prepared: nothing has left
    transaction.committed(
        lambda: shipments.mark_shipped(db.session.get(Shipment, sent.id), actor=warehouse)
    )
    assert fresh_order(order.id).status == "partly_shipped"
    assert db.session.scalar(invoices) == 1


@pytest.mark.parametrize(
    ("quantities", "message"),
    [
        ({MCU: 11, CAP: 0}, f"11 of {MCU} is more than is open to ship: at most 10"),
        ({MCU: -1, CAP: 0}, f"The quantity of {MCU} is a whole number from 0 to 10."),
        ({MCU: "abc", CAP: 1}, f"The quantity of {MCU} is a whole number from 0 to 10."),
        ({MCU: "1e3", CAP: 1}, f"The quantity of {MCU} is a whole number from 0 to 10."),
        ({MCU: "١٢", CAP: 1}, f"The quantity of {MCU} is a whole number from 0 to 10."),
        ({MCU: "2.5", CAP: 1}, f"The quantity of {MCU} is a whole number from 0 to 10."),
        ({MCU: 0, CAP: 0}, "A shipment needs at least one line"),
        ({MCU: "", CAP: ""}, "A shipment needs at least one line"),
    ],
)
def test_over_shipping_and_bad_quantities_are_refused_and_nothing_is_kept(
    as_user, ctx, quantities, message
):
    order = confirmed("acme", {MCU: 10, CAP: 4})
    response = new_shipment(as_user(WAREHOUSE), order, quantities)
    assert response.status_code == 422
    assert message in text_of(response)
    assert shipments_of(order.id) == []
    assert fresh_order(order.id).status == "confirmed"


def test_what_is_already_in_shipments_cannot_ship_again(as_user, ctx):
    order = confirmed("acme", {MCU: 10, CAP: 4})
    warehouse = as_user(WAREHOUSE)
    assert new_shipment(warehouse, order, {MCU: 10, CAP: 0}).status_code == 302
    again = new_shipment(warehouse, order, {MCU: 1, CAP: 0})
    assert again.status_code == 422
    assert f"1 of {MCU} is more than is open to ship: at most 0" in text_of(again)
    assert f"{10:,} already in shipments" in text_of(again)
    assert len(shipments_of(order.id)) == 1


def test_a_shipment_takes_lines_of_its_own_order_only(ctx):
    order = confirmed("acme", {MCU: 2})
    other = confirmed("acme", {CAP: 2})
    with pytest.raises(Refused, match="lines of its own order only"):
        shipments.create(order, {line_of(other, CAP).id: 1}, carrier_id=None, actor=user(WAREHOUSE))
    db.session.rollback()


def test_cancelled_and_fully_shipped_orders_do_not_ship(as_user, ctx):
    warehouse = as_user(WAREHOUSE)
    order = confirmed("acme", {MCU: 2})
    transaction.committed(
        lambda: orders.move(fresh_order(order.id), "cancelled", actor=user(ADMIN))
    )
    refused = new_shipment(warehouse, fresh_order(order.id), {MCU: 2})
    assert refused.status_code == 422
    assert f"Order {order.number} is cancelled: nothing of it ships." in text_of(refused)
    shipped = db.session.scalar(select(Order).where(Order.status == "shipped").order_by(Order.id))
    line = shipped.lines[0]
    response = warehouse.send(
        "POST", f"/office/orders/{shipped.id}/shipments/new", data={f"quantity-{line.id}": "1"}
    )
    assert response.status_code == 422
    assert f"Everything of order {shipped.number} has shipped already." in text_of(response)
    page = warehouse.get(f"/office/orders/{shipped.id}").get_data(as_text=True)
    assert "Create shipment" not in find(page, id=f"order-shipments-{shipped.id}").text


def test_shipping_states_are_not_moved_by_hand(as_user, ctx):
    order = confirmed("acme", {MCU: 2})
    response = as_user(WAREHOUSE).send(
        "POST",
        f"/office/orders/{order.id}/move",
        data={"to": "shipped"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "through its shipments" in text_of(response)
    assert fresh_order(order.id).status == "confirmed"


def test_marking_shipped_needs_a_tracking_number_when_the_carrier_tracks(as_user, ctx):
    order = confirmed("acme", {MCU: 4, CAP: 2})
    warehouse = as_user(WAREHOUSE)
    new_shipment(warehouse, order, {MCU: 4, CAP: 0}, carrier_id=carrier("DHL").id)
    new_shipment(warehouse, order, {MCU: 0, CAP: 2}, carrier_id=carrier("Spedition").id)
    tracked, freight = shipments_of(order.id)
    refused = warehouse.send(
        "POST", f"/office/shipments/{tracked.id}/ship", headers={"HX-Request": "true"}
    )
    assert refused.status_code == 422
    assert f"Enter the tracking number DHL Paket gave shipment {tracked.number}" in text_of(refused)
    assert shipments_of(order.id)[0].status == "prepared"
    # A forwarder without a tracking link ships without a number.
    ok = warehouse.send(
        "POST", f"/office/shipments/{freight.id}/ship", headers={"HX-Request": "true"}
    )
    assert ok.status_code == 200 and "is shipped" in text_of(ok)
    assert fresh_order(order.id).status == "partly_shipped"
    # Typed with the step, the number is kept and the link made from the template.
    warehouse.send(
        "POST", f"/office/shipments/{tracked.id}/ship", data={"tracking_number": "JD 014/6?x#1"}
    )
    shipped = shipments_of(order.id)[0]
    assert shipped.status == "shipped" and shipped.tracking_number == "JD 014/6?x#1"
    link = shipments.link_of(shipped)
    assert link.endswith("?piececode=JD%20014%2F6%3Fx%231")
    # Once it left, a tracked shipment keeps a number.
    emptied = warehouse.send(
        "POST",
        f"/office/shipments/{tracked.id}",
        data={"carrier": str(carrier("DHL").id), "tracking_number": ""},
        headers={"HX-Request": "true"},
    )
    assert emptied.status_code == 422 and "keeps a tracking number" in text_of(emptied)


def test_steps_in_the_wrong_order_are_refused(as_user, ctx):
    order = confirmed("acme", {MCU: 2})
    warehouse = as_user(WAREHOUSE)
    new_shipment(warehouse, order, {MCU: 2})
    [sent] = shipments_of(order.id)
    htmx = {"HX-Request": "true"}
    early = warehouse.send("POST", f"/office/shipments/{sent.id}/deliver", headers=htmx)
    assert early.status_code == 422 and "only a shipped one is delivered" in text_of(early)
    warehouse.send("POST", f"/office/shipments/{sent.id}/ship")
    twice = warehouse.send("POST", f"/office/shipments/{sent.id}/ship", headers=htmx)
    assert twice.status_code == 422
    gone = warehouse.send("POST", f"/office/shipments/{sent.id}/remove", headers=htmx)
    assert gone.status_code == 422 and "has left" in text_of(gone)
    assert fresh_order(order.id).status == "shipped"


def test_a_prepared_shipment_is_removed_and_its_quantities_open_again(as_user, ctx):
    order = confirmed("acme", {MCU: 5})
    warehouse = as_user(WAREHOUSE)
    new_shipment(warehouse, order, {MCU: 5})
    [sent] = shipments_of(order.id)
    assert shipments.open_quantity(fresh_order(order.id)) == 0
    response = warehouse.send("POST", f"/office/shipments/{sent.id}/remove")
    assert response.status_code == 302
    assert shipments_of(order.id) == []
    assert shipments.open_quantity(fresh_order(order.id)) == 5


def test_cancelling_an_order_removes_what_was_being_prepared(as_user, ctx):
    order = confirmed("acme", {MCU: 5})
    new_shipment(as_user(WAREHOUSE), order, {MCU: 2})
    transaction.committed(
        lambda: orders.move(fresh_order(order.id), "cancelled", actor=user(ADMIN))
    )
    assert fresh_order(order.id).status == "cancelled" and shipments_of(order.id) == []


def test_a_partly_shipped_order_is_not_cancelled(ctx):
    order = db.session.scalar(select(Order).where(Order.status == "partly_shipped"))
    with pytest.raises(Refused, match="cannot become cancelled"):
        orders.move(order, "cancelled", actor=user(ADMIN))
    db.session.rollback()


# --- who may see and do what ----------------------------------------------------------------


def demo_shipment(slug: str) -> Shipment:
    return db.session.scalar(
        select(Shipment)
        .join(Order, Order.id == Shipment.order_id)
        .where(Order.company_id == company(slug).id)
        .order_by(Shipment.id)
    )


def test_sales_staff_see_their_customers_shipments_only(as_user, ctx):
    carpathia, acme = demo_shipment("carpathia"), demo_shipment("acme")
    anna, marco = as_user(ANNA), as_user(MARCO)
    assert anna.get(f"/office/shipments/{carpathia.id}").status_code == 404
    assert anna.get(f"/office/shipments/{carpathia.id}.pdf").status_code == 404
    assert marco.get(f"/office/shipments/{carpathia.id}").status_code == 200
    assert marco.get(f"/office/shipments/{acme.id}").status_code == 404
    listed = anna.get("/office/shipments").get_data(as_text=True)
    assert acme.number in listed and carpathia.number not in listed
    # Sales staff see shipments; they do not ship.
    assert anna.send("POST", f"/office/shipments/{acme.id}/deliver").status_code == 403
    page = anna.get(f"/office/orders/{acme.order_id}").get_data(as_text=True)
    region = find(page, id=f"order-shipments-{acme.order_id}")
    assert acme.number in region.text and "/deliver" not in region.inner_html


@pytest.mark.parametrize("email", [FINANCE, VIEWER, ANNA])
def test_staff_without_shipping_edit_cannot_ship(as_user, ctx, email):
    order = confirmed("acme", {MCU: 2})
    c = as_user(email)
    assert c.get(f"/office/orders/{order.id}/shipments/new").status_code == 403
    assert new_shipment(c, order, {MCU: 2}).status_code == 403
    assert shipments_of(order.id) == []


def test_customers_see_their_own_orders_shipments_only(as_user, ctx):
    acme = demo_shipment("acme")
    own = as_user("orders@acme.test")
    assert own.get(f"/shop/orders/{acme.order_id}/shipments/{acme.id}").status_code == 200
    assert as_user("request@acme.test").get(f"/shop/orders/{acme.order_id}").status_code == 200
    other = as_user("orders@baltic.test")
    assert other.get(f"/shop/orders/{acme.order_id}/shipments/{acme.id}").status_code == 404
    assert other.get(f"/shop/orders/{acme.order_id}/shipments/{acme.id}.pdf").status_code == 404
    # A shipment named under another order of the same company is not found either.
    baltic = demo_shipment("baltic")
    mixed = f"/shop/orders/{acme.order_id}/shipments/{baltic.id}"
    assert as_user("orders@baltic.test").get(mixed).status_code == 404
    assert as_user("browse@acme.test").get(f"/shop/orders/{acme.order_id}").status_code == 403


def test_the_customer_order_page_shows_shipments_with_tracking_links(as_user, ctx):
    partly = db.session.scalar(select(Order).where(Order.status == "partly_shipped"))
    gone, prepared = shipments_of(partly.id)
    html = as_user("orders@carpathia.test").get(f"/shop/orders/{partly.id}").get_data(as_text=True)
    region = find(html, id=f"order-shipments-{partly.id}")
    assert "data-live" in region.attrs
    assert gone.number in region.text and prepared.number in region.text
    assert "Shipped" in region.text and "Being prepared" in region.text
    link = shipments.link_of(gone)
    assert link.startswith("https://www.dhl.de/") and gone.tracking_number in link
    assert f'href="{link}"' in region.inner_html
    assert "Partly shipped" in find(html, id=f"order-{partly.id}").text
    assert "/office/" not in region.inner_html and "csrf_token" not in region.inner_html


# --- the delivery note ----------------------------------------------------------------------


PRICE = re.compile(r"EUR|€|\d+\.\d{2}\b")


def test_the_delivery_note_lists_goods_address_order_and_tracking_without_prices(as_user, ctx):
    order = confirmed("acme", {MCU: 10, CAP: 4})
    order.customer_reference = "PO-4711"
    order.delivery_name, order.delivery_street = "Acme Robotics, Goods in", "Werkstraße 5"
    order.delivery_postcode, order.delivery_city, order.delivery_country = "80331", "München", "DE"
    db.session.commit()
    warehouse = as_user(WAREHOUSE)
    new_shipment(warehouse, order, {MCU: 7, CAP: 0}, carrier_id=carrier("UPS").id)
    [sent] = shipments_of(order.id)
    warehouse.send("POST", f"/office/shipments/{sent.id}/ship", data={"tracking_number": "1Z99"})
    expected = (
        sent.number, order.number, "PO-4711", MCU, "STM32F401 microcontroller", "7",
        "Acme Robotics, Goods in", "Werkstraße 5", "80331 München", "Germany", "UPS", "1Z99",
    )  # fmt: skip
    pages = {
        "office": warehouse.get(f"/office/shipments/{sent.id}"),
        "shop": as_user("orders@acme.test").get(f"/shop/orders/{order.id}/shipments/{sent.id}"),
    }
    for face, response in pages.items():
        note = find(response.get_data(as_text=True), class_="invoice-sheet delivery-note").text
        for text in expected:
            assert text in note, (face, text)
        assert CAP not in note
        assert not PRICE.search(note), (face, PRICE.search(note))
    pdfs = {
        "office": warehouse.get(f"/office/shipments/{sent.id}.pdf"),
        "shop": as_user("orders@acme.test").get(f"/shop/orders/{order.id}/shipments/{sent.id}.pdf"),
    }
    for face, response in pdfs.items():
        text = pdf_text(response)
        assert "Delivery note" in text
        for wanted in expected:
            assert wanted in text, (face, wanted)
        assert "Unit price" not in text and "Amount" not in text
        assert not PRICE.search(text), (face, PRICE.search(text))


# --- live -----------------------------------------------------------------------------------


def test_a_shipment_reaches_the_customers_open_order_page_and_the_staffs(connect, ctx):
    order = confirmed("acme", {MCU: 10, CAP: 4})
    region, status = f"order-shipments-{order.id}", f"order-{order.id}"
    sockets = {
        "orders@acme.test": {region, status},
        "request@acme.test": {region},
        ANNA: {region, status},
        WAREHOUSE: {region},
        MARCO: {region},  # not his customer
        "orders@baltic.test": {region, status},  # a crafted watch list
        "browse@acme.test": {region},  # reads no orders
    }
    opened = {email: connect(email) for email in sockets}
    for email, regions in sockets.items():
        watch(opened[email], regions)
    time.sleep(0.3)
    warehouse = user(WAREHOUSE)
    sent = transaction.committed(
        lambda: shipments.create(
            fresh_order(order.id),
            {line_of(order, MCU).id: 5},
            carrier_id=carrier("DHL").id,
            tracking_number="00340434161094015902",
            actor=warehouse,
        )
    )
    got = {email: received_text(ws, 1.5) for email, ws in opened.items()}
    dm = got["orders@acme.test"]
    assert f'id="{region}"' in dm and sent.number in dm and "Being prepared" in dm
    assert "piececode=00340434161094015902" in dm and "/office/" not in dm
    assert sent.number in got["request@acme.test"]
    assert sent.number in got[ANNA] and f"/office/shipments/{sent.id}/ship" not in got[ANNA]
    assert f"/office/shipments/{sent.id}/ship" in got[WAREHOUSE]
    assert 'name="csrf_token"' not in got[WAREHOUSE]
    for nobody in (MARCO, "orders@baltic.test", "browse@acme.test"):
        assert got[nobody] == "", nobody

    transaction.committed(
        lambda: shipments.mark_shipped(db.session.get(Shipment, sent.id), actor=warehouse)
    )
    dm = received_text(opened["orders@acme.test"], 1.5)
    assert f'id="{status}"' in dm and "Partly shipped" in dm
    assert f'id="{region}"' in dm and "Shipped" in dm
    assert received_text(opened["orders@baltic.test"], 0.5) == ""


def test_a_shipment_page_follows_its_shipment_live(connect, ctx):
    acme = db.session.scalar(
        select(Shipment)
        .join(Order, Order.id == Shipment.order_id)
        .where(Order.company_id == company("acme").id, Shipment.status == "shipped")
    )
    shipment_region = f"shipment-{acme.id}"
    dm, marco = connect("orders@acme.test"), connect(MARCO)
    watch(dm, {shipment_region})
    watch(marco, {shipment_region})
    time.sleep(0.3)
    transaction.committed(
        lambda: shipments.update(
            db.session.get(Shipment, acme.id),
            carrier_id=acme.carrier_id,
            tracking_number="NEW-REF-1",
            actor=user(WAREHOUSE),
        )
    )
    assert "NEW-REF-1" in received_text(dm, 1.5)
    assert received_text(marco, 0.5) == ""


# --- the demo, and two people shipping at once ---------------------------------------------


def test_the_demos_shipments_agree_with_its_orders(ctx):
    for order in db.session.scalars(select(Order)):
        wanted = shipments.status_from_shipments(order)
        if order.status in ("shipped", "delivered", "partly_shipped"):
            assert wanted == order.status, order.number
            assert order.status != "shipped" or any(s.tracking_number for s in order.shipments), (
                order.number
            )
        else:
            assert wanted is None and not order.shipments, order.number
    states = set(db.session.scalars(select(Shipment.status)))
    assert states == {"prepared", "shipped", "delivered"}
    names = set(db.session.scalars(select(Carrier.name)))
    assert {"DHL Paket", "UPS", "Spedition Kraus (pallet freight)"} <= names


def test_two_people_shipping_one_order_at_once_never_ship_more_than_was_ordered(app, ctx):
    need_mariadb()
    order = confirmed("delft", {MCU: 6})
    line_id = line_of(order, MCU).id
    people = [user(ADMIN).id, user(WAREHOUSE).id, user("manager@portal.test").id] * 2
    barrier = threading.Barrier(len(people))
    results: list = [None] * len(people)

    def ship(i):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = transaction.committed(
                    lambda: (
                        shipments.create(
                            db.session.get(Order, order.id),
                            {line_id: 4},
                            carrier_id=None,
                            actor=db.session.get(User, people[i]),
                        ).number
                    )
                )
            except Refused as exc:
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=ship, args=(i,)) for i in range(len(people))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    made = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(made) == 1 and len(refused) == len(people) - 1, results
    assert all("more than is open to ship: at most 2" in str(r) for r in refused)
    total = db.session.scalar(
        select(func.sum(ShipmentLine.quantity)).where(ShipmentLine.order_line_id == line_id)
    )
    assert total == 4
