"""The product catalog in and out of spreadsheets: export to CSV/XLSX, check an uploaded file, import it.

One row per product (active and archived). The first row holds the column names below; on import the columns may
come in any order, but every column must be there and no other.

    sku                product code: 1 to 40 letters, digits, - _ . (upper-cased); it says which product a row is
    name               1 to 160 characters
    category           category code, e.g. BERAS, OBAT-BEBAS
    unit               business unit code, e.g. TOKO, APOTEK
    base_unit          pcs, kg, gram, liter, ml, tablet, kapsul, strip, botol, sachet, tube, pack, ikat
    public_price       whole rupiah
    member_price       whole rupiah
    wholesale_price    whole rupiah, or empty
    wholesale_min_qty  base units from which the wholesale price applies (needed with one), or empty
    tax_code           exempt, standard or luxury (empty: exempt)
    sell_by_weight     ya / tidak
    het                harga eceran tertinggi in whole rupiah, or empty: no price may exceed it
    reorder_point      base units, zero or more (empty: 0)
    tracks_batches     ya / tidak (a medicine always tracks batches)
    drug_class         empty, bebas, bebas_terbatas, keras, psikotropika or narkotika
    nie                BPOM registration number of a medicine (3 letters, 12 digits; the 2nd letter is the class)
    owa                ya / tidak (obat wajib apotek)
    precursor          ya / tidak
    cold_chain         ya / tidak
    active             ya / tidak (tidak: archived)
    barcodes           the base unit's barcodes, separated by spaces
    packs              the packs, separated by ";", each written   name | factor | price | member price | barcodes
                       e.g. "dus 40 | 40 | 128.000 | | 8994963002824; karung 25 kg | 25 | 350.000"
                       factor: base units in the pack; prices: whole rupiah or empty; barcodes separated by spaces;
                       empty fields at the end may be left out. A "|", ";" or "\\" inside a pack name is written
                       with a backslash in front ("\\|", "\\;", "\\\\").

Numbers are read the Indonesian way: "1.000" is a thousand and "1,5" one and a half; plain "14500" is fine too.
The CSV export writes them that way (UTF-8 with BOM, comma-separated; a file saved with ";" or tabs between the
cells is read as well); the XLSX export writes numbers as number cells and codes (SKU, barcodes, NIE, packs) as
text cells. Yes/no cells take ya/tidak (also y, yes, true, 1 / n, no, false, 0); empty means tidak, except for
`active`, where empty means ya. A text cell written with a leading apostrophe to keep a spreadsheet from reading
it as a formula ("'=...", "'-...") is read without the apostrophe.

Importing never deletes: a row whose SKU is new creates the product; a row whose SKU exists updates its name,
category, prices (kept in the price history), tax code, flags, drug class and NIE, reorder point and active, and
adds the barcodes and packs that are new (an existing pack's prices follow the file). The business unit, the
base unit and the size of an existing pack cannot be changed by a file. Nothing is written unless the whole file
is free of errors (`dry_run`), and re-importing an unchanged export changes nothing.

A file of up to 100.000 products is imported as a background job (pos.jobs, kind "catalog.import"): the whole file
is checked first, reading only; then its rows are written in chunks of a few hundred, each chunk checked again
against the catalog as it is then and written in one short write transaction, so a sale waits for one chunk at
most. A job cut off by a restart goes on from the last chunk written; a row that already matches the catalog
changes nothing, so a chunk written twice, or the same file imported again after a failure, is harmless.

Exports are streamed: products are read a thousand at a time by SKU (keyset), with their units and barcodes by
two IN queries per thousand; the workbook is written row by row into a streamed zip, in constant memory.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import os
import time
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape as xml_escape

import sqlalchemy as sa

from inventory import barcodes as barcode_rules
from inventory import catalog
from inventory.catalog import PackInput, ProductInput
from inventory.catalog_rules import BASE_UNITS, validate_factor, validate_nie, validate_sku
from inventory.models import (
    Barcode,
    Category,
    DrugClass,
    PriceChange,
    Product,
    ProductUnit,
    ProductWord,
    StockMove,
    TaxCode,
)
from ledger.export import _cell
from pos import audit, jobs
from pos.db import db, utcnow, write_transaction
from pos.errors import N_, InvalidInput
from pos.models import BusinessUnit, User
from pos.money import format_number, format_rupiah, parse_decimal

COLUMNS = (
    "sku",
    "name",
    "category",
    "unit",
    "base_unit",
    "public_price",
    "member_price",
    "wholesale_price",
    "wholesale_min_qty",
    "tax_code",
    "sell_by_weight",
    "het",
    "reorder_point",
    "tracks_batches",
    "drug_class",
    "nie",
    "owa",
    "precursor",
    "cold_chain",
    "active",
    "barcodes",
    "packs",
)
FLAG_COLUMNS = ("sell_by_weight", "tracks_batches", "owa", "precursor", "cold_chain", "active")
MONEY_COLUMNS = ("public_price", "member_price", "wholesale_price", "het")
QUANTITY_COLUMNS = ("wholesale_min_qty", "reorder_point")
TEXT_COLUMNS = ("sku", "nie", "barcodes", "packs")  # codes: text cells, so a spreadsheet keeps every digit
ROW_KEY = "_row"  # read_file puts the row's number in the file (the header is row 1) under this key
EXTRA_KEY = "_extra"  # and True here when the row has filled cells beyond the last column

MAX_BYTES = 40 * 1024 * 1024  # a 100.000-product export is about 20 MB as CSV
MAX_ROWS = 100_000
# Rows after the header, empty ones included: they are counted before they are skipped, so a file of blank rows
# costs no more to refuse than a full one costs to read.
MAX_LINES = 125_000
# Cells an .xlsx may hold in all its parts, empty ones included (every one costs the parser work, even one we
# skip): the full width of MAX_LINES rows and a few more columns.
# A text cell may also have its shared string (<si>): twice the width. And per row, on average: a sheet of a few
# rows of thousands of empty cells each costs the parser as much as a full one (some slack for a small file).
CELLS_PER_ROW = 2 * (len(COLUMNS) + 5)
CELLS_SLACK = 5_000
MAX_CELLS = (MAX_LINES + 1) * CELLS_PER_ROW
MAX_UNPACKED_BYTES = 400 * 1024 * 1024  # an .xlsx is a zip: refuse one that would unpack into more than this
MAX_AMOUNT = 10**12  # rupiah; far above any price, far below what the database holds
MAX_QUANTITY = Decimal(10**9)
PACK_NAME_LENGTH = 40
YES = frozenset({"ya", "y", "yes", "true", "1", "benar"})
NO = frozenset({"tidak", "tdk", "n", "no", "false", "0", "salah"})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SEPARATORS = (",", ";", "\t")
MAX_ERRORS = 1_000  # problems listed (all are counted)
CHECK_BATCH = 500  # rows checked together: their products and barcodes are read by a few IN queries
IN_CHUNK = 500  # values per IN (...)
EXPORT_BATCH = 1_000  # products per read of an export


# --- errors and the report -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem: the row as numbered in the file (header = 1), the column ("" for the whole row), a msgid."""

    row: int
    column: str
    message: str
    params: dict = field(default_factory=dict, compare=False)


@dataclass
class ImportReport:
    rows: int = 0
    to_create: int = 0
    to_update: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS, by row and column
    error_count: int = 0  # all of them
    plans: list[_Plan] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not self.error_count

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def count(self, plan: _Plan) -> None:
        if plan.product is None:
            self.to_create += 1
        elif plan.changes:
            self.to_update += 1
        else:
            self.unchanged += 1


# --- numbers, flags and text the way a spreadsheet gives them --------------------------------------------------------


def _text(value: object) -> str:
    """A cell as text: numbers without a trailing .0, the anti-formula apostrophe dropped, spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    text = str(value).strip()
    if text[:1] == "'" and text[1:2] in FORMULA_STARTS:
        text = text[1:].strip()
    return text


def parse_number(value: object) -> Decimal:
    """A number cell, or text written the Indonesian way ("1.000", "1,5", "14500")."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise InvalidInput(N_("Please enter a number."))
        return number
    return parse_decimal(_text(value))


