"""Members, their savings (pokok, wajib, sukarela) and kasbon: every movement a slip and a journal entry."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from ledger import journal
from ledger.models import Account, JournalEntry, Member, MemberStatus, Posting, SavingsKind, Slip, SlipKind
from ledger.posting_rules import (
    PIUTANG_ANGGOTA,
    SavingsSummary,
    kas,
    kasbon_repayment_entry,
    member_exit_entry,
    savings_deposit_entry,
    savings_withdrawal_entry,
    simpanan,
)
from pos import audit
from pos.db import db
from pos.errors import N_, Conflict, InvalidInput, NotFound
from pos.models import Outlet, User

NIK_RE = re.compile(r"^\d{16}$", re.ASCII)
PHONE_RE = re.compile(r"^(\+62|62|0)8\d{7,12}$", re.ASCII)
RT_RW_RE = re.compile(r"^\d{1,3}$", re.ASCII)
PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
MEMBER_PREFIX = "AGT-"


def _settings() -> dict:
    return current_app.config["KASIR"]


def local_today() -> dt.date:
    """Today at the cooperative (its timezone), not at the server's clock zone."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(_settings()["timezone"])).date()


def validate_nik(nik: str) -> str:
    """NIK: 16 digits; digits 7-12 are the birth date (day + 40 for women), so month and day must exist."""
    nik = (nik or "").strip().replace(" ", "")
    if not NIK_RE.match(nik):
        raise InvalidInput(N_("A NIK is 16 digits."))
    day, month = int(nik[6:8]), int(nik[8:10])
    if day > 40:
        day -= 40
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise InvalidInput(N_("This NIK holds no valid birth date (digits 7 to 12)."))
    return nik


def mask_nik(nik: str) -> str:
    """Region code and the last four digits: 637102******0003."""
    return nik[:6] + "*" * 6 + nik[-4:] if len(nik) == 16 else "*" * len(nik)


def normalise_phone(phone: str) -> str:
    phone = re.sub(r"[\s\-().]", "", phone or "")
    if phone and not PHONE_RE.match(phone):
        raise InvalidInput(N_("A phone number looks like 0812 3456 7890."))
    return phone


def parse_period(period: str) -> tuple[int, int]:
    match = PERIOD_RE.match((period or "").strip())
    if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
        raise InvalidInput(N_("Write the month as YYYY-MM, e.g. 2026-11."))
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class MemberInput:
    name: str
    nik: str
    address: str = ""
    rt: str = ""
    rw: str = ""
    kelurahan: str = ""
    phone: str = ""
    join_date: dt.date | None = None


def _clean_text(value: str, limit: int, message: str, required: bool = False) -> str:
    """Trimmed text within `limit`, without control characters; otherwise `message` (a whole sentence, so the
    field's name is translated with it)."""
    value = (value or "").strip() if isinstance(value, str) else ""
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in value) or len(value) > limit or (required and not value):
        raise InvalidInput(message, limit=limit)
    return value


def member_by_number(number: str) -> Member:
    member = db.session.scalar(sa.select(Member).where(Member.number == (number or "").strip().upper()[:20]))
    if member is None:
        raise NotFound(N_("No member with number %(number)s."), number=(number or "")[:20])
    return member


def register_member(data: MemberInput, author: User | None, *, pay_pokok: bool = True, author_name: str = "") -> Member:
    """Add a member and take the simpanan pokok at the savings desk (in the caller's write transaction)."""
    name = _clean_text(data.name, 120, N_("The name is required, up to %(limit)d characters."), required=True)
    nik = validate_nik(data.nik)
    rt, rw = (data.rt or "").strip(), (data.rw or "").strip()
    for value in (rt, rw):
        if value and not RT_RW_RE.match(value):
            raise InvalidInput(N_("RT and RW are numbers of up to three digits."))
    join_date = data.join_date or local_today()
    if not dt.date(2000, 1, 1) <= join_date <= local_today():
        raise InvalidInput(N_("The joining date is between 01/01/2000 and today.")).at("join_date")
    if journal.closed_period_for(join_date) is not None:  # a join date feeds the SHU of a closed year
        raise journal.PeriodClosed(N_("%(date)s is in a closed month: a new member joins in an open one."),
                                   date=join_date.strftime("%d/%m/%Y")).at("join_date")
    if db.session.scalar(sa.select(Member.id).where(Member.nik == nik)) is not None:
        raise Conflict(N_("A member with this NIK is already registered."))
    member = Member(
        number=f"{MEMBER_PREFIX}{journal.next_number('AGT', 0):05d}",
        name=name,
        nik=nik,
        address=_clean_text(data.address, 250, N_("The address can have up to %(limit)d characters.")),
        rt=rt.zfill(3) if rt else "",
        rw=rw.zfill(3) if rw else "",
        kelurahan=_clean_text(data.kelurahan, 80, N_("The kelurahan can have up to %(limit)d characters.")),
        phone=normalise_phone(data.phone),
        join_date=join_date,
        status=MemberStatus.ACTIVE,
    )
    db.session.add(member)
    db.session.flush()
    audit.record(
        "member.registered",
        actor=author,
        actor_name=author_name,
        target_type="member",
        target_id=member.number,
        after={"name": member.name, "join_date": join_date.isoformat()},
    )
    if pay_pokok and _settings()["simpanan_pokok_amount"] > 0:
        deposit(
            member, SavingsKind.POKOK, _settings()["simpanan_pokok_amount"], join_date, author, author_name=author_name
        )
    return member


