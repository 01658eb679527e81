"""Closed is closed (SQLite and PostgreSQL): a year is closed by its closing entry, periods close in order and once
ended, nothing is dated before the books' start, in a closed period or far ahead, the database refuses INSERT OR
REPLACE around its guards, and `ledger check` notices a skipped closing, a rewritten or missing entry, an entry
written into a closed period and an SHU distribution dated ahead."""

import datetime as dt

import pytest
import sqlalchemy as sa

from ledger import journal, shu
from ledger.checks import check_books
from ledger.entries import EntryDraft, credit, debit
from ledger.models import Account, ClosedPeriod, JournalEntry, Member
from pos.db import db, write_transaction
from pos.errors import Conflict, InvalidInput
from tests.conftest import ON_POSTGRES

START = dt.date(2025, 1, 1)


def today() -> dt.date:
    return journal.today()


def post(draft: EntryDraft) -> JournalEntry:
    with write_transaction():
        return journal.post(draft, None, author_name="test")


def opening(date: dt.date = START) -> JournalEntry:
    return post(EntryDraft(date, "Saldo awal", "opening_balance", "1",
                           (debit("kas:TK", 1_000_000, unit="TOKO"), credit("hibah", 1_000_000, unit="TOKO"))))


def sale(source_id: str, date: dt.date, amount: int = 10_000) -> JournalEntry:
    return post(EntryDraft(date, f"Penjualan {source_id}", "sale", source_id,
                           (debit("kas:TK", amount), credit("revenue:TOKO:non_anggota", amount)), unit="TOKO"))


def problems() -> list[str]:
    db.session.rollback()
    return check_books()[0]


def raw(sql: str, **params) -> None:
    """Write around the application, as an intruder with database access would (guards off where named)."""
    with db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def without_guards(*statements: str, **params) -> None:
    with db.engine.begin() as conn:
        if ON_POSTGRES:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            for name in ("journal_entry_posted_is_final", "journal_entry_posted_not_deleted",
                         "posting_posted_not_deleted", "posting_posted_is_final", "journal_entry_post_checks",
                         "journal_entry_insert_as_draft", "closed_year_is_final_delete",
                         "closed_period_is_final_delete",
                         "posting_insert_into_draft_only", "journal_entry_no_replace", "posting_no_replace"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        for statement in statements:
            conn.execute(sa.text(statement), params)


def test_a_year_closes_only_with_its_closing_entry_and_the_shu_needs_it(books):
    opening()
    sale("s1", dt.date(2025, 3, 5))
    for month in range(1, 12):
        with write_transaction():
            journal.close_month(2025, month, "pengurus")
    with pytest.raises(InvalidInput, match="December"):
        with write_transaction():
            journal.close_month(2025, 12, "pengurus")
    assert not journal.year_is_closed(2025)
    with pytest.raises(InvalidInput):
        shu.compute(2025)
    with write_transaction():
        closing = journal.close_year(2025, None, closed_by="pengurus")
    assert closing is not None and closing.date == dt.date(2025, 12, 31)
    assert journal.year_is_closed(2025) and journal.closed_year(2025).entry_id == closing.id
    assert shu.compute(2025).surplus == 10_000
    with pytest.raises(Conflict):
        with write_transaction():
            journal.close_year(2025, None, closed_by="pengurus")
    assert problems() == []


def test_ledger_check_finds_a_year_whose_months_were_closed_without_its_closing_entry(books):
    opening()
    sale("s1", dt.date(2025, 3, 5))
    for month in range(1, 13):  # as the old code allowed: twelve months closed, no closing entry
        raw("INSERT INTO closed_period (start_date, end_date, closed_by, closed_at) VALUES (:s, :e, 'x', :t)",
            s=dt.date(2025, month, 1), e=journal.month_bounds(2025, month)[1], t=dt.datetime.now(dt.UTC))
    assert any("2025 has its months closed but no closing entry" in p for p in problems())
    assert not journal.year_is_closed(2025)


def test_nothing_is_dated_before_the_books_start_in_a_closed_period_or_far_ahead(books):
    opening()
    for date in (dt.date(1, 1, 1), dt.date(2023, 3, 1), dt.date(2024, 12, 31)):
        with pytest.raises(InvalidInput, match="before the books' start") as caught:
            sale(f"old-{date}", date)
        assert caught.value.field == "date"
    for date in (today() + dt.timedelta(days=8), dt.date(9999, 12, 31)):
        with pytest.raises(InvalidInput, match="future"):
            sale(f"ahead-{date}", date)
    sale("soon", today() + dt.timedelta(days=7))  # the configured window (future_days = 7)
    with write_transaction():
        journal.close_month(2025, 1, "pengurus")
    with pytest.raises(journal.PeriodClosed):
        sale("closed", dt.date(2025, 1, 20))
    with pytest.raises(Conflict):
        opening(dt.date(2024, 1, 1))  # a second opening balance cannot move the start back
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)) == 2


