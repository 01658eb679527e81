"""`flask --app wsgi printer test [TILL]`: print a test page through a till's printer, now."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from pos import printing
from pos.db import db, write_transaction
from pos.models import PrintJob, Till
from pos.receipt_documents import printer_test_document

printer_cli = AppGroup("printer", help="Receipt printers and the print queue.")


@printer_cli.command("test")
@click.argument("till_code", required=False)
def test(till_code):
    """Queue a test page for TILL's printer (default: the save-to-folder printer) and print it at once."""
    till = None
    if till_code:
        till = db.session.scalar(sa.select(Till).where(Till.code == till_code.upper()))
        if till is None:
            raise click.ClickException(f"no till {till_code!r}")
    printer = printing.printer_of(till)
    with write_transaction():
        import uuid

        job = printing.print_document(printer_test_document(printer, till.printer_profile if till else "TM-T20II"),
                                      kind="test", source_type="test_page", source_id=uuid.uuid4().hex, till=till)
        job_id = job.id
    printing.process_due(printer)
    job = db.session.get(PrintJob, job_id)
    if job.status != "done":
        raise click.ClickException(f"not printed yet ({job.status}): {job.last_error}; the job stays in the queue")
    click.echo(f"printed a test page on {printer}")


@printer_cli.command("queue")
def queue():
    """List jobs that are not printed yet."""
    for job in db.session.scalars(sa.select(PrintJob).where(PrintJob.status != "done").order_by(PrintJob.id)):
        click.echo(f"{job.id:6} {job.status:8} {job.kind:8} {job.source_type}:{job.source_id} copy {job.copy} "
                   f"attempts {job.attempts} {job.printer} {job.last_error}")
