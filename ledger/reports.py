"""Reports for any period, per business unit or consolidated: journal, buku besar, neraca saldo,
laporan hasil usaha (member and non-member revenue apart), laporan posisi keuangan, member statement.

Sums per account come from the day balances (ledger.balances, table account_day), kept with the postings; the
journal and the buku besar list postings a page at a time (keyset pagination); member-level sums read the
postings by their member index."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from ledger.journal import CLOSING_SOURCES
from ledger.models import Account, AccountDay, AccountType, JournalEntry, Member, MemberSegment, Posting, SavingsKind
from ledger.posting_rules import PIUTANG_ANGGOTA, simpanan
from pos.db import db
from pos.errors import N_, InvalidInput
from pos.models import BusinessUnit


@dataclass(frozen=True)
class Scope:
    """A period and, optionally, one business unit (None means consolidated)."""

    start: dt.date
    end: dt.date
    unit: BusinessUnit | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput(N_("The period ends before it starts."))

    @property
    def unit_label(self) -> str:
        return self.unit.name if self.unit else "Konsolidasi"


def _period(query, date, closing, unit_column, scope, until, before, exclude_closing, unit):
    """The period, unit and closing filters shared by the postings (`_posted`) and the day balances (`_days`)."""
    if scope is not None:
        query = query.where(date.between(scope.start, scope.end))
        unit = scope.unit
    if until is not None:
        query = query.where(date <= until)
    if before is not None:
        query = query.where(date < before)
    if exclude_closing:
        query = query.where(closing)
    if unit is not None:
        query = query.where(unit_column == unit.id)
    return query


def _posted(
    query,
    scope: Scope | None = None,
    *,
    until: dt.date | None = None,
    before: dt.date | None = None,
    exclude_closing: bool = False,
    unit: BusinessUnit | None = None,
):
    return _period(query.where(JournalEntry.posted.is_(True)), JournalEntry.date,
                   JournalEntry.source_type.not_in(CLOSING_SOURCES), Posting.unit_id,
                   scope, until, before, exclude_closing, unit)


def _sums(query) -> dict[int, tuple[int, int]]:
    rows = db.session.execute(
        query.with_only_columns(Posting.account_id, sa.func.sum(Posting.debit), sa.func.sum(Posting.credit)).group_by(
            Posting.account_id
        )
    )
    return {account_id: (int(d or 0), int(c or 0)) for account_id, d, c in rows}


def _base():
    return sa.select(Posting).join(Posting.entry)


def _days(
    query,
    scope: Scope | None = None,
    *,
    until: dt.date | None = None,
    before: dt.date | None = None,
    exclude_closing: bool = False,
    unit: BusinessUnit | None = None,
):
    """The day balances' counterpart of `_posted`: the same period, unit and closing filters on account_day."""
    return _period(query, AccountDay.date, AccountDay.closing.is_(False), AccountDay.unit_id,
                   scope, until, before, exclude_closing, unit)


def _day_sums(scope: Scope | None = None, **filters) -> dict[int, tuple[int, int]]:
    """(debit, credit) per account from the day balances."""
    query = _days(sa.select(AccountDay.account_id, sa.func.sum(AccountDay.debit), sa.func.sum(AccountDay.credit)),
                  scope, **filters).group_by(AccountDay.account_id)
    return {account_id: (int(d or 0), int(c or 0)) for account_id, d, c in db.session.execute(query)}


def accounts() -> list[Account]:
    return list(db.session.scalars(sa.select(Account).order_by(Account.code)))


def normal_balance(account: Account, debit: int, credit: int) -> int:
    """The balance on the account's normal side: assets and expenses debit, the rest credit."""
    return debit - credit if account.type.debit_normal else credit - debit


# --- journal ------------------------------------------------------------------------------------


Cursor = tuple[dt.date, int]  # keyset pagination: the (date, id) of the row a page continues from


def _after(date_col, id_col, cursor: Cursor, backwards: bool):
    date, row_id = cursor
    if backwards:
        return sa.or_(date_col < date, sa.and_(date_col == date, id_col < row_id))
    return sa.or_(date_col > date, sa.and_(date_col == date, id_col > row_id))


