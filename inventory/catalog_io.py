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
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from inventory import barcodes as barcode_rules
from inventory import catalog
from inventory.catalog import PackInput, ProductInput
from inventory.catalog_rules import BASE_UNITS, validate_factor, validate_nie, validate_sku
from inventory.models import Barcode, Category, DrugClass, Product, ProductUnit, StockMove, TaxCode
from ledger.export import _cell
from pos import audit
from pos.db import db
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

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# Rows after the header, empty ones included: they are counted before they are skipped, so a file of blank rows
# costs no more to refuse than a full one costs to read.
MAX_LINES = 25_000
# Cells an .xlsx may hold in all its parts, empty ones included (every one costs the parser work, even one we
# skip): the full width of MAX_LINES rows and a few more columns.
MAX_CELLS = (MAX_LINES + 1) * (len(COLUMNS) + 5)
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # an .xlsx is a zip: refuse one that would unpack into more than this
MAX_AMOUNT = 10**12  # rupiah; far above any price, far below what the database holds
MAX_QUANTITY = Decimal(10**9)
PACK_NAME_LENGTH = 40
YES = frozenset({"ya", "y", "yes", "true", "1", "benar"})
NO = frozenset({"tidak", "tdk", "n", "no", "false", "0", "salah"})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SEPARATORS = (",", ";", "\t")


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
    errors: list[RowError] = field(default_factory=list)
    plans: list[_Plan] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors


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
    return "" if value is None else format_number(value)


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
        format_number(pack.factor),
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


def _all_products() -> list[Product]:
    return list(
        db.session.scalars(
            sa.select(Product)
            .options(
                selectinload(Product.units),
                selectinload(Product.barcodes),
                selectinload(Product.category),
                selectinload(Product.unit),
            )
            .order_by(Product.sku)
        )
    )


def _quantity(value: Decimal | None) -> int | Decimal | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value.normalize()


def export_rows() -> list[list]:
    """The header, then one row per product (archived ones too), by SKU.

    Money is int, quantities int or Decimal, empty values None, flags ya/tidak, codes and packs text.
    """
    rows: list[list] = [list(COLUMNS)]
    for product in _all_products():
        base = _base_unit(product)
        rows.append([
            product.sku,
            product.name,
            product.category.code,
            product.unit.code,
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
            " ".join(b.code for b in product.barcodes if b.product_unit_id == base.id),
            format_packs(_packs_of(product)),
        ])
    return rows


def export_csv() -> bytes:
    """UTF-8 with a BOM (Excel opens it as UTF-8), comma-separated, numbers written the Indonesian way."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for number, row in enumerate(export_rows()):
        if number == 0:
            writer.writerow(row)
            continue
        writer.writerow([
            _cell(_number_text(v) if isinstance(v, int | Decimal) and not isinstance(v, bool) else v or "")
            for v in row
        ])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_xlsx() -> bytes:
    """One sheet "Produk": numbers as number cells, codes as text cells (formatted @), formulas kept out."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "Produk"
    rows = export_rows()
    sheet.append(rows[0])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows[1:]:
        sheet.append([_cell(v) for v in row])
    for index, name in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        if name in TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = "@"
            fmt = "@"
        elif name in MONEY_COLUMNS:
            fmt = "#,##0"
        else:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = fmt
    sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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


def _records(header: list[str], lines: Iterator[list[object]]) -> list[dict]:
    """Rows as dicts keyed by column, numbered as in the file; empty rows are skipped (and still counted)."""
    records = []
    for number, cells in enumerate(lines, start=2):
        if number - 1 > MAX_LINES:
            raise InvalidInput(N_("The file has more than %(limit)s rows (empty rows count too): delete the empty "
                                  "rows below the products."), limit=format_number(MAX_LINES))
        cells = list(cells)
        if all(_text(c) == "" for c in cells):
            continue
        if len(records) >= MAX_ROWS:
            raise InvalidInput(N_("The file has more than %(limit)s products."), limit=format_number(MAX_ROWS))
        record: dict = {name: cells[i] if i < len(cells) else None for i, name in enumerate(header)}
        record[ROW_KEY] = number
        record[EXTRA_KEY] = any(_text(c) != "" for c in cells[len(header):])
        records.append(record)
    return records


