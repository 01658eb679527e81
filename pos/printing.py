"""The print queue: jobs stored before printing, one worker per printer, retries with backoff, held jobs after a
long outage (released by the cashier, never flooded out), reprints as marked copies. Printing happens after the
sale's commit and never undoes it."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app

from pos import audit
from pos.db import db, is_lock_error, utcnow, write_transaction
from pos.errors import N_, Conflict, NotFound
from pos.models import PrintJob, Till, User

MAX_BACKOFF_SECONDS = 60
HOLD_AFTER = dt.timedelta(minutes=10)  # older than this when the printer comes back: wait for the cashier

# What the devices page says after "check the printer", by the printer's answer (drivers.connectors.PrinterStatus).
# Not reached and "offline" read the same, and for a network printer so does "no status answer": how the
# connection failed (refused, timed out, unreachable, something else on the port) is never shown, only logged.
STATUS_MESSAGES = {
    "online": N_("The printer of %(till)s is ready."),
    "paper_out": N_("The printer of %(till)s is out of paper."),
    "offline": N_("The printer of %(till)s cannot be reached or is not ready: check that it is on, connected, "
                  "with its cover closed."),
    "unknown": N_("The printer of %(till)s does not report its state: print a test page to check it."),
}
# What the print queue stores as a job's last error: msgids (shown translated by the job_error filter); the
# driver's detail goes to the log.
JOB_UNREACHABLE = N_("The printer cannot be reached.")
JOB_REFUSED = N_("The printer did not take the job.")
JOB_BAD_PRINTER = N_("The printer connection is not valid.")
JOB_CANNOT_RENDER = N_("This document cannot be printed; it is kept here.")
JOB_WAITED = N_("Waited too long: it prints when you say so.")
JOB_DISCARDED = N_("Discarded: not printed.")


def status_message(kind: str, status: str) -> str:
    """The msgid (with %(till)s) that answers a status request of a `kind` printer."""
    if kind == "network" and status == "unknown":
        status = "offline"  # connected to something that does not answer as a printer: told as not reached
    return STATUS_MESSAGES.get(str(status), STATUS_MESSAGES["offline"])


def job_error(exc: BaseException) -> str:
    """The neutral, translatable last error of a job the printer did not print."""
    from drivers.errors import PrinterOffline

    if isinstance(exc, PrinterOffline | OSError):
        return JOB_UNREACHABLE
    if getattr(exc, "message", None) == N_("The printer connection is not valid: %(reason)s"):
        return JOB_BAD_PRINTER
    return JOB_REFUSED


def folder_printer(app: Flask) -> str:
    return "folder:" + str(Path(app.instance_path) / "printer-out")


def printer_of(till: Till | None) -> str:
    return (till.printer if till is not None and till.printer else "") or folder_printer(current_app)


def enqueue(
    *,
    printer: str,
    profile: str,
    kind: str,
    source_type: str,
    source_id: str,
    data: bytes,
    html: str,
    document: dict | None = None,
    till: Till | None = None,
    copy: int = 0,
    user: User | None = None,
    fresh: bool = False,
) -> PrintJob:
    """Store a job (in the caller's transaction). The same document and copy number is stored once (`fresh`: the
    caller knows it is the first, e.g. a sale numbered in this transaction, and the check is left to the unique
    constraint)."""
    existing = None if fresh else db.session.scalar(
        sa.select(PrintJob).where(
            PrintJob.source_type == source_type, PrintJob.source_id == source_id, PrintJob.copy == copy
        )
    )
    if existing is not None:
        return existing
    job = PrintJob(
        till_id=till.id if till else None,
        printer=printer,
        profile=profile,
        kind=kind,
        source_type=source_type,
        source_id=str(source_id)[:80],
        copy=copy,
        document=document,
        data=data,
        html=html,
        status="queued",
        created_by=user.username if user else "",
    )
    db.session.add(job)
    if not fresh:
        db.session.flush()
    return job


def follow_printer_change(till: Till, new_printer: str) -> int:
    """A till's printer changed: its unprinted jobs go to the new one (in the caller's transaction)."""
    jobs = db.session.scalars(sa.select(PrintJob).where(
        PrintJob.till_id == till.id, PrintJob.status.in_(("queued", "held")))).all()
    for job in jobs:
        job.printer, job.attempts, job.next_attempt_at = new_printer, 0, utcnow()
    return len(jobs)


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def rendered(job: PrintJob) -> tuple[bytes, str]:
    """The job's bytes and HTML: as stored, or rendered now from its document (a sale stores only the document in
    its transaction; the worker renders it, outside the write lock). ValueError when the document cannot be."""
    if job.data or not job.document:
        return job.data, job.html
    return rerender(job.document, job.profile, job.copy > 0)


def send(job: PrintJob, data: bytes | None = None, html: str | None = None) -> None:
    """Hand the bytes to the printer; raises drivers.errors.DeviceError when it cannot (a bad connection string is a
    DeviceError too: the job waits, visibly, until the devices page fixes it)."""
    from drivers import connectors
    from drivers.errors import PrinterError

    if data is None:
        data, html = rendered(job)
    try:
        conn = connectors.parse(job.printer)
    except ValueError as exc:
        raise PrinterError(N_("The printer connection is not valid: %(reason)s"), reason=str(exc)[:120]) from None
    port = connectors.open_printer(conn)
    try:
        job_id = "".join(
            ch if ch.isalnum() or ch in "-_" else "_" for ch in f"{job.source_type}-{job.source_id}-{job.copy}"
        )
        port.send(job_id, data, html or None)
    finally:
        port.close()


def process_due(printer: str, now: dt.datetime | None = None, limit: int = 20) -> int:
    """Print the due jobs of one printer, oldest first; returns how many printed. A failure re-queues the job
    with a growing delay; a job older than HOLD_AFTER when it fails is held for the cashier."""
    from drivers.connectors import DeviceError

    printed = 0
    for _ in range(limit):
        now = now or utcnow()
        with write_transaction():
            job = db.session.scalar(
                sa.select(PrintJob)
                .where(PrintJob.printer == printer, PrintJob.status == "queued", PrintJob.next_attempt_at <= now)
                .order_by(PrintJob.id)
                .limit(1)
            )
            if job is None:
                return printed
            if utcnow() - job.created_at > HOLD_AFTER and job.kind != "drawer":
                # Printed long after it was asked for (the server was down overnight, the printer was off):
                # the customer has gone; the cashier decides on the till page.
                job.status, job.last_error = "held", job.last_error or JOB_WAITED
                continue
            job.status = "printing"
            job_id = job.id
        job = db.session.get(PrintJob, job_id)
        try:
            data, html = rendered(job)
        except ValueError as exc:  # a document the receipt model refuses: kept, held, the reason logged
            current_app.logger.error("cannot render print job %s: %s", job_id, exc)
            with write_transaction():
                job = db.session.get(PrintJob, job_id)
                job.status, job.last_error = "held", JOB_CANNOT_RENDER
            continue
        try:
            send(job, data, html)
        except (DeviceError, OSError) as exc:
            current_app.logger.info("print job %s on %s: %s", job_id, printer, exc)
            with write_transaction():
                job = db.session.get(PrintJob, job_id)
                job.attempts += 1
                job.last_error = job_error(exc)
                job.next_attempt_at = utcnow() + backoff(job.attempts)
                job.status = "held" if utcnow() - job.created_at > HOLD_AFTER else "queued"
            return printed
        with write_transaction():
            job = db.session.get(PrintJob, job_id)
            job.status, job.printed_at, job.attempts = "done", utcnow(), job.attempts + 1
            if not job.data:
                job.data, job.html = data, html  # kept for the receipt preview and a reprint
        printed += 1
        now = None
    return printed


def recover_interrupted() -> int:
    """Jobs left 'printing' by a crash go back to the queue (the printer may print them again: better twice
    than never; the receipt number shows it is the same sale)."""
    with write_transaction():
        jobs = db.session.scalars(sa.select(PrintJob).where(PrintJob.status == "printing")).all()
        for job in jobs:
            job.status = "queued"
    return len(jobs)


def release(job_id: int, user: User) -> PrintJob:
    """The cashier says yes: a held job goes back to the queue now."""
    with write_transaction():
        job = db.session.get(PrintJob, job_id)
        if job is None:
            raise NotFound(N_("No such print job."))
        if job.status != "held":
            raise Conflict(N_("Only a held print job can be released."))
        audit.record("print.released", actor=user, target_type="print_job", target_id=job.id,
                     before={"created_at": job.created_at.isoformat()})
        # The cashier's yes is a fresh request: it is not held again for its age.
        job.status, job.next_attempt_at, job.created_at = "queued", utcnow(), utcnow()
    return job


def discard(job_id: int, user: User) -> None:
    """A held job the cashier does not want any more (the customer has gone) is closed without printing."""
    with write_transaction():
        job = db.session.get(PrintJob, job_id)
        if job is None or job.status != "held":
            raise Conflict(N_("Only a held print job can be discarded."))
        job.status = "done"
        job.last_error = JOB_DISCARDED  # who: in the audit entry
        audit.record("print.discarded", actor=user, target_type="print_job", target_id=job.id)


def reprint(job_id: int, user: User, renderer) -> PrintJob:
    """A copy of an earlier job, re-rendered from its document with the SALINAN mark."""
    with write_transaction():
        original = db.session.get(PrintJob, job_id)
        if original is None or original.document is None:
            raise NotFound(N_("No such print job."))
        copy = (
            db.session.scalar(
                sa.select(sa.func.max(PrintJob.copy)).where(
                    PrintJob.source_type == original.source_type, PrintJob.source_id == original.source_id
                )
            )
            or 0
        ) + 1
        data, html = renderer(original.document, original.profile, True)
        job = enqueue(
            printer=original.printer,
            profile=original.profile,
            kind=original.kind,
            source_type=original.source_type,
            source_id=original.source_id,
            data=data,
            html=html,
            document=original.document,
            till=original.till,
            copy=copy,
            user=user,
        )
        audit.record(
            "print.reprinted", actor=user, target_type="print_job", target_id=original.id, after={"copy": copy}
        )
    return job


@dataclass
class PrintWorker:
    """One thread per printer: prints due jobs, sleeps a second or until woken by a new job."""

    app: Flask
    printer: str
    wake: threading.Event
    stop: threading.Event
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name=f"print:{self.printer}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        busy = 0  # rounds in a row that found the write lock taken (a long back-office chunk, another process)
        while not self.stop.is_set():
            try:
                with self.app.app_context():
                    try:
                        process_due(self.printer)
                    finally:
                        db.session.remove()
                busy = 0
            except sa.exc.OperationalError as exc:
                if not is_lock_error(exc):
                    self.app.logger.exception("print worker %s", self.printer)
                else:  # someone else is writing: wait a little longer each time, quietly, and try again
                    busy += 1
                    self.app.logger.debug("print worker %s: database busy, retrying", self.printer)
            except Exception:  # a worker must outlive any one bad job or database hiccup
                self.app.logger.exception("print worker %s", self.printer)
            self.wake.wait(min(1.0 + busy, 10.0) if busy else 1.0)
            self.wake.clear()


class PrintWorkers:
    """The workers of this server process, started once (from the first request), one per printer in use."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.stop = threading.Event()
        self.workers: dict[str, PrintWorker] = {}
        self.lock = threading.Lock()

    def ensure(self, printer: str) -> PrintWorker:
        with self.lock:
            worker = self.workers.get(printer)
            if worker is None:
                worker = PrintWorker(self.app, printer, threading.Event(), self.stop)
                worker.start()
                self.workers[printer] = worker
            return worker

    def wake(self, printer: str) -> None:
        self.ensure(printer).wake.set()

    def shutdown(self) -> None:
        self.stop.set()
        for worker in self.workers.values():
            worker.wake.set()
            if worker.thread is not None:
                worker.thread.join(timeout=5)