def _window(days, scope: Scope, cursor: Cursor | None, backwards: bool, need: int) -> tuple[dt.date, dt.date]:
    """The dates from the cursor (or the period's edge) that hold at least `need` rows, from a query of
    (date, rows that day) over the day balances: a page's query then reads only those days."""
    if backwards:
        lo, hi = scope.start, cursor[0] if cursor else scope.end
        days = days.where(AccountDay.date.between(lo, hi)).group_by(AccountDay.date).order_by(AccountDay.date.desc())
    else:
        lo, hi = cursor[0] if cursor else scope.start, scope.end
        days = days.where(AccountDay.date.between(lo, hi)).group_by(AccountDay.date).order_by(AccountDay.date)
    total = 0
    for date, rows in db.session.execute(days.limit(need + 2)):
        if cursor is not None and date == cursor[0]:
            continue  # some of that day's rows were on the page before: count none of them
        total += int(rows)
        if total >= need:
            return (date, hi) if backwards else (lo, date)
    return lo, hi


def _entries_between(lo: dt.date, hi: dt.date) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry).where(
        JournalEntry.date.between(lo, hi))) or 0


def _by_date(lo: dt.date, hi: dt.date, indexed_rows: int) -> bool:
    """Whether reading the window's entries by date costs less than reading every row of an index (of an account
    or a unit): the query then keeps the database from using that index (`column + 0`)."""
    return _entries_between(lo, hi) <= indexed_rows


@dataclass
class JournalPage:
    scope: Scope
    entries: list[JournalEntry]
    has_previous: bool
    has_next: bool

    @property
    def first(self) -> Cursor | None:
        return (self.entries[0].date, self.entries[0].id) if self.entries else None

    @property
    def last(self) -> Cursor | None:
        return (self.entries[-1].date, self.entries[-1].id) if self.entries else None


def _journal_query(scope: Scope, cursor: Cursor | None, backwards: bool, need: int):
    query = sa.select(JournalEntry).where(JournalEntry.posted.is_(True))
    lo, hi = scope.start, scope.end
    if scope.unit is not None:
        unit_id = scope.unit.id
        # Each day with a posting of the unit has at least one of its entries.
        lo, hi = _window(sa.select(AccountDay.date, sa.literal_column("1")).where(AccountDay.unit_id == unit_id), scope,
                         cursor, backwards, need)
        unit_rows = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(AccountDay.postings), 0)).where(
            AccountDay.unit_id == unit_id)) or 0
        if _by_date(lo, hi, int(unit_rows)):
            query = query.where(sa.exists().where(Posting.entry_id == JournalEntry.id, Posting.unit_id + 0 == unit_id))
        else:
            query = query.where(JournalEntry.id.in_(sa.select(Posting.entry_id).where(Posting.unit_id == unit_id)))
    if cursor is not None:
        lo, hi = (lo, min(hi, cursor[0])) if backwards else (max(lo, cursor[0]), hi)
        query = query.where(_after(JournalEntry.date, JournalEntry.id, cursor, backwards))
    query = query.where(JournalEntry.date.between(lo, hi))
    if backwards:
        return query.order_by(JournalEntry.date.desc(), JournalEntry.id.desc())
    return query.order_by(JournalEntry.date, JournalEntry.id)


def journal(scope: Scope, *, after: Cursor | None = None, before: Cursor | None = None, limit: int = 100,
            max_postings: int = 1000) -> JournalPage:
    """One page of the journal: up to `limit` entries after the cursor `after` (or before `before`), fewer when
    their postings pass `max_postings` (always at least one entry), with their postings, accounts and members."""
    from sqlalchemy.orm import selectinload

    backwards = before is not None and after is None
    cursor = before if backwards else after
    query = _journal_query(scope, cursor, backwards, limit + 1).limit(limit + 1).options(
        selectinload(JournalEntry.postings).options(
            selectinload(Posting.account), selectinload(Posting.member), selectinload(Posting.unit)))
    found = list(db.session.scalars(query))
    more = len(found) > limit
    found = found[:limit]
    kept, lines = [], 0
    for entry in found:
        if kept and lines + len(entry.postings) > max_postings:
            more = True
            break
        kept.append(entry)
        lines += len(entry.postings)
    if backwards:
        kept.reverse()
        return JournalPage(scope, kept, has_previous=more, has_next=True)
    return JournalPage(scope, kept, has_previous=cursor is not None, has_next=more)


