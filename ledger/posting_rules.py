"""Posting rules: plain summaries of what happened in, balanced journal entries out (see docs/ledger.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction

from ledger.entries import EntryDraft, Line, credit, debit, lines_from, maybe_credit, maybe_debit, signed
from pos.errors import N_, InvalidInput
from pos.sales.tax import TAX_CODES, TaxRules

# Account keys (ledger/chart.py creates the accounts that carry them).
PIUTANG_ANGGOTA = "piutang_anggota"
QRIS = "qris"
TRANSFER = "transfer"
EDC = "edc"  # debit-card sales waiting for the bank's settlement of the EDC terminal
BANK = "bank"
PPN_KELUARAN = "ppn_keluaran"
PPN_MASUKAN = "ppn_masukan"
UTANG_USAHA = "utang_usaha"
PEMBULATAN = "pembulatan"
SELISIH_KAS = "selisih_kas"
SELISIH_PERSEDIAAN_KURANG = "selisih_persediaan"
SELISIH_PERSEDIAAN_LEBIH = "pendapatan_selisih_persediaan"
PERSEDIAAN_RUSAK = "persediaan_rusak"
DANA_SHU_ANGGOTA = "dana_shu_anggota"
CADANGAN = "cadangan"
SHU_TAHUN_BERJALAN = "shu_tahun_berjalan"
ANTAR_UNIT = "antar_unit"
SAVINGS_KINDS = ("pokok", "wajib", "sukarela")
SHU_FUNDS = ("pengurus", "karyawan", "pendidikan", "sosial", "pembangunan")


def kas(outlet_or_till: str) -> str:
    return f"kas:{outlet_or_till}"


def persediaan(unit: str) -> str:
    return f"persediaan:{unit}"


def hpp(unit: str) -> str:
    return f"hpp:{unit}"


def revenue(unit: str, member: bool) -> str:
    return f"revenue:{unit}:{'anggota' if member else 'non_anggota'}"


def simpanan(kind: str) -> str:
    return f"simpanan:{kind}"


def dana_shu(fund: str) -> str:
    return f"dana_shu:{fund}"


def _whole(*amounts: int) -> None:
    for amount in amounts:
        if type(amount) is not int or amount < 0:
            raise InvalidInput(N_("Amounts are whole rupiah and never negative."))


@dataclass(frozen=True)
class Payments:
    """How a sale was paid (cash is what stayed in the drawer: tendered minus change)."""

    cash: int = 0
    qris: int = 0
    transfer: int = 0
    kasbon: int = 0
    debit: int = 0  # debit card through the EDC terminal

    def __post_init__(self) -> None:
        _whole(self.cash, self.qris, self.transfer, self.kasbon, self.debit)

    @property
    def total(self) -> int:
        return self.cash + self.qris + self.transfer + self.kasbon + self.debit


@dataclass(frozen=True)
class SaleSummary:
    """A completed sale: revenue is the DPP (after discounts, without PPN); rounding is + when rounded up."""

    sale_id: str
    number: str
    date: dt.date
    unit: str
    cash_account: str
    revenue: int
    ppn: int
    cost: int
    payments: Payments
    member_id: int | None = None
    rounding: int = 0

    def __post_init__(self) -> None:
        _whole(self.revenue, self.ppn, self.cost)
        if type(self.rounding) is not int:
            raise InvalidInput(N_("Amounts are whole rupiah and never negative."))
        if self.payments.total != self.revenue + self.ppn + self.rounding:
            raise InvalidInput(
                N_("Payments (%(paid)s) do not add up to the total (%(total)s)."),
                paid=self.payments.total,
                total=self.revenue + self.ppn + self.rounding,
            )
        if self.payments.kasbon and self.member_id is None:
            raise InvalidInput(N_("Kasbon is for members only."))


def _sale_lines(s: SaleSummary, sign: int) -> tuple[Line, ...]:
    """The sale's lines; sign -1 turns every line round (a return)."""
    member = s.member_id is not None

    def side(account: str, amount: int, is_debit: bool, **kw) -> Line | None:
        if not amount:
            return None
        return debit(account, amount, **kw) if (is_debit == (sign > 0)) else credit(account, amount, **kw)

    return lines_from(
        side(s.cash_account, s.payments.cash, True),
        side(QRIS, s.payments.qris, True),
        side(TRANSFER, s.payments.transfer, True),
        side(EDC, s.payments.debit, True),
        side(PIUTANG_ANGGOTA, s.payments.kasbon, True, member_id=s.member_id),
        side(revenue(s.unit, member), s.revenue, False, member_id=s.member_id),
        side(PPN_KELUARAN, s.ppn, False),
        signed(PEMBULATAN, -s.rounding * sign),
        side(hpp(s.unit), s.cost, True),
        side(persediaan(s.unit), s.cost, False),
    )


