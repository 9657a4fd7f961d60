"""Quotes on both faces: asking, answering, counter-offers in turn, a timeline nobody edits,
acceptance into an order at exactly the quoted prices, expiry, scoping and live pushes."""

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, select

from blueprints.filters import money
from core import quotes, transaction
from core.errors import Refused
from core.models import (
    AuditEntry,
    Company,
    Order,
    OutboxMail,
    Product,
    Quote,
    QuoteRound,
    QuoteRoundLine,
    StockMovement,
    User,
)
from extensions import db
from tests.html import find
from tests.integration.test_cart import SECOND, second_dm  # noqa: F401  (fixture)
from tests.records import company, user
from tests.sockets import drain, watch

MCU, CAP, USBC = "MCU-STM32F401", "CAP-1206-10U", "CON-USBC-16P"


# --- helpers --------------------------------------------------------------------------------


def fresh():
    db.session.expire_all()


def product(sku: str) -> Product:
    fresh()
    return db.session.scalar(select(Product).where(Product.sku == sku))


def demo_quote(slug: str, status: str) -> Quote:
    return db.session.scalar(
        select(Quote)
        .join(Company, Company.id == Quote.company_id)
        .where(Company.slug == slug, Quote.status == status)
    )


def quote(quote_id: int) -> Quote:
    fresh()
    return db.session.get(Quote, quote_id)


def latest(quote_id: int) -> int:
    fresh()
    return db.session.scalar(select(func.max(QuoteRound.id)).where(QuoteRound.quote_id == quote_id))


def rounds_snapshot(quote_id: int) -> list[tuple]:
    """Every stored fact of every round and round line of a quote."""
    fresh()
    rows = db.session.scalars(
        select(QuoteRound).where(QuoteRound.quote_id == quote_id).order_by(QuoteRound.id)
    )
    return [
        (
            r.id,
            r.author_id,
            r.side,
            r.action,
            r.note,
            r.valid_until,
            r.created_at,
            tuple((ln.id, ln.product_id, ln.quantity, ln.unit_price) for ln in r.lines),
        )
        for r in rows
    ]


def counts() -> dict:
    fresh()
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Quote, QuoteRound, QuoteRoundLine, Order, StockMovement, AuditEntry)
    }


def mails_to(email: str) -> list[OutboxMail]:
    fresh()
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr == email)))


def ask(c, lines, note="", action="send", **extra):
    data = {"note": note, "action": action, **extra}
    for i, (sku, quantity) in enumerate(lines):
        data[f"lines-{i}-sku"] = sku
        data[f"lines-{i}-quantity"] = str(quantity)
    return c.send("POST", "/shop/quotes/new", data=data)


def price_data(quote_id: int, prices: list, **extra) -> dict:
    found = quote(quote_id)
    data = {"seen": str(latest(quote_id)), "note": "", **extra}
    for i, (line, price) in enumerate(zip(found.lines, prices, strict=True)):
        data[f"lines-{i}-line"] = str(line.id)
        data[f"lines-{i}-unit_price"] = str(price)
    return data


def offer(c, quote_id: int, prices: list, valid_until=None, htmx=True, **extra):
    valid = valid_until or (quotes.today() + timedelta(days=10))
    data = price_data(quote_id, prices, valid_until=str(valid), **extra)
    return c.send("POST", f"/office/quotes/{quote_id}/offer", data=data, htmx=htmx)


def counter(c, quote_id: int, prices: list, htmx=True, **extra):
    data = price_data(quote_id, prices, **extra)
    return c.send("POST", f"/shop/quotes/{quote_id}/counter", data=data, htmx=htmx)


def decide(c, quote_id: int, action: str, htmx=True, face="shop", **extra):
    data = {"seen": str(latest(quote_id)), "note": "", **extra}
    return c.send("POST", f"/{face}/quotes/{quote_id}/{action}", data=data, htmx=htmx)