def journal_rows(scope: Scope, batch: int = 1000):
    """Every posting of the period's journal as (number, date, description, account code, account name, debit,
    credit, member number, unit code), entries in date order, read in batches of plain rows (constant memory), each
    fetched whole: the caller may change sessions between rows."""
    from pos.models import BusinessUnit as Unit

    cursor = None
    while True:
        entries = db.session.execute(_journal_query(scope, cursor, False, batch + 1).with_only_columns(
            JournalEntry.id, JournalEntry.date, JournalEntry.number, JournalEntry.description).limit(batch + 1)).all()
        chosen = entries[:batch]
        if not chosen:
            return
        lines: dict[int, list] = {}
        for row in db.session.execute(
                sa.select(Posting.entry_id, Account.code, Account.name, Posting.debit, Posting.credit, Member.number,
                          Unit.code)
                .join(Account, Account.id == Posting.account_id)
                .outerjoin(Member, Member.id == Posting.member_id)
                .outerjoin(Unit, Unit.id == Posting.unit_id)
                .where(Posting.entry_id.in_([e.id for e in chosen]))
                .order_by(Posting.entry_id, Posting.id)).all():
            lines.setdefault(row[0], []).append(row[1:])
        for entry_id, date, number, description in chosen:
            for code, name, d, c, member, unit in lines.get(entry_id, ()):
                yield number, date, description, code, name, d, c, member or "", unit or ""
        if len(entries) <= batch:
            return
        cursor = (chosen[-1].date, chosen[-1].id)


# --- trial balance ------------------------------------------------------------------------------


@dataclass
class TrialBalanceRow:
    account: Account
    opening: int  # net debit before the period
    debit: int
    credit: int

    @property
    def closing(self) -> int:
        return self.opening + self.debit - self.credit

    @property
    def closing_debit(self) -> int:
        return max(self.closing, 0)

    @property
    def closing_credit(self) -> int:
        return max(-self.closing, 0)


@dataclass
class TrialBalance:
    scope: Scope
    rows: list[TrialBalanceRow]

    @property
    def total_debit(self) -> int:
        return sum(r.debit for r in self.rows)

    @property
    def total_credit(self) -> int:
        return sum(r.credit for r in self.rows)

    @property
    def closing_debit(self) -> int:
        return sum(r.closing_debit for r in self.rows)

    @property
    def closing_credit(self) -> int:
        return sum(r.closing_credit for r in self.rows)

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit and self.closing_debit == self.closing_credit


def trial_balance(scope: Scope) -> TrialBalance:
    opening = _day_sums(before=scope.start, unit=scope.unit)
    period = _day_sums(scope)
    rows = []
    for account in accounts():
        od, oc = opening.get(account.id, (0, 0))
        d, c = period.get(account.id, (0, 0))
        if od or oc or d or c:
            rows.append(TrialBalanceRow(account, od - oc, d, c))
    return TrialBalance(scope, rows)


# --- general ledger -----------------------------------------------------------------------------


@dataclass
class LedgerLine:
    entry: JournalEntry
    posting: Posting
    balance: int


@dataclass
class GeneralLedger:
    """An account's postings in the period, one page of them: `carried` is the balance before the page's first
    line (the opening balance on the first page), `closing` the period's closing balance."""

    scope: Scope
    account: Account
    opening: int
    lines: list[LedgerLine]
    closing: int = 0
    carried: int = 0
    has_previous: bool = False
    has_next: bool = False

    @property
    def page_closing(self) -> int:
        return self.lines[-1].balance if self.lines else self.carried

    @property
    def first(self) -> Cursor | None:
        return (self.lines[0].entry.date, self.lines[0].posting.id) if self.lines else None

    @property
    def last(self) -> Cursor | None:
        return (self.lines[-1].entry.date, self.lines[-1].posting.id) if self.lines else None


