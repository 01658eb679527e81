"""The permission table, written out by hand as docs/security.md states it: a permission granted by
mistake fails here, not only in review."""

from pos.models import Role
from pos.permissions import ROLE_PERMISSIONS

EXPECTED = {
    # permission:            kasir apoteker gudang manajer pengurus pengawas
    "dashboard.view": (1, 1, 1, 1, 1, 1),
    "till.operate": (1, 1, 0, 1, 0, 0),
    "outlets.view": (0, 0, 1, 1, 1, 1),
    "audit.view": (0, 0, 0, 1, 1, 1),
    "settings.view": (0, 0, 0, 1, 1, 1),
    "users.view": (0, 0, 0, 0, 1, 1),
    "users.manage": (0, 0, 0, 0, 1, 0),
    "approvals.grant": (0, 0, 0, 1, 1, 0),
    "ledger.view": (0, 0, 0, 1, 1, 1),
    "ledger.manage": (0, 0, 0, 0, 1, 0),
    "members.view": (1, 1, 0, 1, 1, 1),
    "members.manage": (0, 0, 0, 1, 1, 0),
    "members.nik": (0, 0, 0, 0, 1, 0),
    "catalog.view": (1, 1, 1, 1, 1, 1),
    "lookup.view": (1, 1, 1, 1, 1, 1),
    "catalog.manage": (0, 0, 1, 1, 0, 0),
    "stock.view": (0, 1, 1, 1, 1, 1),
    "stock.manage": (0, 1, 1, 1, 0, 0),
    "stock.approve": (0, 0, 0, 1, 0, 0),
    "devices.manage": (0, 0, 0, 1, 0, 0),
    "savings.transact": (1, 0, 0, 1, 1, 0),
    "sales.view": (0, 0, 0, 1, 1, 1),
}
ORDER = (Role.KASIR, Role.APOTEKER, Role.GUDANG, Role.MANAJER, Role.PENGURUS, Role.PENGAWAS)


def test_each_role_holds_exactly_the_documented_permissions():
    for n, role in enumerate(ORDER):
        expected = {perm for perm, row in EXPECTED.items() if row[n]}
        assert ROLE_PERMISSIONS[role] == expected, role


def test_the_supervisor_only_views():
    assert all(perm.endswith(".view") for perm in ROLE_PERMISSIONS[Role.PENGAWAS])


def test_the_documentation_lists_every_permission():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text(encoding="utf-8")
    for perm in EXPECTED:
        assert f"`{perm}`" in text, perm
