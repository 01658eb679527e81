"""Sample receipts with realistic content: the devices page's "print a sample" and the golden-file tests use them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from receipts.model import Receipt, return_receipt, sale_receipt, shift_report, slip_receipt

WITA = dt.timezone(dt.timedelta(hours=8))
SAMPLE_TIME = dt.datetime(2026, 11, 28, 14, 5, tzinfo=WITA)  # 28 Nov 2026 14.05 WITA

# A static QRIS string with an amount (tag 54) and point of initiation 12, CRC-16/CCITT-FALSE in tag 63.
SAMPLE_QRIS = (
    "00020101021226660014ID.CO.QRIS.WWW01189360001400000123450215ID10260000123450303UMI5204541153033605405500005802ID"
    "5923KOP MERAH PUTIH KELAYAN6011BANJARMASIN61057023463046B36"
)


def sample_header(pkp: bool = True) -> dict:
    return {
        "cooperative_name": "Koperasi Kelurahan Merah Putih Kelayan Timur",
        "outlet_name": "Toko Sembako & Apotek Kelayan",
        "address_lines": ["Jl. Kelayan A No. 12, Kelayan Timur", "Banjarmasin Selatan"],
        "npwp": "01.234.567.8-731.000",
        "pkp": pkp,
        "note": "Terima kasih telah berbelanja di koperasi anggota",
    }


def sample_sale_data(*, pkp: bool = True, copy: bool = False, qris_pending: bool = False) -> dict:
    """A member's sale: 6 lines (a weighed rice line, a long name, a medicine with batch and expiry, exempt staples,
    a line discount), a receipt discount, cash rounding, QRIS plus cash with change."""
    lines = [
        {
            "name": "Beras Premium Banjar Siam Unus",
            "quantity": Decimal("1.250"),
            "unit": "kg",
            "unit_price": 14_500,
            "tax_code": "exempt",
        },
        {
            "name": "Mie Goreng Rasa Ayam Bawang Spesial Kemasan Jumbo Isi Dua Keping",
            "quantity": Decimal(3),
            "unit": "pcs",
            "unit_price": 3_500,
            "discount": 1_000,
        },
        {
            "name": "Paracetamol 500 mg Tablet",
            "quantity": Decimal(2),
            "unit": "strip",
            "unit_price": 5_000,
            "batch": "PCT2411A",
            "expiry": dt.date(2027, 11, 30),
        },
        {"name": "Telur Ayam Ras", "quantity": Decimal(10), "unit": "butir", "unit_price": 2_200, "tax_code": "exempt"},
        {"name": "Minyak Goreng Sania 2 L", "quantity": Decimal(1), "unit": "pouch", "unit_price": 38_900},
        {"name": "Sabun Mandi Lifebuoy 85 g", "quantity": Decimal(4), "unit": "pcs", "unit_price": 4_250},
    ]
    # Lines: 18.125 + 9.500 + 10.000 + 22.000 + 38.900 + 17.000 = 115.525; less 2.000 member discount = 113.525,
    # rounded to 113.500 for cash. Taxable part 75.400 less its share of the discount (1.305) = 74.095, of which
    # DPP (11/12 of the price before tax) 61.189 and PPN (12 % of DPP) 7.343.
    if pkp:
        totals = {
            "subtotal": 115_525,
            "discount": 2_000,
            "dpp": 61_189,
            "ppn": 7_343,
            "rounding": -25,
            "total": 113_500,
        }
    else:
        totals = {"subtotal": 115_525, "discount": 2_000, "rounding": -25, "total": 113_500}
    return {
        "header": sample_header(pkp),
        "number": "TK1-2611-000123",
        "printed_at": SAMPLE_TIME,
        "timezone": "Asia/Makassar",
        "till_code": "TK-1",
        "cashier_name": "Siti Aminah",
        "member_number": "AGT-00042",
        "lines": lines,
        "totals": totals,
        "payments": [{"method": "qris", "amount": 50_000}, {"method": "cash", "amount": 100_000}],
        "change": 36_500,
        "qris_payload": SAMPLE_QRIS if qris_pending else None,
        "footer": ["Barang yang sudah dibeli dapat ditukar dengan struk dalam 3 hari", "Simpan struk ini"],
        "copy": copy,
    }


def sample_sale(**options) -> Receipt:
    return sale_receipt(sample_sale_data(**options))


def sample_return() -> Receipt:
    return return_receipt(
        {
            "header": sample_header(),
            "number": "TK1-R-000007",
            "original_number": "TK1-2611-000123",
            "printed_at": SAMPLE_TIME + dt.timedelta(days=1),
            "timezone": "Asia/Makassar",
            "till_code": "TK-1",
            "cashier_name": "Siti Aminah",
            "member_number": "AGT-00042",
            "lines": [
                {"name": "Minyak Goreng Sania 2 L", "quantity": Decimal(1), "unit": "pouch", "unit_price": 38_900}
            ],
            "totals": {"dpp": 32_124, "ppn": 3_855},
            "payments": [{"method": "cash", "amount": 38_900}],
            "footer": ["Retur sesuai struk asal"],
        }
    )


def sample_shift_data(final: bool) -> dict:
    opened = SAMPLE_TIME.replace(hour=8, minute=0)
    data = {
        "header": sample_header(),
        "number": "Z-TK1-0042" if final else "X-TK1-0042",
        "printed_at": SAMPLE_TIME.replace(hour=17, minute=2) if final else SAMPLE_TIME,
        "timezone": "Asia/Makassar",
        "till_code": "TK-1",
        "cashier_name": "Siti Aminah",
        "shift_number": "TK1-0042",
        "opened_at": opened,
        "opening_float": 200_000,
        "sales": [
            {"method": "cash", "amount": 1_250_500, "count": 41},
            {"method": "qris", "amount": 480_000, "count": 9},
            {"method": "kasbon", "amount": 75_000, "count": 2},
        ],
        "sale_count": 52,
        "refunds": [{"method": "cash", "amount": 38_900, "count": 1}],
        "refund_count": 1,
        "cash_out": 50_000,
    }
    if final:
        data["closed_at"] = SAMPLE_TIME.replace(hour=17, minute=0)
        data["counted_cash"] = 1_361_100  # 500 short of the expected 1.361.600
    return data


def sample_shift(final: bool) -> Receipt:
    return shift_report(sample_shift_data(final), final=final)


def sample_slip(kind: str = "deposit") -> Receipt:
    account = {"deposit": "Simpanan sukarela", "withdrawal": "Simpanan sukarela", "kasbon_repayment": "Kasbon"}[kind]
    return slip_receipt(
        {
            "header": sample_header(),
            "number": "SP-2611-000031",
            "printed_at": SAMPLE_TIME,
            "timezone": "Asia/Makassar",
            "till_code": "SP-1",
            "cashier_name": "Budi Santoso",
            "kind": kind,
            "member_number": "AGT-00042",
            "member_name": "Siti Aminah",
            "account": account,
            "amount": 250_000,
            "balance_after": 1_750_000 if kind != "kasbon_repayment" else 125_000,
            "method": "Tunai",
        }
    )
