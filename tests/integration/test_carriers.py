"""Carriers, kept by shipping staff: a name, a tracking link template (https, with
{tracking}), active or not; audited; a carrier shipments name is deactivated, not deleted."""

import re
import time

import pytest
from sqlalchemy import func, select

from core import carriers
from core.models import AuditEntry, Carrier, Order, Shipment, User
from extensions import db
from tests.sockets import received_text, watch

WAREHOUSE, FINANCE, VIEWER = "warehouse@portal.test", "finance@portal.test", "viewer@portal.test"
UPS_LIKE = "https://track.example.com/parcel?id={tracking}&lang=en"


def by_name(name: str) -> Carrier | None:
    db.session.expire_all()
    return db.session.scalar(select(Carrier).where(Carrier.name == name))


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def create(c, name: str, url: str = "", active: bool = True):
    data = {"name": name, "tracking_url": url}
    if active:
        data["is_active"] = "y"
    return c.send("POST", "/office/carriers", data=data)


@pytest.mark.parametrize(
    ("template", "number", "link"),
    [
        (UPS_LIKE, "1Z 99/8", "https://track.example.com/parcel?id=1Z%2099%2F8&lang=en"),
        (
            "https://t.example/{tracking}",
            "../../x?y=1#z",
            "https://t.example/..%2F..%2Fx%3Fy%3D1%23z",
        ),
        ("https://t.example/?n={tracking}", "<script>", "https://t.example/?n=%3Cscript%3E"),
        ("", "123", ""),
        (UPS_LIKE, "", ""),
    ],
)
def test_the_tracking_number_is_url_quoted_into_the_template(template, number, link):
    assert carriers.tracking_link(template, number) == link


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("http://track.example.com/?id={tracking}", "starts with https://"),
        ("https://track.example.com/?id=", "Put {tracking} in the tracking link"),
        ("javascript:alert(1)//{tracking}", "starts with https://"),
        ("https://{tracking}.example.com/", "belongs after the carrier's web address"),
        ("https://user:pw@track.example.com/{tracking}", "starts with https://"),
        ("https:///{tracking}", "starts with https://"),
        ("https://track.example.com/ {tracking}", "without spaces"),
        ("https://track.example.com:99999/{tracking}", "starts with https://"),
        ("https://track.example.com/" + "x" * 300 + "{tracking}", "at most 300 characters"),
    ],
)
def test_a_template_must_be_https_and_hold_the_tracking_number(as_user, ctx, template, message):
    count = db.session.scalar(select(func.count(Carrier.id)))
    response = create(as_user(WAREHOUSE), "New Parcel Co", template)
    assert response.status_code == 422
    assert message in text_of(response).replace("&#39;", "'")
    assert db.session.scalar(select(func.count(Carrier.id))) == count


def test_creating_and_changing_a_carrier_is_audited(as_user, ctx):
    warehouse = as_user(WAREHOUSE)
    response = create(warehouse, "  Parcel   Express ", UPS_LIKE)
    assert response.status_code == 302
    carrier = by_name("Parcel Express")
    assert carrier.tracking_url == UPS_LIKE and carrier.is_active
    listed = warehouse.get("/office/carriers").get_data(as_text=True)
    assert "Parcel Express" in listed
    assert create(warehouse, "parcel express").status_code == 422  # names are unique in any case
    saved = warehouse.send(
        "POST",
        f"/office/carriers/{carrier.id}",
        data={"name": "Parcel Express", "tracking_url": "", "is_active": "y"},
    )
    assert saved.status_code == 302
    assert by_name("Parcel Express").tracking_url == ""
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.target_type == "carriers", AuditEntry.target_id == carrier.id
        )
    ).all()
    assert [e.action for e in entries] == ["carrier.created", "carrier.changed"]
    assert entries[1].before == {"tracking_url": UPS_LIKE} and entries[1].after == {
        "tracking_url": ""
    }
    page = warehouse.get(f"/office/carriers/{carrier.id}").get_data(as_text=True)
    assert "None: its shipments have no tracking link" in page