def new_acme_quote(as_user, lines=((MCU, 150), (CAP, 30))) -> int:
    response = ask(as_user("request@acme.test"), lines, note="For the spring batch")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def text(response) -> str:
    """The visible words of a response, entities decoded."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


# --- asking -------------------------------------------------------------------------------------


def test_a_requester_asks_for_a_quote_and_the_reps_hear_of_it(as_user, ctx):
    before = len(mails_to("anna.sales@portal.test"))
    quote_id = new_acme_quote(as_user)
    found = quote(quote_id)
    assert found.status == "requested" and found.company.slug == "acme"
    assert found.requested_by.email == "request@acme.test"
    assert found.number.startswith("QT-") and found.note == "For the spring batch"
    assert [(ln.product.sku, ln.quantity, ln.unit_price) for ln in found.lines] == [
        (MCU, 150, None),
        (CAP, 30, None),
    ]
    (first,) = found.rounds
    assert (first.side, first.action, first.author.email) == (
        "customer",
        "request",
        found.requested_by.email,
    )
    assert quotes.turn(found) == "staff"
    assert len(mails_to("anna.sales@portal.test")) == before + 1
    assert mails_to("marco.sales@portal.test") == []
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "quote.requested", AuditEntry.target_id == quote_id
        )
    )
    assert entry is not None and entry.actor_email == "request@acme.test"
    page = as_user("request@acme.test").get(f"/shop/quotes/{quote_id}")
    assert page.status_code == 200
    assert "asked for a quote" in text(page) and "The seller's" in text(page)


def test_the_request_form_shows_prices_and_stock_as_the_group_sees_them(as_user):
    acme = ask(as_user("request@acme.test"), [(CAP, 10)], action="check")
    assert acme.status_code == 200
    assert "€0.12" in text(acme) and "36 in stock" in text(acme)
    baltic = ask(as_user("request@baltic.test"), [(CAP, 10)], action="check")
    assert "€0.16" in text(baltic) and "Few" in text(baltic)
    assert "36" not in text(baltic)  # a levels group never sees the count


def test_mistakes_in_a_request_are_shown_per_line_and_lose_nothing(as_user, ctx):
    before = counts()
    response = ask(
        as_user("orders@acme.test"),
        [(MCU, "1.5"), ("NO-SUCH-PART", 3), (MCU.lower(), 4), ("", 7), (CAP, 0)],
        note="Keep me",
    )
    assert response.status_code == 422
    page = text(response)
    assert "Enter a whole number from 1" in page
    assert "No product with SKU NO-SUCH-PART is for sale." in page
    assert "This product is already on another line." in page
    assert "Enter the SKU of the product." in page
    html = response.get_data(as_text=True)
    for kept in ('value="1.5"', 'value="NO-SUCH-PART"', 'value="7"', "Keep me"):
        assert kept in html
    assert counts() == before


def test_an_empty_request_is_refused(as_user, ctx):
    before = counts()
    response = ask(as_user("orders@acme.test"), [])
    assert response.status_code == 422
    assert "Add at least one product with a quantity." in text(response)
    assert counts() == before


def test_archived_products_cannot_be_asked_for(as_user, ctx):
    cap = product(CAP)
    cap.is_archived = True
    db.session.commit()
    response = ask(as_user("orders@acme.test"), [(CAP, 5)])
    assert response.status_code == 422
    assert f"No product with SKU {CAP} is for sale." in text(response)


def test_more_lines_keeps_what_was_typed(as_user):
    response = ask(as_user("orders@acme.test"), [(MCU, 12)], action="more")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="MCU-STM32F401"' in html and 'value="12"' in html
    assert 'name="lines-5-sku"' in html  # five more empty lines


def test_asking_again_copies_the_lines(as_user, ctx):
    expired = demo_quote("baltic", "expired")
    page = as_user("request@baltic.test").get(f"/shop/quotes/new?from={expired.id}")
    html = page.get_data(as_text=True)
    for line in expired.lines:
        assert f'value="{line.product.sku}"' in html and f'value="{line.quantity}"' in html
    assert (
        as_user("request@acme.test").get(f"/shop/quotes/new?from={expired.id}").status_code == 404
    )


# --- whose turn ------------------------------------------------------------------------------


def test_a_negotiation_goes_round_by_round_in_turn_and_ends_in_an_order(as_user, ctx):
    anna, buyer, requester = (
        as_user("anna.sales@portal.test"),
        as_user("orders@acme.test"),
        as_user("request@acme.test"),
    )
    quote_id = new_acme_quote(as_user)
    mcu_stock, cap_stock = product(MCU).stock, product(CAP).stock

    # Requested: the seller's turn. The customer can neither counter nor accept.
    before = counts()
    refused = counter(buyer, quote_id, ["4.00", "0.10"])
    assert refused.status_code == 422 and "seller's turn" in text(refused)
    refused = decide(buyer, quote_id, "accept")
    assert refused.status_code == 422 and "seller's turn" in text(refused)
    assert counts() == before

    # The seller offers: the customer's turn; the seller cannot offer again.
    response = offer(anna, quote_id, ["4.80", "0.1150"], note="Volume price")
    assert response.status_code == 200, text(response)
    assert quote(quote_id).status == "offered" and quotes.turn(quote(quote_id)) == "customer"
    timeline = rounds_snapshot(quote_id)
    refused = offer(anna, quote_id, ["4.70", "0.11"])
    assert refused.status_code == 422 and "customer's turn" in text(refused)
    assert rounds_snapshot(quote_id) == timeline

    # The decision-maker counters: the seller's turn again, the standing prices unchanged.
    response = counter(buyer, quote_id, ["4.50", "0.1000"], note="Could you go lower?")
    assert response.status_code == 200, text(response)
    found = quote(quote_id)
    assert found.status == "countered" and quotes.turn(found) == "staff"
    assert [ln.unit_price for ln in found.lines] == [Decimal("4.80"), Decimal("0.115")]
    assert rounds_snapshot(quote_id)[: len(timeline)] == timeline
    timeline = rounds_snapshot(quote_id)
    refused = decide(buyer, quote_id, "accept")
    assert refused.status_code == 422 and "seller's turn" in text(refused)

    # The seller meets them part-way, with sub-cent prices: the customer's turn.
    response = offer(anna, quote_id, ["4.6875", "0.1125"])
    assert response.status_code == 200, text(response)
    found = quote(quote_id)
    assert found.status == "countered" and quotes.turn(found) == "customer"
    assert rounds_snapshot(quote_id)[: len(timeline)] == timeline
    assert [r.action for r in found.rounds] == ["request", "offer", "counter", "counter"]
    assert [r.side for r in found.rounds] == ["customer", "staff", "customer", "staff"]

    # The requester may not accept; the decision-maker does.
    assert decide(requester, quote_id, "accept").status_code == 403
    timeline = rounds_snapshot(quote_id)
    response = decide(buyer, quote_id, "accept")
    assert response.status_code == 200, text(response)
    assert rounds_snapshot(quote_id)[: len(timeline)] == timeline

    found = quote(quote_id)
    order = found.order
    assert found.status == "accepted" and order is not None and order.quote_id == quote_id
    assert order.company.slug == "acme" and order.placed_by.email == "orders@acme.test"
    lines = {ln.sku: (ln.quantity, ln.unit_price, ln.line_total) for ln in order.lines}
    # 150 x 4.6875 = 703.125 → 703.13; 30 x 0.1125 = 3.375 → 3.38 (half up, to the cent)
    assert lines == {
        MCU: (150, Decimal("4.6875"), Decimal("703.13")),
        CAP: (30, Decimal("0.1125"), Decimal("3.38")),
    }
    assert order.total == Decimal("706.51")
    assert f"Order {order.number} is placed" in text(response) and "€706.51" in text(response)
    assert product(MCU).stock == mcu_stock - 150 and product(CAP).stock == cap_stock - 30
    actions = set(
        db.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.target_type == "quotes", AuditEntry.target_id == quote_id
            )
        )
    )
    assert actions == {"quote.requested", "quote.offered", "quote.countered", "quote.accepted"}

    # Closed: nobody's turn, and nothing more happens.
    before = counts()
    assert decide(buyer, quote_id, "accept").status_code == 422
    assert offer(anna, quote_id, ["1", "1"]).status_code == 422
    assert decide(buyer, quote_id, "withdraw").status_code == 422
    assert counts() == before
    page = text(buyer.get(f"/shop/quotes/{quote_id}"))
    assert "Accepted" in page and order.number in page


def test_the_seller_declines_on_its_turn_only(as_user, ctx):
    quote_id = new_acme_quote(as_user)
    anna = as_user("anna.sales@portal.test")
    response = decide(anna, quote_id, "reject", face="office", note="Not in our range")
    assert response.status_code == 200
    found = quote(quote_id)
    assert found.status == "rejected" and found.rounds[-1].side == "staff"
    assert any("declined" in m.subject for m in mails_to("request@acme.test"))


def test_the_requester_withdraws_whoever_has_the_turn(as_user, ctx):
    quote_id = new_acme_quote(as_user)
    before = len(mails_to("anna.sales@portal.test"))
    response = decide(as_user("request@acme.test"), quote_id, "withdraw", htmx=False)
    assert response.status_code == 302
    assert quote(quote_id).status == "withdrawn"
    assert len(mails_to("anna.sales@portal.test")) == before + 1


def test_a_requester_may_not_reject(as_user, ctx):
    offered = demo_quote("acme", "offered")
    assert decide(as_user("request@acme.test"), offered.id, "reject").status_code == 403
    assert quote(offered.id).status == "offered"


def test_a_decision_maker_rejects_an_offer(as_user, ctx):
    offered = demo_quote("acme", "offered")
    response = decide(as_user("orders@acme.test"), offered.id, "reject", note="Too dear")
    assert response.status_code == 200
    assert quote(offered.id).status == "rejected"
    assert quote(offered.id).rounds[-1].note == "Too dear"


def test_a_counter_offer_must_change_a_price(as_user, ctx):
    offered = demo_quote("acme", "offered")
    before = counts()
    same = [quotes.plain_price(line.unit_price) for line in offered.lines]
    response = counter(as_user("orders@acme.test"), offered.id, same)
    assert response.status_code == 422 and "seller's prices already" in text(response)
    assert counts() == before


def test_a_move_on_a_round_one_has_not_seen_is_refused(as_user, ctx):
    offered = demo_quote("acme", "offered")
    seen = latest(offered.id) - 1
    before = counts()
    response = decide(as_user("orders@acme.test"), offered.id, "accept", seen=str(seen))
    assert response.status_code == 422
    assert "changed while you had it open" in text(response)
    assert counts() == before and quote(offered.id).status == "offered"


# --- the timeline ------------------------------------------------------------------------------


def test_no_route_edits_or_removes_a_round(app):
    for rule in app.url_map.iter_rules():
        if "quote" in rule.endpoint:
            assert not rule.methods & {"PUT", "PATCH", "DELETE"}, rule
            assert "round" not in rule.rule, rule
    quote_posts = {
        r.endpoint
        for r in app.url_map.iter_rules()
        if "quote" in r.endpoint and "POST" in r.methods
    }
    assert quote_posts == {
        "shop.quote_new",
        "shop.quote_counter",
        "shop.quote_accept",
        "shop.quote_reject",
        "shop.quote_withdraw",
        "office.quote_offer",
        "office.quote_reject",
        "office.quote_second_approval",  # appends the acceptance round, in the customer's stead
        "api.quote_request",  # the API asks and accepts through the same services
        "api.quote_accept",
        # a quote's conversation: messages and read markers, never a round
        "shop.quote_message_post",
        "shop.quote_conversation_read",
        "office.quote_message_post",
        "office.quote_conversation_read",
        # a quote mailed to a contact: sending and revoking a link append no round; the
        # link's accept and reject append theirs through the same services
        "office.quote_mail",
        "office.quote_link_revoke",
        "auth.quote_link_accept",
        "auth.quote_link_reject",
        "auth.quote_link_reply",
    }


def test_the_database_layer_refuses_to_change_a_round(ctx):
    first = db.session.scalar(select(QuoteRound).order_by(QuoteRound.id))
    first.note = "rewritten"
    with pytest.raises(quotes.QuoteRoundIsFinal):
        db.session.flush()
    db.session.rollback()
    line = db.session.scalar(select(QuoteRoundLine).where(QuoteRoundLine.unit_price.isnot(None)))
    line.unit_price = Decimal("0.01")
    with pytest.raises(quotes.QuoteRoundIsFinal):
        db.session.flush()
    db.session.rollback()


def test_both_sides_see_the_same_timeline_with_old_and_new_prices(as_user, ctx):
    countered = demo_quote("baltic", "countered")
    shop_page = as_user("orders@baltic.test").get(f"/shop/quotes/{countered.id}")
    office_page = as_user("anna.sales@portal.test").get(f"/office/quotes/{countered.id}")
    for page in (shop_page, office_page):
        region = find(page.get_data(as_text=True), id=f"quote-{countered.id}")
        assert region is not None and "data-live" in region.attrs
        timeline = region.text
        assert "asked for a quote" in timeline and "offered prices" in timeline
        assert "made a counter-offer" in timeline
        assert "Could you go a little lower?" in timeline
    counter_round = countered.rounds[-1]
    offered = {ln.product_id: ln.unit_price for ln in countered.rounds[1].lines}
    for page in (shop_page, office_page):
        step = find(page.get_data(as_text=True), id=f"round-{counter_round.id}").text
        for line in counter_round.lines:
            assert f"{money(offered[line.product_id])} → {money(line.unit_price)}" in step


# --- expiry --------------------------------------------------------------------------------------


def test_an_expired_offer_shows_as_expired_and_cannot_be_accepted(as_user, ctx):
    offered = demo_quote("acme", "offered")
    offered.valid_until = quotes.today() - timedelta(days=1)
    db.session.commit()
    stock = product(MCU).stock
    before = counts()
    buyer = as_user("orders@acme.test")
    page = buyer.get(f"/shop/quotes/{offered.id}")
    assert "Expired" in text(page) and "Accept and order" not in text(page)
    assert "Ask again with the same lines" in text(page)
    response = decide(buyer, offered.id, "accept")
    assert response.status_code == 422
    assert "has expired" in text(response) and "can no longer be accepted" in text(response)
    response = counter(buyer, offered.id, ["1.00"] * len(offered.lines))
    assert response.status_code == 422 and "has expired" in text(response)
    assert counts() == before and product(MCU).stock == stock
    assert quote(offered.id).status == "offered" and quote(offered.id).order_id is None
    listed = as_user("orders@acme.test").get("/shop/quotes?status=expired")
    assert offered.number in text(listed)
    assert offered.number not in text(
        as_user("orders@acme.test").get("/shop/quotes?status=offered")
    )


def test_an_offer_is_still_valid_on_its_last_day(as_user, ctx):
    quote_id = new_acme_quote(as_user)
    assert offer(as_user("anna.sales@portal.test"), quote_id, ["5.00", "0.12"]).status_code == 200
    quote(quote_id).valid_until = quotes.today()
    db.session.commit()
    response = decide(as_user("orders@acme.test"), quote_id, "accept")
    assert response.status_code == 200, text(response)
    assert quote(quote_id).status == "accepted"


def test_the_stored_expired_quote_is_closed(as_user, ctx):
    expired = demo_quote("baltic", "expired")
    before = counts()
    assert decide(as_user("orders@baltic.test"), expired.id, "accept").status_code == 422
    assert (
        offer(as_user("anna.sales@portal.test"), expired.id, ["1"] * len(expired.lines)).status_code
        == 422
    )
    assert counts() == before


# --- who may -------------------------------------------------------------------------------------


def test_standard_group_people_get_403_and_no_quote_screens(as_user, ctx):
    for email in ("orders@carpathia.test", "request@carpathia.test"):
        c = as_user(email)
        assert c.get("/shop/quotes").status_code == 403
        assert c.get("/shop/quotes/new").status_code == 403
        assert ask(c, [(MCU, 10)]).status_code == 403
        assert "/shop/quotes" not in c.get("/shop/").get_data(as_text=True)
    assert "/shop/quotes" in as_user("request@acme.test").get("/shop/").get_data(as_text=True)


def test_another_company_quote_is_not_found_and_nothing_changes(as_user, ctx):
    offered = demo_quote("acme", "offered")
    before, timeline = counts(), rounds_snapshot(offered.id)
    baltic = as_user("orders@baltic.test")
    assert baltic.get(f"/shop/quotes/{offered.id}").status_code == 404
    assert decide(baltic, offered.id, "accept").status_code == 404
    assert counter(baltic, offered.id, ["1"] * len(offered.lines)).status_code == 404
    assert decide(baltic, offered.id, "withdraw").status_code == 404
    assert counts() == before and rounds_snapshot(offered.id) == timeline
    assert offered.number not in text(baltic.get("/shop/quotes"))


def test_a_rep_cannot_answer_an_unassigned_customer_quote(as_user, ctx):
    delft = demo_quote("delft", "offered")
    requested = demo_quote("acme", "requested")
    before = counts()
    anna, marco = as_user("anna.sales@portal.test"), as_user("marco.sales@portal.test")
    assert anna.get(f"/office/quotes/{delft.id}").status_code == 404
    assert marco.get(f"/office/quotes/{requested.id}").status_code == 404
    assert offer(marco, requested.id, ["1"] * len(requested.lines)).status_code == 404
    assert decide(marco, requested.id, "reject", face="office").status_code == 404
    assert counts() == before and quote(requested.id).status == "requested"
    listed = text(anna.get("/office/quotes"))
    assert requested.number in listed and delft.number not in listed
    assert delft.number not in text(anna.get("/office/quotes?q=Delft"))


def test_read_only_staff_see_quotes_but_cannot_answer(as_user, ctx):
    requested = demo_quote("acme", "requested")
    viewer = as_user("viewer@portal.test")
    page = viewer.get(f"/office/quotes/{requested.id}")
    assert page.status_code == 200 and "Send the offer" not in text(page)
    assert offer(viewer, requested.id, ["1"] * len(requested.lines)).status_code == 403


def test_costs_and_margins_only_for_those_who_hold_them(as_user, ctx):
    offered = demo_quote("acme", "offered")
    manager = text(as_user("manager@portal.test").get(f"/office/quotes/{offered.id}"))
    anna = text(as_user("anna.sales@portal.test").get(f"/office/quotes/{offered.id}"))
    assert "Margin" in manager and "Cost" in manager
    assert "Margin" not in anna and "Cost" not in anna
    cost = f"€{offered.lines[0].product.cost:.2f}"
    assert cost not in text(as_user("orders@acme.test").get(f"/shop/quotes/{offered.id}"))


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("0", "must be more than zero"),
        ("-1", "cannot be negative"),
        ("abc", "must be a number"),
        ("1.23456", "at most 4 decimals"),
        ("", "Enter a unit price."),
        ("4,50", "must be a number"),
    ],
)
def test_bad_prices_are_refused_with_a_message_and_kept(as_user, ctx, price, message):
    requested = demo_quote("acme", "requested")
    before = counts()
    prices = [price] + ["1.00"] * (len(requested.lines) - 1)
    response = offer(as_user("anna.sales@portal.test"), requested.id, prices, note="kept note")
    assert response.status_code == 422
    assert message in text(response)
    html = response.get_data(as_text=True)
    assert f'value="{price}"' in html and "kept note" in html
    assert counts() == before and quote(requested.id).status == "requested"


@pytest.mark.parametrize(
    ("valid", "message"),
    [
        ("yesterday", "must be valid until a date in the future"),
        ("today", "must be valid until a date in the future"),
        ("far", "at most 365 days"),
        ("31/12/2030", "Enter a date such as"),
        ("", "Choose the date until which these prices hold."),
    ],
)
def test_bad_validity_dates_are_refused(as_user, ctx, valid, message):
    requested = demo_quote("acme", "requested")
    today = quotes.today()
    value = {
        "yesterday": str(today - timedelta(days=1)),
        "today": str(today),
        "far": str(today + timedelta(days=400)),
    }.get(valid, valid)
    before = counts()
    data = price_data(requested.id, ["1.00"] * len(requested.lines), valid_until=value)
    response = as_user("anna.sales@portal.test").send(
        "POST", f"/office/quotes/{requested.id}/offer", data=data, htmx=True
    )
    assert response.status_code == 422
    assert message in text(response)
    assert counts() == before


def test_a_bad_counter_price_is_refused_without_htmx_too(as_user, ctx):
    offered = demo_quote("acme", "offered")
    before = counts()
    prices = ["0"] + ["1.00"] * (len(offered.lines) - 1)
    response = counter(as_user("orders@acme.test"), offered.id, prices, htmx=False)
    assert response.status_code == 422
    assert "<html" in response.get_data(as_text=True)  # the whole page, with the form kept
    assert "must be more than zero" in text(response)
    assert counts() == before


def test_a_form_for_other_lines_is_refused(as_user, ctx):
    offered = demo_quote("acme", "offered")
    before = counts()
    data = {"seen": str(latest(offered.id)), "lines-0-line": "999999", "lines-0-unit_price": "1"}
    response = as_user("orders@acme.test").send(
        "POST", f"/shop/quotes/{offered.id}/counter", data=data, htmx=True
    )
    assert response.status_code == 422 and "reload the page" in text(response)
    assert counts() == before


def test_a_service_refuses_a_price_the_form_would_have_refused(ctx):
    requested = demo_quote("acme", "requested")
    prices = {line.id: "0" for line in requested.lines}
    with pytest.raises(Refused, match="more than zero"):
        quotes.answer(
            requested.id,
            prices,
            quotes.today() + timedelta(days=5),
            actor=user("anna.sales@portal.test"),
            seen=None,
        )
    db.session.rollback()


# --- orders and stock ----------------------------------------------------------------------------


def test_accepting_without_enough_stock_says_so_without_the_count(as_user, ctx):
    baltic = company("baltic")
    found = quotes.request(baltic, [(product(USBC).id, 25)], actor=user("request@baltic.test"))
    db.session.commit()
    quote_id = found.id
    response = offer(as_user("anna.sales@portal.test"), quote_id, ["0.70"])
    assert response.status_code == 200
    before = counts()
    response = decide(as_user("orders@baltic.test"), quote_id, "accept")
    assert response.status_code == 422
    assert f"Not enough stock of {USBC}" in text(response)
    assert not re.search(r"\b0 (left|in stock)\b", text(response))
    assert counts() == before and quote(quote_id).status == "offered"


def test_simultaneous_moves_give_exactly_one_outcome(app, ctx):
    """Six accepts and a withdrawal at once, from threads with their own connections."""
    quote_id = quotes.request(
        company("acme"), [(product(MCU).id, 10)], actor=user("request@acme.test")
    ).id
    db.session.commit()
    quotes.answer(
        quote_id,
        {quote(quote_id).lines[0].id: "4.50"},
        quotes.today() + timedelta(days=3),
        actor=user("anna.sales@portal.test"),
        seen=None,
    )
    db.session.commit()
    seen, stock = latest(quote_id), product(MCU).stock
    buyer_id, requester_id = user("orders@acme.test").id, user("request@acme.test").id
    start = threading.Barrier(7)

    def move(i):
        with app.app_context():
            start.wait()
            try:
                if i == 6:
                    person = db.session.get(User, requester_id)
                    transaction.committed(
                        lambda: quotes.withdraw(quote_id, actor=person, seen=seen)
                    )
                    return "withdrawn"
                person = db.session.get(User, buyer_id)
                return transaction.committed(
                    lambda: quotes.accept(quote_id, actor=person, seen=seen)
                ).id
            except Refused as exc:
                db.session.rollback()
                return exc
            finally:
                db.session.remove()

    with ThreadPoolExecutor(7) as pool:
        results = list(pool.map(move, range(7)))
    done = [r for r in results if not isinstance(r, Refused)]
    assert len(done) == 1, results
    found = quote(quote_id)
    placed = db.session.scalar(select(func.count(Order.id)).where(Order.quote_id == quote_id))
    if done == ["withdrawn"]:
        assert found.status == "withdrawn" and placed == 0 and product(MCU).stock == stock
    else:
        assert found.status == "accepted" and found.order_id == done[0] and placed == 1
        assert product(MCU).stock == stock - 10
    assert [r.action for r in found.rounds][-1] in ("accept", "withdraw")
    assert len(found.rounds) == 3


# --- notifications -------------------------------------------------------------------------------


def test_answers_reach_the_requester_and_decision_makers_and_moves_reach_the_reps(as_user, ctx):
    quote_id = new_acme_quote(as_user)
    sizes = {
        e: len(mails_to(e)) for e in ("request@acme.test", "orders@acme.test", "browse@acme.test")
    }
    offer(as_user("anna.sales@portal.test"), quote_id, ["5.00", "0.12"])
    assert len(mails_to("request@acme.test")) == sizes["request@acme.test"] + 1
    assert len(mails_to("orders@acme.test")) == sizes["orders@acme.test"] + 1
    assert len(mails_to("browse@acme.test")) == sizes["browse@acme.test"]
    mail = mails_to("orders@acme.test")[-1]
    assert "new prices" in mail.subject and f"/shop/quotes/{quote_id}" in mail.body
    assert f"150 × {MCU} at €5.00 pcs" in mail.body and f"30 × {CAP} at €0.12 pcs" in mail.body
    anna = len(mails_to("anna.sales@portal.test"))
    counter(as_user("orders@acme.test"), quote_id, ["4.90", "0.11"])
    mail = mails_to("anna.sales@portal.test")[-1]
    assert len(mails_to("anna.sales@portal.test")) == anna + 1
    assert "counter-offer" in mail.subject and f"/office/quotes/{quote_id}" in mail.body
    assert f"- 150 × {MCU}: €5.00 → €4.90" in mail.body
    assert f"- 30 × {CAP}: €0.12 → €0.11" in mail.body


# --- lists ---------------------------------------------------------------------------------------


def test_the_office_list_filters_by_whose_turn_and_status(as_user, ctx):
    manager = as_user("manager@portal.test")
    waiting = text(manager.get("/office/quotes?status=seller"))
    assert demo_quote("acme", "requested").number in waiting
    assert demo_quote("baltic", "countered").number in waiting  # the customer countered
    assert demo_quote("acme", "offered").number not in waiting
    customer = text(manager.get("/office/quotes?status=customer"))
    assert demo_quote("acme", "offered").number in customer
    assert demo_quote("delft", "offered").number in customer
    expired = text(manager.get("/office/quotes?status=expired"))
    assert demo_quote("baltic", "expired").number in expired
    assert manager.get("/office/quotes?status=nonsense").status_code == 400
    baltic = text(manager.get("/office/quotes?q=baltic"))
    assert demo_quote("baltic", "countered").number in baltic
    assert demo_quote("acme", "offered").number not in baltic


def test_the_storefront_list_shows_only_the_company_quotes(as_user, ctx):
    listed = as_user("request@acme.test").get("/shop/quotes")
    page = text(listed)
    for status in ("requested", "offered", "accepted"):
        assert demo_quote("acme", status).number in page
    assert demo_quote("baltic", "countered").number not in page
    fragment = as_user("request@acme.test").htmx("/shop/quotes?status=customer")
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and 'id="shop-quotes"' in html
    assert demo_quote("acme", "offered").number in html
    assert demo_quote("acme", "requested").number not in html


def test_the_actions_panel_refreshes_only_when_the_quote_moved(as_user, ctx):
    offered = demo_quote("acme", "offered")
    c = as_user("orders@acme.test")
    current = c.htmx(f"/shop/quotes/{offered.id}?shown={latest(offered.id)}")
    assert current.status_code == 204
    stale = c.htmx(f"/shop/quotes/{offered.id}?shown=1")
    html = stale.get_data(as_text=True)
    assert stale.status_code == 200 and "<html" not in html
    assert f'id="quote-actions-{offered.id}"' in html and "Accept and order" in html


# --- live ----------------------------------------------------------------------------------------


def test_a_new_round_reaches_open_pages_on_both_sides_and_no_one_else(connect, as_user, ctx):
    quote_id = new_acme_quote(as_user)
    regions = {f"quote-{quote_id}", f"quote-actions-{quote_id}", "shop-quotes", "quotes-table"}
    sockets = {}
    for email in (
        "orders@acme.test",
        "request@acme.test",
        "anna.sales@portal.test",
        "manager@portal.test",
        "marco.sales@portal.test",
        "orders@baltic.test",
        "orders@carpathia.test",
        "warehouse@portal.test",
    ):
        sockets[email] = connect(email)
        watch(sockets[email], regions, mode="load")
    # Those who may see the quote get it on load: proof that their watch list is in place.
    for email in ("orders@acme.test", "request@acme.test", "anna.sales@portal.test"):
        assert f'id="quote-{quote_id}"' in "".join(drain(sockets[email], 3.0, expect=1)), email
    time.sleep(0.3)
    for ws in sockets.values():
        drain(ws, 0.05)
    response = offer(as_user("anna.sales@portal.test"), quote_id, ["4.4444", "0.1111"])
    assert response.status_code == 200
    insiders = ("orders@acme.test", "request@acme.test", "anna.sales@portal.test")
    got = {e: "".join(drain(sockets[e], 2.0, expect=1)) for e in (*insiders, "manager@portal.test")}
    time.sleep(0.2)  # every push of this change has been queued by now
    got |= {e: "".join(drain(ws, 0.05)) for e, ws in sockets.items() if e not in got}

    buyer = got["orders@acme.test"]
    assert f'id="quote-{quote_id}"' in buyer and "€4.4444" in buyer and "offered prices" in buyer
    assert f'data-refresh="quote-actions-{quote_id}"' in buyer
    assert "Cost" not in buyer and "Margin" not in buyer
    assert "€4.4444" in got["request@acme.test"]
    assert (
        "€4.4444" in got["anna.sales@portal.test"] and "Margin" not in got["anna.sales@portal.test"]
    )
    assert "Margin" in got["manager@portal.test"]
    for outsider in (
        "marco.sales@portal.test",
        "orders@baltic.test",
        "orders@carpathia.test",
        "warehouse@portal.test",
    ):
        assert f'id="quote-{quote_id}"' not in got[outsider], outsider
        assert "€4.4444" not in got[outsider] and f"quote-actions-{quote_id}" not in got[outsider]
        assert "Acme" not in got[outsider]
    assert 'data-refresh="shop-quotes"' in buyer
    assert 'data-refresh="quotes-table"' in got["anna.sales@portal.test"]
    assert "data-refresh" not in got["orders@carpathia.test"]
    assert "data-refresh" not in got["warehouse@portal.test"]


# --- the company's approval limit ------------------------------------------------------------


@pytest.mark.usefixtures("second_dm")
def test_above_the_approval_limit_a_quote_takes_two_decision_makers(as_user, ctx):
    """Acme's limit is 5,000 EUR: 1,000 at 6.00 needs a second, different decision-maker."""
    anna, buyer, second = (
        as_user("anna.sales@portal.test"),
        as_user("orders@acme.test"),
        as_user(SECOND),
    )
    quote_id = new_acme_quote(as_user, lines=((MCU, 1000),))
    assert offer(anna, quote_id, ["6.00"]).status_code == 200
    stock = product(MCU).stock
    page = text(buyer.get(f"/shop/quotes/{quote_id}"))
    assert "two decision-makers must accept it" in page and "1 of 2" in page

    # The first acceptance is an approval: a round of the timeline, no order, no stock taken.
    orders_before = counts()["Order"]
    response = decide(buyer, quote_id, "accept")
    assert response.status_code == 200, text(response)
    assert "a second decision-maker accepts it" in text(response)
    found = quote(quote_id)
    assert found.status == "offered" and found.order_id is None
    assert [r.action for r in found.rounds] == ["request", "offer", "approve"]
    assert found.rounds[-1].author.email == "orders@acme.test"
    assert counts()["Order"] == orders_before and product(MCU).stock == stock
    assert any("second approval needed (€6,000.00)" in m.subject for m in mails_to(SECOND))
    assert not any("second approval needed" in m.subject for m in mails_to("orders@acme.test"))
    assert "quote.approved" in set(
        db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == quote_id))
    )
    for reader in (buyer, anna):  # both sides see the approval in the timeline
        assert "approved; a second decision-maker must accept" in text(
            reader.get(f"/{'office' if reader is anna else 'shop'}/quotes/{quote_id}")
        )

    # The same person cannot give the second approval.
    before = counts()
    refused = decide(buyer, quote_id, "accept")
    assert refused.status_code == 422 and "You gave the first approval" in text(refused)
    assert counts() == before
    assert "Give the second approval" in text(second.get(f"/shop/quotes/{quote_id}"))

    # A second decision-maker accepts: the order, at the quoted prices, in the first's name.
    response = decide(second, quote_id, "accept")
    assert response.status_code == 200, text(response)
    found = quote(quote_id)
    order = found.order
    assert found.status == "accepted" and order is not None
    assert order.total == Decimal("6000.00") and order.lines[0].unit_price == Decimal("6.00")
    assert order.placed_by.email == "orders@acme.test" and order.approved_by.email == SECOND
    assert [r.action for r in found.rounds] == ["request", "offer", "approve", "accept"]
    assert product(MCU).stock == stock - 1000


