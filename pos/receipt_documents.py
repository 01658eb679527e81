"""Printable documents stored with their print jobs as JSON, turned into receipts and rendered for a printer
profile: the one place that knows how a job's document maps to the receipts package."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import current_app

from receipts import escpos, html, layout, model, profiles

DATE_KEYS = {"expiry"}
DATETIME_KEYS = {"printed_at", "opened_at", "closed_at"}
DECIMAL_KEYS = {"quantity"}


def to_json(value: Any) -> Any:
    """Dates, datetimes and Decimals as strings, so the document can be stored and rendered again later."""
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def from_json(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: from_json(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v, key) for v in value]
    if isinstance(value, str) and key in DATETIME_KEYS:
        return dt.datetime.fromisoformat(value)
    if isinstance(value, str) and key in DATE_KEYS:
        return dt.date.fromisoformat(value)
    if isinstance(value, str) and key in DECIMAL_KEYS:
        return Decimal(value)
    return value


def header() -> dict:
    s = current_app.config["KASIR"]
    return {"cooperative_name": s["cooperative_name"], "outlet_name": s["cooperative_city"],
            "address_lines": [s["cooperative_address"]], "npwp": s["npwp"] or None,
            "pkp": s["tax_status"] == "pkp", "note": s["receipt_header"]}


def to_receipt(document: dict, copy: bool = False) -> model.Receipt:
    kind, data = document["kind"], from_json(document.get("data", {}))
    if kind == "test":
        return model.test_page(data["printer_name"], data["profile"], printed_at=data.get("printed_at"),
                               timezone=data.get("timezone", "Asia/Makassar"), header=data.get("header"))
    data = {**data, "copy": copy} if copy or "copy" in data else data
    builders = {"sale": model.sale_receipt, "return": model.return_receipt, "slip": model.slip_receipt}
    if kind in builders:
        return builders[kind](data)
    if kind in ("shift_x", "shift_z"):
        return model.shift_report(data, kind == "shift_z")
    raise ValueError(f"unknown document kind {kind!r}")


def render(document: dict, profile_name: str, copy: bool = False) -> tuple[bytes, str]:
    """ESC/POS bytes and the HTML rendering of the same content."""
    profile = profiles.get_profile(profile_name)
    receipt = to_receipt(document, copy)
    return escpos.render_escpos(layout.layout(receipt, profile), profile), html.render_html(receipt, profile)


def printer_test_document(printer_name: str, profile_name: str) -> dict:
    settings = current_app.config["KASIR"]
    return {"kind": "test", "data": to_json({
        "printer_name": printer_name[:60], "profile": profile_name, "timezone": settings["timezone"],
        "printed_at": dt.datetime.now(dt.UTC), "header": header()})}
