"""`ledger check`: recompute what the books promise and name every place where they do not hold.

Each problem is one line in English for the operator. What is checked: every entry posted and balanced, the trial
balance at zero, gapless entry numbers per year with the hash chain intact (a rewritten, inserted or erased entry
shows), no entry dated before the books' start, in the far future or inside a period closed before it was written,
every closed year closed by its closing entry with its chain head unchanged, the SHU distributed only for a closed
year and not dated ahead, and the day balances the reports read (ledger.balances) equal to the postings.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ledger import balances, chain, journal, reports
from ledger.models import ClosedPeriod, ClosedYear, JournalEntry, Posting, Sequence
from pos.db import db


def check_books(today: dt.date | None = None) -> tuple[list[str], reports.TrialBalance]:
    today = today or journal.today()
    problems: list[str] = []
    unbalanced = db.session.scalars(
        sa.select(JournalEntry.number).join(Posting).group_by(JournalEntry.id, JournalEntry.number)
        .having(sa.func.sum(Posting.debit) != sa.func.sum(Posting.credit))).all()
    problems += [f"unbalanced entry {n}" for n in unbalanced]
    drafts = db.session.scalars(sa.select(JournalEntry.number).where(JournalEntry.posted.is_(False))).all()
    problems += [f"entry {n} was never posted" for n in drafts]
    problems += balances.differences()
    tb = reports.trial_balance(reports.Scope(dt.date(1900, 1, 1), dt.date(2999, 12, 31)))
    if not tb.balanced:
        problems.append(f"trial balance off: debit {tb.closing_debit}, credit {tb.closing_credit}")
    heads = _check_chain(problems)
    _check_dates(problems, today)
    _check_years(problems, heads, today)
    return problems, tb


def _check_chain(problems: list[str]) -> dict[int, tuple[str, int]]:
    """Walk each year's entries in number order; returns each year's (head hash, count)."""
    postings: dict[int, list[dict]] = {}
    for row in db.session.execute(sa.select(
            Posting.id, Posting.entry_id, Posting.account_id, Posting.debit, Posting.credit, Posting.member_id,
            Posting.unit_id, Posting.memo)).mappings():
        postings.setdefault(row["entry_id"], []).append(dict(row))
    rows = db.session.execute(sa.select(
        JournalEntry.id, JournalEntry.number, JournalEntry.date, JournalEntry.description, JournalEntry.unit_id,
        JournalEntry.source_type, JournalEntry.source_id, JournalEntry.reverses_id, JournalEntry.author_name,
        JournalEntry.chain_hash)).mappings().all()
    by_year: dict[int, list[tuple[int, dict]]] = {}
    for row in rows:
        parts = chain.number_parts(row["number"])
        if parts is None:
            problems.append(f"entry {row['number']} has no journal number of the form JU/<year>/<n>")
            continue
        if parts[0] != row["date"].year:
            problems.append(f"entry {row['number']} is dated {row['date'].isoformat()}, outside its number's year")
        by_year.setdefault(parts[0], []).append((parts[1], dict(row)))
    sequences = dict(db.session.execute(sa.select(Sequence.name, Sequence.value).where(
        Sequence.name.like("JU/%"))).all())
    heads: dict[int, tuple[str, int]] = {}
    for year in sorted(set(by_year) | {int(n.split("/")[1]) for n in sequences if n.split("/")[1].isdigit()}):
        entries = sorted(by_year.get(year, []), key=lambda pair: pair[0])
        previous: str | None = None
        expected = 1
        for seq, row in entries:
            gap = seq != expected
            if gap:
                missing = f"JU/{year}/{expected:06d}" + (f" to JU/{year}/{seq - 1:06d}" if seq - 1 > expected else "")
                problems.append(f"entry {missing} is missing (numbers run without gaps)")
            if row["chain_hash"] is None:
                problems.append(f"entry {row['number']} has no chain hash")
            elif not gap and chain.entry_hash(previous, row, postings.get(row["id"], [])) != row["chain_hash"]:
                problems.append(f"entry {row['number']} was changed after posting (its chain hash does not match)")
            previous = row["chain_hash"]
            expected = seq + 1
        issued = int(sequences.get(f"JU/{year}", 0))
        if entries and issued < entries[-1][0]:
            last_number = entries[-1][1]["number"]
            problems.append(f"the number sequence JU/{year} stands at {issued}, behind entry {last_number}")
        if issued > expected - 1:
            last = f"JU/{year}/{expected:06d}" + (f" to JU/{year}/{issued:06d}" if issued > expected else "")
            problems.append(f"entry {last} is missing (numbered, then gone)")
        heads[year] = (previous or chain.GENESIS, len(entries))
    return heads


def _check_dates(problems: list[str], today: dt.date) -> None:
    start = journal.books_start()
    if start is not None:
        for number, date in db.session.execute(sa.select(JournalEntry.number, JournalEntry.date).where(
                JournalEntry.date < start).order_by(JournalEntry.date)):
            problems.append(f"entry {number} is dated {date.isoformat()}, before the books' start {start.isoformat()}")
    for number, date in db.session.execute(sa.select(JournalEntry.number, JournalEntry.date).where(
            JournalEntry.date > today + dt.timedelta(days=366))):
        problems.append(f"entry {number} is dated {date.isoformat()}, far in the future")
    late = db.session.execute(
        sa.select(JournalEntry.number, JournalEntry.date, ClosedPeriod.start_date)
        .join(ClosedPeriod, JournalEntry.date.between(ClosedPeriod.start_date, ClosedPeriod.end_date))
        .where(JournalEntry.created_at > ClosedPeriod.closed_at))
    for number, date, period in late:
        problems.append(f"entry {number} dated {date.isoformat()} was written after {period:%Y-%m} was closed")


def _temporary_net(year: int, with_closing: bool) -> int:
    balances = journal.temporary_balances(dt.date(year, 1, 1), dt.date(year, 12, 31), with_closing=with_closing)
    return sum(abs(net) for net in balances.values())


def _check_years(problems: list[str], heads: dict[int, tuple[str, int]], today: dt.date) -> None:
    closed = {row.year: row for row in db.session.scalars(sa.select(ClosedYear))}
    months: dict[int, set[int]] = {}
    for start, end in db.session.execute(sa.select(ClosedPeriod.start_date, ClosedPeriod.end_date)):
        day = start
        while day <= end:
            months.setdefault(day.year, set()).add(day.month)
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    for year, closed_months in sorted(months.items()):
        if (12 in closed_months or len(closed_months) == 12) and year not in closed:
            problems.append(f"year {year} has its months closed but no closing entry (close it with close-year)")
    for number, source_id in db.session.execute(sa.select(JournalEntry.number, JournalEntry.source_id).where(
            JournalEntry.source_type.in_(journal.CLOSING_SOURCES))):
        if not source_id.isdigit() or int(source_id) not in closed:
            problems.append(f"closing entry {number} is for {source_id}, a year that is not recorded as closed")
    first = journal.books_start() or db.session.scalar(sa.select(sa.func.min(JournalEntry.date)))
    last_closed = db.session.scalar(sa.select(sa.func.max(ClosedPeriod.end_date)))
    if first is not None and last_closed is not None:
        y, m = first.year, first.month
        while dt.date(y, m, 1) <= last_closed:
            if m not in months.get(y, set()):
                problems.append(f"{y}-{m:02d} is open although a later month is closed (months close in order)")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    for year in range(first.year if first else 0, max(closed, default=0)):
        if year not in closed and db.session.scalar(sa.select(JournalEntry.id).where(
                JournalEntry.date.between(dt.date(year, 1, 1), dt.date(year, 12, 31))).limit(1)):
            problems.append(f"year {year} has entries and is not closed although a later year is")
    for year, row in sorted(closed.items()):
        if row.entry_id is None and _temporary_net(year, with_closing=False):
            problems.append(f"year {year} was closed without a closing entry although it has revenue or expenses")
        elif _temporary_net(year, with_closing=True):
            problems.append(f"year {year}: revenue and expenses are not zero after its closing entry")
        head, count = heads.get(year, (chain.GENESIS, 0))
        if (row.chain_head, row.entry_count) != (head, count):
            problems.append(f"year {year} changed after it was closed ({row.entry_count} entries then, {count} now)")
    from pos.formats import to_local

    zone = journal.local_zone()
    for number, date, source_id, created_at in db.session.execute(sa.select(
            JournalEntry.number, JournalEntry.date, JournalEntry.source_id, JournalEntry.created_at).where(
            JournalEntry.source_type == "shu_distribution")):
        written = to_local(created_at, zone).date() if created_at is not None else today
        if date > today or date > written:
            problems.append(f"SHU distribution {number} is dated {date.isoformat()}, in the future of the day it "
                            f"was written ({written.isoformat()})")
        if source_id.isdigit() and date <= dt.date(int(source_id), 12, 31):
            problems.append(f"SHU distribution {number} is dated {date.isoformat()}, before its year ended")
        if not source_id.isdigit() or int(source_id) not in closed:
            problems.append(f"SHU distribution {number} is for {source_id}, a year that is not closed")
