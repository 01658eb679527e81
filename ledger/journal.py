"""Posting entries into the journal, reversing them, numbering, and closing periods.

Call these inside the use case's own write transaction (`pos.db.write_transaction`): the sale, its stock
moves and its journal entry commit together or not at all.
"""

from __future__ import annotations

import calendar
import datetime as dt

import sqlalchemy as sa

from ledger import balances, chain
from ledger.entries import EntryDraft, Line
from ledger.models import Account, AccountDay, AccountType, ClosedPeriod, ClosedYear, JournalEntry, Posting, Sequence
from ledger.posting_rules import reversal_entry, year_closing_entry
from pos.db import db, transaction_cache
from pos.errors import N_, Conflict, InvalidInput, NotFound
from pos.models import BusinessUnit, User

CLOSING_SOURCES = balances.CLOSING_SOURCES


class DuplicatePosting(Conflict):
    """The source document was posted already; the original entry is `entry`."""

    def __init__(self, entry: JournalEntry) -> None:
        super().__init__(N_("This document was already posted as %(number)s."), number=entry.number)
        self.entry = entry


class PeriodClosed(InvalidInput):
    pass


OPENING_SOURCE = "opening_balance"
EARLIEST = dt.date(2000, 1, 1)


def today() -> dt.date:
    """Today at the cooperative (its timezone)."""
    from ledger.members import local_today

    return local_today()


def local_zone() -> str:
    from ledger.members import _settings

    return _settings()["timezone"]


def _future_days() -> int:
    from flask import current_app

    return int(current_app.config["KASIR"].get("future_days", 7))


def books_start() -> dt.date | None:
    """The date of the opening balance: nothing is dated before it. None while the books have none."""
    cache = transaction_cache("books_start")
    if "date" not in cache:
        cache["date"] = db.session.scalar(
            sa.select(sa.func.min(JournalEntry.date)).where(JournalEntry.source_type == OPENING_SOURCE))
    return cache["date"]


def check_date(date: dt.date, *, field: str = "date", allow_closed: bool = False) -> dt.date:
    """Refuse a date for anything that reaches the books (an entry, a goods receipt, a transfer, a write-off, a
    slip): before the books' start, inside a closed period, or more than `future_days` after today."""
    if not isinstance(date, dt.date):
        raise InvalidInput(N_("Give a date.")).at(field)
    if isinstance(date, dt.datetime):
        date = date.date()
    start = books_start()
    if date < EARLIEST or (start is not None and date < start):
        raise InvalidInput(N_("%(date)s is before the books' start (%(start)s)."),
                           date=_shown(date), start=_shown(start or EARLIEST)).at(field)
    days = _future_days()
    if date > today() + dt.timedelta(days=days):
        if days:
            raise InvalidInput(N_("%(date)s is too far in the future: at most %(days)d days after today."),
                               date=_shown(date), days=days).at(field)
        raise InvalidInput(N_("%(date)s is in the future."), date=_shown(date)).at(field)
    if not allow_closed:
        closed = closed_period_for(date)
        if closed is not None:
            raise PeriodClosed(
                N_("The period %(start)s to %(end)s is closed; date the entry later or ask the board."),
                start=_shown(closed.start_date), end=_shown(closed.end_date),
            ).at(field)
    return date


def _shown(date: dt.date) -> str:
    return date.strftime("%d/%m/%Y")


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
    if draft.source_type == OPENING_SOURCE and books_start() is not None:
        raise Conflict(N_("The books have their opening balance already."))
    if draft.source_type == OPENING_SOURCE:
        if db.session.scalar(sa.select(JournalEntry.id).where(JournalEntry.date < draft.date).limit(1)):
            raise InvalidInput(N_("The opening balance is dated before every other entry.")).at("date")
        transaction_cache("books_start").pop("date", None)
    check_date(draft.date)
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
    entry.chain_hash = chain_hash_of(entry)
    entry.posted = True
    db.session.flush()
    balances.add_entry(entry, resolved)  # the day balances, in the same transaction as the postings
    if draft.source_type == OPENING_SOURCE:
        transaction_cache("books_start").pop("date", None)
    return entry


