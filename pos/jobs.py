"""Background jobs: long back-office work (a catalog import) run in short chunks, so the till never waits long.

A job is a row of the `job` table (pos.models.Job): its kind, its parameters, where it has got to (`cursor`), its
progress (`done` of `total`), its outcome (`result`, `error`) and a heartbeat. Each kind registers one function
that does ONE chunk of the work: it opens its own `write_transaction()`, does a bounded piece of work (well under
the 500 ms write budget), and stores its progress with `run.save(step)` as the last statement of that transaction,
so the work and the cursor commit together or not at all. A chunk that needs no write may just return its Step.

One runner thread per server process (`init_app` starts it with the first request) claims a job with a
conditional UPDATE, runs its chunks one after another with a short pause between them (a sale waiting for the
write lock gets it then), backs off quietly when the lock is busy, and marks the job failed, with a translated
message, when a chunk fails: what earlier chunks did stays committed, so a kind must make a partly done job safe
(and a repeated chunk harmless). The heartbeat, renewed by every chunk, is the runner's claim: a second server
process leaves a job with a fresh heartbeat alone, and takes over one whose heartbeat went stale (its runner died),
resuming from the cursor. Tests run jobs in their own thread with `run_pending()`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask

from pos.db import db, is_lock_error, utcnow, write_transaction
from pos.errors import N_, Busy, PosError
from pos.models import Job

log = logging.getLogger("kasir.jobs")

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
ACTIVE_STATES = (QUEUED, RUNNING)
PAUSE_SECONDS = 0.01  # between two chunks: writers waiting for the lock (a sale) take it then
POLL_SECONDS = 2.0  # how often an idle runner looks for work (an enqueue in this process wakes it at once)
STALE_SECONDS = 60.0  # a running job whose heartbeat is older than this lost its runner; another may take it
BACKOFF_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0)  # after lock errors, one after another
UNEXPECTED = N_("The job stopped on an unexpected error; what it did before that is kept.")
LOST = N_("The job was stopped: it is no longer known to the server.")


class LeaseLost(Exception):
    """Another runner holds the job now (or it was cancelled): this runner lets it go."""


class JobFailed(PosError):
    """A chunk's refusal that ends the job: its message and params are shown on the job page; `details` (a dict
    of JSON values) is added to the job's result, e.g. the rows that were refused."""

    def __init__(self, message: str, details: dict | None = None, **params: object) -> None:
        super().__init__(message, **params)
        self.details = details or {}


@dataclass
class Step:
    """What a chunk did: the new cursor and progress; `result` replaces the job's result when given."""

    cursor: str
    done: int
    total: int | None = None
    result: dict | None = None
    finished: bool = False


@dataclass(frozen=True)
class Kind:
    name: str
    chunk: Callable[[Run], Step]
    label: str  # msgid: what the job does, shown on the job page ("Catalog import")
    permission: str  # who may see jobs of this kind
    on_failure: Callable[[Run], None] | None = None  # clean-up after a failure (its own transaction if it writes)
    summary: Callable[[dict], list[tuple[str, str, int]]] | None = None  # the result as (key, msgid, number)


KINDS: dict[str, Kind] = {}


def register(name: str, *, label: str, permission: str, on_failure: Callable[[Run], None] | None = None,
             summary: Callable[[dict], list[tuple[str, str, int]]] | None = None
             ) -> Callable[[Callable[[Run], Step]], Callable]:
    """Register `chunk(run) -> Step` as the kind `name`."""

    def mark(chunk: Callable[[Run], Step]) -> Callable[[Run], Step]:
        KINDS[name] = Kind(name, chunk, label, permission, on_failure, summary)
        return chunk

    return mark


