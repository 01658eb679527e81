"""The demo cooperative's books: opening balances, 50 members with savings history, monthly takings and the goods
bought for them, kasbon, a closed year with its SHU computed (not yet distributed: that is for the RAT).

The cooperative opens with cash, a bank account and no stock. Each month's goods are bought on credit on the last
day of the month before by a goods receipt (inventory.demo.TakingsGoods: Dr persediaan, Cr utang usaha, paid from
the bank later in the month), and each takings entry's HPP is the cost of the goods it took off the shelf: the
inventory accounts hold what was received and not yet sold, never less than nothing, and no correction of the
opening equity is ever needed. The monthly takings end where the warehouse's stock arrives; the tills ring up the
last 30 days themselves (pos.sales.demo)."""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from ledger import accounts, journal, members
from ledger.entries import EntryDraft, credit, debit
from ledger.models import JournalEntry, Member, SavingsKind
from ledger.posting_rules import (
    Payments,
    SaleSummary,
    SupplierPaymentSummary,
    kas,
    sale_entry,
    supplier_payment_entry,
)
from pos.db import db
from pos.errors import PosError

FIRST_NAMES = [
    "Ahmad",
    "Muhammad",
    "Siti",
    "Nurul",
    "Rahmat",
    "Fitri",
    "Abdul",
    "Noor",
    "Hasan",
    "Aisyah",
    "Rizky",
    "Dewi",
    "Fauzan",
    "Halimah",
    "Syarifah",
    "Bahrudin",
    "Zainab",
    "Arsyad",
    "Mariani",
    "Jumiati",
    "Ilham",
    "Rusdiana",
    "Saidah",
    "Gusti",
    "Yusuf",
]
LAST_NAMES = [
    "Rahman",
    "Hidayat",
    "Jannah",
    "Saputra",
    "Aulia",
    "Maulana",
    "Rosyid",
    "Hasanah",
    "Fadillah",
    "Nor",
    "Kurniawan",
    "Ramadhani",
    "Syahrani",
    "Anwar",
    "Wahyuni",
]
KELURAHAN = ["Kelayan Timur", "Kelayan Tengah", "Kelayan Barat", "Kelayan Selatan", "Kelayan Dalam"]
STREETS = ["Jl. Kelayan A", "Jl. Kelayan B", "Jl. Prona I", "Jl. Simpang Kelayan", "Jl. Tembus Mantuil"]
MEMBER_COUNT = 50
SOURCE = "demo"


def _months(start: dt.date, end: dt.date):
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _day(rng: random.Random, year: int, month: int, today: dt.date, low: int = 1, high: int = 28) -> dt.date:
    date = dt.date(year, month, rng.randint(low, high))
    return min(date, today)


def _nik(rng: random.Random, female: bool) -> str:
    day = rng.randint(1, 28) + (40 if female else 0)
    return f"637102{day:02d}{rng.randint(1, 12):02d}{rng.randint(60, 99):02d}{rng.randint(1, 9999):04d}"