def parse_amount(value: object) -> int | None:
    """Whole rupiah, zero or more; an empty cell is None."""
    if _text(value) == "":
        return None
    number = parse_number(value)
    if number != number.to_integral_value():
        raise InvalidInput(N_("Amounts are in whole rupiah, without cents."))
    if number < 0:
        raise InvalidInput(N_("Prices are whole rupiah, zero or more."))
    if number > MAX_AMOUNT:
        raise InvalidInput(N_("That number is too large."))
    return int(number)


def parse_required_amount(value: object) -> int:
    amount = parse_amount(value)
    if amount is None:
        raise InvalidInput(N_("This column must not be empty."))
    return amount


def parse_count(value: object, *, positive: bool) -> Decimal | None:
    """A quantity of base units with at most 3 decimals; an empty cell is None."""
    if _text(value) == "":
        return None
    number = parse_number(value)
    if positive and number <= 0:
        raise InvalidInput(N_("The quantity must be more than zero."))
    if number < 0:
        raise InvalidInput(N_("The reorder point is zero or more."))
    if number > MAX_QUANTITY:
        raise InvalidInput(N_("That number is too large."))
    if -number.as_tuple().exponent > 3:
        raise InvalidInput(N_("At most %(places)d decimals are allowed."), places=3)
    return Decimal(int(number)) if number == number.to_integral_value() else number


def parse_flag(value: object, default: bool = False) -> bool:
    text = _text(value).lower()
    if text == "":
        return default
    if text in YES:
        return True
    if text in NO:
        return False
    raise InvalidInput(N_("Write ya or tidak, not '%(text)s'."), text=text[:20])


def format_flag(value: bool) -> str:
    return "ya" if value else "tidak"


def _number_text(value: int | Decimal | None) -> str:
    """format_number, with a quick way for whole numbers (an export writes half a million of them)."""
    if value is None:
        return ""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if type(value) is int:
        return f"{value:,}".replace(",", ".")
    return format_number(value)


# --- the packs column ------------------------------------------------------------------------------------------------


def _escape(name: str) -> str:
    return name.replace("\\", "\\\\").replace("|", "\\|").replace(";", "\\;")


def _split(text: str, separator: str) -> list[str]:
    """Split on `separator` where no backslash escapes it; escapes are kept for the next split."""
    parts, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    out, escaped = [], False
    for ch in text:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            out.append(ch)
    if escaped:
        out.append("\\")
    return "".join(out)


def format_pack(pack: PackInput) -> str:
    """"dus 40 | 40 | 128.000 | | 8994963002824": name | factor | price | member price | barcodes, tail trimmed."""
    fields = [
        _escape(pack.name),
        _number_text(pack.factor),
        _number_text(pack.price),
        _number_text(pack.member_price),
        " ".join(pack.barcodes),
    ]
    while len(fields) > 2 and fields[-1] == "":
        fields.pop()
    return fields[0] + "".join(" |" + (" " + f if f else "") for f in fields[1:])


def format_packs(packs: Iterable[PackInput]) -> str:
    return "; ".join(format_pack(pack) for pack in packs)


def parse_pack(text: str) -> PackInput:
    fields = [part.strip() for part in _split(text, "|")]
    if len(fields) < 2 or len(fields) > 5:
        raise InvalidInput(
            N_("A pack is written as name | factor | price | member price | barcodes; '%(text)s' is not."),
            text=text.strip()[:40],
        )
    fields += [""] * (5 - len(fields))
    name = _unescape(fields[0]).strip()
    if not name or len(name) > PACK_NAME_LENGTH or any(ord(ch) < 32 for ch in name):
        raise InvalidInput(N_("A pack name is 1 to %(limit)s characters."), limit=PACK_NAME_LENGTH)
    if fields[1] == "":
        raise InvalidInput(N_("The pack %(name)s needs its factor: how many base units it holds."), name=name)
    factor = parse_count(fields[1], positive=True)
    validate_factor(factor)
    return PackInput(
        name=name,
        factor=factor,
        price=parse_amount(fields[2]),
        member_price=parse_amount(fields[3]),
        barcodes=tuple(_unescape(fields[4]).split()),
    )


def parse_packs(value: object) -> tuple[PackInput, ...]:
    text = _text(value)
    if not text:
        return ()
    packs = tuple(parse_pack(part) for part in _split(text, ";") if part.strip())
    seen: set[str] = set()
    for pack in packs:
        if pack.name.lower() in seen:
            raise InvalidInput(N_("The pack %(name)s is listed twice."), name=pack.name)
        seen.add(pack.name.lower())
    return packs


# --- export ----------------------------------------------------------------------------------------------------------


def _base_unit(product: Product) -> ProductUnit:
    units = product.units
    return next((u for u in units if u.name == product.base_unit and u.factor == 1), None) or next(
        u for u in units if u.factor == 1
    )


def _packs_of(product: Product) -> list[PackInput]:
    base = _base_unit(product)
    codes: dict[int, list[str]] = {}
    for barcode in product.barcodes:
        codes.setdefault(barcode.product_unit_id, []).append(barcode.code)
    return [
        PackInput(unit.name, unit.factor, unit.price, unit.member_price, tuple(codes.get(unit.id, ())))
        for unit in sorted(product.units, key=lambda u: (u.factor, u.id))
        if unit.id != base.id
    ]


def _quantity(value: Decimal | None) -> int | Decimal | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value.normalize()


def _in_chunks(values: Iterable, size: int = IN_CHUNK) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _export_row(product, units: list, codes: list, categories: dict[int, str], business_units: dict[int, str]) -> list:
    """One product as a row; `units` ordered by factor then id, `codes` (unit id, code) by barcode id."""
    base = next((u for u in units if u.name == product.base_unit and u.factor == 1), None) or next(
        u for u in units if u.factor == 1)
    by_unit: dict[int, list[str]] = defaultdict(list)
    for unit_id, code in codes:
        by_unit[unit_id].append(code)
    packs = [PackInput(u.name, u.factor, u.price, u.member_price, tuple(by_unit.get(u.id, ())))
             for u in units if u.id != base.id]
    return [
        product.sku,
        product.name,
        categories[product.category_id],
        business_units[product.unit_id],
        product.base_unit,
        product.public_price,
        product.member_price,
        product.wholesale_price,
        _quantity(product.wholesale_min_qty),
        product.tax_code.value,
        format_flag(product.sell_by_weight),
        product.het,
        _quantity(product.reorder_point),
        format_flag(product.tracks_batches),
        product.drug_class.value if product.drug_class else None,
        product.nie,
        format_flag(product.owa),
        format_flag(product.precursor),
        format_flag(product.cold_chain),
        format_flag(product.active),
        " ".join(by_unit.get(base.id, ())),
        format_packs(packs),
    ]


_EXPORTED = ("id", "sku", "name", "category_id", "unit_id", "base_unit", "public_price", "member_price",
             "wholesale_price", "wholesale_min_qty", "tax_code", "sell_by_weight", "het", "reorder_point",
             "tracks_batches", "drug_class", "nie", "owa", "precursor", "cold_chain", "active")


def iter_export_batches(batch: int = EXPORT_BATCH) -> Iterator[list[list]]:
    """The products (archived ones too) as rows, by SKU, `batch` at a time: a keyset read on the SKU's unique index,
    then the batch's units and barcodes by IN queries. Money is int, quantities int or Decimal, empty values None,
    flags ya/tidak, codes and packs text."""
    p, u, b = Product.__table__, ProductUnit.__table__, Barcode.__table__
    categories = dict(db.session.execute(sa.select(Category.id, Category.code)).all())
    business_units = dict(db.session.execute(sa.select(BusinessUnit.id, BusinessUnit.code)).all())
    last: str | None = None
    while True:
        query = sa.select(*(p.c[name] for name in _EXPORTED)).order_by(p.c.sku).limit(batch)
        if last is not None:
            query = query.where(p.c.sku > last)
        products = db.session.execute(query).all()
        if not products:
            return
        ids = [row.id for row in products]
        units: dict[int, list] = defaultdict(list)
        for row in db.session.execute(sa.select(u.c.id, u.c.product_id, u.c.name, u.c.factor, u.c.price,
                                                u.c.member_price).where(u.c.product_id.in_(ids))
                                      .order_by(u.c.product_id, u.c.factor, u.c.id)):
            units[row.product_id].append(row)
        codes: dict[int, list] = defaultdict(list)
        for row in db.session.execute(sa.select(b.c.product_id, b.c.product_unit_id, b.c.code)
                                      .where(b.c.product_id.in_(ids)).order_by(b.c.id)):
            codes[row.product_id].append((row.product_unit_id, row.code))
        yield [_export_row(row, units[row.id], codes[row.id], categories, business_units) for row in products]
        last = products[-1].sku


