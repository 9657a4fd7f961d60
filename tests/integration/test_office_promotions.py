"""Back-office promotions: the list, creating and changing them, switching, deleting, live."""

import re
import time
from datetime import datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import select, text

from core import promotions as service
from core.models import (
    AuditEntry,
    Category,
    CustomerGroup,
    Product,
    Promotion,
    PromotionGroup,
    User,
    utcnow,
)
from core.offer import offer_for
from extensions import db
from tests.html import find, offer_of
from tests.sockets import drain, watch

ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"
VIEWER = "viewer@portal.test"
WHOLESALE_BUYER = "orders@acme.test"
PARTNER_BUYER = "orders@baltic.test"
STANDARD_BUYER = "browse@carpathia.test"
FORMAT = "%Y-%m-%dT%H:%M"


# Helpers ------------------------------------------------------------------------------


def group_id(name: str) -> int:
    return db.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == name))


def product_id(sku: str) -> int:
    return db.session.scalar(select(Product.id).where(Product.sku == sku))


def category_id(slug: str) -> int:
    return db.session.scalar(select(Category.id).where(Category.slug == slug))


def promotion_named(name: str) -> Promotion | None:
    db.session.rollback()
    return db.session.scalar(select(Promotion).where(Promotion.name == name))


def audit_of(action: str, target: int) -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.target_id == target)
            .order_by(AuditEntry.id)
        )
    )


def snapshot() -> tuple:
    """Every row a promotion route could write, to prove that nothing was written."""
    db.session.rollback()
    queries = (
        "SELECT id, name, description, starts_at, ends_at, is_active FROM promotions ORDER BY id",
        "SELECT promotion_id, product_id FROM promotion_products ORDER BY 1, 2",
        "SELECT promotion_id, category_id FROM promotion_categories ORDER BY 1, 2",
        "SELECT promotion_id, group_id, discount_percent, is_visible FROM promotion_groups"
        " ORDER BY 1, 2",
        "SELECT COUNT(*) FROM audit_log",
    )
    return tuple(tuple(db.session.execute(text(q)).all()) for q in queries)