def set_member_left(member: Member, date: dt.date, author: User | None, author_name: str = "") -> Slip | None:
    """A member leaves: kasbon must be repaid; simpanan pokok, wajib and sukarela are paid back in cash."""
    if member.status == MemberStatus.LEFT:
        return None
    if date < member.join_date:
        raise InvalidInput(N_("A member cannot leave before joining (%(date)s)."), date=member.join_date.isoformat())
    journal.check_date(date)  # a leaving date feeds the SHU of its year: not in a closed month, not far ahead
    if kasbon_balance(member.id) > 0:
        raise InvalidInput(N_("The member still owes kasbon; it must be repaid first."))
    balances = {kind: _lowest_from(member.id, simpanan(kind.value), date) for kind in SavingsKind}
    if any(amount != savings_balance(member.id, kind) for kind, amount in balances.items()):
        raise InvalidInput(N_("Savings moved after %(date)s: date the leaving on or after the last movement."),
                           date=date.isoformat())
    slip = None
    if sum(balances.values()) > 0:
        slip = _slip(member, SlipKind.EXIT, None, sum(balances.values()), date, author, None,
                     lambda s: member_exit_entry(s, {k.value: v for k, v in balances.items() if v}), author_name)
    member.status, member.left_date = MemberStatus.LEFT, date
    audit.record("member.left", actor=author, actor_name=author_name, target_type="member", target_id=member.number,
                 before={"status": "active"},
                 after={"status": "left", "left_date": date.isoformat(), "paid_back": sum(balances.values())})
    return slip


# --- balances -----------------------------------------------------------------------------------


def member_postings(*columns) -> sa.Select:
    """A select over one member's posted postings, read through the member's index: the account is joined on
    `account_id + 0`, which no index serves, because without table statistics SQLite would rather read every
    posting of the account (all members' simpanan wajib, growing every month) than the member's few."""
    return (
        sa.select(*columns)
        .select_from(Posting)
        .join(Account, Account.id == Posting.account_id + 0)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(JournalEntry.posted.is_(True))
    )


def _member_nets(member_id: int, account_keys: list[str], until: dt.date | None = None) -> dict[str, int]:
    """Credit less debit of the member's postings on each of these accounts, in one query."""
    query = member_postings(Account.key, sa.func.sum(Posting.credit - Posting.debit)).where(
        Posting.member_id == member_id, Account.key.in_(account_keys)).group_by(Account.key)
    if until is not None:
        query = query.where(JournalEntry.date <= until)
    found = {key: int(net or 0) for key, net in db.session.execute(query)}
    return {key: found.get(key, 0) for key in account_keys}


def _member_net(member_id: int, account_key: str, until: dt.date | None = None) -> int:
    return _member_nets(member_id, [account_key], until)[account_key]


def _lowest_from(member_id: int, account_key: str, date: dt.date, sign: int = 1) -> int:
    """The lowest balance the account reaches from `date` on (sign -1 for the receivable): a movement dated
    `date` may take at most this much, or some later day would go below zero."""
    running = sign * _member_net(member_id, account_key, date)
    lowest = running
    changes = db.session.scalars(
        member_postings(Posting.credit - Posting.debit)
        .where(Posting.member_id == member_id, Account.key == account_key, JournalEntry.date > date)
        .order_by(JournalEntry.date, JournalEntry.id)
    )
    for change in changes:
        running += sign * int(change)
        lowest = min(lowest, running)
    return lowest