def export_rows() -> list[list]:
    """The header, then one row per product (see iter_export_batches)."""
    return [list(COLUMNS), *itertools.chain.from_iterable(iter_export_batches())]


def _csv_cells(row: list) -> list:
    return [_cell(_number_text(v) if isinstance(v, int | Decimal) and not isinstance(v, bool) else v or "")
            for v in row]


def iter_csv() -> Iterator[bytes]:
    """The CSV export in pieces (one per batch of products): UTF-8 with a BOM (Excel opens it as UTF-8),
    comma-separated, numbers written the Indonesian way."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    yield buffer.getvalue().encode("utf-8")
    for rows in iter_export_batches():
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(_csv_cells(row) for row in rows)
        yield buffer.getvalue().encode("utf-8")


def export_csv() -> bytes:
    return b"".join(iter_csv())


# The workbook is written by hand, part by part, into a zip streamed as it grows: one sheet "Produk", the header in
# bold, codes as text cells (format @, also the columns' style), money with thousands separators, the first row
# and column frozen. Cell styles: 0 plain, 1 bold, 2 text (@), 3 #,##0.
_NS = "http://schemas.openxmlformats.org"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XLSX_PARTS = {
    "[Content_Types].xml": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="{_NS}/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_SHEET_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_SHEET_TYPE}.styles+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SHEET_TYPE}.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_NS}/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{_NS}/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{_NS}/spreadsheetml/2006/main" '
        f'xmlns:r="{_NS}/officeDocument/2006/relationships"><sheets><sheet name="Produk" sheetId="1" r:id="rId1"/>'
        '</sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_NS}/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{_NS}/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{_NS}/officeDocument/2006/relationships/'
        'styles" Target="styles.xml"/></Relationships>'),
    "xl/styles.xml": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="{_NS}/spreadsheetml/2006/main">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/>'
        '<name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/>'
        '<bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
        'borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
        'xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}
_LETTERS = [chr(ord("A") + i) for i in range(26)]
_CONTROL = {i: " " for i in range(32) if chr(i) not in "\t\n\r"}  # XML cannot hold them


class _Pipe:
    """A write-only file for zipfile: what is written is taken out piece by piece and sent."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []

    def write(self, data) -> int:
        self.pieces.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.pieces)
        self.pieces.clear()
        return data


def _style(style: int) -> str:
    return f' s="{style}"' if style else ""


def _xlsx_cell(ref: str, value: object, style: int) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        number = format(value, "f") if isinstance(value, Decimal) else str(value)
        return f'<c r="{ref}"{_style(style)}><v>{number}</v></c>'
    text = xml_escape(str(value).translate(_CONTROL))
    return f'<c r="{ref}" t="inlineStr"{_style(style)}><is><t xml:space="preserve">{text}</t></is></c>'


def iter_xlsx() -> Iterator[bytes]:
    """The workbook export in pieces as the zip grows: numbers as number cells, codes as text cells (formatted @),
    formulas kept out."""
    styles = [2 if name in TEXT_COLUMNS else 3 if name in MONEY_COLUMNS else 0 for name in COLUMNS]
    letters = _LETTERS[:len(COLUMNS)]
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in _XLSX_PARTS.items():
            archive.writestr(name, text)
        yield pipe.take()
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            cols = "".join(f'<col min="{i}" max="{i}" width="{16 if style == 2 else 12}" customWidth="1"'
                           + (' style="2"' if style == 2 else "") + "/>"
                           for i, style in enumerate(styles, start=1))
            header = "".join(_xlsx_cell(f"{letter}1", name, 1) for letter, name in zip(letters, COLUMNS, strict=True))
            sheet.write((
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_NS}/spreadsheetml/'
                '2006/main"><sheetViews><sheetView workbookViewId="0"><pane xSplit="1" ySplit="1" topLeftCell="B2" '
                'activePane="bottomRight" state="frozen"/><selection pane="bottomRight"/></sheetView></sheetViews>'
                f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData><row r="1">{header}</row>'
            ).encode())
            number = 1
            for rows in iter_export_batches():
                lines = []
                for row in rows:
                    number += 1
                    cells = "".join(_xlsx_cell(f"{letter}{number}", _cell(value), style)
                                    for letter, value, style in zip(letters, row, styles, strict=True))
                    lines.append(f'<row r="{number}">{cells}</row>')
                sheet.write("".join(lines).encode("utf-8"))
                yield pipe.take()
            sheet.write(b"</sheetData></worksheet>")
    yield pipe.take()


def export_xlsx() -> bytes:
    return b"".join(iter_xlsx())


# --- reading a file --------------------------------------------------------------------------------------------------


def _header(cells: list[object]) -> list[str]:
    names = [_text(c).lstrip("\ufeff").strip().lower() for c in cells]
    while names and names[-1] == "":
        names.pop()
    if not names:
        raise InvalidInput(N_("The file is empty."))
    seen: set[str] = set()
    for name in names:
        if name not in COLUMNS:
            raise InvalidInput(N_("Unknown column '%(name)s' in the first row."), name=name[:40])
        if name in seen:
            raise InvalidInput(N_("The column %(name)s appears twice."), name=name)
        seen.add(name)
    missing = [name for name in COLUMNS if name not in seen]
    if missing:
        raise InvalidInput(N_("The first row must name every column; missing: %(names)s."), names=", ".join(missing))
    return names


def _records(header: list[str], lines: Iterable[list[object]]) -> Iterator[dict]:
    """Rows as dicts keyed by column, numbered as in the file; empty rows are skipped (and still counted)."""
    records = 0
    for number, cells in enumerate(lines, start=2):
        if number - 1 > MAX_LINES:
            raise InvalidInput(N_("The file has more than %(limit)s rows (empty rows count too): delete the empty "
                                  "rows below the products."), limit=format_number(MAX_LINES))
        cells = list(cells)
        if all(_text(c) == "" for c in cells):
            continue
        if records >= MAX_ROWS:
            raise InvalidInput(N_("The file has more than %(limit)s products."), limit=format_number(MAX_ROWS))
        record: dict = {name: cells[i] if i < len(cells) else None for i, name in enumerate(header)}
        record[ROW_KEY] = number
        record[EXTRA_KEY] = any(_text(c) != "" for c in cells[len(header):])
        records += 1
        yield record


def _csv_encoding(stream: BinaryIO) -> str:
    """UTF-8 (with or without a BOM) when the whole file decodes so, else Windows-1252; read in pieces."""
    for encoding in ("utf-8-sig", "cp1252"):
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while piece := stream.read(1 << 20):
                if b"\x00" in piece:
                    decoder.decode(piece)  # not text at all: say so, as for any other undecodable file
                    raise InvalidInput(N_("The file contains characters that cannot be used."))
                decoder.decode(piece)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        stream.seek(0)
        return encoding
    raise InvalidInput(N_("The file is not a CSV text file in UTF-8."))


def _csv_records(stream: BinaryIO) -> Iterator[dict]:
    encoding = _csv_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    first_line = text.readline()
    separator = max(SEPARATORS, key=first_line.split("\n", 1)[0].count)
    try:
        reader = csv.reader(itertools.chain([first_line], text), delimiter=separator)
        header = _header(next(reader, []))
        yield from _records(header, reader)
    except csv.Error:
        raise InvalidInput(N_("The file is not a well-formed CSV file.")) from None
    finally:
        text.detach()


# The XML start tags the parser spends its work on, with or without a namespace prefix: cells and shared strings
# (<c> and <si>; the few other tags that start the same way make this an upper bound, which is enough), and rows.
_CELL_TAGS, _ROW_TAGS = (b"<c", b":c", b"<si", b":si"), (b"<row", b":row")


