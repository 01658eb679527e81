"""The split of an untraced cost between member and non-member business: exact, deterministic, whole rupiah."""

from hypothesis import given
from hypothesis import strategies as st

from ledger.reports import split_by_share

RUPIAH = st.integers(min_value=-10**15, max_value=10**15)
WEIGHT = st.integers(min_value=-10**15, max_value=10**15)


def test_worked_examples():
    assert split_by_share(100_002, 250_000, 750_000) == (25_001, 75_001)  # 25.000,5: a half rounds up
    assert split_by_share(9_999, 250_000, 950_000) == (2_083, 7_916)  # 2.083,125
    assert split_by_share(-50, 1, 1) == (-25, -25)
    assert split_by_share(-51, 1, 1) == (-25, -26)  # -25,5 rounds up to -25
    assert split_by_share(30_000, 0, 200_000) == (0, 30_000)
    assert split_by_share(30_000, -5, 200_000) == (0, 30_000)  # a net return counts as no revenue
    assert split_by_share(30_000, 0, 0) == (30_000, 0)  # no revenue at all: member business


@given(RUPIAH, WEIGHT, WEIGHT)
def test_the_parts_add_up_and_stay_within_half_a_rupiah_of_the_exact_share(amount, m, n):
    member, non_member = split_by_share(amount, m, n)
    assert type(member) is int and type(non_member) is int
    assert member + non_member == amount
    m, n = max(m, 0), max(n, 0)
    if m + n:
        assert abs(2 * (member * (m + n) - amount * m)) <= m + n
