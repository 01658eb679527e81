"""The demo cooperative: Koperasi Kelurahan Merah Putih Kelayan Timur, Banjarmasin."""

from __future__ import annotations

import sqlalchemy as sa

from pos import audit
from pos.auth import hash_secret
from pos.db import db, write_transaction
from pos.models import BusinessUnit, Outlet, Role, SystemFlag, Till, UnitKind, User
from pos.production import DEMO_FLAG

DEMO_PASSWORD = "demo123"  # noqa: S105 - the documented demo password; refused in production
# username, full name, role, till PIN
DEMO_USERS = (
    ("kasir", "Siti Rahmah", Role.KASIR, "1111"),
    ("apoteker", "apt. Muhammad Rizki, S.Farm.", Role.APOTEKER, "2222"),
    ("gudang", "Ahmad Fauzi", Role.GUDANG, "3333"),
    ("manajer", "Nurul Hidayah", Role.MANAJER, "4444"),
    ("pengurus", "H. Abdul Rahman", Role.PENGURUS, "5555"),
    ("pengawas", "Hj. Fatimah Zahra", Role.PENGAWAS, "6666"),
)
# code, name, kind; then its outlets: code, name, address, tills (code, name)
DEMO_UNITS = (
    (
        "TOKO",
        "Toko Sembako",
        UnitKind.TOKO,
        (
            (
                "TK",
                "Toko Sembako Kelayan Timur",
                "Jl. Kelayan A No. 12, RT 05/RW 02, Kelayan Timur",
                (("TK01", "Kasir 1"), ("TK02", "Kasir 2")),
            ),
        ),
    ),
    (
        "APOTEK",
        "Apotek Koperasi",
        UnitKind.APOTEK,
        (
            (
                "AP",
                "Apotek Merah Putih Kelayan Timur",
                "Jl. Kelayan A No. 14, RT 05/RW 02, Kelayan Timur",
                (("AP01", "Kasir Apotek"),),
            ),
        ),
    ),
    (
        "GUDANG",
        "Gudang",
        UnitKind.GUDANG,
        (("GD", "Gudang Kelayan Timur", "Jl. Kelayan B Gg. Rahmat, RT 07/RW 03, Kelayan Timur", ()),),
    ),
    (
        "SP",
        "Simpan Pinjam",
        UnitKind.SIMPAN_PINJAM,
        (("SP", "Kantor Simpan Pinjam", "Jl. Kelayan A No. 12, RT 05/RW 02, Kelayan Timur", ()),),
    ),
)
class DemoRefused(RuntimeError):
    """The demo is only ever added to an empty database or to one that holds the demo already."""


USER_OUTLET = {"kasir": "TK", "apoteker": "AP", "gudang": "GD", "manajer": "TK"}


