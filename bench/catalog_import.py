"""Catalog import and export benchmark: the background import job and the streamed downloads at 100 000 products.

    .venv/bin/python -m bench.catalog_import --database /path/to/big.sqlite [--rows 20000 100000] [--json FILE]

Works on a COPY of the given SQLite database (e.g. the one bench/bigdata.py builds; the file named first in
/tmp/bench-db.txt when --database is not given), made with SQLite's backup API, so the original is only read. For
each size it writes a file of that many rows and imports it the way the web does: a job queued, run by the runner
thread of this process (as in the server), while a "till" thread asks for the write lock every 50 ms, as a sale
would, and records how long it waited. Reported per run: the time from queueing to done, the check and write phases,
the number of write transactions and the longest one (pos.db.WRITE_STATS), and the till's waits (p50, p95, max).

Files: "new" rows (the export's first N products under new SKUs and barcodes: N products created) and "changed"
rows (the whole export with every public price up by Rp 100: 100 000 products updated, price history kept).
Then the CSV and XLSX exports of the grown catalog: time to the first piece, total time and the process's peak
memory. Nothing here is part of the test suite.
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import json
import resource
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def copy_database(source: str, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    src.backup(dst)
    dst.close()
    src.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def new_rows(records: list[dict], count: int, tag: int) -> list[dict]:
    """The first `count` products again under new SKUs (prefixed N<tag>-), with new valid barcodes (prefix 7<tag>),
    no in-store codes."""
    from inventory.barcodes import gs1_check_digit

    serial = iter(range(1, 10**9))

    def code() -> str:
        body = f"7{tag}{next(serial):010d}"
        return body + str(gs1_check_digit(body))

    out = []
    for record in records[:count]:
        record = dict(record)
        record["sku"] = f"N{tag}-{record['sku']}"[:40]
        record["barcodes"] = " ".join(code() for _ in record["barcodes"].split()[:1])
        packs = []
        for pack in (p for p in record["packs"].split(";") if p.strip()):
            fields = [f.strip() for f in pack.split("|")]
            if len(fields) == 5:
                fields[4] = " ".join(code() for _ in fields[4].split())
            packs.append(" | ".join(fields))
        record["packs"] = "; ".join(packs)
        out.append(record)
    return out


def changed_rows(records: list[dict]) -> list[dict]:
    """Every product with its public price up by Rp 100 (below its HET, else unchanged)."""
    from inventory.catalog_io import parse_amount

    out = []
    for record in records:
        record = dict(record)
        price, het = parse_amount(record["public_price"]), parse_amount(record["het"])
        if het is None or price + 100 <= het:
            record["public_price"] = str(price + 100)
        out.append(record)
    return out


def to_csv(records: list[dict], columns) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(records)
    return ("\ufeff" + buffer.getvalue()).encode()


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e6


class Memory(threading.Thread):
    """The process's resident memory, sampled every 0.1 s: the highest value seen."""

    def __init__(self) -> None:
        super().__init__(name="bench-rss", daemon=True)
        self.start_mb = rss_mb()
        self.peak_mb = self.start_mb
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            self.peak_mb = max(self.peak_mb, rss_mb())

    def end(self) -> dict:
        self.stop.set()
        self.join()
        return {"rss_mb_before": round(self.start_mb), "rss_mb_peak": round(max(self.peak_mb, rss_mb()))}


class Till(threading.Thread):
    """Asks for the write lock every 50 ms, as a sale would, and keeps how long each wait took."""

    def __init__(self, app) -> None:
        super().__init__(name="bench-till", daemon=True)
        self.app = app
        self.waits: list[float] = []
        self.failures = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import sqlalchemy as sa

        from pos.db import db, write_transaction

        with self.app.app_context():
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    with write_transaction():
                        db.session.execute(sa.text("SELECT 1"))
                    self.waits.append((time.perf_counter() - started) * 1000)
                except Exception:
                    self.failures += 1
                    db.session.rollback()
                self.stop.wait(0.05)
            db.session.remove()


