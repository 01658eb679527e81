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


@dataclass
class IncomeStatement:
    scope: Scope
    member_revenue: list[StatementLine] = field(default_factory=list)
    non_member_revenue: list[StatementLine] = field(default_factory=list)
    cost_of_sales: list[StatementLine] = field(default_factory=list)
    expenses: list[StatementLine] = field(default_factory=list)
    other_income: list[StatementLine] = field(default_factory=list)

    @property
    def total_member_revenue(self) -> int:
        return sum(line.amount for line in self.member_revenue)

    @property
    def total_non_member_revenue(self) -> int:
        return sum(line.amount for line in self.non_member_revenue)

    @property
    def total_revenue(self) -> int:
        return self.total_member_revenue + self.total_non_member_revenue

    @property
    def total_cost_of_sales(self) -> int:
        return sum(line.amount for line in self.cost_of_sales)

    @property
    def gross_result(self) -> int:
        return self.total_revenue - self.total_cost_of_sales

    @property
    def total_expenses(self) -> int:
        return sum(line.amount for line in self.expenses)

    @property
    def total_other_income(self) -> int:
        return sum(line.amount for line in self.other_income)

    @property
    def surplus(self) -> int:
        """Sisa hasil usaha of the period: negative is a loss."""
        return self.gross_result - self.total_expenses + self.total_other_income


def income_statement(scope: Scope) -> IncomeStatement:
    sums = _sums(_posted(_base(), scope, exclude_closing=True))
    statement = IncomeStatement(scope)
    for account in accounts():
        if account.id not in sums or not account.type.temporary:
            continue
        d, c = sums[account.id]
        amount = normal_balance(account, d, c)
        line = StatementLine(f"{account.code} {account.name}", amount, account)
        if account.type == AccountType.REVENUE:
            if account.segment == MemberSegment.ANGGOTA:
                statement.member_revenue.append(line)
            elif account.segment == MemberSegment.NON_ANGGOTA:
                statement.non_member_revenue.append(line)
            else:
                statement.other_income.append(line)
        elif account.type == AccountType.COGS:
            statement.cost_of_sales.append(line)
        else:
            statement.expenses.append(line)
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