def print_document(
    document: dict, *, kind: str, source_type: str, source_id: str, till: Till | None = None, user: User | None = None,
    printed_at: dt.datetime | None = None, render_later: bool = False,
) -> PrintJob:
    """Render and queue a document for the till's printer (in the caller's transaction, so the job is as
    durable as what it prints). Wake the worker with `notify` after the commit. With `render_later` only the
    document is stored and the worker renders it (a sale keeps the write lock short). With `printed_at` the
    document is only kept, as printed then (a sale recorded after the fact: nobody waits at the till)."""
    from pos.receipt_documents import render

    profile = till.printer_profile if till is not None else "TM-T20II"
    if printed_at is not None or render_later:
        job = enqueue(printer=printer_of(till), profile=profile, kind=kind, source_type=source_type,
                      source_id=source_id, data=b"", html="", document=document, till=till, user=user,
                      fresh=render_later)
        if printed_at is not None:
            job.status, job.printed_at = "done", printed_at
        return job
    try:
        data, html = render(document, profile)
    except ValueError as exc:
        # A document the receipt model refuses must never roll back what it prints (a sale, a slip): the job
        # is kept, held, with the reason, for the devices page.
        current_app.logger.error("cannot render %s %s: %s", source_type, source_id, exc)
        data, html = b"", ""
        job = enqueue(printer=printer_of(till), profile=profile, kind=kind, source_type=source_type,
                      source_id=source_id, data=data, html=html, document=document, till=till, user=user)
        job.status, job.last_error = "held", JOB_CANNOT_RENDER
        return job
    return enqueue(
        printer=printer_of(till),
        profile=profile,
        kind=kind,
        source_type=source_type,
        source_id=source_id,
        data=data,
        html=html,
        document=document,
        till=till,
        user=user,
    )


def notify(printer: str) -> None:
    """Wake the printer's worker if this process runs workers (the server does; commands and tests do not)."""
    workers = current_app.extensions.get("kasir_print_workers")
    if workers is not None:
        workers.wake(printer)


def rerender(document: dict, profile: str, copy: bool) -> tuple[bytes, str]:
    from pos.receipt_documents import render

    return render(document, profile, copy)
