"""The day balances (account_day, ledger.balances) the reports read: on the demo books and after further postings (a
sale, an entry with member and non-member revenue, a reversal, a closing entry, the SHU) every report equals a
straightforward recomputation from the postings; the journal and the buku besar read page by page (keyset) give
every posting once, in order, with the running balance unbroken; `ledger check` finds a tampered, missing or stray
day row and `ledger rebuild-balances` repairs it; the migration's backfill equals rebuild()."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from openpyxl import load_workbook

from ledger import balances, journal, reports, shu
from ledger.checks import check_books
from ledger.entries import EntryDraft, credit, debit
from ledger.models import Account, AccountDay, AccountType, JournalEntry, MemberSegment, Posting
from pos.app import create_app
from pos.db import db, write_transaction
from pos.models import BusinessUnit
from tests.conftest import base_config, sign_in
from tests.integration.test_migrations import empty_database  # noqa: F401 - the fixture
from tests.integration.test_partisipasi import worked_example

TEMPORARY = (AccountType.REVENUE, AccountType.COGS, AccountType.EXPENSE)


# --- the straightforward recomputation: every posted posting, summed in Python --------------------


def postings() -> list[dict]:
    rows = db.session.execute(sa.text(
        "SELECT p.id, p.entry_id, p.account_id, p.debit, p.credit, p.unit_id, e.date, e.source_type "
        "FROM posting p JOIN journal_entry e ON e.id = p.entry_id WHERE e.posted ORDER BY e.date, p.id")).mappings()
    out = []
    for row in rows:
        row = dict(row)
        if isinstance(row["date"], str):
            row["date"] = dt.date.fromisoformat(row["date"])
        out.append(row)
    return out


def by_account(rows, keep) -> dict[int, tuple[int, int]]:
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for p in rows:
        if keep(p):
            sums[p["account_id"]][0] += p["debit"]
            sums[p["account_id"]][1] += p["credit"]
    return {k: tuple(v) for k, v in sums.items()}


def in_unit(p, unit) -> bool:
    return unit is None or p["unit_id"] == unit.id


def closing(p) -> bool:
    return p["source_type"] in journal.CLOSING_SOURCES


def segment_rows(rows, accounts: dict[int, Account], scope: reports.Scope):
    """What reports._segment_sums gave when it read the postings: (account, unit, traced segment, debit, credit)
    grouped by the entry's lowest and highest revenue segment."""
    seg: dict[int, set[str]] = defaultdict(set)
    for p in rows:
        account = accounts[p["account_id"]]
        if account.type == AccountType.REVENUE and account.segment and not closing(p):
            seg[p["entry_id"]].add(account.segment.value)
    groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for p in rows:
        account = accounts[p["account_id"]]
        if (account.type in TEMPORARY and not closing(p) and scope.start <= p["date"] <= scope.end
                and in_unit(p, scope.unit)):
            found = sorted(seg.get(p["entry_id"], ()))
            key = (p["account_id"], p["unit_id"], found[0] if found else None, found[-1] if found else None)
            groups[key][0] += p["debit"]
            groups[key][1] += p["credit"]
    return [(a, u, MemberSegment(low) if low is not None and low == high else None, d, c)
            for (a, u, low, high), (d, c) in groups.items()]


def revenue_share(rows, accounts, scope):
    share: dict[MemberSegment, int] = defaultdict(int)
    for p in rows:
        account = accounts[p["account_id"]]
        if (account.type == AccountType.REVENUE and account.segment and not closing(p)
                and scope.start <= p["date"] <= scope.end):
            share[account.segment] += p["credit"] - p["debit"]
    return dict(share)


