"""The journal on a real database: posting, duplicates, reversals, closed periods, and the database guards
that refuse unbalanced, short, or tampering writes even by raw SQL (SQLite and PostgreSQL)."""

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import journal, reports
from ledger.entries import EntryDraft, credit, debit
from ledger.models import ClosedPeriod, JournalEntry, Posting
from pos.db import db, write_transaction
from pos.errors import Conflict, InvalidInput, NotFound

DAY = dt.date(2026, 11, 28)


def cash_sale(source_id: str, amount: int = 10_000, date: dt.date = DAY) -> EntryDraft:
    return EntryDraft(
        date,
        f"Penjualan {source_id}",
        "sale",
        source_id,
        (debit("kas:TK", amount), credit("revenue:TOKO:non_anggota", amount)),
        unit="TOKO",
    )


def post(draft):
    with write_transaction():
        return journal.post(draft, None, author_name="test").id


def test_posted_entries_get_numbers_units_and_postings(books):
    first, second = post(cash_sale("a")), post(cash_sale("b", date=dt.date(2025, 12, 30)))
    a, b = db.session.get(JournalEntry, first), db.session.get(JournalEntry, second)
    assert a.number == "JU/2026/000001" and b.number == "JU/2025/000001"
    assert a.posted and a.unit.code == "TOKO" and len(a.postings) == 2
    assert {p.unit.code for p in a.postings} == {"TOKO"}


def test_the_same_document_is_never_posted_twice(books):
    post(cash_sale("same"))
    with pytest.raises(journal.DuplicatePosting) as caught:
        post(cash_sale("same", amount=99))
    assert caught.value.entry.number == "JU/2026/000001"
    with pytest.raises(sa.exc.IntegrityError):  # and the database agrees
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO journal_entry (number, date, description, source_type, source_id, author_name, "
                    "created_at, posted) "
                    "VALUES ('X/1', '2026-11-28', 'x', 'sale', 'same', '', CURRENT_TIMESTAMP, false)"
                )
            )


def test_unknown_or_inactive_accounts_and_units_are_refused_and_nothing_is_written(books):
    with pytest.raises(NotFound):
        post(EntryDraft(DAY, "x", "t", "1", (debit("kas:NOPE", 5), credit("bank", 5))))
    with pytest.raises(NotFound):
        post(EntryDraft(DAY, "x", "t", "2", (debit("bank", 5), credit("bank", 5)), unit="MARS"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)) == 0


def test_reversal_nets_to_zero_and_happens_once(books):
    original = post(cash_sale("r"))
    with write_transaction():
        reversal = journal.reverse(original, DAY, "salah input", None)
    tb = reports.trial_balance(reports.Scope(DAY, DAY))
    assert all(row.closing == 0 for row in tb.rows)
    assert reversal.reverses_id == original
    with pytest.raises(Conflict):
        with write_transaction():
            journal.reverse(original, DAY, "lagi", None)
    with pytest.raises(InvalidInput):
        with write_transaction():
            journal.reverse(reversal.id, DAY, "balik lagi", None)
    with pytest.raises(InvalidInput):
        with write_transaction():
            journal.reverse(post(cash_sale("r2")), DAY, "   ", None)