def run_import(app, name: str, source: Path, username: str = "gudang") -> dict:
    import sqlalchemy as sa

    from inventory import catalog_io
    from pos import db as pos_db
    from pos import jobs
    from pos.db import db, write_transaction
    from pos.models import Job, User

    with app.app_context():
        path = catalog_io.uploads_folder() / f"bench-{name}.csv.job"
        shutil.copyfile(source, path)
        gc.collect()
        memory = Memory()
        memory.start()
        user = db.session.scalar(sa.select(User).where(User.username == username))
        pos_db.WRITE_STATS.update(count=0, max_ms=0.0, over_budget=0)
        till = Till(app)
        till.start()
        time.sleep(0.3)
        till.waits.clear()
        started = time.perf_counter()
        with write_transaction():
            job_id = catalog_io.enqueue_import(path, "csv", f"{name}.csv", user).id
        db.session.remove()
        runner = app.extensions["kasir_jobs"]
        runner.start()
        checked_at = None
        while True:
            time.sleep(0.2)
            job = db.session.get(Job, job_id)
            if checked_at is None and job.cursor.startswith("apply:"):
                checked_at = time.perf_counter()
            state, done, result, error = job.state, job.done, dict(job.result), job.error
            db.session.remove()
            if state not in jobs.ACTIVE_STATES:
                break
        finished = time.perf_counter()
        runner.stop()
        till.stop.set()
        till.join()
        stats = dict(pos_db.WRITE_STATS)
        rss = memory.end()
    figures = {
        "rows": done, "state": state, "error": error, "seconds": round(finished - started, 1),
        "check_seconds": round((checked_at or finished) - started, 1),
        "write_seconds": round(finished - (checked_at or finished), 1),
        "created": result.get("created"), "updated": result.get("updated"), "unchanged": result.get("unchanged"),
        "write_transactions": stats["count"], "longest_write_ms": round(stats["max_ms"], 1),
        "over_budget": stats["over_budget"],
        "till_waits": len(till.waits), "till_wait_p50_ms": round(percentile(till.waits, 0.5), 1),
        "till_wait_p95_ms": round(percentile(till.waits, 0.95), 1),
        "till_wait_max_ms": round(max(till.waits, default=0.0), 1), "till_failures": till.failures, **rss,
    }
    log(f"{name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    return figures


def measure_export(app, kind: str) -> dict:
    from inventory import catalog_io

    with app.app_context():
        gc.collect()
        memory = Memory()
        memory.start()
        started = time.perf_counter()
        cpu = time.process_time()
        first = None
        size = 0
        for piece in catalog_io.iter_csv() if kind == "csv" else catalog_io.iter_xlsx():
            if first is None:
                first = time.perf_counter() - started
            size += len(piece)
        figures = {"seconds": round(time.perf_counter() - started, 1),
                   "cpu_seconds": round(time.process_time() - cpu, 1),
                   "first_piece_ms": round((first or 0) * 1000, 1), "mb": round(size / 1e6, 1), **memory.end()}
    log(f"export {kind}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.catalog_import", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="a SQLite database with the big catalog (only read; a copy is used)")
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 100_000], help="sizes of the 'new' files")
    parser.add_argument("--no-changed", action="store_true", help="skip the re-import of the whole changed export")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    source = args.database
    if source is None:
        listed = Path("/tmp/bench-db.txt")  # noqa: S108 - where bench/bigdata.py says where its database is
        if not listed.exists():
            parser.error("give --database (no /tmp/bench-db.txt)")
        source = listed.read_text().splitlines()[0].strip()
    workdir = Path(tempfile.mkdtemp(prefix="kasir-import-bench-"))
    figures: dict = {"database": source}
    try:
        target = workdir / "bench.sqlite"
        log(f"copying {source} to {target}")
        copy_database(source, target)
        from pos.app import create_app

        app = create_app({"INSTANCE_PATH": str(workdir / "instance"), "database_url": f"sqlite:///{target}",
                          "JOBS_AUTOSTART": False, "env": "development"})
        from inventory import catalog_io

        figures["export_before"] = {kind: measure_export(app, kind) for kind in ("csv", "xlsx")}
        with app.app_context():
            text = catalog_io.export_csv().decode("utf-8-sig")
        records = list(csv.DictReader(io.StringIO(text)))
        del text
        log(f"{len(records):,} products in the catalog")
        files: dict[str, Path] = {}  # written first, so the imports run without the bench's own data in memory
        if not args.no_changed:
            files[f"changed-{len(records)}"] = workdir / "changed.csv"
            files[f"changed-{len(records)}"].write_bytes(to_csv(changed_rows(records), catalog_io.COLUMNS))
        for tag, count in enumerate(args.rows, start=1):
            files[f"new-{count}"] = workdir / f"new-{count}.csv"
            files[f"new-{count}"].write_bytes(to_csv(new_rows(records, count, tag), catalog_io.COLUMNS))
        del records
        figures["imports"] = {name: run_import(app, name, path) for name, path in files.items()}
        figures["export_after"] = {kind: measure_export(app, kind) for kind in ("csv", "xlsx")}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