def _account_filter(account: Account, unit: BusinessUnit | None, by_date: bool):
    """The posting filter of an account (and unit); `by_date` keeps the database from reading them by the account's
    (or the unit's) index: the window's entries are fewer."""
    match = [Posting.account_id + 0 == account.id if by_date else Posting.account_id == account.id]
    if unit is not None:
        match.append(Posting.unit_id + 0 == unit.id)
    return match


def _net_before(scope: Scope, account: Account, cursor: Cursor) -> int:
    """The account's balance (normal side) before the posting `cursor`: the day balances before its day, then the
    postings of its day before it."""
    date, posting_id = cursor
    d, c = _account_days(account, before=date, unit=scope.unit)
    same_day = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(Posting.debit), 0), sa.func.coalesce(sa.func.sum(Posting.credit), 0))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(JournalEntry.posted.is_(True), JournalEntry.date == date, Posting.id < posting_id,
               *_account_filter(account, scope.unit, by_date=True))
    ).one()
    return normal_balance(account, d + int(same_day[0]), c + int(same_day[1]))


def _account_days(account: Account, scope: Scope | None = None, **filters) -> tuple[int, int]:
    """(debit, credit) of one account from the day balances (the `_days` filters)."""
    query = _days(sa.select(sa.func.coalesce(sa.func.sum(AccountDay.debit), 0),
                            sa.func.coalesce(sa.func.sum(AccountDay.credit), 0))
                  .where(AccountDay.account_id == account.id), scope, **filters)
    d, c = db.session.execute(query).one()
    return int(d), int(c)


def _ledger_query(columns, scope: Scope, account: Account, cursor: Cursor | None, backwards: bool, limit: int | None):
    """The account's postings (`columns` over posting joined to its entry) in date order after (or before) the
    cursor, `limit` + 1 of them, reading only the days that hold them."""
    lo, hi = scope.start, scope.end
    by_date = False
    if limit is not None:
        days = sa.select(AccountDay.date, sa.func.sum(AccountDay.postings)).where(AccountDay.account_id == account.id)
        if scope.unit is not None:
            days = days.where(AccountDay.unit_id == scope.unit.id)
        lo, hi = _window(days, scope, cursor, backwards, limit + 1)
        account_rows = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(AccountDay.postings), 0)).where(
            AccountDay.account_id == account.id)) or 0
        by_date = _by_date(lo, hi, int(account_rows))
    query = (
        columns.join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(JournalEntry.posted.is_(True), JournalEntry.date.between(lo, hi),
               *_account_filter(account, scope.unit, by_date))
    )
    if cursor is not None:
        query = query.where(_after(JournalEntry.date, Posting.id, cursor, backwards))
    if backwards:
        query = query.order_by(JournalEntry.date.desc(), Posting.id.desc())
    else:
        query = query.order_by(JournalEntry.date, Posting.id)
    return query.limit(limit + 1) if limit is not None else query


def general_ledger_rows(scope: Scope, account: Account, batch: int = 5000):
    """Every line of the account's buku besar in the period as (date, number, description, debit, credit, balance),
    read in batches of plain rows, each fetched whole: the download of a busy account in constant memory."""
    od, oc = _account_days(account, before=scope.start, unit=scope.unit)
    balance = normal_balance(account, od, oc)
    cursor = None
    columns = sa.select(JournalEntry.date, Posting.id, JournalEntry.number, JournalEntry.description, Posting.debit,
                        Posting.credit).select_from(Posting)
    while True:
        rows = db.session.execute(_ledger_query(columns, scope, account, cursor, False, batch)).all()
        for date, _posting_id, number, description, d, c in rows[:batch]:
            balance += normal_balance(account, d, c)
            yield date, number, description, d, c, balance
        if len(rows) <= batch:
            return
        cursor = (rows[batch - 1][0], rows[batch - 1][1])