def _check_workbook_size(archive: zipfile.ZipFile) -> None:
    """Refuse, before any parsing, a workbook whose parts unpack into more than MAX_UNPACKED_BYTES or hold more
    than MAX_CELLS cells and shared strings or MAX_LINES rows, blank ones included. The parts are unpacked as a
    stream and their tags counted with bytes.count, whatever their declared sizes or names say."""
    if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
        raise InvalidInput(N_("The workbook is too large."))
    unpacked = cells = rows = 0
    for info in archive.infolist():
        tail = b""
        with archive.open(info) as part:
            while chunk := part.read(1 << 20):
                unpacked += len(chunk)
                text = tail + chunk
                cells += sum(text.count(tag) for tag in _CELL_TAGS)
                rows += sum(text.count(tag) for tag in _ROW_TAGS)
                tail = text[-4:]  # a tag cut by the chunk's end is counted with the next chunk (a few twice)
                if unpacked > MAX_UNPACKED_BYTES:
                    raise InvalidInput(N_("The workbook is too large."))
                if rows > MAX_LINES + 10:  # the header, and a <rowBreaks> or two
                    raise InvalidInput(N_("The file has more than %(limit)s rows (empty rows count too): delete "
                                          "the empty rows below the products."), limit=format_number(MAX_LINES))
                if cells > MAX_CELLS:
                    raise InvalidInput(N_("The workbook has more than %(limit)s cells (empty ones count too): keep "
                                          "only the product rows and columns."), limit=format_number(MAX_CELLS))
    limit = CELLS_PER_ROW * max(rows, 1) + CELLS_SLACK
    if cells > limit:
        raise InvalidInput(N_("The workbook has more than %(limit)s cells (empty ones count too): keep only the "
                              "product rows and columns."), limit=format_number(limit))


def _xlsx_records(stream: BinaryIO) -> Iterator[dict]:
    from openpyxl import load_workbook

    unreadable = N_("The file is not a readable Excel workbook (.xlsx).")
    try:
        with zipfile.ZipFile(stream) as archive:
            _check_workbook_size(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError):
        # a damaged archive, a CRC that does not match, a compression method zipfile cannot unpack
        raise InvalidInput(unreadable) from None
    stream.seek(0)
    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors for a damaged or foreign file
        raise InvalidInput(unreadable) from None
    try:
        sheet = book.worksheets[0]
        # Never past MAX_LINES (a row numbered 1.000.000 is not filled up to with empty rows) nor past a few
        # columns beyond the catalog's (whatever size the sheet's <dimension> claims).
        width = len(COLUMNS) + 5
        lines = sheet.iter_rows(max_row=MAX_LINES + 2, max_col=width, values_only=True)
        header = _header(list(next(lines, ())))
        yield from _records(header, lines)
    except InvalidInput:
        raise
    except Exception:  # a broken sheet inside a valid zip
        raise InvalidInput(unreadable) from None
    finally:
        book.close()


def iter_records(kind: str, stream: BinaryIO) -> Iterator[dict]:
    """The rows of a .csv or .xlsx read from a seekable binary file, one by one, as dicts keyed by column name plus
    ROW_KEY and EXTRA_KEY. Refusals (InvalidInput) come as the rows are read: a first row that does not name
    exactly the columns of COLUMNS, more than MAX_ROWS products, a file that is not what its name says."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size > MAX_BYTES:
        raise InvalidInput(N_("The file is larger than %(limit)s MB."), limit=MAX_BYTES // (1024 * 1024))
    if not size:
        raise InvalidInput(N_("The file is empty."))
    yield from (_csv_records(stream) if kind == "csv" else _xlsx_records(stream))


def iter_file(path: str | Path, kind: str) -> Iterator[dict]:
    """iter_records of a file on disk (an upload kept for its import), closed when the rows are done."""
    with open(path, "rb") as stream:
        yield from iter_records(kind, stream)


def read_file(filename: str, data: bytes) -> list[dict]:
    """The rows of an uploaded .csv or .xlsx: dicts keyed by column name, plus ROW_KEY and EXTRA_KEY.

    Refused (InvalidInput): other file types, more than 40 MB, more than 100.000 products, a first row that does
    not name exactly the columns of COLUMNS.
    """
    kind = file_kind(filename)
    if len(data) > MAX_BYTES:
        raise InvalidInput(N_("The file is larger than %(limit)s MB."), limit=MAX_BYTES // (1024 * 1024))
    return list(iter_records(kind, io.BytesIO(data)))


def file_kind(filename: str) -> str:
    """'csv' or 'xlsx' by the file name's ending; anything else is refused."""
    kind = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if kind not in ("csv", "xlsx"):
        raise InvalidInput(N_("Upload a .csv or .xlsx file."))
    return kind


# --- checking ------------------------------------------------------------------------------------------------------

PACK_ABOVE_HET = N_("The pack %(name)s may cost at most %(limit)s (the HET times %(factor)s).")
PACK_SIZE_FIXED = N_("The pack %(name)s holds %(factor)s; the size of an existing pack cannot be changed.")
_BAD = object()  # a cell that could not be read; its error is already recorded


@dataclass
class _Plan:
    """A clean row: what to create, or the existing product and what to change on it."""

    row: int
    data: ProductInput
    active: bool
    product: _Existing | None = None
    fields: dict = field(default_factory=dict)  # attribute -> new value (not prices, not the name)
    name: str | None = None
    prices: dict = field(default_factory=dict)
    new_packs: list[PackInput] = field(default_factory=list)
    pack_prices: list[tuple[_Unit, int | None, int | None]] = field(default_factory=list)
    new_barcodes: list[tuple[str, _Unit]] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.fields or self.name or self.prices or self.new_packs or self.pack_prices
                    or self.new_barcodes)


@dataclass
class _Unit:
    id: int
    product_id: int
    name: str
    factor: Decimal
    price: int | None
    member_price: int | None


@dataclass
class _Code:
    code: str
    product_unit_id: int


@dataclass
class _Existing:
    """A product as the check reads it (plain values, not an ORM object: a batch of 500 costs a few queries and
    no unit of work); what _base_unit, _packs_of and the checks use of a Product."""

    id: int
    values: dict  # column -> value, for the columns a file may set or that the checks read
    units: list[_Unit] = field(default_factory=list)  # by factor, then id
    barcodes: list[_Code] = field(default_factory=list)  # by id

    def __getattr__(self, name: str):
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None


_PRODUCT_COLUMNS = ("id", "sku", "name", "category_id", "unit_id", "base_unit", "public_price", "member_price",
                    "wholesale_price", "wholesale_min_qty", "tax_code", "sell_by_weight", "het", "reorder_point",
                    "tracks_batches", "drug_class", "nie", "owa", "precursor", "cold_chain", "active")


def _existing_products(skus: Iterable[str]) -> dict[str, _Existing]:
    """The products of these SKUs with their units and barcodes: three queries per IN_CHUNK SKUs."""
    p, u, b = Product.__table__, ProductUnit.__table__, Barcode.__table__
    found: dict[str, _Existing] = {}
    for part in _in_chunks(skus):
        by_id = {}
        for row in db.session.execute(sa.select(*(p.c[name] for name in _PRODUCT_COLUMNS)).where(p.c.sku.in_(part))):
            product = _Existing(row.id, dict(row._mapping))
            by_id[row.id] = found[row.sku] = product
        if not by_id:
            continue
        for row in db.session.execute(sa.select(u.c.id, u.c.product_id, u.c.name, u.c.factor, u.c.price,
                                                u.c.member_price).where(u.c.product_id.in_(list(by_id)))
                                      .order_by(u.c.product_id, u.c.factor, u.c.id)):
            by_id[row.product_id].units.append(_Unit(*row))
        for row in db.session.execute(sa.select(b.c.product_id, b.c.code, b.c.product_unit_id)
                                      .where(b.c.product_id.in_(list(by_id))).order_by(b.c.id)):
            by_id[row.product_id].barcodes.append(_Code(row.code, row.product_unit_id))
    return found


