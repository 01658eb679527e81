"""Journal entries as immutable values that refuse to be built unbalanced (the beancount way)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pos.errors import N_, InvalidInput


class UnbalancedEntry(InvalidInput):
    """Debits and credits differ, an amount is not a positive whole rupiah, or fewer than two lines."""


@dataclass(frozen=True)
class Line:
    """One posting: an account (its key, e.g. 'kas:TK', or its code) and one positive side in whole rupiah."""

    account: str
    debit: int = 0
    credit: int = 0
    member_id: int | None = None
    unit: str | None = None  # business unit code; None means the entry's unit
    memo: str = ""

    def __post_init__(self) -> None:
        for amount in (self.debit, self.credit):
            if type(amount) is not int:  # bool and float are refused: money is whole rupiah
                raise UnbalancedEntry(N_("Amounts are whole rupiah."))
        if (self.debit > 0) == (self.credit > 0) or self.debit < 0 or self.credit < 0:
            raise UnbalancedEntry(N_("Each posting has one positive amount, as debit or as credit."))

    @property
    def net(self) -> int:
        return self.debit - self.credit


def debit(account: str, amount: int, **kw) -> Line:
    return Line(account, debit=amount, **kw)


def credit(account: str, amount: int, **kw) -> Line:
    return Line(account, credit=amount, **kw)


@dataclass(frozen=True)
class EntryDraft:
    date: dt.date
    description: str
    source_type: str
    source_id: str
    lines: tuple[Line, ...]
    unit: str | None = None
    reverses_id: int | None = None
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if len(self.lines) < 2:
            raise UnbalancedEntry(N_("A journal entry needs at least two postings."))
        total_debit = sum(line.debit for line in self.lines)
        total_credit = sum(line.credit for line in self.lines)
        if total_debit != total_credit:
            raise UnbalancedEntry(
                N_("The entry does not balance: debit %(debit)s, credit %(credit)s."),
                debit=total_debit,
                credit=total_credit,
            )
        if not self.source_type or not self.source_id:
            raise UnbalancedEntry(N_("A journal entry needs its source document."))

    @property
    def total(self) -> int:
        return sum(line.debit for line in self.lines)


def lines_from(*pairs: Line | None) -> tuple[Line, ...]:
    """Drop the lines a rule left out (zero amounts) so rules can be written as worksheets."""
    return tuple(line for line in pairs if line is not None)


def maybe_debit(account: str, amount: int, **kw) -> Line | None:
    return debit(account, amount, **kw) if amount else None


def maybe_credit(account: str, amount: int, **kw) -> Line | None:
    return credit(account, amount, **kw) if amount else None


def signed(account: str, amount: int, **kw) -> Line | None:
    """A positive amount on the debit side, a negative one on the credit side, nothing for zero."""
    if amount > 0:
        return debit(account, amount, **kw)
    if amount < 0:
        return credit(account, -amount, **kw)
    return None