def load_ledger_demo(today: dt.date | None = None, takings_until: dt.date | None = None, goods=None) -> bool:
    """Add the demo books once (call inside a write transaction after the units and the demo catalog exist).
    Monthly takings are booked for the days before `takings_until` (default: up to today), their goods bought and
    sold by `goods` (default: inventory.demo.TakingsGoods())."""
    accounts.seed_chart()
    if db.session.scalar(sa.select(JournalEntry.id).where(JournalEntry.source_type == "opening_balance")):
        return False
    today = today or dt.date.today()
    rng = random.Random(20251231)  # noqa: S311 - the same demo every time, not a secret
    demo_year = today.year - 1
    start = dt.date(demo_year - 1, 1, 1)

    journal.post(
        EntryDraft(
            date=start,
            description="Saldo awal pendirian koperasi",
            source_type="opening_balance",
            source_id="1",
            unit=None,
            lines=(
                debit(kas("TK"), 15_000_000, unit="TOKO"),
                debit(kas("AP"), 8_000_000, unit="APOTEK"),
                debit(kas("SP"), 25_000_000, unit="SP"),
                debit("bank", 120_000_000, unit="SP"),
                debit("bank", 40_000_000, unit="GUDANG"),
                credit("utang_usaha", 30_000_000, unit="GUDANG", memo="CV Sumber Pangan Banjar"),
                credit("hibah", 15_000_000, unit="TOKO", memo="Modal penyetaraan Kopdes Merah Putih"),
                credit("hibah", 8_000_000, unit="APOTEK"),
                credit("hibah", 145_000_000, unit="SP"),
                credit("hibah", 10_000_000, unit="GUDANG"),
            ),
        ),
        None,
        author_name=SOURCE,
    )

    people = []
    for n in range(MEMBER_COUNT):
        female = n % 2 == 1
        name = f"{FIRST_NAMES[(n * 7) % len(FIRST_NAMES)]} {LAST_NAMES[(n * 3) % len(LAST_NAMES)]}"
        joined = dt.date(demo_year - 1, 1, 1) + dt.timedelta(days=rng.randint(0, 600))
        joined = min(joined, today - dt.timedelta(days=30))
        people.append((joined, name, female))
    people.sort()
    demo_members: list[Member] = []
    for joined, name, female in people:
        try:
            member = members.register_member(
                members.MemberInput(
                    name=name,
                    nik=_nik(rng, female),
                    address=f"{rng.choice(STREETS)} No. {rng.randint(1, 120)}",
                    rt=str(rng.randint(1, 30)),
                    rw=str(rng.randint(1, 6)),
                    kelurahan=rng.choice(KELURAHAN),
                    phone=f"08{rng.choice(['11', '12', '13', '21', '52', '53'])}{rng.randint(10_000_000, 99_999_999)}",
                    join_date=joined,
                ),
                None,
                author_name=SOURCE,
            )
        except PosError:  # a rare repeated NIK from the generator: skip that person
            continue
        demo_members.append(member)

    in_arrears = {m.id for m in rng.sample(demo_members, 8)}
    for member in demo_members:
        for year, month in _months(member.join_date, today):
            recent = (today.year * 12 + today.month) - (year * 12 + month) < 3
            if member.id in in_arrears and recent:
                continue
            members.deposit(
                member,
                SavingsKind.WAJIB,
                20_000,
                max(_day(rng, year, month, today, 1, 10), member.join_date),
                None,
                period=f"{year}-{month:02d}",
                author_name=SOURCE,
            )
        for _ in range(rng.randint(0, 4)):
            date = member.join_date + dt.timedelta(days=rng.randint(0, max(1, (today - member.join_date).days)))
            members.deposit(
                member,
                SavingsKind.SUKARELA,
                rng.choice([50_000, 100_000, 250_000, 500_000]),
                min(date, today),
                None,
                author_name=SOURCE,
            )

    if goods is None:
        from inventory.demo import TakingsGoods

        goods = TakingsGoods()
    _sales_and_expenses(rng, demo_members, demo_year, today, takings_until or today + dt.timedelta(days=1), goods)

    for member in rng.sample(demo_members, 6):
        balance = members.savings_balance(member.id, SavingsKind.SUKARELA)
        if balance >= 100_000:
            members.withdraw(
                member,
                balance // 2 // 1000 * 1000,
                today,
                None,
                author_name=SOURCE,
            )

    journal.close_year(demo_year - 1, None, closed_by=SOURCE)
    # Last year closes unless the goods and the tills' demo days still fall in it (a demo loaded in January):
    # nothing may be dated in a closed year, so it stays open for the board to close.
    if takings_until is None or takings_until > dt.date(demo_year + 1, 1, 1):
        journal.close_year(demo_year, None, closed_by=SOURCE)
    return True


