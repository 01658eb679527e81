"""The print queue with a real network printer on 127.0.0.1:9100-style TCP: a job survives the printer being
off, waits visibly, prints exactly once when it comes back; long outages hold jobs for the cashier; reprints
are marked copies; the demo prints into the folder and its receipt barcode scans back."""

import datetime as dt
import shutil
import socket
import subprocess
import threading
import uuid

import pytest
import sqlalchemy as sa

from pos import printing
from pos.db import db, utcnow, write_transaction
from pos.models import PrintJob, Till
from pos.receipt_documents import printer_test_document


class FakePrinter:
    """A network receipt printer: accepts connections on 127.0.0.1 and records every byte it gets."""

    def __init__(self, port: int = 0):
        self.received = bytearray()
        self.jobs = 0
        self.server = socket.create_server(("127.0.0.1", port))
        self.port = self.server.getsockname()[1]
        self.server.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1.0)
                got = bytearray()
                while True:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    got += chunk
                if got:
                    self.received += got
                    self.jobs += 1

    def stop(self):
        self.running = False
        self.server.close()
        self.thread.join(timeout=5)


def queue_test_page(app, printer: str, source_id: str | None = None) -> int:
    with app.app_context():
        with write_transaction():
            till = db.session.scalar(sa.select(Till).where(Till.code == "TK01"))
            till.printer = printer
            job = printing.print_document(
                printer_test_document(printer, "TM-T20II"),
                kind="test",
                source_type="test_page",
                source_id=source_id or uuid.uuid4().hex,
                till=till,
            )
            return job.id


def job(app, job_id):
    with app.app_context():
        found = db.session.get(PrintJob, job_id)
        db.session.expunge(found)
        return found


def test_a_printer_that_is_off_costs_nothing_and_prints_once_when_back(demo_app):
    printer = FakePrinter()
    port = printer.port
    printer.stop()  # the printer is switched off
    spec = f"network:127.0.0.1:{port}"
    job_id = queue_test_page(demo_app, spec)
    with demo_app.app_context():
        assert printing.process_due(spec) == 0
    waiting = job(demo_app, job_id)
    assert waiting.status == "queued" and waiting.attempts == 1 and waiting.last_error
    assert waiting.next_attempt_at > utcnow()  # backing off, not hammering
    printer = FakePrinter(port)  # switched on again
    try:
        with demo_app.app_context():
            assert printing.process_due(spec, now=utcnow() + dt.timedelta(minutes=1)) == 1
            assert printing.process_due(spec, now=utcnow() + dt.timedelta(minutes=5)) == 0  # never twice
        deadline = threading.Event()
        deadline.wait(1.5)
        assert printer.jobs == 1 and printer.received == job(demo_app, job_id).data
        assert job(demo_app, job_id).status == "done"
    finally:
        printer.stop()


def test_after_a_long_outage_old_jobs_wait_for_the_cashier(demo_app):
    printer = FakePrinter()
    port = printer.port
    printer.stop()
    spec = f"network:127.0.0.1:{port}"
    job_id = queue_test_page(demo_app, spec)
    with demo_app.app_context():
        with write_transaction():
            db.session.get(PrintJob, job_id).created_at = utcnow() - dt.timedelta(minutes=30)
        printing.process_due(spec)
    assert job(demo_app, job_id).status == "held"
    printer = FakePrinter(port)
    try:
        with demo_app.app_context():
            assert printing.process_due(spec, now=utcnow() + dt.timedelta(hours=1)) == 0  # not flooded out
            from pos.models import User

            printing.release(job_id, db.session.scalar(sa.select(User).where(User.username == "kasir")))
            assert printing.process_due(spec) == 1
        assert job(demo_app, job_id).status == "done"
    finally:
        printer.stop()


def test_reprints_are_copies_marked_salinan(demo_app, tmp_path):
    spec = f"folder:{tmp_path}/out"
    job_id = queue_test_page(demo_app, spec, "doc-1")
    with demo_app.app_context():
        from pos.models import User

        kasir = db.session.scalar(sa.select(User).where(User.username == "kasir"))
        printing.process_due(spec)
        with write_transaction():
            again = printing.print_document(
                printer_test_document(spec, "TM-T20II"), kind="test", source_type="test_page", source_id="doc-1"
            )
        assert again.id == job_id  # the same document is queued once, however often it is asked for
        copy = printing.reprint(job_id, kasir, printing.rerender)
        assert copy.copy == 1
        printing.process_due(spec)
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == [
        "test_page-doc-1-0.bin",
        "test_page-doc-1-0.html",
        "test_page-doc-1-1.bin",
        "test_page-doc-1-1.html",
    ]


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg (zbar-tools) is not installed")
def test_the_demo_prints_a_test_page_and_a_receipt_whose_barcode_scans(demo_app):
    import base64
    import re

    with demo_app.app_context():
        from pos.demo import print_demo_receipts

        folder = print_demo_receipts()
    from pathlib import Path

    names = sorted(p.name for p in Path(folder).iterdir())
    assert names == [
        "sale-demo-receipt-0.bin",
        "sale-demo-receipt-0.html",
        "test_page-demo-0.bin",
        "test_page-demo-0.html",
    ]
    html = (Path(folder) / "sale-demo-receipt-0.html").read_text()
    image = base64.b64decode(re.search(r'data:image/png;base64,([^"]+)"', html).group(1))
    png = Path(folder) / "barcode.png"
    png.write_bytes(image)
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, timeout=30)
    assert decoded.stdout.strip() == "TK01-DEMO-000001"
    assert (Path(folder) / "sale-demo-receipt-0.bin").read_bytes().startswith(b"\x1b@")
