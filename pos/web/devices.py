"""The devices page (manajer): serial ports, each till's printer, profile, drawer, scanner, scale and pole display;
test print, open drawer (audited), printer status, the print queue (reprint, release, discard); and the till page's
scan stream (Server-Sent Events)."""

from __future__ import annotations

import threading
import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm

from pos import audit, printing
from pos.db import db, write_transaction
from pos.errors import N_, Conflict, InvalidInput, PosError
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


DEVICE_FIELDS = ("printer", "printer_profile", "drawer_pin", "scanner_port", "scale_port", "scale_protocol",
                 "display_port", "display_commands")
JOB_KIND_LABELS = {
    "receipt": _l("receipt"),
    "test": _l("test page"),
    "label": _l("shelf labels"),
    "slip": _l("savings slip"),
    "report": _l("shift report"),
    "shift_z": _l("Z report"),
    "drawer": _l("cash drawer"),
}
DEVICE_STATE_LABELS = {
    "connected": _l("connected"),
    "disconnected": _l("disconnected: reconnecting"),
    "stopped": _l("stopped"),
}
EVENT_LABELS = {"scan": _l("scan"), "scanner": _l("scanner"), "weight": _l("weight")}


@bp.app_template_filter("job_error")
def job_error(text: str) -> str:
    """A print job's last error in the reader's language (the queue stores English msgids; older rows pass)."""
    return gettext(text) if text else ""


@bp.app_template_filter("job_kind")
def job_kind(kind: str) -> str:
    return str(JOB_KIND_LABELS.get(kind, kind))


@bp.app_template_filter("device_state")
def device_state(state: str) -> str:
    return str(DEVICE_STATE_LABELS.get(state, state))


@bp.app_template_filter("device_event")
def device_event(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind))


def _page(status: int = 200, *, errors: dict | None = None, submitted: dict | None = None):
    """The devices page. After a refusal: the submitted form again, each error at its field, with a 4xx status.
    `errors` and `submitted` are keyed by form ("till:TK01", "outlet:TK", "drawer:TK01")."""
    from drivers.ports import list_serial_ports
    from pos.models import Outlet
    from pos.sales.qris import QrisError, parse_static
    from receipts.profiles import PROFILES

    tills = db.session.scalars(sa.select(Till).order_by(Till.code)).all()
    jobs = db.session.scalars(sa.select(PrintJob).order_by(PrintJob.id.desc()).limit(QUEUE_SIZE).options(
        orm.defer(PrintJob.data), orm.defer(PrintJob.html))).all()  # the printer's bytes and the receipt stay unread
    outlets = [o for o in db.session.scalars(sa.select(Outlet).order_by(Outlet.code)) if o.tills]
    qris_names = {}
    for outlet in outlets:
        try:
            qris_names[outlet.code] = parse_static(outlet.qris_payload).merchant_name if outlet.qris_payload else ""
        except QrisError:
            qris_names[outlet.code] = "?"
    runtime = _runtime()
    recent = {till.code: runtime.broker.recent(till.code, 5) for till in tills}
    html = render_template(
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
        errors=errors or {},
        submitted=submitted or {},
    )
    return html, status


def _refused(exc: PosError, *, form: str | None = None, submitted: dict | None = None):
    """Answer a refusal with the page and the refusal's status (never a redirect): the message at its field when
    the error names one, otherwise on top."""
    message = gettext(exc.message, **exc.params)
    if form and exc.field:
        flash(gettext("Not done: correct the marked field."), "error")
        return _page(_status(exc), errors={form: {exc.field: message}}, submitted={form: submitted or {}})
    flash(message, "error")
    return _page(_status(exc), submitted={form: submitted or {}} if form else None)


def _status(exc: PosError) -> int:
    return 422 if exc.status == 400 else exc.status


def _setting_refused(exc: ValueError, field: str, wrap: str | None = None) -> InvalidInput:
    """A driver's InvalidSetting (or any other ValueError) as a translated refusal at `field`; `wrap` is a msgid
    with a %(reason)s placeholder for the driver's message."""
    from drivers.errors import InvalidSetting

    if not isinstance(exc, InvalidSetting):
        exc = InvalidSetting(N_("the value is not valid"))
    if wrap:
        return InvalidInput(wrap, reason=gettext(exc.message, **exc.params)).at(field)
    return InvalidInput(exc.message, **exc.params).at(field)


@bp.get("/")
@require("devices.manage")
def index():
    return _page()


