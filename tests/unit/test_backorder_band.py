"""The band rule: what a view of stock promises for a quantity (core.offer.StockView.promise).

For a group that sees levels the answer depends on the level's band and the thresholds
alone, never on the count: every count of one band gives the same answer to every
quantity, which is what keeps the cart from being an oracle.
"""

import pytest

from core.offer import SHORT, SUPPLIED, UNSURE, GroupPolicy, stock_view

PARTNER = GroupPolicy(2, shows_promotions=True, stock_display="levels", few_from=1, many_from=50)
WIDE = GroupPolicy(9, shows_promotions=False, stock_display="levels", few_from=5, many_from=100)
WHOLESALE = GroupPolicy(1, shows_promotions=True, stock_display="exact", few_from=1, many_from=50)


@pytest.mark.parametrize(
    ("policy", "stock", "quantity", "state", "most"),
    [
        # "Out of stock" (0): nothing can be promised.
        (PARTNER, 0, 1, SHORT, 0),
        (PARTNER, 0, 5000, SHORT, 0),
        # "Few" (1 to 49): 1 is certain, above 49 certainly not in full, between: unsure.
        (PARTNER, 7, 1, SUPPLIED, 49),
        (PARTNER, 7, 2, UNSURE, 49),
        (PARTNER, 7, 8, UNSURE, 49),  # more than the count, yet the same answer as 31's
        (PARTNER, 7, 49, UNSURE, 49),
        (PARTNER, 7, 50, SHORT, 49),
        (PARTNER, 31, 50, SHORT, 49),
        (PARTNER, 7, 5000, SHORT, 49),
        # "Many" (50 and more): no upper bound shown, so no warning at any quantity.
        (PARTNER, 50, 5000, SUPPLIED, None),
        (PARTNER, 4217, 1_000_000, SUPPLIED, None),
        # Other thresholds: "Out of stock" below 5 is 0 to 4.
        (WIDE, 3, 4, UNSURE, 4),
        (WIDE, 3, 5, SHORT, 4),
        (WIDE, 5, 5, SUPPLIED, 99),
        (WIDE, 5, 100, SHORT, 99),
        # A group that sees counts: the count itself.
        (WHOLESALE, 36, 36, SUPPLIED, 36),
        (WHOLESALE, 36, 37, SHORT, 36),
        (WHOLESALE, 0, 1, SHORT, 0),
        (WHOLESALE, 4217, 4218, SHORT, 4217),
    ],
)
def test_what_a_view_promises(policy, stock, quantity, state, most):
    promise = stock_view(policy, stock).promise(quantity)
    assert (promise.state, promise.most) == (state, most)


@pytest.mark.parametrize(("policy", "low", "high"), [(PARTNER, 1, 49), (WIDE, 5, 99)])
def test_levels_answer_the_same_for_every_count_of_a_band(policy, low, high):
    views = {stock_view(policy, stock) for stock in range(low, high + 1)}
    assert len(views) == 1  # one view per band: level and bounds, never the count
    answers = {
        tuple(stock_view(policy, stock).promise(q) for q in range(1, 2 * high))
        for stock in range(low, high + 1)
    }
    assert len(answers) == 1


@pytest.mark.parametrize("stock", [0, 1, 7, 31, 49, 50, 4217])
def test_bounds_of_a_levels_view_are_thresholds(stock):
    view = stock_view(PARTNER, stock)
    assert view.exact is None
    assert view.least in (0, PARTNER.few_from, PARTNER.many_from)
    assert view.most in (0, PARTNER.many_from - 1, None)


def test_a_group_that_sees_counts_is_bounded_by_the_count():
    view = stock_view(WHOLESALE, 36)
    assert (view.exact, view.least, view.most) == (36, 36, 36)


def test_policy_carries_backorders_and_who_sees_counts():
    assert not PARTNER.backorders and not PARTNER.sees_counts
    assert WHOLESALE.sees_counts
    assert GroupPolicy(3, False, "levels", 1, 50, backorders=True).backorders
