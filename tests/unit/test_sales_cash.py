"""Cash rounding (never against the customer unless chosen), counting a drawer, quick tender amounts."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.sales.cash import DENOMINATIONS, count_drawer, quick_amounts, round_cash


def test_rounding_down_never_charges_the_customer_more():
    assert round_cash(23_450, "down") == 23_400
    assert round_cash(23_400, "down") == 23_400
    assert round_cash(23_450, "nearest") == 23_500
    assert round_cash(23_449, "nearest") == 23_400
    assert round_cash(23_449, "off") == 23_449
    with pytest.raises(ValueError):
        round_cash(100, "up")


def test_a_drawer_is_counted_by_note_and_coin():
    assert count_drawer({100_000: 3, 50_000: 1, 500: 4, 100: 3}) == 352_300
    assert 1_000 in DENOMINATIONS and 100 in DENOMINATIONS
    with pytest.raises(ValueError):
        count_drawer({75_000: 1})  # Rp 75.000 is a commemorative note, not counted at a till
    with pytest.raises(ValueError):
        count_drawer({1_000: -1})


def test_quick_amounts_offer_the_exact_sum_and_the_next_round_notes():
    assert quick_amounts(23_500) == [23_500, 24_000, 25_000, 30_000, 50_000, 100_000]
    assert quick_amounts(50_000) == [50_000, 100_000]
    assert quick_amounts(0) == []


@given(st.integers(0, 10**12), st.sampled_from(["down", "nearest"]))
def test_rounding_moves_a_total_by_less_than_a_step(total, mode):
    rounded = round_cash(total, mode)
    assert rounded % 100 == 0
    assert abs(rounded - total) < 100
    if mode == "down":
        assert rounded <= total