@bp.post("/outlet/<code>/qris")
@require("devices.manage")
def outlet_qris(code: str):
    """Store an outlet's static QRIS string, parsed and its CRC checked first (empty: the outlet takes no QRIS)."""
    from pos.models import Outlet
    from pos.sales.qris import parse_static

    text = request.form.get("qris", "").strip()
    form = f"outlet:{code.upper()[:20]}"
    try:
        try:
            payload = parse_static(text).payload if text else ""
        except PosError as exc:
            raise exc.at("qris") from None
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
        return _refused(exc, form=form, submitted={"qris": text})
    flash(gettext("The QRIS of %(outlet)s was saved.", outlet=name), "success")
    return redirect(url_for("devices.index"))


def _printer_policy():
    settings = current_app.config["KASIR"]
    return settings["printer_networks"], settings["printer_ports"]


def _check_printer(conn) -> None:
    """Where a printer may write or connect (InvalidSetting otherwise): device files only to devices, folders only
    inside the instance folder (a connection string must not be a way to overwrite the database or the secret key),
    serial printers only on serial ports, network printers only on the shop's network at a printer port."""
    import os
    import stat
    from pathlib import Path

    from drivers.connectors import check_network_printer
    from drivers.errors import InvalidSetting
    from drivers.ports import check_serial_port

    if len(conn.spec) > 200:
        raise InvalidSetting(N_("the printer connection is longer than %(max)s characters"), max=200)
    if conn.kind == "file":
        # One answer for "missing" and "not a device": the form must not tell which files exist.
        not_a_device = InvalidSetting(N_("'%(path)s' is not a printer device such as /dev/usb/lp0"), path=conn.path)
        if not conn.path.startswith("/dev/") or "/." in conn.path:
            raise not_a_device
        try:
            if not stat.S_ISCHR(os.stat(conn.path).st_mode):
                raise not_a_device
        except OSError:
            raise not_a_device from None
    if conn.kind == "serial":
        check_serial_port(conn.path)
    if conn.kind == "network":
        check_network_printer(conn, *_printer_policy())
    if conn.kind == "folder":
        instance = Path(current_app.instance_path).resolve()
        target = Path(conn.path).resolve()
        if target != instance and instance not in target.parents:
            raise InvalidSetting(N_("a printer folder is inside the instance folder, e.g. instance/printer-out/"))


def _device_settings(form) -> tuple[dict, dict]:
    """The till's device settings from the form, each checked: (values, errors by field)."""
    from drivers.connectors import parse
    from drivers.ports import check_serial_port
    from receipts.profiles import PROFILES

    values = {name: form.get(name, "").strip() for name in DEVICE_FIELDS}
    errors: dict[str, str] = {}
    if values["printer"]:
        try:
            conn = parse(values["printer"])
            _check_printer(conn)
        except ValueError as exc:
            refusal = _setting_refused(exc, "printer", N_("The printer connection is not valid: %(reason)s"))
            errors["printer"] = gettext(refusal.message, **refusal.params)
    if values["printer_profile"] not in PROFILES:
        errors["printer_profile"] = gettext("Unknown printer profile.")
    if values["drawer_pin"] not in ("2", "5"):
        errors["drawer_pin"] = gettext("The cash drawer pin is 2 or 5.")
    if values["scale_protocol"] not in SCALE_PROTOCOLS:
        errors["scale_protocol"] = gettext("Unknown device protocol.")
    if values["display_commands"] not in DISPLAY_COMMANDS:
        errors["display_commands"] = gettext("Unknown device protocol.")
    for name in ("scanner_port", "scale_port", "display_port"):
        try:
            values[name] = check_serial_port(values[name])
        except ValueError as exc:
            refusal = _setting_refused(exc, name)
            errors[name] = gettext(refusal.message, **refusal.params)
    return values, errors


@bp.post("/kasir/<code>")
@require("devices.manage")
def configure(code: str):
    till = _till(code)
    form_key = f"till:{till.code}"
    submitted = {name: request.form.get(name, "")[:500] for name in DEVICE_FIELDS}
    values, errors = _device_settings(request.form)
    if errors:
        flash(gettext("The devices of %(till)s were not saved: correct the marked fields.", till=till.code), "error")
        return _page(422, errors={form_key: errors}, submitted={form_key: submitted})
    try:
        with write_transaction():
            till = _till(code)
            before = {k: getattr(till, k) for k in DEVICE_FIELDS}
            if values["printer"] != till.printer:
                printing.follow_printer_change(till, values["printer"] or printing.folder_printer(current_app))
            till.printer, till.printer_profile = values["printer"], values["printer_profile"]
            till.drawer_pin = int(values["drawer_pin"])
            till.scanner_port, till.scale_port, till.display_port = (
                values["scanner_port"], values["scale_port"], values["display_port"])
            till.scale_protocol, till.display_commands = values["scale_protocol"], values["display_commands"]
            after = {k: getattr(till, k) for k in before}
            audit.record(
                "devices.configured", actor=g.user, target_type="till", target_id=till.code, before=before, after=after
            )
            scanner_port, till_code = till.scanner_port, till.code
    except PosError as exc:
        return _refused(exc, form=form_key, submitted=submitted)
    if current_app.extensions.get("kasir_print_workers") is not None:
        _runtime().start_scanner(till_code, scanner_port)
    flash(gettext("The devices of %(till)s were saved.", till=till_code), "success")
    return redirect(url_for("devices.index"))