def _read_csv(data: bytes) -> list[dict]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput(N_("The file is not a CSV text file in UTF-8."))
    if "\x00" in text:
        raise InvalidInput(N_("The file contains characters that cannot be used."))
    first_line = text.split("\n", 1)[0]
    separator = max(SEPARATORS, key=first_line.count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
        header = _header(next(reader, []))
        return _records(header, reader)
    except csv.Error:
        raise InvalidInput(N_("The file is not a well-formed CSV file.")) from None


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


def _read_xlsx(data: bytes) -> list[dict]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_workbook_size(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError):
        # a damaged archive, a CRC that does not match, a compression method zipfile cannot unpack
        raise InvalidInput(N_("The file is not a readable Excel workbook (.xlsx).")) from None
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors for a damaged or foreign file
        raise InvalidInput(N_("The file is not a readable Excel workbook (.xlsx).")) from None
    try:
        sheet = book.worksheets[0]
        # Never past MAX_LINES (a row numbered 1.000.000 is not filled up to with empty rows) nor past a few
        # columns beyond the catalog's (whatever size the sheet's <dimension> claims).
        width = len(COLUMNS) + 5
        lines = sheet.iter_rows(max_row=MAX_LINES + 2, max_col=width, values_only=True)
        header = _header(list(next(lines, ())))
        return _records(header, lines)
    except InvalidInput:
        raise
    except Exception:  # a broken sheet inside a valid zip
        raise InvalidInput(N_("The file is not a readable Excel workbook (.xlsx).")) from None
    finally:
        book.close()


def read_file(filename: str, data: bytes) -> list[dict]:
    """The rows of an uploaded .csv or .xlsx: dicts keyed by column name, plus ROW_KEY and EXTRA_KEY.

    Refused (InvalidInput): other file types, more than 5 MB, more than 20.000 products, a first row that does
    not name exactly the columns of COLUMNS.
    """
    kind = file_kind(filename)
    if len(data) > MAX_BYTES:
        raise InvalidInput(N_("The file is larger than %(limit)s MB."), limit=MAX_BYTES // (1024 * 1024))
    if not data:
        raise InvalidInput(N_("The file is empty."))
    return _read_csv(data) if kind == "csv" else _read_xlsx(data)


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
    product: Product | None = None
    fields: dict = field(default_factory=dict)  # attribute -> new value (not prices, not the name)
    name: str | None = None
    prices: dict = field(default_factory=dict)
    new_packs: list[PackInput] = field(default_factory=list)
    pack_prices: list[tuple[ProductUnit, int | None, int | None]] = field(default_factory=list)
    new_barcodes: list[tuple[str, ProductUnit]] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.fields or self.name or self.prices or self.new_packs or self.pack_prices
                    or self.new_barcodes)


class _Context:
    """What the database holds, read once, and what earlier rows of the file claimed."""

    def __init__(self) -> None:
        self.categories = {c.code: c for c in db.session.scalars(sa.select(Category))}
        self.units = {u.code: u for u in db.session.scalars(sa.select(BusinessUnit))}
        self.products = {p.sku: p for p in _all_products()}
        self.barcodes = {code: (product_id, unit_id) for code, product_id, unit_id in db.session.execute(
            sa.select(Barcode.code, Barcode.product_id, Barcode.product_unit_id))}
        self.skus: dict[str, int] = {}
        self.file_barcodes: dict[str, int] = {}


class _Row:
    def __init__(self, raw: dict, report: ImportReport) -> None:
        self.raw = raw
        self.number = int(raw.get(ROW_KEY) or 0)
        self.report = report
        self.failed = False

    def error(self, column: str, message: str, **params: object) -> None:
        self.report.errors.append(RowError(self.number, column, message, params))
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


def _check_barcode(code: str) -> None:
    """What catalog.add_barcode checks before it writes (check digit, not a GS1 string or scale label)."""
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
        if not row.check(column, lambda c=code: _check_barcode(c)):
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
    if unit is not _BAD and unit != product.unit.code:
        row.error("unit", N_("The business unit of an existing product cannot be changed here (it is %(unit)s)."),
                  unit=product.unit.code)
    if base_unit is not _BAD and base_unit != product.base_unit:
        row.error("base_unit", N_("The base unit of an existing product cannot be changed (it is %(unit)s)."),
                  unit=product.base_unit)
    if tracks is not _BAD and drug_class is not _BAD and (tracks or drug_class is not None) != product.tracks_batches:
        if db.session.scalar(sa.select(StockMove.id).where(StockMove.product_id == product.id).limit(1)) is not None:
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
        "category_id": ctx.categories[data.category].id,
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


def dry_run(rows: list[dict]) -> ImportReport:
    """Check every row without writing: every problem (row, column, msgid, params), and what an import would do."""
    report = ImportReport(rows=len(rows))
    ctx = _Context()
    for raw in rows:
        plan = _check_one(raw, ctx, report)
        if plan is None:
            continue
        report.plans.append(plan)
        if plan.product is None:
            report.to_create += 1
        elif plan.changes:
            report.to_update += 1
        else:
            report.unchanged += 1
    report.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else -1))
    if report.errors:
        report.plans = []
    return report


# --- import ----------------------------------------------------------------------------------------------------------


def apply(rows: list[dict], user: User) -> ImportReport:
    """Import checked rows inside the caller's write_transaction; refused (nothing written) unless all are clean."""
    report = dry_run(rows)
    if not report.ok:
        first = report.errors[0]
        raise InvalidInput(N_("The file has %(count)s errors; nothing was imported (the first is in row %(row)s)."),
                           count=len(report.errors), row=first.row)
    for plan in report.plans:
        if plan.product is None:
            product = catalog.create_product(plan.data, user)
            if not plan.active:
                catalog.set_active(product, False)
        elif plan.changes:
            _update(plan, user)
    db.session.flush()
    if report.to_create or report.to_update:
        audit.record("catalog.import", actor=user, target_type="product",
                     after={"created": report.to_create, "updated": report.to_update, "rows": report.rows})
    return report


def _update(plan: _Plan, user: User) -> None:
    product = plan.product
    if plan.name:
        catalog.rename_product(product, plan.name)
    for name, value in plan.fields.items():
        if name == "active":
            catalog.set_active(product, value)
        else:
            setattr(product, name, value)
    if plan.prices:
        catalog.change_prices(product, plan.prices, user)
    for unit, price, member_price in plan.pack_prices:
        unit.price, unit.member_price = price, member_price
    db.session.flush()
    for pack in plan.new_packs:
        unit = ProductUnit(product_id=product.id, name=pack.name, factor=pack.factor, price=pack.price,
                           member_price=pack.member_price)
        db.session.add(unit)
        db.session.flush()
        for code in pack.barcodes:
            catalog.add_barcode(product, unit, code)
    for code, unit in plan.new_barcodes:
        catalog.add_barcode(product, unit, code)
