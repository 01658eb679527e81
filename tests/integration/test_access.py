"""Every route as every role: allowed where the role's permissions say so, 403 everywhere else."""

import pytest

from pos.models import Role
from pos.permissions import has_permission, permission_of
from tests.conftest import csrf_token

ROLES = [r.value for r in Role]
# (method, path, form) for every route of the app; test_every_route_is_listed keeps this complete.
ROUTES = [
    ("GET", "/", None),
    ("GET", "/outlets", None),
    ("GET", "/settings", None),
    ("GET", "/akun/", None),
    ("POST", "/akun/kata-sandi", {"current_password": "salah", "new_password": "x", "confirm_password": "x"}),
    ("POST", "/akun/pin", {"current_password": "salah", "pin": "1234"}),
    ("GET", "/admin/pengguna", None),
    ("POST", "/admin/pengguna", {"username": "x1", "role": "kasir", "password": "a", "confirm_password": "b"}),
    ("POST", "/admin/pengguna/kasir/peran", {"role": "kasir"}),
    ("POST", "/admin/pengguna/kasir/status", {"active": "1"}),
    ("POST", "/admin/pengguna/kasir/buka-kunci", {}),
    ("GET", "/admin/audit", None),
    ("GET", "/kasir/", None),
    ("GET", "/kasir/TK01", None),
    ("GET", "/kasir/TK01/masuk", None),
    ("POST", "/kasir/TK01/buka-kunci", {"username": "kasir", "manager": "x", "manager_pin": "0"}),
    ("GET", "/api/v1/me", None),
    ("POST", "/api/v1/approvals", "json"),
    ("GET", "/healthz", None),
    ("GET", "/css/labels.css", None),
    ("GET", "/buku/", None),
    ("GET", "/buku/akun", None),
    ("POST", "/buku/akun", {"code": "6-7777", "name": "Beban uji"}),
    ("POST", "/buku/akun/6-9100/nama", {"name": "Beban lain-lain"}),
    ("POST", "/buku/akun/6-9100/status", {"active": "1"}),
    ("POST", "/buku/akun/6-9999/hapus", {}),
    ("GET", "/buku/jurnal", None),
    ("GET", "/buku/jurnal/1", None),
    ("POST", "/buku/jurnal/1/balik", {"reason": ""}),
    ("GET", "/buku/jurnal/baru", None),
    ("POST", "/buku/jurnal/baru", {"request_id": "access-matrix", "description": ""}),
    ("GET", "/buku/buku-besar", None),
    ("GET", "/buku/neraca-saldo", None),
    ("GET", "/buku/hasil-usaha", None),
    ("GET", "/buku/posisi-keuangan", None),
    ("GET", "/buku/periode", None),
    ("POST", "/buku/periode/tutup-bulan", {"month": "bukan"}),
    ("POST", "/buku/periode/tutup-tahun", {"year": "0"}),
    ("GET", "/buku/shu", None),
    ("POST", "/buku/shu/alokasi", {"cadangan": "1"}),
    ("POST", "/buku/shu/bagikan", {"year": "1999"}),
    ("GET", "/anggota/", None),
    ("GET", "/anggota/baru", None),
    ("POST", "/anggota/baru", {"name": ""}),
    ("GET", "/anggota/tunggakan", None),
    ("GET", "/anggota/AGT-00001", None),
    ("POST", "/anggota/AGT-00001/setor", {"kind": "sukarela", "amount": "abc"}),
    ("POST", "/anggota/AGT-00001/tarik", {"amount": "abc"}),
    ("POST", "/anggota/AGT-00001/angsur-kasbon", {"amount": "abc"}),
    ("POST", "/anggota/AGT-00001/keluar", {}),
    ("GET", "/anggota/slip/1", None),
    ("GET", "/anggota/AGT-00001/kartu", None),
    ("GET", "/anggota/AGT-00001/laporan", None),
    ("GET", "/produk/", None),
    ("GET", "/produk/baru", None),
    ("POST", "/produk/baru", {"sku": ""}),
    ("GET", "/produk/MIE-GORENG", None),
    ("POST", "/produk/MIE-GORENG/harga", {"public_price": "abc"}),
    ("POST", "/produk/MIE-GORENG/barcode", {"code": ""}),
    ("POST", "/produk/MIE-GORENG/status", {"active": "1"}),
    ("GET", "/produk/MIE-GORENG/label", None),
    ("GET", "/api/v1/products/lookup", None),
    ("GET", "/api/v1/products/search", None),
    ("GET", "/gudang/", None),
    ("GET", "/gudang/penerimaan", None),
    ("POST", "/gudang/penerimaan", {"invoice": ""}),
    ("GET", "/gudang/dokumen/1", None),
    ("POST", "/gudang/dokumen/1/terima", {}),
    ("GET", "/gudang/mutasi", None),
    ("POST", "/gudang/mutasi", {"preview": "1"}),
    ("POST", "/gudang/opname", {"location": ""}),
    ("GET", "/gudang/opname/1", None),
    ("POST", "/gudang/opname/1/hitung", {}),
    ("POST", "/gudang/opname/1/setujui", {}),
    ("GET", "/gudang/pemusnahan", None),
    ("POST", "/gudang/pemusnahan", {"reason": ""}),
    ("GET", "/gudang/retur-pemasok", None),
    ("POST", "/gudang/retur-pemasok", {"reason": ""}),
    ("GET", "/perangkat/", None),
    ("POST", "/kasir/TK01/cetak/999/lepas", {}),
    ("POST", "/anggota/slip/999/cetak", {}),
    ("POST", "/perangkat/kasir/TK01", {"printer": "bukan:apa-apa"}),
    ("POST", "/perangkat/kasir/TK01/tes", {}),
    ("POST", "/perangkat/kasir/TK01/laci", {"reason": ""}),
    ("POST", "/perangkat/kasir/TK01/status", {}),
    ("POST", "/perangkat/antrian/999/lepas", {}),
    ("GET", "/perangkat/kasir/TK01/timbangan", None),
    ("POST", "/perangkat/kasir/TK01/layar", {}),
    ("POST", "/perangkat/outlet/TK/qris", {"qris": "000201rusak"}),
    ("GET", "/stok/", None),
    ("GET", "/stok/persediaan", None),
    ("GET", "/stok/kartu", None),
    ("GET", "/stok/kartu/MIE-GORENG", None),
    ("GET", "/stok/kedaluwarsa", None),
    ("GET", "/stok/pesan-ulang", None),
    ("GET", "/stok/nilai", None),
    ("GET", "/produk/berkas/", None),
    ("GET", "/produk/berkas/ekspor.csv", None),
    ("GET", "/jobs/", None),
    ("GET", "/jobs/1", None),
    ("GET", "/jobs/1/status", None),
    ("GET", "/produk/berkas/ekspor.xlsx", None),
    ("POST", "/produk/berkas/periksa", {}),
    ("POST", "/produk/berkas/impor", {}),
    ("GET", "/login", None),
    ("POST", "/language", {"locale": "id"}),
    ("GET", "/kasir/TK01/layar", None),
    ("GET", "/kasir/TK01/penjualan", None),
    ("GET", "/kasir/TK01/penjualan/TK01-20260101-0001", None),
    ("POST", "/kasir/TK01/penjualan/TK01-20260101-0001/cetak-ulang", {}),
    ("GET", "/kasir/TK01/shift/1", None),
    ("GET", "/kasir/TK01/qris/TK01-20260101-0001.png", None),
    ("GET", "/penjualan/", None),
    ("GET", "/penjualan/shift/1", None),
    ("GET", "/penjualan/TK01-20260101-0001", None),
    ("GET", "/api/v1/members", None),
    ("POST", "/api/v1/cart", "json"),
    ("GET", "/api/v1/shifts", None),
    ("POST", "/api/v1/shifts", "json"),
    ("GET", "/api/v1/shifts/1", None),
    ("POST", "/api/v1/shifts/1/x", "json"),
    ("POST", "/api/v1/shifts/1/close", "json"),
    ("POST", "/api/v1/sales", "json"),
    ("GET", "/api/v1/sales", None),
    ("GET", "/api/v1/sales/TK01-20260101-0001", None),
    ("GET", "/api/v1/sales/TK01-20260101-0001/receipt", None),
    ("POST", "/api/v1/sales/TK01-20260101-0001/confirm", "json"),
    ("POST", "/api/v1/sales/TK01-20260101-0001/cancel", "json"),
    ("POST", "/api/v1/sales/TK01-20260101-0001/void", "json"),
    ("POST", "/api/v1/sales/TK01-20260101-0001/returns", "json"),
    ("POST", "/api/v1/sales/TK01-20260101-0001/reprint", "json"),
    ("GET", "/api/v1/held", None),
    ("POST", "/api/v1/held", "json"),
    ("POST", "/api/v1/held/1/resume", "json"),
    ("GET", "/api/v1/openapi.json", None),
]
ENDPOINT_OF = {
    "/": "main.dashboard",
    "/outlets": "main.outlets",
    "/settings": "main.settings",
    "/akun/": "account.show",
    "/akun/kata-sandi": "account.change_password",
    "/akun/pin": "account.change_pin",
    "/admin/pengguna": ("admin.users", "admin.create_user"),
    "/admin/pengguna/kasir/peran": "admin.change_role",
    "/admin/pengguna/kasir/status": "admin.change_active",
    "/admin/pengguna/kasir/buka-kunci": "admin.unlock",
    "/admin/audit": "admin.audit",
    "/kasir/": "till.index",
    "/kasir/TK01": "till.show",
    "/kasir/TK01/masuk": "till.sign_in",
    "/kasir/TK01/buka-kunci": "till.unlock",
    "/api/v1/me": "api.me",
    "/api/v1/approvals": "api.approvals",
    "/healthz": "main.healthz", "/css/labels.css": "main.package_css",
    "/login": "auth.login",
    "/language": "auth.language",
    "/buku/": "ledger.index",
    "/buku/akun": ("ledger.accounts", "ledger.add_account"),
    "/buku/akun/6-9100/nama": "ledger.rename_account",
    "/buku/akun/6-9100/status": "ledger.account_status",
    "/buku/akun/6-9999/hapus": "ledger.delete_account",
    "/buku/jurnal": "ledger.journal_list",
    "/buku/jurnal/1": "ledger.entry",
    "/buku/jurnal/1/balik": "ledger.reverse",
    "/buku/jurnal/baru": "ledger.manual_entry",
    "/buku/buku-besar": "ledger.general_ledger",
    "/buku/neraca-saldo": "ledger.trial_balance",
    "/buku/hasil-usaha": "ledger.income_statement",
    "/buku/posisi-keuangan": "ledger.financial_position",
    "/buku/periode": "ledger.periods",
    "/buku/periode/tutup-bulan": "ledger.close_month",
    "/buku/periode/tutup-tahun": "ledger.close_year",
    "/buku/shu": "ledger.shu_page",
    "/buku/shu/alokasi": "ledger.shu_allocation",
    "/buku/shu/bagikan": "ledger.shu_distribute",
    "/anggota/": "members.index",
    "/anggota/baru": ("members.new", "members.create"),
    "/anggota/tunggakan": "members.arrears",
    "/anggota/AGT-00001": "members.show",
    "/anggota/AGT-00001/setor": "members.deposit",
    "/anggota/AGT-00001/tarik": "members.withdraw",
    "/anggota/AGT-00001/angsur-kasbon": "members.repay_kasbon",
    "/anggota/AGT-00001/keluar": "members.leave",
    "/anggota/slip/1": "members.slip",
    "/anggota/AGT-00001/kartu": "members.card",
    "/anggota/AGT-00001/laporan": "members.statement",
    "/produk/": "catalog.index",
    "/produk/baru": "catalog.new",
    "/produk/MIE-GORENG": "catalog.show",
    "/produk/MIE-GORENG/harga": "catalog.prices",
    "/produk/MIE-GORENG/barcode": "catalog.add_barcode",
    "/produk/MIE-GORENG/status": "catalog.status",
    "/produk/MIE-GORENG/label": ("catalog.labels", "catalog.print_labels"),
    "/api/v1/products/lookup": "api.product_lookup",
    "/api/v1/products/search": "api.product_search",
    "/gudang/": "stock_ops.index",
    "/gudang/penerimaan": "stock_ops.receipt",
    "/gudang/dokumen/1": "stock_ops.document",
    "/gudang/dokumen/1/terima": "stock_ops.receive_transfer",
    "/gudang/mutasi": "stock_ops.transfer",
    "/gudang/opname": "stock_ops.open_count",
    "/gudang/opname/1": "stock_ops.count_sheet",
    "/gudang/opname/1/hitung": "stock_ops.record_count",
    "/gudang/opname/1/setujui": "stock_ops.approve_count",
    "/gudang/pemusnahan": "stock_ops.write_off",
    "/gudang/retur-pemasok": "stock_ops.supplier_return",
    "/perangkat/": "devices.index", "/kasir/TK01/cetak/999/lepas": "till.print_job",
    "/anggota/slip/999/cetak": "members.print_slip",
    "/perangkat/kasir/TK01": "devices.configure",
    "/perangkat/kasir/TK01/tes": "devices.test_print",
    "/perangkat/kasir/TK01/laci": "devices.open_drawer",
    "/perangkat/kasir/TK01/status": "devices.printer_status",
    "/perangkat/antrian/999/lepas": "devices.job_action",
    "/perangkat/kasir/TK01/timbangan": "devices.weigh",
    "/perangkat/kasir/TK01/layar": "devices.test_display",
    "/perangkat/outlet/TK/qris": "devices.outlet_qris",
    "/stok/": "stock_reports.index",
    "/stok/persediaan": "stock_reports.on_hand",
    "/stok/kartu": "stock_reports.card_lookup",
    "/stok/kartu/MIE-GORENG": "stock_reports.card",
    "/stok/kedaluwarsa": "stock_reports.expiry",
    "/stok/pesan-ulang": "stock_reports.reorder",
    "/stok/nilai": "stock_reports.value",
    "/produk/berkas/": "catalog_io.index",
    "/produk/berkas/ekspor.csv": "catalog_io.export_csv",
    "/jobs/": "jobs.index",
    "/jobs/1": "jobs.show",
    "/jobs/1/status": "jobs.status",
    "/produk/berkas/ekspor.xlsx": "catalog_io.export_xlsx",
    "/produk/berkas/periksa": "catalog_io.check",
    "/produk/berkas/impor": "catalog_io.run_import",
    "/kasir/TK01/layar": "till.screen",
    "/kasir/TK01/penjualan": "till.sales",
    "/kasir/TK01/penjualan/TK01-20260101-0001": "till.sale",
    "/kasir/TK01/penjualan/TK01-20260101-0001/cetak-ulang": "till.reprint",
    "/kasir/TK01/shift/1": "till.shift_report",
    "/kasir/TK01/qris/TK01-20260101-0001.png": "till.qris_image",
    "/penjualan/": "sales.index",
    "/penjualan/shift/1": "sales.shift",
    "/penjualan/TK01-20260101-0001": "sales.sale",
    "/api/v1/members": "sales_api.members",
    "/api/v1/cart": "sales_api.price_cart",
    "/api/v1/shifts": ("sales_api.shifts", "sales_api.open_shift"),
    "/api/v1/shifts/1": "sales_api.shift",
    "/api/v1/shifts/1/x": "sales_api.x_report",
    "/api/v1/shifts/1/close": "sales_api.close_shift",
    "/api/v1/sales": ("sales_api.create_sale", "sales_api.list_sales"),
    "/api/v1/sales/TK01-20260101-0001": "sales_api.get_sale",
    "/api/v1/sales/TK01-20260101-0001/receipt": "sales_api.sale_receipt",
    "/api/v1/sales/TK01-20260101-0001/confirm": "sales_api.confirm_sale",
    "/api/v1/sales/TK01-20260101-0001/cancel": "sales_api.cancel_sale",
    "/api/v1/sales/TK01-20260101-0001/void": "sales_api.void_sale",
    "/api/v1/sales/TK01-20260101-0001/returns": "sales_api.create_return",
    "/api/v1/sales/TK01-20260101-0001/reprint": "sales_api.reprint",
    "/api/v1/held": ("sales_api.held", "sales_api.hold"),
    "/api/v1/held/1/resume": "sales_api.resume",
    "/api/v1/openapi.json": "api_docs.openapi",
}


