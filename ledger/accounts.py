"""Keeping the chart of accounts: seeding it from the units, and the board's add, rename, deactivate."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import current_app

from ledger.chart import AccountSpec, UnitInfo, chart_for
from ledger.journal import forget_accounts
from ledger.models import Account, AccountType, Posting
from pos import audit
from pos.db import db
from pos.errors import N_, Conflict, InvalidInput, NotFound
from pos.models import BusinessUnit, Outlet, Till, User

CODE_RE = re.compile(r"^[1-6]-\d{4}$", re.ASCII)
TYPE_BY_PREFIX = {
    "1": AccountType.ASSET,
    "2": AccountType.LIABILITY,
    "3": AccountType.EQUITY,
    "4": AccountType.REVENUE,
    "5": AccountType.COGS,
    "6": AccountType.EXPENSE,
}


def units_info() -> list[UnitInfo]:
    units = db.session.scalars(sa.select(BusinessUnit).order_by(BusinessUnit.id)).all()
    return [
        UnitInfo(
            u.code,
            u.name,
            u.kind,
            tuple((o.code, o.name, tuple(t.code for t in o.tills)) for o in sorted(u.outlets, key=lambda o: o.id)),
        )
        for u in units
    ]


def _free_code(code: str, taken: set[str]) -> str:
    prefix, number = code.split("-")
    n = int(number)
    while f"{prefix}-{n:04d}" in taken:
        n += 1
    return f"{prefix}-{n:04d}"


def seed_chart() -> list[Account]:
    """Create the accounts the posting rules need that are missing; existing ones keep their code and name."""
    specs = chart_for(units_info(), current_app.config["KASIR"]["cash_account_per_till"])
    existing = {a.key: a for a in db.session.scalars(sa.select(Account)) if a.key}
    taken = set(db.session.scalars(sa.select(Account.code)))
    units = {u.code: u.id for u in db.session.scalars(sa.select(BusinessUnit))}
    outlets = {o.code: o.id for o in db.session.scalars(sa.select(Outlet))}
    tills = {t.code: t.id for t in db.session.scalars(sa.select(Till))}
    created = []
    for spec in specs:
        if spec.key in existing:
            continue
        code = spec.code if spec.code not in taken else _free_code(spec.code, taken)
        taken.add(code)
        account = _from_spec(spec, code, units, outlets, tills)
        db.session.add(account)
        created.append(account)
    db.session.flush()
    forget_accounts()
    return created


def _from_spec(spec: AccountSpec, code: str, units, outlets, tills) -> Account:
    return Account(
        code=code,
        name=spec.name,
        type=spec.type,
        key=spec.key,
        unit_id=units.get(spec.unit),
        outlet_id=outlets.get(spec.outlet),
        till_id=tills.get(spec.till),
        segment=spec.segment,
        active=True,
    )


def add_account(code: str, name: str, unit_code: str | None, user: User) -> Account:
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise InvalidInput(N_("An account code looks like 6-1234; its first digit is the group (1 to 6)."))
    name = _name(name)
    if db.session.scalar(sa.select(Account.id).where(Account.code == code)) is not None:
        raise Conflict(N_("Account code %(code)s is taken."), code=code)
    unit_id = None
    if unit_code:
        unit_id = db.session.scalar(sa.select(BusinessUnit.id).where(BusinessUnit.code == unit_code))
        if unit_id is None:
            raise NotFound(N_("No business unit '%(unit)s'."), unit=unit_code)
    account = Account(code=code, name=name, type=TYPE_BY_PREFIX[code[0]], unit_id=unit_id, active=True)
    db.session.add(account)
    db.session.flush()
    audit.record(
        "account.created",
        actor=user,
        target_type="account",
        target_id=code,
        after={"name": name, "type": account.type.value},
    )
    return account


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120 or any(ord(ch) < 32 for ch in name):
        raise InvalidInput(N_("An account name is 1 to 120 characters."))
    return name


def rename_account(account: Account, name: str, user: User) -> None:
    name = _name(name)
    if name != account.name:
        audit.record(
            "account.renamed",
            actor=user,
            target_type="account",
            target_id=account.code,
            before={"name": account.name},
            after={"name": name},
        )
        account.name = name


def set_account_active(account: Account, active: bool, user: User) -> None:
    forget_accounts()
    if account.active == active:
        return
    if not active and account.key and _is_required(account.key):
        raise InvalidInput(N_("Account %(code)s is used by the posting rules and stays active."), code=account.code)
    account.active = active
    audit.record(
        "account.activated" if active else "account.deactivated",
        actor=user,
        target_type="account",
        target_id=account.code,
        before={"active": not active},
        after={"active": active},
    )


def _is_required(key: str) -> bool:
    return any(
        spec.key == key for spec in chart_for(units_info(), current_app.config["KASIR"]["cash_account_per_till"])
    )


def delete_account(account: Account, user: User) -> None:
    """Only an account that was never posted to can be deleted; otherwise deactivate it."""
    if db.session.scalar(sa.select(Posting.id).where(Posting.account_id == account.id).limit(1)) is not None:
        raise InvalidInput(
            N_("Account %(code)s has postings: it can be deactivated, never deleted."), code=account.code
        )
    if account.key and _is_required(account.key):
        raise InvalidInput(N_("Account %(code)s is used by the posting rules and stays active."), code=account.code)
    forget_accounts()
    audit.record(
        "account.deleted", actor=user, target_type="account", target_id=account.code, before={"name": account.name}
    )
    db.session.delete(account)
