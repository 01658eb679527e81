"""First-expired, first-out: which batches to issue, and which are expired or close to it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from pos.errors import N_, InvalidInput

FAR_FUTURE = dt.date(9999, 12, 31)


class InsufficientStock(InvalidInput):
    status = 409


@dataclass(frozen=True)
class Lot:
    batch_id: int
    lot: str
    expiry: dt.date | None
    quantity: Decimal


def is_expired(expiry: dt.date | None, today: dt.date) -> bool:
    """A batch may be sold up to and including its expiry date."""
    return expiry is not None and expiry < today


def is_near_expiry(expiry: dt.date | None, today: dt.date, days: int) -> bool:
    return expiry is not None and not is_expired(expiry, today) and (expiry - today).days <= days


def fefo_order(lots: list[Lot]) -> list[Lot]:
    return sorted(lots, key=lambda lot: (lot.expiry or FAR_FUTURE, lot.batch_id))


def sellable(lots: list[Lot], today: dt.date) -> list[Lot]:
    return [lot for lot in fefo_order(lots) if lot.quantity > 0 and not is_expired(lot.expiry, today)]


def pick(lots: list[Lot], quantity: Decimal, today: dt.date, product_name: str = "") -> list[tuple[Lot, Decimal]]:
    """Take `quantity` from the earliest-expiring unexpired batches; refuse when they do not hold enough."""
    if quantity <= 0:
        raise InvalidInput(N_("The quantity must be more than zero."))
    picked: list[tuple[Lot, Decimal]] = []
    remaining = quantity
    for lot in sellable(lots, today):
        take = min(lot.quantity, remaining)
        picked.append((lot, take))
        remaining -= take
        if remaining == 0:
            return picked
    available = quantity - remaining
    raise InsufficientStock(
        N_("Not enough stock of %(product)s that has not expired: %(available)s available, %(wanted)s wanted."),
        product=product_name, available=_qty(available), wanted=_qty(quantity),
    )


def _qty(value: Decimal) -> str:
    from pos.money import format_number

    return format_number(value)