def general_ledger(scope: Scope, account: Account, *, after: Cursor | None = None, before: Cursor | None = None,
                   limit: int | None = None) -> GeneralLedger:
    """The buku besar of an account: the opening and closing balances of the period from the day balances, and
    its postings in date order, all of them, or a page of `limit` after the cursor `after` (or before `before`)."""
    od, oc = _account_days(account, before=scope.start, unit=scope.unit)
    opening = normal_balance(account, od, oc)
    pd, pc = _account_days(account, scope)
    closing = opening + normal_balance(account, pd, pc)
    backwards = before is not None and after is None
    cursor = before if backwards else after
    query = _ledger_query(sa.select(Posting, JournalEntry), scope, account, cursor, backwards, limit)
    rows = db.session.execute(query).all()
    more = limit is not None and len(rows) > limit
    rows = rows[:limit] if limit is not None else rows
    if backwards:
        rows.reverse()
    if not rows:
        carried = opening if cursor is None else _net_before(scope, account, cursor)
    elif cursor is None and not backwards:
        carried = opening
    else:
        carried = _net_before(scope, account, (rows[0][1].date, rows[0][0].id))
    balance = carried
    lines = []
    for posting, entry in rows:
        balance += normal_balance(account, posting.debit, posting.credit)
        lines.append(LedgerLine(entry, posting, balance))
    if backwards:
        has_previous, has_next = more, True
    else:
        has_previous, has_next = cursor is not None, more
    return GeneralLedger(scope, account, opening, lines, closing, carried, has_previous, has_next)


# --- income statement ---------------------------------------------------------------------------


@dataclass
class StatementLine:
    label: str
    amount: int
    account: Account | None = None
    indent: int = 1
    member: int = 0  # the part of `amount` that belongs to member business (income statement only)

    @property
    def non_member(self) -> int:
        return self.amount - self.member


def _sum(lines: list[StatementLine]) -> int:
    return sum(line.amount for line in lines)


@dataclass
class IncomeStatement:
    """Laporan hasil usaha with member business (partisipasi anggota) and non-member business apart.

    Revenue accounts carry their segment. HPP and other costs of a journal entry whose revenue is of one segment
    (a sale, a return, their reversals) belong to that segment; costs that cannot be traced that way (salaries,
    rent, stock variances, other income) are split by each unit's revenue share (see `split_by_share` and
    docs/ledger.md, *Partisipasi anggota*). Every line's member and non-member parts add up to the line."""

    scope: Scope
    member_revenue: list[StatementLine] = field(default_factory=list)  # partisipasi bruto anggota
    non_member_revenue: list[StatementLine] = field(default_factory=list)
    member_cost_of_sales: list[StatementLine] = field(default_factory=list)  # beban pokok partisipasi
    non_member_cost_of_sales: list[StatementLine] = field(default_factory=list)  # HPP non-anggota
    expenses: list[StatementLine] = field(default_factory=list)  # beban usaha, each line split
    other_income: list[StatementLine] = field(default_factory=list)  # each line split

    @property
    def total_member_revenue(self) -> int:
        """Partisipasi bruto anggota."""
        return _sum(self.member_revenue)

    @property
    def total_non_member_revenue(self) -> int:
        return _sum(self.non_member_revenue)

    @property
    def total_revenue(self) -> int:
        return self.total_member_revenue + self.total_non_member_revenue

    @property
    def total_member_cost_of_sales(self) -> int:
        """Beban pokok partisipasi."""
        return _sum(self.member_cost_of_sales)

    @property
    def total_non_member_cost_of_sales(self) -> int:
        return _sum(self.non_member_cost_of_sales)

    @property
    def total_cost_of_sales(self) -> int:
        return self.total_member_cost_of_sales + self.total_non_member_cost_of_sales

    @property
    def cost_of_sales(self) -> list[StatementLine]:
        """HPP per account, both segments together."""
        lines: dict[int, StatementLine] = {}
        for line in self.member_cost_of_sales + self.non_member_cost_of_sales:
            key = line.account.id if line.account else id(line)
            if key in lines:
                lines[key].amount += line.amount
                lines[key].member += line.member
            else:
                lines[key] = StatementLine(line.label, line.amount, line.account, line.indent, line.member)
        return sorted(lines.values(), key=lambda line: line.label)

    @property
    def net_participation(self) -> int:
        """Partisipasi neto: partisipasi bruto minus beban pokok partisipasi."""
        return self.total_member_revenue - self.total_member_cost_of_sales

    @property
    def non_member_gross_profit(self) -> int:
        """Laba (rugi) kotor dengan non-anggota."""
        return self.total_non_member_revenue - self.total_non_member_cost_of_sales

    @property
    def gross_result(self) -> int:
        return self.net_participation + self.non_member_gross_profit

    @property
    def total_expenses(self) -> int:
        return _sum(self.expenses)

    @property
    def member_expenses(self) -> int:
        return sum(line.member for line in self.expenses)

    @property
    def non_member_expenses(self) -> int:
        return self.total_expenses - self.member_expenses

    @property
    def total_other_income(self) -> int:
        return _sum(self.other_income)

    @property
    def member_other_income(self) -> int:
        return sum(line.member for line in self.other_income)

    @property
    def non_member_other_income(self) -> int:
        return self.total_other_income - self.member_other_income

    @property
    def member_surplus(self) -> int:
        """SHU from member business: the basis of jasa anggota."""
        return self.net_participation - self.member_expenses + self.member_other_income

    @property
    def non_member_surplus(self) -> int:
        """SHU from non-member business."""
        return self.non_member_gross_profit - self.non_member_expenses + self.non_member_other_income

    @property
    def surplus(self) -> int:
        """Sisa hasil usaha of the period: negative is a loss. Always member_surplus + non_member_surplus."""
        return self.gross_result - self.total_expenses + self.total_other_income