@pytest.mark.usefixtures("second_dm")
def test_a_counter_offer_voids_a_first_approval(as_user, ctx):
    anna, buyer, second = (
        as_user("anna.sales@portal.test"),
        as_user("orders@acme.test"),
        as_user(SECOND),
    )
    quote_id = new_acme_quote(as_user, lines=((MCU, 1000),))
    assert offer(anna, quote_id, ["6.00"]).status_code == 200
    assert decide(buyer, quote_id, "accept").status_code == 200  # first approval
    assert counter(second, quote_id, ["5.80"]).status_code == 200
    assert offer(anna, quote_id, ["5.90"]).status_code == 200  # 5,900: still above the limit

    # The earlier approval was for other prices: accepting now is a first approval again.
    response = decide(second, quote_id, "accept")
    assert response.status_code == 200 and quote(quote_id).order_id is None
    assert quotes.first_approval(quote(quote_id)).author.email == SECOND
    assert decide(buyer, quote_id, "accept").status_code == 200
    assert quote(quote_id).status == "accepted" and quote(quote_id).order.total == Decimal(
        "5900.00"
    )


def test_below_the_approval_limit_one_decision_maker_accepts(as_user, ctx):
    anna, buyer = as_user("anna.sales@portal.test"), as_user("orders@acme.test")
    quote_id = new_acme_quote(as_user, lines=((MCU, 100),))
    assert offer(anna, quote_id, ["6.00"]).status_code == 200
    assert "1 of 2" not in text(buyer.get(f"/shop/quotes/{quote_id}"))
    assert decide(buyer, quote_id, "accept").status_code == 200
    assert quote(quote_id).status == "accepted"


def test_a_request_from_an_unassigned_customer_reaches_staff_who_serve_everyone(as_user, ctx):
    """Etna Labs has no sales rep: the request goes to whoever answers quotes for all."""
    response = ask(as_user("request@etna.test"), [(MCU, 10)])
    assert response.status_code == 302, text(response)
    told = {m.to_addr for m in db.session.scalars(select(OutboxMail)) if "Etna" in m.subject}
    # Admin and store manager hold quotes.edit and customers.all; reps serve only their own.
    assert told == {"admin@portal.test", "manager@portal.test"}
