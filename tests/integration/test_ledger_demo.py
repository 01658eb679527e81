"""The demo books end to end: loaded by `demo load` (twice: nothing doubles), balanced per unit and
consolidated, statements open, the SHU of the demo year computed per member, Beancount export accepted
by bean-check, and the consistency check clean."""

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from ledger import reports, shu
from ledger.models import JournalEntry, Member, Slip
from pos.db import db
from pos.models import BusinessUnit, Till, User
from tests.conftest import sign_in

BEAN_CHECK = Path(sys.executable).with_name("bean-check")


def counts(app):
    with app.app_context():
        return [db.session.scalar(sa.select(sa.func.count()).select_from(t))
                for t in (BusinessUnit, Till, User, Member, JournalEntry, Slip)]


def test_the_demo_books(app, tmp_path):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "demo cooperative loaded" in first.output and "demo123" in first.output
    loaded = counts(app)
    second = runner.invoke(args=["demo", "load"])
    assert "already present" in second.output
    assert counts(app) == loaded
    assert loaded[:4] == [4, 3, 6, 50]

    demo_year = dt.date.today().year - 1
    with app.app_context():
        everything = reports.Scope(dt.date(2000, 1, 1), dt.date.today())
        units = [None, *db.session.scalars(sa.select(BusinessUnit))]
        for unit in units:
            scope = reports.Scope(everything.start, everything.end, unit)
            assert reports.trial_balance(scope).balanced, unit
            assert reports.financial_position(dt.date.today(), unit).balanced, unit
        year = reports.income_statement(reports.Scope(dt.date(demo_year, 1, 1), dt.date(demo_year, 12, 31)))
        assert year.total_member_revenue > 0 and year.total_non_member_revenue > 0
        result = shu.compute(demo_year)
        assert result.surplus > 0 and result.distributed is None
        assert len(result.members) >= 40
        assert sum(1 for m in result.members if m.jasa_anggota > 0 and m.jasa_modal > 0) >= 30
        allocated = (result.pools["cadangan"] + sum(result.pools[f] for f in ("pengurus", "karyawan", "pendidikan",
                                                                             "sosial", "pembangunan"))
                     + result.members_total + result.remainder)
        assert allocated == result.surplus
        assert 0 <= result.remainder < len(result.members) * 2 + 10
        kasbon_members = db.session.scalar(sa.select(sa.func.count(sa.distinct(Slip.member_id))).where(
            Slip.kind == "angsuran_kasbon"))
        assert kasbon_members > 0

    check = runner.invoke(args=["ledger", "check"])
    assert check.exit_code == 0 and check.output.startswith("ok"), check.output

    out = tmp_path / "out.beancount"
    assert runner.invoke(args=["ledger", "export-beancount", str(out)]).exit_code == 0
    bean = subprocess.run([str(BEAN_CHECK if BEAN_CHECK.exists() else shutil.which("bean-check")), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert bean.returncode == 0, bean.stdout + bean.stderr
    text = out.read_text()
    assert 'option "operating_currency" "IDR"' in text and "member: \"AGT-00001\"" in text and 'unit: "TOKO"' in text
    part = tmp_path / "part.beancount"
    runner.invoke(args=["ledger", "export-beancount", str(part), "--from", f"{demo_year}-01-01",
                        "--to", f"{demo_year}-12-31"])
    assert subprocess.run([str(BEAN_CHECK), str(part)], capture_output=True, timeout=120).returncode == 0
    assert runner.invoke(args=["ledger", "export-beancount", str(part), "--from", "kemarin"]).exit_code != 0
    csv_file = tmp_path / "out.csv"
    assert runner.invoke(args=["ledger", "export-csv", str(csv_file)]).exit_code == 0
    assert csv_file.read_text(encoding="utf-8-sig").splitlines()[0].startswith("number,date,description")

    # The demo catalog and stock: sembako and medicines, batches some expired, books agreeing with the stock.
    from inventory import stock
    from inventory.models import Batch, Product

    with app.app_context():
        products = db.session.scalar(sa.select(sa.func.count()).select_from(Product))
        medicines = db.session.scalar(sa.select(sa.func.count()).select_from(Product).where(
            Product.drug_class.is_not(None)))
        assert products >= 300 and medicines >= 120
        today = dt.date.today()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Batch).where(Batch.expiry_date < today)) > 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Batch).where(
            Batch.expiry_date.between(today, today + dt.timedelta(days=90)))) > 0
        assert stock.check_drift() == []
    assert runner.invoke(args=["stock", "check"]).output.startswith("ok")

    client = app.test_client()
    assert sign_in(client, "pengurus").status_code == 302
    for unit in ("", "TOKO", "APOTEK", "GUDANG", "SP"):
        page = client.get(f"/buku/hasil-usaha?dari={demo_year}-01-01&sampai={demo_year}-12-31&unit={unit}")
        assert page.status_code == 200
        assert client.get(f"/buku/posisi-keuangan?unit={unit}").status_code == 200
    page = client.get(f"/buku/shu?tahun={demo_year}")
    assert page.status_code == 200 and page.text.count("data-member=") == len(result.members)