def test_the_window_ahead_is_configurable(make_app):
    app = make_app(future_days=0)
    with app.app_context():
        from ledger import accounts
        from pos.demo import load_demo

        load_demo(books=False)
        with write_transaction():
            accounts.seed_chart()
        with pytest.raises(InvalidInput, match="in the future"):
            sale("tomorrow", today() + dt.timedelta(days=1))
        sale("today", today())


def test_periods_close_in_order_and_only_once_ended(books):
    opening()
    with pytest.raises(InvalidInput, match="in order"):
        with write_transaction():
            journal.close_month(2025, 3, "pengurus")
    for month in (1, 2):
        with write_transaction():
            journal.close_month(2025, month, "pengurus")
    with pytest.raises(InvalidInput, match="not ended"):
        with write_transaction():
            journal.close_month(today().year, today().month, "pengurus")
    with pytest.raises(InvalidInput, match="not ended"):
        with write_transaction():
            journal.close_year(2030, None, closed_by="pengurus")
    with pytest.raises(InvalidInput, match="not ended"):
        with write_transaction():
            journal.close_year(today().year, None, closed_by="pengurus")
    with write_transaction():
        journal.close_year(2025, None, closed_by="pengurus")  # closes March to December in order
    months = db.session.scalars(sa.select(ClosedPeriod.start_date).order_by(ClosedPeriod.start_date)).all()
    assert months == [dt.date(2025, m, 1) for m in range(1, 13)]


def test_a_year_after_an_open_year_is_refused(books):
    opening(dt.date(2024, 6, 1))
    if today().year < 2026:
        pytest.skip("needs two ended years")
    with pytest.raises(InvalidInput, match="close 2024 first"):
        with write_transaction():
            journal.close_year(2025, None, closed_by="pengurus")


@pytest.mark.skipif(ON_POSTGRES, reason="INSERT OR REPLACE is SQLite's")
def test_insert_or_replace_cannot_rewrite_or_erase_posted_entries(books):
    opening()
    entry = sale("s1", dt.date(2025, 2, 3))
    with write_transaction():
        journal.close_month(2025, 1, "pengurus")
        journal.close_month(2025, 2, "pengurus")
    posting = entry.postings[0]
    attempts = [
        ("INSERT OR REPLACE INTO journal_entry (id, number, date, description, source_type, source_id, author_name, "
         "created_at, posted) VALUES (:e, 'JU/2025/000002', '2025-02-03', 'ditulis ulang', 'sale', 's1', '', "
         "CURRENT_TIMESTAMP, 0)"),
        ("INSERT OR REPLACE INTO posting (id, entry_id, account_id, debit, credit, memo) "
         "VALUES (:p, :e, :a, 1, 0, '')"),
        "REPLACE INTO closed_period (id, start_date, end_date, closed_by, closed_at) "
        "SELECT id, start_date, end_date, 'x', CURRENT_TIMESTAMP FROM closed_period",
    ]
    for statement in attempts:
        for foreign_keys in ("ON", "OFF"):
            with pytest.raises(sa.exc.IntegrityError):
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(f"PRAGMA foreign_keys = {foreign_keys}")
                    conn.execute(sa.text(statement), {"e": entry.id, "p": posting.id, "a": posting.account_id})
    db.session.rollback()
    assert db.session.get(JournalEntry, entry.id).description == "Penjualan s1"
    assert problems() == []


def test_ledger_check_notices_a_rewritten_entry(books):
    opening()
    entry = sale("s1", dt.date(2025, 2, 3))
    sale("s2", dt.date(2025, 2, 4))
    assert problems() == []
    without_guards("UPDATE posting SET debit = 99000 WHERE entry_id = :e AND debit > 0",
                   "UPDATE posting SET credit = 99000 WHERE entry_id = :e AND credit > 0", e=entry.id)
    assert any(f"entry {entry.number} was changed after posting" in p for p in problems())


def test_ledger_check_notices_a_missing_entry_in_the_middle_and_at_the_end(books):
    opening()
    middle, last = [(e.id, e.number) for e in (sale("s1", dt.date(2025, 2, 3)), sale("s2", dt.date(2025, 2, 4)))]
    without_guards("DELETE FROM posting WHERE entry_id = :e", "DELETE FROM journal_entry WHERE id = :e", e=middle[0])
    found = problems()
    assert any(f"entry {middle[1]} is missing" in p for p in found), found
    without_guards("DELETE FROM posting WHERE entry_id = :e", "DELETE FROM journal_entry WHERE id = :e", e=last[0])
    assert any(f"{last[1]} is missing" in p for p in problems())