class _Context:
    """What the database holds for the rows being checked (read by `load`, a batch at a time: the products of their
    SKUs and the owners of their barcodes), and what earlier rows of the file claimed."""

    def __init__(self) -> None:
        self.categories = dict(db.session.execute(sa.select(Category.code, Category.id)).all())
        self.units = dict(db.session.execute(sa.select(BusinessUnit.code, BusinessUnit.id)).all())
        self.unit_codes = {unit_id: code for code, unit_id in self.units.items()}
        self.products: dict[str, _Existing] = {}
        self.barcodes: dict[str, tuple[int, int]] = {}
        self.moves: dict[int, bool] = {}  # product id -> has stock moves (asked only when a row needs to know)
        self.read_skus: set[str] = set()
        self.read_codes: set[str] = set()
        self.skus: dict[str, int] = {}
        self.file_barcodes: dict[str, int] = {}

    def load(self, raws: list[dict]) -> None:
        """Read what these rows may touch: their products (with units and barcodes) and the barcodes they name."""
        skus, codes = set(), set()
        for raw in raws:
            try:
                skus.add(validate_sku(_text(raw.get("sku"))))
            except InvalidInput:
                pass
            codes.update(_text(raw.get("barcodes")).split())
            try:
                codes.update(code for pack in parse_packs(raw.get("packs")) for code in pack.barcodes)
            except InvalidInput:
                pass
        self.read(skus, codes)

    def read(self, skus: set[str], codes: set[str]) -> None:
        self.read_skus, self.read_codes = skus, codes
        self.products = _existing_products(skus)
        self.barcodes = {}
        for part in _in_chunks(codes):
            self.barcodes.update((code, (product_id, unit_id)) for code, product_id, unit_id in db.session.execute(
                sa.select(Barcode.code, Barcode.product_id, Barcode.product_unit_id).where(Barcode.code.in_(part))))
        self.moves = {}

    def has_moves(self, product_id: int) -> bool:
        if product_id not in self.moves:
            self.moves[product_id] = db.session.scalar(
                sa.select(StockMove.id).where(StockMove.product_id == product_id).limit(1)) is not None
        return self.moves[product_id]

    def still_current(self) -> bool:
        """Whether the database still holds what this check read (a few IN queries, no parsing of rows)."""
        now = _Context()
        now.read(self.read_skus, self.read_codes)
        return ((now.categories, now.units, now.products, now.barcodes) ==
                (self.categories, self.units, self.products, self.barcodes)
                and all(now.has_moves(product_id) == moved for product_id, moved in self.moves.items()))


class _Row:
    def __init__(self, raw: dict, report: ImportReport) -> None:
        self.raw = raw
        self.number = int(raw.get(ROW_KEY) or 0)
        self.report = report
        self.failed = False

    def error(self, column: str, message: str, **params: object) -> None:
        self.report.add_error(RowError(self.number, column, message, params))
        self.failed = True

    def cell(self, column: str, parse: Callable[[object], object]) -> object:
        try:
            return parse(self.raw.get(column))
        except InvalidInput as exc:
            self.error(column, exc.message, **exc.params)
            return _BAD

    def check(self, column: str, rule: Callable[[], object]) -> bool:
        try:
            rule()
        except InvalidInput as exc:
            self.error(column, exc.message, **exc.params)
            return False
        return True


def _required(value: object) -> str:
    text = _text(value)
    if not text:
        raise InvalidInput(N_("This column must not be empty."))
    return text


def _code_in(table: dict, value: object, message: str, param: str) -> str:
    text = _required(value)
    for code in (text, text.upper()):
        if code in table:
            return code
    raise InvalidInput(message, **{param: text[:20]})


def _base_unit_name(value: object) -> str:
    text = _required(value).lower()
    if text not in BASE_UNITS:
        raise InvalidInput(N_("Unknown base unit '%(unit)s'."), unit=text[:20])
    return text


def _tax_code(value: object) -> str:
    text = _text(value).lower() or TaxCode.EXEMPT.value
    try:
        return TaxCode(text).value
    except ValueError:
        raise InvalidInput(N_("The tax code is exempt, standard or luxury.")) from None


def _drug_class(value: object) -> DrugClass | None:
    text = _text(value).lower().replace(" ", "_")
    if not text:
        return None
    try:
        return DrugClass(text)
    except ValueError:
        raise InvalidInput(N_("Unknown drug class '%(value)s'."), value=text[:20]) from None


def _check_barcode(code: str, by_weight: bool) -> None:
    """What catalog.add_barcode checks before it writes: a scale label's base code (the value digits zero, as
    21xxxxx00000c) is a product's own code, by weight only for a product sold by weight; otherwise the check digit,
    and not a GS1 string or a scale label with a value."""
    rule = catalog.measure_base_rule(code)  # a wrong check digit is refused here
    if rule is not None:
        if rule.kind == "weight" and not by_weight:
            raise InvalidInput(N_("Scale codes by weight are for products sold by weight."))
        return
    scanned = barcode_rules.classify(code)
    if scanned.kind == "gs1":
        raise InvalidInput(N_("Give the product's own barcode, not a GS1 element string."))
    if scanned.kind == "variable_measure":
        raise InvalidInput(N_("Codes starting 21 or 22 carry a weight or a price; they are not product barcodes."))


def _check_one(raw: dict, ctx: _Context, report: ImportReport) -> _Plan | None:
    row = _Row(raw, report)
    if raw.get(EXTRA_KEY):
        row.error("", N_("This row has more cells than there are columns."))

    sku = row.cell("sku", lambda v: validate_sku(_text(v)))
    existing = ctx.products.get(sku) if sku is not _BAD else None
    if sku is not _BAD:
        if sku in ctx.skus:
            row.error("sku", N_("SKU %(sku)s is already in row %(row)s."), sku=sku, row=ctx.skus[sku])
        else:
            ctx.skus[sku] = row.number
    name = row.cell("name", lambda v: catalog._name(_text(v)))
    category = row.cell("category", lambda v: _code_in(ctx.categories, v, N_("No category %(code)s."), "code"))
    unit = row.cell("unit", lambda v: _code_in(ctx.units, v, N_("No business unit '%(unit)s'."), "unit"))
    base_unit = row.cell("base_unit", _base_unit_name)
    prices = {column: row.cell(column, parse_required_amount if column in ("public_price", "member_price")
                               else parse_amount) for column in MONEY_COLUMNS}
    min_qty = row.cell("wholesale_min_qty", lambda v: parse_count(v, positive=True))
    tax_code = row.cell("tax_code", _tax_code)
    reorder = row.cell("reorder_point", lambda v: parse_count(v, positive=False))
    flags = {column: row.cell(column, lambda v, c=column: parse_flag(v, default=c == "active"))
             for column in FLAG_COLUMNS}
    drug_class = row.cell("drug_class", _drug_class)
    nie = _text(raw.get("nie")).upper()
    base_codes = tuple(_text(raw.get("barcodes")).split())
    packs = row.cell("packs", parse_packs)

    # Prices against the HET (a pack's price against the HET of as many base units).
    het = prices["het"]
    if het is not _BAD and het is not None:
        if het <= 0:
            row.error("het", N_("The HET is a price in whole rupiah."))
        else:
            for column in ("public_price", "member_price", "wholesale_price"):
                value = prices[column]
                if value is not _BAD and value is not None and value > het:
                    row.error(column, N_("No price may exceed the HET of %(het)s."), het=format_rupiah(het))
            pack_list = list(packs) if packs is not _BAD else []
            if existing is not None:  # packs never deleted keep their prices; they must fit a lowered HET too
                named = {p.name.lower() for p in pack_list}
                pack_list += [p for p in _packs_of(existing) if p.name.lower() not in named]
            for pack in pack_list:
                limit = het * pack.factor
                for value in (pack.price, pack.member_price):
                    if value is not None and value > limit:
                        row.error("packs", PACK_ABOVE_HET, name=pack.name, limit=format_rupiah(int(limit)),
                                  factor=format_number(pack.factor))
    if prices["wholesale_price"] not in (None, _BAD) and min_qty is None:
        row.error("wholesale_min_qty", N_("A wholesale price needs the quantity from which it applies."))

    # Medicines: the NIE must match the drug class; no NIE without one.
    if drug_class is not _BAD:
        if drug_class is not None:
            row.check("nie", lambda: validate_nie(nie, drug_class))
        elif nie:
            row.error("nie", N_("An NIE is only given for a medicine with a drug class."))

    # Barcodes: well-formed, once in the file, not another product's.
    coded = [("barcodes", code) for code in base_codes]
    if packs is not _BAD:
        coded += [("packs", code) for pack in packs for code in pack.barcodes]
    for column, code in coded:
        if not row.check(column, lambda c=code: _check_barcode(c, flags["sell_by_weight"] is True)):
            continue
        if code in ctx.file_barcodes:
            row.error(column, N_("Barcode %(code)s is already in row %(row)s."), code=code, row=ctx.file_barcodes[code])
            continue
        ctx.file_barcodes[code] = row.number
        owner = ctx.barcodes.get(code)
        if owner is not None and (existing is None or owner[0] != existing.id):
            row.error(column, N_("Barcode %(code)s is already in use."), code=code)

    if packs is not _BAD and base_unit is not _BAD:
        for pack in packs:
            if pack.name.lower() == base_unit:
                row.error("packs", N_("Each pack has its own name."))
    if existing is not None:
        _check_existing(row, ctx, existing, unit=unit, base_unit=base_unit, packs=packs, base_codes=base_codes,
                        tracks=flags["tracks_batches"], drug_class=drug_class)
    if row.failed:
        return None

    data = ProductInput(
        sku=sku, name=name, category=category, unit=unit, base_unit=base_unit,
        public_price=prices["public_price"], member_price=prices["member_price"], tax_code=tax_code,
        wholesale_price=prices["wholesale_price"], wholesale_min_qty=min_qty, sell_by_weight=flags["sell_by_weight"],
        het=het, reorder_point=reorder if reorder is not None else Decimal(0), tracks_batches=flags["tracks_batches"],
        drug_class=drug_class.value if drug_class else None, nie=nie or None, owa=flags["owa"],
        precursor=flags["precursor"], cold_chain=flags["cold_chain"], barcodes=base_codes, packs=packs,
    )
    # Every rule of the catalog, whatever the checks above may have missed.
    if not row.check("", lambda: catalog.validate(data)):
        return None
    plan = _Plan(row=row.number, data=data, active=flags["active"], product=existing)
    if existing is not None:
        _plan_update(plan, ctx)
    return plan


