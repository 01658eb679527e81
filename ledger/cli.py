"""`flask --app wsgi ledger ...`: chart of accounts, exports, period closing, a consistency check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ledger import accounts, export, journal, reports
from pos.db import db, write_transaction
from pos.errors import PosError

ledger_cli = AppGroup("ledger", help="The cooperative's books.")


def _date(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=name) from None


@ledger_cli.command("init")
def init():
    """Create the chart of accounts for the business units, outlets and tills in the database."""
    with write_transaction():
        created = accounts.seed_chart()
    click.echo(f"{len(created)} account(s) created" if created else "chart of accounts complete")


@ledger_cli.command("export-beancount")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--from", "start", help="first date, YYYY-MM-DD")
@click.option("--to", "end", help="last date, YYYY-MM-DD")
def export_beancount(file, start, end):
    """Write the journal as a Beancount file (check it with bean-check)."""
    text = export.beancount(current_app.config["KASIR"]["cooperative_name"], _date(start, "--from"), _date(end, "--to"))
    Path(file).write_text(text, encoding="utf-8")
    click.echo(f"wrote {file}")


@ledger_cli.command("export-csv")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--from", "start", help="first date, YYYY-MM-DD")
@click.option("--to", "end", help="last date, YYYY-MM-DD")
def export_csv(file, start, end):
    """Write every posting of the journal as CSV (one row per posting)."""
    Path(file).write_bytes(export.to_csv(export.journal_table(_date(start, "--from"), _date(end, "--to"))))
    click.echo(f"wrote {file}")


@ledger_cli.command("close-month")
@click.argument("month")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def close_month(month, yes):
    """Close MONTH (YYYY-MM): no entry can be dated inside it any more. Months close in order, once ended;
    December closes with its year (close-year)."""
    from ledger.members import parse_period

    try:
        year, number = parse_period(month)
    except PosError as exc:
        raise click.ClickException(str(exc)) from None
    if not yes:
        click.confirm(f"Close {year}-{number:02d}? No entry can be dated in it afterwards; this cannot be undone.",
                      abort=True)
    try:
        with write_transaction():
            journal.close_month(year, number, "cli")
    except PosError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"closed {year}-{number:02d}")


@ledger_cli.command("close-year")
@click.argument("year", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def close_year(year, yes):
    """Post the year's closing entry into SHU tahun berjalan and close its months (an ended year, in order)."""
    if not yes:
        from pos.money import format_rupiah

        with db.session.no_autoflush:
            months = journal.open_months_to_close(year) if 2000 <= year <= 2100 else []
        surplus = reports.income_statement(reports.Scope(dt.date(year, 1, 1), dt.date(year, 12, 31))).surplus \
            if months else 0
        click.confirm(f"Close {year}: {len(months)} open month(s) will be locked and a closing entry posts the "
                      f"year's result of {format_rupiah(surplus)} into SHU tahun berjalan. This cannot be undone. "
                      "Go on?",
                      abort=True)
    try:
        with write_transaction():
            entry = journal.close_year(year, None, closed_by="cli")
    except PosError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"closed {year}" + (f" with {entry.number}" if entry else ""))


@ledger_cli.command("rebuild-balances")
def rebuild_balances():
    """Recompute the day balances the reports read (table account_day) from the postings: after `ledger check`
    found them different, or after postings were loaded around the application."""
    from ledger import balances

    with write_transaction():
        rows = balances.rebuild()
    click.echo(f"{rows} day balance(s) rebuilt from the postings")


@ledger_cli.command("check")
def check():
    """Recompute the books' invariants: entries posted, balanced, numbered without gaps and unchanged (hash chain),
    dated inside the books and outside closed periods, closed years closed by their closing entry, the day
    balances equal to the postings."""
    from ledger.checks import check_books

    problems, tb = check_books()
    for problem in problems:
        click.echo(problem)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s)")
    click.echo(f"ok: {len(tb.rows)} accounts, debit = credit = {tb.total_debit}")