def savings_balance(member_id: int, kind: SavingsKind | str, until: dt.date | None = None) -> int:
    return _member_net(member_id, simpanan(str(kind)), until)


def savings_balances(member_id: int, until: dt.date | None = None) -> dict[str, int]:
    nets = _member_nets(member_id, [simpanan(kind.value) for kind in SavingsKind], until)
    return {kind.value: nets[simpanan(kind.value)] for kind in SavingsKind}


def kasbon_balance(member_id: int, until: dt.date | None = None) -> int:
    """What the member owes on kasbon (a receivable: debit balance)."""
    return -_member_net(member_id, PIUTANG_ANGGOTA, until)


def _limit(savings: int) -> int:
    s = _settings()
    return min(s["kasbon_limit_max"], savings * s["kasbon_limit_percent"] // 100)


def kasbon_limit(member_id: int) -> int:
    return _limit(sum(savings_balances(member_id).values()))


def kasbon_available(member_id: int) -> int:
    return member_summary(member_id)["kasbon_available"]


def member_summary(member_id: int) -> dict:
    """Savings per kind, kasbon owed, its limit and what is still available, from one query of the member's
    postings."""
    keys = [simpanan(kind.value) for kind in SavingsKind]
    nets = _member_nets(member_id, [*keys, PIUTANG_ANGGOTA])
    balances = {kind.value: nets[simpanan(kind.value)] for kind in SavingsKind}
    owed, limit = -nets[PIUTANG_ANGGOTA], _limit(sum(balances.values()))
    return {"balances": balances, "kasbon_owed": owed, "kasbon_limit": limit,
            "kasbon_available": max(0, limit - owed)}


def check_kasbon(member_id: int | None, amount: int) -> Member:
    """Refuse kasbon to non-members, members who left, and beyond the limit; the till calls this before a sale."""
    if member_id is None:
        raise InvalidInput(N_("Kasbon is for members only."))
    member = db.session.get(Member, member_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        raise InvalidInput(N_("Kasbon is for active members only."))
    summary = member_summary(member.id)
    available = summary["kasbon_available"]
    if amount > available:
        from pos.money import format_rupiah

        raise InvalidInput(
            N_("Kasbon of %(amount)s is over the limit: %(available)s left of %(limit)s."),
            amount=format_rupiah(amount),
            available=format_rupiah(available),
            limit=format_rupiah(summary["kasbon_limit"]),
        )
    return member


# --- movements ----------------------------------------------------------------------------------


def _savings_outlet() -> Outlet:
    code = _settings()["savings_outlet"]
    outlet = db.session.scalar(sa.select(Outlet).where(Outlet.code == code))
    if outlet is None:
        raise NotFound(N_("The savings desk outlet %(code)s does not exist."), code=code)
    return outlet


def _positive(amount: int) -> int:
    if type(amount) is not int or amount <= 0:
        raise InvalidInput(N_("The amount must be more than zero."))
    if amount > 10**12:
        raise InvalidInput(N_("That amount is too large."))
    return amount


def _slip(
    member: Member,
    kind: SlipKind,
    savings_kind: SavingsKind | None,
    amount: int,
    date: dt.date,
    author: User | None,
    period: str | None,
    rule,
    author_name: str,
) -> Slip:
    if member.status != MemberStatus.ACTIVE:
        raise InvalidInput(N_("%(number)s is no longer an active member."), number=member.number)
    if date < member.join_date:
        raise InvalidInput(N_("The date is before the member joined (%(date)s)."), date=member.join_date.isoformat())
    outlet = _savings_outlet()
    number = f"SLP/{date.year}/{journal.next_number('SLP', date.year):06d}"
    summary = SavingsSummary(
        slip_id=number,
        number=number,
        date=date,
        member_id=member.id,
        kind=(savings_kind or SavingsKind.SUKARELA).value,
        amount=amount,
        cash_account=kas(outlet.code),
        unit=outlet.unit.code,
    )
    entry = journal.post(rule(summary), author, author_name=author_name)
    slip = Slip(
        number=number,
        member_id=member.id,
        kind=kind,
        savings_kind=savings_kind,
        period=period,
        amount=amount,
        date=date,
        outlet_id=outlet.id,
        entry_id=entry.id,
        created_by=(author.username if author else author_name)[:40],
    )
    db.session.add(slip)
    db.session.flush()
    return slip


def deposit(
    member: Member,
    kind: SavingsKind | str,
    amount: int,
    date: dt.date,
    author: User | None,
    period: str | None = None,
    author_name: str = "",
) -> Slip:
    kind = SavingsKind(kind)
    _positive(amount)
    if kind == SavingsKind.POKOK:
        if savings_balance(member.id, SavingsKind.POKOK) > 0:
            raise Conflict(N_("Simpanan pokok is paid once, on joining; %(number)s has paid it."), number=member.number)
        if amount != _settings()["simpanan_pokok_amount"]:
            raise InvalidInput(
                N_("Simpanan pokok is %(amount)s."), amount=_rupiah(_settings()["simpanan_pokok_amount"])
            )
        period = None
    elif kind == SavingsKind.WAJIB:
        year, month = parse_period(period or f"{date.year}-{date.month:02d}")
        period = f"{year}-{month:02d}"
        if (year, month) < (member.join_date.year, member.join_date.month):
            raise InvalidInput(
                N_("Simpanan wajib is due from the joining month (%(month)s)."),
                month=f"{member.join_date.year}-{member.join_date.month:02d}",
            ).at("period")
        if year * 12 + month > date.year * 12 + date.month + 12:
            raise InvalidInput(N_("Simpanan wajib is paid at most 12 months ahead.")).at("period")
        if amount != _settings()["simpanan_wajib_amount"]:
            raise InvalidInput(
                N_("Simpanan wajib is %(amount)s a month."), amount=_rupiah(_settings()["simpanan_wajib_amount"])
            )
        exists = db.session.scalar(
            sa.select(Slip.id).where(
                Slip.member_id == member.id,
                Slip.savings_kind == SavingsKind.WAJIB,
                Slip.kind == SlipKind.DEPOSIT,
                Slip.period == period,
            )
        )
        if exists is not None:
            raise Conflict(N_("Simpanan wajib for %(period)s is already paid."), period=period)
    else:
        period = None
    return _slip(member, SlipKind.DEPOSIT, kind, amount, date, author, period, savings_deposit_entry, author_name)


def withdraw(member: Member, amount: int, date: dt.date, author: User | None, author_name: str = "") -> Slip:
    """Only simpanan sukarela is withdrawn, never below zero."""
    _positive(amount)
    balance = _lowest_from(member.id, simpanan(SavingsKind.SUKARELA.value), date)
    if amount > balance:
        raise InvalidInput(N_("Not enough simpanan sukarela: the balance is %(balance)s."), balance=_rupiah(balance))
    return _slip(
        member,
        SlipKind.WITHDRAWAL,
        SavingsKind.SUKARELA,
        amount,
        date,
        author,
        None,
        savings_withdrawal_entry,
        author_name,
    )


def repay_kasbon(member: Member, amount: int, date: dt.date, author: User | None, author_name: str = "") -> Slip:
    _positive(amount)
    owed = _lowest_from(member.id, PIUTANG_ANGGOTA, date, sign=-1)
    if amount > owed:
        raise InvalidInput(N_("The member owes %(owed)s on kasbon; the repayment is larger."), owed=_rupiah(owed))
    return _slip(
        member, SlipKind.KASBON_REPAYMENT, None, amount, date, author, None, kasbon_repayment_entry, author_name
    )


def _rupiah(amount: int) -> str:
    from pos.money import format_rupiah

    return format_rupiah(amount)


# --- arrears ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrears:
    member: Member
    months: tuple[str, ...]
    amount: int


def _month_text(day) -> sa.ColumnElement:
    """A date column's month as 'YYYY-MM', the form of a slip's period (so periods compare as strings)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(day, "YYYY-MM")
    return sa.func.strftime("%Y-%m", day)


def _paid_wajib():
    """Wajib deposits, with the kinds written into the SQL (not bound): only then does SQLite know the partial
    (member, period) index of wajib deposits holds exactly these rows and read the index alone (7x faster)."""
    return (Slip.savings_kind == sa.literal(SavingsKind.WAJIB, Slip.savings_kind.type, literal_execute=True),
            Slip.kind == sa.literal(SlipKind.DEPOSIT, Slip.kind.type, literal_execute=True))


def _months_unpaid(as_of: dt.date, member_id: int | None = None) -> sa.Subquery:
    """(member id, months unpaid) of the active members (or one member) who joined by `as_of` and owe simpanan wajib
    for at least one month from their joining month to `as_of`'s: the months due less the months paid among them,
    counted in SQL (one range of the (member, period) index of wajib deposits per member), not month by month."""
    joined = sa.cast(sa.extract("year", Member.join_date), sa.Integer) * 12 \
        + sa.cast(sa.extract("month", Member.join_date), sa.Integer)
    paid = (
        sa.select(sa.func.count())
        .where(Slip.member_id == Member.id, *_paid_wajib(), Slip.period >= _month_text(Member.join_date),
               Slip.period <= f"{as_of.year:04d}-{as_of.month:02d}")
        .correlate(Member)
        .scalar_subquery()
    )
    due = (as_of.year * 12 + as_of.month) - joined + 1
    months = (
        sa.select(Member.id, (due - paid).label("unpaid"))
        .where(Member.status == MemberStatus.ACTIVE, Member.join_date <= as_of)
    )
    if member_id is not None:
        months = months.where(Member.id == member_id)
    months = months.subquery()
    return sa.select(months.c.id, months.c.unpaid).where(months.c.unpaid > 0).subquery()


def arrears_query(as_of: dt.date, member_id: int | None = None) -> sa.Select:
    """(Member, months unpaid) of the members in arrears (see _months_unpaid), to page by member number."""
    months = _months_unpaid(as_of, member_id)
    return sa.select(Member, months.c.unpaid).join(months, months.c.id == Member.id)


def wajib_arrears_count(as_of: dt.date) -> int:
    """How many active members owe simpanan wajib up to `as_of` (one SQL count; the dashboard's figure)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(_months_unpaid(as_of)))


def wajib_arrears_totals(as_of: dt.date) -> tuple[int, int, int]:
    """Members in arrears, months unpaid and the amount, over every active member, in SQL."""
    rows = _months_unpaid(as_of)
    members, months = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(rows.c.unpaid), 0))).one()
    return int(members), int(months), int(months) * _settings()["simpanan_wajib_amount"]