@dataclass
class Run:
    """A claimed job as its chunk function sees it: plain values, read when the job was claimed or last saved."""

    id: int
    kind: str
    params: dict
    cursor: str
    done: int
    total: int
    result: dict
    created_by: str
    lease: dt.datetime  # the heartbeat this runner last wrote: the claim, checked by every update
    _pending: dict | None = field(default=None, repr=False)

    def save(self, step: Step) -> None:
        """Store the step's progress in the current write transaction (its last statement): the chunk's work and
        the cursor commit together. Raises LeaseLost when another runner holds the job now."""
        now = _fresh(self.lease)
        values: dict[str, Any] = {"cursor": step.cursor[:200], "done": int(step.done), "heartbeat_at": now}
        if step.total is not None:
            values["total"] = int(step.total)
        if step.result is not None:
            values["result"] = step.result
        if step.finished:
            values.update(state=DONE, finished_at=now)
        self._claimed_update(values)
        self._pending = values

    def beat(self, done: int | None = None, result: dict | None = None) -> None:
        """Renew the claim during long work that writes nothing (a check of the whole file), in a write transaction
        of its own; optionally store progress with it. Call it between two pieces of work: any read transaction
        open in the session is ended first."""
        values: dict[str, Any] = {"heartbeat_at": _fresh(self.lease)}
        if done is not None:
            values["done"] = int(done)
        if result is not None:
            values["result"] = result
        with write_transaction():
            self._claimed_update(values)
        self._adopt(values)

    def holds(self) -> bool:
        """Whether the job is still this runner's (a read: no lock)."""
        table = Job.__table__
        held = db.session.scalar(sa.select(table.c.id).where(
            table.c.id == self.id, table.c.state == RUNNING, table.c.heartbeat_at == self.lease)) is not None
        db.session.rollback()
        return held

    def _claimed_update(self, values: dict) -> None:
        table = Job.__table__
        changed = db.session.execute(
            sa.update(table).where(table.c.id == self.id, table.c.state == RUNNING,
                                   table.c.heartbeat_at == self.lease).values(**values)).rowcount
        if changed != 1:
            raise LeaseLost(self.id)

    def _adopt(self, values: dict) -> None:
        self.lease = values.get("heartbeat_at", self.lease)
        self.cursor = values.get("cursor", self.cursor)
        self.done = values.get("done", self.done)
        self.total = values.get("total", self.total)
        self.result = values.get("result", self.result)

    def committed(self) -> None:
        """The chunk's transaction committed: what `save` stored is now the job's state."""
        if self._pending is not None:
            self._adopt(self._pending)
            self._pending = None


def _fresh(previous: dt.datetime | None) -> dt.datetime:
    """Now, never equal to the previous heartbeat (the claim is compared by equality)."""
    now = utcnow()
    if previous is not None and now <= previous:
        now = previous + dt.timedelta(microseconds=1)
    return now


# --- creating jobs and reading them ------------------------------------------------------------------------------


def enqueue(kind: str, *, params: dict, title: str = "", total: int = 0, created_by: str = "") -> Job:
    """A new queued job (inside the caller's write transaction); the runner of this process is woken up."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, state=QUEUED, title=title[:200], params=params, cursor="", total=total, done=0, result={},
              error="", created_by=created_by[:40])
    db.session.add(job)
    db.session.flush()
    _WAKE.set()
    return job


def progress(job: Job) -> dict:
    """The job's state for its page and the JSON endpoint (plain values)."""
    percent = 100 if job.state == DONE else int(100 * job.done / job.total) if job.total else 0
    return {"id": job.id, "kind": job.kind, "state": job.state, "done": job.done, "total": job.total,
            "percent": max(0, min(percent, 100)), "finished": job.state not in ACTIVE_STATES}


# --- claiming and running ------------------------------------------------------------------------------------


def _candidates(stale_before: dt.datetime, job_id: int | None) -> sa.Select:
    table = Job.__table__
    query = sa.select(table.c.id).where(
        table.c.kind.in_(sorted(KINDS)),
        sa.or_(table.c.state == QUEUED,
               sa.and_(table.c.state == RUNNING,
                       sa.or_(table.c.heartbeat_at.is_(None), table.c.heartbeat_at < stale_before))),
    )
    if job_id is not None:
        query = query.where(table.c.id == job_id)
    return query.order_by(table.c.id).limit(1)


def claim_next(stale_seconds: float = STALE_SECONDS, job_id: int | None = None) -> Run | None:
    """Take the oldest queued job (or the job `job_id`), or a running one whose runner stopped beating: a
    conditional UPDATE, so of two server processes only one gets it. None when there is nothing to do (found by a
    read, without the lock)."""
    stale_before = utcnow() - dt.timedelta(seconds=stale_seconds)
    if db.session.scalar(_candidates(stale_before, job_id)) is None:
        db.session.rollback()
        return None
    table = Job.__table__
    with write_transaction():
        job_id = db.session.scalar(_candidates(stale_before, job_id))
        if job_id is None:
            return None
        now = _fresh(None)
        claimed = db.session.execute(
            sa.update(table).where(
                table.c.id == job_id,
                sa.or_(table.c.state == QUEUED,
                       sa.and_(table.c.state == RUNNING,
                               sa.or_(table.c.heartbeat_at.is_(None), table.c.heartbeat_at < stale_before))))
            .values(state=RUNNING, heartbeat_at=now,
                    started_at=sa.func.coalesce(table.c.started_at, now))).rowcount
        if claimed != 1:
            return None
        row = db.session.execute(sa.select(table).where(table.c.id == job_id)).one()
    return Run(id=row.id, kind=row.kind, params=dict(row.params or {}), cursor=row.cursor, done=row.done,
               total=row.total, result=dict(row.result or {}), created_by=row.created_by, lease=now)