def _entry_fields(entry: JournalEntry) -> dict:
    return {k: getattr(entry, k) for k in (
        "number", "date", "description", "unit_id", "source_type", "source_id", "reverses_id", "author_name")}


def _posting_fields(posting: Posting) -> dict:
    return {k: getattr(posting, k) for k in (
        "id", "account_id", "debit", "credit", "member_id", "unit_id", "memo")}


def chain_hash_of(entry: JournalEntry) -> str:
    """The entry's link in its year's chain. The number was taken in this transaction, so the entry numbered
    before it is committed (its sequence bump would otherwise still hold the row) and its hash is final."""
    previous = None
    before = chain.previous_number(entry.number)
    if before is not None:
        previous = db.session.scalar(sa.select(JournalEntry.chain_hash).where(JournalEntry.number == before))
    return chain.entry_hash(previous, _entry_fields(entry), [_posting_fields(p) for p in entry.postings])


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


def _month_name(year: int, month: int) -> str:
    from pos.formats import month_label

    return month_label(year, month)


def _has_entries_before(date: dt.date) -> bool:
    return db.session.scalar(
        sa.select(JournalEntry.id).where(JournalEntry.posted.is_(True), JournalEntry.date < date).limit(1)) is not None


def books_first_month() -> tuple[int, int] | None:
    """(year, month) of the opening balance, or of the first entry while there is none."""
    first = books_start() or db.session.scalar(
        sa.select(sa.func.min(JournalEntry.date)).where(JournalEntry.posted.is_(True)))
    return (first.year, first.month) if first else None


def first_open_month() -> tuple[int, int] | None:
    """The month that closes next: the one after the last closed month, but never before the books' first month."""
    first = books_first_month()
    last = db.session.scalar(sa.select(sa.func.max(ClosedPeriod.end_date)))
    if last is None:
        return first
    following = last + dt.timedelta(days=1)
    return max((following.year, following.month), first or (0, 0))


def _check_closable(year: int, month: int, on: dt.date) -> tuple[dt.date, dt.date]:
    start, end = month_bounds(year, month)
    if closed_period_for(start) is not None:
        raise Conflict(N_("%(month)s is already closed."), month=_month_name(year, month)).at("month")
    if end >= on:
        raise InvalidInput(N_("%(month)s has not ended yet: a month is closed after its last day."),
                           month=_month_name(year, month)).at("month")
    first = books_first_month()
    if first is None or (year, month) < first:
        raise InvalidInput(N_("%(month)s is before the books' first month: there is nothing to close."),
                           month=_month_name(year, month)).at("month")
    nxt = first_open_month()
    if nxt is not None and (year, month) > nxt:
        raise InvalidInput(N_("Months close in order: close %(month)s first."), month=_month_name(*nxt)).at("month")
    return start, end


def close_month(year: int, month: int, closed_by: str, *, on: dt.date | None = None) -> ClosedPeriod:
    """Close an ended month, the next one in order. December closes with its year's closing entry."""
    on = on or today()
    start, end = month_bounds(year, month)
    if month == 12 and closed_period_for(start) is None and end < on:
        raise InvalidInput(N_("December closes with the year: close the year %(year)s instead."), year=year).at("month")
    return _close(*_check_closable(year, month, on), closed_by)


def _close(start: dt.date, end: dt.date, closed_by: str) -> ClosedPeriod:
    period = ClosedPeriod(start_date=start, end_date=end, closed_by=closed_by[:40])
    db.session.add(period)
    db.session.flush()
    return period


def closed_year(year: int) -> ClosedYear | None:
    return db.session.get(ClosedYear, year)