def sale_entry(s: SaleSummary) -> EntryDraft:
    """Dr cash/QRIS/transfer/EDC/kasbon; Cr revenue (member or not) and PPN; rounding; Dr HPP, Cr inventory."""
    return EntryDraft(
        date=s.date,
        description=f"Penjualan {s.number}",
        source_type="sale",
        source_id=s.sale_id,
        lines=_sale_lines(s, +1),
        unit=s.unit,
    )


def return_entry(s: SaleSummary, original_number: str) -> EntryDraft:
    """A return mirrors the sale it undoes: refund paid out, revenue and PPN reduced, goods back in stock."""
    return EntryDraft(
        date=s.date,
        description=f"Retur {s.number} atas {original_number}",
        source_type="sale_return",
        source_id=s.sale_id,
        lines=_sale_lines(s, -1),
        unit=s.unit,
    )


@dataclass(frozen=True)
class ReceivedGoods:
    """One line of a supplier's invoice, for the PPN rule: its value before PPN, the product's tax code, and the
    PPN the supplier charged on it (None: the line takes a share of the PPN given for the whole invoice)."""

    value: int  # quantity x cost per unit before PPN, whole rupiah
    tax_code: str = "standard"  # the product's tax code: "exempt", "standard" or "luxury"
    ppn: int | None = None

    def __post_init__(self) -> None:
        _whole(self.value)
        if self.ppn is not None:
            _whole(self.ppn)
        if self.tax_code not in TAX_CODES:
            raise InvalidInput(N_("Unknown tax code %(code)s."), code=str(self.tax_code)[:20])


@dataclass(frozen=True)
class ReceivedCost:
    """What one received line costs the cooperative: PPN it may credit goes to PPN masukan, the rest of the PPN
    is part of the goods' cost (and so of the HPP when they are sold)."""

    value: int  # before PPN
    ppn: int  # all the PPN charged on the line
    creditable: int  # the part booked as PPN masukan

    @property
    def ppn_in_cost(self) -> int:
        return self.ppn - self.creditable

    @property
    def cost(self) -> int:
        """The line's inventory cost: its value plus the PPN that cannot be credited."""
        return self.value + self.ppn_in_cost