def load_demo(books: bool = True) -> bool:
    """Add what is missing of the demo; returns False when it was already complete.

    `books=False` loads only the cooperative, its outlets and users (what most tests need). With the books come
    the catalog, two years of books whose monthly takings sell goods received for them, the warehouse's stock
    received a month ago and the shelves filled from it, and the tills' last 30 days (each sale its own
    transaction, after the rest). Every item in stock came by a goods receipt, so the books' inventory is the
    stock's value without any correction.
    """
    import datetime as dt
    from zoneinfo import ZoneInfo

    from flask import current_app

    zone = current_app.config["KASIR"]["timezone"]
    today = dt.datetime.now(ZoneInfo(zone)).date()
    changed = False
    with write_transaction():
        if db.session.get(SystemFlag, DEMO_FLAG) is None and db.session.scalar(sa.select(sa.func.count()).select_from(
                User)):
            raise DemoRefused(
                "refused: this database already has users and is not a demo database; "
                "the demo (password demo123 for every role) goes into an empty database only"
            )
        for unit_code, unit_name, kind, outlets in DEMO_UNITS:
            unit = db.session.scalar(sa.select(BusinessUnit).where(BusinessUnit.code == unit_code))
            if unit is None:
                unit = BusinessUnit(code=unit_code, name=unit_name, kind=kind)
                db.session.add(unit)
                changed = True
            for outlet_code, outlet_name, address, tills in outlets:
                outlet = db.session.scalar(sa.select(Outlet).where(Outlet.code == outlet_code))
                if outlet is None:
                    outlet = Outlet(code=outlet_code, name=outlet_name, address=address, unit=unit)
                    db.session.add(outlet)
                    changed = True
                for till_code, till_name in tills:
                    if db.session.scalar(sa.select(Till.id).where(Till.code == till_code)) is None:
                        db.session.add(Till(code=till_code, name=till_name, outlet=outlet))
                        changed = True
        db.session.flush()
        _demo_qris()
        password_hash = None
        for username, full_name, role, pin in DEMO_USERS:
            if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
                continue
            password_hash = password_hash or hash_secret(DEMO_PASSWORD)
            outlet_code = USER_OUTLET.get(username)
            outlet = db.session.scalar(sa.select(Outlet).where(Outlet.code == outlet_code)) if outlet_code else None
            db.session.add(
                User(
                    username=username,
                    full_name=full_name,
                    role=role,
                    password_hash=password_hash,
                    pin_hash=hash_secret(pin),
                    outlet=outlet,
                )
            )
            audit.record(
                "user.created",
                actor_name="demo",
                target_type="user",
                target_id=username,
                after={"role": role.value, "full_name": full_name},
            )
            changed = True
        from ledger.demo import load_ledger_demo

        db.session.flush()
        if books:
            from inventory.demo import TakingsGoods, load_catalog_demo, load_inventory_demo, receiving_day
            from pos.sales.demo import sales_start

            # The books' monthly takings sell goods bought for them until the warehouse's stock arrives; the
            # shelves are filled the day after and the tills sell from the day after that (at most 30 days).
            stocked = receiving_day(today)
            selling_from = sales_start(today, stocked + dt.timedelta(days=1))
            changed = load_catalog_demo() or changed
            changed = load_ledger_demo(today, takings_until=stocked + dt.timedelta(days=1),
                                       goods=TakingsGoods()) or changed
            changed = load_inventory_demo(today) or changed
        if db.session.get(SystemFlag, DEMO_FLAG) is None:
            db.session.add(SystemFlag(name=DEMO_FLAG, value="Koperasi Kelurahan Merah Putih Kelayan Timur"))
            changed = True
    if books:
        from pos.sales.demo import load_sales_demo

        changed = load_sales_demo(today, selling_from, zone) or changed
    return changed


# The demo outlets' static QRIS strings, in the layout banks issue (merchant PAN, NMID); a real shop stores its
# bank's string on the devices page.
DEMO_QRIS = {"TK": ("KOPERASI MERAH PUTIH TOKO", "936000140000012345", "ID1026000012345"),
             "AP": ("APOTEK KOP MERAH PUTIH", "936000140000012352", "ID1026000012352")}


def _demo_qris() -> None:
    from pos.sales.qris import build_static

    for code, (name, pan, nmid) in DEMO_QRIS.items():
        outlet = db.session.scalar(sa.select(Outlet).where(Outlet.code == code))
        if outlet is not None and not outlet.qris_payload:
            outlet.qris_payload = build_static(name, "BANJARMASIN", pan, nmid, "70234")


def print_demo_receipts() -> str:
    """A test page and a demo sale receipt through till TK01's printer (the save-to-folder printer by default),
    so a newcomer sees ESC/POS bytes and HTML in instance/printer-out/ right after `make run`."""
    import datetime as dt

    from pos import printing
    from pos.receipt_documents import header, printer_test_document, to_json
    from receipts.samples import sample_sale_data

    till = db.session.scalar(sa.select(Till).where(Till.code == "TK01"))
    printer = printing.printer_of(till)
    sale = sample_sale_data(pkp=False)
    sale.update({"header": header(), "printed_at": dt.datetime.now(dt.UTC), "till_code": "TK01",
                 "number": "TK01-DEMO-000001"})
    with write_transaction():
        printing.print_document(printer_test_document(printer, till.printer_profile), kind="test",
                                source_type="test_page", source_id="demo", till=till)
        printing.print_document({"kind": "sale", "data": to_json(sale)}, kind="receipt", source_type="sale",
                                source_id="demo-receipt", till=till)
    printing.process_due(printer)
    return printer.removeprefix("folder:")
