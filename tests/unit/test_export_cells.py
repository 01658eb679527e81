"""Report downloads never fail on what is stored: formulas are kept out, control characters a worksheet cannot hold
are shown as spaces."""

import io

from openpyxl import load_workbook

from ledger.export import Table, to_csv, to_xlsx


def test_control_characters_and_formulas_in_cells():
    table = Table("Jurnal", ["Memo", "Jumlah"], [["lot\x1bA\x07", 12_500], ["=1+1", 1]])
    sheet = load_workbook(io.BytesIO(to_xlsx(table))).active
    assert sheet["A2"].value == "lot A " and sheet["B2"].value == 12_500
    assert sheet["A3"].value == "'=1+1"
    assert "'=1+1" in to_csv(table).decode("utf-8")
