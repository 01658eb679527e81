"""Cash at the till: the notes and coins a drawer is counted in, cash rounding (R5) and quick tender amounts."""

from __future__ import annotations

from collections.abc import Mapping

# Rupiah notes and coins in circulation (Bank Indonesia, emisi 2016 and 2022); Rp 1.000 exists as both.
DENOMINATIONS = (100_000, 50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100)
ROUNDING_MODES = ("off", "down", "nearest")
ROUNDING_STEP = 100
MAX_COUNT = 100_000  # pieces of one denomination: more is a typing slip


def round_cash(total: int, mode: str, step: int = ROUNDING_STEP) -> int:
    """R5: the amount an all-cash customer pays. `down` never rounds against the customer; `nearest` rounds
    halves up (only when the cooperative chooses it); `off` leaves the total alone."""
    if mode not in ROUNDING_MODES:
        raise ValueError(f"cash rounding is one of {', '.join(ROUNDING_MODES)}, not {mode!r}")
    if total < 0:
        raise ValueError("a total is never negative")
    if mode == "off":
        return total
    lower = total - total % step
    if mode == "down":
        return lower
    return lower + step if total % step * 2 >= step else lower


def count_drawer(counts: Mapping[int, int]) -> int:
    """The cash in a drawer counted by denomination: {100000: 3, 500: 4} is Rp 301.000."""
    total = 0
    for value, pieces in counts.items():
        if value not in DENOMINATIONS:
            raise ValueError(f"Rp {value} is not a rupiah note or coin")
        if type(pieces) is not int or not 0 <= pieces <= MAX_COUNT:
            raise ValueError(f"the count of Rp {value} must be a whole number from 0 to {MAX_COUNT}")
        total += value * pieces
    return total


def quick_amounts(total: int, limit: int = 6) -> list[int]:
    """Amounts a customer is likely to hand over: the exact total, then the next round sums of the notes above
    it (Rp 23.500 -> 23.500, 24.000, 25.000, 30.000, 50.000, 100.000)."""
    if total <= 0:
        return []
    found = [total]
    for step in (1_000, 5_000, 10_000, 50_000, 100_000):
        amount = -(-total // step) * step
        if amount not in found:
            found.append(amount)
    return sorted(found)[:limit]