def arrears_of(rows, as_of: dt.date) -> list[Arrears]:
    """Arrears with their unpaid months for (Member, unpaid) rows of arrears_query: one query for their paid
    months."""
    due_amount = _settings()["simpanan_wajib_amount"]
    members = [row[0] for row in rows]
    paid: dict[int, set[str]] = {}
    if members:
        for paid_by, period in db.session.execute(
            sa.select(Slip.member_id, Slip.period).where(Slip.member_id.in_([m.id for m in members]), *_paid_wajib())
        ):
            paid.setdefault(paid_by, set()).add(period)
    result = []
    for member in members:
        months = []
        year, month = member.join_date.year, member.join_date.month
        while (year, month) <= (as_of.year, as_of.month):
            key = f"{year}-{month:02d}"
            if key not in paid.get(member.id, ()):
                months.append(key)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if months:
            result.append(Arrears(member=member, months=tuple(months), amount=len(months) * due_amount))
    return result


def iter_wajib_arrears(as_of: dt.date, chunk: int = 500):
    """Every member's arrears in member number order, read `chunk` members at a time (an export in bounded memory)."""
    after = None
    while True:
        query = arrears_query(as_of).order_by(Member.number).limit(chunk)
        if after is not None:
            query = query.where(Member.number > after)
        rows = db.session.execute(query).all()
        if not rows:
            return
        yield from arrears_of(rows, as_of)
        after = rows[-1][0].number


