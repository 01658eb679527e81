"""PPN on tax-inclusive shelf prices, line by line, with the receipt discount shared pro rata.

The law (docs/sales.md cites it): a PKP cooperative charges PPN under UU 7/2021 (HPP) and PMK 131/2024. Since
1 January 2025 the rate is 12 %, but for goods that are not luxury goods it is charged on a DPP "nilai lain" of
11/12 of the selling price, so the effective rate is 11 % of the price without PPN. Luxury goods (subject to PPnBM)
pay 12 % of the full price. Basic necessities (beras, gula konsumsi, telur, daging, susu segar, sayur, buah, garam,
...) are exempt (PP 49/2022). A cooperative that is not PKP charges no PPN at all.

Shelf prices include PPN, so the PPN of a line is taken out of what the customer pays for it:

  price without PPN = net x 100 / (100 + r)      r = 11 (standard) or 12 (luxury)
  PPN               = net - price without PPN  = net x r / (100 + r)
  DPP (nilai lain)  = 11/12 x price without PPN  (standard; luxury: the price without PPN itself)

Every rounding is named and happens once, in this order:
  R1 LINE_GROSS      quantity x unit price, to the rupiah, half up (receipts.model.line_gross)
  R2 DISCOUNT_SHARE  a receipt discount split over the lines in proportion to their totals, whole rupiah,
                     largest remainder first (the shares always add up to the discount exactly)
  R3 LINE_PPN        the PPN in each line's net amount, half up
  R4 LINE_DPP        the DPP of each line, half up (printed, not posted)
  R5 CASH            the total of an all-cash sale to Rp 100, when the outlet rounds cash (pos.sales.cash)
Revenue posted is net - PPN for every line, so revenue + PPN is exactly what the customer pays before R5.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

TAX_CODES = ("exempt", "standard", "luxury")
STANDARD_PERCENT = 11  # 12 % x 11/12 (PMK 131/2024)
LUXURY_PERCENT = 12
DPP_NILAI_LAIN = Fraction(11, 12)


def round_half_up(value: Fraction) -> int:
    """Whole rupiah, halves away from zero for positive amounts (never banker's rounding)."""
    if value < 0:
        return -round_half_up(-value)
    whole, rest = divmod(value.numerator, value.denominator)
    return whole + (1 if 2 * rest >= value.denominator else 0)


@dataclass(frozen=True)
class TaxRules:
    """What the cooperative charges: nothing unless PKP; the effective percentages otherwise."""

    pkp: bool
    standard_percent: int = STANDARD_PERCENT
    luxury_percent: int = LUXURY_PERCENT

    def percent(self, tax_code: str) -> int:
        if tax_code not in TAX_CODES:
            raise ValueError(f"unknown tax code {tax_code!r}")
        if not self.pkp or tax_code == "exempt":
            return 0
        return self.standard_percent if tax_code == "standard" else self.luxury_percent


@dataclass(frozen=True)
class LineTax:
    """One line after the receipt discount: what the customer pays for it, its PPN, DPP and revenue."""

    net: int
    ppn: int
    dpp: int

    @property
    def revenue(self) -> int:
        return self.net - self.ppn


def split_discount(totals: list[int], discount: int) -> list[int]:
    """R2: shares of `discount` in proportion to `totals`, whole rupiah, adding up exactly (largest remainder;
    ties go to the earlier line). A share never exceeds its line."""
    if discount < 0 or any(t < 0 for t in totals):
        raise ValueError("a discount and line totals are never negative")
    base = sum(totals)
    if discount > base:
        raise ValueError(f"the discount ({discount}) is more than the lines ({base})")
    if discount == 0 or base == 0:
        return [0] * len(totals)
    exact = [Fraction(discount * t, base) for t in totals]
    shares = [int(x) for x in exact]
    left = discount - sum(shares)
    order = sorted(range(len(totals)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def line_tax(net: int, tax_code: str, rules: TaxRules) -> LineTax:
    """R3 and R4 for one line whose customer price `net` includes PPN."""
    if type(net) is not int or net < 0:
        raise ValueError("a line's net amount is whole rupiah, not negative")
    percent = rules.percent(tax_code)
    if percent == 0:
        return LineTax(net=net, ppn=0, dpp=0)
    ppn = round_half_up(Fraction(net * percent, 100 + percent))
    without = net - ppn
    dpp = round_half_up(DPP_NILAI_LAIN * without) if tax_code == "standard" else without
    return LineTax(net=net, ppn=ppn, dpp=dpp)


def receipt_tax(line_totals: list[int], tax_codes: list[str], receipt_discount: int, rules: TaxRules) -> list[LineTax]:
    """Every line's tax after the receipt discount is shared out (R2, then R3/R4 per line)."""
    if len(line_totals) != len(tax_codes):
        raise ValueError("one tax code per line")
    shares = split_discount(line_totals, receipt_discount)
    return [line_tax(total - share, code, rules) for total, share, code in zip(line_totals, shares, tax_codes,
                                                                                strict=True)]