def _pack_unit(product: Product, name: str) -> ProductUnit | None:
    """The product's pack of that name: exactly, or else ignoring case ("Strip" is the pack "strip")."""
    base = _base_unit(product)
    packs = [unit for unit in product.units if unit.id != base.id]
    return next((u for u in packs if u.name == name), None) or next(
        (u for u in packs if u.name.lower() == name.lower()), None)


def _check_existing(row: _Row, ctx: _Context, product: Product, *, unit: object, base_unit: object, packs: object,
                    base_codes: tuple[str, ...], tracks: object, drug_class: object) -> None:
    """What a file may not change on an existing product; cells that could not be read are skipped."""
    current_unit = ctx.unit_codes.get(product.unit_id, "")
    if unit is not _BAD and unit != current_unit:
        row.error("unit", N_("The business unit of an existing product cannot be changed here (it is %(unit)s)."),
                  unit=current_unit)
    if base_unit is not _BAD and base_unit != product.base_unit:
        row.error("base_unit", N_("The base unit of an existing product cannot be changed (it is %(unit)s)."),
                  unit=product.base_unit)
    if tracks is not _BAD and drug_class is not _BAD and (tracks or drug_class is not None) != product.tracks_batches:
        if ctx.has_moves(product.id):
            row.error("tracks_batches", N_(
                "Batch tracking cannot be switched on or off for a product that already has stock movements."))

    def barcode(column: str, code: str, pack_unit: ProductUnit | None) -> None:
        # The product's own codes stay where they are: listed under another unit is an error, not a move.
        owner = ctx.barcodes.get(code)
        if owner is not None and owner[0] == product.id and (pack_unit is None or owner[1] != pack_unit.id):
            other = next((u.name for u in product.units if u.id == owner[1]), "")
            row.error(column, N_("Barcode %(code)s belongs to the unit %(unit)s of this product."), code=code,
                      unit=other)

    for code in base_codes:
        barcode("barcodes", code, _base_unit(product))
    for pack in packs if packs is not _BAD else ():
        pack_unit = _pack_unit(product, pack.name)
        if pack_unit is not None and pack_unit.factor != pack.factor:
            row.error("packs", PACK_SIZE_FIXED, name=pack.name, factor=format_number(pack_unit.factor))
            continue
        for code in pack.barcodes:
            barcode("packs", code, pack_unit)


def _plan_update(plan: _Plan, ctx: _Context) -> None:
    """What a clean row changes on its existing product."""
    product, data = plan.product, plan.data
    if data.name != product.name:
        plan.name = data.name
    for name in catalog.PRICE_FIELDS:
        if getattr(data, name) != getattr(product, name):
            plan.prices[name] = getattr(data, name)
    drug_class = DrugClass(data.drug_class) if data.drug_class else None
    wanted = {
        "category_id": ctx.categories[data.category],
        "wholesale_min_qty": data.wholesale_min_qty,
        "tax_code": TaxCode(data.tax_code),
        "sell_by_weight": data.sell_by_weight,
        "reorder_point": data.reorder_point,
        "tracks_batches": data.tracks_batches or drug_class is not None,
        "drug_class": drug_class,
        "nie": validate_nie(data.nie, drug_class) if drug_class else None,
        "owa": data.owa,
        "precursor": data.precursor,
        "cold_chain": data.cold_chain,
        "active": plan.active,
    }
    plan.fields = {name: value for name, value in wanted.items() if value != getattr(product, name)}
    base = _base_unit(product)
    for pack in data.packs:
        unit = _pack_unit(product, pack.name)
        if unit is None:
            plan.new_packs.append(pack)
            continue
        if (unit.price, unit.member_price) != (pack.price, pack.member_price):
            plan.pack_prices.append((unit, pack.price, pack.member_price))
        plan.new_barcodes += [(code, unit) for code in pack.barcodes if code not in ctx.barcodes]
    plan.new_barcodes += [(code, base) for code in data.barcodes if code not in ctx.barcodes]


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _check_batch(batch: list[dict], ctx: _Context, report: ImportReport, keep_plans: bool) -> None:
    report.rows += len(batch)
    ctx.load(batch)
    for raw in batch:
        plan = _check_one(raw, ctx, report)
        if plan is None:
            continue
        report.count(plan)
        if keep_plans:
            report.plans.append(plan)


def dry_run(rows: Iterable[dict], *, keep_plans: bool = True,
            progress: Callable[[int], None] | None = None) -> ImportReport:
    """Check every row without writing: every problem (row, column, msgid, params), and what an import would do.

    `rows` may be a list or an iterator (iter_file): they are checked CHECK_BATCH at a time, each batch's products
    and barcodes read by a few IN queries, so a big file costs neither a read of the whole catalog nor its memory
    (with `keep_plans=False` nothing is kept but counts and errors). `progress(rows so far)` is called after each
    batch, when nothing read from the database is in use any more."""
    report = ImportReport()
    ctx = _Context()
    for batch in _batches(rows, CHECK_BATCH):
        _check_batch(batch, ctx, report, keep_plans)
        if progress is not None:
            progress(report.rows)
    return _sorted(report)


def _sorted(report: ImportReport) -> ImportReport:
    report.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else -1))
    if report.error_count:
        report.plans = []
    return report


@dataclass
class Prepared:
    """A chunk checked before its write transaction, reading only: its plans, and what it read of the catalog."""

    report: ImportReport
    context: _Context


def prepare_chunk(rows: list[dict]) -> Prepared:
    """Check a chunk of rows without the write lock (the parsing, the bulk of the work); apply_chunk then only
    verifies, holding the lock, that the catalog still holds what this check read."""
    report, ctx = ImportReport(), _Context()
    _check_batch(rows, ctx, report, keep_plans=True)
    return Prepared(_sorted(report), ctx)


# --- import ----------------------------------------------------------------------------------------------------------


class RowsRefused(InvalidInput):
    """Rows of a chunk that no longer pass against the catalog as it is now."""

    def __init__(self, report: ImportReport) -> None:
        first = report.errors[0]
        super().__init__(N_("The file has %(count)s errors; nothing was imported (the first is in row %(row)s)."),
                         count=report.error_count, row=first.row)
        self.report = report


