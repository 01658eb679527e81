"""The end-to-end layer: the real production server (waitress) on a free 127.0.0.1 port, with the demo loaded.

It is started exactly as `make run` starts it (`flask db upgrade`, `flask demo load`, `waitress-serve wsgi:app`),
but in a fresh instance directory, so it never touches the developer's instance/ nor the integration tests' data.
With KASIR_TEST_DATABASE_URL set (the PostgreSQL run) it gets a database of its own, `kasir_e2e`, dropped afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's bin/, where flask and waitress-serve live (not resolved: keep the venv)
HOST = "127.0.0.1"
E2E_DATABASE = f"kasir_e2e_{os.getpid()}"  # parallel runs on one server must not collide
FAST_HASH = "pbkdf2:sha256:1000"
COMMAND_TIMEOUT = 240  # seconds for `flask db upgrade` / `flask demo load` (the demo rings up 30 days of sales)
START_TIMEOUT = 30  # seconds for /healthz to answer 200
STOP_TIMEOUT = 10


@dataclass(frozen=True)
class LiveServer:
    url: str  # http://127.0.0.1:<port>, no trailing slash
    port: int
    instance: Path
    database_url: str  # empty on SQLite (the instance's kasir.db)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def postgres_admin_url(url: str) -> sa.URL:
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):  # the app ships psycopg 3, not psycopg2
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def recreate_database(admin_url: sa.URL, name: str, *, create: bool) -> None:
    """DROP (and optionally CREATE) a database; needs AUTOCOMMIT since neither runs inside a transaction."""
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            if create:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()


def server_env(instance: Path, database_url: str) -> dict[str, str]:
    # Start from the caller's environment without any KASIR_*/DATABASE_URL/FLASK_* of theirs (KASIR_ENV=production
    # would refuse the demo; a DATABASE_URL would point at their data).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KASIR_", "FLASK_")) and k not in ("DATABASE_URL", "PYTHONPATH")
    }
    env.update(
        KASIR_INSTANCE_PATH=str(instance),
        KASIR_PASSWORD_HASH_METHOD=FAST_HASH,
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def run_flask(args: list[str], env: dict[str, str]) -> None:
    command = [str(BIN / "flask"), "--app", "wsgi", *args]
    try:
        done = subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(command[1:])} took over {COMMAND_TIMEOUT}s\n{exc.stderr or ''}")
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command[1:])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def get_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http://127.0.0.1 only
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def start_waitress(env: dict[str, str], logs: Path) -> tuple[subprocess.Popen, int]:
    """Start waitress on a free port; retry on another port if the one picked was taken in the meantime."""
    last_error = ""
    for attempt in range(3):
        port = free_port()
        stdout_path, stderr_path = logs / f"waitress-{attempt}.out", logs / f"waitress-{attempt}.err"
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            process = subprocess.Popen(  # same command as `make run`
                [str(BIN / "waitress-serve"), f"--host={HOST}", f"--port={port}", "--threads=16", "wsgi:app"],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if get_status(f"http://{HOST}:{port}/healthz") == 200:
                return process, port
            time.sleep(0.1)
        stop(process)
        last_error = stderr_path.read_text(errors="replace")[-4000:]
        if "Address already in use" not in last_error:
            break
    pytest.fail(f"waitress did not answer 200 on /healthz within {START_TIMEOUT}s; its stderr:\n{last_error}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The production server with the demo cooperative, on http://127.0.0.1:<free port>, for the whole session."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    logs = tmp_path_factory.mktemp("e2e-logs")
    admin_url = None
    database_url = ""
    postgres = os.environ.get("KASIR_TEST_DATABASE_URL", "").strip()
    if postgres:
        admin_url = postgres_admin_url(postgres)
        recreate_database(admin_url, E2E_DATABASE, create=True)
        database_url = admin_url.set(database=E2E_DATABASE).render_as_string(hide_password=False)
    env = server_env(instance, database_url)
    process = None
    try:
        run_flask(["db", "upgrade"], env)
        run_flask(["demo", "load"], env)
        process, port = start_waitress(env, logs)
        yield LiveServer(url=f"http://{HOST}:{port}", port=port, instance=instance, database_url=database_url)
    finally:
        if process is not None:
            stop(process)
        if admin_url is not None:
            recreate_database(admin_url, E2E_DATABASE, create=False)