def _fail(run: Run, message: str, params: dict, details: dict) -> None:
    table = Job.__table__
    result = {**run.result, **details, "error_params": {k: _plain(v) for k, v in params.items()}}
    with write_transaction():
        marked = db.session.execute(
            sa.update(table).where(table.c.id == run.id, table.c.state == RUNNING, table.c.heartbeat_at == run.lease)
            .values(state=FAILED, error=message, result=result, finished_at=utcnow(), heartbeat_at=_fresh(run.lease)))
    if marked.rowcount != 1:  # another runner holds the job now (or it ended): its clean-up is not ours to do
        log.info("job %s: not marked failed, its claim was lost", run.id)
        return
    kind = KINDS.get(run.kind)
    if kind is not None and kind.on_failure is not None:
        kind.on_failure(run)


def _plain(value: object) -> object:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


class Runner:
    """Runs jobs chunk by chunk: `start()` in a thread of its own, or `step()` / `run_pending()` in the caller's."""

    def __init__(self, app: Flask, *, pause: float = PAUSE_SECONDS, poll: float = POLL_SECONDS,
                 stale: float = STALE_SECONDS, job_id: int | None = None) -> None:
        self.app = app
        self.job_id = job_id  # only this job (the command line's import), else any
        self.pause = pause
        self.poll = poll
        self.stale = stale
        self.current: Run | None = None
        self.lock_errors = 0  # in a row, for the backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    # -- one chunk at a time --

    def step(self) -> bool:
        """Claim a job if none is held, then run one chunk of it. True when a chunk ran or the job ended; False when
        there was nothing to do or the lock was busy (then call again after `backoff()`)."""
        with self.app.app_context():
            try:
                if self.current is None:
                    self.current = claim_next(self.stale, self.job_id)
                    if self.current is None:
                        return False
                return self._chunk(self.current)
            except Exception as exc:
                db.session.rollback()
                if is_lock_error(exc) or isinstance(exc, Busy):
                    self.lock_errors += 1
                    log.debug("jobs: the write lock is busy; trying again shortly")
                    return False
                raise
            finally:
                db.session.remove()

    def _chunk(self, run: Run) -> bool:
        kind = KINDS.get(run.kind)
        try:
            if not run.holds():
                raise LeaseLost(run.id)
            if kind is None:
                raise JobFailed(LOST)
            step = kind.chunk(run)
            if run._pending is None:  # the chunk wrote nothing of its own: store its progress now
                with write_transaction():
                    run.save(step)
            run.committed()
        except LeaseLost:
            db.session.rollback()
            run._pending = None
            self.current = None
            return False
        except Exception as exc:
            db.session.rollback()
            run._pending = None
            if is_lock_error(exc) or isinstance(exc, Busy):
                raise  # the chunk is tried again after a pause; nothing of it was committed
            if isinstance(exc, JobFailed):
                message, params, details = exc.message, exc.params, exc.details
            elif isinstance(exc, PosError):
                message, params, details = exc.message, exc.params, {}
            else:
                message, params, details = UNEXPECTED, {}, {}
            try:
                _fail(run, message, params, details)  # a lock error here: the chunk is tried again, then this
            except LeaseLost:
                self.current = None  # another runner has the job now: what went wrong here is not its end
                return False
            if message == UNEXPECTED:
                log.error("job %s (%s) failed", run.id, run.kind, exc_info=exc)
            self.current = None
            return True
        self.lock_errors = 0
        if step.finished:
            self.current = None
        return True

    def backoff(self) -> float:
        return BACKOFF_SECONDS[min(self.lock_errors, len(BACKOFF_SECONDS)) - 1] if self.lock_errors else 0.0

    def run_pending(self, max_chunks: int | None = None) -> int:
        """Run every job there is to its end, in this thread (tests, the command line); returns the chunks run."""
        chunks = 0
        while max_chunks is None or chunks < max_chunks:
            if self.step():
                chunks += 1
            elif self.lock_errors:
                time.sleep(self.backoff())
            elif self.current is None:
                break
        return chunks

    # -- in a thread of its own --

    def start(self) -> None:
        with self._starting:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="kasir-jobs", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        _WAKE.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.step()
            except Exception:  # never let the thread die; the job itself was marked failed where possible
                log.exception("jobs: the runner hit an error")
                self.current = None
                worked = False
            if worked:
                self._stop.wait(self.pause)
            elif self.lock_errors:
                self._stop.wait(self.backoff())
            else:
                _WAKE.wait(self.poll)
                _WAKE.clear()


_WAKE = threading.Event()


def run_pending(app: Flask | None = None, **options) -> int:
    """Run every queued job to its end in the calling thread (tests, the command line)."""
    from flask import current_app

    return Runner(app or current_app._get_current_object(), **options).run_pending()


def init_app(app: Flask) -> None:
    """One runner per server process, started with the first request (not by commands such as `db upgrade`, nor in
    tests unless JOBS_AUTOSTART is set); app.extensions["kasir_jobs"] is the runner."""
    runner = Runner(app)
    app.extensions["kasir_jobs"] = runner
    if not app.config.get("JOBS_AUTOSTART", not app.testing):
        return

    @app.before_request
    def _start_jobs():
        if not runner.running:
            runner.start()
