"""The product catalog as a file: download it (CSV, XLSX), upload one, see every problem, then import it.

The checked upload is kept in the instance folder (imports/<user id>-<token>.<csv|xlsx>.bin) and the Import button
carries only the token, so what is imported is exactly what was checked (checked again, in the same transaction).
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.exceptions import RequestEntityTooLarge

from inventory import catalog_io
from pos.db import write_transaction
from pos.errors import N_, InvalidInput, PosError
from pos.permissions import require
from pos.web.errors import error_response
from pos.web.templating import local_today

bp = Blueprint("catalog_io", __name__, url_prefix="/produk/berkas")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The app takes 2 MB bodies; the upload takes a 5 MB file plus the rest of the form.
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
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget_old_uploads(folder: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in folder.glob("*.bin"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass  # another request removed it first


def _keep(kind: str, data: bytes) -> str:
    folder = _imports()
    _forget_old_uploads(folder)
    token = secrets.token_urlsafe(24)
    (folder / f"{g.user.id}-{token}.{kind}.bin").write_bytes(data)
    return token


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


def _download(body: bytes, mimetype: str, ext: str) -> Response:
    response = Response(body, mimetype=mimetype)
    name = f"produk-{local_today().isoformat()}.{ext}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/ekspor.csv")
@require("catalog.view")
def export_csv():
    return _download(catalog_io.export_csv(), "text/csv; charset=utf-8", "csv")


@bp.get("/ekspor.xlsx")
@require("catalog.view")
def export_xlsx():
    return _download(catalog_io.export_xlsx(), XLSX_TYPE, "xlsx")


@bp.post("/periksa")
@require("catalog.manage")
def check():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _index_page(400, InvalidInput(N_("Choose a .csv or .xlsx file to check.")))
    filename = upload.filename[-120:]
    try:
        kind = catalog_io.file_kind(filename)
        data = upload.stream.read(catalog_io.MAX_BYTES + 1)
        rows = catalog_io.read_file(filename, data)
    except PosError as exc:
        return _index_page(400, exc)
    report = catalog_io.dry_run(rows)
    if not report.ok:
        return _errors_page(report, filename)
    token = _keep(kind, data)
    return render_template("catalog_io/check.html", report=report, filename=filename, token=token,
                           max_mb=catalog_io.MAX_BYTES // (1024 * 1024))


@bp.post("/impor")
@require("catalog.manage")
def run_import():
    try:
        path, kind = _kept(request.form.get("token", ""))
        rows = catalog_io.read_file(f"upload.{kind}", path.read_bytes())
    except PosError as exc:
        return _index_page(400, exc)
    try:
        with write_transaction():
            report = catalog_io.apply(rows, g.user)
    except PosError as exc:
        # The catalog changed since the check: show what is wrong now; the file stays for another try.
        report = catalog_io.dry_run(rows)
        if report.ok:
            return _index_page(400, exc)
        return _errors_page(report, request.form.get("filename", "")[-120:])
    path.unlink(missing_ok=True)
    flash(gettext("Imported: %(created)s new products, %(updated)s updated, %(unchanged)s unchanged.",
                  created=report.to_create, updated=report.to_update, unchanged=report.unchanged), "success")
    return redirect(url_for("catalog_io.index"))
