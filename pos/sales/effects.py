"""After a sale commits: wake the receipt printer, open the cash drawer, show the customer screen and the pole
display. Nothing here can undo or block a sale: faults are logged, never raised, and the work runs beside the
answer (inline under tests, so they can read the bytes)."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass

from flask import Flask, current_app

from pos.money import format_rupiah

log = logging.getLogger(__name__)
CART_LINES_SHOWN = 8


@dataclass(frozen=True)
class TillDevices:
    """What the effects need of a till, read before the request ends (no database in the worker thread)."""

    code: str
    printer: str
    drawer_pin: int
    display_port: str
    display_commands: str

    @classmethod
    def of(cls, till) -> TillDevices:
        from pos.printing import printer_of

        return cls(till.code, printer_of(till), till.drawer_pin, till.display_port, till.display_commands)


def _runtime():
    return current_app.extensions["kasir_devices"]


def run_after(app: Flask, work) -> None:
    def guarded():
        try:
            with app.app_context():
                work()
        except Exception:  # an effect must never reach the cashier as an error
            app.logger.exception("after-sale effect failed")

    if app.testing:
        guarded()
    else:
        threading.Thread(target=guarded, name="after-sale", daemon=True).start()


def kick_drawer(devices: TillDevices) -> bool:
    """Open the drawer now or not at all (a kick queued while the printer is off would open it later by itself)."""
    from drivers.connectors import open_printer, parse
    from drivers.errors import DeviceError
    from receipts.escpos import kick_drawer_bytes

    try:
        port = open_printer(parse(devices.printer))
        try:
            port.send(f"drawer-{uuid.uuid4().hex}", kick_drawer_bytes(devices.drawer_pin))
        finally:
            port.close()
        return True
    except (DeviceError, OSError, ValueError) as exc:
        log.info("drawer of %s did not open: %s", devices.code, exc)
        return False


def show_pole(devices: TillDevices, line1: str, line2: str) -> None:
    from drivers.errors import DeviceError

    if not (devices.display_port and devices.display_commands):
        return
    try:
        _runtime().pole_display(devices.code, devices.display_port, devices.display_commands).show(line1, line2)
    except (DeviceError, OSError) as exc:  # unplugged: the next screen tries again
        log.info("pole display of %s: %s", devices.code, exc)


def show_screen(devices: TillDevices, state: dict) -> None:
    _runtime().show_customer(devices.code, state)


def cart_state(priced) -> dict:
    """What the customer screen shows of a cart being rung up (the last lines, the total)."""
    lines = [{"name": line.product.name, "qty": str(line.quantity), "unit": line.unit.name,
              "total": line.price.total, "total_text": format_rupiah(line.price.total)} for line in priced.lines]
    return {"type": "cart", "lines": lines[-CART_LINES_SHOWN:], "line_count": len(lines), "total": priced.total,
            "total_text": format_rupiah(priced.total), "discount": priced.discount, "ppn": priced.ppn,
            "member": priced.member.name if priced.member else None}


def after_cart(priced, devices: TillDevices) -> None:
    """A scan or a change in the cart: the customer sees the line and the running total."""
    state = cart_state(priced)
    last = priced.lines[-1] if priced.lines else None
    app = current_app._get_current_object()

    def work():
        show_screen(devices, state)
        if last is not None:
            from drivers.display import item_lines

            show_pole(devices, *item_lines(last.product.name, last.price.total))
        else:
            show_pole(devices, "", "")

    run_after(app, work)


def sale_state(sale) -> dict:
    from receipts.html import qr_png

    state = {"type": "paid" if sale.status == "completed" else sale.status, "number": sale.number,
             "total": sale.total, "total_text": format_rupiah(sale.total), "tendered": sale.tendered,
             "tendered_text": format_rupiah(sale.tendered), "change": sale.change,
             "change_text": format_rupiah(sale.change)}
    if sale.status == "pending" and sale.qris_payload:
        import base64

        qris = sum(p.amount for p in sale.payments if p.method == "qris")
        state.update(type="qris", qris_amount=qris, qris_text=format_rupiah(qris),
                     qris_image="data:image/png;base64," + base64.b64encode(qr_png(sale.qris_payload)).decode())
    return state


def after_sale(sale, devices: TillDevices, *, opened_now: bool) -> None:
    """A sale answered: wake the printer; for a completed sale with cash, open the drawer (once: `opened_now` is
    False on a retry); show total and change, or the QRIS code while the payment is awaited."""
    from pos import printing

    state = sale_state(sale)
    has_cash = any(p.method == "cash" for p in sale.payments)
    completed = sale.status == "completed"
    app = current_app._get_current_object()

    def work():
        printing.notify(devices.printer)
        if opened_now and completed and has_cash:
            kick_drawer(devices)
        show_screen(devices, state)
        if completed:
            from drivers.display import change_lines

            show_pole(devices, *change_lines(sale.tendered, sale.change))
        elif state["type"] == "qris":
            from drivers.display import total_lines

            show_pole(devices, *total_lines(state["qris_amount"], "QRIS"))

    run_after(app, work)
