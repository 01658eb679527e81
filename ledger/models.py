"""Ledger tables: accounts, journal entries and postings, closed periods, members, savings, SHU."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pos.db import Base, UTCDateTime, enum_column, utcnow
from pos.models import BusinessUnit, Outlet, Till


class AccountType(enum.StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    COGS = "cogs"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        return self in (AccountType.ASSET, AccountType.COGS, AccountType.EXPENSE)

    @property
    def temporary(self) -> bool:
        """Closed into the year's surplus at year end."""
        return self in (AccountType.REVENUE, AccountType.COGS, AccountType.EXPENSE)


class MemberSegment(enum.StrEnum):
    ANGGOTA = "anggota"
    NON_ANGGOTA = "non_anggota"


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    type: Mapped[AccountType] = mapped_column(enum_column(AccountType, "account_type"))
    # What posting rules look the account up by, e.g. "kas:TK", "revenue:toko:anggota"; None for
    # accounts the board adds for manual entries only.
    key: Mapped[str | None] = mapped_column(sa.String(60), unique=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("business_unit.id"), index=True)
    outlet_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outlet.id"))
    till_id: Mapped[int | None] = mapped_column(sa.ForeignKey("till.id"))
    segment: Mapped[MemberSegment | None] = mapped_column(
        sa.Enum(
            MemberSegment,
            name="member_segment",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda members: [m.value for m in members],
        )
    )
    active: Mapped[bool] = mapped_column(default=True)

    unit: Mapped[BusinessUnit | None] = relationship()
    outlet: Mapped[Outlet | None] = relationship()
    till: Mapped[Till | None] = relationship()


class JournalEntry(Base):
    """A balanced set of postings. Inserted as a draft, filled, then posted; posted entries never change."""

    __tablename__ = "journal_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    date: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    description: Mapped[str] = mapped_column(sa.String(250))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("business_unit.id"), index=True)
    source_type: Mapped[str] = mapped_column(sa.String(40))
    source_id: Mapped[str] = mapped_column(sa.String(80))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    author_name: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reverses_id: Mapped[int | None] = mapped_column(sa.ForeignKey("journal_entry.id"), unique=True)
    posted: Mapped[bool] = mapped_column(default=False)
    # sha256 over this entry and the chain hash of the entry numbered before it in the year (ledger.chain);
    # set in the same update that posts the entry.
    chain_hash: Mapped[str | None] = mapped_column(sa.String(64))

    unit: Mapped[BusinessUnit | None] = relationship()
    postings: Mapped[list[Posting]] = relationship(back_populates="entry", order_by="Posting.id")
    reverses: Mapped[JournalEntry | None] = relationship(remote_side=[id], foreign_keys=[reverses_id])

    __table_args__ = (sa.UniqueConstraint("source_type", "source_id", name="uq_journal_entry_source"),)


class Posting(Base):
    __tablename__ = "posting"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("journal_entry.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    debit: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    credit: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("member.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("business_unit.id"), index=True)
    memo: Mapped[str] = mapped_column(sa.String(120), default="")

    entry: Mapped[JournalEntry] = relationship(back_populates="postings")
    account: Mapped[Account] = relationship()
    member: Mapped[Member | None] = relationship()
    unit: Mapped[BusinessUnit | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("(debit > 0 AND credit = 0) OR (debit = 0 AND credit > 0)", name="one_positive_side"),
    )


class AccountDay(Base):
    """The posted postings summed per day, account, business unit (0: none), revenue segment of their entry and
    closing flag (ledger.balances). Written in the same transaction as the postings it sums (journal.post), so the
    reports add up day rows instead of every posting; `ledger check` compares it with the postings.

    `segment` is what the income statement traces an entry's costs by: '' for an entry without member or
    non-member revenue (and for closing entries), 'anggota' or 'non_anggota' when all its segment revenue is of
    that segment, 'mixed' when it has both."""

    __tablename__ = "account_day"

    date: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), primary_key=True, autoincrement=False)
    unit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    segment: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    closing: Mapped[bool] = mapped_column(primary_key=True)
    debit: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    credit: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    postings: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        sa.CheckConstraint("segment IN ('', 'anggota', 'non_anggota', 'mixed')", name="segment_class"),
        # Covering (the key's other columns are in every index of a table without rowid): sums per account over
        # any dates read the index alone, in account order.
        sa.Index("ix_account_day_account_date", "account_id", "date", "debit", "credit", "postings"),
        {"sqlite_with_rowid": False},
    )


