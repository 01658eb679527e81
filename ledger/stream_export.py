"""Report downloads written while their rows are read: CSV and XLSX as a stream of chunks, in constant memory.

The cells are the same as ledger.export's (formula-looking text quoted, control characters a worksheet cannot hold
shown as spaces); the XLSX is a minimal workbook (one sheet, inline strings, bold header, whole numbers as
#,##0) zipped on the fly, so a download of half a million postings starts at once and holds no table in memory.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import escape

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ledger.export import _cell

CHUNK = 64 * 1024


class _Sink(io.RawIOBase):
    """A write-only, unseekable file that hands out what was written since the last take()."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        self.size += len(data)
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        self.size = 0
        return data


def csv_chunks(columns: list[str], rows: Iterable[list]) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM (Excel in Indonesia opens it as UTF-8), as ledger.export.to_csv writes it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(columns)
    yield buffer.getvalue().encode("utf-8")  # the header at once, before the rows' query has answered
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow([_cell(v) for v in row])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _column(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: str) -> str:
    return escape(ILLEGAL_CHARACTERS_RE.sub(" ", value))


def _row_xml(number: int, values: list, header: bool = False) -> str:
    cells = []
    for i, value in enumerate(values):
        value = _cell(value)
        ref = f"{_column(i)}{number}"
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = str(value)
        if isinstance(value, int):
            cells.append(f'<c r="{ref}" s="2"><v>{value}</v></c>')
        elif isinstance(value, float):
            cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
        else:
            style = ' s="1"' if header else ""
            text = _text(str(value))
            cells.append(f'<c r="{ref}" t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STATIC = {
    "[Content_Types].xml": (
        f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'),
    "xl/styles.xml": (
        f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}


def _sheet_name(title: str) -> str:
    name = "".join(" " if ch in '[]:*?/\\' else ch for ch in title).strip()[:31]
    return name or "Laporan"


def xlsx_chunks(title: str, columns: list[str], rows: Iterable[list]) -> Iterator[bytes]:
    """A one-sheet workbook that openpyxl and spreadsheet programs read like ledger.export.to_xlsx's."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as book:
        for name, text in _STATIC.items():
            book.writestr(name, text)
        book.writestr("xl/workbook.xml", (
            f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
            f'<sheet name="{escape(_sheet_name(title), {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/>'
            '</sheets></workbook>'))
        yield sink.take()
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'{_HEAD}<worksheet xmlns="{_MAIN}"><sheetData>'.encode())
            sheet.write(_row_xml(1, columns, header=True).encode())
            pending: list[str] = []
            for number, row in enumerate(rows, start=2):
                pending.append(_row_xml(number, row))
                if len(pending) >= 500:
                    sheet.write("".join(pending).encode())
                    pending.clear()
                    if sink.size >= CHUNK:
                        yield sink.take()
            sheet.write(("".join(pending) + "</sheetData></worksheet>").encode())
    yield sink.take()
