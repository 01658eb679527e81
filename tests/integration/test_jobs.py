"""The background job runner (pos.jobs) on a real database: chunks each their own commit, a job resumed from its
cursor after its runner stopped, one runner per job among several, quiet backoff on a busy write lock, failures
kept with a translated message and the work of earlier chunks, and the job page with its progress bar.

The job kinds here write audit entries, one per unit of work, so what was done (and done once) can be counted."""

from __future__ import annotations

import re
import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from pos import audit, jobs
from pos.db import db, write_transaction
from pos.errors import N_, InvalidInput
from pos.models import AuditEntry, Job
from tests.conftest import ON_POSTGRES

LOCKED_ONCE: set[int] = set()  # job ids whose next chunk meets a lock error (once)
NOT_TRANSLATED = N_("That checked file is no longer here; upload it again.")  # a msgid with its Indonesian text


@jobs.register("test.count", label=N_("Catalog import"), permission="catalog.manage",
               summary=lambda result: [("created", N_("New products"), result.get("written", 0))])
def count_chunk(run: jobs.Run) -> jobs.Step:
    """Write params["n"] audit entries, params["per"] per chunk; the cursor is the next unit of work."""
    start = int(run.cursor or 0)
    end = min(start + run.params["per"], run.params["n"])
    if run.id in LOCKED_ONCE:
        LOCKED_ONCE.discard(run.id)
        raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked"))
    with write_transaction():
        for unit in range(start, end):
            if run.params.get("fail_at") == unit:
                raise InvalidInput(NOT_TRANSLATED)
            audit.record("test.job", actor_name="test", target_type="job", target_id=f"{run.id}:{unit}")
        run.save(jobs.Step(cursor=str(end), done=end, total=run.params["n"], result={"written": end},
                           finished=end >= run.params["n"]))
    return jobs.Step(cursor=str(end), done=end, finished=end >= run.params["n"])


@jobs.register("test.boom", label=N_("Catalog import"), permission="catalog.manage")
def boom_chunk(run: jobs.Run) -> jobs.Step:
    raise ZeroDivisionError("a bug")


@pytest.fixture
def queue(stock_app):
    """enqueue(n, per) -> job id, queued by the storekeeper."""

    def enqueue(n: int, per: int, kind: str = "test.count", **params) -> int:
        with stock_app.app_context():
            with write_transaction():
                job_id = jobs.enqueue(kind, params={"n": n, "per": per, **params}, title="uji.csv",
                                      created_by="gudang").id
            db.session.remove()
        return job_id

    return enqueue


def units_written(app, job_id: int) -> list[int]:
    with app.app_context():
        targets = db.session.scalars(sa.select(AuditEntry.target_id).where(
            AuditEntry.action == "test.job", AuditEntry.target_id.like(f"{job_id}:%"))).all()
        db.session.remove()
    return sorted(int(t.split(":")[1]) for t in targets)


