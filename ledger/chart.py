"""The chart of accounts of a multi-unit cooperative, derived from its units, outlets and tills."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ledger.models import AccountType, MemberSegment
from pos.models import UnitKind

SELLING_UNITS = (UnitKind.TOKO, UnitKind.APOTEK)
STOCKED_UNITS = (UnitKind.TOKO, UnitKind.APOTEK, UnitKind.GUDANG)


@dataclass(frozen=True)
class AccountSpec:
    code: str
    name: str
    type: AccountType
    key: str
    unit: str | None = None
    outlet: str | None = None
    till: str | None = None
    segment: MemberSegment | None = None


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name: str
    kind: UnitKind
    outlets: tuple[tuple[str, str, tuple[str, ...]], ...]  # (code, name, till codes)


A, L, E, R, C, X = (
    AccountType.ASSET,
    AccountType.LIABILITY,
    AccountType.EQUITY,
    AccountType.REVENUE,
    AccountType.COGS,
    AccountType.EXPENSE,
)

FIXED = (
    AccountSpec("1-1200", "Bank", A, "bank"),
    AccountSpec("1-1301", "Kliring QRIS", A, "qris"),
    AccountSpec("1-1302", "Kliring transfer bank", A, "transfer"),
    AccountSpec("1-1303", "Kliring kartu debit (EDC)", A, "edc"),
    AccountSpec("1-1400", "Piutang anggota (kasbon)", A, "piutang_anggota"),
    AccountSpec("1-1600", "PPN masukan", A, "ppn_masukan"),
    AccountSpec("2-1100", "Utang usaha", L, "utang_usaha"),
    AccountSpec("2-1200", "Simpanan sukarela", L, "simpanan:sukarela"),
    AccountSpec("2-1300", "PPN keluaran", L, "ppn_keluaran"),
    AccountSpec("2-1400", "Dana SHU bagian anggota", L, "dana_shu_anggota"),
    AccountSpec("2-1501", "Dana pengurus", L, "dana_shu:pengurus"),
    AccountSpec("2-1502", "Dana karyawan", L, "dana_shu:karyawan"),
    AccountSpec("2-1503", "Dana pendidikan", L, "dana_shu:pendidikan"),
    AccountSpec("2-1504", "Dana sosial", L, "dana_shu:sosial"),
    AccountSpec("2-1505", "Dana pembangunan daerah kerja", L, "dana_shu:pembangunan"),
    AccountSpec("3-1100", "Simpanan pokok", E, "simpanan:pokok"),
    AccountSpec("3-1200", "Simpanan wajib", E, "simpanan:wajib"),
    AccountSpec("3-2100", "Cadangan", E, "cadangan"),
    AccountSpec("3-3100", "Modal donasi / hibah", E, "hibah"),
    AccountSpec("3-4100", "SHU tahun berjalan", E, "shu_tahun_berjalan"),
    AccountSpec("3-9100", "Rekening antar unit", E, "antar_unit"),
    AccountSpec("4-9100", "Pendapatan lain-lain", R, "pendapatan_lain"),
    AccountSpec("4-9200", "Selisih lebih persediaan", R, "pendapatan_selisih_persediaan"),
    AccountSpec("6-1100", "Beban gaji dan honor", X, "beban_gaji"),
    AccountSpec("6-1200", "Beban listrik, air dan telepon", X, "beban_listrik"),
    AccountSpec("6-1300", "Beban sewa", X, "beban_sewa"),
    AccountSpec("6-1400", "Beban alat tulis dan perlengkapan", X, "beban_atk"),
    AccountSpec("6-1500", "Selisih kas (kurang/lebih)", X, "selisih_kas"),
    AccountSpec("6-1600", "Beban persediaan rusak/kedaluwarsa", X, "persediaan_rusak"),
    AccountSpec("6-1700", "Selisih kurang persediaan", X, "selisih_persediaan"),
    AccountSpec("6-1800", "Pembulatan", X, "pembulatan"),
    AccountSpec("6-1900", "Beban rapat anggota tahunan", X, "beban_rat"),
    AccountSpec("6-9100", "Beban lain-lain", X, "beban_lain"),
)


def chart_for(units: list[UnitInfo], cash_per_till: bool = False) -> list[AccountSpec]:
    """Every account the posting rules need for these units; codes are stable for the same input."""
    specs: list[AccountSpec] = []
    cash_no = 0
    for unit in units:
        for outlet_code, outlet_name, tills in unit.outlets:
            cash_no += 1
            specs.append(
                AccountSpec(
                    f"1-11{cash_no:02d}",
                    f"Kas {outlet_name}",
                    A,
                    f"kas:{outlet_code}",
                    unit=unit.code,
                    outlet=outlet_code,
                )
            )
            if cash_per_till:
                for till in tills:
                    cash_no += 1
                    specs.append(
                        AccountSpec(
                            f"1-11{cash_no:02d}",
                            f"Kas {outlet_name} {till}",
                            A,
                            f"kas:{till}",
                            unit=unit.code,
                            outlet=outlet_code,
                            till=till,
                        )
                    )
    for n, unit in enumerate(u for u in units if u.kind in STOCKED_UNITS):
        specs.append(
            AccountSpec(f"1-15{n + 1:02d}", f"Persediaan {unit.name}", A, f"persediaan:{unit.code}", unit=unit.code)
        )
    selling = [u for u in units if u.kind in SELLING_UNITS or u.kind == UnitKind.SIMPAN_PINJAM]
    for n, unit in enumerate(selling):
        noun = "Pendapatan jasa" if unit.kind == UnitKind.SIMPAN_PINJAM else "Penjualan"
        for k, segment in enumerate(MemberSegment):
            label = "anggota" if segment == MemberSegment.ANGGOTA else "non-anggota"
            specs.append(
                AccountSpec(
                    f"4-1{n + 1}0{k + 1}",
                    f"{noun} {unit.name} - {label}",
                    R,
                    f"revenue:{unit.code}:{segment.value}",
                    unit=unit.code,
                    segment=segment,
                )
            )
    for n, unit in enumerate(u for u in units if u.kind in SELLING_UNITS):
        specs.append(
            AccountSpec(f"5-1{n + 1}00", f"Harga pokok penjualan {unit.name}", C, f"hpp:{unit.code}", unit=unit.code)
        )
    specs.extend(FIXED)
    return sorted(specs, key=lambda s: s.code)


_ROOTS = {
    AccountType.ASSET: "Assets",
    AccountType.LIABILITY: "Liabilities",
    AccountType.EQUITY: "Equity",
    AccountType.REVENUE: "Income",
    AccountType.COGS: "Expenses",
    AccountType.EXPENSE: "Expenses",
}


def beancount_name(code: str, name: str, type_: AccountType) -> str:
    """Assets:1-1101-Kas-Toko-Sembako: Beancount wants ASCII components starting with a capital or digit."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")
    slug = "-".join(part[:1].upper() + part[1:] for part in slug.split("-") if part)
    return f"{_ROOTS[type_]}:{code}-{slug}" if slug else f"{_ROOTS[type_]}:{code}"
