"""SHU: the closed year's surplus split by the AD/ART percentages, members' shares by purchases and savings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from ledger import journal, reports
from ledger.models import JournalEntry, Member, ShuAllocation
from ledger.posting_rules import SHU_FUNDS, MemberShu, ShuDistribution, shu_distribution_entry
from pos import audit
from pos.db import db, utcnow
from pos.errors import N_, Conflict, InvalidInput
from pos.models import User

ALLOCATION_KEYS = ("cadangan", "jasa_anggota", "jasa_modal", *SHU_FUNDS)
# A common AD/ART split; the board sets the cooperative's own (in basis points: 100% = 10000).
DEFAULT_ALLOCATION = {
    "cadangan": 3000,
    "jasa_anggota": 2500,
    "jasa_modal": 2000,
    "pengurus": 500,
    "karyawan": 500,
    "pendidikan": 500,
    "sosial": 500,
    "pembangunan": 500,
}
FULL = 10000


def allocation() -> dict[str, int]:
    stored = {row.key: row.basis_points for row in db.session.scalars(sa.select(ShuAllocation))}
    return {key: stored.get(key, DEFAULT_ALLOCATION[key]) for key in ALLOCATION_KEYS}


def validate_allocation(basis_points: dict[str, int]) -> dict[str, int]:
    if set(basis_points) != set(ALLOCATION_KEYS):
        raise InvalidInput(N_("Give a percentage for every SHU share."))
    for value in basis_points.values():
        if type(value) is not int or not 0 <= value <= FULL:
            raise InvalidInput(N_("Each percentage is between 0 and 100."))
    total = sum(basis_points.values())
    if total != FULL:
        raise InvalidInput(
            N_("The percentages add up to %(total)s%%, not 100%%."), total=f"{total / 100:g}".replace(".", ",")
        )
    return basis_points


def set_allocation(basis_points: dict[str, int], user: User) -> None:
    """The board records the AD/ART percentages; refused unless they sum to exactly 100%."""
    validate_allocation(basis_points)
    before = allocation()
    for key, value in basis_points.items():
        row = db.session.get(ShuAllocation, key)
        if row is None:
            db.session.add(ShuAllocation(key=key, basis_points=value, updated_by=user.username))
        elif row.basis_points != value:
            row.basis_points, row.updated_by, row.updated_at = value, user.username, utcnow()
    if before != basis_points:
        audit.record("shu.allocation_changed", actor=user, before=before, after=basis_points)


@dataclass(frozen=True)
class MemberShare:
    member: Member
    purchases: int
    savings: int
    jasa_anggota: int
    jasa_modal: int

    @property
    def total(self) -> int:
        return self.jasa_anggota + self.jasa_modal


@dataclass(frozen=True)
class ShuComputation:
    year: int
    surplus: int
    basis_points: dict[str, int]
    pools: dict[str, int]
    members: tuple[MemberShare, ...]
    remainder: int
    capital_savings: tuple[str, ...]
    distributed: JournalEntry | None
    member_surplus: int = 0  # SHU from member business (laporan hasil usaha): the basis of the jasa anggota pool
    non_member_surplus: int = 0  # SHU from non-member business
    non_member_to_cadangan: int = 0  # the jasa anggota percentage of the non-member part, kept in cadangan

    @property
    def total_purchases(self) -> int:
        return sum(m.purchases for m in self.members)

    @property
    def total_savings(self) -> int:
        return sum(m.savings for m in self.members)

    @property
    def members_total(self) -> int:
        return sum(m.total for m in self.members)


def split(pool: int, weights: dict[int, int]) -> dict[int, int]:
    """Share a pool by weights, each share rounded down to the rupiah; what is left over is the caller's."""
    total = sum(weights.values())
    if pool <= 0 or total <= 0:
        return {key: 0 for key in weights}
    return {key: pool * weight // total for key, weight in weights.items()}


def compute(year: int) -> ShuComputation:
    """The SHU of a closed fiscal year, per member. Pure arithmetic on the books; posts nothing."""
    if not journal.year_is_closed(year):
        raise InvalidInput(N_("The year %(year)s is not closed yet: close it before computing its SHU."), year=year)
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    statement = reports.income_statement(reports.Scope(start, end))
    surplus = statement.surplus
    bp = allocation()
    pools = {key: max(surplus, 0) * value // FULL for key, value in bp.items()}
    # Jasa anggota rewards members' own business (UU 25/1992 Pasal 45 ayat (2)): its pool is the percentage of the
    # SHU from member business, never more than of the whole SHU. The same percentage of the non-member part stays
    # in the cooperative as cadangan (docs/ledger.md, *Partisipasi anggota*), so the pools still add up as before.
    member_basis = min(max(statement.member_surplus, 0), max(surplus, 0))
    to_cadangan = pools["jasa_anggota"] - member_basis * bp["jasa_anggota"] // FULL
    pools["jasa_anggota"] -= to_cadangan
    pools["cadangan"] += to_cadangan
    kinds = tuple(current_app.config["KASIR"]["shu_capital_savings"])
    purchases = reports.member_purchases(start, end)
    savings = reports.member_savings(end, list(kinds))
    members = db.session.scalars(
        sa.select(Member)
        .where(Member.join_date <= end, sa.or_(Member.left_date.is_(None), Member.left_date > end))
        .order_by(Member.number)
    ).all()
    eligible = {m.id: m for m in members}
    by_purchase = split(pools["jasa_anggota"], {mid: max(purchases.get(mid, 0), 0) for mid in eligible})
    by_savings = split(pools["jasa_modal"], {mid: max(savings.get(mid, 0), 0) for mid in eligible})
    shares = tuple(
        MemberShare(member, purchases.get(mid, 0), savings.get(mid, 0), by_purchase[mid], by_savings[mid])
        for mid, member in eligible.items()
    )
    allocated = pools["cadangan"] + sum(pools[f] for f in SHU_FUNDS) + sum(s.total for s in shares)
    distributed = db.session.scalar(
        sa.select(JournalEntry).where(
            JournalEntry.source_type == "shu_distribution", JournalEntry.source_id == str(year)
        )
    )
    return ShuComputation(year, surplus, bp, pools, shares, max(surplus, 0) - allocated, kinds, distributed,
                          statement.member_surplus, statement.non_member_surplus, to_cadangan)


def distribute(year: int, date: dt.date, to_sukarela: bool, user: User | None, author_name: str = "") -> JournalEntry:
    """Post the distribution (call inside a write transaction): members' shares to Dana SHU or to sukarela."""
    result = compute(year)
    if result.distributed is not None:
        raise Conflict(
            N_("The SHU of %(year)s was already distributed in %(number)s."),
            year=year,
            number=result.distributed.number,
        )
    if result.surplus <= 0:
        raise InvalidInput(N_("There is no surplus to distribute for %(year)s."), year=year)
    if date <= dt.date(year, 12, 31):
        raise InvalidInput(N_("The SHU is distributed after the year ends, usually at the RAT.")).at("date")
    if date > journal.today():
        raise InvalidInput(N_("The SHU is distributed on the day of the RAT decision, not ahead of it.")).at("date")
    entry = journal.post(
        shu_distribution_entry(
            ShuDistribution(
                year=year,
                date=date,
                surplus=result.surplus,
                cadangan=result.pools["cadangan"],
                funds={fund: result.pools[fund] for fund in SHU_FUNDS},
                members=tuple(MemberShu(s.member.id, s.jasa_anggota, s.jasa_modal) for s in result.members if s.total),
                remainder=result.remainder,
                to_sukarela=to_sukarela,
            )
        ),
        user,
        author_name=author_name,
    )
    audit.record(
        "shu.distributed",
        actor=user,
        actor_name=author_name,
        target_type="year",
        target_id=year,
        after={
            "entry": entry.number,
            "surplus": result.surplus,
            "to_sukarela": to_sukarela,
            "remainder": result.remainder,
        },
    )
    return entry