def job_row(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        db.session.remove()
    return job


def test_a_job_runs_in_chunks_each_committed_on_its_own(stock_app, queue, database_url):
    job_id = queue(25, 10)
    other = sa.create_engine(database_url)  # another connection: what another request would see

    def seen() -> tuple[str, str, int, int]:
        with other.connect() as conn:
            state, cursor, done = conn.execute(sa.text("SELECT state, cursor, done FROM job WHERE id = :id"),
                                               {"id": job_id}).one()
            written = conn.execute(sa.text("SELECT count(*) FROM audit_entry WHERE action = 'test.job'")).scalar()
        return state, cursor, done, written

    runner = jobs.Runner(stock_app, pause=0)
    assert seen() == ("queued", "", 0, 0)
    assert runner.step()
    assert seen() == ("running", "10", 10, 10)
    assert runner.step()
    assert seen() == ("running", "20", 20, 20)
    assert runner.step()
    assert seen() == ("done", "25", 25, 25)
    assert not runner.step()  # nothing left
    job = job_row(stock_app, job_id)
    assert job.started_at is not None and job.finished_at is not None and job.result == {"written": 25}
    assert units_written(stock_app, job_id) == list(range(25))
    other.dispose()


def test_an_interrupted_job_resumes_from_its_cursor_and_does_nothing_twice(stock_app, queue):
    job_id = queue(35, 10)
    first = jobs.Runner(stock_app, pause=0)
    assert first.run_pending(max_chunks=2) == 2  # then the server stops
    assert units_written(stock_app, job_id) == list(range(20))
    # Another server process leaves a job alone while its heartbeat is fresh...
    assert not jobs.Runner(stock_app, pause=0).step()
    # ...and takes it over once the heartbeat is stale (here at once).
    second = jobs.Runner(stock_app, pause=0, stale=0)
    assert second.run_pending() == 2
    assert job_row(stock_app, job_id).state == "done"
    assert units_written(stock_app, job_id) == list(range(35))
    # The first runner comes back to life: the job is not its any more; it lets go and writes nothing.
    assert not first.step() and first.current is None
    assert units_written(stock_app, job_id) == list(range(35))


def test_of_two_runners_only_one_claims_a_job(stock_app, queue):
    job_id = queue(10, 5)
    runners = [jobs.Runner(stock_app, pause=0) for _ in range(2)]
    assert runners[0].step()
    assert not runners[1].step() and runners[1].current is None
    assert runners[0].step()
    assert job_row(stock_app, job_id).state == "done" and units_written(stock_app, job_id) == list(range(10))


def test_a_lock_error_backs_off_and_the_chunk_is_tried_again(stock_app, queue, caplog, monkeypatch):
    monkeypatch.setattr(jobs.log, "disabled", False)  # the migrations' logging setup turns existing loggers off
    caplog.set_level("DEBUG", logger="kasir.jobs")
    job_id = queue(20, 10)
    runner = jobs.Runner(stock_app, pause=0)
    assert runner.step()
    LOCKED_ONCE.add(job_id)
    assert not runner.step()  # nothing of the chunk committed; the job stays running, the runner keeps it
    assert runner.lock_errors == 1 and runner.backoff() > 0 and runner.current is not None
    job = job_row(stock_app, job_id)
    assert (job.state, job.cursor, job.error) == ("running", "10", "")
    assert runner.step() and runner.lock_errors == 0
    assert job_row(stock_app, job_id).state == "done" and units_written(stock_app, job_id) == list(range(20))
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "WARNING") and r.name.startswith("kasir")]
    assert not [r for r in caplog.records if r.exc_info]  # backing off is quiet: no traceback