def split_by_share(amount: int, member_weight: int, non_member_weight: int) -> tuple[int, int]:
    """`amount` (whole rupiah, either sign) split in proportion to the two weights, adding up exactly: the member
    part is rounded to the nearest rupiah (a half rounds up), the non-member part is the rest. Negative weights
    count as zero; with no weight at all everything is member business."""
    m, n = max(member_weight, 0), max(non_member_weight, 0)
    if m + n == 0:
        return amount, 0
    member = (2 * amount * m + m + n) // (2 * (m + n))
    return member, amount - member


def _segment_sums(scope: Scope) -> list[tuple[int, int | None, MemberSegment | None, int, int]]:
    """(account, unit, traced segment or None, debit, credit) of the period's revenue, cost and expense postings,
    closing entries left out, from the day balances: one row per account, unit and segment class of the entries
    (none, member, non-member, mixed; see ledger.balances), so each is split on its own as the postings would be."""
    query = _days(
        sa.select(AccountDay.account_id, AccountDay.unit_id, AccountDay.segment, sa.func.sum(AccountDay.debit),
                  sa.func.sum(AccountDay.credit))
        .join(Account, Account.id == AccountDay.account_id)
        .where(Account.type.in_([AccountType.REVENUE, AccountType.COGS, AccountType.EXPENSE])),
        scope,
        exclude_closing=True,
    ).group_by(AccountDay.account_id, AccountDay.unit_id, AccountDay.segment)
    traced = {segment.value: segment for segment in MemberSegment}
    return [(account_id, unit_id or None, traced.get(segment), int(d or 0), int(c or 0))
            for account_id, unit_id, segment, d, c in db.session.execute(query)]


def _cooperative_revenue_share(scope: Scope) -> dict[MemberSegment, int]:
    """Member and non-member revenue of the whole cooperative in the period (every unit): the share used for costs
    of units without revenue of their own."""
    rows = db.session.execute(
        _days(
            sa.select(Account.segment, sa.func.sum(AccountDay.credit - AccountDay.debit))
            .join(Account, Account.id == AccountDay.account_id)
            .where(Account.type == AccountType.REVENUE, Account.segment.is_not(None)),
            Scope(scope.start, scope.end),
            exclude_closing=True,
        ).group_by(Account.segment)
    )
    return {MemberSegment(segment): int(total or 0) for segment, total in rows}