def form(**changes) -> dict:
    """A valid new promotion: 25% for Partner and 20% for Wholesale on the 10 µF capacitor."""
    now = utcnow()
    data = {
        "name": "Capacitor week",
        "description": "Clearing 1206 stock",
        "starts_at": (now - timedelta(hours=1)).strftime(FORMAT),
        "ends_at": (now + timedelta(days=7)).strftime(FORMAT),
        "skus": "CAP-1206-10U",
        "is_active": "y",
        f"discount_{group_id('Partner')}": "25",
        f"visible_{group_id('Partner')}": "y",
        f"discount_{group_id('Wholesale')}": "20",
        f"visible_{group_id('Wholesale')}": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def edit_form(promotion: Promotion, **changes) -> dict:
    """The promotion's edit form as the page fills it, with some fields changed."""
    data = {
        "name": promotion.name,
        "description": promotion.description,
        "starts_at": promotion.starts_at.strftime(FORMAT),
        "ends_at": promotion.ends_at.strftime(FORMAT),
        "skus": "\n".join(p.sku for p in promotion.products),
        "categories": [c.id for c in promotion.categories],
    }
    for term in promotion.group_terms:
        data[f"discount_{term.group_id}"] = f"{term.discount_percent.normalize():f}"
        if term.is_visible:
            data[f"visible_{term.group_id}"] = "y"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def create(client, **changes):
    return client.send("POST", "/office/promotions/new", data=form(**changes))


def offer_text(email: str, sku: str) -> str:
    html = _as(email).get(f"/shop/?q={sku}").get_data(as_text=True)
    return offer_of(html, sku).text


_clients = {}


def _as(email):
    return _clients[email]


@pytest.fixture(autouse=True)
def _staff_in_utc(app):
    """The staff type and read promotion windows in their own time zone: these tests give
    them UTC, the zone the stored times are in (the seller's is Europe/Berlin), so a time
    typed is the time stored. test_a_window_is_typed_and_read_in_the_persons_zone moves one
    of them to Rome."""
    with app.app_context():
        for person in db.session.scalars(select(User).where(User.email.in_(STAFF))):
            person.timezone = "UTC"
        db.session.commit()


STAFF = (ADMIN, MANAGER, VIEWER)


@pytest.fixture(autouse=True)
def _personas(as_user):
    _clients.clear()
    for email in (ADMIN, MANAGER, VIEWER, WHOLESALE_BUYER, PARTNER_BUYER, STANDARD_BUYER):
        _clients[email] = as_user(email)
    yield
    _clients.clear()


def flashes(html: str) -> str:
    return unescape(" ".join(re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', html, re.S)))


def errors(html: str) -> str:
    found = re.findall(r'<p class="(?:field__error|flash flash--error)"[^>]*>(.*?)</p>', html, re.S)
    return unescape(" ".join(found))


def row_names(html: str) -> list[str]:
    return [
        unescape(name)
        for name in re.findall(r'<tr id="promotion-row-\d+">\s*<td><a [^>]*>([^<]+)</a>', html)
    ]


# The list -----------------------------------------------------------------------------


def test_list_shows_status_coverage_and_each_groups_terms(ctx):
    html = _as(ADMIN).get("/office/promotions").get_data(as_text=True)
    assert row_names(html) == ["Resistor restock week", "MCU spring sale", "Winter sensor deal"]
    assert "3 promotions" in html
    spring = find(html, id=f"promotion-row-{promotion_named('MCU spring sale').id}")
    assert "Running" in spring.text and "1 product" in spring.text
    assert "Partner −5%" in spring.text and "Wholesale −10%" in spring.text
    assert "Standard" not in spring.text  # no term: nothing for Standard
    resistors = find(html, id=f"promotion-row-{promotion_named('Resistor restock week').id}")
    assert "1 category" in resistors.text and "product" not in resistors.text
    winter = find(html, id=f"promotion-row-{promotion_named('Winter sensor deal').id}")
    assert "Ended" in winter.text
    assert 'href="/office/promotions/new"' in html


def test_list_filters_by_status_and_name(ctx):
    admin = _as(ADMIN)
    assert row_names(admin.get("/office/promotions?status=ended").get_data(as_text=True)) == [
        "Winter sensor deal"
    ]
    scheduled = admin.get("/office/promotions?status=scheduled").get_data(as_text=True)
    assert row_names(scheduled) == [] and "No promotion matches these filters" in scheduled
    assert row_names(admin.get("/office/promotions?q=RESISTOR").get_data(as_text=True)) == [
        "Resistor restock week"
    ]
    promotion = promotion_named("MCU spring sale")
    service.switch(promotion, False, actor=None)
    db.session.commit()
    off = admin.get("/office/promotions?status=off").get_data(as_text=True)
    assert row_names(off) == ["MCU spring sale"] and "Switched off" in off
    running = admin.get("/office/promotions?status=running").get_data(as_text=True)
    assert row_names(running) == ["Resistor restock week"]


def test_list_fragment_and_bad_arguments(ctx):
    admin = _as(ADMIN)
    html = admin.htmx("/office/promotions?status=running").get_data(as_text=True)
    assert html.lstrip().startswith('<div id="promotions-table"') and "<html" not in html
    assert "data-live" in html and 'hx-trigger="live:refresh"' in html
    assert admin.get("/office/promotions?status=soon").status_code == 400
    assert admin.get("/office/promotions?page=0").status_code == 400
    assert admin.get("/office/promotions?q=" + "x" * 201).status_code == 400


def test_list_pages_through_many_promotions(ctx):
    partner = db.session.get(CustomerGroup, group_id("Partner"))
    cap = db.session.get(Product, product_id("CAP-1206-10U"))
    now = utcnow()
    for n in range(30):
        service.create(
            name=f"Bulk promotion {n:02d}",
            starts_at=now + timedelta(days=1, minutes=n),
            ends_at=now + timedelta(days=5),
            products=[cap],
            categories=[],
            terms=[service.Term(partner, Decimal("3"))],
            actor=None,
        )
    db.session.commit()
    first = _as(ADMIN).get("/office/promotions?q=bulk").get_data(as_text=True)
    second = _as(ADMIN).get("/office/promotions?q=bulk&page=2").get_data(as_text=True)
    assert len(row_names(first)) == 25 and len(row_names(second)) == 5
    assert "30 promotions" in first and "Page 1 of 2" in first
    assert row_names(first)[0] == "Bulk promotion 29"  # the latest start first
    assert "Scheduled" in first
    assert "There is no page 7" in _as(ADMIN).get("/office/promotions?page=7").get_data(
        as_text=True
    )


def test_empty_list_says_so(ctx):
    # Each table by name: the per-test restore copies back only the tables written to.
    for table in ("promotion_groups", "promotion_products", "promotion_categories", "promotions"):
        db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()
    html = _as(ADMIN).get("/office/promotions").get_data(as_text=True)
    assert "No promotions yet" in html and "Create the first one" in html


# Reading without editing ----------------------------------------------------------------


def test_a_reader_sees_the_promotion_but_no_form_or_buttons(ctx):
    promotion = promotion_named("MCU spring sale")
    listing = _as(VIEWER).get("/office/promotions").get_data(as_text=True)
    assert "New promotion" not in listing
    html = _as(VIEWER).get(f"/office/promotions/{promotion.id}").get_data(as_text=True)
    assert "<form" not in find(html, class_="promo-page").inner_html
    partner = find(html, id=f"term-{group_id('Partner')}")
    assert "5%" in partner.text and "Yes" in partner.text
    assert "Gets nothing" in find(html, id=f"term-{group_id('Standard')}").text
    assert "MCU-STM32F401" in html and "STM32F401 microcontroller" in html
    assert "Delete promotion" not in html and "Switch off" not in html


def test_the_editor_page_is_the_filled_form(ctx):
    promotion = promotion_named("MCU spring sale")
    html = _as(MANAGER).get(f"/office/promotions/{promotion.id}").get_data(as_text=True)
    assert 'name="name"' in html and 'value="MCU spring sale"' in html
    assert f'value="{promotion.starts_at.strftime(FORMAT)}"' in html
    assert "MCU-STM32F401</textarea>" in html
    assert re.search(rf'name="discount_{group_id("Wholesale")}"[^>]*value="10"', html)
    assert "Delete promotion" in html and "Switch off" in html
    assert "1 product in all" in find(html, id="promo-state").text


def test_unknown_promotion_is_404(ctx):
    admin = _as(ADMIN)
    assert admin.get("/office/promotions/999999").status_code == 404
    assert admin.send("POST", "/office/promotions/999999", data=form()).status_code == 404
    assert (
        admin.send("POST", "/office/promotions/999999/switch", data={"on": "0"}).status_code == 404
    )


# Creating -----------------------------------------------------------------------------


def test_creating_a_promotion_changes_the_offers_of_the_groups_given_a_term(ctx):
    response = create(_as(ADMIN))
    created = promotion_named("Capacitor week")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/office/promotions/{created.id}")
    assert [p.sku for p in created.products] == ["CAP-1206-10U"]
    assert created.categories == [] and created.is_active
    terms = {t.group.name: (t.discount_percent, t.is_visible) for t in created.group_terms}
    assert terms == {"Partner": (Decimal("25"), True), "Wholesale": (Decimal("20"), True)}
    [entry] = audit_of("promotion.created", created.id)
    assert entry.actor_email == ADMIN and entry.after["products"] == ["CAP-1206-10U"]
    assert sorted(entry.after["terms"]) == ["Partner: 25% (visible)", "Wholesale: 20% (visible)"]
    page = _as(ADMIN).get(response.headers["Location"]).get_data(as_text=True)
    assert "Promotion “Capacitor week” created." in flashes(page)

    partner = offer_text(PARTNER_BUYER, "CAP-1206-10U")
    assert "€0.12" in partner and "€0.16" in partner and "Capacitor week" in partner  # 0.16 - 25%
    wholesale = offer_text(WHOLESALE_BUYER, "CAP-1206-10U")
    assert "€0.096" in wholesale and "Capacitor week: −20%" in wholesale  # 0.12 - 20%
    standard = offer_text(STANDARD_BUYER, "CAP-1206-10U")
    assert "Capacitor week" not in standard and "€0.18" in standard


def test_a_promotion_may_be_created_switched_off(ctx):
    create(_as(ADMIN), is_active=None)  # the checkbox left unticked
    assert promotion_named("Capacitor week").is_active is False
    assert "Capacitor week" not in offer_text(PARTNER_BUYER, "CAP-1206-10U")


def test_skus_in_any_case_and_separator_are_found_once(ctx):
    create(_as(ADMIN), skus=" cap-1206-10u, MCU-STM32F401;\n\nCAP-1206-10U  con-usbc-16p ")
    created = promotion_named("Capacitor week")
    assert sorted(p.sku for p in created.products) == [
        "CAP-1206-10U",
        "CON-USBC-16P",
        "MCU-STM32F401",
    ]


def test_a_main_category_covers_its_subcategories(ctx):
    response = create(_as(MANAGER), skus="", categories=[category_id("passives")])
    assert response.status_code == 302
    created = promotion_named("Capacitor week")
    slugs = {c.slug for c in created.categories}
    assert {"passives", "capacitors", "resistors", "inductors"} <= slugs
    assert "semiconductors" not in slugs and "microcontrollers" not in slugs
    # The 10 µF capacitor sits in "Capacitors", under "Passive components".
    assert "Capacitor week" in offer_text(PARTNER_BUYER, "CAP-1206-10U")
    assert "Capacitor week" not in offer_text(PARTNER_BUYER, "MCU-STM32F401")
    listing = _as(MANAGER).get("/office/promotions?q=capacitor").get_data(as_text=True)
    covers = find(listing, id=f"promotion-row-{created.id}").text
    assert f"{len(slugs)} categories" in covers


def test_a_hidden_term_is_not_shown_to_its_group(ctx):
    """Standard's and Wholesale's terms are hidden, Partner's is visible."""
    # Standard's policy shows no promotions at all: let it, so only the term hides it.
    standard = db.session.get(CustomerGroup, group_id("Standard"))
    standard.shows_promotions = True
    db.session.commit()
    create(
        _as(ADMIN),
        **{
            f"discount_{group_id('Standard')}": "30",  # its "visible" box left unticked
            f"visible_{group_id('Wholesale')}": None,
        },
    )
    created = promotion_named("Capacitor week")
    terms = {t.group.name: t.is_visible for t in created.group_terms}
    assert terms == {"Partner": True, "Standard": False, "Wholesale": False}
    assert "Capacitor week" in offer_text(PARTNER_BUYER, "CAP-1206-10U")
    assert "Capacitor week" not in offer_text(STANDARD_BUYER, "CAP-1206-10U")
    assert "Capacitor week" not in offer_text(WHOLESALE_BUYER, "CAP-1206-10U")
    listing = _as(ADMIN).get("/office/promotions?q=capacitor").get_data(as_text=True)
    row = find(listing, id=f"promotion-row-{created.id}").text
    assert "Standard −30% · hidden" in row and "Wholesale −20% · hidden" in row
    assert "Partner −25%" in row and "Partner −25% · hidden" not in row

    # Made visible, the same term reaches Standard's catalogue.
    data = edit_form(created, **{f"visible_{group_id('Standard')}": "y"})
    _as(ADMIN).send("POST", f"/office/promotions/{created.id}", data=data)
    assert "Capacitor week: −30%" in offer_text(STANDARD_BUYER, "CAP-1206-10U")


def _skus_over_limit():
    return " ".join(f"X{n}" for n in range(service.MAX_SKUS + 1))


BAD_INPUT = [
    ({"name": ""}, "Give the promotion a name."),
    ({"name": "x" * 121}, "A name has at most 120 characters."),
    ({"description": "x" * 256}, "A description has at most 255 characters."),
    ({"starts_at": "tomorrow"}, "Enter a date and time, such as 2026-05-01 09:00."),
    ({"ends_at": ""}, "Enter when the promotion ends."),
    (
        {
            "starts_at": (utcnow() + timedelta(days=3)).strftime(FORMAT),
            "ends_at": (utcnow() + timedelta(days=2)).strftime(FORMAT),
        },
        "The promotion must end after it starts.",
    ),
    (
        {
            "starts_at": (utcnow() - timedelta(days=9)).strftime(FORMAT),
            "ends_at": (utcnow() - timedelta(days=2)).strftime(FORMAT),
        },
        "This window is already over: choose an end in the future.",
    ),
    ({"skus": ""}, "Choose at least one product or category."),
    (
        {"skus": "nope-1 CAP-1206-10U NOPE-2"},
        "No product has these SKUs: NOPE-1, NOPE-2. Check them, or remove them.",
    ),
    ({"skus": "MISSING"}, "No product has this SKU: MISSING."),
    ({"skus": _skus_over_limit()}, "give at most 2,000 products"),
    ({"categories": "999999"}, "Choose categories from the list."),
    ({"categories": "music"}, "Choose categories from the list."),
    (
        {"discount_GP": "", "discount_GW": ""},
        "Give at least one customer group a discount.",
    ),
    ({"discount_GP": "0"}, "The discount for Partner must be more than 0 and less than 100"),
    ({"discount_GP": "100"}, "The discount for Partner must be more than 0 and less than 100"),
    ({"discount_GP": "12.345"}, "The discount for Partner has at most two decimals."),
    ({"discount_GP": "-5"}, "The discount for Partner must be a number of percent"),
    ({"discount_GW": "ten"}, "The discount for Wholesale must be a number of percent"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_INPUT, ids=[m[:40] for _, m in BAD_INPUT])
def test_bad_input_is_explained_and_nothing_is_written(ctx, changes, message):
    groups = {"GP": group_id("Partner"), "GW": group_id("Wholesale")}
    changes = {
        re.sub(r"_(GP|GW)$", lambda m: f"_{groups[m.group(1)]}", key): value
        for key, value in changes.items()
    }
    before = snapshot()
    response = create(_as(ADMIN), **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in errors(html), errors(html)
    assert "Nothing was saved" in html
    assert snapshot() == before
    # What was typed is kept, so the person corrects rather than retypes.
    if "description" not in changes:
        assert "Clearing 1206 stock</textarea>" in html
    if f"discount_{groups['GP']}" not in changes:
        assert re.search(rf'name="discount_{groups["GP"]}"[^>]*value="25"', html)


def test_two_mistakes_are_reported_together(ctx):
    before = snapshot()
    html = create(
        _as(ADMIN), name="", skus="NOPE", **{f"discount_{group_id('Partner')}": "250"}
    ).get_data(as_text=True)
    found = errors(html)
    assert "Give the promotion a name." in found
    assert "No product has this SKU: NOPE." in found
    assert "The discount for Partner must be more than 0" in found
    assert snapshot() == before


def test_the_new_form_starts_with_a_week_from_now(ctx):
    html = _as(ADMIN).get("/office/promotions/new").get_data(as_text=True)
    now = utcnow()
    starts = re.search(r'name="starts_at"[^>]*value="([^"]+)"', html).group(1)
    ends = re.search(r'name="ends_at"[^>]*value="([^"]+)"', html).group(1)
    assert starts[:13] in {
        now.strftime(FORMAT)[:13],
        (now - timedelta(minutes=1)).strftime(FORMAT)[:13],
    }
    assert ends[:10] == (now + timedelta(days=7)).strftime(FORMAT)[:10]
    assert "Starts (UTC)" in html and "Ends (UTC)" in html and 'type="datetime-local"' in html
    assert (
        "This group's policy shows no promotions"
        in find(html, id=f"term-{group_id('Standard')}").text
    )


# Changing -----------------------------------------------------------------------------


def test_editing_changes_terms_and_window_and_audits_only_what_changed(ctx):
    promotion = promotion_named("MCU spring sale")
    new_end = (promotion.ends_at + timedelta(days=10)).replace(second=0, microsecond=0)
    data = edit_form(
        promotion,
        ends_at=new_end.strftime(FORMAT),
        **{f"discount_{group_id('Wholesale')}": "15.5"},
    )
    response = _as(MANAGER).send("POST", f"/office/promotions/{promotion.id}", data=data)
    assert response.status_code == 302
    promotion = promotion_named("MCU spring sale")
    assert promotion.ends_at == new_end
    wholesale = next(t for t in promotion.group_terms if t.group.name == "Wholesale")
    assert wholesale.discount_percent == Decimal("15.50")
    [entry] = audit_of("promotion.changed", promotion.id)
    assert set(entry.before) == {"ends", "terms"} == set(entry.after)
    assert "Wholesale: 15.5% (visible)" in entry.after["terms"]
    assert "Promotion saved." in flashes(
        _as(MANAGER).get(response.headers["Location"]).get_data(as_text=True)
    )
    assert "€4.394" in offer_text(WHOLESALE_BUYER, "MCU-STM32F401")  # 5.20 - 15.5%


def test_saving_unchanged_writes_nothing(ctx):
    promotion = promotion_named("MCU spring sale")
    before = snapshot()
    response = _as(ADMIN).send(
        "POST", f"/office/promotions/{promotion.id}", data=edit_form(promotion)
    )
    assert response.status_code == 302
    assert snapshot() == before
    assert "Nothing to change." in flashes(
        _as(ADMIN).get(response.headers["Location"]).get_data(as_text=True)
    )


def test_an_edit_with_bad_input_keeps_the_promotion_as_it_was(ctx):
    promotion = promotion_named("MCU spring sale")
    before = snapshot()
    data = edit_form(
        promotion,
        name="Renamed",
        ends_at=(promotion.starts_at - timedelta(days=1)).strftime(FORMAT),
    )
    response = _as(ADMIN).send("POST", f"/office/promotions/{promotion.id}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The promotion must end after it starts." in errors(html)
    assert 'value="Renamed"' in html  # kept on screen, not saved
    assert snapshot() == before


def test_a_window_is_typed_and_read_in_the_persons_zone(ctx):
    """Midnight of 1 July typed in Rome (summer time, UTC+2) is stored as 22:00 UTC the day
    before, is midnight again on the form, and opens the discount at that very moment."""
    manager = db.session.scalar(select(User).where(User.email == MANAGER))
    manager.timezone = "Europe/Rome"
    db.session.commit()
    response = create(
        _as(MANAGER),
        name="Roman midsummer",
        starts_at="2026-07-01T00:00",
        ends_at="2030-01-01T00:00",
    )
    assert response.status_code == 302
    promotion = promotion_named("Roman midsummer")
    assert promotion.starts_at == datetime(2026, 6, 30, 22, 0)
    assert promotion.ends_at == datetime(2029, 12, 31, 23, 0)  # winter time: UTC+1

    html = _as(MANAGER).get(f"/office/promotions/{promotion.id}").get_data(as_text=True)
    assert re.search(r'name="starts_at"[^>]*value="2026-07-01T00:00"', html)
    assert re.search(r'name="ends_at"[^>]*value="2030-01-01T00:00"', html)
    assert "Starts (Europe/Rome)" in html and "Ends (Europe/Rome)" in html
    # Posted back as shown, the window stays where it is.
    response = _as(MANAGER).send(
        "POST",
        f"/office/promotions/{promotion.id}",
        data=edit_form(promotion, starts_at="2026-07-01T00:00", ends_at="2030-01-01T00:00"),
    )
    assert response.status_code == 302
    assert "Nothing to change." in flashes(
        _as(MANAGER).get(response.headers["Location"]).get_data(as_text=True)
    )
    # Someone in UTC sees the same moment in their zone.
    admin_html = _as(ADMIN).get(f"/office/promotions/{promotion.id}").get_data(as_text=True)
    assert re.search(r'name="starts_at"[^>]*value="2026-06-30T22:00"', admin_html)

    # The offer compares the stored window with UTC: the discount opens at 22:00 UTC.
    partner = db.session.get(CustomerGroup, group_id("Partner"))
    cap = db.session.get(Product, product_id("CAP-1206-10U"))
    promotion = promotion_named("Roman midsummer")
    before = datetime(2026, 6, 30, 21, 59)
    at_start = datetime(2026, 6, 30, 22, 0)
    assert service.status_of(promotion, before) == "scheduled"
    assert service.status_of(promotion, at_start) == "running"
    earlier = offer_for(partner, cap, at=before).promotion
    assert earlier is None or earlier.promotion_id != promotion.id
    assert offer_for(partner, cap, at=at_start).promotion.promotion_id == promotion.id
    assert service.status_of(promotion) == "running"  # now, by utcnow()


def test_an_ended_promotion_can_still_be_edited(ctx):
    promotion = promotion_named("Winter sensor deal")
    response = _as(ADMIN).send(
        "POST",
        f"/office/promotions/{promotion.id}",
        data=edit_form(promotion, description="Ran last winter"),
    )
    assert response.status_code == 302
    assert promotion_named("Winter sensor deal").description == "Ran last winter"


def test_switching_off_and_on(ctx):
    promotion = promotion_named("MCU spring sale")
    url = f"/office/promotions/{promotion.id}/switch"
    response = _as(MANAGER).send("POST", url, data={"on": "0"})
    assert response.status_code == 302
    assert promotion_named("MCU spring sale").is_active is False
    wholesale = offer_text(WHOLESALE_BUYER, "MCU-STM32F401")
    assert "MCU spring sale" not in wholesale and "€5.20" in wholesale
    page = _as(MANAGER).get(response.headers["Location"]).get_data(as_text=True)
    assert "“MCU spring sale” is switched off." in flashes(page) and "Switch on" in page
    assert "Switched off" in find(page, id="promo-state").text

    again = _as(MANAGER).send("POST", url, data={"on": "0"})
    assert "was already switched off" in flashes(
        _as(MANAGER).get(again.headers["Location"]).get_data(as_text=True)
    )
    _as(MANAGER).send("POST", url, data={"on": "1"})
    assert "€4.68" in offer_text(WHOLESALE_BUYER, "MCU-STM32F401")  # 5.20 - 10%
    entries = audit_of("promotion.switched", promotion.id)
    assert [e.after for e in entries] == [{"switched_on": False}, {"switched_on": True}]


def test_a_switch_without_a_choice_is_refused(ctx):
    promotion = promotion_named("MCU spring sale")
    before = snapshot()
    response = _as(ADMIN).send(
        "POST", f"/office/promotions/{promotion.id}/switch", data={"on": "maybe"}
    )
    assert response.status_code == 400
    assert "Choose whether to switch the promotion on or off." in response.get_data(as_text=True)
    assert snapshot() == before


def test_deleting_asks_first_and_removes_the_discount(ctx):
    promotion = promotion_named("MCU spring sale")
    pid = promotion.id
    page = _as(MANAGER).get(f"/office/promotions/{pid}").get_data(as_text=True)
    assert 'hx-confirm="Delete the promotion “MCU spring sale”? This cannot be undone."' in page
    response = _as(MANAGER).send("POST", f"/office/promotions/{pid}/delete", htmx=True)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/office/promotions"
    assert promotion_named("MCU spring sale") is None
    assert (
        db.session.scalar(select(PromotionGroup).where(PromotionGroup.promotion_id == pid)) is None
    )
    [entry] = audit_of("promotion.deleted", pid)
    assert entry.before["name"] == "MCU spring sale" and entry.before["products"] == [
        "MCU-STM32F401"
    ]
    listing = _as(MANAGER).get("/office/promotions").get_data(as_text=True)
    assert "Promotion “MCU spring sale” deleted." in flashes(listing)
    assert "MCU spring sale" not in offer_text(WHOLESALE_BUYER, "MCU-STM32F401")
    assert _as(MANAGER).get(f"/office/promotions/{pid}").status_code == 404


def test_readers_cannot_change_anything(ctx):
    promotion = promotion_named("MCU spring sale")
    before = snapshot()
    viewer = _as(VIEWER)
    assert viewer.send("POST", "/office/promotions/new", data=form()).status_code == 403
    assert (
        viewer.send(
            "POST", f"/office/promotions/{promotion.id}", data=edit_form(promotion)
        ).status_code
        == 403
    )
    assert (
        viewer.send(
            "POST", f"/office/promotions/{promotion.id}/switch", data={"on": "0"}
        ).status_code
        == 403
    )
    assert viewer.send("POST", f"/office/promotions/{promotion.id}/delete").status_code == 403
    assert snapshot() == before


# Live ---------------------------------------------------------------------------------


def test_an_edit_reaches_open_offers_including_those_that_left(connect, ctx):
    promotion = promotion_named("MCU spring sale")
    mcu, cap = product_id("MCU-STM32F401"), product_id("CAP-1206-10U")
    wholesale = connect(WHOLESALE_BUYER)
    watch(wholesale, {f"offer-{mcu}", f"offer-{cap}"})
    staff = connect(MANAGER)
    watch(staff, {"promotions-table"})
    time.sleep(0.2)
    # The promotion moves from the microcontroller to the capacitor.
    data = edit_form(promotion, skus="CAP-1206-10U")
    assert (
        _as(ADMIN).send("POST", f"/office/promotions/{promotion.id}", data=data).status_code == 302
    )
    pushed = "".join(drain(wholesale, 2.0, expect=2))
    cap_offer, mcu_offer = (
        find(pushed, id=f"offer-{cap}").text,
        find(pushed, id=f"offer-{mcu}").text,
    )
    assert "MCU spring sale" in cap_offer and "€0.108" in cap_offer  # 0.12 - 10%
    assert "MCU spring sale" not in mcu_offer and "€5.20" in mcu_offer
    assert 'data-refresh="promotions-table"' in "".join(drain(staff, 2.0, expect=1))


def test_a_new_promotion_starts_on_time_in_open_catalogues(app, connect, ctx):
    cap = product_id("CAP-1206-10U")
    partner = connect(PARTNER_BUYER)
    watch(partner, {f"offer-{cap}"})
    time.sleep(0.2)
    since = utcnow()
    starts = (since + timedelta(seconds=2)).replace(microsecond=0)
    response = create(
        _as(ADMIN),
        starts_at=starts.strftime("%Y-%m-%dT%H:%M:%S"),
        ends_at=(starts + timedelta(days=1)).strftime(FORMAT),
    )
    assert response.status_code == 302
    scheduled = "".join(drain(partner, 1.0))
    assert "Capacitor week" not in scheduled  # saved, not started: the offer is unchanged
    time.sleep(max(0.0, (starts - utcnow()).total_seconds()) + 0.2)
    app.extensions["live_hub"].tick(since)  # the clock notices the start
    started = "".join(drain(partner, 2.0, expect=1))
    assert "Capacitor week" in started and "€0.12" in started  # 0.16 - 25%
