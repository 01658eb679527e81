"""The devices page (manajer): serial ports, each till's printer, profile, drawer, scanner, scale and pole display;
test print, open drawer (audited), printer status, the print queue (reprint, release, discard); and the till page's
scan stream (Server-Sent Events)."""

from __future__ import annotations

import threading
import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from pos import audit, printing
from pos.db import db, write_transaction
from pos.errors import N_, InvalidInput, PosError
from pos.models import PrintJob, Till
from pos.permissions import require
from pos.receipt_documents import printer_test_document

bp = Blueprint("devices", __name__, url_prefix="/perangkat")
STREAMS = threading.BoundedSemaphore(4)  # waitress serves with 16 threads (make run); screens take 4 more
SCALES_LOCK = threading.Lock()
QUEUE_SIZE = 50
SCALE_PROTOCOLS = ("", "toledo_8217", "cas")
DISPLAY_COMMANDS = ("", "epson", "cd5220")


def _runtime():
    return current_app.extensions["kasir_devices"]


def _till(code: str) -> Till:
    till = db.session.scalar(sa.select(Till).where(Till.code == code.upper()[:20]))
    if till is None:
        abort(404)
    return till


@bp.get("/")
@require("devices.manage")
def index():
    from drivers.ports import list_serial_ports
    from pos.models import Outlet
    from pos.sales.qris import QrisError, parse_static
    from receipts.profiles import PROFILES

    tills = db.session.scalars(sa.select(Till).order_by(Till.code)).all()
    jobs = db.session.scalars(sa.select(PrintJob).order_by(PrintJob.id.desc()).limit(QUEUE_SIZE)).all()
    outlets = [o for o in db.session.scalars(sa.select(Outlet).order_by(Outlet.code)) if o.tills]
    qris_names = {}
    for outlet in outlets:
        try:
            qris_names[outlet.code] = parse_static(outlet.qris_payload).merchant_name if outlet.qris_payload else ""
        except QrisError:
            qris_names[outlet.code] = "?"
    runtime = _runtime()
    recent = {till.code: runtime.broker.recent(till.code, 5) for till in tills}
    return render_template(
        "devices/index.html",
        tills=tills,
        jobs=jobs,
        ports=list_serial_ports(),
        profiles=sorted(PROFILES),
        scale_protocols=SCALE_PROTOCOLS,
        display_commands=DISPLAY_COMMANDS,
        recent=recent,
        states=runtime.scanner_states,
        printer_of=printing.printer_of,
        outlets=outlets,
        qris_names=qris_names,
    )


@bp.post("/outlet/<code>/qris")
@require("devices.manage")
def outlet_qris(code: str):
    """Store an outlet's static QRIS string, parsed and its CRC checked first (empty: the outlet takes no QRIS)."""
    from pos.models import Outlet
    from pos.sales.qris import parse_static

    text = request.form.get("qris", "").strip()
    try:
        payload = parse_static(text).payload if text else ""
        with write_transaction():
            outlet = db.session.scalar(sa.select(Outlet).where(Outlet.code == code.upper()[:20]))
            if outlet is None:
                abort(404)
            before = {"qris": bool(outlet.qris_payload)}
            outlet.qris_payload = payload
            audit.record("devices.qris_changed", actor=g.user, target_type="outlet", target_id=outlet.code,
                         before=before, after={"qris": bool(payload)})
            name = outlet.name
    except PosError as exc:
        flash(gettext(exc.message, **exc.params), "error")
        return redirect(url_for("devices.index"))
    flash(gettext("The QRIS of %(outlet)s was saved.", outlet=name), "success")
    return redirect(url_for("devices.index"))


def _check_printer(conn) -> None:
    """Where a printer may write: device files only to devices, folders only inside the instance folder (a
    connection string must not be a way to overwrite the database or the secret key)."""
    import os
    import stat
    from pathlib import Path

    if len(conn.spec) > 200:
        raise ValueError("at most 200 characters")
    if conn.kind == "file":
        try:
            if not stat.S_ISCHR(os.stat(conn.path).st_mode):
                raise ValueError(f"{conn.path} is not a printer device")
        except OSError:
            raise ValueError(f"{conn.path} does not exist") from None
    if conn.kind == "folder":
        instance = Path(current_app.instance_path).resolve()
        target = Path(conn.path).resolve()
        if target != instance and instance not in target.parents:
            raise ValueError("a printer folder is inside the instance folder, e.g. instance/printer-out/")


