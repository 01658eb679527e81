"""The catalog file's pure parts: the packs column, numbers and flags as spreadsheets give them, reading CSV/XLSX."""

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from inventory.catalog import PackInput
from inventory.catalog_io import (
    COLUMNS,
    EXTRA_KEY,
    MAX_BYTES,
    MAX_ROWS,
    ROW_KEY,
    format_pack,
    format_packs,
    parse_amount,
    parse_count,
    parse_flag,
    parse_pack,
    parse_packs,
    read_file,
)
from pos.errors import InvalidInput

HEADER = ",".join(COLUMNS)


def csv_file(*lines: str, header: str = HEADER, sep: str = ",") -> bytes:
    return ("\n".join([header.replace(",", sep), *lines]) + "\n").encode()


def row(sep: str = ",", **values) -> str:
    return sep.join(str(values.get(name, "")) for name in COLUMNS)


# --- packs --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pack, text", [
    (PackInput("dus 40", Decimal(40), 128_000, None, ("8994963002824",)), "dus 40 | 40 | 128.000 | | 8994963002824"),
    (PackInput("karung 25 kg", Decimal(25), 350_000), "karung 25 kg | 25 | 350.000"),
    (PackInput("box", Decimal(100), 40_000, 38_000), "box | 100 | 40.000 | 38.000"),
    (PackInput("strip", Decimal(10)), "strip | 10"),
    (PackInput("ikat 2,5 kg", Decimal("2.5"), 1_250_000, 1_200_000, ("8991234560014", "ABC-1")),
     "ikat 2,5 kg | 2,5 | 1.250.000 | 1.200.000 | 8991234560014 ABC-1"),
    (PackInput(r"a|b;c\d", Decimal(2), None, 5), r"a\|b\;c\\d | 2 | | 5"),
])
def test_a_pack_is_written_readably_and_read_back_the_same(pack, text):
    assert format_pack(pack) == text
    assert parse_pack(text) == pack


def test_packs_are_separated_by_semicolons_and_round_trip():
    packs = (PackInput("strip", Decimal(10), 4_500), PackInput("box; besar", Decimal(100), 40_000, None, ("1",)))
    text = format_packs(packs)
    assert text == r"strip | 10 | 4.500; box\; besar | 100 | 40.000 | | 1"
    assert parse_packs(text) == packs
    assert parse_packs("") == () and parse_packs(None) == ()
    assert parse_packs("strip | 10;") == (PackInput("strip", Decimal(10)),)


@pytest.mark.parametrize("text", [
    "dus 40",  # no factor
    "dus | 0",  # empty pack
    "dus | -2",
    "dus | abc",
    "dus | 1,2345",  # more than 3 decimals
    "dus | 200.000",  # more than 100.000 base units
    " | 40",  # no name
    "x" * 41 + " | 2",
    "dus | 40 | 12,5",  # cents
    "dus | 40 | -1",
    "dus | 40 | 1 | 1 | 123 | extra",
])
def test_malformed_packs_are_refused(text):
    with pytest.raises(InvalidInput):
        parse_pack(text)


def test_a_pack_name_twice_is_refused():
    with pytest.raises(InvalidInput):
        parse_packs("strip | 10; Strip | 12")


# --- numbers and flags ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, amount", [
    ("14500", 14_500), ("14.500", 14_500), ("Rp 14.500", 14_500), ("1.000.000", 1_000_000), (14500, 14_500),
    (14500.0, 14_500), ("", None), (None, None), ("0", 0),
])
def test_amounts_are_read_the_indonesian_way(value, amount):
    assert parse_amount(value) == amount


@pytest.mark.parametrize("value", ["abc", "14,5", "1.5", "-1", 12.5, "1" * 20, True])
def test_bad_amounts_are_refused(value):
    with pytest.raises(InvalidInput):
        parse_amount(value)


def test_quantities_take_a_comma_for_decimals_and_refuse_negatives():
    assert parse_count("1,5", positive=True) == Decimal("1.5")
    assert parse_count("1.000", positive=False) == Decimal(1000)
    assert parse_count(2.25, positive=False) == Decimal("2.25")
    assert parse_count("", positive=False) is None
    assert parse_count("0", positive=False) == 0
    for bad in ("0", "-1"):
        with pytest.raises(InvalidInput):
            parse_count(bad, positive=True)
    with pytest.raises(InvalidInput):
        parse_count("-5", positive=False)