def test_closed_periods_refuse_entries_in_code_and_in_the_database(books):
    post(cash_sale("okt", date=dt.date(2026, 10, 5)))  # the books' first month
    with write_transaction():
        journal.close_month(2026, 10, "pengurus")
    with pytest.raises(journal.PeriodClosed):
        post(cash_sale("late", date=dt.date(2026, 10, 31)))
    post(cash_sale("ok", date=dt.date(2026, 11, 1)))
    # Bypassing the code: a draft dated in October cannot be posted by raw SQL either.
    with pytest.raises(sa.exc.IntegrityError):
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO journal_entry (number, date, description, source_type, source_id, author_name, "
                    "created_at, posted) VALUES ('X/2', '2026-10-15', 'x', 't', 'raw', '', CURRENT_TIMESTAMP, false)"
                )
            )
            entry_id = conn.execute(sa.text("SELECT id FROM journal_entry WHERE number = 'X/2'")).scalar()
            account = conn.execute(sa.text("SELECT id FROM account WHERE key = 'bank'")).scalar()
            for d, c in ((100, 0), (0, 100)):
                conn.execute(
                    sa.text(
                        "INSERT INTO posting (entry_id, account_id, debit, credit, memo) VALUES (:e, :a, :d, :c, '')"
                    ),
                    {"e": entry_id, "a": account, "d": d, "c": c},
                )
            conn.execute(sa.text("UPDATE journal_entry SET posted = true WHERE id = :e"), {"e": entry_id})
    with pytest.raises(sa.exc.DBAPIError):  # and a closed period is never reopened
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM closed_period"))
    with pytest.raises(Conflict):
        with write_transaction():
            journal.close_month(2026, 10, "pengurus")


TAMPERING = [
    "UPDATE journal_entry SET description = 'dihapus' WHERE id = :e",
    "UPDATE journal_entry SET posted = false WHERE id = :e",
    "DELETE FROM journal_entry WHERE id = :e",
    "UPDATE posting SET debit = debit + 1000 WHERE entry_id = :e AND debit > 0",
    "UPDATE posting SET account_id = account_id WHERE entry_id = :e",
    "DELETE FROM posting WHERE entry_id = :e",
    "INSERT INTO posting (entry_id, account_id, debit, credit, memo) "
    "SELECT :e, account_id, 0, 500, '' FROM posting WHERE entry_id = :e AND debit > 0",
]


@pytest.mark.parametrize("statement", TAMPERING)
def test_posted_entries_cannot_be_changed_even_by_raw_sql(books, statement):
    entry_id = post(cash_sale("t"))
    with pytest.raises(sa.exc.IntegrityError):
        with db.engine.begin() as conn:
            conn.execute(sa.text(statement), {"e": entry_id})
    db.session.expire_all()
    entry = db.session.get(JournalEntry, entry_id)
    assert entry.posted and entry.description == "Penjualan t"
    assert sorted((p.debit, p.credit) for p in entry.postings) == [(0, 10_000), (10_000, 0)]


def _raw_entry(conn, lines, posted_directly=False):
    conn.execute(
        sa.text(
            "INSERT INTO journal_entry (number, date, description, source_type, source_id, author_name, created_at, "
            "posted) VALUES ('RAW/1', '2026-11-28', 'x', 'raw', '1', '', CURRENT_TIMESTAMP, :p)"
        ),
        {"p": posted_directly},
    )
    entry_id = conn.execute(sa.text("SELECT id FROM journal_entry WHERE number = 'RAW/1'")).scalar()
    bank = conn.execute(sa.text("SELECT id FROM account WHERE key = 'bank'")).scalar()
    for d, c in lines:
        conn.execute(
            sa.text("INSERT INTO posting (entry_id, account_id, debit, credit, memo) VALUES (:e, :a, :d, :c, '')"),
            {"e": entry_id, "a": bank, "d": d, "c": c},
        )
    conn.execute(sa.text("UPDATE journal_entry SET posted = true WHERE id = :e"), {"e": entry_id})


@pytest.mark.parametrize(
    ("lines", "posted_directly"),
    [
        ([(100, 0), (0, 99)], False),
        ([(100, 0)], False),
        ([], False),
        ([(100, 0), (0, 100)], True),
        ([(100, 0), (0, -100)], False),
        ([(0, 0), (0, 0)], False),
        ([(100, 100), (0, 0)], False),
    ],
)
def test_the_database_refuses_unbalanced_short_or_negative_entries(books, lines, posted_directly):
    with pytest.raises(sa.exc.IntegrityError):
        with db.engine.begin() as conn:
            _raw_entry(conn, lines, posted_directly)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)) == 0