def test_every_view_declares_a_permission(demo_app):
    for endpoint, view in demo_app.view_functions.items():
        if endpoint != "static":
            assert permission_of(view) is not None, f"{endpoint} has no permission marker"


def test_every_route_is_listed(demo_app):
    listed = set()
    for _method, path, _form in ROUTES:
        found = ENDPOINT_OF[path]
        listed.update(found if isinstance(found, tuple) else (found,))
    listed.add("auth.logout")  # ends the session; tested in test_auth
    listed.add("devices.scan_events")  # a stream; tested in test_devices
    listed.add("till.screen_events")  # a stream; tested in test_sales_web
    routed = {rule.endpoint for rule in demo_app.url_map.iter_rules()} - {"static"}
    assert routed == listed


def endpoint_for(demo_app, method, path):
    adapter = demo_app.url_map.bind("localhost")
    endpoint, _ = adapter.match(path, method=method)
    return endpoint


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_what_its_permissions_allow(role, signed_in, client, demo_app):
    signed_in(role)
    user_role = Role(role)
    for method, path, form in ROUTES:
        view = demo_app.view_functions[endpoint_for(demo_app, method, path)]
        permission = permission_of(view)
        if method == "GET":
            response = client.get(path)
        elif form == "json":
            response = client.post(path, json={"action": "no_sale"}, headers={"X-CSRFToken": csrf_token(client)})
        else:
            response = client.post(path, data={**form, "csrf_token": csrf_token(client)})
        allowed = has_permission(user_role, permission)
        if user_role == Role.PENGAWAS and method == "POST" and not view._kasir_read_only_safe:
            allowed = False
        where = f"{role} {method} {path} ({permission})"
        if allowed:
            assert response.status_code != 403, where
        else:
            assert response.status_code == 403, where
            if path.startswith("/api/"):
                assert response.get_json()["error"] == "403"
            else:
                assert "Akses ditolak" in response.text, where
        assert response.status_code < 500, where


