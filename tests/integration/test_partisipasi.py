"""Partisipasi anggota: member and non-member business apart on the laporan hasil usaha, worked out by hand, and the
SHU's jasa anggota shared out of the surplus from member business only (docs/ledger.md, *Partisipasi anggota*).

The worked example, year 2025 (default SHU split 30/25/20/5x5):

TOKO  member A buys 300.000 (cost 210.000) and returns 50.000 of it (cost 35.000): partisipasi bruto 250.000,
      beban pokok partisipasi 175.000. Walk-ins buy 700.050 (cost 500.000) and 49.950 rounded up by Rp 50 to
      50.000 (cost 40.000): non-member revenue 750.000, HPP 540.000; the rounding (-50 on Pembulatan) is traced
      to the non-member sale. Revenue share 250.000 : 750.000 = 25 %.
      Salaries 100.002 (untraced): member 25.000,5 -> 25.001 (a half rounds up), non-member 75.001.
      Stock count surplus 1.000 (other income): member 250, non-member 750.
APOTEK a walk-in buys 200.000 (cost 150.000); electricity 30.000 all non-member (the unit has no member revenue).
SP     stationery 9.999, a unit without revenue: split by the whole cooperative's share 250.000 : 950.000 ->
      member 2.083 (2.083,125), non-member 7.916.

partisipasi neto 75.000; laba kotor non-anggota 260.000; beban usaha 139.951 = 27.084 + 112.867;
SHU 196.049 = member business 48.166 + non-member business 147.883.

SHU pools of 196.049: cadangan 58.814, jasa anggota 49.012, jasa modal 39.209, funds 9.802 each. Jasa anggota
comes from member business only: 25 % of 48.166 = 12.041 (12.041,5); the other 36.971 stays in cadangan
(95.785). A, the only member, gets jasa anggota 12.041 and jasa modal 39.209; allocated 196.045, remainder 4.
"""

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from ledger import journal, members, reports, shu
from ledger.entries import EntryDraft, credit, debit
from ledger.posting_rules import (
    Payments,
    SaleSummary,
    StockAdjustmentSummary,
    return_entry,
    sale_entry,
    stock_adjustment_entry,
)
from pos.db import db, write_transaction
from pos.models import BusinessUnit

YEAR = 2025
D = dt.date(YEAR, 6, 1)


def post(draft):
    with write_transaction():
        return journal.post(draft, None, author_name="test")


def summary(source, unit, cash, revenue, cost, member=None, rounding=0, date=D):
    return SaleSummary(sale_id=source, number=source, date=date, unit=unit, cash_account=cash, revenue=revenue,
                       ppn=0, cost=cost, payments=Payments(cash=revenue + rounding), member_id=member,
                       rounding=rounding)


def worked_example():
    with write_transaction():
        a = members.register_member(members.MemberInput(name="Anggota A", nik="6371020202850001", rt="5", rw="2",
                                                        kelurahan="Kelayan Timur", join_date=dt.date(YEAR, 1, 10)),
                                    None, author_name="test")
    post(sale_entry(summary("m1", "TOKO", "kas:TK", 300_000, 210_000, member=a.id)))
    post(return_entry(summary("r1", "TOKO", "kas:TK", 50_000, 35_000, member=a.id, date=dt.date(YEAR, 6, 2)), "m1"))
    post(sale_entry(summary("n1", "TOKO", "kas:TK", 700_050, 500_000)))
    post(sale_entry(summary("n2", "TOKO", "kas:TK", 49_950, 40_000, rounding=50)))
    post(sale_entry(summary("a1", "APOTEK", "kas:AP", 200_000, 150_000)))
    post(EntryDraft(dt.date(YEAR, 6, 30), "Gaji", "manual", "gaji",
                    (debit("beban_gaji", 100_002), credit("bank", 100_002)), unit="TOKO"))
    post(EntryDraft(dt.date(YEAR, 6, 30), "Listrik", "manual", "listrik",
                    (debit("beban_listrik", 30_000), credit("kas:AP", 30_000)), unit="APOTEK"))
    post(EntryDraft(dt.date(YEAR, 6, 30), "ATK", "manual", "atk",
                    (debit("beban_atk", 9_999), credit("kas:SP", 9_999)), unit="SP"))
    post(stock_adjustment_entry(StockAdjustmentSummary("opname-1", dt.date(YEAR, 7, 1), "TOKO", 1_000, "opname")))
    return a


