"""Posting entries into the journal, reversing them, numbering, and closing periods.

Call these inside the use case's own write transaction (`pos.db.write_transaction`): the sale, its stock
moves and its journal entry commit together or not at all.
"""

from __future__ import annotations

import calendar
import datetime as dt

import sqlalchemy as sa

from ledger.entries import EntryDraft, Line
from ledger.models import Account, AccountType, ClosedPeriod, JournalEntry, Posting, Sequence
from ledger.posting_rules import reversal_entry, year_closing_entry
from pos.db import db, transaction_cache
from pos.errors import N_, Conflict, InvalidInput, NotFound
from pos.models import BusinessUnit, User

CLOSING_SOURCES = ("year_closing",)


class DuplicatePosting(Conflict):
    """The source document was posted already; the original entry is `entry`."""

    def __init__(self, entry: JournalEntry) -> None:
        super().__init__(N_("This document was already posted as %(number)s."), number=entry.number)
        self.entry = entry


class PeriodClosed(InvalidInput):
    pass


def next_number(series: str, year: int) -> int:
    """The next number of a series for a year, gap-free: taken inside the caller's write transaction."""
    return next_value(f"{series}/{year}")


def next_value(name: str) -> int:
    """The next value of a named counter (a series and its period, e.g. "TK01/20261128"), gap-free: taken inside
    the caller's write transaction, so a rolled-back use case gives its number back."""
    session = db.session
    bumped = session.execute(
        sa.update(Sequence).where(Sequence.name == name).values(value=Sequence.value + 1).returning(Sequence.value)
    ).scalar()
    if bumped is not None:
        return int(bumped)
    try:
        with session.begin_nested():
            session.add(Sequence(name=name, value=1))
        return 1
    except sa.exc.IntegrityError:  # another transaction created the series first (PostgreSQL)
        return next_value(name)


def entry_number(date: dt.date) -> str:
    return f"JU/{date.year}/{next_number('JU', date.year):06d}"


def closed_period_for(date: dt.date) -> ClosedPeriod | None:
    return db.session.scalar(
        sa.select(ClosedPeriod).where(ClosedPeriod.start_date <= date, ClosedPeriod.end_date >= date)
    )


def _units(refresh: bool = False) -> dict[str, int]:
    cache = transaction_cache("business_units")
    if refresh or not cache:
        cache.update(db.session.execute(sa.select(BusinessUnit.code, BusinessUnit.id)).all())
    return cache


_ACCOUNT_CACHE = "ledger_accounts"


def forget_accounts() -> None:
    """Drop the session's account lookup cache (after the chart changes)."""
    db.session.info.pop(_ACCOUNT_CACHE, None)


def resolve_account(ref: str) -> Account:
    """An account by its key ('kas:TK') or its code ('1-1101'); it must be active."""
    cache: dict[str, int] = db.session.info.setdefault(_ACCOUNT_CACHE, {})
    account_id = cache.get(ref)
    account = db.session.get(Account, account_id) if account_id is not None else None
    if account is None:
        with db.session.no_autoflush:
            account = db.session.scalar(sa.select(Account).where(sa.or_(Account.key == ref, Account.code == ref)))
        if account is None:
            raise NotFound(N_("No account '%(ref)s' in the chart of accounts."), ref=ref)
        cache[ref] = account.id
    if not account.active:
        raise InvalidInput(N_("Account %(code)s %(name)s is inactive."), code=account.code, name=account.name)
    return account


def _read_accounts(refs: set[str]) -> None:
    """Read the accounts an entry posts to in one query, into the session (resolve_account then finds them)."""
    cache: dict[str, int] = db.session.info.setdefault(_ACCOUNT_CACHE, {})
    held = transaction_cache("accounts")  # strong references for this transaction: the identity map's are weak
    missing = {ref for ref in refs if cache.get(ref) not in held}
    if missing:
        with db.session.no_autoflush:
            for account in db.session.scalars(sa.select(Account).where(
                    sa.or_(Account.key.in_(missing), Account.code.in_(missing)))):
                cache[account.key if account.key in missing else account.code] = account.id
                held[account.id] = account


