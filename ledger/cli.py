"""`flask --app wsgi ledger ...`: chart of accounts, exports, period closing, a consistency check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from ledger import accounts, export, journal, reports
from ledger.models import JournalEntry, Posting
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
def close_month(month):
    """Close MONTH (YYYY-MM): no entry can be dated inside it any more."""
    from ledger.members import parse_period

    try:
        year, number = parse_period(month)
        with write_transaction():
            journal.close_month(year, number, "cli")
    except PosError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"closed {year}-{number:02d}")


@ledger_cli.command("close-year")
@click.argument("year", type=int)
def close_year(year):
    """Post the year's closing entry into SHU tahun berjalan and close all its months."""
    try:
        with write_transaction():
            entry = journal.close_year(year, None, closed_by="cli")
    except PosError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"closed {year}" + (f" with {entry.number}" if entry else ""))


@ledger_cli.command("check")
def check():
    """Recompute the books' invariants: every entry balanced and posted, the trial balance at zero."""
    problems = []
    unbalanced = (
        db.session.execute(
            sa.select(JournalEntry.number)
            .join(Posting)
            .group_by(JournalEntry.id, JournalEntry.number)
            .having(sa.func.sum(Posting.debit) != sa.func.sum(Posting.credit))
        )
        .scalars()
        .all()
    )
    problems += [f"unbalanced entry {n}" for n in unbalanced]
    drafts = db.session.scalars(sa.select(JournalEntry.number).where(JournalEntry.posted.is_(False))).all()
    problems += [f"entry {n} was never posted" for n in drafts]
    tb = reports.trial_balance(reports.Scope(dt.date(1900, 1, 1), dt.date(2999, 12, 31)))
    if not tb.balanced:
        problems.append(f"trial balance off: debit {tb.closing_debit}, credit {tb.closing_credit}")
    for problem in problems:
        click.echo(problem)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s)")
    click.echo(f"ok: {len(tb.rows)} accounts, debit = credit = {tb.total_debit}")
