"""Quantity breaks, minimum order quantity and pack size in the offer function, on tables.

The demo's MCU-STM32F401: base 6.40 with base breaks 10: 6.10, 100: 5.80, 1000: 5.40;
Wholesale 5.20 with its own breaks 10: 5.00, 100: 4.80 and a 10 % promotion; Partner 6.00
with no breaks of its own (its own price: the base breaks do not apply) and 5 %; Standard
pays the base list, breaks included, without promotions.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from core.offer import GroupPolicy, PromotionTerm, check_quantity, compute_offer

AT = datetime(2026, 11, 23, 12, 0)
WHOLESALE = GroupPolicy(1, shows_promotions=True, stock_display="exact", few_from=1, many_from=50)
PARTNER = GroupPolicy(2, shows_promotions=True, stock_display="levels", few_from=1, many_from=50)
STANDARD = GroupPolicy(3, shows_promotions=False, stock_display="levels", few_from=1, many_from=50)

BASE_BREAKS = [(10, Decimal("6.10")), (100, Decimal("5.80")), (1000, Decimal("5.40"))]
OWN = {1: ("5.20", [(100, Decimal("4.80")), (10, Decimal("5.00"))]), 2: ("6.00", [])}
DISCOUNT = {1: Decimal("10"), 2: Decimal("5")}


def mcu(policy: GroupPolicy, **rules):
    price, breaks = OWN.get(policy.group_id, (None, []))
    discount = DISCOUNT.get(policy.group_id)
    promotions = (
        [PromotionTerm(1, "MCU spring sale", discount, AT + timedelta(days=30), AT - timedelta(1))]
        if discount
        else []
    )
    return compute_offer(
        policy,
        product_id=1,
        sku="MCU-STM32F401",
        base_price=Decimal("6.40"),
        stock=4217,
        group_price=Decimal(price) if price else None,
        promotions=promotions,
        at=AT,
        base_breaks=BASE_BREAKS,
        group_breaks=breaks,
        **rules,
    )


@pytest.mark.parametrize(
    ("policy", "quantity", "price", "list_price"),
    [
        # Wholesale: its own breaks (sorted, whatever order they came in), 10 % off each.
        (WHOLESALE, 1, "4.68", "5.20"),
        (WHOLESALE, 9, "4.68", "5.20"),
        (WHOLESALE, 10, "4.50", "5.00"),
        (WHOLESALE, 11, "4.50", "5.00"),
        (WHOLESALE, 99, "4.50", "5.00"),
        (WHOLESALE, 100, "4.32", "4.80"),
        (WHOLESALE, 5000, "4.32", "4.80"),  # the base list's 1000 is not Wholesale's
        # Partner: its own price and no breaks of its own, so none at all.
        (PARTNER, 1, "5.70", "6.00"),
        (PARTNER, 10, "5.70", "6.00"),
        (PARTNER, 1000, "5.70", "6.00"),
        # Standard: the base list, breaks included, no promotion.
        (STANDARD, 9, "6.40", "6.40"),
        (STANDARD, 10, "6.10", "6.10"),
        (STANDARD, 99, "6.10", "6.10"),
        (STANDARD, 100, "5.80", "5.80"),
        (STANDARD, 999, "5.80", "5.80"),
        (STANDARD, 1000, "5.40", "5.40"),
    ],
)
def test_the_break_a_quantity_reaches_gives_the_unit_price(policy, quantity, price, list_price):
    offer = mcu(policy)
    line = offer.at(quantity)
    assert line.price == Decimal(price) and line.list_price == Decimal(list_price)
    assert line.quantity == quantity
    # The offer of one unit is unchanged by asking for a line.
    assert line.single == offer.single == offer.at(1).single
    assert offer.at(1).price == offer.price


@pytest.mark.parametrize(
    ("policy", "shown"),
    [
        (WHOLESALE, [(10, "4.50", "5.00"), (100, "4.32", "4.80")]),
        (PARTNER, []),
        (STANDARD, [(10, "6.10", "6.10"), (100, "5.80", "5.80"), (1000, "5.40", "5.40")]),
    ],
)
def test_the_offer_shows_the_breaks_as_the_group_sees_them(policy, shown):
    offer = mcu(policy)
    assert [(t.min_quantity, str(t.price), str(t.list_price)) for t in offer.breaks] == [
        (q, f"{Decimal(p):.4f}", f"{Decimal(lp):.4f}") for q, p, lp in shown
    ]


def test_a_promotion_applies_to_each_break_rounded_like_the_unit_price():
    offer = compute_offer(
        WHOLESALE,
        product_id=2,
        sku="X",
        base_price=Decimal("1.00"),
        stock=10,
        group_price=Decimal("0.0125"),
        promotions=[PromotionTerm(1, "p", Decimal("7"), AT + timedelta(1), AT - timedelta(1))],
        at=AT,
        group_breaks=[(50, Decimal("0.0111"))],
    )
    assert offer.price == Decimal("0.0116")  # 0.011625 half-up
    assert offer.at(50).price == Decimal("0.0103")  # 0.010323


def test_a_group_without_promotions_pays_the_break_as_listed():
    offer = mcu(STANDARD)
    assert offer.promotion is None and offer.at(100).price == Decimal("5.80")


def test_breaks_below_two_units_are_ignored():
    offer = compute_offer(
        STANDARD,
        product_id=3,
        sku="Y",
        base_price=Decimal("2.00"),
        stock=1,
        group_price=None,
        at=AT,
        base_breaks=[(1, Decimal("1.00")), (5, Decimal("1.50"))],
    )
    assert [t.min_quantity for t in offer.breaks] == [5]
    assert offer.at(1).price == Decimal("2.0000")


def test_tiers_start_at_the_minimum():
    offer = mcu(STANDARD, min_quantity=100, order_multiple=50)
    assert offer.has_rules
    assert [(t.min_quantity, t.price) for t in offer.tiers] == [
        (100, Decimal("5.8000")),
        (1000, Decimal("5.4000")),
    ]
    assert mcu(STANDARD).tiers[0].min_quantity == 1 and not mcu(STANDARD).has_rules


def rules(minimum: int, multiple: int):
    return SimpleNamespace(sku="CAP-1206-10U", min_quantity=minimum, order_multiple=multiple)


@pytest.mark.parametrize(
    ("minimum", "multiple", "quantity", "refused"),
    [
        (1, 1, 1, None),
        (1, 1, 7, None),
        (10, 10, 10, None),
        (10, 10, 20, None),
        (10, 10, 1000, None),
        (10, 10, 9, "sold from 10 units, in packs of 10: order at least 10"),
        (10, 10, 1, "sold from 10 units, in packs of 10: order at least 10"),
        (10, 10, 15, "packs of 10: order 10 or 20 instead of 15"),
        (10, 1, 9, "sold from 10 units: order at least 10"),
        (10, 1, 11, None),
        (1, 5, 3, "packs of 5: order 5 instead of 3"),
        (1, 5, 12, "packs of 5: order 10 or 15 instead of 12"),
        (20, 5, 25, None),
        (20, 5, 22, "packs of 5: order 20 or 25 instead of 22"),
        (1000, 250, 1250, None),
        (1000, 250, 1100, "order 1,000 or 1,250 instead of 1,100"),
    ],
)
def test_check_quantity(in_request, minimum, multiple, quantity, refused):
    message = check_quantity(rules(minimum, multiple), quantity)
    if refused is None:
        assert message is None
    else:
        assert message is not None
        text = str(message)
        assert refused in text and text.startswith("CAP-1206-10U")


def test_an_offer_carries_the_rules_check_quantity_reads(in_request):
    offer = mcu(STANDARD, min_quantity=10, order_multiple=10)
    assert offer.min_quantity == 10 and offer.order_multiple == 10
    assert check_quantity(offer, 10) is None
    assert "order at least 10" in str(check_quantity(offer, 5))
