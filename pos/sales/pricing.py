"""The price resolver: which price a line sells at (public, member, wholesale, a manager's override, a scale
label), its discount, and the HET ceiling that no path may cross. Plain values in, plain values out.

Prices here are per unit of the line (a pack's prices are already the pack's). The customer gets the lowest
price they qualify for: members the member price, anyone the wholesale price once the quantity reaches the
product's wholesale minimum (counted in base units). A manager may set another price or a discount (approved
with their PIN, see pos.auth); neither can lift a line above the HET (harga eceran tertinggi, set by the
government for goods such as Minyakita and beras SPHP).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pos.errors import N_, InvalidInput
from receipts.model import line_gross

TIERS = ("public", "member", "wholesale", "override", "label")


class AboveHet(InvalidInput):
    """A price or a label above the HET."""


@dataclass(frozen=True)
class PriceList:
    """The prices of one unit (a kg, a pcs, a dus of 40) of a product."""

    public: int
    member: int
    factor: Decimal = Decimal(1)  # base units in this unit
    wholesale: int | None = None  # the price of one unit at wholesale
    wholesale_min: Decimal | None = None  # in base units
    het: int | None = None  # the ceiling for one unit (the base HET times the factor)

    def __post_init__(self) -> None:
        for name in ("public", "member", "wholesale", "het"):
            value = getattr(self, name)
            if value is not None and (type(value) is not int or value < 0):
                raise ValueError(f"{name} must be whole rupiah, not negative")
        if not isinstance(self.factor, Decimal) or self.factor <= 0:
            raise ValueError("a unit holds a positive number of base units")


@dataclass(frozen=True)
class LinePrice:
    """What a line sells for: gross = R1(quantity x unit_price) (or the scale label's amount), total = gross -
    discount."""

    unit_price: int
    tier: str
    gross: int
    discount: int
    capped: bool = False  # a catalog or label price was brought down to the HET

    @property
    def total(self) -> int:
        return self.gross - self.discount


def het_ceiling(het_per_base: int | None, factor: Decimal) -> int | None:
    """The HET of one unit: the base unit's HET times the unit's size, to the rupiah down (never above)."""
    if het_per_base is None:
        return None
    return int((Decimal(het_per_base) * factor).to_integral_value(rounding="ROUND_FLOOR"))


def tier_price(prices: PriceList, quantity: Decimal, member: bool) -> tuple[int, str]:
    """The lowest price the customer qualifies for, and its tier (public < member < wholesale on ties)."""
    best, tier = prices.public, "public"
    if member and prices.member < best:
        best, tier = prices.member, "member"
    if prices.wholesale is not None and prices.wholesale_min is not None \
            and quantity * prices.factor >= prices.wholesale_min and prices.wholesale < best:
        best, tier = prices.wholesale, "wholesale"
    return best, tier


def resolve(prices: PriceList, quantity: Decimal, *, member: bool = False, override: int | None = None,
            discount: int = 0, label_total: int | None = None) -> LinePrice:
    """Price one line. `override` is a manager's unit price; `label_total` the amount a price-embedded scale label
    carries for the whole line; `discount` whole rupiah off the line."""
    if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0:
        raise InvalidInput(N_("The quantity must be more than zero."))
    if type(discount) is not int or discount < 0:
        raise InvalidInput(N_("A discount is whole rupiah, zero or more."))
    capped = False
    if label_total is not None:
        if type(label_total) is not int or label_total < 0:
            raise InvalidInput(N_("Prices are whole rupiah, zero or more."))
        gross, unit_price, tier = label_total, prices.public, "label"
        if prices.het is not None:
            ceiling = int((Decimal(prices.het) * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            if gross > ceiling:
                gross, capped = ceiling, True
    else:
        if override is not None:
            if type(override) is not int or override < 0:
                raise InvalidInput(N_("Prices are whole rupiah, zero or more."))
            if prices.het is not None and override > prices.het:
                from pos.money import format_rupiah

                raise AboveHet(N_("No price may exceed the HET of %(het)s."), het=format_rupiah(prices.het))
            unit_price, tier = override, "override"
        else:
            unit_price, tier = tier_price(prices, quantity, member)
            if prices.het is not None and unit_price > prices.het:
                unit_price, capped = prices.het, True
        gross = line_gross(quantity, unit_price)
    if discount > gross:
        raise InvalidInput(N_("The discount is more than the line."))
    return LinePrice(unit_price=unit_price, tier=tier, gross=gross, discount=discount, capped=capped)
