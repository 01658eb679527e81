"""Languages and template helpers: Bahasa Indonesia first, money as Rp 12.500, local times, the role's menu."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, request, session, url_for
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l

from pos.formats import format_date, format_datetime, month_label, zone_abbreviation
from pos.money import format_number, format_rupiah
from pos.permissions import PIN_SESSION_PERMISSIONS, ROLE_PERMISSIONS, has_permission

LOCALES = ("id", "en")
ROLE_LABELS = {
    "kasir": _l("Cashier"),
    "apoteker": _l("Pharmacist"),
    "gudang": _l("Stock manager"),
    "manajer": _l("Unit manager"),
    "pengurus": _l("Board"),
    "pengawas": _l("Supervisor"),
}
UNIT_LABELS = {
    "toko": _l("Grocery shop"),
    "apotek": _l("Pharmacy"),
    "gudang": _l("Warehouse"),
    "simpan_pinjam": _l("Savings and loans"),
}


SHU_LABELS = {
    "cadangan": _l("Reserve (cadangan)"),
    "jasa_anggota": _l("Members, by purchases (jasa anggota)"),
    "jasa_modal": _l("Members, by savings (jasa modal)"),
    "pengurus": _l("Board fund"),
    "karyawan": _l("Staff fund"),
    "pendidikan": _l("Education fund"),
    "sosial": _l("Social fund"),
    "pembangunan": _l("Local development fund"),
}


JOB_STATUS_LABELS = {
    "queued": _l("waiting to print"),
    "printing": _l("printing"),
    "done": _l("printed"),
    "held": _l("held: waiting for you"),
}
SALE_STATUS_LABELS = {
    "pending": _l("waiting for QRIS"),
    "completed": _l("completed"),
    "cancelled": _l("cancelled"),
    "voided": _l("void"),
}
SHIFT_STATUS_LABELS = {"open": _l("open"), "closed": _l("closed")}
METHOD_LABELS = {
    "cash": _l("Cash"),
    "qris": "QRIS",
    "transfer": _l("Transfer"),
    "debit": _l("Debit card"),
    "kasbon": _l("Kasbon"),
}
TIER_LABELS = {
    "public": _l("shelf price"),
    "member": _l("member price"),
    "wholesale": _l("wholesale price"),
    "override": _l("manager's price"),
    "label": _l("scale label"),
}


@dataclass(frozen=True)
class MenuItem:
    endpoint: str
    label: object
    permission: str


MENU = (
    MenuItem("main.dashboard", _l("Dashboard"), "dashboard.view"),
    MenuItem("till.index", _l("Till"), "till.operate"),
    MenuItem("sales.index", _l("Sales"), "sales.view"),
    MenuItem("members.index", _l("Members"), "members.view"),
    MenuItem("catalog.index", _l("Products"), "catalog.view"),
    MenuItem("stock_ops.index", _l("Warehouse"), "stock.manage"),
    MenuItem("stock_reports.index", _l("Stock"), "stock.view"),
    MenuItem("ledger.index", _l("Books"), "ledger.view"),
    MenuItem("main.outlets", _l("Outlets and tills"), "outlets.view"),
    MenuItem("devices.index", _l("Devices"), "devices.manage"),
    MenuItem("admin.users", _l("Users"), "users.view"),
    MenuItem("admin.audit", _l("Audit log"), "audit.view"),
    MenuItem("main.settings", _l("Settings"), "settings.view"),
)


def select_locale() -> str:
    user = g.get("user")
    if user is not None and user.locale in LOCALES:
        return user.locale
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return current_app.config["KASIR"]["default_locale"]


def display_timezone() -> str:
    user = g.get("user")
    if user is not None and user.outlet is not None and user.outlet.timezone:
        return user.outlet.timezone
    return current_app.config["KASIR"]["timezone"]


def local_today() -> dt.date:
    """Today where the user works (a server on UTC would otherwise date early-morning work yesterday)."""
    return dt.datetime.now(ZoneInfo(display_timezone())).date()


def menu_for_request() -> list[MenuItem]:
    user = g.get("user")
    if user is None:
        return []
    items = [item for item in MENU if has_permission(user.role, item.permission)]
    if g.get("via") == "pin":
        items = [item for item in items if item.permission in PIN_SESSION_PERMISSIONS]
    return items


def home_url() -> str:
    """Where 'home' is: the dashboard, a PIN session's till (it may not open the dashboard), or sign-in."""
    if g.get("user") is None:
        return url_for("auth.login")
    live = g.get("user_session")
    if g.get("via") == "pin" and live is not None and live.till is not None:
        return url_for("till.show", code=live.till.code)
    return url_for("main.dashboard")


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)

    locale_name = lambda: str(get_locale() or "id")  # noqa: E731

    app.jinja_env.filters["rupiah"] = lambda amount: format_rupiah(amount, app.config["KASIR"]["currency_symbol"])
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["date"] = lambda value: format_date(value, display_timezone(), locale_name())
    app.jinja_env.filters["datetime"] = lambda value: format_datetime(value, display_timezone(), locale_name())
    app.jinja_env.filters["month"] = lambda value: month_label(value.year, value.month, locale_name())
    app.jinja_env.filters["role_label"] = lambda role: ROLE_LABELS.get(getattr(role, "value", role), role)
    app.jinja_env.filters["unit_label"] = lambda kind: UNIT_LABELS.get(getattr(kind, "value", kind), kind)
    app.jinja_env.filters["zone"] = zone_abbreviation
    app.jinja_env.filters["shu_label"] = lambda key: SHU_LABELS.get(key, key)
    app.jinja_env.filters["job_status"] = lambda key: JOB_STATUS_LABELS.get(key, key)
    app.jinja_env.filters["sale_status"] = lambda key: SALE_STATUS_LABELS.get(key, key)
    app.jinja_env.filters["shift_status"] = lambda key: SHIFT_STATUS_LABELS.get(key, key)
    app.jinja_env.filters["method_label"] = lambda key: METHOD_LABELS.get(key, key)
    app.jinja_env.filters["tier_label"] = lambda key: TIER_LABELS.get(key, key)

    @app.context_processor
    def inject():
        user = g.get("user")
        return {
            "current_user": g.get("user"),
            "current_user_permissions": ROLE_PERMISSIONS[user.role] if user is not None else frozenset(),
            "signed_in_via": g.get("via"),
            "menu": menu_for_request(),
            "kasir": app.config["KASIR"],
            "current_locale": locale_name(),
            "display_timezone": display_timezone(),
            "request_path": request.path,
            "home_url": home_url(),
        }