def test_ledger_check_notices_an_entry_written_into_a_closed_period(books):
    opening()
    with write_transaction():
        journal.close_month(2025, 1, "pengurus")
    entry = sale("s1", dt.date(2025, 2, 3))
    without_guards("UPDATE journal_entry SET date = '2025-01-15' WHERE id = :e", e=entry.id)
    found = problems()
    assert any(f"entry {entry.number} dated 2025-01-15 was written after 2025-01 was closed" in p for p in found)


def test_ledger_check_notices_an_shu_distribution_dated_ahead(books):
    opening()
    sale("s1", dt.date(2025, 3, 5))
    with write_transaction():
        journal.close_year(2025, None, closed_by="pengurus")
    with pytest.raises(InvalidInput, match="not ahead"):
        with write_transaction():
            shu.distribute(2025, today() + dt.timedelta(days=1), False, None, author_name="test")
    with write_transaction():
        shu.distribute(2025, today(), False, None, author_name="test")
    assert problems() == []
    assert any("SHU distribution" in p and "in the future" in p
               for p in check_books(today=today() - dt.timedelta(days=1))[0])


def test_accounts_and_join_dates_that_feed_a_closed_year_do_not_change(books):
    opening()
    with write_transaction():
        from ledger import members

        member = members.register_member(members.MemberInput(name="Siti", nik="6371025508850002",
                                                             join_date=dt.date(2025, 1, 10)), None, author_name="t")
        journal.close_month(2025, 1, "pengurus")
    member_id = member.id
    kas = db.session.scalar(sa.select(Account.id).where(Account.key == "kas:TK"))
    for statement in ("UPDATE account SET type = 'expense' WHERE id = :a",
                      "UPDATE account SET code = '9-9' WHERE id = :a",
                      "DELETE FROM account WHERE id = :a",
                      "UPDATE member SET join_date = '2025-03-01' WHERE id = :m",
                      "UPDATE slip SET amount = 1 WHERE member_id = :m", "DELETE FROM slip WHERE member_id = :m"):
        with pytest.raises(sa.exc.DBAPIError):
            raw(statement, a=kas, m=member_id)
    raw("UPDATE account SET name = 'Kas toko utama' WHERE id = :a", a=kas)  # a name may change
    db.session.rollback()
    assert db.session.get(Member, member_id).join_date == dt.date(2025, 1, 10)


def test_the_cli_follows_the_same_closing_rules_and_asks_first(books):
    opening()
    sale("s1", dt.date(2025, 3, 5))
    runner = books.test_cli_runner()
    now = today()
    refused = runner.invoke(args=["ledger", "close-month", f"{now:%Y-%m}", "--yes"])
    assert refused.exit_code != 0 and "not ended" in refused.output
    assert runner.invoke(args=["ledger", "close-year", "2030", "--yes"]).exit_code != 0
    assert runner.invoke(args=["ledger", "close-month", "2025-03", "--yes"]).exit_code != 0  # January first
    asked = runner.invoke(args=["ledger", "close-year", "2025"], input="n\n")
    assert asked.exit_code != 0 and "Rp 10.000" in asked.output and "12 open month(s)" in asked.output
    assert not journal.year_is_closed(2025)
    done = runner.invoke(args=["ledger", "close-year", "2025"], input="y\n")
    assert done.exit_code == 0, done.output
    db.session.rollback()
    assert journal.year_is_closed(2025)
    checked = runner.invoke(args=["ledger", "check"])
    assert checked.exit_code == 0 and checked.output.startswith("ok"), checked.output


def test_a_mistyped_year_before_the_books_closes_nothing(books):
    opening()
    for year in (2019, 2024):
        with pytest.raises(InvalidInput, match="nothing to close"):
            with write_transaction():
                journal.close_year(year, None, closed_by="pengurus")
    with pytest.raises(InvalidInput, match="nothing to close"):
        with write_transaction():
            journal.close_month(2024, 11, "pengurus")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosedPeriod)) == 0


def test_joining_or_leaving_in_a_closed_month_is_refused_not_a_crash(books, make_app):
    from ledger import members

    opening()
    with write_transaction():
        member = members.register_member(members.MemberInput(name="Siti", nik="6371025508850002",
                                                             join_date=dt.date(2025, 1, 10)), None, author_name="t",
                                         pay_pokok=False)  # no savings: leaving posts no slip
        journal.close_month(2025, 1, "pengurus")
        journal.close_month(2025, 2, "pengurus")
        number = member.number
    with pytest.raises(journal.PeriodClosed):
        with write_transaction():
            members.register_member(members.MemberInput(name="Budi", nik="6371020202850001",
                                                        join_date=dt.date(2025, 2, 1)), None, author_name="t",
                                    pay_pokok=False)
    with pytest.raises(journal.PeriodClosed):
        with write_transaction():
            members.set_member_left(members.member_by_number(number), dt.date(2025, 2, 14), None, author_name="t")