def the_year(unit_code=None):
    unit = None
    if unit_code:
        unit = db.session.scalar(sa.select(BusinessUnit).where(BusinessUnit.code == unit_code))
    return reports.income_statement(reports.Scope(dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31), unit))


def split_of(lines):
    return {line.account.key: (line.member, line.non_member, line.amount) for line in lines}


def test_the_laporan_hasil_usaha_shows_member_and_non_member_business_apart(books):
    worked_example()
    s = the_year()
    assert (s.total_member_revenue, s.total_member_cost_of_sales, s.net_participation) == (250_000, 175_000, 75_000)
    assert (s.total_non_member_revenue, s.total_non_member_cost_of_sales, s.non_member_gross_profit) == (
        950_000, 690_000, 260_000)
    assert split_of(s.member_cost_of_sales) == {"hpp:TOKO": (175_000, 0, 175_000)}
    assert split_of(s.non_member_cost_of_sales) == {"hpp:TOKO": (0, 540_000, 540_000),
                                                    "hpp:APOTEK": (0, 150_000, 150_000)}
    assert split_of(s.expenses) == {
        "beban_gaji": (25_001, 75_001, 100_002),
        "beban_listrik": (0, 30_000, 30_000),
        "beban_atk": (2_083, 7_916, 9_999),
        "pembulatan": (0, -50, -50),
    }
    assert (s.member_expenses, s.non_member_expenses, s.total_expenses) == (27_084, 112_867, 139_951)
    assert split_of(s.other_income) == {"pendapatan_selisih_persediaan": (250, 750, 1_000)}
    assert (s.member_surplus, s.non_member_surplus, s.surplus) == (48_166, 147_883, 196_049)
    # The two segments add up to the totals, line by line and overall.
    assert s.total_cost_of_sales == 865_000 and s.gross_result == 335_000
    assert s.member_surplus + s.non_member_surplus == s.surplus
    assert {line.account.key: line.amount for line in s.cost_of_sales} == {"hpp:TOKO": 715_000,
                                                                          "hpp:APOTEK": 150_000}


def test_each_unit_is_split_on_its_own_and_the_units_add_up_to_the_cooperative(books):
    worked_example()
    toko, apotek, sp = the_year("TOKO"), the_year("APOTEK"), the_year("SP")
    assert (toko.net_participation, toko.non_member_gross_profit) == (75_000, 210_000)
    assert (toko.member_expenses, toko.non_member_expenses) == (25_001, 74_951)
    assert (toko.member_surplus, toko.non_member_surplus, toko.surplus) == (50_249, 135_799, 186_048)
    assert (apotek.member_surplus, apotek.non_member_surplus) == (0, 20_000)
    assert (sp.member_surplus, sp.non_member_surplus) == (-2_083, -7_916)  # the cooperative's share, per unit too
    whole = the_year()
    for part in ("member_surplus", "non_member_surplus", "member_expenses", "total_member_cost_of_sales"):
        assert sum(getattr(u, part) for u in (toko, apotek, sp)) == getattr(whole, part), part


def test_a_reversed_sale_takes_its_hpp_out_of_its_own_segment(books):
    worked_example()
    entry = db.session.scalar(sa.select(journal.JournalEntry).where(journal.JournalEntry.source_id == "n1"))
    with write_transaction():
        journal.reverse(entry.id, dt.date(YEAR, 8, 1), "salah input", None)
    s = the_year()
    assert (s.total_non_member_revenue, s.total_non_member_cost_of_sales) == (249_950, 190_000)
    assert (s.total_member_revenue, s.total_member_cost_of_sales) == (250_000, 175_000)