def income_statement(scope: Scope) -> IncomeStatement:
    rows = _segment_sums(scope)
    by_id = {account.id: account for account in accounts()}
    # Revenue share per unit (revenue accounts always carry their segment).
    unit_share: dict[int | None, dict[MemberSegment, int]] = {}
    for account_id, unit_id, _traced, d, c in rows:
        account = by_id[account_id]
        if account.type == AccountType.REVENUE and account.segment is not None:
            share = unit_share.setdefault(unit_id, {})
            share[account.segment] = share.get(account.segment, 0) + c - d
    fallback = _cooperative_revenue_share(scope)

    def weights(unit_id: int | None) -> tuple[int, int]:
        for share in (unit_share.get(unit_id, {}), fallback):
            m = max(share.get(MemberSegment.ANGGOTA, 0), 0)
            n = max(share.get(MemberSegment.NON_ANGGOTA, 0), 0)
            if m + n:
                return m, n
        return 0, 0

    # Each account's amount and its member part: traced postings go whole to their segment, the rest of each
    # (account, unit) is split by the unit's revenue share, so the parts add up exactly per row and so in total.
    totals: dict[int, list[int]] = {}
    for account_id, unit_id, traced, d, c in rows:
        account = by_id[account_id]
        amount = normal_balance(account, d, c)
        segment = account.segment if account.type == AccountType.REVENUE and account.segment else traced
        if segment == MemberSegment.ANGGOTA:
            member = amount
        elif segment == MemberSegment.NON_ANGGOTA:
            member = 0
        else:
            member = split_by_share(amount, *weights(unit_id))[0]
        total = totals.setdefault(account_id, [0, 0])
        total[0] += amount
        total[1] += member

    statement = IncomeStatement(scope)
    for account in sorted((by_id[a] for a in totals), key=lambda a: a.code):
        amount, member = totals[account.id]
        label = f"{account.code} {account.name}"
        if account.type == AccountType.REVENUE and account.segment == MemberSegment.ANGGOTA:
            statement.member_revenue.append(StatementLine(label, amount, account, member=amount))
        elif account.type == AccountType.REVENUE and account.segment == MemberSegment.NON_ANGGOTA:
            statement.non_member_revenue.append(StatementLine(label, amount, account, member=0))
        elif account.type == AccountType.COGS:
            if member:
                statement.member_cost_of_sales.append(StatementLine(label, member, account, member=member))
            if amount - member:
                statement.non_member_cost_of_sales.append(StatementLine(label, amount - member, account, member=0))
        elif account.type == AccountType.REVENUE:
            statement.other_income.append(StatementLine(label, amount, account, member=member))
        else:
            statement.expenses.append(StatementLine(label, amount, account, member=member))
    return statement


# --- statement of financial position ------------------------------------------------------------


@dataclass
class FinancialPosition:
    as_of: dt.date
    unit: BusinessUnit | None
    assets: list[StatementLine]
    liabilities: list[StatementLine]
    equity: list[StatementLine]
    current_surplus: int
    inter_unit: int  # per unit only: the unit's net position towards the rest of the cooperative

    @property
    def total_assets(self) -> int:
        return sum(line.amount for line in self.assets)

    @property
    def total_liabilities(self) -> int:
        return sum(line.amount for line in self.liabilities)

    @property
    def total_equity(self) -> int:
        return sum(line.amount for line in self.equity) + self.current_surplus + self.inter_unit

    @property
    def balanced(self) -> bool:
        return self.total_assets == self.total_liabilities + self.total_equity


def financial_position(as_of: dt.date, unit: BusinessUnit | None = None) -> FinancialPosition:
    sums = _day_sums(until=as_of, unit=unit)
    assets, liabilities, equity = [], [], []
    temporary_net_credit = 0
    for account in accounts():
        if account.id not in sums:
            continue
        d, c = sums[account.id]
        if account.type.temporary:
            temporary_net_credit += c - d
            continue
        amount = normal_balance(account, d, c)
        if amount == 0:
            continue
        line = StatementLine(f"{account.code} {account.name}", amount, account)
        {AccountType.ASSET: assets, AccountType.LIABILITY: liabilities, AccountType.EQUITY: equity}[
            account.type
        ].append(line)
    position = FinancialPosition(as_of, unit, assets, liabilities, equity, temporary_net_credit, 0)
    if unit is not None:
        position.inter_unit = position.total_assets - position.total_liabilities - position.total_equity
    return position


