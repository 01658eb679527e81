"""`flask --app wsgi stock ...`: locations, the drift check, and the daily move of expired batches to karantina."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from inventory import services, stock
from inventory.setup import ensure_categories, ensure_locations
from pos.db import write_transaction

stock_cli = AppGroup("stock", help="Stock locations, checks and the daily expiry job.")


@stock_cli.command("init")
def init():
    """Create the stock locations of every outlet and the default categories."""
    with write_transaction():
        created = ensure_locations()
        ensure_categories()
    click.echo(f"{len(created)} location(s) created")


@stock_cli.command("check")
def check():
    """Recompute on-hand from the stock moves and report any level that drifted (the full comparison, every move
    summed per level in SQL; the overview page checks a checksum of the same and lists what this finds)."""
    problems = 0
    for p in stock.iter_drift():
        problems += 1
        click.echo(
            f"product {p.product_id} batch {p.batch_id} location {p.location_id}: "
            f"recorded {p.recorded}, moves say {p.from_moves}"
        )
    shelves = stock.shelf_drift()
    for product_id, recorded, from_levels in shelves:
        click.echo(f"product {product_id}: holds {recorded} outside karantina by its summary, {from_levels} by its "
                   "levels (flask stock rebuild-summaries sets it again)")
    if problems or shelves:
        raise click.ClickException(f"{problems} level(s) drifted, {len(shelves)} product summary(ies) differ")
    click.echo("ok: on-hand matches the stock moves, and every product's summary its levels")


@stock_cli.command("rebuild-summaries")
def rebuild_summaries():
    """Set every product's stock held outside karantina again from its stock levels."""
    with write_transaction():
        stock.rebuild_summaries()
    click.echo("ok: product summaries rebuilt from the stock levels")


@stock_cli.command("quarantine-expired")
@click.option("--date", "on", default=None, help="the day to judge expiry by, YYYY-MM-DD (default: today)")
def quarantine_expired(on):
    """Move expired batches out of gudang, toko and apotek into karantina (run daily, e.g. from cron)."""
    try:
        today = dt.date.fromisoformat(on) if on else dt.date.today()
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--date") from None
    with write_transaction():
        moved = services.quarantine_expired(today)
    click.echo(f"{moved} batch level(s) moved to karantina")


@stock_cli.command("import-catalog")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", "username", required=True, help="who imports (audited as the author of the changes)")
def import_catalog(path, username):
    """Import a catalog CSV/XLSX (the columns of the export) as the web does: checked whole first, then written in
    short chunks, each its own transaction, so tills on the same database keep selling; a progress line."""
    import sqlalchemy as sa

    from inventory import catalog_io
    from pos.db import db
    from pos.errors import PosError
    from pos.models import User

    user = db.session.scalar(sa.select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        raise click.BadParameter(f"no active user {username!r}", param_hint="--user")
    try:
        job = catalog_io.import_file(path, user, progress=lambda j: click.echo(
            f"\r{j.done:,}/{j.total:,} rows", nl=False))
    except PosError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo()
    if job.state != "done":
        raise click.ClickException(f"import {job.state}: {job.error or job.result}")
    click.echo(f"ok: {job.total:,} rows imported (job {job.id})")