def post(draft: EntryDraft, author: User | None = None, author_name: str = "") -> JournalEntry:
    """Write a balanced draft as a posted entry. The database re-checks balance, period and immutability."""
    with db.session.no_autoflush:
        existing = db.session.scalar(
            sa.select(JournalEntry).where(
                JournalEntry.source_type == draft.source_type, JournalEntry.source_id == draft.source_id
            )
        )
    if existing is not None:
        raise DuplicatePosting(existing)
    closed = closed_period_for(draft.date)
    if closed is not None:
        raise PeriodClosed(
            N_("The period %(start)s to %(end)s is closed; date the entry later or ask the board."),
            start=closed.start_date.isoformat(),
            end=closed.end_date.isoformat(),
        )
    units = _units()
    named = {draft.unit, *(line.unit for line in draft.lines)} - {None}
    if not named <= set(units):
        units = _units(refresh=True)
    for code in named:
        if code not in units:
            raise NotFound(N_("No business unit '%(unit)s'."), unit=code)
    _read_accounts({line.account for line in draft.lines})
    resolved = [resolve_account(line.account) for line in draft.lines]
    entry = JournalEntry(
        number=entry_number(draft.date),
        date=draft.date,
        description=draft.description[:250],
        unit_id=units.get(draft.unit) if draft.unit else None,
        source_type=draft.source_type,
        source_id=draft.source_id[:80],
        author_id=author.id if author else None,
        author_name=(author.username if author else author_name)[:40],
        reverses_id=draft.reverses_id,
        posted=False,
    )
    db.session.add(entry)
    for line, account in zip(draft.lines, resolved, strict=True):
        unit_code = line.unit or draft.unit
        entry.postings.append(
            Posting(
                account_id=account.id,
                debit=line.debit,
                credit=line.credit,
                member_id=line.member_id,
                unit_id=units[unit_code] if unit_code else account.unit_id,
                memo=line.memo[:120],
            )
        )
    db.session.flush()  # the draft and its postings in one flush; then posting it fires the database's checks
    entry.posted = True
    db.session.flush()
    return entry


def lines_of(entry: JournalEntry) -> tuple[Line, ...]:
    unit_codes = {uid: code for code, uid in _units().items()}
    return tuple(
        Line(
            p.account.code,
            debit=p.debit,
            credit=p.credit,
            member_id=p.member_id,
            unit=unit_codes.get(p.unit_id),
            memo=p.memo,
        )
        for p in entry.postings
    )


def reverse(entry_id: int, date: dt.date, reason: str, author: User | None = None) -> JournalEntry:
    """Correct a posted entry the only way allowed: a new entry with every posting turned round."""
    original = db.session.get(JournalEntry, entry_id)
    if original is None or not original.posted:
        raise NotFound(N_("No posted journal entry %(id)s."), id=entry_id)
    if original.reverses_id is not None:
        raise InvalidInput(N_("A reversal is not reversed again; post a new entry instead."))
    if original.source_type in CLOSING_SOURCES + ("shu_distribution",):
        raise InvalidInput(N_("Year-end entries cannot be reversed."))
    if db.session.scalar(sa.select(JournalEntry.id).where(JournalEntry.reverses_id == entry_id)) is not None:
        raise Conflict(N_("Entry %(number)s was already reversed."), number=original.number)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(N_("Give a reason for the reversal."))
    draft = reversal_entry(original.id, date, f"Pembalikan {original.number}: {reason}"[:250], lines_of(original))
    draft = EntryDraft(**{**draft.__dict__, "unit": original.unit.code if original.unit else None})
    return post(draft, author)


# --- periods ------------------------------------------------------------------------------------


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    if not (1 <= month <= 12) or not (2000 <= year <= 2100):
        raise InvalidInput(N_("No such month."))
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def close_month(year: int, month: int, closed_by: str) -> ClosedPeriod:
    start, end = month_bounds(year, month)
    if closed_period_for(start) is not None:
        raise Conflict(N_("%(month)s is already closed."), month=f"{year}-{month:02d}")
    period = ClosedPeriod(start_date=start, end_date=end, closed_by=closed_by)
    db.session.add(period)
    db.session.flush()
    return period


def year_is_closed(year: int) -> bool:
    return all(closed_period_for(dt.date(year, m, 1)) is not None for m in range(1, 13))


def temporary_balances(start: dt.date, end: dt.date) -> dict[tuple[str, str | None], int]:
    """Net debit per (account code, unit code) of revenue, cost and expense accounts, closing entries left out."""
    unit_codes = {uid: code for code, uid in _units().items()}
    rows = db.session.execute(
        sa.select(Account.code, Posting.unit_id, sa.func.sum(Posting.debit - Posting.credit))
        .join(Posting.account)
        .join(Posting.entry)
        .where(
            JournalEntry.posted.is_(True),
            JournalEntry.date.between(start, end),
            JournalEntry.source_type.not_in(CLOSING_SOURCES),
            Account.type.in_([AccountType.REVENUE, AccountType.COGS, AccountType.EXPENSE]),
        )
        .group_by(Account.code, Posting.unit_id)
    )
    return {(code, unit_codes.get(unit_id)): int(net) for code, unit_id, net in rows if net}


def close_year(year: int, user: User | None, closed_by: str = "") -> JournalEntry | None:
    """Post the closing entry (revenue and expenses into SHU tahun berjalan), then close every open month."""
    who = user.username if user else closed_by
    if year_is_closed(year):
        raise Conflict(N_("The year %(year)s is already closed."), year=year)
    closing = None
    balances = temporary_balances(dt.date(year, 1, 1), dt.date(year, 12, 31))
    if balances:
        if closed_period_for(dt.date(year, 12, 31)) is not None:
            raise PeriodClosed(
                N_("December %(year)s is closed before the year was: the closing entry has no date."), year=year
            )
        closing = post(year_closing_entry(year, balances), user, author_name=who)
    for month in range(1, 13):
        if closed_period_for(dt.date(year, month, 1)) is None:
            close_month(year, month, who)
    return closing