def _allowed_printer(till: Till):
    """The till's printer connection, parsed and checked against today's rules (a row saved before them, or by
    another tool, is not connected to); InvalidInput when it may not be used."""
    from drivers.connectors import parse

    try:
        conn = parse(printing.printer_of(till))
        _check_printer(conn)
    except ValueError as exc:
        raise _setting_refused(exc, "printer", N_("The printer connection is not valid: %(reason)s")) from None
    return conn


@bp.post("/kasir/<code>/tes")
@require("devices.manage")
def test_print(code: str):
    try:
        with write_transaction():
            till = _till(code)
            _allowed_printer(till)
            printer = printing.printer_of(till)
            printing.print_document(
                printer_test_document(printer, till.printer_profile),
                kind="test",
                source_type="test_page",
                source_id=uuid.uuid4().hex,
                till=till,
                user=g.user,
            )
    except PosError as exc:
        return _refused(exc)
    printing.notify(printer)
    flash(gettext("A test page was queued for %(till)s.", till=till.code), "success")
    return redirect(url_for("devices.index"))


@bp.post("/kasir/<code>/laci")
@require("devices.manage")
def open_drawer(code: str):
    """Kick the cash drawer by hand (no sale): always audited, with the reason."""
    from drivers.connectors import open_printer
    from drivers.errors import DeviceError
    from receipts.escpos import kick_drawer_bytes

    till = _till(code)
    reason = request.form.get("reason", "").strip()
    try:
        if not reason:
            raise InvalidInput(N_("Give the reason for opening the drawer.")).at("reason")
        if len(reason) > 200 or any(ord(ch) < 32 or ord(ch) == 127 for ch in reason):
            raise InvalidInput(N_("The reason is at most 200 characters, on one line.")).at("reason")
        conn = _allowed_printer(till)
    except PosError as exc:
        return _refused(exc, form=f"drawer:{till.code}", submitted={"reason": reason[:200]})
    # Sent now or not at all: a kick queued while the printer is off would open the drawer by itself later.
    try:
        port = open_printer(conn)
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
    """Ask the till's printer how it is. The answer is one of a few translated sentences: every way of not reaching
    a network printer (refused, timed out, unreachable, not a printer) reads the same, so this is no port scanner."""
    from drivers.connectors import PrinterStatus, open_printer

    till = _till(code)
    try:
        conn = _allowed_printer(till)
    except PosError as exc:
        return _refused(exc)
    try:
        port = open_printer(conn)
        try:
            status = port.status()
        finally:
            port.close()
    except Exception as exc:  # noqa: BLE001 - status() never raises; whatever does is "not reached", logged
        status = PrinterStatus.OFFLINE
        current_app.logger.info("printer status of %s: %s", till.code, exc)
    flash(gettext(printing.status_message(conn.kind, status), till=till.code),
          "success" if status is PrinterStatus.ONLINE else "info")
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
        return _refused(exc)
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
    from drivers.ports import check_serial_port
    from drivers.scale import SerialScale

    till = _till(code)
    if not till.scale_port or not till.scale_protocol:
        return jsonify(error="no_scale", message=gettext("This till has no scale.")), 404
    try:
        check_serial_port(till.scale_port)  # a port saved before the rules, or by another tool, is not opened
    except ValueError as exc:
        return jsonify(error="bad_port", message=gettext(exc.message, **exc.params)), 409
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
    from drivers.ports import check_serial_port

    till = _till(code)
    try:
        if not till.display_port or not till.display_commands:
            raise Conflict(N_("This till has no pole display."))
        try:
            check_serial_port(till.display_port)
        except ValueError as exc:
            raise _setting_refused(exc, "display_port") from None
    except PosError as exc:
        return _refused(exc)
    try:
        display = PoleDisplay(till.display_port, till.display_commands)
        try:
            display.show("KOPERASI MERAH PUTIH", "Selamat datang")
        finally:
            display.close()
    except (DeviceError, OSError) as exc:
        current_app.logger.info("pole display of %s: %s", till.code, exc)
        flash(gettext("The pole display of %(till)s does not answer: check its cable, its port and its power.",
                      till=till.code), "error")
        return redirect(url_for("devices.index"))
    flash(gettext("The pole display of %(till)s shows a greeting.", till=till.code), "success")
    return redirect(url_for("devices.index"))
