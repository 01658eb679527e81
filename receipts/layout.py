"""Receipt layout: a Receipt and a printer profile in, a list of plain blocks (lines, rules, codes, cut) out.

Every Text block is one printed line that already fits the profile's columns (half of them when double), so the
ESC/POS, text and HTML renderers never wrap. Printed words are Indonesian; pass `labels=` to change any of them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from pos.formats import format_date, format_datetime
from pos.money import format_number, format_rupiah
from receipts.barcodes import MAX_LABEL_CODE_LENGTH, SYMBOLOGIES, validate_ean
from receipts.model import CASH, MAX_QR_LENGTH, Receipt, ReceiptLine
from receipts.profiles import PrinterProfile, get_profile

ALIGNS = ("left", "center", "right")

LABELS: dict[str, str] = {
    "copy": "SALINAN",
    "npwp": "NPWP",
    "number": "No.",
    "date": "Tanggal",
    "till": "Terminal",
    "cashier": "Kasir",
    "member": "Anggota",
    "member_name": "Nama",
    "return_title": "RETUR PENJUALAN",
    "original": "Struk asal",
    "batch": "Batch",
    "expiry": "ED",
    "line_discount": "Diskon",
    "subtotal": "Subtotal",
    "discount": "Diskon",
    "rounding": "Pembulatan",
    "total": "TOTAL",
    "return_total": "TOTAL RETUR",
    "refund_via": "Dikembalikan",
    "change": "Kembali",
    "savings": "Anda hemat",
    "tax_inclusive": "Harga sudah termasuk PPN",
    "dpp": "DPP",
    "ppn": "PPN",
    "exempt_mark": "*",
    "exempt_legend": "* bebas PPN",
    "qris_title": "Bayar dengan QRIS",
    "qris_hint": "Pindai kode QR dengan aplikasi pembayaran",
    "shift_x_title": "LAPORAN X",
    "shift_x_note": "Laporan sementara, shift masih buka",
    "shift_z_title": "LAPORAN Z",
    "shift_z_note": "Tutup shift",
    "shift_number": "Shift",
    "opened": "Dibuka",
    "closed": "Ditutup",
    "printed": "Dicetak",
    "opening_float": "Modal awal",
    "sales": "PENJUALAN",
    "total_sales": "Total penjualan",
    "sale_count": "Jumlah transaksi",
    "refunds": "RETUR",
    "total_refunds": "Total retur",
    "refund_count": "Jumlah retur",
    "cash": "KAS",
    "cash_sales": "+ Penjualan tunai",
    "cash_refunds": "- Retur tunai",
    "cash_in": "+ Kas masuk",
    "cash_out": "- Kas keluar",
    "expected_cash": "Kas seharusnya",
    "counted_cash": "Kas dihitung",
    "difference": "Selisih",
    "sign_cashier": "Kasir",
    "sign_supervisor": "Penyelia",
    "deposit": "SETORAN SIMPANAN",
    "withdrawal": "PENARIKAN SIMPANAN",
    "kasbon_repayment": "PEMBAYARAN KASBON",
    "account": "Rekening",
    "amount": "Jumlah",
    "method": "Cara bayar",
    "balance_after": "Saldo akhir",
    "kasbon_after": "Sisa kasbon",
    "sign_member": "Anggota",
    "sign_officer": "Petugas",
    "test_title": "UJI PRINTER",
    "printer": "Printer",
    "profile": "Profil",
    "columns": "Kolom",
    "paper": "Kertas",
    "cutter": "Pemotong",
    "barcode": "Barcode",
    "qr": "QR",
    "native": "printer",
    "image": "gambar",
    "yes": "ya",
    "no": "tidak",
    "bold_sample": "Huruf tebal",
    "double_sample": "Huruf besar",
    "left": "Kiri",
    "right": "Kanan",
    "center": "Tengah",
    "test_qr": "Kasir Koperasi: uji QR",
}


# --- blocks ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One printed line: `double` prints it twice as wide and tall, so it may use only half the columns."""

    text: str
    align: str = "left"
    bold: bool = False
    double: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in self.text):
            raise ValueError("a Text block is one line of text without control characters")
        if self.align not in ALIGNS:
            raise ValueError(f"align must be one of {', '.join(ALIGNS)}")


@dataclass(frozen=True)
class Rule:
    char: str = "-"

    def __post_init__(self) -> None:
        if not isinstance(self.char, str) or len(self.char) != 1 or not " " < self.char <= "~":
            raise ValueError("a rule is drawn with one printable ASCII character")