ACCOUNTS = [
    "kas:TK",
    "bank",
    "qris",
    "persediaan:TOKO",
    "utang_usaha",
    "simpanan:sukarela",
    "revenue:TOKO:anggota",
    "hpp:TOKO",
    "beban_gaji",
    "cadangan",
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.integers(1, 10**10)), min_size=1, max_size=4),
        min_size=1,
        max_size=6,
    )
)
def test_any_sequence_of_valid_entries_keeps_the_trial_balance_at_zero(books, batches):
    start = db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry))
    for n, parts in enumerate(batches):
        lines = [debit(account, amount) for account, amount in parts]
        lines.append(credit(ACCOUNTS[(n + 3) % len(ACCOUNTS)], sum(amount for _, amount in parts)))
        post(EntryDraft(DAY, "acak", "property", f"{start}-{n}", tuple(lines), unit="TOKO"))
    for unit in (None, db.session.scalar(sa.select(reports.BusinessUnit).where(reports.BusinessUnit.code == "TOKO"))):
        tb = reports.trial_balance(reports.Scope(dt.date(2000, 1, 1), DAY, unit))
        assert tb.balanced
        assert sum(row.closing for row in tb.rows) == 0
    net = db.session.scalar(sa.select(sa.func.sum(Posting.debit) - sa.func.sum(Posting.credit)))
    assert net == 0


def test_year_closing_zeroes_income_accounts_and_keeps_the_statement(books):
    post(
        EntryDraft(
            dt.date(2025, 5, 1),
            "jual",
            "sale",
            "y1",
            (debit("kas:TK", 500_000), credit("revenue:TOKO:anggota", 500_000)),
            unit="TOKO",
        )
    )
    post(
        EntryDraft(
            dt.date(2025, 5, 2),
            "gaji",
            "manual",
            "y2",
            (debit("beban_gaji", 200_000), credit("bank", 200_000)),
            unit="SP",
        )
    )
    with write_transaction():
        closing = journal.close_year(2025, None, closed_by="test")
    assert journal.year_is_closed(2025) and closing.date == dt.date(2025, 12, 31)
    statement = reports.income_statement(reports.Scope(dt.date(2025, 1, 1), dt.date(2025, 12, 31)))
    assert statement.surplus == 300_000 and statement.total_member_revenue == 500_000
    position = reports.financial_position(dt.date(2025, 12, 31))
    assert position.current_surplus == 0 and position.balanced
    assert [(line.label, line.amount) for line in position.equity] == [("3-4100 SHU tahun berjalan", 300_000)]
    for unit_code in ("TOKO", "SP"):
        unit = db.session.scalar(sa.select(reports.BusinessUnit).where(reports.BusinessUnit.code == unit_code))
        assert reports.trial_balance(reports.Scope(dt.date(2025, 1, 1), dt.date(2025, 12, 31), unit)).balanced
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosedPeriod)) == 12


@pytest.mark.skipif(not __import__("tests.conftest").conftest.ON_POSTGRES, reason="TRUNCATE is PostgreSQL's")
@pytest.mark.parametrize("table", ["posting", "journal_entry", "closed_period"])
def test_the_books_cannot_be_truncated(books, table):
    post(cash_sale("keep"))
    with pytest.raises(sa.exc.IntegrityError):
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {table} CASCADE")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Posting)) == 2


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 10**9)), min_size=0, max_size=5).filter(
        lambda lines: len(lines) < 2
        or sum(d for d, _ in lines) != sum(c for _, c in lines)
        or any((d > 0) == (c > 0) for d, c in lines)
    )
)
def test_any_unbalanced_short_or_malformed_raw_entry_is_refused(books, lines):
    """Whatever a raw SQL client writes, an entry that is not a proper double entry never gets posted."""
    with pytest.raises(sa.exc.IntegrityError):
        with db.engine.begin() as conn:
            _raw_entry(conn, lines)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry).where(JournalEntry.posted)) == 0