def apply(rows: Iterable[dict], user: User) -> ImportReport:
    """Import checked rows inside the caller's write_transaction; refused (nothing written) unless all are clean."""
    report = dry_run(rows)
    if not report.ok:
        raise RowsRefused(report)
    _write(report.plans, user.username)
    if report.to_create or report.to_update:
        audit.record("catalog.import", actor=user, target_type="product",
                     after={"created": report.to_create, "updated": report.to_update, "rows": report.rows})
    return report


def apply_chunk(rows: list[dict], changed_by: str, prepared: Prepared | None = None) -> ImportReport:
    """Check a chunk of rows against the catalog as it is now and write them, inside the caller's write transaction
    (a job's chunk; no audit entry: the job writes one at its end). With `prepared` (prepare_chunk of the same rows)
    whose reads still hold, its plans are written as they are; else the rows are checked here again. RowsRefused
    when a row does not pass."""
    if prepared is not None and prepared.report.ok and prepared.context.still_current():
        report = prepared.report
    else:
        report = dry_run(rows)
    if not report.ok:
        raise RowsRefused(report)
    _write(report.plans, changed_by)
    return report


def _write(plans: list[_Plan], changed_by: str) -> None:
    """What the plans say, in a few statements: new products by multi-row INSERTs, changed columns by one UPDATE
    statement run for many rows, new packs, barcodes, search words and price history by multi-row INSERTs."""
    new = [plan for plan in plans if plan.product is None]
    if new:
        _create_many(new)
    product_updates: list[dict] = []
    unit_updates: list[dict] = []
    barcode_rows: list[dict] = []
    price_rows: list[dict] = []
    renamed: list[tuple[int, str]] = []
    new_units: list[tuple[dict, tuple[str, ...]]] = []
    for plan in plans:
        if plan.product is None or not plan.changes:
            continue
        product = plan.product
        values = dict(plan.fields)  # "active" too: catalog.set_active only sets it
        if plan.name:
            values["name"] = catalog._name(plan.name)
            renamed.append((product.id, values["name"]))
        if plan.prices:
            prices, history = _change_prices(product, plan.prices, changed_by, values)
            values.update(prices)
            price_rows += history
        if values:
            product_updates.append({"id": product.id, **values})
        unit_updates += [{"id": unit.id, "price": price, "member_price": member_price}
                         for unit, price, member_price in plan.pack_prices]
        for pack in plan.new_packs:
            new_units.append(({"product_id": product.id, "name": (pack.name or "").strip()[:40],
                               "factor": validate_factor(pack.factor), "price": pack.price,
                               "member_price": pack.member_price}, pack.barcodes))
        barcode_rows += [_barcode_row(code, product.id, unit.id) for code, unit in plan.new_barcodes]
    _update_many(Product.__table__, product_updates)
    _update_many(ProductUnit.__table__, unit_updates)
    if new_units:
        table = ProductUnit.__table__
        ids = db.session.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True),
                                 [row for row, _codes in new_units]).scalars().all()
        barcode_rows += [_barcode_row(code, row["product_id"], unit_id)
                         for (row, codes), unit_id in zip(new_units, ids, strict=True) for code in codes]
    if renamed:
        words = ProductWord.__table__
        for part in _in_chunks([product_id for product_id, _name in renamed]):
            db.session.execute(sa.delete(words).where(words.c.product_id.in_(part)))
        _insert(ProductWord, [{"product_id": product_id, "word": word}
                              for product_id, name in renamed for word in sorted(catalog.words(name))])
    _insert(Barcode, barcode_rows)
    _insert(PriceChange, price_rows)


def _update_many(table: sa.Table, rows: list[dict]) -> None:
    """UPDATE ... WHERE id = ?, one statement for all rows that set the same columns (executemany)."""
    groups: dict[tuple[str, ...], list[dict]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(k for k in row if k != "id"))].append(row)
    for columns, group in groups.items():
        statement = sa.update(table).where(table.c.id == sa.bindparam("row_id")).values(
            {name: sa.bindparam(f"new_{name}") for name in columns})
        db.session.execute(statement, [{"row_id": row["id"], **{f"new_{name}": row[name] for name in columns}}
                                       for row in group])


def _insert(model: type, rows: list[dict]) -> None:
    if rows:
        db.session.execute(sa.insert(model.__table__), rows)


def _barcode_row(code: str, product_id: int, unit_id: int) -> dict:
    # As catalog.add_barcode stores it: a scale label's base code is marked in-store.
    return {"code": code, "product_id": product_id, "product_unit_id": unit_id,
            "instore": catalog.measure_base_rule(code) is not None}


def _change_prices(product: _Existing, changes: dict[str, int | None], changed_by: str,
                   values: dict) -> tuple[dict, list[dict]]:
    """catalog.change_prices for a row of the import (its other columns, `values`, already set): the same rules;
    the new prices and the price history as rows to insert."""
    new = {name: getattr(product, name) for name in catalog.PRICE_FIELDS} | changes
    catalog.validate_prices(new["public_price"], new["member_price"], new["wholesale_price"], new["het"])
    for pack in product.units:
        if pack.factor != 1:
            catalog.check_pack_het(new["het"], pack.factor, pack.price, pack.member_price)
    if new["wholesale_price"] is not None and not values.get("wholesale_min_qty", product.wholesale_min_qty):
        raise InvalidInput(N_("A wholesale price needs the quantity from which it applies."))
    now = utcnow()
    prices, history = {}, []
    for name in catalog.PRICE_FIELDS:
        if new[name] != getattr(product, name):
            history.append({"product_id": product.id, "field": name, "old": getattr(product, name), "new": new[name],
                            "changed_by": changed_by[:40], "changed_at": now})
            prices[name] = new[name]
    return prices, history


def _create_many(plans: list[_Plan]) -> None:
    """New products as catalog.create_product makes them (their rows were checked by catalog.validate), with
    their base unit, packs, barcodes and search words, by a few multi-row INSERTs."""
    categories = dict(db.session.execute(sa.select(Category.code, Category.id)).all())
    business_units = dict(db.session.execute(sa.select(BusinessUnit.code, BusinessUnit.id)).all())
    now = utcnow()
    rows = []
    for plan in plans:
        data = plan.data
        drug_class = DrugClass(data.drug_class) if data.drug_class else None
        rows.append({
            "sku": validate_sku(data.sku), "name": catalog._name(data.name), "category_id": categories[data.category],
            "unit_id": business_units[data.unit], "base_unit": data.base_unit, "public_price": data.public_price,
            "member_price": data.member_price, "wholesale_price": data.wholesale_price,
            "wholesale_min_qty": data.wholesale_min_qty, "tax_code": TaxCode(data.tax_code),
            "sell_by_weight": data.sell_by_weight, "het": data.het, "reorder_point": data.reorder_point,
            "tracks_batches": data.tracks_batches or drug_class is not None, "drug_class": drug_class,
            "nie": validate_nie(data.nie, drug_class) if drug_class else None, "owa": data.owa,
            "precursor": data.precursor, "cold_chain": data.cold_chain, "active": plan.active, "created_at": now,
        })
    table = Product.__table__
    ids = list(db.session.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                  rows).scalars())
    units, unit_codes, words = [], [], []
    for plan, product_id in zip(plans, ids, strict=True):
        data = plan.data
        units.append({"product_id": product_id, "name": data.base_unit, "factor": Decimal(1), "price": None,
                      "member_price": None})
        unit_codes.append((product_id, data.barcodes))
        for pack in data.packs:
            units.append({"product_id": product_id, "name": (pack.name or "").strip()[:40],
                          "factor": validate_factor(pack.factor), "price": pack.price,
                          "member_price": pack.member_price})
            unit_codes.append((product_id, pack.barcodes))
        words += [{"product_id": product_id, "word": word} for word in sorted(catalog.words(data.name))]
    table = ProductUnit.__table__
    unit_ids = list(db.session.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                       units).scalars())
    _insert(Barcode, [_barcode_row(code, product_id, unit_id)
                      for (product_id, codes), unit_id in zip(unit_codes, unit_ids, strict=True) for code in codes])
    _insert(ProductWord, words)


# --- the import as a background job ---------------------------------------------------------------------------------

