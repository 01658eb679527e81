"""The plain parts of the stock reports: expiry buckets, what a move adds to a stock card, running balances,
reorder shortfall."""

import datetime as dt
from decimal import Decimal as D

import pytest

from inventory.reports import expiry_bucket, move_in_out, running_balances, shortfall

TODAY = dt.date(2026, 6, 15)


@pytest.mark.parametrize(("days", "bucket"), [
    (-400, "expired"), (-1, "expired"), (0, "30"), (30, "30"), (31, "60"), (60, "60"), (61, "90"), (90, "90"),
    (91, None), (5000, None),
])
def test_expiry_bucket(days, bucket):
    assert expiry_bucket(TODAY + dt.timedelta(days=days), TODAY) == bucket


def test_no_expiry_date_is_no_bucket():
    assert expiry_bucket(None, TODAY) is None


def test_move_on_a_card_of_one_location():
    assert move_in_out(D(5), None, 1, 1) == (D(5), D(0))
    assert move_in_out(D(5), 1, 2, 1) == (D(0), D(5))
    assert move_in_out(D(5), 2, 1, 1) == (D(5), D(0))
    assert move_in_out(D(5), 1, None, 1) == (D(0), D(5))


def test_move_on_a_card_of_all_locations():
    assert move_in_out(D(5), None, 1) == (D(5), D(0))  # received
    assert move_in_out(D(5), 1, None) == (D(0), D(5))  # sold, written off, sent on the way
    qty_in, qty_out = move_in_out(D(5), 1, 2)  # between two locations: the balance stays
    assert qty_in == qty_out == D(5)


def test_running_balances():
    assert running_balances(D(10), [(D(5), D(0)), (D(0), D("2.5")), (D(1), D(1))]) == [D(15), D("12.5"), D("12.5")]
    assert running_balances(D(3), []) == []
    assert running_balances(D(0), [(D(0), D(4))]) == [D(-4)]  # untracked goods may go below zero


@pytest.mark.parametrize(("on_hand", "point", "missing"), [
    (D(25), D(40), D(15)), (D(40), D(40), D(0)), (D(41), D(40), None), (D(-3), D(10), D(13)),
    (D(0), D(0), None), (D(-5), D(0), None), (D("0.5"), D("1.25"), D("0.75")),
])
def test_shortfall(on_hand, point, missing):
    assert shortfall(on_hand, point) == missing