def _sales_and_expenses(rng: random.Random, demo_members: list[Member], demo_year: int, today: dt.date,
                        takings_until: dt.date, goods) -> None:
    """Monthly takings per member and for walk-in customers, kasbon on some, the goods they sold bought on credit
    the day before the month began and paid from the bank in the month, running costs paid."""
    number = 0
    for year, month in _months(dt.date(demo_year, 1, 1), today):
        bought = []
        for unit, outlet, margin in (("TOKO", "TK", 0.78), ("APOTEK", "AP", 0.70)):
            walk_in = rng.randint(25_000_000, 40_000_000) if unit == "TOKO" else rng.randint(9_000_000, 15_000_000)
            takings = []
            for member in [None, *demo_members]:
                if member is not None and (member.join_date > dt.date(year, month, 28) or rng.random() < 0.35):
                    continue
                amount = walk_in if member is None else rng.randint(150, 1_400) * 1000 // (1 if unit == "TOKO" else 3)
                date = _day(rng, year, month, today)
                if member is not None:
                    date = max(date, member.join_date)  # a member's purchases start when they join
                kasbon = 0
                if member is not None and unit == "TOKO" and rng.random() < 0.15:
                    kasbon = min(amount, members.kasbon_available(member.id)) // 1000 * 1000
                qris = (amount - kasbon) // 5 // 1000 * 1000 if rng.random() < 0.4 else 0
                number += 1
                if date >= takings_until:
                    continue  # from here on the tills ring up every sale themselves
                takings.append((number, member, date, amount, kasbon, qris))
            if not takings:
                continue
            receipt, costs = goods.month(unit, dt.date(year, month, 1) - dt.timedelta(days=1), [
                (f"demo-{n}", date, int(amount * margin)) for n, _member, date, amount, _kasbon, _qris in takings])
            bought.append((unit, receipt))
            for (n, member, date, amount, kasbon, qris), cost in zip(takings, costs, strict=True):
                journal.post(
                    sale_entry(
                        SaleSummary(
                            sale_id=f"demo-{n}",
                            number=f"{outlet}-{year}{month:02d}-{n:05d}",
                            date=date,
                            unit=unit,
                            cash_account=kas(outlet),
                            revenue=amount,
                            ppn=0,
                            cost=cost,
                            payments=Payments(cash=amount - kasbon - qris, qris=qris, kasbon=kasbon),
                            member_id=member.id if member else None,
                        )
                    ),
                    None,
                    author_name=SOURCE,
                )
        pay_day = _day(rng, year, month, today, 25, 28)
        for key, amount, unit, paid_from in (
            ("beban_gaji", 6_500_000, "TOKO", "bank"),
            ("beban_gaji", 4_500_000, "APOTEK", "bank"),
            ("beban_gaji", 2_000_000, "SP", "bank"),
            ("beban_listrik", rng.randint(800, 1_400) * 1000, "TOKO", kas("TK")),
            ("beban_listrik", rng.randint(400, 700) * 1000, "APOTEK", kas("AP")),
            ("beban_atk", rng.randint(100, 300) * 1000, "SP", kas("SP")),
        ):
            journal.post(
                EntryDraft(
                    date=pay_day,
                    description=f"Pembayaran {key.replace('_', ' ')} {year}-{month:02d}",
                    source_type="demo_expense",
                    source_id=f"{key}-{unit}-{year}-{month:02d}",
                    unit=unit,
                    lines=(debit(key, amount), credit(paid_from, amount)),
                ),
                None,
                author_name=SOURCE,
            )
        interest = rng.randint(1_000, 1_400) * 1000
        journal.post(
            EntryDraft(
                date=pay_day,
                description=f"Jasa giro bank {year}-{month:02d}",
                source_type="demo_income",
                source_id=f"jasa-giro-{year}-{month:02d}",
                unit="SP",
                lines=(debit("bank", interest), credit("pendapatan_lain", interest)),
            ),
            None,
            author_name=SOURCE,
        )
        # Takings banked and QRIS settled each month, so the drawers do not grow without end.
        for outlet, unit in (("TK", "TOKO"), ("AP", "APOTEK")):
            cash = _balance(kas(outlet), unit)
            if cash > 20_000_000:
                moved = (cash - 10_000_000) // 1_000_000 * 1_000_000
                journal.post(
                    EntryDraft(
                        date=pay_day,
                        description=f"Setor kas {outlet} ke bank",
                        source_type="demo_banking",
                        source_id=f"{outlet}-{year}-{month:02d}",
                        unit=unit,
                        lines=(debit("bank", moved), credit(kas(outlet), moved)),
                    ),
                    None,
                    author_name=SOURCE,
                )
        qris = _balance("qris", None)
        if qris > 0:
            journal.post(
                EntryDraft(
                    date=pay_day,
                    description="Pelunasan QRIS dari bank",
                    source_type="demo_banking",
                    source_id=f"qris-{year}-{month:02d}",
                    unit=None,
                    lines=(debit("bank", qris, unit="SP"), credit("qris", qris, unit="SP")),
                ),
                None,
                author_name=SOURCE,
            )
        for unit, receipt in bought:  # the month's goods paid to the supplier, after the takings were banked
            journal.post(supplier_payment_entry(SupplierPaymentSummary(
                receipt.number, pay_day, unit, receipt.supplier.name, receipt.total, "bank")), None, author_name=SOURCE)
        for member in demo_members:
            owed = members.kasbon_balance(member.id)
            if owed and rng.random() < 0.6:
                members.repay_kasbon(
                    member,
                    owed if rng.random() < 0.7 else owed // 2 // 1000 * 1000 or owed,
                    _day(rng, year, month, today, 28, 28),  # after any kasbon of the month
                    None,
                    author_name=SOURCE,
                )


def _balance(key: str, unit: str | None) -> int:
    from ledger.models import Account, Posting

    query = (
        sa.select(sa.func.coalesce(sa.func.sum(Posting.debit - Posting.credit), 0))
        .join(Posting.account)
        .where(Account.key == key)
    )
    return int(db.session.scalar(query))