def test_anonymous_visitors_are_sent_to_sign_in(demo_app):
    client = demo_app.test_client()
    response = client.get("/admin/pengguna")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/admin/pengguna")
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/healthz").status_code == 200


def test_the_supervisor_can_read_everything_the_board_reads_but_change_nothing(signed_in, client, demo_app):
    signed_in("pengawas")
    for path in ("/admin/pengguna", "/admin/audit", "/settings", "/outlets"):
        page = client.get(path)
        assert page.status_code == 200, path
    users_page = client.get("/admin/pengguna").text
    assert "Buat pengguna" not in users_page and "Nonaktifkan" not in users_page
    token = csrf_token(client)
    assert client.post("/admin/pengguna/kasir/status", data={"active": "0", "csrf_token": token}).status_code == 403
    # Own language is the one thing a supervisor may change.
    assert client.post("/language", data={"locale": "en", "csrf_token": token}).status_code == 302
    assert "Dashboard" in client.get("/").text


def test_menus_show_only_the_roles_areas(signed_in, client):
    expected = {
        "kasir": ["main.dashboard", "till.index", "members.index", "catalog.index"],
        "gudang": ["main.dashboard", "catalog.index", "stock_ops.index", "stock_reports.index", "main.outlets"],
        "pengurus": [
            "main.dashboard",
            "sales.index",
            "members.index",
            "catalog.index",
            "stock_reports.index",
            "ledger.index",
            "main.outlets",
            "admin.users",
            "admin.audit",
            "main.settings",
        ],
    }
    import re

    for role, menu in expected.items():
        signed_in(role)
        assert re.findall(r'data-menu="([^"]+)"', client.get("/").text) == menu, role


def test_unknown_pages_and_methods_get_translated_errors(signed_in, client):
    signed_in("kasir")
    missing = client.get("/tidak-ada")
    assert missing.status_code == 404 and "Halaman tidak ditemukan" in missing.text
    assert client.get("/api/v1/tidak-ada").get_json()["error"] == "404"
    assert client.delete("/", headers={"X-CSRFToken": csrf_token(client)}).status_code == 405
    assert client.get("/kasir/ZZ99").status_code == 404