# --- member statement ---------------------------------------------------------------------------


@dataclass
class MemberMovement:
    date: dt.date
    number: str
    description: str
    amount_in: int
    amount_out: int
    balance: int


@dataclass
class MemberAccountStatement:
    title: str
    opening: int
    movements: list[MemberMovement]

    @property
    def closing(self) -> int:
        return self.movements[-1].balance if self.movements else self.opening


@dataclass
class MemberStatement:
    member: Member
    scope: Scope
    savings: dict[str, MemberAccountStatement]
    kasbon: MemberAccountStatement
    purchases: list[tuple[dt.date, str, str, int]]

    @property
    def total_purchases(self) -> int:
        return sum(row[3] for row in self.purchases)


def _member_account(member: Member, scope: Scope, key: str, title: str, debit_normal: bool) -> MemberAccountStatement:
    base = _base().join(Posting.account).where(Posting.member_id == member.id, Account.key == key)
    d, c = db.session.execute(
        _posted(base, before=scope.start).with_only_columns(
            sa.func.coalesce(sa.func.sum(Posting.debit), 0), sa.func.coalesce(sa.func.sum(Posting.credit), 0)
        )
    ).one()
    balance = int(d) - int(c) if debit_normal else int(c) - int(d)
    statement = MemberAccountStatement(title, balance, [])
    for posting in db.session.scalars(_posted(base, scope).order_by(JournalEntry.date, Posting.id)):
        amount_in, amount_out = (posting.debit, posting.credit) if debit_normal else (posting.credit, posting.debit)
        balance += amount_in - amount_out
        statement.movements.append(
            MemberMovement(
                posting.entry.date, posting.entry.number, posting.entry.description, amount_in, amount_out, balance
            )
        )
    return statement


def member_statement(member: Member, scope: Scope) -> MemberStatement:
    savings = {
        kind.value: _member_account(member, scope, simpanan(kind.value), f"Simpanan {kind.value}", False)
        for kind in SavingsKind
    }
    kasbon = _member_account(member, scope, PIUTANG_ANGGOTA, "Kasbon", True)
    purchases = [
        (p.entry.date, p.entry.number, p.entry.description, p.credit - p.debit)
        for p in db.session.scalars(
            _posted(
                _base()
                .join(Posting.account)
                .where(
                    Posting.member_id == member.id,
                    Account.type == AccountType.REVENUE,
                    Account.segment == MemberSegment.ANGGOTA,
                ),
                scope,
                exclude_closing=True,
            ).order_by(JournalEntry.date, Posting.id)
        )
    ]
    return MemberStatement(member, scope, savings, kasbon, purchases)


def member_purchases(start: dt.date, end: dt.date) -> dict[int, int]:
    """Each member's purchases (revenue net of returns, without PPN) in a period: the basis of jasa anggota."""
    rows = db.session.execute(
        _posted(
            _base()
            .join(Posting.account)
            .where(
                Posting.member_id.is_not(None),
                Account.type == AccountType.REVENUE,
                Account.segment == MemberSegment.ANGGOTA,
            ),
            Scope(start, end),
            exclude_closing=True,
        )
        .with_only_columns(Posting.member_id, sa.func.sum(Posting.credit - Posting.debit))
        .group_by(Posting.member_id)
    )
    return {member_id: int(total) for member_id, total in rows if total}


def member_savings(until: dt.date, kinds: list[str]) -> dict[int, int]:
    """Each member's balance of the given savings kinds at a date: the basis of jasa modal."""
    rows = db.session.execute(
        _posted(
            _base()
            .join(Posting.account)
            .where(Posting.member_id.is_not(None), Account.key.in_([simpanan(k) for k in kinds])),
            until=until,
        )
        .with_only_columns(Posting.member_id, sa.func.sum(Posting.credit - Posting.debit))
        .group_by(Posting.member_id)
    )
    return {member_id: int(total) for member_id, total in rows if total}
