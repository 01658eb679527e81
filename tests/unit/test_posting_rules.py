"""Posting rules as worksheets: a summary in, the expected postings out (docs/ledger.md has the same table)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.entries import EntryDraft, Line, UnbalancedEntry, credit, debit
from ledger.posting_rules import (
    GoodsReceiptSummary,
    MemberShu,
    Payments,
    ReceivedCost,
    ReceivedGoods,
    SaleSummary,
    SavingsSummary,
    ShiftCashSummary,
    ShuDistribution,
    StockAdjustmentSummary,
    SupplierPaymentSummary,
    SupplierReturnSummary,
    WriteOffSummary,
    goods_receipt_entry,
    kasbon_repayment_entry,
    receipt_costs,
    return_entry,
    reversal_entry,
    sale_entry,
    savings_deposit_entry,
    savings_withdrawal_entry,
    shift_cash_entry,
    shu_distribution_entry,
    stock_adjustment_entry,
    supplier_payment_entry,
    supplier_return_entry,
    write_off_entry,
    year_closing_entry,
)
from pos.errors import InvalidInput

DAY = dt.date(2026, 11, 28)


def worksheet(draft: EntryDraft) -> list[tuple[str, int, int, int | None]]:
    return sorted((line.account, line.debit, line.credit, line.member_id) for line in draft.lines)


def rows(*lines):
    return sorted(lines)


def test_cash_sale_to_a_non_member_without_ppn():
    draft = sale_entry(
        SaleSummary(
            sale_id="s1",
            number="TK01-000001",
            date=DAY,
            unit="TOKO",
            cash_account="kas:TK01",
            revenue=62_500,
            ppn=0,
            cost=51_000,
            payments=Payments(cash=62_500),
        )
    )
    assert worksheet(draft) == rows(
        ("kas:TK01", 62_500, 0, None),
        ("revenue:TOKO:non_anggota", 0, 62_500, None),
        ("hpp:TOKO", 51_000, 0, None),
        ("persediaan:TOKO", 0, 51_000, None),
    )
    assert (draft.source_type, draft.source_id, draft.unit) == ("sale", "s1", "TOKO")


def test_mixed_payment_sale_to_a_member_with_ppn_and_rounding():
    # Rp 111.000 incl. PPN 11% on a standard good (DPP 100.000), rounded up Rp 50 in cash.
    draft = sale_entry(
        SaleSummary(
            sale_id="s2",
            number="TK01-000002",
            date=DAY,
            unit="TOKO",
            cash_account="kas:TK01",
            member_id=7,
            revenue=100_000,
            ppn=11_000,
            cost=80_000,
            rounding=50,
            payments=Payments(cash=31_050, qris=50_000, transfer=10_000, kasbon=20_000),
        )
    )
    assert worksheet(draft) == rows(
        ("kas:TK01", 31_050, 0, None),
        ("qris", 50_000, 0, None),
        ("transfer", 10_000, 0, None),
        ("piutang_anggota", 20_000, 0, 7),
        ("revenue:TOKO:anggota", 0, 100_000, 7),
        ("ppn_keluaran", 0, 11_000, None),
        ("pembulatan", 0, 50, None),
        ("hpp:TOKO", 80_000, 0, None),
        ("persediaan:TOKO", 0, 80_000, None),
    )


def test_rounding_down_is_a_debit_to_rounding():
    draft = sale_entry(
        SaleSummary(
            sale_id="s3",
            number="n",
            date=DAY,
            unit="APOTEK",
            cash_account="kas:AP",
            revenue=12_530,
            ppn=0,
            cost=0,
            rounding=-30,
            payments=Payments(cash=12_500),
        )
    )
    assert ("pembulatan", 30, 0, None) in worksheet(draft)


def test_a_return_mirrors_the_sale():
    sale = SaleSummary(
        sale_id="r1",
        number="RT-1",
        date=DAY,
        unit="TOKO",
        cash_account="kas:TK",
        member_id=3,
        revenue=20_000,
        ppn=0,
        cost=15_000,
        payments=Payments(cash=5_000, kasbon=15_000),
    )
    draft = return_entry(sale, "TK01-000009")
    assert worksheet(draft) == rows(
        ("kas:TK", 0, 5_000, None),
        ("piutang_anggota", 0, 15_000, 3),
        ("revenue:TOKO:anggota", 20_000, 0, 3),
        ("hpp:TOKO", 0, 15_000, None),
        ("persediaan:TOKO", 15_000, 0, None),
    )
    assert draft.source_type == "sale_return"


def test_sales_refuse_kasbon_for_non_members_and_payments_that_do_not_add_up():
    with pytest.raises(InvalidInput):
        SaleSummary(
            sale_id="x",
            number="x",
            date=DAY,
            unit="TOKO",
            cash_account="kas:TK",
            revenue=10_000,
            ppn=0,
            cost=0,
            payments=Payments(kasbon=10_000),
        )
    with pytest.raises(InvalidInput):
        SaleSummary(
            sale_id="x",
            number="x",
            date=DAY,
            unit="TOKO",
            cash_account="kas:TK",
            revenue=10_000,
            ppn=0,
            cost=0,
            payments=Payments(cash=9_000),
        )
    with pytest.raises(InvalidInput):
        Payments(cash=-1)
    with pytest.raises(InvalidInput):
        Payments(cash=1.5)


def test_goods_receipt_partly_cash_partly_on_credit():
    draft = goods_receipt_entry(
        GoodsReceiptSummary(
            receipt_id="g1",
            number="PB-01",
            date=DAY,
            unit="GUDANG",
            supplier="CV Sumber Pangan",
            inventory_cost=5_000_000,
            ppn_masukan=550_000,
            paid_cash=1_550_000,
            cash_account="kas:GD",
            on_credit=4_000_000,
            pkp=True,
        )
    )
    assert worksheet(draft) == rows(
        ("persediaan:GUDANG", 5_000_000, 0, None),
        ("ppn_masukan", 550_000, 0, None),
        ("kas:GD", 0, 1_550_000, None),
        ("utang_usaha", 0, 4_000_000, None),
    )
    with pytest.raises(InvalidInput):
        GoodsReceiptSummary(
            receipt_id="g", number="g", date=DAY, unit="GUDANG", supplier="x", inventory_cost=100, on_credit=90
        )


def test_supplier_payment():
    draft = supplier_payment_entry(SupplierPaymentSummary("p1", DAY, "GUDANG", "CV Sumber Pangan", 4_000_000, "bank"))
    assert worksheet(draft) == rows(("utang_usaha", 4_000_000, 0, None), ("bank", 0, 4_000_000, None))


def test_stock_adjustments_both_ways_and_write_off():
    gain = stock_adjustment_entry(StockAdjustmentSummary("a1", DAY, "TOKO", 12_000, "opname"))
    loss = stock_adjustment_entry(StockAdjustmentSummary("a2", DAY, "TOKO", -8_000, "opname"))
    gone = write_off_entry(WriteOffSummary("w1", DAY, "APOTEK", 45_000, "kedaluwarsa"))
    assert worksheet(gain) == rows(
        ("persediaan:TOKO", 12_000, 0, None), ("pendapatan_selisih_persediaan", 0, 12_000, None)
    )
    assert worksheet(loss) == rows(("selisih_persediaan", 8_000, 0, None), ("persediaan:TOKO", 0, 8_000, None))
    assert worksheet(gone) == rows(("persediaan_rusak", 45_000, 0, None), ("persediaan:APOTEK", 0, 45_000, None))
    with pytest.raises(InvalidInput):
        StockAdjustmentSummary("a3", DAY, "TOKO", 0)


def test_shift_cash_over_and_short():
    over = shift_cash_entry(ShiftCashSummary("sh1", DAY, "TOKO", "kas:TK01", 2_000))
    short = shift_cash_entry(ShiftCashSummary("sh2", DAY, "TOKO", "kas:TK01", -5_500))
    assert worksheet(over) == rows(("kas:TK01", 2_000, 0, None), ("selisih_kas", 0, 2_000, None))
    assert worksheet(short) == rows(("selisih_kas", 5_500, 0, None), ("kas:TK01", 0, 5_500, None))


def test_savings_deposit_withdrawal_and_kasbon_repayment():
    slip = SavingsSummary(
        "sl1", "SLP/2026/000001", DAY, member_id=9, kind="wajib", amount=20_000, cash_account="kas:SP"
    )
    assert worksheet(savings_deposit_entry(slip)) == rows(("kas:SP", 20_000, 0, None), ("simpanan:wajib", 0, 20_000, 9))
    take = SavingsSummary("sl2", "n", DAY, member_id=9, kind="sukarela", amount=50_000, cash_account="kas:SP")
    assert worksheet(savings_withdrawal_entry(take)) == rows(
        ("simpanan:sukarela", 50_000, 0, 9), ("kas:SP", 0, 50_000, None)
    )
    with pytest.raises(InvalidInput):
        savings_withdrawal_entry(slip)  # wajib is equity: never withdrawn at the desk
    pay = SavingsSummary("sl3", "n", DAY, member_id=9, kind="sukarela", amount=75_000, cash_account="kas:SP")
    assert worksheet(kasbon_repayment_entry(pay)) == rows(
        ("kas:SP", 75_000, 0, None), ("piutang_anggota", 0, 75_000, 9)
    )


def test_shu_distribution_to_dana_shu_and_to_sukarela():
    d = ShuDistribution(
        year=2025,
        date=dt.date(2026, 3, 15),
        surplus=1_000_003,
        cadangan=300_000,
        funds={"pengurus": 50_000, "karyawan": 50_000, "pendidikan": 50_000, "sosial": 50_000, "pembangunan": 50_000},
        members=(MemberShu(1, 150_000, 100_000), MemberShu(2, 100_000, 100_000)),
        remainder=3,
    )
    assert worksheet(shu_distribution_entry(d)) == rows(
        ("shu_tahun_berjalan", 1_000_003, 0, None),
        ("cadangan", 0, 300_003, None),
        ("dana_shu:pengurus", 0, 50_000, None),
        ("dana_shu:karyawan", 0, 50_000, None),
        ("dana_shu:pendidikan", 0, 50_000, None),
        ("dana_shu:sosial", 0, 50_000, None),
        ("dana_shu:pembangunan", 0, 50_000, None),
        ("dana_shu_anggota", 0, 250_000, 1),
        ("dana_shu_anggota", 0, 200_000, 2),
    )
    to_savings = ShuDistribution(**{**d.__dict__, "to_sukarela": True})
    assert ("simpanan:sukarela", 0, 250_000, 1) in worksheet(shu_distribution_entry(to_savings))
    with pytest.raises(InvalidInput):
        ShuDistribution(**{**d.__dict__, "remainder": 0})


def test_year_closing_moves_each_units_result_into_shu_tahun_berjalan():
    draft = year_closing_entry(
        2025, {("4-1101", "TOKO"): -500_000, ("5-1100", "TOKO"): 390_000, ("6-1100", "SP"): 30_000}
    )
    assert sorted((ln.account, ln.debit, ln.credit, ln.unit) for ln in draft.lines) == sorted(
        [
            ("4-1101", 500_000, 0, "TOKO"),
            ("5-1100", 0, 390_000, "TOKO"),
            ("6-1100", 0, 30_000, "SP"),
            ("shu_tahun_berjalan", 0, 110_000, "TOKO"),
            ("shu_tahun_berjalan", 30_000, 0, "SP"),
        ]
    )


def test_reversal_turns_every_line_round():
    lines = (debit("kas:TK", 10_000), credit("revenue:TOKO:non_anggota", 10_000))
    draft = reversal_entry(41, DAY, "Pembalikan", lines)
    assert [(ln.account, ln.debit, ln.credit) for ln in draft.lines] == [
        ("kas:TK", 0, 10_000),
        ("revenue:TOKO:non_anggota", 10_000, 0),
    ]
    assert draft.reverses_id == 41 and draft.source_id == "41"


@pytest.mark.parametrize(
    "lines",
    [(), (debit("a", 100),), (debit("a", 100), credit("b", 99)), (debit("a", 100), credit("b", 100), debit("c", 1))],
)
def test_drafts_refuse_to_be_built_unbalanced(lines):
    with pytest.raises(UnbalancedEntry):
        EntryDraft(DAY, "x", "t", "1", tuple(lines))


@pytest.mark.parametrize(
    "kw", [{"debit": 0}, {"debit": -5}, {"debit": 5, "credit": 5}, {"debit": 1.0}, {"credit": True}]
)
def test_lines_refuse_zero_negative_both_sided_and_non_integer_amounts(kw):
    with pytest.raises(UnbalancedEntry):
        Line("kas:TK", **kw)


@given(st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=8))
def test_any_split_of_a_debit_into_credits_balances(amounts):
    lines = (debit("kas:TK", sum(amounts)), *(credit(f"acct{i}", a) for i, a in enumerate(amounts)))
    draft = EntryDraft(DAY, "x", "t", "1", lines)
    assert draft.total == sum(amounts)


def test_member_exit_pays_back_every_savings():
    from ledger.posting_rules import member_exit_entry

    slip = SavingsSummary("x1", "SLP/2026/000009", DAY, member_id=4, kind="sukarela", amount=195_000,
                          cash_account="kas:SP")
    draft = member_exit_entry(slip, {"pokok": 100_000, "wajib": 20_000, "sukarela": 75_000})
    assert worksheet(draft) == rows(
        ("simpanan:pokok", 100_000, 0, 4), ("simpanan:wajib", 20_000, 0, 4), ("simpanan:sukarela", 75_000, 0, 4),
        ("kas:SP", 0, 195_000, None))
    with pytest.raises(InvalidInput):
        member_exit_entry(slip, {"pokok": 100_000})


def test_transfer_between_units_balances_each_unit_through_the_inter_unit_account():
    from ledger.posting_rules import TransferSummary, transfer_entry

    draft = transfer_entry(TransferSummary("t1", "MT/2026/000001", DAY, "GUDANG", "TOKO", 1_250_000))
    assert sorted((ln.account, ln.debit, ln.credit, ln.unit) for ln in draft.lines) == sorted([
        ("persediaan:TOKO", 1_250_000, 0, "TOKO"), ("antar_unit", 0, 1_250_000, "TOKO"),
        ("persediaan:GUDANG", 0, 1_250_000, "GUDANG"), ("antar_unit", 1_250_000, 0, "GUDANG")])


def test_return_to_supplier_reduces_what_we_owe():
    from ledger.posting_rules import SupplierReturnSummary, supplier_return_entry

    draft = supplier_return_entry(SupplierReturnSummary("r1", "RP/1", DAY, "APOTEK", "PBF Sehat", 300_000))
    assert worksheet(draft) == rows(("utang_usaha", 300_000, 0, None), ("persediaan:APOTEK", 0, 300_000, None))


# --- PPN on goods received: PPN masukan only where a PKP may credit it, inventory cost otherwise -----------------


def receipt(costs, *, pkp, payment="credit"):
    return GoodsReceiptSummary.of(costs, pkp=pkp, payment=payment, receipt_id="g", number="PB/2026/000001", date=DAY,
                                  unit="TOKO", supplier="CV Sumber Pangan", cash_account="kas:TK")


def test_a_non_pkp_cooperative_puts_the_ppn_it_paid_into_the_goods_cost():
    # 10 units at Rp 10.000 + PPN 11 % = Rp 111.000: all of it is inventory, nothing is PPN masukan
    costs = receipt_costs([ReceivedGoods(value=10 * 10_000, tax_code="standard")], pkp=False, invoice_ppn=11_000)
    assert costs == (ReceivedCost(value=100_000, ppn=11_000, creditable=0),)
    assert costs[0].cost == 111_000 and costs[0].cost // 10 == 11_100  # the batch's cost per unit
    summary = receipt(costs, pkp=False)
    assert (summary.inventory_cost, summary.ppn_masukan, summary.ppn_in_cost) == (111_000, 0, 11_000)
    draft = goods_receipt_entry(summary)
    assert worksheet(draft) == rows(("persediaan:TOKO", 111_000, 0, None), ("utang_usaha", 0, 111_000, None))
    assert "ppn_masukan" not in {line.account for line in draft.lines}
    assert next(line.memo for line in draft.lines if line.debit) == "termasuk PPN tidak dapat dikreditkan 11000"
    # the same PPN given on the line itself gives the same books
    assert receipt_costs([ReceivedGoods(100_000, "standard", ppn=11_000)], pkp=False) == costs


def test_a_non_pkp_cooperative_never_books_ppn_masukan():
    with pytest.raises(InvalidInput, match="not PKP"):
        GoodsReceiptSummary(receipt_id="g", number="g", date=DAY, unit="TOKO", supplier="x", inventory_cost=100_000,
                            ppn_masukan=11_000, on_credit=111_000)
    with pytest.raises(InvalidInput, match="not PKP"):
        SupplierReturnSummary("r", "RP/1", DAY, "TOKO", "x", 100_000, ppn_masukan=11_000)


def test_a_pkp_credits_ppn_on_taxable_goods_and_puts_ppn_on_exempt_goods_into_their_cost():
    # Minyak goreng 12 x Rp 14.144 (standard): PPN 11 % = 18.670,08 -> Rp 18.670, PPN masukan.
    # Gula 20 kg x Rp 15.000 sold as exempt, but the supplier charged Rp 33.000 PPN: not creditable (UU PPN
    # Pasal 9 ayat (5), Pasal 16B ayat (3)), so it goes into the gula's cost: Rp 333.000, Rp 16.650 a kg.
    costs = receipt_costs([ReceivedGoods(12 * 14_144, "standard", ppn=18_670),
                           ReceivedGoods(20 * 15_000, "exempt", ppn=33_000)], pkp=True)
    assert costs == (ReceivedCost(169_728, 18_670, 18_670), ReceivedCost(300_000, 33_000, 0))
    assert [c.cost for c in costs] == [169_728, 333_000] and costs[1].cost // 20 == 16_650
    draft = goods_receipt_entry(receipt(costs, pkp=True, payment="bank"))
    assert worksheet(draft) == rows(
        ("persediaan:TOKO", 169_728 + 333_000, 0, None),
        ("ppn_masukan", 18_670, 0, None),
        ("bank", 0, 169_728 + 18_670 + 300_000 + 33_000, None),
    )
    assert draft.total == 521_398


def test_the_invoices_ppn_is_shared_over_the_lines_that_carry_ppn():
    # A PKP: beras (exempt, no PPN charged) and minyak (standard) on one invoice with PPN Rp 110.000: all of it is
    # the minyak's, so all of it is PPN masukan; none goes into the beras.
    mixed = receipt_costs([ReceivedGoods(1_000_000, "exempt"), ReceivedGoods(1_000_000, "standard")], pkp=True,
                          invoice_ppn=110_000)
    assert mixed == (ReceivedCost(1_000_000, 0, 0), ReceivedCost(1_000_000, 110_000, 110_000))
    # standard and luxury goods share it by value x rate (11 % and 12 %)
    rated = receipt_costs([ReceivedGoods(1_000, "standard"), ReceivedGoods(1_000, "luxury")], pkp=True,
                          invoice_ppn=230)
    assert [c.ppn for c in rated] == [110, 120]
    # an invoice of exempt goods only: shared by value, whole rupiah, the remainder to the largest fraction and
    # ties to the earlier line, so the books balance to the rupiah; a PKP credits none of it
    exempt = receipt_costs([ReceivedGoods(100, "exempt")] * 3, pkp=True, invoice_ppn=100)
    assert [(c.ppn, c.creditable, c.cost) for c in exempt] == [(34, 0, 134), (33, 0, 133), (33, 0, 133)]
    assert worksheet(goods_receipt_entry(receipt(exempt, pkp=True))) == rows(
        ("persediaan:TOKO", 400, 0, None), ("utang_usaha", 0, 400, None))


def test_ppn_on_a_receipt_is_refused_when_it_cannot_be_right():
    with pytest.raises(InvalidInput, match="not both"):
        receipt_costs([ReceivedGoods(1_000, ppn=110), ReceivedGoods(1_000)], pkp=True, invoice_ppn=110)
    with pytest.raises(InvalidInput, match="more than"):
        receipt_costs([ReceivedGoods(1_000)], pkp=True, invoice_ppn=1_001)
    with pytest.raises(InvalidInput, match="more than"):
        receipt_costs([ReceivedGoods(1_000, ppn=1_001)], pkp=False)
    for bad in (dict(value=-1), dict(value=1_000, ppn=-1), dict(value=1_000, ppn=1.5), dict(value=1, tax_code="x")):
        with pytest.raises(InvalidInput):
            ReceivedGoods(**bad)
    with pytest.raises(InvalidInput):
        receipt(receipt_costs([ReceivedGoods(1_000)], pkp=False), pkp=False, payment="barter")


@given(
    st.lists(st.tuples(st.integers(0, 10**9), st.sampled_from(["exempt", "standard", "luxury"])), min_size=1,
             max_size=8),
    st.integers(0, 10**8),
    st.booleans(),
)
def test_every_rupiah_of_ppn_is_either_ppn_masukan_or_cost_and_the_entry_balances(lines, ppn, pkp):
    goods = [ReceivedGoods(value, code) for value, code in lines]
    ppn = min(ppn, sum(value for value, _ in lines))
    costs = receipt_costs(goods, pkp=pkp, invoice_ppn=ppn)
    assert sum(c.ppn for c in costs) == ppn
    assert sum(c.cost + c.creditable for c in costs) == sum(value for value, _ in lines) + ppn
    for good, cost in zip(goods, costs, strict=True):
        assert cost.creditable == (cost.ppn if pkp and good.tax_code != "exempt" else 0)
    summary = receipt(costs, pkp=pkp)
    if summary.on_credit:
        draft = goods_receipt_entry(summary)
        assert draft.total == summary.on_credit == sum(value for value, _ in lines) + ppn


def test_a_pkp_returning_taxed_goods_gives_back_their_ppn_masukan():
    # 5 of the minyak above go back on a nota retur: cost 5 x 14.144 = 70.720, PPN masukan 7.779 (UU PPN Pasal 5A)
    draft = supplier_return_entry(SupplierReturnSummary("r2", "RP/2", DAY, "TOKO", "CV Sumber Pangan", 70_720,
                                                        ppn_masukan=7_779, pkp=True))
    assert worksheet(draft) == rows(("utang_usaha", 78_499, 0, None), ("persediaan:TOKO", 0, 70_720, None),
                                    ("ppn_masukan", 0, 7_779, None))
