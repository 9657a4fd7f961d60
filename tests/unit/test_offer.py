"""The offer function on tables of cases, the demo's exact rows first."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from core.offer import GroupPolicy, PromotionTerm, compute_offer, promoted_price, stock_view

AT = datetime(2026, 11, 23, 12, 0)
WHOLESALE = GroupPolicy(1, shows_promotions=True, stock_display="exact", few_from=1, many_from=50)
PARTNER = GroupPolicy(2, shows_promotions=True, stock_display="levels", few_from=1, many_from=50)
STANDARD = GroupPolicy(3, shows_promotions=False, stock_display="levels", few_from=1, many_from=50)

SPRING = {
    1: PromotionTerm(
        1, "MCU spring sale", Decimal("10"), AT + timedelta(days=30), AT - timedelta(days=5)
    ),
    2: PromotionTerm(
        1, "MCU spring sale", Decimal("5"), AT + timedelta(days=30), AT - timedelta(days=5)
    ),
}

# sku, base, {group: group price}, stock, promotion per group
EXACT_ROWS = {
    "MCU-STM32F401": ("6.40", {1: "5.20", 2: "6.00"}, 4217, SPRING),
    "CAP-1206-10U": ("0.18", {1: "0.12", 2: "0.16"}, 36, {}),
    "CON-USBC-16P": ("0.95", {1: "0.80", 2: "0.90"}, 0, {}),
}


def offer(policy, sku):
    base, prices, stock, promos = EXACT_ROWS[sku]
    group_price = prices.get(policy.group_id)
    promo = promos.get(policy.group_id)
    return compute_offer(
        policy,
        product_id=1,
        sku=sku,
        base_price=Decimal(base),
        stock=stock,
        group_price=Decimal(group_price) if group_price else None,
        promotions=[promo] if promo else [],
        at=AT,
    )


@pytest.mark.parametrize(
    ("policy", "sku", "price", "list_price", "promotion", "discount", "stock_label", "exact"),
    [
        (
            WHOLESALE,
            "MCU-STM32F401",
            "4.68",
            "5.20",
            "MCU spring sale",
            "10",
            "4,217 in stock",
            4217,
        ),
        (PARTNER, "MCU-STM32F401", "5.70", "6.00", "MCU spring sale", "5", "Many", None),
        (STANDARD, "MCU-STM32F401", "6.40", "6.40", None, None, "Many", None),
        (WHOLESALE, "CAP-1206-10U", "0.12", "0.12", None, None, "36 in stock", 36),
        (PARTNER, "CAP-1206-10U", "0.16", "0.16", None, None, "Few", None),
        (STANDARD, "CAP-1206-10U", "0.18", "0.18", None, None, "Few", None),
        (WHOLESALE, "CON-USBC-16P", "0.80", "0.80", None, None, "Out of stock", 0),
        (PARTNER, "CON-USBC-16P", "0.90", "0.90", None, None, "Out of stock", None),
        (STANDARD, "CON-USBC-16P", "0.95", "0.95", None, None, "Out of stock", None),
    ],
)
def test_exact_demo_rows(policy, sku, price, list_price, promotion, discount, stock_label, exact):
    result = offer(policy, sku)
    assert result.price == Decimal(price)
    assert result.list_price == Decimal(list_price)
    assert result.stock.label == stock_label
    assert result.stock.exact == exact
    if promotion:
        assert result.promotion.name == promotion
        assert result.promotion.discount_percent == Decimal(discount)
    else:
        assert result.promotion is None


def test_standard_never_sees_a_promotion_even_when_one_is_passed():
    result = compute_offer(
        STANDARD,
        product_id=1,
        sku="X",
        base_price=Decimal("6.40"),
        stock=5,
        group_price=None,
        promotions=[SPRING[1]],
        at=AT,
    )
    assert result.promotion is None
    assert result.price == Decimal("6.40")
    assert result.price_source == "base"


@pytest.mark.parametrize(
    ("policy", "stock", "level", "label"),
    [
        (PARTNER, 0, "out", "Out of stock"),
        (PARTNER, 1, "few", "Few"),
        (PARTNER, 49, "few", "Few"),
        (PARTNER, 50, "many", "Many"),
        (PARTNER, 100000, "many", "Many"),
        (GroupPolicy(9, False, "levels", few_from=5, many_from=100), 4, "out", "Out of stock"),
        (GroupPolicy(9, False, "levels", few_from=5, many_from=100), 5, "few", "Few"),
        (GroupPolicy(9, False, "levels", few_from=5, many_from=100), 99, "few", "Few"),
        (GroupPolicy(9, False, "levels", few_from=5, many_from=100), 100, "many", "Many"),
        (WHOLESALE, 0, "out", "Out of stock"),
        (WHOLESALE, 1, "few", "1 in stock"),
        (WHOLESALE, 50, "many", "50 in stock"),
    ],
)
def test_stock_levels_and_thresholds(policy, stock, level, label):
    view = stock_view(policy, stock)
    assert view.level == level
    assert view.label == label


@pytest.mark.parametrize("stock", [0, 1, 7, 36, 49, 50, 4217])
def test_levels_never_carry_the_count(stock):
    view = stock_view(PARTNER, stock)
    assert view.exact is None
    assert not any(ch.isdigit() for ch in view.label)


@pytest.mark.parametrize(
    ("starts", "ends", "applies"),
    [
        (AT - timedelta(days=1), AT + timedelta(days=1), True),
        (AT, AT + timedelta(days=1), True),  # starts exactly now
        (AT - timedelta(days=1), AT, False),  # ended exactly now
        (AT + timedelta(seconds=1), AT + timedelta(days=1), False),  # not yet
        (AT - timedelta(days=9), AT - timedelta(days=1), False),  # over
    ],
)
def test_promotion_window(starts, ends, applies):
    term = PromotionTerm(7, "Window", Decimal("10"), ends, starts)
    result = compute_offer(
        PARTNER,
        product_id=1,
        sku="X",
        base_price=Decimal("10"),
        stock=5,
        group_price=None,
        promotions=[term],
        at=AT,
    )
    assert (result.promotion is not None) is applies
    assert result.price == (Decimal("9.0000") if applies else Decimal("10"))


def test_best_promotion_wins():
    terms = [
        PromotionTerm(1, "Small", Decimal("3"), AT + timedelta(days=1), AT - timedelta(days=1)),
        PromotionTerm(2, "Big", Decimal("12.5"), AT + timedelta(days=1), AT - timedelta(days=1)),
    ]
    result = compute_offer(
        WHOLESALE,
        product_id=1,
        sku="X",
        base_price=Decimal("2"),
        stock=5,
        group_price=Decimal("1.00"),
        promotions=terms,
        at=AT,
    )
    assert result.promotion.name == "Big"
    assert result.price == Decimal("0.8750")
    assert result.list_price == Decimal("1.00")
    assert result.price_source == "group"


@pytest.mark.parametrize(
    ("price", "discount", "expected"),
    [
        ("5.20", "10", "4.6800"),
        ("6.00", "5", "5.7000"),
        ("0.12", "10", "0.1080"),
        ("0.0125", "7", "0.0116"),
        ("0.0125", "6", "0.0118"),  # 0.01175 rounds half up
        ("100", "33.33", "66.6700"),
    ],
)
def test_promoted_price_rounding(price, discount, expected):
    assert promoted_price(Decimal(price), Decimal(discount)) == Decimal(expected)


def test_money_filter_formats():
    from blueprints.filters import money, percent

    assert money(Decimal("4.68")) == "€4.68"
    assert money(Decimal("0.1080")) == "€0.108"
    assert money(Decimal("1234.5")) == "€1,234.50"
    assert money(Decimal("0.0116")) == "€0.0116"
    assert money(None) == "—"
    assert percent(Decimal("10.00")) == "10%"
    assert percent(Decimal("12.50")) == "12.5%"
