"""Members, savings and kasbon rules, and the SHU worked out by hand on a small cooperative."""

import datetime as dt

import pytest
import sqlalchemy as sa

from ledger import journal, members, shu
from ledger.entries import EntryDraft, credit, debit
from ledger.models import JournalEntry, SavingsKind, Slip
from ledger.posting_rules import Payments, SaleSummary, sale_entry
from pos.db import db, write_transaction
from pos.errors import Conflict, InvalidInput

JOIN = dt.date(2025, 1, 10)


def register(name, nik, join=JOIN):
    with write_transaction():
        return members.register_member(members.MemberInput(name=name, nik=nik, rt="5", rw="2",
                                                           kelurahan="Kelayan Timur", join_date=join), None,
                                       author_name="test")


def sell(source, member, amount, cost=0, kasbon=0, date=dt.date(2025, 6, 1)):
    with write_transaction():
        journal.post(sale_entry(SaleSummary(
            sale_id=source, number=source, date=date, unit="TOKO", cash_account="kas:TK", revenue=amount, ppn=0,
            cost=cost, payments=Payments(cash=amount - kasbon, kasbon=kasbon), member_id=member.id if member else None,
        )), None, author_name="test")


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_registration_takes_the_simpanan_pokok_and_masks_the_nik(books):
    a = register("Siti Aminah", "6371024501900003")
    assert a.number == "AGT-00001" and (a.rt, a.rw) == ("005", "002")
    assert members.savings_balances(a.id) == {"pokok": 100_000, "wajib": 0, "sukarela": 0}
    assert members.mask_nik(a.nik) == "637102******0003"
    with pytest.raises(Conflict):
        register("Orang Lain", "6371024501900003")
    for nik in ("123", "6371021399900003", "637102450190000X", "63710245019000031"):
        with pytest.raises(InvalidInput):
            register("Salah NIK", nik)
    with pytest.raises(InvalidInput):
        register("  ", "6371020101900004")
    assert count(Slip) == 1


def test_savings_rules(books):
    a = register("Ahmad", "6371020101800001")
    with write_transaction():
        members.deposit(a, SavingsKind.WAJIB, 20_000, dt.date(2025, 1, 15), None, period="2025-01")
    for kind, amount, period in ((SavingsKind.POKOK, 100_000, None), (SavingsKind.WAJIB, 20_000, "2025-01"),
                                 (SavingsKind.WAJIB, 25_000, "2025-02"), (SavingsKind.WAJIB, 20_000, "2024-12"),
                                 (SavingsKind.SUKARELA, 0, None), (SavingsKind.SUKARELA, -5, None)):
        with pytest.raises((InvalidInput, Conflict)):
            with write_transaction():
                members.deposit(a, kind, amount, dt.date(2025, 2, 1), None, period=period)
    with write_transaction():
        members.deposit(a, SavingsKind.SUKARELA, 150_000, dt.date(2025, 2, 1), None)
    slips, entries = count(Slip), count(JournalEntry)
    with pytest.raises(InvalidInput) as refused:
        with write_transaction():
            members.withdraw(a, 150_001, dt.date(2025, 2, 2), None)
    assert "Rp 150.000" in str(refused.value)
    assert (count(Slip), count(JournalEntry)) == (slips, entries)
    with write_transaction():
        members.withdraw(a, 150_000, dt.date(2025, 2, 2), None)
    assert members.savings_balance(a.id, SavingsKind.SUKARELA) == 0
    arrears = {x.member.number: x.months for x in members.wajib_arrears(dt.date(2025, 4, 30))}
    assert arrears == {a.number: ("2025-02", "2025-03", "2025-04")}


