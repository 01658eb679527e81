"""Catalog rules as plain checks: NIE against drug class, prices against the HET, units and quantities."""

from __future__ import annotations

import re
from decimal import Decimal

from inventory.models import DrugClass
from pos.errors import N_, InvalidInput

# BPOM's NIE for drugs: 3 letters and 12 digits (as the project records it); the 2nd letter is the class.
NIE_RE = re.compile(r"^[A-Z]{3}\d{12}$", re.ASCII)
NIE_CLASS_LETTER = {
    "B": DrugClass.BEBAS,
    "T": DrugClass.BEBAS_TERBATAS,
    "K": DrugClass.KERAS,
    "P": DrugClass.PSIKOTROPIKA,
    "N": DrugClass.NARKOTIKA,
}
SKU_RE = re.compile(r"^[A-Z0-9][A-Z0-9\-_.]{0,39}$", re.ASCII)
BASE_UNITS = (
    "pcs",
    "kg",
    "gram",
    "liter",
    "ml",
    "tablet",
    "kapsul",
    "strip",
    "botol",
    "sachet",
    "tube",
    "pack",
    "ikat",
)


MAX_PRICE = 10**12  # a trillion rupiah: far above any price, far below the column's limit


def validate_nie(nie: str, drug_class: DrugClass) -> str:
    nie = (nie or "").strip().upper()
    if not NIE_RE.match(nie):
        raise InvalidInput(N_("An NIE is 3 letters and 12 digits, e.g. DKL123456789012."))
    if NIE_CLASS_LETTER.get(nie[1]) != drug_class:
        raise InvalidInput(
            N_("The NIE %(nie)s says drug class %(letter)s, which does not match %(drug_class)s."),
            nie=nie,
            letter=nie[1],
            drug_class=drug_class.value,
        )
    return nie


def validate_sku(sku: str) -> str:
    sku = (sku or "").strip().upper()
    if not SKU_RE.match(sku):
        raise InvalidInput(N_("A SKU is 1 to 40 letters, digits, dashes, dots or underscores."))
    return sku


def validate_prices(public: int, member: int, wholesale: int | None, het: int | None) -> None:
    for value in (public, member, wholesale, het):
        if value is not None and (type(value) is not int or value < 0 or value > MAX_PRICE):
            raise InvalidInput(N_("Prices are whole rupiah, zero or more."))
    if het is not None:
        if type(het) is not int or het <= 0:
            raise InvalidInput(N_("The HET is a price in whole rupiah."))
        for value in (public, member, wholesale):
            if value is not None and value > het:
                raise InvalidInput(N_("No price may exceed the HET of %(het)s."), het=_rupiah(het))


def validate_factor(factor: Decimal) -> Decimal:
    if not isinstance(factor, Decimal) or not factor.is_finite() or factor <= 0 or factor > 100000:
        raise InvalidInput(N_("A pack holds a positive number of base units."))
    return factor


def to_base(quantity: Decimal, factor: Decimal) -> Decimal:
    """Quantity in a pack unit to base units (3 decimals, as stored)."""
    return (quantity * factor).quantize(Decimal("0.001"))


def _rupiah(amount: int) -> str:
    from pos.money import format_rupiah

    return format_rupiah(amount)