def test_a_carrier_no_shipment_names_is_deleted(as_user, ctx):
    warehouse = as_user(WAREHOUSE)
    create(warehouse, "Short Lived", UPS_LIKE)
    carrier_id = by_name("Short Lived").id
    page = warehouse.get(f"/office/carriers/{carrier_id}").get_data(as_text=True)
    assert 'hx-confirm="Delete carrier Short Lived?"' in page
    response = warehouse.send("POST", f"/office/carriers/{carrier_id}/delete")
    assert response.status_code == 302
    assert by_name("Short Lived") is None
    assert (
        db.session.scalar(
            select(AuditEntry.action)
            .where(AuditEntry.target_type == "carriers", AuditEntry.target_id == carrier_id)
            .order_by(AuditEntry.id.desc())
        )
        == "carrier.deleted"
    )


def test_a_carrier_shipments_name_is_deactivated_not_deleted(as_user, ctx):
    warehouse = as_user(WAREHOUSE)
    dhl = by_name("DHL Paket")
    used = db.session.scalar(select(func.count(Shipment.id)).where(Shipment.carrier_id == dhl.id))
    assert used > 0
    page = warehouse.get(f"/office/carriers/{dhl.id}").get_data(as_text=True)
    assert "it will be kept and deactivated" in page
    response = warehouse.send("POST", f"/office/carriers/{dhl.id}/delete")
    assert response.status_code == 302
    dhl = by_name("DHL Paket")
    assert dhl is not None and not dhl.is_active
    assert (
        db.session.scalar(select(func.count(Shipment.id)).where(Shipment.carrier_id == dhl.id))
        == used
    )
    # New shipments no longer offer it; old ones keep their carrier and tracking link.
    placed = db.session.scalar(select(Order).where(Order.status == "placed").order_by(Order.id))
    form = warehouse.get(f"/office/orders/{placed.id}/shipments/new").get_data(as_text=True)
    assert ">DHL Paket</option>" not in form and ">UPS</option>" in form
    shipped = db.session.scalar(select(Shipment).where(Shipment.carrier_id == dhl.id))
    note = warehouse.get(f"/office/shipments/{shipped.id}").get_data(as_text=True)
    assert "DHL Paket" in note and "piececode=" in note
    refused = warehouse.send(
        "POST",
        f"/office/orders/{placed.id}/shipments/new",
        data={f"quantity-{placed.lines[0].id}": "1", "carrier": str(dhl.id)},
    )
    assert refused.status_code == 422 and "Choose one of the active carriers." in text_of(refused)


@pytest.mark.parametrize("email", [FINANCE, VIEWER, "anna.sales@portal.test"])
def test_every_staff_preset_sees_carriers_and_only_shippers_change_them(as_user, ctx, email):
    c = as_user(email)
    assert c.get("/office/carriers").status_code == 200
    dhl = by_name("DHL Paket")
    page = c.get(f"/office/carriers/{dhl.id}").get_data(as_text=True)
    assert "Delete carrier" not in page and "Deactivate carrier" not in page
    assert create(c, "Sneaky Freight").status_code == 403
    assert c.send("POST", f"/office/carriers/{dhl.id}/delete").status_code == 403
    assert by_name("Sneaky Freight") is None and by_name("DHL Paket").is_active
    assert as_user("orders@acme.test").get("/office/carriers").status_code == 403


def test_renaming_a_carrier_reaches_the_open_pages_of_shipments_on_their_way(connect, ctx):
    dhl = by_name("DHL Paket")
    on_the_way = db.session.scalar(
        select(Shipment).where(Shipment.carrier_id == dhl.id, Shipment.status == "shipped")
    )
    dm_email = f"orders@{on_the_way.order.company.slug}.test"
    ws = connect(dm_email)
    watch(ws, {f"order-shipments-{on_the_way.order_id}", f"shipment-{on_the_way.id}"})
    time.sleep(0.3)
    carriers.update(
        dhl,
        carriers.CarrierDetails(name="DHL Parcel", tracking_url=dhl.tracking_url),
        actor=db.session.scalar(select(User).where(User.email == WAREHOUSE)),
    )
    db.session.commit()
    pushed = received_text(ws, 1.5)
    assert f'id="order-shipments-{on_the_way.order_id}"' in pushed
    assert f'id="shipment-{on_the_way.id}"' in pushed and "DHL Parcel" in pushed
