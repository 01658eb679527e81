"""Balances per account and day (table account_day), kept up to date with the postings they sum.

One row per (date, account, business unit or 0, segment class of the entry, closing flag) holds the sum of the
debits and credits of the posted postings and how many there are. `journal.post` adds each entry's postings in the
same transaction that posts it, so the reports (trial balance, income statement with its member and non-member
split, financial position, opening balances, the year's closing) add up a few rows per day instead of every
posting, exact to the rupiah. `rebuild()` recomputes the table from the postings; `differences()` names every row
where it and the postings disagree (`ledger check`).

The segment class is the entry's revenue segment as the income statement traces costs by it: '' when the entry
has no member or non-member revenue (and for closing entries), 'anggota' or 'non_anggota' when all its segment
revenue is of that segment, 'mixed' when it has both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa

from ledger.models import Account, AccountDay, AccountType, JournalEntry
from pos.db import db

NONE, MIXED = "", "mixed"
CLOSING_SOURCES = ("year_closing",)  # the same as journal.CLOSING_SOURCES (journal imports this module)
KEY = ("date", "account_id", "unit_id", "segment", "closing")


def segment_class(segments: Iterable[str | None], closing: bool) -> str:
    """The class of an entry from the segments of its revenue postings (None for revenue without one)."""
    found = {str(s) for s in segments if s is not None}
    if closing or not found:
        return NONE
    return found.pop() if len(found) == 1 else MIXED


def add_entry(entry: JournalEntry, accounts: Iterable[Account]) -> None:
    """Add a posted entry's postings to the day rows, inside the write transaction that posts it (so under the
    write lock it holds); `accounts` are the postings' accounts, in order."""
    postings = list(entry.postings)
    accounts = list(accounts)
    closing = entry.source_type in CLOSING_SOURCES
    segment = segment_class((a.segment.value for a in accounts if a.type == AccountType.REVENUE and a.segment),
                            closing)
    rows: dict[tuple, list[int]] = {}
    for posting, account in zip(postings, accounts, strict=True):
        key = (entry.date, account.id, posting.unit_id or 0, segment, closing)
        row = rows.setdefault(key, [0, 0, 0])
        row[0] += posting.debit
        row[1] += posting.credit
        row[2] += 1
    add_rows(rows)


def add_rows(rows: dict[tuple, list[int]]) -> None:
    """Add (debit, credit, count) to the rows of the given keys (date, account id, unit id or 0, segment class,
    closing), creating the missing ones: one INSERT ... ON CONFLICT DO UPDATE (SQLite and PostgreSQL)."""
    if not rows:
        return
    table = AccountDay.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c[k] for k in KEY],
        set_={"debit": table.c.debit + statement.excluded.debit, "credit": table.c.credit + statement.excluded.credit,
              "postings": table.c.postings + statement.excluded.postings},
    )
    db.session.execute(statement, [{**dict(zip(KEY, key, strict=True)), "debit": d, "credit": c, "postings": n}
                                   for key, (d, c, n) in rows.items()])


def _recompute_sql() -> str:
    """The day rows as the postings give them: one GROUP BY over the posted postings, each classified by its
    entry's revenue segment (as reports' income statement traces costs). Constants only, no parameters, so the
    grouped expressions are the selected ones on every database."""
    closing = ", ".join(f"'{s}'" for s in CLOSING_SOURCES)
    return f"""
SELECT e.date AS date, p.account_id AS account_id, COALESCE(p.unit_id, 0) AS unit_id,
       CASE WHEN e.source_type IN ({closing}) OR s.low IS NULL THEN ''
            WHEN s.low = s.high THEN s.low ELSE 'mixed' END AS segment,
       e.source_type IN ({closing}) AS closing,
       SUM(p.debit) AS debit, SUM(p.credit) AS credit, COUNT(*) AS postings
FROM posting p
JOIN journal_entry e ON e.id = p.entry_id
LEFT JOIN (
    SELECT rp.entry_id AS entry_id, MIN(ra.segment) AS low, MAX(ra.segment) AS high
    FROM posting rp JOIN account ra ON ra.id = rp.account_id
    WHERE ra.type = '{AccountType.REVENUE.value}' AND ra.segment IS NOT NULL
    GROUP BY rp.entry_id
) s ON s.entry_id = p.entry_id
WHERE e.posted
GROUP BY 1, 2, 3, 4, 5"""  # noqa: S608 - module constants only


def rebuild() -> int:
    """Recompute the whole table from the postings, in SQL (inside the caller's write transaction); returns the
    number of day rows. For the migration's check, tests, bulk loaders that write postings around journal.post,
    and repairs after `ledger check` found a difference."""
    session = db.session
    session.execute(sa.delete(AccountDay))
    session.execute(sa.text(
        "INSERT INTO account_day (date, account_id, unit_id, segment, closing, debit, credit, postings) "
        + _recompute_sql()))
    return session.scalar(sa.select(sa.func.count()).select_from(AccountDay)) or 0


def _rows(result) -> dict[tuple, tuple[int, int, int]]:
    out = {}
    for date, account_id, unit_id, segment, closing, debit, credit, count in result:
        if isinstance(date, str):
            date = dt.date.fromisoformat(date)
        out[(date, int(account_id), int(unit_id), segment or "", bool(closing))] = (
            int(debit or 0), int(credit or 0), int(count or 0))
    return out


def differences(limit: int = 20) -> list[str]:
    """Every day row that differs from a recomputation from the postings, one line each in English (at most
    `limit`, then how many more)."""
    session = db.session
    stored = _rows(session.execute(sa.select(
        AccountDay.date, AccountDay.account_id, AccountDay.unit_id, AccountDay.segment, AccountDay.closing,
        AccountDay.debit, AccountDay.credit, AccountDay.postings)))
    expected = _rows(session.execute(sa.text(_recompute_sql())))
    codes = dict(session.execute(sa.select(Account.id, Account.code)).all())
    problems = []
    for key in sorted(set(stored) | set(expected), key=lambda k: (k[0], codes.get(k[1], ""), k[2], k[3], k[4])):
        have, want = stored.get(key, (0, 0, 0)), expected.get(key, (0, 0, 0))
        if have != want:
            date, account_id, unit_id, segment, closing = key
            where = (f"account {codes.get(account_id, account_id)} on {date.isoformat()}"
                     + (f", unit id {unit_id}" if unit_id else "") + (f", {segment} entries" if segment else "")
                     + (", closing entry" if closing else ""))
            problems.append(f"the balances of {where} say debit {have[0]}, credit {have[1]} ({have[2]} postings); "
                            f"the postings give debit {want[0]}, credit {want[1]} ({want[2]}) — "
                            "rebuild them with `ledger rebuild-balances`")
    if len(problems) > limit:
        problems = problems[:limit] + [f"... and {len(problems) - limit} more day balances differ"]
    return problems
