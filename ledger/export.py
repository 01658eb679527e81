"""Exports of the journal: Beancount (checked by bean-check) and CSV; tables to CSV and XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from ledger.chart import beancount_name
from ledger.models import Account, JournalEntry
from pos.db import db
from pos.models import BusinessUnit


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _entries(start: dt.date | None, end: dt.date | None) -> Iterable[JournalEntry]:
    query = sa.select(JournalEntry).where(JournalEntry.posted.is_(True))
    if start:
        query = query.where(JournalEntry.date >= start)
    if end:
        query = query.where(JournalEntry.date <= end)
    return db.session.scalars(query.order_by(JournalEntry.date, JournalEntry.id))


def beancount(cooperative: str, start: dt.date | None = None, end: dt.date | None = None) -> str:
    """The journal as a Beancount ledger: IDR declared, every account opened, member and unit as metadata."""
    accounts = db.session.scalars(sa.select(Account).order_by(Account.code)).all()
    names = {a.id: beancount_name(a.code, a.name, a.type) for a in accounts}
    units = {u.id: u.code for u in db.session.scalars(sa.select(BusinessUnit))}
    entries = list(_entries(start, end))
    first = min([e.date for e in entries], default=start or dt.date.today())
    out = [
        f"; {cooperative} — ekspor jurnal Kasir Koperasi",
        f'option "title" {_quote(cooperative)}',
        'option "operating_currency" "IDR"',
        "",
        f"{first.isoformat()} commodity IDR",
        '  name: "Rupiah"',
        "",
    ]
    for account in accounts:
        out.append(f"{first.isoformat()} open {names[account.id]} IDR")
        out.append(f"  code: {_quote(account.code)}")
        if account.unit_id:
            out.append(f"  unit: {_quote(units[account.unit_id])}")
    out.append("")
    for entry in entries:
        out.append(f"{entry.date.isoformat()} * {_quote(entry.description)}")
        out.append(f"  number: {_quote(entry.number)}")
        out.append(f"  source: {_quote(f'{entry.source_type}:{entry.source_id}')}")
        if entry.unit_id:
            out.append(f"  unit: {_quote(units[entry.unit_id])}")
        for posting in entry.postings:
            amount = posting.debit - posting.credit
            out.append(f"  {names[posting.account_id]}  {amount} IDR")
            if posting.member_id:
                out.append(f"    member: {_quote(posting.member.number)}")
            if posting.unit_id:
                out.append(f"    unit: {_quote(units[posting.unit_id])}")
            if posting.memo:
                out.append(f"    memo: {_quote(posting.memo)}")
        out.append("")
    return "\n".join(out)


JOURNAL_COLUMNS = [
    "number",
    "date",
    "description",
    "source_type",
    "source_id",
    "account_code",
    "account_name",
    "debit",
    "credit",
    "unit",
    "member",
    "memo",
    "author",
]


def journal_table(start: dt.date | None = None, end: dt.date | None = None) -> Table:
    units = {u.id: u.code for u in db.session.scalars(sa.select(BusinessUnit))}
    rows = []
    for entry in _entries(start, end):
        for p in entry.postings:
            rows.append(
                [
                    entry.number,
                    entry.date.isoformat(),
                    entry.description,
                    entry.source_type,
                    entry.source_id,
                    p.account.code,
                    p.account.name,
                    p.debit,
                    p.credit,
                    units.get(p.unit_id, ""),
                    p.member.number if p.member_id else "",
                    p.memo,
                    entry.author_name,
                ]
            )
    return Table("Jurnal", JOURNAL_COLUMNS, rows)


def _cell(value) -> object:
    """Keep spreadsheet formulas out: a text cell starting with = + - @ is prefixed with a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel in Indonesia opens it as UTF-8


def to_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = table.title[:31] or "Laporan"
    sheet.append(table.columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    for row in table.rows:
        # A worksheet cannot hold control characters; one stored before the edge refused them shows as a space.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub(" ", v) if isinstance(v, str) else v for v in map(_cell, row)])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, int) and not isinstance(cell.value, bool):
                cell.number_format = "#,##0"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