@bp.post("/kasir/<code>")
@require("devices.manage")
def configure(code: str):
    from drivers.connectors import parse
    from receipts.profiles import PROFILES

    form = request.form
    try:
        with write_transaction():
            till = _till(code)
            printer = form.get("printer", "").strip()
            if printer:
                try:
                    _check_printer(parse(printer))
                except ValueError as exc:
                    raise InvalidInput(
                        N_("The printer connection is not valid: %(reason)s"), reason=str(exc)[:120]
                    ) from None
            if form.get("printer_profile") not in PROFILES:
                raise InvalidInput(N_("Unknown printer profile."))
            if form.get("drawer_pin") not in ("2", "5"):
                raise InvalidInput(N_("The cash drawer pin is 2 or 5."))
            if (
                form.get("scale_protocol", "") not in SCALE_PROTOCOLS
                or form.get("display_commands", "") not in DISPLAY_COMMANDS
            ):
                raise InvalidInput(N_("Unknown device protocol."))
            before = {
                k: getattr(till, k)
                for k in (
                    "printer",
                    "printer_profile",
                    "drawer_pin",
                    "scanner_port",
                    "scale_port",
                    "scale_protocol",
                    "display_port",
                    "display_commands",
                )
            }
            if printer != till.printer:
                printing.follow_printer_change(till, printer or printing.folder_printer(current_app))
            till.printer, till.printer_profile = printer, form["printer_profile"]
            till.drawer_pin = int(form["drawer_pin"])
            for name in ("scanner_port", "scale_port", "display_port"):
                value = form.get(name, "").strip()
                if any(ord(ch) < 32 for ch in value) or len(value) > 200:
                    raise InvalidInput(N_("A port is a device path such as /dev/ttyUSB0."))
                setattr(till, name, value)
            till.scale_protocol, till.display_commands = (
                form.get("scale_protocol", ""),
                form.get("display_commands", ""),
            )
            after = {k: getattr(till, k) for k in before}
            audit.record(
                "devices.configured", actor=g.user, target_type="till", target_id=till.code, before=before, after=after
            )
            scanner_port, till_code = till.scanner_port, till.code
    except PosError as exc:
        flash(gettext(exc.message, **exc.params), "error")
        return redirect(url_for("devices.index"))
    if current_app.extensions.get("kasir_print_workers") is not None:
        _runtime().start_scanner(till_code, scanner_port)
    flash(gettext("The devices of %(till)s were saved.", till=till_code), "success")
    return redirect(url_for("devices.index"))


@bp.post("/kasir/<code>/tes")
@require("devices.manage")
def test_print(code: str):
    with write_transaction():
        till = _till(code)
        printer = printing.printer_of(till)
        printing.print_document(
            printer_test_document(printer, till.printer_profile),
            kind="test",
            source_type="test_page",
            source_id=uuid.uuid4().hex,
            till=till,
            user=g.user,
        )
    printing.notify(printer)
    flash(gettext("A test page was queued for %(till)s.", till=till.code), "success")
    return redirect(url_for("devices.index"))


@bp.post("/kasir/<code>/laci")
@require("devices.manage")
def open_drawer(code: str):
    """Kick the cash drawer by hand (no sale): always audited, with the reason."""
    from receipts.escpos import kick_drawer_bytes

    reason = request.form.get("reason", "").strip()[:200]
    if not reason:
        flash(gettext("Give the reason for opening the drawer."), "error")
        return redirect(url_for("devices.index"))
    from drivers.connectors import open_printer, parse
    from drivers.errors import DeviceError

    till = _till(code)
    # Sent now or not at all: a kick queued while the printer is off would open the drawer by itself later.
    try:
        port = open_printer(parse(printing.printer_of(till)))
        try:
            port.send(f"drawer-{uuid.uuid4().hex}", kick_drawer_bytes(till.drawer_pin))
        finally:
            port.close()
        opened = True
    except (DeviceError, OSError, ValueError) as exc:
        opened = False
        current_app.logger.info("drawer of %s: %s", till.code, exc)
    with write_transaction():
        audit.record("drawer.opened" if opened else "drawer.failed", actor=g.user, target_type="till",
                     target_id=till.code, reason=reason)
    if opened:
        flash(gettext("The drawer of %(till)s opens.", till=till.code), "success")
    else:
        flash(gettext("The drawer did not open: the printer does not answer."), "error")
    return redirect(url_for("devices.index"))