@pytest.mark.skipif(ON_POSTGRES, reason="holds SQLite's write lock from a second connection")
def test_a_write_lock_held_elsewhere_is_waited_out(make_app, database_url, monkeypatch):
    """A real lock: another process's connection holds SQLite's write lock past the busy timeout."""
    import pos.db

    monkeypatch.setattr(pos.db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    app = make_app()
    with app.app_context():
        with write_transaction():
            job_id = jobs.enqueue("test.count", params={"n": 6, "per": 3}, created_by="test").id
        db.session.remove()
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    runner = jobs.Runner(app, pause=0)
    try:
        assert not runner.step()  # the claim itself waits 200 ms, then gives up quietly
        assert runner.lock_errors == 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert runner.run_pending() == 2
    assert job_row(app, job_id).state == "done" and units_written(app, job_id) == list(range(6))


def test_a_refused_chunk_fails_the_job_keeps_the_earlier_chunks_and_says_why_translated(stock_app, queue, signed_in,
                                                                                        client):
    job_id = queue(30, 10, fail_at=14)
    jobs.Runner(stock_app, pause=0).run_pending()
    job = job_row(stock_app, job_id)
    assert (job.state, job.cursor, job.done, job.error) == ("failed", "10", 10, NOT_TRANSLATED)
    assert job.finished_at is not None
    assert units_written(stock_app, job_id) == list(range(10))  # the first chunk stays; nothing of the second
    signed_in("gudang")
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200
    assert "Berkas yang sudah diperiksa itu tidak tersedia lagi; unggah kembali." in page.text
    assert 'data-state="failed"' in page.text and "data-status-url" not in page.text
    status = client.get(f"/jobs/{job_id}/status").get_json()
    assert status["state"] == "failed" and status["finished"]
    assert status["message"] == "Berkas yang sudah diperiksa itu tidak tersedia lagi; unggah kembali."


def test_an_unexpected_error_fails_the_job_with_a_plain_message(stock_app, queue, signed_in, client, caplog,
                                                              monkeypatch):
    monkeypatch.setattr(jobs.log, "disabled", False)  # the migrations' logging setup turns existing loggers off
    caplog.set_level("ERROR", logger="kasir.jobs")
    job_id = queue(1, 1, kind="test.boom")
    jobs.Runner(stock_app, pause=0).run_pending()
    job = job_row(stock_app, job_id)
    assert (job.state, job.error) == ("failed", jobs.UNEXPECTED)
    assert any(r.name == "kasir.jobs" and r.exc_info for r in caplog.records)  # the traceback is in the log
    signed_in("gudang")
    page = client.get(f"/jobs/{job_id}").text
    assert "ZeroDivisionError" not in page and "a bug" not in page and "data-job-error" in page


def test_the_job_page_shows_a_progress_bar_and_the_state_in_words(stock_app, queue, signed_in, client):
    job_id = queue(30, 10)
    signed_in("gudang")
    waiting = client.get(f"/jobs/{job_id}").text
    assert 'data-state="queued"' in waiting and "<progress" in waiting
    assert '<meta http-equiv="refresh"' in waiting and "js/jobs.js" in waiting  # refreshes itself without JS too
    runner = jobs.Runner(stock_app, pause=0)
    runner.step()
    running = client.get(f"/jobs/{job_id}").text
    assert re.search(r'<progress data-job-progress[^>]* max="30" value="10"', running)
    state = re.search(r"<strong data-job-state>([^<]+)</strong>", running).group(1)
    assert state.strip() and state.strip() not in ("running", "queued")
    status = client.get(f"/jobs/{job_id}/status").get_json()
    assert {k: status[k] for k in ("state", "done", "total", "percent", "finished")} == {
        "state": "running", "done": 10, "total": 30, "percent": 33, "finished": False}
    assert status["state_label"] == state.strip()
    runner.run_pending()
    finished = client.get(f"/jobs/{job_id}").text
    assert '<meta http-equiv="refresh"' not in finished and "js/jobs.js" not in finished
    assert 'data-count="created">30<' in finished
    assert "Produk baru" in finished  # the kind's summary, in Indonesian
    listing = client.get("/jobs/").text
    assert f'data-job="{job_id}" data-state="done"' in listing


def test_the_runner_thread_picks_up_a_new_job_and_stops_cleanly(stock_app, queue):
    runner = jobs.Runner(stock_app, pause=0, poll=5)
    runner.start()
    try:
        assert runner.running
        job_id = queue(12, 4)  # enqueue wakes the runner; no need to wait for its poll
        deadline = time.monotonic() + 10
        while job_row(stock_app, job_id).state != "done" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job_row(stock_app, job_id).state == "done"
    finally:
        runner.stop()
    assert not runner.running
    assert not [t for t in threading.enumerate() if t.name == "kasir-jobs"]
    assert units_written(stock_app, job_id) == list(range(12))


def test_tests_and_commands_start_no_runner_unless_asked(make_app):
    assert not make_app().extensions["kasir_jobs"].running
    app = make_app(JOBS_AUTOSTART=True)
    runner = app.extensions["kasir_jobs"]
    try:
        assert app.test_client().get("/healthz").status_code == 200
        assert runner.running  # started by the first request
    finally:
        runner.stop()
