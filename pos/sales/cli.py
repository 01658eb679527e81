"""Command line of the sales context: `flask --app wsgi sales check` (the "nothing lost" check) and `sales shifts`
(shifts still open, for a morning check)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

sales_cli = AppGroup("sales", help="Sales, shifts and their checks.")


@sales_cli.command("check")
def check():
    """Every completed sale booked once and balanced, its stock moved, its payments adding up; numbers unique."""
    from inventory import stock
    from pos.sales.checks import check_sales

    problems = check_sales() + [f"stock level of product {d.product_id} drifted" for d in stock.check_drift()]
    for problem in problems:
        click.echo(problem)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s)")
    click.echo("ok: every sale is booked once, its stock moved and its payments add up")


@sales_cli.command("shifts")
def shifts():
    """Shifts still open, oldest first; those from an earlier day are marked."""
    import sqlalchemy as sa

    from pos.db import db
    from pos.sales.models import Shift
    from pos.sales.services import overnight_shifts

    overnight = {s.id for s in overnight_shifts()}
    for shift in db.session.scalars(sa.select(Shift).where(Shift.status == "open").order_by(Shift.opened_at)):
        mark = "  (open since an earlier day)" if shift.id in overnight else ""
        click.echo(f"{shift.number}  {shift.opened_by}  {shift.opened_at:%Y-%m-%d %H:%M} UTC{mark}")