def test_jasa_anggota_is_shared_out_of_member_business_only(books):
    a = worked_example()
    with write_transaction():
        journal.close_year(YEAR, None, closed_by="test")
    result = shu.compute(YEAR)
    assert (result.surplus, result.member_surplus, result.non_member_surplus) == (196_049, 48_166, 147_883)
    assert result.non_member_to_cadangan == 36_971
    assert result.pools == {"cadangan": 58_814 + 36_971, "jasa_anggota": 12_041, "jasa_modal": 39_209,
                            "pengurus": 9_802, "karyawan": 9_802, "pendidikan": 9_802, "sosial": 9_802,
                            "pembangunan": 9_802}
    (share,) = result.members
    assert (share.purchases, share.jasa_anggota, share.savings, share.jasa_modal) == (250_000, 12_041, 100_000,
                                                                                      39_209)
    assert result.remainder == 4
    assert sum(result.pools.values()) + result.remainder == result.surplus  # every rupiah allocated somewhere
    with write_transaction():
        entry = shu.distribute(YEAR, dt.date(YEAR + 1, 3, 15), False, None, author_name="test")
    credits = {(p.account.key, p.member_id): p.credit for p in entry.postings if p.credit}
    assert credits[("cadangan", None)] == 95_785 + 4
    assert credits[("dana_shu_anggota", a.id)] == 12_041 + 39_209
    assert sum(p.debit for p in entry.postings) == sum(p.credit for p in entry.postings) == 196_049


def test_no_jasa_anggota_when_member_business_made_a_loss(books):
    """Member sales at a loss, non-member sales at a profit: the whole jasa anggota percentage stays in cadangan."""
    with write_transaction():
        a = members.register_member(members.MemberInput(name="Anggota B", nik="6371024303860002", rt="1", rw="1",
                                                        kelurahan="Kelayan Timur", join_date=dt.date(YEAR, 1, 10)),
                                    None, author_name="test")
    post(sale_entry(summary("m1", "TOKO", "kas:TK", 100_000, 120_000, member=a.id)))
    post(sale_entry(summary("n1", "TOKO", "kas:TK", 300_000, 200_000)))
    with write_transaction():
        journal.close_year(YEAR, None, closed_by="test")
    result = shu.compute(YEAR)
    assert (result.surplus, result.member_surplus, result.non_member_surplus) == (80_000, -20_000, 100_000)
    assert result.pools["jasa_anggota"] == 0 and result.pools["cadangan"] == 24_000 + 20_000
    assert all(m.jasa_anggota == 0 for m in result.members)
    assert sum(result.pools.values()) + result.remainder == result.surplus


@pytest.fixture
def web_books(books_app):
    with books_app.app_context():
        worked_example()
        db.session.remove()
    return books_app


def test_the_page_and_the_downloads_show_both_segments(web_books, signed_in, client):
    signed_in("pengawas")
    span = f"dari={YEAR}-01-01&sampai={YEAR}-12-31"
    page = client.get(f"/buku/hasil-usaha?{span}")
    assert page.status_code == 200
    for attribute in ('data-member-revenue="250000"', 'data-member-cost="175000"', 'data-net-participation="75000"',
                      'data-non-member-revenue="950000"', 'data-non-member-cost="690000"',
                      'data-non-member-gross="260000"', 'data-expenses-member="27084"',
                      'data-expenses-non-member="112867"', 'data-surplus-member="48166"',
                      'data-surplus-non-member="147883"', 'data-surplus="196049"'):
        assert attribute in page.text, attribute
    assert 'data-surplus-member="50249"' in client.get(f"/buku/hasil-usaha?{span}&unit=TOKO").text
    csv = client.get(f"/buku/hasil-usaha?{span}&format=csv").data.decode("utf-8-sig")
    assert "Partisipasi neto anggota" in csv and "Laba kotor dengan non-anggota" in csv
    sheet = load_workbook(io.BytesIO(client.get(f"/buku/hasil-usaha?{span}&format=xlsx").data)).active
    rows = {(row[0], row[1] or ""): [v if v != "" else None for v in row[2:]]
            for row in sheet.iter_rows(values_only=True)}
    assert rows[("Kelompok", "Akun")] == ["Anggota", "Non-anggota", "Jumlah"]
    assert rows[("Partisipasi neto anggota", "")] == [75_000, None, 75_000]
    assert rows[("Laba kotor dengan non-anggota", "")] == [None, 260_000, 260_000]
    assert rows[("Beban usaha", "Jumlah")] == [27_084, 112_867, 139_951]
    assert rows[("Sisa hasil usaha", "")] == [48_166, 147_883, 196_049]