def income_statement_from_postings(rows, accounts, scope, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(reports, "_segment_sums", lambda s: segment_rows(rows, accounts, s))
        patch.setattr(reports, "_cooperative_revenue_share", lambda s: revenue_share(rows, accounts, s))
        return reports.income_statement(scope)


def assert_reports_match_the_postings(monkeypatch, scopes, as_of_dates, ledger_accounts=(), page=3):
    rows = postings()
    accounts = {a.id: a for a in reports.accounts()}
    units = [None, *db.session.scalars(sa.select(BusinessUnit).order_by(BusinessUnit.code))]
    assert balances.differences() == []
    for start, end in scopes:
        for unit in units:
            scope = reports.Scope(start, end, unit)
            opening = by_account(rows, lambda p, u=unit, s=start: p["date"] < s and in_unit(p, u))
            period = by_account(rows, lambda p, u=unit, s=start, e=end: s <= p["date"] <= e and in_unit(p, u))
            expected = {a: (opening.get(a, (0, 0))[0] - opening.get(a, (0, 0))[1], *period.get(a, (0, 0)))
                        for a in set(opening) | set(period)}
            tb = reports.trial_balance(scope)
            assert {r.account.id: (r.opening, r.debit, r.credit) for r in tb.rows} == expected, (scope, unit)
            assert tb.balanced
            summary = reports.income_statement(scope)
            assert summary == income_statement_from_postings(rows, accounts, scope, monkeypatch), (start, end, unit)
            assert summary.member_surplus + summary.non_member_surplus == summary.surplus
            net = defaultdict(int)
            for p in rows:
                if accounts[p["account_id"]].type in TEMPORARY and not closing(p) and start <= p["date"] <= end:
                    net[(accounts[p["account_id"]].code, p["unit_id"])] += p["debit"] - p["credit"]
            codes = {u.id: u.code for u in units if u is not None}
            if unit is None:
                assert journal.temporary_balances(start, end) == {
                    (code, codes.get(u)): v for (code, u), v in net.items() if v}
            for code in ledger_accounts:
                account = next(a for a in accounts.values() if a.code == code)
                assert_general_ledger(rows, scope, account, limit=page)
            assert_journal_pages(rows, scope, limit=page * 3)
    for as_of in as_of_dates:
        for unit in units:
            sums = by_account(rows, lambda p, u=unit, d=as_of: p["date"] <= d and in_unit(p, u))
            position = reports.financial_position(as_of, unit)
            lines = {line.account.id: line.amount for line in position.assets + position.liabilities + position.equity}
            want = {a: reports.normal_balance(accounts[a], d, c) for a, (d, c) in sums.items()
                    if not accounts[a].type.temporary and reports.normal_balance(accounts[a], d, c)}
            assert lines == want, (as_of, unit)
            assert position.current_surplus == sum(c - d for a, (d, c) in sums.items() if accounts[a].type.temporary)
            assert position.balanced


def assert_general_ledger(rows, scope, account, limit=3):
    mine = [p for p in rows if p["account_id"] == account.id and in_unit(p, scope.unit)]
    balance = sum(reports.normal_balance(account, p["debit"], p["credit"]) for p in mine if p["date"] < scope.start)
    opening, expected = balance, []
    for p in mine:
        if scope.start <= p["date"] <= scope.end:
            balance += reports.normal_balance(account, p["debit"], p["credit"])
            expected.append((p["id"], balance))
    whole = reports.general_ledger(scope, account)
    assert (whole.opening, whole.closing) == (opening, balance)
    assert [(line.posting.id, line.balance) for line in whole.lines] == expected
    # Page by page, forward: every line once, in order, each page carrying the balance on.
    seen, cursor, pages = [], None, []
    while True:
        page = reports.general_ledger(scope, account, after=cursor, limit=limit)
        assert page.carried == (seen[-1][1] if seen else opening) and page.closing == balance
        seen += [(line.posting.id, line.balance) for line in page.lines]
        pages.append(page)
        if not page.has_next:
            break
        cursor = page.last
    assert seen == expected
    # And backward from the last page's first line.
    if len(pages) > 1:
        back, cursor = [], pages[-1].first
        while cursor is not None:
            page = reports.general_ledger(scope, account, before=cursor, limit=limit)
            back = [(line.posting.id, line.balance) for line in page.lines] + back
            cursor = page.first if page.has_previous else None
        assert back + [(line.posting.id, line.balance) for line in pages[-1].lines] == expected
    download = list(reports.general_ledger_rows(scope, account, batch=limit))
    assert [row[5] for row in download] == [b for _, b in expected]


def assert_journal_pages(rows, scope, limit=7):
    entries = sorted({(p["date"], p["entry_id"]) for p in rows
                      if scope.start <= p["date"] <= scope.end and in_unit(p, scope.unit)})
    seen, cursor = [], None
    while True:
        page = reports.journal(scope, after=cursor, limit=limit, max_postings=40)
        assert page.entries or not seen
        assert sum(len(e.postings) for e in page.entries) <= 40 or len(page.entries) == 1
        seen += [(e.date, e.id) for e in page.entries]
        if not page.has_next:
            break
        cursor = page.last
    assert seen == entries
    if entries:
        last = reports.journal(scope, before=(entries[-1][0], entries[-1][1] + 1), limit=limit)
        assert [(e.date, e.id) for e in last.entries] == [
            x for x in entries if x <= entries[-1]][-len(last.entries):]
    numbers = dict(db.session.execute(sa.select(JournalEntry.id, JournalEntry.number)).all())
    chosen = {entry_id for _, entry_id in entries}
    expected = [(numbers[e], d, c) for _, e in entries for p in sorted(rows, key=lambda p: p["id"])
                if p["entry_id"] == e for d, c in [(p["debit"], p["credit"])]] if len(entries) < 300 else None
    download = [(row[0], row[5], row[6]) for row in reports.journal_rows(scope, batch=limit)]
    assert len(download) == sum(1 for p in rows if p["entry_id"] in chosen)
    assert expected is None or download == expected


def post(draft):
    with write_transaction():
        return journal.post(draft, None, author_name="test")


def day_rows() -> dict:
    return {(r.date, r.account_id, r.unit_id, r.segment, r.closing): (r.debit, r.credit, r.postings)
            for r in db.session.scalars(sa.select(AccountDay))}


def assert_rebuild_changes_nothing():
    before = day_rows()
    with write_transaction():
        balances.rebuild()
    assert day_rows() == before


# --- the tests -------------------------------------------------------------------------------------


def test_reports_from_the_day_balances_equal_the_postings_through_a_year_and_its_closing(books, monkeypatch):
    worked_example()  # test_partisipasi's year 2025: member and non-member sales, a return, costs to split
    year = reports.Scope(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    mixed = post(EntryDraft(dt.date(2025, 8, 1), "Penjualan campur", "sale", "mx1", (
        debit("kas:TK", 30_001), credit("revenue:TOKO:anggota", 10_000), credit("revenue:TOKO:non_anggota", 20_001),
        debit("hpp:TOKO", 21_000), credit("persediaan:TOKO", 21_000)), unit="TOKO"))
    wrong = post(EntryDraft(dt.date(2025, 8, 2), "Salah catat", "manual", "w1",
                            (debit("beban_atk", 7_777), credit("kas:TK", 7_777)), unit="TOKO"))
    with write_transaction():
        journal.reverse(wrong.id, dt.date(2025, 8, 3), "salah akun")
    assert {r.segment for r in db.session.scalars(sa.select(AccountDay).where(
        AccountDay.date == mixed.date))} == {"mixed"}
    assert_reports_match_the_postings(monkeypatch, [(year.start, year.end), (dt.date(2025, 6, 2), dt.date(2025, 8, 2))],
                                      [dt.date(2025, 6, 1), dt.date(2025, 12, 31)], ledger_accounts=("1-1101",))
    surplus = reports.income_statement(year).surplus
    with write_transaction():
        closing_entry = journal.close_year(2025, None, closed_by="pengurus")
    assert closing_entry is not None
    assert journal.temporary_balances(year.start, year.end, with_closing=True) == {}
    assert reports.income_statement(year).surplus == surplus  # closing entries are left out
    position = reports.financial_position(year.end)
    assert position.current_surplus == 0 and position.balanced
    result = shu.compute(2025)
    assert result.surplus == surplus and result.member_surplus == reports.income_statement(year).member_surplus
    with write_transaction():
        shu.distribute(2025, journal.today(), True, None, author_name="test")
    assert_reports_match_the_postings(monkeypatch, [(year.start, year.end), (dt.date(2000, 1, 1), journal.today())],
                                      [year.end, journal.today()], ledger_accounts=("1-1101", "3-4100", "2-1200"))
    assert check_books()[0] == []
    assert_rebuild_changes_nothing()


def test_on_the_demo_books_every_report_equals_the_postings(app, monkeypatch):
    from pos.demo import load_demo

    with app.app_context():
        load_demo()
        db.session.remove()
        today = journal.today()
        demo_year = today.year - 1
        member_id = db.session.scalar(sa.text("SELECT min(id) FROM member"))
        post(EntryDraft(today, "Penjualan anggota", "sale", "extra-1", (
            debit("kas:TK", 12_500), credit("revenue:TOKO:anggota", 12_500, member_id=member_id),
            debit("hpp:TOKO", 9_000), credit("persediaan:TOKO", 9_000)), unit="TOKO"))
        sale = db.session.scalar(sa.select(JournalEntry).where(JournalEntry.source_type == "sale",
                                                               JournalEntry.date == today - dt.timedelta(days=2)))
        assert sale is not None  # the tills' demo days
        with write_transaction():
            journal.reverse(sale.id, today, "retur")
        if today.month > 1:  # a demo loaded in January leaves last year open
            assert journal.year_is_closed(demo_year) and shu.compute(demo_year).surplus > 0
            with write_transaction():
                shu.distribute(demo_year, today, False, None, author_name="test")
        assert_reports_match_the_postings(
            monkeypatch,
            [(dt.date(demo_year, 1, 1), dt.date(demo_year, 12, 31)), (dt.date(today.year, 1, 1), today),
             (dt.date(2000, 1, 1), today)],
            [dt.date(demo_year, 6, 30), today], ledger_accounts=("1-1101", "4-1101", "3-4100"), page=40)
        assert check_books()[0] == []
        assert_rebuild_changes_nothing()

    client = app.test_client()
    assert sign_in(client, "pengurus").status_code == 302
    span = f"dari={demo_year - 1}-01-01&sampai={today.isoformat()}"
    page = client.get(f"/buku/jurnal?{span}")
    assert page.status_code == 200 and len(page.data) < 1_000_000 and 'rel="next"' in page.text
    following = client.get(f"/buku/jurnal?{span}&setelah={page.text.split('setelah=')[1].split('&')[0]}&halaman=2")
    assert following.status_code == 200 and 'rel="prev"' in following.text
    ledger = client.get(f"/buku/buku-besar?akun=1-1101&{span}")
    assert ledger.status_code == 200 and len(ledger.data) < 1_000_000 and "data-opening=" in ledger.text
    csv = client.get(f"/buku/buku-besar?akun=1-1101&{span}&format=csv")
    assert csv.status_code == 200 and csv.is_streamed
    lines = csv.data.decode("utf-8-sig").splitlines()
    with app.app_context():
        whole = reports.general_ledger(reports.Scope(dt.date(demo_year - 1, 1, 1), today),
                                       db.session.scalar(sa.select(Account).where(Account.code == "1-1101")))
        assert len(lines) == len(whole.lines) + 1 and lines[-1].endswith(f",{whole.closing}")
    xlsx = client.get(f"/buku/jurnal?{span}&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    with app.app_context():
        count = db.session.scalar(sa.text("SELECT count(*) FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
                                          "WHERE e.posted AND e.date >= :s"), {"s": dt.date(demo_year - 1, 1, 1)})
    assert values[0][0] == "Nomor" and len(values) == count + 1
    assert client.get("/buku/jurnal?setelah=kemarin").status_code == 400


def test_ledger_check_finds_a_tampered_missing_or_stray_day_balance_and_rebuild_repairs_it(books, app):
    worked_example()
    assert check_books()[0] == []
    key = db.session.execute(sa.select(AccountDay.date, AccountDay.account_id, AccountDay.unit_id,
                                       AccountDay.segment, AccountDay.closing).order_by(AccountDay.date)).first()
    where = "date = :d AND account_id = :a AND unit_id = :u AND segment = :s AND closing = :c"
    params = {"d": key[0], "a": key[1], "u": key[2], "s": key[3], "c": key[4]}
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE account_day SET debit = debit + 1 WHERE {where}"), params)  # noqa: S608
    found = check_books()[0]
    code = db.session.get(Account, key[1]).code
    assert any(f"the balances of account {code} on {key[0].isoformat()}" in p and "the postings give" in p
               for p in found), found
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM account_day WHERE {where}"), params)  # noqa: S608
        conn.execute(sa.text("INSERT INTO account_day (date, account_id, unit_id, segment, closing, debit, credit, "
                             "postings) VALUES (:d, :a, 0, '', :c, 5, 0, 1)"),
                     {"d": dt.date(2025, 12, 30), "a": key[1], "c": False})
    db.session.rollback()
    found = check_books()[0]
    assert len([p for p in found if "the balances of account" in p]) == 2, found
    db.session.rollback()
    result = app.test_cli_runner().invoke(args=["ledger", "rebuild-balances"])
    assert result.exit_code == 0 and "rebuilt" in result.output
    db.session.rollback()
    assert check_books()[0] == []


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_migration_fills_the_day_balances_as_rebuild_does(empty_database, tmp_path):  # noqa: F811
    app = create_app(base_config(tmp_path / "instance", empty_database))
    with app.app_context():
        upgrade()
        from ledger.accounts import seed_chart
        from pos.demo import load_demo

        load_demo(books=False)
        with write_transaction():
            seed_chart()
        worked_example()
        post(EntryDraft(dt.date(2025, 8, 1), "Penjualan campur", "sale", "mx1", (
            debit("kas:TK", 30_001), credit("revenue:TOKO:anggota", 10_000),
            credit("revenue:TOKO:non_anggota", 20_001)), unit="TOKO"))
        with write_transaction():
            journal.close_year(2025, None, closed_by="pengurus")
        kept = day_rows()
        assert kept and {k[3] for k in kept} >= {"", "anggota", "non_anggota", "mixed"} and any(k[4] for k in kept)
        db.session.remove()
        downgrade(revision="0008_jobs")
        assert "account_day" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        db.session.remove()
        assert day_rows() == kept
        with write_transaction():
            balances.rebuild()
        assert day_rows() == kept
        assert balances.differences() == []
        db.session.remove()
        db.engine.dispose()


def test_downloads_stream_and_one_left_unread_holds_nothing(books_app, signed_in, client):
    with books_app.app_context():
        worked_example()
        db.session.remove()
    signed_in("pengurus")
    span = "dari=2025-01-01&sampai=2025-12-31"
    journal_csv = client.get(f"/buku/jurnal?{span}&format=csv")
    ledger_xlsx = client.get(f"/buku/buku-besar?akun=1-1101&{span}&format=xlsx")
    assert journal_csv.is_streamed and ledger_xlsx.is_streamed
    assert client.get(f"/buku/jurnal?{span}").status_code == 200  # while both wait to be read
    client.get(f"/buku/buku-besar?akun=1-1101&{span}&format=csv")  # and one never read
    rows = journal_csv.data.decode("utf-8-sig").splitlines()
    with books_app.app_context():
        assert len(rows) == 1 + db.session.scalar(sa.select(sa.func.count()).select_from(Posting))
    sheet = load_workbook(io.BytesIO(ledger_xlsx.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("Tanggal", "Nomor", "Keterangan", "Debit", "Kredit", "Saldo")
    assert sheet["D2"].number_format == "#,##0" and isinstance(values[-1][5], int)