def year_is_closed(year: int) -> bool:
    """A year is closed by its closing entry (recorded in closed_year), not by its twelve closed months."""
    return closed_year(year) is not None


def open_months_to_close(year: int) -> list[tuple[int, int]]:
    """What closing the year would lock: its months still open, in order."""
    return [(year, m) for m in range(1, 13) if closed_period_for(dt.date(year, m, 1)) is None]


def temporary_balances(start: dt.date, end: dt.date, *,
                       with_closing: bool = False) -> dict[tuple[str, str | None], int]:
    """Net debit per (account code, unit code) of revenue, cost and expense accounts, closing entries left out
    unless `with_closing` (then a closed year nets to nothing). Summed from the day balances (ledger.balances)."""
    unit_codes = {uid: code for code, uid in _units().items()}
    query = (
        sa.select(Account.code, AccountDay.unit_id, sa.func.sum(AccountDay.debit - AccountDay.credit))
        .join(Account, Account.id == AccountDay.account_id)
        .where(
            AccountDay.date.between(start, end),
            Account.type.in_([AccountType.REVENUE, AccountType.COGS, AccountType.EXPENSE]),
        )
        .group_by(Account.code, AccountDay.unit_id)
    )
    if not with_closing:
        query = query.where(AccountDay.closing.is_(False))
    rows = db.session.execute(query)
    return {(code, unit_codes.get(unit_id)): int(net) for code, unit_id, net in rows if net}


def close_year(year: int, user: User | None, closed_by: str = "", *, on: dt.date | None = None) -> JournalEntry | None:
    """Post the closing entry (revenue and expenses into SHU tahun berjalan), close the year's open months in order
    and record the closed year with the head of its hash chain. Only an ended year, after the year before it."""
    who = (user.username if user else closed_by)[:40]
    on = on or today()
    if not 2000 <= year <= 2100:
        raise InvalidInput(N_("No such year.")).at("year")
    if year_is_closed(year):
        raise Conflict(N_("The year %(year)s is already closed."), year=year).at("year")
    if dt.date(year, 12, 31) >= on:
        raise InvalidInput(N_("The year %(year)s has not ended yet."), year=year).at("year")
    if _has_entries_before(dt.date(year, 1, 1)) and not year_is_closed(year - 1):
        raise InvalidInput(N_("Years close in order: close %(year)s first."), year=year - 1).at("year")
    if closed_period_for(dt.date(year, 12, 31)) is not None:
        raise PeriodClosed(
            N_("December %(year)s is closed before the year was: the closing entry has no date."), year=year
        ).at("year")
    first = books_first_month()
    if first is None or year < first[0]:
        raise InvalidInput(N_("The books start after %(year)s: there is nothing to close."), year=year).at("year")
    for y, m in open_months_to_close(year)[:-1]:  # January to November, in order; December after the closing
        if (y, m) >= first:  # the months before the books' first one hold nothing and cannot: closed as they are
            _check_closable(y, m, on)
        _close(*month_bounds(y, m), who)
    closing = None
    balances = temporary_balances(dt.date(year, 1, 1), dt.date(year, 12, 31))
    if balances:
        closing = post(year_closing_entry(year, balances), user, author_name=who)
    _check_closable(year, 12, on)
    _close(*month_bounds(year, 12), who)
    head, count = chain_head(year)
    db.session.add(ClosedYear(year=year, entry_id=closing.id if closing else None, chain_head=head,
                              entry_count=count, closed_by=who))
    db.session.flush()
    return closing


def chain_head(year: int) -> tuple[str, int]:
    """The hash of the year's last entry and how many entries the year has."""
    count = db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry).where(
        JournalEntry.number.like(f"JU/{year}/%"))) or 0
    if not count:
        return chain.GENESIS, 0
    last = db.session.scalar(sa.select(JournalEntry.chain_hash).where(JournalEntry.number == f"JU/{year}/{count:06d}"))
    return last or chain.GENESIS, count