@dataclass(frozen=True)
class Barcode:
    """A barcode, centred, with its data printed below. Receipts use Code128; shelf labels EAN-13/EAN-8 too."""

    data: str
    symbology: str = "code128"

    def __post_init__(self) -> None:
        if self.symbology not in SYMBOLOGIES:
            raise ValueError(f"symbology must be one of {', '.join(SYMBOLOGIES)}, not {self.symbology!r}")
        if self.symbology == "code128":
            if not isinstance(self.data, str) or not self.data or not all(" " <= ch <= "~" for ch in self.data):
                raise ValueError("Code128 data must be non-empty printable ASCII")
            if len(self.data) > MAX_LABEL_CODE_LENGTH:
                raise ValueError(f"barcode data is longer than {MAX_LABEL_CODE_LENGTH} characters")
        elif len(validate_ean(self.data)) != (13 if self.symbology == "ean13" else 8):
            raise ValueError(f"{self.data} is not an {self.symbology.upper()}")


@dataclass(frozen=True)
class QR:
    payload: str

    def __post_init__(self) -> None:
        if not isinstance(self.payload, str) or not self.payload or len(self.payload) > MAX_QR_LENGTH:
            raise ValueError(f"a QR payload is non-empty text of at most {MAX_QR_LENGTH} characters")


@dataclass(frozen=True)
class Feed:
    lines: int = 1

    def __post_init__(self) -> None:
        if type(self.lines) is not int or not 1 <= self.lines <= 10:
            raise ValueError("feed 1 to 10 lines")


@dataclass(frozen=True)
class Cut:
    pass


Block = Text | Rule | Barcode | QR | Feed | Cut


# --- helpers --------------------------------------------------------------------------------------------------------


def wrap(text: str, width: int, indent: int = 0) -> list[str]:
    """Words wrapped to `width` columns (over-long words are broken); continuation lines indented by `indent`."""
    pad = " " * indent
    lines = textwrap.wrap(
        text,
        width,
        initial_indent=pad,
        subsequent_indent=pad,
        break_long_words=True,
        break_on_hyphens=False,
    )
    return lines or [pad.rstrip()]


def format_quantity(value: Decimal) -> str:
    """1 -> '1'; Decimal('1.250') -> '1,250' (the decimals as weighed); Decimal('0.5') -> '0,5'."""
    if value == value.to_integral_value():
        return format_number(value.to_integral_value())
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return format_number(value, places)


def signed_number(amount: int) -> str:
    return f"+{format_number(amount)}" if amount > 0 else format_number(amount)