def wajib_arrears(as_of: dt.date, member_id: int | None = None) -> list[Arrears]:
    """Active members (or one member) with months of simpanan wajib unpaid, from joining to `as_of`'s month."""
    if member_id is not None:
        return arrears_of(db.session.execute(arrears_query(as_of, member_id)).all(), as_of)
    return list(iter_wajib_arrears(as_of))


def find_members(query: str, limit: int = 10) -> list[Member]:
    """Members for the till: a card scan or a typed number first (AGT-00042, or just 42), then names having every
    typed word. Active members only."""
    text = (query or "").strip()[:60]
    if not text:
        return []
    found: list[Member] = []
    number = text.upper()
    if number.isdigit() and len(number) <= 5:
        number = f"{MEMBER_PREFIX}{int(number):05d}"
    exact = db.session.scalar(sa.select(Member).where(Member.number == number))
    if exact is not None:
        found.append(exact)
    words = [w for w in re.findall(r"\w+", text.lower()) if w][:5]
    if words:
        query_names = sa.select(Member).where(Member.status == MemberStatus.ACTIVE)
        for word in words:
            query_names = query_names.where(sa.func.lower(Member.name).contains(word, autoescape=True))
        found += db.session.scalars(query_names.order_by(Member.name).limit(limit))
    return [m for m in dict.fromkeys(found) if m.status == MemberStatus.ACTIVE][:limit]