@bp.post("/kasir/<code>/status")
@require("devices.manage")
def printer_status(code: str):
    from drivers.connectors import DeviceError, open_printer, parse

    till = _till(code)
    try:
        port = open_printer(parse(printing.printer_of(till)))
        try:
            status = port.status().value
        finally:
            port.close()
    except (DeviceError, OSError, ValueError) as exc:
        status = "offline"
        current_app.logger.info("printer status of %s: %s", till.code, exc)
    flash(gettext("Printer of %(till)s: %(status)s", till=till.code, status=status), "info")
    return redirect(url_for("devices.index"))


@bp.post("/antrian/<int:job_id>/<action>")
@require("devices.manage")
def job_action(job_id: int, action: str):
    try:
        if action == "cetak-ulang":
            job = printing.reprint(job_id, g.user, printing.rerender)
        elif action == "lepas":
            job = printing.release(job_id, g.user)
        elif action == "buang":
            printing.discard(job_id, g.user)
            return redirect(url_for("devices.index"))
        else:
            abort(404)
    except PosError as exc:
        flash(gettext(exc.message, **exc.params), "error")
        return redirect(url_for("devices.index"))
    printing.notify(job.printer)
    return redirect(url_for("devices.index"))


@bp.get("/kasir/<code>/scan")
@require("till.operate")
def scan_events(code: str):
    """The till page's stream of scans from its serial scanner (missed scans arrive flagged)."""
    from pos.web.streams import capped_stream
    from pos.web.till import _till as served_till

    till = served_till(code)  # only the tills this server serves
    # Each stream holds a server thread: a few at a time, so pages and sales always find one.
    return capped_stream(STREAMS, lambda: _runtime().broker.subscribe(
        till.code, request.headers.get("Last-Event-ID"), timeout=5.0))


@bp.get("/kasir/<code>/timbangan")
@require("till.operate")
def weigh(code: str):
    """The weight on the till's scale, only when it is stable (JSON for the till page)."""
    from flask import jsonify

    from drivers.errors import DeviceError
    from drivers.scale import SerialScale

    till = _till(code)
    if not till.scale_port or not till.scale_protocol:
        return jsonify(error="no_scale", message=gettext("This till has no scale.")), 404
    runtime = _runtime()
    with SCALES_LOCK:
        scale = runtime.scales.get(till.code)
        if scale is None or (scale.port, scale.protocol.name) != (till.scale_port, till.scale_protocol):
            if scale is not None:
                scale.close()  # the old port is released, not left open
            scale = SerialScale(till.scale_port, till.scale_protocol)
            runtime.scales[till.code] = scale
    try:
        weight = scale.read_stable(timeout=3.0)
    except DeviceError as exc:
        name = type(exc).__name__
        message = {
            "ScaleUnstable": gettext("The scale is still moving: wait for a steady weight."),
            "ScaleOverload": gettext("The scale is overloaded."),
        }.get(name, gettext("The scale does not answer."))
        _runtime().broker.publish(till.code, {"type": "weight", "error": name, "till": till.code})
        return jsonify(error=name, message=message), 409
    _runtime().broker.publish(till.code, {"type": "weight", "kg": str(weight), "till": till.code})
    return jsonify(kg=str(weight))


@bp.post("/kasir/<code>/layar")
@require("devices.manage")
def test_display(code: str):
    """Write a greeting to the till's pole display, to check the port and the command set."""
    from drivers.display import PoleDisplay
    from drivers.errors import DeviceError

    till = _till(code)
    if not till.display_port or not till.display_commands:
        flash(gettext("This till has no pole display."), "error")
        return redirect(url_for("devices.index"))
    try:
        display = PoleDisplay(till.display_port, till.display_commands)
        try:
            display.show("KOPERASI MERAH PUTIH", "Selamat datang")
        finally:
            display.close()
    except (DeviceError, OSError) as exc:
        flash(gettext("The pole display does not answer: %(reason)s", reason=str(exc)[:120]), "error")
        return redirect(url_for("devices.index"))
    flash(gettext("The pole display of %(till)s shows a greeting.", till=till.code), "success")
    return redirect(url_for("devices.index"))