def test_kasbon_is_for_members_within_their_limit(books):
    a = register("Hasan", "6371021212700002")  # savings 100.000: limit 50% = Rp 50.000
    with pytest.raises(InvalidInput):
        members.check_kasbon(None, 1_000)
    with pytest.raises(InvalidInput):
        SaleSummary(sale_id="x", number="x", date=JOIN, unit="TOKO", cash_account="kas:TK", revenue=10_000, ppn=0,
                    cost=0, payments=Payments(kasbon=10_000))
    assert members.kasbon_limit(a.id) == 50_000
    members.check_kasbon(a.id, 50_000)
    with pytest.raises(InvalidInput) as over:
        members.check_kasbon(a.id, 50_001)
    assert "Rp 50.000" in str(over.value)
    sell("k1", a, 30_000, kasbon=30_000)
    assert members.kasbon_balance(a.id) == 30_000 and members.kasbon_available(a.id) == 20_000
    with pytest.raises(InvalidInput):
        with write_transaction():
            members.repay_kasbon(a, 30_001, dt.date(2025, 6, 2), None)
    with pytest.raises(InvalidInput):
        with write_transaction():
            members.set_member_left(a, dt.date(2025, 6, 2), None)
    with write_transaction():
        members.repay_kasbon(a, 30_000, dt.date(2025, 6, 2), None)
    assert members.kasbon_balance(a.id) == 0
    with write_transaction():
        members.set_member_left(a, dt.date(2025, 6, 3), None)
    with pytest.raises(InvalidInput):
        members.check_kasbon(a.id, 1_000)


def test_shu_by_hand(books):
    """Surplus Rp 199.997 with the default split (30/25/20/5x5), worked out on paper:

    member business: revenue 400.000 - HPP 280.000 - 40 % of the salaries 100.003 (40.001,2 -> 40.001) = 79.999;
    non-member business: 600.000 - 420.000 - 60.002 = 119.998 (docs/ledger.md, *Partisipasi anggota*).
    pools: cadangan 59.999, jasa anggota 49.999, jasa modal 39.999, five funds 9.999 each; jasa anggota comes from
    member business only: 25 % of 79.999 = 19.999 (19.999,75), the other 30.000 stays in cadangan (89.999).
    jasa anggota by purchases 300.000 : 100.000 -> A 14.999 (14.999,25), B 4.999 (4.999,75).
    jasa modal by pokok + wajib 140.000 : 120.000 -> A 21.537 (21.537,92), B 18.461 (18.461,08).
    allocated 89.999 + 49.995 + 19.998 + 39.998 = 199.990, so the rounding remainder is Rp 7.
    """
    a, b = register("Anggota A", "6371020202850001"), register("Anggota B", "6371024303860002")
    with write_transaction():
        members.deposit(a, SavingsKind.WAJIB, 20_000, dt.date(2025, 1, 15), None, period="2025-01")
        members.deposit(a, SavingsKind.WAJIB, 20_000, dt.date(2025, 2, 15), None, period="2025-02")
        members.deposit(b, SavingsKind.WAJIB, 20_000, dt.date(2025, 1, 15), None, period="2025-01")
    sell("a", a, 300_000, cost=210_000)
    sell("b", b, 100_000, cost=70_000)
    sell("walk-in", None, 600_000, cost=420_000)
    with write_transaction():
        journal.post(EntryDraft(dt.date(2025, 12, 20), "Gaji", "manual", "g", (
            debit("beban_gaji", 100_003), credit("bank", 100_003)), unit="TOKO"), None)
    with pytest.raises(InvalidInput):  # not before the year is closed
        shu.compute(2025)
    with write_transaction():
        journal.close_year(2025, None, closed_by="test")

    result = shu.compute(2025)
    assert result.surplus == 199_997
    assert (result.member_surplus, result.non_member_surplus) == (79_999, 119_998)
    assert result.pools == {"cadangan": 89_999, "jasa_anggota": 19_999, "jasa_modal": 39_999, "pengurus": 9_999,
                            "karyawan": 9_999, "pendidikan": 9_999, "sosial": 9_999, "pembangunan": 9_999}
    by_number = {m.member.number: m for m in result.members}
    assert (by_number[a.number].purchases, by_number[a.number].savings) == (300_000, 140_000)
    assert (by_number[a.number].jasa_anggota, by_number[a.number].jasa_modal) == (14_999, 21_537)
    assert (by_number[b.number].jasa_anggota, by_number[b.number].jasa_modal) == (4_999, 18_461)
    assert result.remainder == 7

    with pytest.raises(InvalidInput):  # inside the closed year
        with write_transaction():
            shu.distribute(2025, dt.date(2025, 12, 31), True, None)
    with write_transaction():
        entry = shu.distribute(2025, dt.date(2026, 3, 15), True, None, author_name="test")
    assert members.savings_balance(a.id, SavingsKind.SUKARELA) == 14_999 + 21_537
    credits = {(p.account.key, p.member_id): p.credit for p in entry.postings if p.credit}
    assert credits[("cadangan", None)] == 89_999 + 7
    assert sum(p.debit for p in entry.postings) == 199_997
    with pytest.raises(Conflict):
        with write_transaction():
            shu.distribute(2025, dt.date(2026, 3, 16), True, None)


