"""The real server killed with SIGKILL in the middle of a checkout (after the insert, before the commit, after the
commit before the answer), then started again and the sale retried: every answered sale exists once, nothing is
half-written, the books balance (P1, P2, P3 of RELIABILITY.md)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest
import sqlalchemy as sa

from tests.e2e.conftest import (
    BIN,
    REPO_ROOT,
    postgres_admin_url,
    recreate_database,
    run_flask,
    server_env,
    start_waitress,
    stop,
)

DATABASE = f"kasir_crash_{os.getpid()}"


class Server:
    """One instance (database, demo data, API token) served by a process that can be killed and started again."""

    def __init__(self, instance, logs, database_url):
        self.instance, self.logs, self.database_url = instance, logs, database_url
        self.env = server_env(instance, database_url)
        self.process = None
        self.url = ""

    def start(self, crash_at: str | None = None) -> None:
        env = dict(self.env)
        if crash_at:
            env["KASIR_CRASH_AT"] = crash_at
        self.process, port = start_waitress(env, self.logs)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=REPO_ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120, check=False)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)  # noqa: S310 - 127.0.0.1 only
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read() or b"{}")

    def engine(self) -> sa.Engine:
        url = self.database_url or f"sqlite:///{self.instance / 'kasir.db'}"
        return sa.create_engine(url)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("crash-instance")
    logs = tmp_path_factory.mktemp("crash-logs")
    admin_url, database_url = None, ""
    postgres = os.environ.get("KASIR_TEST_DATABASE_URL", "").strip()
    if postgres:
        admin_url = postgres_admin_url(postgres)
        recreate_database(admin_url, DATABASE, create=True)
        database_url = admin_url.set(database=DATABASE).render_as_string(hide_password=False)
    running = Server(instance, logs, database_url)
    try:
        run_flask(["db", "upgrade"], running.env)
        run_flask(["demo", "load"], running.env)
        done = running.cli("user", "token", "kasir", "--name", "crash-test")
        assert done.returncode == 0, done.stderr
        running.token = next(line.strip() for line in done.stdout.splitlines() if line.strip().startswith("kk_"))
        running.start()
        status, _ = running.call("POST", "/api/v1/shifts", {"till": "TK02", "opening_float": 100_000})
        assert status in (200, 201)
        engine = running.engine()
        with engine.connect() as conn:
            running.code = conn.execute(sa.text(
                "SELECT b.code FROM barcode b JOIN product_unit u ON u.id = b.product_unit_id "
                "JOIN stock_level s ON s.product_id = b.product_id JOIN stock_location l ON l.id = s.location_id "
                "JOIN product p ON p.id = b.product_id "
                "WHERE l.code = 'TK-TOKO' AND u.factor = 1 AND s.quantity >= 10 AND NOT p.tracks_batches "
                "AND p.sell_by_weight = :no ORDER BY b.id LIMIT 1"), {"no": False}).scalar_one()
        engine.dispose()
        running.stop()
        yield running
    finally:
        running.stop()
        if admin_url is not None:
            recreate_database(admin_url, DATABASE, create=False)


def count_sales(server, sale_id: str) -> tuple[int, int]:
    engine = server.engine()
    try:
        with engine.connect() as conn:
            sales = conn.execute(sa.text("SELECT count(*) FROM sale WHERE uuid = :id"), {"id": sale_id}).scalar_one()
            number = conn.execute(sa.text("SELECT number FROM sale WHERE uuid = :id"), {"id": sale_id}).scalar()
            entries = conn.execute(sa.text("SELECT count(*) FROM journal_entry WHERE source_type = 'sale' "
                                           "AND source_id = :n"), {"n": number or ""}).scalar_one()
    finally:
        engine.dispose()
    return sales, entries


@pytest.mark.parametrize("point", ["sale.inserted", "sale.before_commit", "sale.after_commit"])
def test_a_sale_survives_a_kill_at_every_point_and_is_never_doubled(server, point):
    sale = {"id": str(uuid.uuid4()), "till": "TK02", "lines": [{"code": server.code, "qty": "1"}],
            "payments": [{"method": "cash", "amount": 100_000}]}
    server.start(crash_at=point)
    try:
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            server.call("POST", "/api/v1/sales", sale)
        assert server.process.wait(timeout=20) == -signal.SIGKILL
    finally:
        server.stop()
    committed = point == "sale.after_commit"
    assert count_sales(server, sale["id"]) == ((1, 1) if committed else (0, 0))  # nothing half-written

    server.start()
    try:
        status, body = server.call("POST", "/api/v1/sales", sale)  # the till retries with the same id
        assert status == (200 if committed else 201), body
        again_status, again = server.call("POST", "/api/v1/sales", sale)
        assert (again_status, again) == (200, body)
    finally:
        server.stop()
    assert count_sales(server, sale["id"]) == (1, 1)
    checked = server.cli("sales", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    ledger = server.cli("ledger", "check")
    assert ledger.returncode == 0, ledger.stdout + ledger.stderr
