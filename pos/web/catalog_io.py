"""The product catalog as a file: download it (CSV, XLSX), upload one, see every problem, then import it.

The upload is written to the instance folder (imports/<user id>-<token>.<csv|xlsx>.bin) as it arrives and checked
from there; the Import button carries only the token, so what is imported is exactly what was checked. Importing
queues a background job (inventory.catalog_io, pos.jobs) that takes the file over, checks it again and writes it in
short chunks; the button's one-time form token makes a double submit one job. Downloads are streamed.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.exceptions import RequestEntityTooLarge

from inventory import catalog_io
from pos.db import write_transaction
from pos.errors import N_, InvalidInput, PosError
from pos.permissions import require
from pos.web import once
from pos.web.errors import error_response
from pos.web.templating import local_today

bp = Blueprint("catalog_io", __name__, url_prefix="/produk/berkas")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The app takes 2 MB bodies; the upload takes the largest file plus the rest of the form.
UPLOAD_LIMIT = catalog_io.MAX_BYTES + 64 * 1024
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$", re.ASCII)
KEEP_SECONDS = 24 * 3600


@bp.url_value_preprocessor
def _allow_larger_upload(endpoint: str | None, _values: dict | None) -> None:
    # Runs before the app's before_request hooks, which read the form (CSRF, NUL check) and so fix the limit.
    if endpoint == "catalog_io.check":
        request.max_content_length = UPLOAD_LIMIT


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    # Raised while the form is read, before the caller is known: a plain error page, no form.
    return error_response(400, gettext("The file is larger than %(limit)s MB.",
                                       limit=catalog_io.MAX_BYTES // (1024 * 1024)))


def _imports() -> Path:
    return catalog_io.uploads_folder()


def _forget_old_uploads(folder: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in folder.glob("*.bin"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass  # another request removed it first


def _keep(kind: str, upload) -> tuple[Path, str]:
    """Write the upload to the imports folder in pieces (never more than one byte past the limit)."""
    folder = _imports()
    _forget_old_uploads(folder)
    token = secrets.token_urlsafe(24)
    path = folder / f"{g.user.id}-{token}.{kind}.bin"
    written = 0
    with open(path, "wb") as out:
        while written <= catalog_io.MAX_BYTES and (piece := upload.stream.read(1 << 20)):
            out.write(piece)
            written += len(piece)
    return path, token


def _kept(token: str) -> tuple[Path, str]:
    """The upload this user checked under `token`, and its kind."""
    if TOKEN_RE.match(token or ""):
        for kind in ("csv", "xlsx"):
            path = _imports() / f"{g.user.id}-{token}.{kind}.bin"
            if path.is_file():
                return path, kind
    raise InvalidInput(N_("That checked file is no longer here; upload it again."))


def _index_page(status: int = 200, error: PosError | None = None):
    if error is not None:
        flash(gettext(error.message, **error.params), "error")
    return render_template("catalog_io/index.html", columns=catalog_io.COLUMNS,
                           max_mb=catalog_io.MAX_BYTES // (1024 * 1024), max_rows=catalog_io.MAX_ROWS), status


def _errors_page(report: catalog_io.ImportReport, filename: str):
    return render_template("catalog_io/check.html", report=report, filename=filename, token=None,
                           max_mb=catalog_io.MAX_BYTES // (1024 * 1024)), 400


@bp.get("/")
@require("catalog.manage")
def index():
    return _index_page()


def _streamed(pieces: Callable[[], Iterator[bytes]]) -> Iterator[bytes]:
    """The pieces, each made in an app context (and database session) of its own, pushed only while it is made:
    the answer is sent after the request has ended, and an answer never read to its end leaves nothing behind.
    (The export reads by keyset, so a batch needs nothing of the one before.)"""
    app = current_app._get_current_object()

    def generate() -> Iterator[bytes]:
        iterator = None
        try:
            while True:
                with app.app_context():
                    if iterator is None:
                        iterator = pieces()
                    piece = next(iterator, None)
                if piece is None:
                    return
                yield piece
        finally:
            if iterator is not None:
                iterator.close()

    return generate()


def _download(pieces: Callable[[], Iterator[bytes]], mimetype: str, ext: str) -> Response:
    """A streamed download: the products are read and written a batch at a time as the answer goes out."""
    response = Response(_streamed(pieces), mimetype=mimetype)
    name = f"produk-{local_today().isoformat()}.{ext}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/ekspor.csv")
@require("catalog.view")
def export_csv():
    return _download(catalog_io.iter_csv, "text/csv; charset=utf-8", "csv")


@bp.get("/ekspor.xlsx")
@require("catalog.view")
def export_xlsx():
    return _download(catalog_io.iter_xlsx, XLSX_TYPE, "xlsx")


@bp.post("/periksa")
@require("catalog.manage")
def check():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _index_page(400, InvalidInput(N_("Choose a .csv or .xlsx file to check.")))
    filename = upload.filename[-120:]
    path = None
    try:
        kind = catalog_io.file_kind(filename)
        path, token = _keep(kind, upload)
        report = catalog_io.dry_run(catalog_io.iter_file(path, kind), keep_plans=False)
    except PosError as exc:
        if path is not None:
            path.unlink(missing_ok=True)
        return _index_page(400, exc)
    if not report.ok:
        path.unlink(missing_ok=True)
        return _errors_page(report, filename)
    return render_template("catalog_io/check.html", report=report, filename=filename, token=token,
                           max_mb=catalog_io.MAX_BYTES // (1024 * 1024))


@bp.post("/impor")
@require("catalog.manage")
def run_import():
    """Queue the import of the checked file and show its job; the job checks it again before it writes."""
    filename = request.form.get("filename", "")[-120:]
    moved: tuple[Path, Path] | None = None
    try:
        with write_transaction():
            once.claim("catalog.import")  # the same form again: the first job's page
            path, kind = _kept(request.form.get("token", ""))
            job_path = path.with_name(path.name.removesuffix(".bin") + ".job")
            path.rename(job_path)  # the job's now: no longer a checked upload, never swept as one
            moved = (job_path, path)
            job = catalog_io.enqueue_import(job_path, kind, filename or f"produk.{kind}", g.user)
            url = once.result(url_for("jobs.show", job_id=job.id))
    except BaseException as exc:
        if moved is not None:
            moved[0].rename(moved[1])  # not queued after all: the checked file is there for another try
        if isinstance(exc, PosError):
            return _index_page(400, exc)
        raise
    return redirect(url, 303)
