"""The price resolver: tiers, packs, wholesale, overrides, labels and the HET on every path."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.errors import InvalidInput
from pos.sales.pricing import AboveHet, PriceList, het_ceiling, resolve, tier_price

MIE = PriceList(public=3_500, member=3_300, wholesale=3_200, wholesale_min=D(10))
DUS = PriceList(public=128_000, member=128_000, factor=D(40), wholesale=3_200 * 40, wholesale_min=D(10))
MINYAKITA = PriceList(public=15_700, member=15_500, het=15_700)


def test_the_public_pays_the_shelf_price_and_members_the_member_price():
    assert resolve(MIE, D(2)).unit_price == 3_500
    member = resolve(MIE, D(2), member=True)
    assert (member.unit_price, member.tier, member.gross) == (3_300, "member", 6_600)


def test_the_wholesale_price_starts_at_the_minimum_quantity_in_base_units():
    assert resolve(MIE, D(9)).tier == "public"
    line = resolve(MIE, D(10))
    assert (line.tier, line.unit_price, line.total) == ("wholesale", 3_200, 32_000)
    # a dus holds 40 pcs: one dus already reaches the minimum of 10 pcs, and 3.200 x 40 is below the dus price
    assert resolve(DUS, D(1)).unit_price == 128_000  # 128.000 == 3.200 x 40: the dus price (no cheaper tier)


def test_the_customer_gets_the_lowest_price_they_qualify_for():
    assert tier_price(MIE, D(12), member=True) == (3_200, "wholesale")
    assert tier_price(PriceList(public=10, member=8, wholesale=9, wholesale_min=D(1)), D(5), True) == (8, "member")


def test_a_line_is_quantity_times_price_rounded_half_up_then_less_its_discount():
    beras = PriceList(public=16_000, member=15_600)
    line = resolve(beras, D("1.255"), discount=500)
    assert line.gross == 20_080  # 1,255 x 16.000 = 20.080
    assert line.total == 19_580
    assert resolve(PriceList(public=3, member=3), D("0.5")).gross == 2  # 1,5 -> 2


def test_overrides_and_discounts_never_cross_the_het():
    assert resolve(MINYAKITA, D(1), override=15_000).tier == "override"
    with pytest.raises(AboveHet):
        resolve(MINYAKITA, D(1), override=15_701)
    with pytest.raises(InvalidInput):
        resolve(MINYAKITA, D(1), discount=15_701)


def test_a_catalog_price_above_the_het_is_brought_down_to_it():
    stale = PriceList(public=16_000, member=16_000, het=15_700)
    line = resolve(stale, D(2))
    assert (line.unit_price, line.capped, line.gross) == (15_700, True, 31_400)


def test_a_price_label_is_what_the_line_costs_within_the_het():
    beras = PriceList(public=12_500, member=12_000, het=12_500)
    assert resolve(beras, D("1.200"), label_total=15_000).gross == 15_000
    capped = resolve(beras, D("1.000"), label_total=13_000)
    assert (capped.gross, capped.capped) == (12_500, True)


def test_het_of_a_pack_is_the_base_het_times_its_size():
    assert het_ceiling(15_700, D(12)) == 188_400
    assert het_ceiling(None, D(12)) is None


def test_bad_quantities_and_discounts_are_refused():
    for quantity in (D(0), D(-1), D("NaN"), D("Infinity")):
        with pytest.raises(InvalidInput):
            resolve(MIE, quantity)
    with pytest.raises(InvalidInput):
        resolve(MIE, D(1), discount=-1)
    with pytest.raises(InvalidInput):
        resolve(MIE, D(1), override=-5)


prices = st.integers(0, 2_000_000)


@given(prices, prices, prices, st.integers(1, 5_000_000), st.decimals("0.001", "1000", places=3),
       st.booleans(), st.one_of(st.none(), prices))
def test_no_path_sells_above_the_het(public, member, wholesale, het, quantity, is_member, override):
    listed = PriceList(public=min(public, het), member=min(member, het), wholesale=min(wholesale, het),
                       wholesale_min=D(5), het=het)
    try:
        line = resolve(listed, quantity, member=is_member, override=override)
    except AboveHet:
        assert override is not None and override > het
        return
    assert line.unit_price <= het
    assert line.total <= line.gross
    assert line.unit_price <= listed.public or line.tier == "override"
