"""Reports for any period, per business unit or consolidated: journal, buku besar, neraca saldo,
laporan hasil usaha (member and non-member revenue apart), laporan posisi keuangan, member statement."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from ledger.journal import CLOSING_SOURCES
from ledger.models import Account, AccountType, JournalEntry, Member, MemberSegment, Posting, SavingsKind
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


def _posted(
    query,
    scope: Scope | None = None,
    *,
    until: dt.date | None = None,
    before: dt.date | None = None,
    exclude_closing: bool = False,
    unit: BusinessUnit | None = None,
):
    query = query.where(JournalEntry.posted.is_(True))
    if scope is not None:
        query = query.where(JournalEntry.date.between(scope.start, scope.end))
        unit = scope.unit
    if until is not None:
        query = query.where(JournalEntry.date <= until)
    if before is not None:
        query = query.where(JournalEntry.date < before)
    if exclude_closing:
        query = query.where(JournalEntry.source_type.not_in(CLOSING_SOURCES))
    if unit is not None:
        query = query.where(Posting.unit_id == unit.id)
    return query


def _sums(query) -> dict[int, tuple[int, int]]:
    rows = db.session.execute(
        query.with_only_columns(Posting.account_id, sa.func.sum(Posting.debit), sa.func.sum(Posting.credit)).group_by(
            Posting.account_id
        )
    )
    return {account_id: (int(d or 0), int(c or 0)) for account_id, d, c in rows}


def _base():
    return sa.select(Posting).join(Posting.entry)


def accounts() -> list[Account]:
    return list(db.session.scalars(sa.select(Account).order_by(Account.code)))


def normal_balance(account: Account, debit: int, credit: int) -> int:
    """The balance on the account's normal side: assets and expenses debit, the rest credit."""
    return debit - credit if account.type.debit_normal else credit - debit


# --- journal ------------------------------------------------------------------------------------


def journal(scope: Scope, limit: int | None = None, offset: int = 0) -> list[JournalEntry]:
    query = sa.select(JournalEntry).where(
        JournalEntry.posted.is_(True), JournalEntry.date.between(scope.start, scope.end)
    )
    if scope.unit is not None:
        query = query.where(JournalEntry.id.in_(sa.select(Posting.entry_id).where(Posting.unit_id == scope.unit.id)))
    query = query.order_by(JournalEntry.date, JournalEntry.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


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
    opening = _sums(_posted(_base(), before=scope.start, unit=scope.unit))
    period = _sums(_posted(_base(), scope))
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
    scope: Scope
    account: Account
    opening: int
    lines: list[LedgerLine]

    @property
    def closing(self) -> int:
        return self.lines[-1].balance if self.lines else self.opening


def general_ledger(scope: Scope, account: Account) -> GeneralLedger:
    od, oc = _sums(_posted(_base().where(Posting.account_id == account.id), before=scope.start, unit=scope.unit)).get(
        account.id, (0, 0)
    )
    balance = normal_balance(account, od, oc)
    opening = balance
    postings = db.session.scalars(
        _posted(_base().where(Posting.account_id == account.id), scope).order_by(JournalEntry.date, Posting.id)
    )
    lines = []
    for posting in postings:
        balance += normal_balance(account, posting.debit, posting.credit)
        lines.append(LedgerLine(posting.entry, posting, balance))
    return GeneralLedger(scope, account, opening, lines)


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


def _entry_segments(scope: Scope):
    """Per journal entry of the period with segment revenue: the lowest and highest segment of that revenue (the
    same when the entry's revenue is all member or all non-member business)."""
    return (
        sa.select(
            Posting.entry_id.label("entry_id"),
            sa.func.min(Account.segment).label("seg_low"),
            sa.func.max(Account.segment).label("seg_high"),
        )
        .join(Posting.entry)
        .join(Posting.account)
        .where(
            JournalEntry.posted.is_(True),
            JournalEntry.date.between(scope.start, scope.end),
            JournalEntry.source_type.not_in(CLOSING_SOURCES),
            Account.type == AccountType.REVENUE,
            Account.segment.is_not(None),
        )
        .group_by(Posting.entry_id)
        .subquery()
    )


def _segment_sums(scope: Scope) -> list[tuple[int, int | None, MemberSegment | None, int, int]]:
    """(account, unit, traced segment or None, debit, credit) of the period's revenue, cost and expense postings,
    closing entries left out: one GROUP BY over the postings, each posting's entry classified by its revenue."""
    segments = _entry_segments(scope)
    query = _posted(
        sa.select(Posting)
        .join(Posting.entry)
        .join(Posting.account)
        .outerjoin(segments, segments.c.entry_id == Posting.entry_id)
        .where(Account.type.in_([AccountType.REVENUE, AccountType.COGS, AccountType.EXPENSE])),
        scope,
        exclude_closing=True,
    ).with_only_columns(
        Posting.account_id,
        Posting.unit_id,
        segments.c.seg_low,
        segments.c.seg_high,
        sa.func.sum(Posting.debit),
        sa.func.sum(Posting.credit),
    ).group_by(Posting.account_id, Posting.unit_id, segments.c.seg_low, segments.c.seg_high)
    rows = []
    for account_id, unit_id, low, high, d, c in db.session.execute(query):
        rows.append((account_id, unit_id, MemberSegment(low) if low is not None and low == high else None,
                     int(d or 0), int(c or 0)))
    return rows


def _cooperative_revenue_share(scope: Scope) -> dict[MemberSegment, int]:
    """Member and non-member revenue of the whole cooperative in the period (every unit): the share used for costs
    of units without revenue of their own."""
    rows = db.session.execute(
        _posted(
            sa.select(Posting).join(Posting.entry).join(Posting.account).where(
                Account.type == AccountType.REVENUE, Account.segment.is_not(None)),
            Scope(scope.start, scope.end),
            exclude_closing=True,
        ).with_only_columns(Account.segment, sa.func.sum(Posting.credit - Posting.debit)).group_by(Account.segment)
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
    sums = _sums(_posted(_base(), until=as_of, unit=unit))
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