def _shares(total: int, weights: list[int]) -> list[int]:
    """`total` in whole rupiah shared in proportion to `weights`, adding up exactly: largest remainder first, ties
    to the earlier line."""
    base = sum(weights)
    exact = [Fraction(total * w, base) for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def receipt_costs(lines: tuple[ReceivedGoods, ...] | list[ReceivedGoods], *, pkp: bool,
                  invoice_ppn: int = 0) -> tuple[ReceivedCost, ...]:
    """Split the PPN of a supplier's invoice into PPN masukan and inventory cost, line by line (docs/ledger.md).

    - Only a PKP credits input tax (UU PPN Pasal 1, Pajak Masukan; Pasal 9 ayat (2)): a cooperative that is not PKP
      adds all the PPN it paid to the cost of the goods.
    - A PKP cannot credit the PPN on goods whose own delivery is not taxed or exempt (tax code `exempt`; UU PPN
      Pasal 9 ayat (5) and Pasal 16B ayat (3), as amended by UU 7/2021): that PPN goes into their cost.
    - PPN given for the whole invoice (`invoice_ppn`) is shared over the lines in proportion to the PPN they would
      carry (value x rate: exempt goods carry none), or over all lines by value when every line is exempt; whole
      rupiah, largest remainder first, so the shares add up exactly. It cannot be given with PPN per line.
    """
    lines = list(lines)
    _whole(invoice_ppn)
    if not lines:
        raise InvalidInput(N_("A receipt has at least one line."))
    per_line = any(line.ppn is not None for line in lines)
    if per_line and invoice_ppn:
        raise InvalidInput(N_("Give the PPN either per line or for the whole invoice, not both."))
    total_value = sum(line.value for line in lines)
    if invoice_ppn > total_value or any((line.ppn or 0) > line.value for line in lines):
        raise InvalidInput(N_("The PPN cannot be more than the goods cost before PPN."))
    if per_line:
        ppns = [line.ppn or 0 for line in lines]
    elif invoice_ppn:
        rates = TaxRules(pkp=True)
        weights = [line.value * rates.percent(line.tax_code) for line in lines]
        ppns = _shares(invoice_ppn, weights if sum(weights) else [line.value for line in lines])
    else:
        ppns = [0] * len(lines)
    return tuple(
        ReceivedCost(value=line.value, ppn=ppn, creditable=ppn if pkp and line.tax_code != "exempt" else 0)
        for line, ppn in zip(lines, ppns, strict=True)
    )


@dataclass(frozen=True)
class GoodsReceiptSummary:
    """A supplier's invoice received: `inventory_cost` includes `ppn_in_cost`, the PPN that cannot be credited;
    `ppn_masukan` is the PPN a PKP credits. Only a PKP has PPN masukan."""

    receipt_id: str
    number: str
    date: dt.date
    unit: str
    supplier: str
    inventory_cost: int
    ppn_masukan: int = 0
    paid_cash: int = 0
    cash_account: str = ""
    paid_bank: int = 0
    on_credit: int = 0
    pkp: bool = False
    ppn_in_cost: int = 0

    @classmethod
    def of(cls, costs: tuple[ReceivedCost, ...], *, pkp: bool, payment: str, **fields) -> GoodsReceiptSummary:
        """The summary of costed lines, paid in full by `payment` ("cash", "bank" or "credit")."""
        if payment not in ("cash", "bank", "credit"):
            raise InvalidInput(N_("Payment is cash, bank or credit."))
        gross = sum(c.value + c.ppn for c in costs)
        return cls(inventory_cost=sum(c.cost for c in costs), ppn_masukan=sum(c.creditable for c in costs),
                   ppn_in_cost=sum(c.ppn_in_cost for c in costs), pkp=pkp,
                   paid_cash=gross if payment == "cash" else 0, paid_bank=gross if payment == "bank" else 0,
                   on_credit=gross if payment == "credit" else 0, **fields)

    def __post_init__(self) -> None:
        _whole(self.inventory_cost, self.ppn_masukan, self.paid_cash, self.paid_bank, self.on_credit,
               self.ppn_in_cost)
        if self.ppn_masukan and not self.pkp:
            raise InvalidInput(N_("A cooperative that is not PKP cannot credit PPN: it is part of the goods' cost."))
        if self.ppn_in_cost > self.inventory_cost:
            raise InvalidInput(N_("The PPN cannot be more than the goods cost before PPN."))
        if self.paid_cash + self.paid_bank + self.on_credit != self.inventory_cost + self.ppn_masukan:
            raise InvalidInput(N_("Cash, bank and credit must add up to the invoice total."))
        if self.paid_cash and not self.cash_account:
            raise InvalidInput(N_("Say which cash account paid."))


def goods_receipt_entry(r: GoodsReceiptSummary) -> EntryDraft:
    """Dr inventory at cost (with the PPN that cannot be credited) and, for a PKP, PPN masukan; Cr cash, bank or
    accounts payable."""
    memo = r.supplier[:120]
    return EntryDraft(
        date=r.date,
        description=f"Penerimaan barang {r.number} dari {r.supplier}",
        source_type="goods_receipt",
        source_id=r.receipt_id,
        unit=r.unit,
        lines=lines_from(
            maybe_debit(persediaan(r.unit), r.inventory_cost,
                        memo=f"termasuk PPN tidak dapat dikreditkan {r.ppn_in_cost}" if r.ppn_in_cost else ""),
            maybe_debit(PPN_MASUKAN, r.ppn_masukan),
            maybe_credit(r.cash_account, r.paid_cash),
            maybe_credit(BANK, r.paid_bank),
            maybe_credit(UTANG_USAHA, r.on_credit, memo=memo),
        ),
    )


@dataclass(frozen=True)
class SupplierPaymentSummary:
    payment_id: str
    date: dt.date
    unit: str
    supplier: str
    amount: int
    from_account: str  # a cash account key or "bank"

    def __post_init__(self) -> None:
        _whole(self.amount)


def supplier_payment_entry(p: SupplierPaymentSummary) -> EntryDraft:
    """Dr accounts payable; Cr the cash or bank account that paid."""
    return EntryDraft(
        date=p.date,
        description=f"Pembayaran utang ke {p.supplier}",
        source_type="supplier_payment",
        source_id=p.payment_id,
        unit=p.unit,
        lines=(debit(UTANG_USAHA, p.amount, memo=p.supplier[:120]), credit(p.from_account, p.amount)),
    )


@dataclass(frozen=True)
class TransferSummary:
    """Goods received by one unit from another, at cost."""

    transfer_id: str
    number: str
    date: dt.date
    from_unit: str
    to_unit: str
    amount: int

    def __post_init__(self) -> None:
        _whole(self.amount)


def transfer_entry(t: TransferSummary) -> EntryDraft:
    """Dr the receiving unit's inventory, Cr the sending unit's; each unit balanced by Rekening antar unit."""
    lines: tuple[Line, ...] = (debit(persediaan(t.to_unit), t.amount, unit=t.to_unit),
                               credit(persediaan(t.from_unit), t.amount, unit=t.from_unit))
    if t.from_unit != t.to_unit:
        lines += (credit(ANTAR_UNIT, t.amount, unit=t.to_unit), debit(ANTAR_UNIT, t.amount, unit=t.from_unit))
    return EntryDraft(
        date=t.date, description=f"Mutasi barang {t.number}", source_type="stock_transfer", source_id=t.transfer_id,
        unit=None, lines=lines,
    )


@dataclass(frozen=True)
class SupplierReturnSummary:
    return_id: str
    number: str
    date: dt.date
    unit: str
    supplier: str
    amount: int  # the goods at the cost they are held at (which includes PPN that could not be credited)
    refund_account: str = UTANG_USAHA  # a credit note reduces what we owe; or the cash/bank that was refunded
    ppn_masukan: int = 0  # a PKP's credited PPN on the goods, given back by the nota retur (UU PPN Pasal 5A)
    pkp: bool = False

    def __post_init__(self) -> None:
        _whole(self.amount, self.ppn_masukan)
        if self.ppn_masukan and not self.pkp:
            raise InvalidInput(N_("A cooperative that is not PKP cannot credit PPN: it is part of the goods' cost."))


def supplier_return_entry(r: SupplierReturnSummary) -> EntryDraft:
    """Goods sent back: Dr accounts payable (or the cash refunded) for their cost and, for a PKP, the PPN masukan
    the nota retur takes back; Cr inventory at cost and PPN masukan."""
    return EntryDraft(
        date=r.date, description=f"Retur ke pemasok {r.supplier} {r.number}", source_type="supplier_return",
        source_id=r.return_id, unit=r.unit,
        lines=lines_from(debit(r.refund_account, r.amount + r.ppn_masukan, memo=r.supplier[:120]),
                         credit(persediaan(r.unit), r.amount), maybe_credit(PPN_MASUKAN, r.ppn_masukan)),
    )


@dataclass(frozen=True)
class StockAdjustmentSummary:
    """An opname variance at cost: positive when more was counted than the books said."""

    adjustment_id: str
    date: dt.date
    unit: str
    amount: int
    reason: str = ""

    def __post_init__(self) -> None:
        if type(self.amount) is not int or self.amount == 0:
            raise InvalidInput(N_("An adjustment has a non-zero amount in whole rupiah."))


def stock_adjustment_entry(a: StockAdjustmentSummary) -> EntryDraft:
    """Surplus: Dr inventory, Cr other income. Shortage: Dr stock variance expense, Cr inventory."""
    if a.amount > 0:
        lines = (debit(persediaan(a.unit), a.amount), credit(SELISIH_PERSEDIAAN_LEBIH, a.amount))
    else:
        lines = (debit(SELISIH_PERSEDIAAN_KURANG, -a.amount), credit(persediaan(a.unit), -a.amount))
    return EntryDraft(
        date=a.date,
        description=f"Penyesuaian stok {a.reason}".strip(),
        source_type="stock_adjustment",
        source_id=a.adjustment_id,
        unit=a.unit,
        lines=lines,
    )


@dataclass(frozen=True)
class WriteOffSummary:
    write_off_id: str
    date: dt.date
    unit: str
    amount: int
    reason: str

    def __post_init__(self) -> None:
        _whole(self.amount)


def write_off_entry(w: WriteOffSummary) -> EntryDraft:
    """Damaged or expired stock: Dr write-off expense, Cr inventory."""
    return EntryDraft(
        date=w.date,
        description=f"Pemusnahan persediaan: {w.reason}",
        source_type="write_off",
        source_id=w.write_off_id,
        unit=w.unit,
        lines=(debit(PERSEDIAAN_RUSAK, w.amount), credit(persediaan(w.unit), w.amount)),
    )


@dataclass(frozen=True)
class ShiftCashSummary:
    """Counted cash minus expected cash at shift close: positive is over, negative is short."""

    shift_id: str
    date: dt.date
    unit: str
    cash_account: str
    difference: int

    def __post_init__(self) -> None:
        if type(self.difference) is not int or self.difference == 0:
            raise InvalidInput(N_("A cash difference is a non-zero amount in whole rupiah."))


def shift_cash_entry(s: ShiftCashSummary) -> EntryDraft:
    """Over: Dr cash, Cr cash over/short. Short: Dr cash over/short, Cr cash."""
    if s.difference > 0:
        lines = (debit(s.cash_account, s.difference), credit(SELISIH_KAS, s.difference))
    else:
        lines = (debit(SELISIH_KAS, -s.difference), credit(s.cash_account, -s.difference))
    return EntryDraft(
        date=s.date,
        description="Selisih kas tutup shift",
        source_type="shift_close",
        source_id=s.shift_id,
        unit=s.unit,
        lines=lines,
    )


@dataclass(frozen=True)
class SavingsSummary:
    slip_id: str
    number: str
    date: dt.date
    member_id: int
    kind: str
    amount: int
    cash_account: str
    unit: str = "SP"

    def __post_init__(self) -> None:
        _whole(self.amount)
        if self.amount == 0:
            raise InvalidInput(N_("The amount must be more than zero."))
        if self.kind not in SAVINGS_KINDS:
            raise InvalidInput(N_("Unknown kind of savings."))


def savings_deposit_entry(s: SavingsSummary) -> EntryDraft:
    """Dr cash; Cr the member's simpanan pokok, wajib or sukarela."""
    return EntryDraft(
        date=s.date,
        description=f"Setoran simpanan {s.kind} {s.number}",
        source_type="slip",
        source_id=s.slip_id,
        unit=s.unit,
        lines=(debit(s.cash_account, s.amount), credit(simpanan(s.kind), s.amount, member_id=s.member_id)),
    )


def savings_withdrawal_entry(s: SavingsSummary) -> EntryDraft:
    """Dr the member's simpanan sukarela; Cr cash. Pokok and wajib are equity and are not withdrawn."""
    if s.kind != "sukarela":
        raise InvalidInput(N_("Only simpanan sukarela can be withdrawn."))
    return EntryDraft(
        date=s.date,
        description=f"Penarikan simpanan sukarela {s.number}",
        source_type="slip",
        source_id=s.slip_id,
        unit=s.unit,
        lines=(debit(simpanan("sukarela"), s.amount, member_id=s.member_id), credit(s.cash_account, s.amount)),
    )


def kasbon_repayment_entry(s: SavingsSummary) -> EntryDraft:
    """Dr cash; Cr the member's receivable (kasbon)."""
    return EntryDraft(
        date=s.date,
        description=f"Angsuran kasbon {s.number}",
        source_type="slip",
        source_id=s.slip_id,
        unit=s.unit,
        lines=(debit(s.cash_account, s.amount), credit(PIUTANG_ANGGOTA, s.amount, member_id=s.member_id)),
    )


def member_exit_entry(s: SavingsSummary, savings: dict[str, int]) -> EntryDraft:
    """A member leaves: Dr each of their simpanan (pokok, wajib, sukarela); Cr cash paid back."""
    if sum(savings.values()) != s.amount:
        raise InvalidInput(N_("The savings paid back must add up to the slip."))
    return EntryDraft(
        date=s.date, description=f"Pengembalian simpanan anggota keluar {s.number}", source_type="slip",
        source_id=s.slip_id, unit=s.unit,
        lines=lines_from(
            *(maybe_debit(simpanan(kind), amount, member_id=s.member_id) for kind, amount in sorted(savings.items())),
            credit(s.cash_account, s.amount),
        ),
    )


@dataclass(frozen=True)
class MemberShu:
    member_id: int
    jasa_anggota: int
    jasa_modal: int

    @property
    def total(self) -> int:
        return self.jasa_anggota + self.jasa_modal


@dataclass(frozen=True)
class ShuDistribution:
    """The year's surplus split: cadangan, member shares, and the funds (pengurus, karyawan, ...)."""

    year: int
    date: dt.date
    surplus: int
    cadangan: int
    funds: dict[str, int]
    members: tuple[MemberShu, ...]
    remainder: int
    to_sukarela: bool = False
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        parts = self.cadangan + sum(self.funds.values()) + sum(m.total for m in self.members) + self.remainder
        if parts != self.surplus:
            raise InvalidInput(
                N_("The SHU shares (%(parts)s) do not add up to the surplus (%(surplus)s)."),
                parts=parts,
                surplus=self.surplus,
            )


def shu_distribution_entry(d: ShuDistribution) -> EntryDraft:
    """Dr SHU tahun berjalan; Cr cadangan (with the rounding remainder), each member, each fund."""
    member_account = simpanan("sukarela") if d.to_sukarela else DANA_SHU_ANGGOTA
    return EntryDraft(
        date=d.date,
        description=f"Pembagian SHU tahun buku {d.year}",
        source_type="shu_distribution",
        source_id=str(d.year),
        unit=None,
        lines=lines_from(
            debit(SHU_TAHUN_BERJALAN, d.surplus),
            maybe_credit(CADANGAN, d.cadangan + d.remainder, memo="termasuk sisa pembulatan" if d.remainder else ""),
            *(maybe_credit(dana_shu(fund), amount) for fund, amount in sorted(d.funds.items())),
            *(maybe_credit(member_account, m.total, member_id=m.member_id, memo="SHU") for m in d.members),
        ),
    )


def year_closing_entry(year: int, balances: dict[tuple[str, str | None], int]) -> EntryDraft:
    """Close revenue, cost and expense accounts into SHU tahun berjalan on 31 December.

    `balances` maps (account code, unit code) to the net debit balance of the year. Each unit's result
    goes to SHU tahun berjalan under the same unit, so every unit's books still balance on their own.
    """
    lines: list[Line | None] = []
    surplus_by_unit: dict[str | None, int] = {}
    for (code, unit), net in sorted(balances.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        lines.append(signed(code, -net, unit=unit))
        surplus_by_unit[unit] = surplus_by_unit.get(unit, 0) - net
    for unit, surplus in sorted(surplus_by_unit.items(), key=lambda item: item[0] or ""):
        lines.append(signed(SHU_TAHUN_BERJALAN, -surplus, unit=unit))
    return EntryDraft(
        date=dt.date(year, 12, 31),
        description=f"Tutup buku tahun {year}",
        source_type="year_closing",
        source_id=str(year),
        unit=None,
        lines=lines_from(*lines),
    )


def reversal_entry(original_id: int, date: dt.date, description: str, lines: tuple[Line, ...]) -> EntryDraft:
    """The same postings on the other side, linked to the original."""
    return EntryDraft(
        date=date,
        description=description,
        source_type="reversal",
        source_id=str(original_id),
        reverses_id=original_id,
        lines=tuple(
            Line(ln.account, debit=ln.credit, credit=ln.debit, member_id=ln.member_id, unit=ln.unit, memo=ln.memo)
            for ln in lines
        ),
    )