def test_flags_are_ya_or_tidak():
    assert parse_flag("ya") and parse_flag("YA") and parse_flag(True) and parse_flag(1) and parse_flag("true")
    assert not parse_flag("tidak") and not parse_flag("0") and not parse_flag(False) and not parse_flag("")
    assert parse_flag("", default=True) and parse_flag(None, default=True)
    with pytest.raises(InvalidInput):
        parse_flag("mungkin")
    with pytest.raises(InvalidInput):
        parse_flag("t")  # true or tidak? Refused rather than guessed


# --- reading files --------------------------------------------------------------------------------------------------


def test_a_csv_with_bom_is_read_with_row_numbers_as_in_the_file():
    data = "\ufeff".encode() + csv_file(row(sku="A-1", name="Satu"), "", row(sku="'=B", name="'-Dua"))
    rows = read_file("katalog.CSV", data)
    assert [(r[ROW_KEY], r["sku"], r["name"]) for r in rows] == [(2, "A-1", "Satu"), (4, "'=B", "'-Dua")]
    assert not rows[0][EXTRA_KEY]


@pytest.mark.parametrize("sep", [";", "\t"])
def test_a_csv_saved_with_semicolons_or_tabs_is_read_too(sep):
    rows = read_file("k.csv", csv_file(row(sep, sku="A-1", public_price="1.500,5"), sep=sep))
    assert rows[0]["sku"] == "A-1" and rows[0]["public_price"] == "1.500,5"


def test_columns_may_come_in_any_order_but_must_all_be_there():
    header = ",".join(reversed(COLUMNS))
    rows = read_file("k.csv", csv_file(",".join(["x"] * len(COLUMNS)), header=header))
    assert set(rows[0]) == {*COLUMNS, ROW_KEY, EXTRA_KEY}
    for bad_header in (",".join(COLUMNS[:-1]), HEADER + ",harga", HEADER + ",sku", "", "nama,harga"):
        with pytest.raises(InvalidInput):
            read_file("k.csv", csv_file(row(sku="A"), header=bad_header))


def test_cells_beyond_the_last_column_are_flagged():
    rows = read_file("k.csv", csv_file(row(sku="A") + ",surplus", row(sku="B") + ","))
    assert rows[0][EXTRA_KEY] and not rows[1][EXTRA_KEY]


@pytest.mark.parametrize("name", ["katalog.xls", "katalog.txt", "katalog", "katalog.csv.exe", ""])
def test_other_file_types_are_refused(name):
    with pytest.raises(InvalidInput):
        read_file(name, csv_file(row(sku="A")))


def test_limits_size_rows_and_emptiness():
    with pytest.raises(InvalidInput):
        read_file("k.csv", csv_file(row(sku="A")) + b" " * MAX_BYTES)
    with pytest.raises(InvalidInput):
        read_file("k.csv", b"")
    with pytest.raises(InvalidInput):
        read_file("k.csv", csv_file(*[row(sku=f"A{i}") for i in range(MAX_ROWS + 1)]))
    assert len(read_file("k.csv", csv_file(*[row(sku=f"A{i}") for i in range(MAX_ROWS)]))) == MAX_ROWS
    with pytest.raises(InvalidInput):
        read_file("k.csv", csv_file(row(sku="A\x00")))


def test_a_csv_from_a_windows_excel_in_cp1252_is_read():
    rows = read_file("k.csv", csv_file(row(name="Café")).decode().encode("cp1252"))
    assert rows[0]["name"] == "Café"


def xlsx(*rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for values in rows:
        sheet.append(list(values))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_is_read_with_its_number_cells():
    values = {name: None for name in COLUMNS} | {"sku": "A-1", "public_price": 14500, "reorder_point": 1.5,
                                                 "barcodes": 8991234560014}
    data = xlsx(COLUMNS, [values[name] for name in COLUMNS], [], [values[name] for name in COLUMNS])
    rows = read_file("k.xlsx", data)
    assert [r[ROW_KEY] for r in rows] == [2, 4]
    assert rows[0]["public_price"] == 14500 and parse_amount(rows[0]["public_price"]) == 14_500
    assert parse_count(rows[0]["reorder_point"], positive=False) == Decimal("1.5")


def test_a_broken_or_foreign_xlsx_is_refused():
    for data in (b"not a zip", b"PK\x03\x04broken", xlsx(["nama", "harga"], ["a", 1])):
        with pytest.raises(InvalidInput):
            read_file("k.xlsx", data)