class _Page:
    """Collects blocks for one profile width."""

    def __init__(self, profile: PrinterProfile, labels: Mapping[str, str]) -> None:
        self.width = profile.columns
        self.labels = labels
        self.blocks: list[Block] = []

    def __getitem__(self, key: str) -> str:
        return self.labels[key]

    def text(self, text: str, align: str = "left", *, bold: bool = False, double: bool = False, indent: int = 0):
        width = self.width // 2 if double else self.width
        for line in wrap(text, width, indent):
            self.blocks.append(Text(line, align, bold, double))

    def pair(self, left: str, right: str, *, bold: bool = False, indent: int = 0) -> None:
        """`left` text and `right` amount on one line, the amount against the right edge."""
        room = self.width - len(right) - 1
        if len(right) >= self.width:
            self.text(left, bold=bold, indent=indent)
            self.text(right, "right", bold=bold)
            return
        if room >= max(8, self.width // 3):
            lines = wrap(left, room, indent)
            for line in lines[:-1]:
                self.blocks.append(Text(line, bold=bold))
            self.blocks.append(Text(lines[-1].ljust(self.width - len(right)) + right, bold=bold))
            return
        self.text(left, bold=bold, indent=indent)
        self.blocks.append(Text(right.rjust(self.width), bold=bold))

    def info(self, rows: list[tuple[str, str]]) -> None:
        """Label : value rows, the colons aligned, long values wrapped under themselves."""
        rows = [(label, value) for label, value in rows if value]
        if not rows:
            return
        label_width = max(len(label) for label, _ in rows)
        for label, value in rows:
            lead = f"{label.ljust(label_width)}: "
            if len(lead) > self.width // 2:
                self.text(f"{label}:")
                self.text(value, indent=2)
                continue
            lines = wrap(value, self.width - len(lead))
            self.blocks.append(Text(lead + lines[0]))
            for line in lines[1:]:
                self.blocks.append(Text(" " * len(lead) + line))

    def rule(self, char: str = "-") -> None:
        self.blocks.append(Rule(char))

    def add(self, block: Block) -> None:
        self.blocks.append(block)

    def signatures(self, left: str, right: str) -> None:
        half = self.width // 2
        self.blocks.append(Text(left.center(half).rstrip().ljust(half) + right.center(self.width - half).rstrip()))
        self.blocks.append(Feed(3))
        blank = "(" + "_" * (half - 4) + ")"
        self.blocks.append(Text(blank.center(half) + blank.center(self.width - half).rstrip()))


# --- layouts --------------------------------------------------------------------------------------------------------


def layout(receipt: Receipt, profile: str | PrinterProfile, *, labels: Mapping[str, str] | None = None) -> list[Block]:
    """The blocks of `receipt` for `profile` (a PrinterProfile or the name of a built-in one)."""
    if not isinstance(receipt, Receipt):
        raise ValueError("layout() takes a Receipt")
    profile = get_profile(profile)
    page = _Page(profile, {**LABELS, **(labels or {})})
    if receipt.copy:
        page.text(page["copy"], "center", bold=True, double=True)
        page.add(Feed(1))
    _header(page, receipt)
    {
        "sale": _trade,
        "return": _trade,
        "shift_x": _shift,
        "shift_z": _shift,
        "slip": _slip,
        "test": _test,
    }[receipt.kind](page, receipt)
    if receipt.footer:
        page.add(Feed(1))
        for line in receipt.footer:
            page.text(line, "center")
    if profile.can_cut:
        page.add(Cut())
    else:
        page.add(Feed(3))  # past the tear bar
    return page.blocks


def _header(page: _Page, receipt: Receipt) -> None:
    header = receipt.header
    if header is None:
        return
    page.text(header.cooperative_name, "center", bold=True)
    if header.outlet_name:
        page.text(header.outlet_name, "center")
    for line in header.address_lines:
        page.text(line, "center")
    if header.shows_npwp:
        page.text(f"{page['npwp']} {header.npwp}", "center")
    if header.note:
        page.text(header.note, "center")
    page.rule()


def _when(receipt: Receipt, moment=None) -> str:
    return format_datetime(moment or receipt.printed_at, receipt.timezone)


def _trade(page: _Page, receipt: Receipt) -> None:
    totals = receipt.totals
    assert totals is not None and receipt.header is not None
    pkp = receipt.header.pkp
    is_return = receipt.kind == "return"
    if is_return:
        page.text(page["return_title"], "center", bold=True)
    page.info(
        [
            (page["number"], receipt.number),
            (page["original"], receipt.original_number or ""),
            (page["date"], _when(receipt)),
            (page["till"], receipt.till_code),
            (page["cashier"], receipt.cashier_name),
            (page["member"], receipt.member_number or ""),
            (page["member_name"], receipt.member_name or ""),
        ]
    )
    page.rule()
    for line in receipt.lines:
        _line(page, line, marked=pkp and line.exempt)
    page.rule()
    page.pair(page["subtotal"], format_number(totals.subtotal))
    if totals.discount:
        page.pair(page["discount"], format_number(-totals.discount))
    if pkp and not totals.tax_inclusive:
        page.pair(page["dpp"], format_number(totals.dpp))
        page.pair(page["ppn"], format_number(totals.ppn))
    if totals.rounding:
        page.pair(page["rounding"], signed_number(totals.rounding))
    page.pair(page["return_total" if is_return else "total"], format_rupiah(totals.total), bold=True)
    for payment in receipt.payments:
        label = f"{page['refund_via']} {payment.label}" if is_return else payment.label
        page.pair(label, format_rupiah(payment.amount))
    if not is_return and (receipt.change or any(payment.method == CASH for payment in receipt.payments)):
        page.pair(page["change"], format_rupiah(receipt.change), bold=True)
    if not is_return and receipt.savings:
        page.text(f"{page['savings']} {format_rupiah(receipt.savings)}", "center")
    if pkp:
        page.rule()
        if totals.tax_inclusive:
            page.text(page["tax_inclusive"])
            if totals.dpp or totals.ppn:
                page.pair(page["dpp"], format_number(totals.dpp))
                page.pair(page["ppn"], format_number(totals.ppn))
        if any(line.exempt for line in receipt.lines):
            page.text(page["exempt_legend"])
    if receipt.qris_payload:
        page.rule()
        page.text(page["qris_title"], "center", bold=True)
        page.text(format_rupiah(receipt.qris_amount), "center", bold=True)
        page.add(QR(receipt.qris_payload))
        page.text(page["qris_hint"], "center")
    page.add(Feed(1))
    page.add(Barcode(receipt.number))


def _line(page: _Page, line: ReceiptLine, *, marked: bool) -> None:
    if marked:
        mark = " " + page["exempt_mark"]
        names = wrap(line.name, page.width - len(mark))
        names[-1] += mark
    else:
        names = wrap(line.name, page.width)
    for name in names:
        page.add(Text(name))
    lot = []
    if line.batch:
        lot.append(f"{page['batch']} {line.batch}")
    if line.expiry:
        lot.append(f"{page['expiry']} {format_date(line.expiry)}")
    if lot:
        page.text("  ".join(lot), indent=2)
    quantity = f"{format_quantity(line.quantity)} {line.unit} x {format_number(line.unit_price)}"
    page.pair(quantity, format_number(line.gross), indent=2)
    if line.discount:
        page.pair(page["line_discount"], format_number(-line.discount), indent=2)


def _shift(page: _Page, receipt: Receipt) -> None:
    shift = receipt.shift
    assert shift is not None
    final = shift.final
    page.text(page["shift_z_title" if final else "shift_x_title"], "center", bold=True, double=True)
    page.text(page["shift_z_note" if final else "shift_x_note"], "center")
    page.info(
        [
            (page["number"], receipt.number),
            (page["shift_number"], shift.shift_number),
            (page["till"], receipt.till_code),
            (page["cashier"], receipt.cashier_name),
            (page["opened"], _when(receipt, shift.opened_at)),
            (page["closed"], _when(receipt, shift.closed_at) if shift.closed_at else ""),
            (page["printed"], _when(receipt)),
        ]
    )
    page.rule()
    page.text(page["sales"], bold=True)
    for row in shift.sales:
        page.pair(f"{row.label} ({row.count})" if row.count else row.label, format_number(row.amount), indent=2)
    page.pair(page["total_sales"], format_number(shift.total_sales), bold=True)
    page.pair(page["sale_count"], format_number(shift.sale_count))
    if shift.refunds or shift.refund_count:
        page.text(page["refunds"], bold=True)
        for row in shift.refunds:
            page.pair(f"{row.label} ({row.count})" if row.count else row.label, format_number(row.amount), indent=2)
        page.pair(page["total_refunds"], format_number(shift.total_refunds), bold=True)
        page.pair(page["refund_count"], format_number(shift.refund_count))
    page.rule()
    page.text(page["cash"], bold=True)
    page.pair(page["opening_float"], format_number(shift.opening_float))
    page.pair(page["cash_sales"], format_number(shift.cash_sales))
    if shift.cash_refunds:
        page.pair(page["cash_refunds"], format_number(shift.cash_refunds))
    if shift.cash_in:
        page.pair(page["cash_in"], format_number(shift.cash_in))
    if shift.cash_out:
        page.pair(page["cash_out"], format_number(shift.cash_out))
    page.pair(page["expected_cash"], format_number(shift.expected_cash), bold=True)
    if shift.counted_cash is not None and shift.difference is not None:
        page.pair(page["counted_cash"], format_number(shift.counted_cash))
        page.pair(page["difference"], signed_number(shift.difference), bold=True)
    if final:
        page.rule()
        page.add(Feed(1))
        page.signatures(page["sign_cashier"], page["sign_supervisor"])


def _slip(page: _Page, receipt: Receipt) -> None:
    slip = receipt.slip
    assert slip is not None
    page.text(page[slip.kind], "center", bold=True)
    page.info(
        [
            (page["number"], receipt.number),
            (page["date"], _when(receipt)),
            (page["till"], receipt.till_code),
            (page["sign_officer"], receipt.cashier_name),
        ]
    )
    page.rule()
    page.info(
        [
            (page["member"], slip.member_number),
            (page["member_name"], slip.member_name),
            (page["account"], slip.account),
            (page["method"], slip.method),
        ]
    )
    page.rule()
    page.pair(page["amount"], format_rupiah(slip.amount), bold=True)
    balance = page["kasbon_after"] if slip.kind == "kasbon_repayment" else page["balance_after"]
    page.pair(balance, format_rupiah(slip.balance_after))
    if slip.note:
        page.text(slip.note)
    page.rule()
    page.add(Feed(1))
    page.signatures(page["sign_member"], page["sign_officer"])


def _test(page: _Page, receipt: Receipt) -> None:
    test = receipt.test
    assert test is not None
    profile = test.profile

    def how(native: bool) -> str:
        return page["native"] if native else page["image"]

    page.text(page["test_title"], "center", bold=True, double=True)
    page.info(
        [
            (page["printer"], test.printer_name),
            (page["profile"], profile.name),
            (page["columns"], str(profile.columns)),
            (page["paper"], f"{profile.paper_mm} mm"),
            (page["cutter"], page["yes"] if profile.can_cut else page["no"]),
            (page["barcode"], how(profile.native_barcode)),
            (page["qr"], how(profile.native_qr)),
            (page["date"], _when(receipt)),
        ]
    )
    page.rule()
    page.add(Text(("1234567890" * 8)[: page.width]))
    page.text(page["bold_sample"], bold=True)
    page.text(page["double_sample"], double=True)
    page.text(page["left"])
    page.text(page["center"], "center")
    page.text(page["right"], "right")
    page.pair(page["subtotal"], format_rupiah(1_234_567))
    page.rule("=")
    page.add(Barcode(receipt.number))
    page.add(QR(page["test_qr"]))
