"""PPN on tax-inclusive prices, worked by hand (docs/sales.md has the same examples), and its invariants."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.sales.tax import LineTax, TaxRules, line_tax, receipt_tax, round_half_up, split_discount

PKP = TaxRules(pkp=True)
NON_PKP = TaxRules(pkp=False)


def test_standard_goods_pay_the_effective_11_percent_of_the_price_without_ppn():
    # Minyakita 1 L at Rp 15.700 (HET, PPN included): 15.700 x 11/111 = 1.555,85 -> PPN 1.556;
    # without PPN 14.144; DPP nilai lain 11/12 x 14.144 = 12.965,33 -> 12.965; 12 % of that is 1.555,8.
    tax = line_tax(15_700, "standard", PKP)
    assert tax == LineTax(net=15_700, ppn=1_556, dpp=12_965)
    assert tax.revenue == 14_144
    assert abs(Fraction(12, 100) * tax.dpp - tax.ppn) < 1  # the 12 % of DPP the law names agrees to the rupiah


def test_luxury_goods_pay_12_percent_of_the_full_price():
    tax = line_tax(112_000, "luxury", PKP)
    assert (tax.ppn, tax.dpp, tax.revenue) == (12_000, 100_000, 100_000)


def test_staples_are_exempt_and_a_non_pkp_cooperative_charges_nothing():
    assert line_tax(16_000, "exempt", PKP) == LineTax(16_000, 0, 0)
    assert line_tax(15_700, "standard", NON_PKP) == LineTax(15_700, 0, 0)
    assert line_tax(112_000, "luxury", NON_PKP).revenue == 112_000


def test_a_receipt_discount_is_shared_between_exempt_and_taxable_lines_in_proportion():
    # beras 80.000 (exempt) + minyak 20.000 (standard); Rp 1.000 off the receipt: 800 and 200.
    lines = receipt_tax([80_000, 20_000], ["exempt", "standard"], 1_000, PKP)
    assert [line.net for line in lines] == [79_200, 19_800]
    assert lines[0].ppn == 0
    assert lines[1].ppn == round_half_up(Fraction(19_800 * 11, 111)) == 1_962


def test_discount_shares_use_the_largest_remainder_and_always_add_up():
    assert split_discount([1, 1, 1], 2) == [1, 1, 0]  # ties go to the earlier line
    assert split_discount([10_000, 5_000, 5_000], 1_001) == [501, 250, 250]
    assert split_discount([0, 0], 0) == [0, 0]
    with pytest.raises(ValueError):
        split_discount([100], 101)


def test_rounding_is_half_up():
    assert round_half_up(Fraction(5, 2)) == 3
    assert round_half_up(Fraction(7, 2)) == 4  # not banker's rounding
    assert round_half_up(Fraction(249, 100)) == 2


@given(st.lists(st.integers(0, 5_000_000), min_size=1, max_size=12), st.data())
def test_shares_add_up_and_never_exceed_a_line(totals, data):
    discount = data.draw(st.integers(0, sum(totals)))
    shares = split_discount(totals, discount)
    assert sum(shares) == discount
    assert all(0 <= share <= total for share, total in zip(shares, totals, strict=True))


@given(st.integers(0, 10**10), st.sampled_from(["exempt", "standard", "luxury"]), st.booleans())
def test_revenue_plus_ppn_is_what_the_customer_pays(net, code, pkp):
    tax = line_tax(net, code, TaxRules(pkp=pkp))
    assert tax.revenue + tax.ppn == net
    assert 0 <= tax.ppn <= net
    if code == "standard" and pkp:
        # within a rupiah of the exact 11/111 share
        assert abs(Fraction(net * 11, 111) - tax.ppn) <= Fraction(1, 2)