def test_allocation_must_sum_to_one_hundred_percent(books):
    from pos.models import User

    board = db.session.scalar(sa.select(User).where(User.username == "pengurus"))
    for wrong in ({**shu.DEFAULT_ALLOCATION, "cadangan": 2999}, {**shu.DEFAULT_ALLOCATION, "sosial": -1},
                  {k: v for k, v in shu.DEFAULT_ALLOCATION.items() if k != "sosial"}):
        with pytest.raises(InvalidInput):
            with write_transaction():
                shu.set_allocation(wrong, board)
    with write_transaction():
        shu.set_allocation({**shu.DEFAULT_ALLOCATION, "cadangan": 2500, "jasa_anggota": 3000}, board)
    assert shu.allocation()["jasa_anggota"] == 3000


def test_backdated_movements_cannot_overdraw_any_later_day(books):
    a = register("Rusdiana", "6371024707910005")
    with write_transaction():
        members.deposit(a, SavingsKind.SUKARELA, 50_000, dt.date(2025, 3, 20), None)
    for date in (dt.date(2025, 3, 1), dt.date(2024, 12, 1)):  # before the money was there; before joining
        with pytest.raises(InvalidInput):
            with write_transaction():
                members.withdraw(a, 50_000, date, None)
    with pytest.raises(InvalidInput):
        with write_transaction():
            members.deposit(a, SavingsKind.SUKARELA, 10_000, dt.date(2020, 1, 1), None)
    with write_transaction():
        members.withdraw(a, 20_000, dt.date(2025, 3, 25), None)
    with pytest.raises(InvalidInput):  # 30.000 left: a 40.000 withdrawal dated before the 20.000 one would overdraw
        with write_transaction():
            members.withdraw(a, 40_000, dt.date(2025, 3, 21), None)


def test_a_member_who_leaves_is_paid_back_every_savings(books):
    a = register("Gusti Maulana", "6371020909880006")
    with write_transaction():
        members.deposit(a, SavingsKind.WAJIB, 20_000, dt.date(2025, 1, 15), None, period="2025-01")
        members.deposit(a, SavingsKind.SUKARELA, 75_000, dt.date(2025, 2, 1), None)
    with pytest.raises(InvalidInput):
        with write_transaction():
            members.set_member_left(a, dt.date(2024, 12, 31), None)
    with write_transaction():
        slip = members.set_member_left(a, dt.date(2025, 6, 30), None, author_name="test")
    assert slip.kind.value == "pengembalian" and slip.amount == 195_000
    assert members.savings_balances(a.id) == {"pokok": 0, "wajib": 0, "sukarela": 0}
    entry = slip.entry
    assert sorted((p.account.key, p.debit, p.credit) for p in entry.postings) == sorted([
        ("simpanan:pokok", 100_000, 0), ("simpanan:wajib", 20_000, 0), ("simpanan:sukarela", 75_000, 0),
        ("kas:SP", 0, 195_000)])
    assert members.wajib_arrears(dt.date(2025, 12, 31), a.id) == []  # left members owe no wajib