@pytest.mark.skipif(ON_POSTGRES, reason="INSERT/UPDATE OR REPLACE are SQLite's")
def test_replace_cannot_take_a_reversal_a_wajib_month_or_another_rows_unique_value(books):
    from ledger import members
    from ledger.models import Posting

    opening()
    entry = sale("s1", dt.date(2025, 2, 3))
    with write_transaction():
        reversal = journal.reverse(entry.id, dt.date(2025, 2, 4), "salah", None)
        siti = members.register_member(members.MemberInput(name="Siti", nik="6371025508850002",
                                                           join_date=dt.date(2025, 1, 10)), None, author_name="t")
        budi = members.register_member(members.MemberInput(name="Budi", nik="6371020202850001",
                                                           join_date=dt.date(2025, 1, 10)), None, author_name="t")
        members.deposit(siti, "wajib", 20_000, dt.date(2025, 2, 5), None, period="2025-02", author_name="t")
    ids = {"e": entry.id, "r": reversal.id, "n": entry.number, "siti": siti.id, "budi": budi.id,
           "kas": db.session.scalar(sa.select(Account.id).where(Account.key == "kas:TK")),
           "spare": db.session.scalar(sa.select(Account.id).where(
               ~sa.exists().where(Posting.account_id == Account.id)).order_by(Account.id.desc())),
           "posted_posting": entry.postings[0].id}
    refused = [
        # INSERT OR REPLACE by the reversal link or by the wajib month would delete the final row
        "INSERT OR REPLACE INTO journal_entry (number, date, description, source_type, source_id, author_name, "
        "created_at, posted, reverses_id) VALUES ('X/1', '2025-02-04', 'x', 't', 'x1', '', CURRENT_TIMESTAMP, 0, :e)",
        "INSERT OR REPLACE INTO slip (number, member_id, kind, savings_kind, period, amount, date, outlet_id, "
        "entry_id, created_by, created_at) SELECT 'SLP/X', member_id, kind, savings_kind, period, 1, date, "
        "outlet_id, :r, 'x', created_at FROM slip WHERE savings_kind = 'wajib'",
        # UPDATE OR REPLACE of a draft, an unused account or another member onto a final row's unique value
        "UPDATE OR REPLACE journal_entry SET number = :n WHERE number = 'DRAFT/1'",
        "UPDATE OR REPLACE posting SET id = :posted_posting WHERE entry_id = (SELECT id FROM journal_entry "
        "WHERE number = 'DRAFT/1')",
        "UPDATE OR REPLACE account SET code = (SELECT code FROM account WHERE id = :kas) WHERE id = :spare",
        "UPDATE OR REPLACE member SET nik = (SELECT nik FROM member WHERE id = :siti) WHERE id = :budi",
    ]
    raw("INSERT INTO journal_entry (number, date, description, source_type, source_id, author_name, created_at, "
        "posted) VALUES ('DRAFT/1', '2025-02-04', 'x', 't', 'd1', '', CURRENT_TIMESTAMP, false)")
    raw("INSERT INTO posting (entry_id, account_id, debit, credit, memo) SELECT id, :kas, 5, 0, '' FROM journal_entry "
        "WHERE number = 'DRAFT/1'", kas=ids["kas"])
    for statement in refused:
        with pytest.raises(sa.exc.IntegrityError):
            with db.engine.begin() as conn:
                conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
                conn.execute(sa.text(statement), {k: v for k, v in ids.items() if f":{k}" in statement})
    raw("DELETE FROM posting WHERE entry_id = (SELECT id FROM journal_entry WHERE number = 'DRAFT/1')")
    raw("DELETE FROM journal_entry WHERE number = 'DRAFT/1'")
    db.session.rollback()
    assert problems() == []


def test_ledger_check_notices_a_reopened_year_a_reopened_month_and_a_sequence_set_back(books):
    opening()
    sale("s1", dt.date(2025, 3, 5))
    with write_transaction():
        journal.close_year(2025, None, closed_by="pengurus")
    sale("s2", dt.date(2026, 1, 5))
    with write_transaction():
        journal.close_month(2026, 1, "pengurus")
        journal.close_month(2026, 2, "pengurus")
    sale("s3", dt.date(2026, 3, 5))
    assert problems() == []
    without_guards("DELETE FROM closed_year WHERE year = 2025")
    without_guards("DELETE FROM closed_period WHERE start_date = '2026-01-01'")
    without_guards("UPDATE number_sequence SET value = 1 WHERE name = 'JU/2026'")
    found = problems()
    assert any("a year that is not recorded as closed" in p for p in found), found
    assert any("2026-01 is open although a later month is closed" in p for p in found), found
    assert any("number sequence JU/2026 stands at 1" in p for p in found), found
