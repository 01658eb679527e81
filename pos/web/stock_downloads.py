"""The stock reports' CSV and XLSX downloads, written while their rows are read: a generator response, the rows
fetched from the database in chunks, so a report of a hundred thousand rows is sent in pieces and never held whole
in memory (the XLSX is built by openpyxl's write-only workbook, which keeps its rows in a temporary file, and sent
from that file)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from functools import partial

from flask import Response, current_app

from ledger.export import _cell
from ledger.stream_export import csv_chunks  # UTF-8 with a BOM, formulas kept out, header first

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_CHUNK = 64 * 1024


def xlsx_chunks(title: str, columns: list[str], rows: Iterable[list]) -> Iterator[bytes]:
    """One worksheet: a bold header, whole numbers shown with thousands separators, control characters (which a
    worksheet cannot hold) as spaces and formulas kept out of text cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "Laporan")
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    def whole(value: int) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "#,##0"
        return cell

    for row in rows:
        cells = []
        for value in map(_cell, row):
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub(" ", value) if ILLEGAL_CHARACTERS_RE.search(value) else value
            elif isinstance(value, int) and not isinstance(value, bool):
                value = whole(value)  # only the whole numbers need a cell of their own (the format)
            cells.append(value)
        sheet.append(cells)
    with tempfile.TemporaryFile() as out:
        book.save(out)
        out.seek(0)
        while chunk := out.read(FILE_CHUNK):
            yield chunk


def streamed(kind: str, title: str, columns: list[str], rows: Callable[[], Iterable[list]],
             filename: str) -> Response:
    """The download response. `rows()` is called only when the server starts sending the body, inside an app
    context of its own (the request's is gone by then): its reads run in a session of their own, in one
    transaction, and a body never read (a client that hangs up) reads nothing. Objects the view loaded may be used
    for their ids and names; `rows` must not need the request."""
    app = current_app._get_current_object()
    write = csv_chunks if kind == "csv" else partial(xlsx_chunks, title)

    def body() -> Iterator[bytes]:
        # Nothing yet: a server (or Werkzeug's test client) takes the first piece before it sends the headers, and
        # a body left unread must not hang suspended inside a pushed app context.
        yield b""
        with app.app_context():
            yield from write(columns, rows())

    return Response(body(), mimetype="text/csv" if kind == "csv" else XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}.{kind}"'})