IMPORT_JOB = "catalog.import"
CHUNK_ROWS = 100  # rows of the first chunk; the next ones are sized to keep the write transaction near the target
CHUNK_TARGET_MS = 100.0  # well under the 500 ms write budget, on a slower or busier machine too
MIN_CHUNK, MAX_CHUNK = 20, 500
CHUNK_GROWTH = 1.5  # a chunk is at most this much larger than the one before (a fast chunk may be luck)
BEAT_SECONDS = 2.0  # the check of a big file renews its claim (and shows its progress) this often
ERRORS_KEPT = 200  # refused rows listed on the job page


def uploads_folder() -> Path:
    """Where checked uploads wait for their import (the instance folder's imports/)."""
    from flask import current_app

    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def enqueue_import(path: Path, kind: str, filename: str, user: User, total: int = 0) -> jobs.Job:
    """Queue the import of a file (inside the caller's write transaction). The job owns the file from now on: it is
    removed when the job has ended."""
    return jobs.enqueue(IMPORT_JOB, params={"path": str(path), "kind": kind, "filename": filename[-120:],
                                            "user_id": user.id},
                        title=filename[-120:], total=total, created_by=user.username)


@dataclass
class _Source:
    """A job's file as this process reads it: rows are read once, in order, a chunk at a time; the chunk being
    written is kept until its transaction commits (a chunk tried again after a busy lock reads nothing twice)."""

    path: str
    kind: str
    rows: Iterator[dict]
    position: int = 0  # rows read so far
    start: int = -1  # where the kept chunk starts
    chunk: list[dict] = field(default_factory=list)
    size: int = CHUNK_ROWS

    def take(self, start: int) -> list[dict]:
        if self.start == start:
            return self.chunk
        if self.position != start:
            raise LookupError(start)
        self.chunk = list(itertools.islice(self.rows, self.size))
        self.start = start
        self.position += len(self.chunk)
        return self.chunk


_SOURCES: dict[int, _Source] = {}


def _source(run: jobs.Run, start: int) -> _Source:
    source = _SOURCES.get(run.id)
    if source is None or (source.start != start and source.position != start):
        # first chunk in this process (or after a restart): open the file and skip what earlier chunks wrote
        rows = iter_file(run.params["path"], run.params["kind"])
        for _ in itertools.islice(rows, start):
            pass
        source = _Source(run.params["path"], run.params["kind"], rows, position=start,
                         size=_SOURCES[run.id].size if run.id in _SOURCES else CHUNK_ROWS)
        _SOURCES[run.id] = source
    return source


def _forget(run: jobs.Run) -> None:
    """The job has ended: close its file and remove it."""
    source = _SOURCES.pop(run.id, None)
    if source is not None:
        close = getattr(source.rows, "close", None)
        if close is not None:
            close()
    Path(run.params.get("path", "")).unlink(missing_ok=True)


def _failed(run: jobs.Run) -> None:
    """The job stopped on a refused or broken chunk: what the chunks before it wrote is kept, so it is audited as
    the finished import would have been (with the row the import stopped at), then the file is removed."""
    result = run.result or {}
    if result.get("created") or result.get("updated"):
        with write_transaction():
            audit.record("catalog.import", actor=db.session.get(User, run.params.get("user_id")),
                         actor_name=run.created_by, target_type="product", target_id=run.id,
                         after={"created": result.get("created", 0), "updated": result.get("updated", 0),
                                "rows": result.get("rows", 0), "stopped": True})
    _forget(run)


def _error_list(report: ImportReport) -> list[dict]:
    return [{"row": e.row, "column": e.column, "message": e.message,
             "params": {k: v if isinstance(v, str | int) else str(v) for k, v in e.params.items()}}
            for e in report.errors[:ERRORS_KEPT]]


def _summary(result: dict) -> list[tuple[str, str, int]]:
    return [("created", N_("New products"), result.get("created", 0)),
            ("updated", N_("Products updated"), result.get("updated", 0)),
            ("unchanged", N_("Unchanged"), result.get("unchanged", 0))]


def _check_file(run: jobs.Run) -> jobs.Step:
    """The job's first step: the whole file checked against the catalog, reading only (the claim renewed as it
    goes). Nothing is written unless every row passes."""
    beat = [time.monotonic()]

    def progress(rows: int) -> None:
        if time.monotonic() - beat[0] >= BEAT_SECONDS:
            run.beat(done=rows, result={"phase": "check"})
            beat[0] = time.monotonic()

    try:
        report = dry_run(iter_file(run.params["path"], run.params["kind"]), keep_plans=False, progress=progress)
    except FileNotFoundError:
        raise jobs.JobFailed(N_("That checked file is no longer here; upload it again.")) from None
    except InvalidInput as exc:
        raise jobs.JobFailed(exc.message, **exc.params) from None
    db.session.rollback()
    if not report.ok:
        raise jobs.JobFailed(
            N_("The file has %(count)s errors; nothing was imported (the first is in row %(row)s)."),
            details={"errors": _error_list(report), "error_count": report.error_count},
            count=report.error_count, row=report.errors[0].row)
    return jobs.Step(cursor="apply:0", done=0, total=report.rows, result={
        "phase": "apply", "rows": report.rows, "to_create": report.to_create, "to_update": report.to_update,
        "created": 0, "updated": 0, "unchanged": 0})


@jobs.register(IMPORT_JOB, label=N_("Catalog import"), permission="catalog.manage", on_failure=_failed,
               summary=_summary)
def import_chunk(run: jobs.Run) -> jobs.Step:
    """One step of an import: the check of the whole file first, then one chunk of rows written."""
    if not run.cursor:
        return _check_file(run)
    start = int(run.cursor.removeprefix("apply:"))
    source = _source(run, start)
    rows = source.take(start)
    result = dict(run.result)
    prepared = prepare_chunk(rows) if rows else None  # the parsing, before the lock
    db.session.rollback()
    began = time.perf_counter()
    with write_transaction():
        if rows:
            try:
                report = apply_chunk(rows, run.created_by, prepared)
            except RowsRefused as refused:
                raise jobs.JobFailed(
                    N_("Row %(row)s no longer passes the check: the catalog changed since the file was checked. "
                       "The rows before it were imported; check the file again and import it (rows already "
                       "imported are left as they are)."),
                    details={"errors": _error_list(refused.report), "error_count": refused.report.error_count},
                    row=refused.report.errors[0].row) from None
            result["created"] = result.get("created", 0) + report.to_create
            result["updated"] = result.get("updated", 0) + report.to_update
            result["unchanged"] = result.get("unchanged", 0) + report.unchanged
        done = start + len(rows)
        finished = len(rows) < source.size
        if finished and (result.get("created") or result.get("updated")):
            user = db.session.get(User, run.params.get("user_id"))
            audit.record("catalog.import", actor=user, actor_name=run.created_by, target_type="product",
                         target_id=run.id, after={"created": result.get("created", 0),
                                                  "updated": result.get("updated", 0),
                                                  "rows": result.get("rows", done)})
        step = jobs.Step(cursor=f"apply:{done}", done=done, result=result, finished=finished)
        run.save(step)
    elapsed_ms = (time.perf_counter() - began) * 1000
    if rows and not finished:
        wanted = int(len(rows) * CHUNK_TARGET_MS / max(elapsed_ms, 1.0))
        source.size = max(MIN_CHUNK, min(MAX_CHUNK, int(len(rows) * CHUNK_GROWTH), wanted))
    if finished:
        _forget(run)
    return step


def import_file(path: str | Path, user: User, *, progress: Callable[[jobs.Job], None] | None = None) -> jobs.Job:
    """The command line's import: the file is copied for the job, which runs here, chunk by chunk, exactly as in
    the background (`progress(job)` after each chunk). Returns the ended job."""
    import secrets
    import shutil

    from flask import current_app

    kind = file_kind(str(path))
    copy = uploads_folder() / f"cli-{secrets.token_urlsafe(12)}.{kind}.job"
    shutil.copyfile(path, copy)
    with write_transaction():
        job = enqueue_import(copy, kind, Path(path).name, user)
        job_id = job.id
    runner = jobs.Runner(current_app._get_current_object(), pause=0, job_id=job_id)
    while True:
        ran = runner.step()
        job = db.session.get(jobs.Job, job_id)
        if progress is not None:
            progress(job)
        if job.state not in jobs.ACTIVE_STATES:
            return job
        if not ran:
            time.sleep(runner.backoff() or 0.1)
        db.session.rollback()
