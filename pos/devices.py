"""The devices of this server process: one print worker per printer, one serial scanner per till that has one
(each scan pushed to the till page through the scan broker), started once, from the first request."""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa
from flask import Flask

from pos.db import db
from pos.models import PrintJob, Till
from pos.printing import PrintWorkers, printer_of, recover_interrupted


class DeviceRuntime:
    def __init__(self, app: Flask) -> None:
        from drivers.events import ScanBroker

        self.app = app
        self.broker = ScanBroker()
        self.print_workers = PrintWorkers(app)
        self.scanners: dict[str, object] = {}
        self.scales: dict[str, object] = {}
        self.scanner_states: dict[str, str] = {}
        self.screens: dict[str, dict] = {}  # what each till's customer screen shows now
        self.displays: dict[str, object] = {}
        self.started = False
        self.lock = threading.Lock()

    def start(self) -> None:
        """Start workers for every till's printer and readers for every configured scanner (idempotent)."""
        with self.lock:
            if self.started:
                return
            self.started = True
        with self.app.app_context():
            recover_interrupted()
            tills = db.session.scalars(sa.select(Till).where(Till.active.is_(True))).all()
            printers = {printer_of(till) for till in tills} | set(db.session.scalars(
                sa.select(PrintJob.printer).where(PrintJob.status == "queued").distinct()))
            scanners = {till.code: till.scanner_port for till in tills if till.scanner_port}
            db.session.remove()
        for printer in printers:
            self.print_workers.ensure(printer)
        for code, port in scanners.items():
            self.start_scanner(code, port)

    def start_scanner(self, till_code: str, port: str) -> None:
        from drivers.scanner import SerialScanner

        old = self.scanners.pop(till_code, None)
        if old is not None:
            old.stop()
        if not port:
            return

        def on_scan(code: str, till=till_code) -> None:
            self.broker.publish(till, {"type": "scan", "code": code, "till": till,
                                       "at": dt.datetime.now(dt.UTC).isoformat()})

        def on_state(state: str, till=till_code) -> None:
            self.scanner_states[till] = state
            self.broker.publish(till, {"type": "scanner", "state": state, "till": till}, keep_if_missed=False)

        scanner = SerialScanner(port, on_scan=on_scan, on_state=on_state, name=f"scanner:{till_code}")
        scanner.start()
        self.scanners[till_code] = scanner

    def show_customer(self, till_code: str, state: dict) -> None:
        """The customer screen's new state: kept (a screen that opens now starts from it) and pushed to open ones."""
        self.screens[till_code] = state
        self.broker.publish(customer_channel(till_code), state, keep_if_missed=False)

    def pole_display(self, till_code: str, port: str, commands: str):
        """The till's pole display, opened once and kept; a changed port or command set opens a new one."""
        from drivers.display import PoleDisplay

        with self.lock:
            display = self.displays.get(till_code)
            if display is None or (display.port, display.command_set.name) != (port, commands):
                if display is not None:
                    display.close()
                display = PoleDisplay(port, commands)
                self.displays[till_code] = display
            return display

    def shutdown(self) -> None:
        for scanner in self.scanners.values():
            scanner.stop()
        for display in self.displays.values():
            display.close()
        self.print_workers.shutdown()


def customer_channel(till_code: str) -> str:
    return f"layar:{till_code}"


def init_app(app: Flask) -> None:
    runtime = DeviceRuntime(app)
    app.extensions["kasir_devices"] = runtime
    app.extensions["kasir_print_workers"] = runtime.print_workers if app.config["KASIR"]["devices_autostart"] \
        and not app.testing else None
    if app.extensions["kasir_print_workers"] is None:
        return

    @app.before_request
    def _start_devices():
        if not runtime.started:
            runtime.start()