class ClosedPeriod(Base):
    """A month the board has closed: no entry may be dated inside it."""

    __tablename__ = "closed_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    start_date: Mapped[dt.date] = mapped_column(sa.Date, unique=True)
    end_date: Mapped[dt.date] = mapped_column(sa.Date)
    closed_by: Mapped[str] = mapped_column(sa.String(40))
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("end_date >= start_date", name="ordered"),)


class ClosedYear(Base):
    """A fiscal year closed by its closing entry (revenue and expenses into SHU tahun berjalan). The SHU of a
    year is computed only once this row exists; `chain_head` is the hash of the year's last entry at closing."""

    __tablename__ = "closed_year"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("journal_entry.id"), unique=True)
    chain_head: Mapped[str] = mapped_column(sa.String(64))
    entry_count: Mapped[int] = mapped_column()
    closed_by: Mapped[str] = mapped_column(sa.String(40))
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[JournalEntry | None] = relationship()


class Sequence(Base):
    """Gap-free numbering per series and year (journal entries, slips), taken inside the write transaction."""

    __tablename__ = "number_sequence"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    LEFT = "left"


class Member(Base):
    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    nik: Mapped[str] = mapped_column(sa.String(16), unique=True)
    address: Mapped[str] = mapped_column(sa.String(250), default="")
    rt: Mapped[str] = mapped_column(sa.String(3), default="")
    rw: Mapped[str] = mapped_column(sa.String(3), default="")
    kelurahan: Mapped[str] = mapped_column(sa.String(80), default="")
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    join_date: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[MemberStatus] = mapped_column(
        enum_column(MemberStatus, "member_status"), default=MemberStatus.ACTIVE
    )
    left_date: Mapped[dt.date | None] = mapped_column(sa.Date)

    __table_args__ = (sa.CheckConstraint("length(nik) = 16", name="nik_length"),)


class SavingsKind(enum.StrEnum):
    POKOK = "pokok"
    WAJIB = "wajib"
    SUKARELA = "sukarela"


class SlipKind(enum.StrEnum):
    DEPOSIT = "setoran"
    WITHDRAWAL = "penarikan"
    KASBON_REPAYMENT = "angsuran_kasbon"
    EXIT = "pengembalian"  # savings paid back to a member who leaves


class Slip(Base):
    """One member movement at the savings desk (deposit, withdrawal, kasbon repayment) and its journal entry."""

    __tablename__ = "slip"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("member.id"), index=True)
    kind: Mapped[SlipKind] = mapped_column(enum_column(SlipKind, "slip_kind"))
    savings_kind: Mapped[SavingsKind | None] = mapped_column(enum_column(SavingsKind, "savings_kind"))
    # For simpanan wajib: the month paid for, as YYYY-MM.
    period: Mapped[str | None] = mapped_column(sa.String(7))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    date: Mapped[dt.date] = mapped_column(sa.Date)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlet.id"))
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("journal_entry.id"), unique=True)
    created_by: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship()
    outlet: Mapped[Outlet] = relationship()
    entry: Mapped[JournalEntry] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="positive"),
        # Simpanan pokok is paid once, on joining; simpanan wajib once per month.
        sa.Index(
            "uq_slip_pokok_once",
            "member_id",
            unique=True,
            sqlite_where=sa.text("savings_kind = 'pokok' AND kind = 'setoran'"),
            postgresql_where=sa.text("savings_kind = 'pokok' AND kind = 'setoran'"),
        ),
        sa.Index(
            "uq_slip_wajib_period",
            "member_id",
            "period",
            unique=True,
            sqlite_where=sa.text("savings_kind = 'wajib' AND kind = 'setoran'"),
            postgresql_where=sa.text("savings_kind = 'wajib' AND kind = 'setoran'"),
        ),
    )


class ShuAllocation(Base):
    """The AD/ART percentages that split a year's surplus; basis points so 100% is exactly 10000."""

    __tablename__ = "shu_allocation"

    key: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    basis_points: Mapped[int] = mapped_column()
    updated_by: Mapped[str] = mapped_column(sa.String(40), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("basis_points >= 0 AND basis_points <= 10000", name="range"),)
