"""The devices page and the till's scan stream, with a real serial scanner emulated on a pty pair."""

import os
import time

import pytest
import sqlalchemy as sa

from pos.db import db
from pos.models import AuditEntry, PrintJob, Till
from tests.conftest import csrf_token


def test_devices_are_configured_per_till_and_audited(signed_in, client, demo_app):
    signed_in("manajer")
    page = client.get("/perangkat/")
    assert page.status_code == 200 and 'data-till="TK01"' in page.text
    form = {"csrf_token": csrf_token(client), "printer": "network:127.0.0.1:9100", "printer_profile": "POS-5890",
            "drawer_pin": "5", "scanner_port": "", "scale_port": "/dev/ttyUSB1", "scale_protocol": "cas",
            "display_port": "", "display_commands": ""}
    refused = client.post("/perangkat/kasir/TK01", data={**form, "printer": "teleport:somewhere"})
    assert refused.status_code == 422 and 'data-error-for="printer"' in refused.text
    assert 'value="teleport:somewhere"' in refused.text  # the form comes back as it was sent
    with demo_app.app_context():
        assert db.session.scalar(sa.select(Till).where(Till.code == "TK01")).printer == ""  # refused, unchanged
    client.post("/perangkat/kasir/TK01", data=form)
    with demo_app.app_context():
        till = db.session.scalar(sa.select(Till).where(Till.code == "TK01"))
        assert (till.printer, till.printer_profile, till.drawer_pin, till.scale_protocol) == (
            "network:127.0.0.1:9100", "POS-5890", 5, "cas")
        assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "devices.configured")) is not None


def test_test_print_goes_through_the_queue_and_the_drawer_opens_at_once(signed_in, client, demo_app):
    signed_in("manajer")
    token = csrf_token(client)
    assert client.post("/perangkat/kasir/TK02/tes", data={"csrf_token": token}).status_code == 302
    no_reason = client.post("/perangkat/kasir/TK02/laci", data={"csrf_token": token, "reason": ""})
    assert no_reason.status_code == 422 and 'data-error-for="reason"' in no_reason.text
    assert client.post("/perangkat/kasir/TK02/laci", data={"csrf_token": token, "reason": "tukar uang kecil"}
                       ).status_code == 302
    with demo_app.app_context():
        # A drawer kick is never queued: a kick waiting for a printer that is off would open it by itself later.
        assert [job.kind for job in db.session.scalars(sa.select(PrintJob))] == ["test"]
        opened = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "drawer.opened"))
        assert (opened.actor_name, opened.reason) == ("manajer", "tukar uang kecil")
    from pathlib import Path

    kicks = list((Path(demo_app.instance_path) / "printer-out").glob("drawer-*.bin"))
    assert len(kicks) == 1 and kicks[0].read_bytes().startswith(b"\x1bp\x00")  # ESC p 0 t1 t2: pulse pin 2


def test_a_pty_scanner_reaches_the_till_page_stream(demo_app, signed_in, client):
    """A scan typed into the emulated serial scanner arrives on the till's Server-Sent Events stream."""
    from drivers.scanner import SerialScanner

    runtime = demo_app.extensions["kasir_devices"]
    master, slave = os.openpty()
    port = os.ttyname(slave)
    signed_in("kasir")
    scanner = None
    try:
        runtime.start_scanner("TK01", port)
        scanner = runtime.scanners["TK01"]
        assert isinstance(scanner, SerialScanner)
        deadline = time.monotonic() + 5
        while runtime.scanner_states.get("TK01") != "connected" and time.monotonic() < deadline:
            time.sleep(0.05)
        os.write(master, b"8999999002503\r")
        deadline = time.monotonic() + 5
        while not runtime.broker.missed("TK01") and time.monotonic() < deadline:  # nobody listens yet
            time.sleep(0.05)
        response = client.get("/perangkat/kasir/TK01/scan", buffered=False)
        assert response.status_code == 200 and response.mimetype == "text/event-stream"
        received = ""
        deadline = time.monotonic() + 10
        for chunk in response.response:
            received += chunk.decode() if isinstance(chunk, bytes) else chunk
            if "8999999002503" in received or time.monotonic() > deadline:
                break
        response.close()
        assert "event: scan" in received and '"code":"8999999002503"' in received
        assert '"missed":true' in received  # it arrived before the page listened: delivered, flagged
    finally:
        if scanner is not None:
            scanner.stop()
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize("role", ["kasir", "pengawas", "gudang"])
def test_only_managers_manage_devices(role, signed_in, client):
    signed_in(role)
    assert client.get("/perangkat/").status_code == 403
    assert client.post("/perangkat/kasir/TK01/laci", data={"csrf_token": csrf_token(client), "reason": "x"}
                       ).status_code == 403


def test_the_till_reads_only_a_stable_weight_from_a_pty_scale(demo_app, signed_in, client):
    """A CAS-style scale on a pty pair: moving frames are refused, the stable one is taken."""
    master, slave = os.openpty()
    port = os.ttyname(slave)
    with demo_app.app_context():
        from pos.db import write_transaction

        with write_transaction():
            till = db.session.scalar(sa.select(Till).where(Till.code == "TK01"))
            till.scale_port, till.scale_protocol = port, "cas"
    signed_in("kasir")
    import threading

    frame = {"bytes": b"US,GS,+  1.240kg\r\n"}
    stop = threading.Event()

    def continuous_scale():  # a CAS scale streams its reading about ten times a second
        while not stop.is_set():
            os.write(master, frame["bytes"])
            stop.wait(0.1)

    writer = threading.Thread(target=continuous_scale, daemon=True)
    writer.start()
    try:
        moving = client.get("/perangkat/kasir/TK01/timbangan")
        assert moving.status_code == 409 and moving.get_json()["error"] == "ScaleUnstable"
        frame["bytes"] = b"ST,GS,+  1.250kg\r\n"
        steady = client.get("/perangkat/kasir/TK01/timbangan")
        assert steady.status_code == 200 and steady.get_json() == {"kg": "1.250"}
    finally:
        stop.set()
        writer.join(timeout=5)
        scale = demo_app.extensions["kasir_devices"].scales.get("TK01")
        if scale is not None:
            scale.close()
        os.close(master)
        os.close(slave)


def test_shelf_labels_scan_back_and_print_on_a_till(stock_app, signed_in, client, tmp_path):
    import base64
    import re
    import shutil
    import subprocess

    signed_in("gudang")
    sheet = client.get("/produk/MIE-GORENG/label?jumlah=3")
    assert sheet.status_code == 200 and 'data-labels="3"' in sheet.text
    images = re.findall(r'data:image/png;base64,([^"]+)"', sheet.text)
    assert len(images) >= 3
    if shutil.which("zbarimg"):
        png = tmp_path / "label.png"
        png.write_bytes(base64.b64decode(images[0]))
        decoded = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, timeout=30)
        assert decoded.stdout.strip() in ("089686010947", "0089686010947")
    printed = client.post("/produk/MIE-GORENG/label", data={"csrf_token": csrf_token(client), "till": "TK01",
                                                            "jumlah": "2"})
    assert printed.status_code == 302
    with stock_app.app_context():
        label_job = db.session.scalar(sa.select(PrintJob).where(PrintJob.kind == "label"))
        assert label_job is not None and label_job.data.startswith(b"\x1b@")


def test_a_savings_slip_prints_and_a_second_print_is_a_copy(books_app, signed_in, client):
    import datetime as dt

    from ledger import members
    from pos.db import write_transaction

    with books_app.app_context():
        with write_transaction():
            member = members.register_member(members.MemberInput(name="Siti Aminah", nik="6371024501900003",
                                                                 join_date=dt.date.today()), None, author_name="t")
            slip_id = db.session.scalar(sa.select(members.Slip.id).where(members.Slip.member_id == member.id))
    signed_in("kasir")
    for _ in range(2):
        assert client.post(f"/anggota/slip/{slip_id}/cetak", data={"csrf_token": csrf_token(client)}
                           ).status_code == 302
    with books_app.app_context():
        jobs = db.session.scalars(sa.select(PrintJob).where(PrintJob.kind == "slip").order_by(PrintJob.id)).all()
        assert [job.copy for job in jobs] == [0, 1]
        assert b"SALINAN" in jobs[1].data and b"SALINAN" not in jobs[0].data


def test_printer_connections_cannot_write_outside_printers(signed_in, client, demo_app):
    signed_in("manajer")
    base = {"csrf_token": csrf_token(client), "printer_profile": "TM-T20II", "drawer_pin": "2"}
    for spec in ("file:/etc/passwd", f"file:{demo_app.instance_path}/secret_key", "folder:/tmp",
                 "network:" + "x" * 300):
        client.post("/perangkat/kasir/TK01", data={**base, "printer": spec})
        with demo_app.app_context():
            assert db.session.scalar(sa.select(Till).where(Till.code == "TK01")).printer == "", spec


def test_a_changed_printer_takes_the_waiting_jobs_with_it(signed_in, client, demo_app):
    signed_in("manajer")
    base = {"csrf_token": csrf_token(client), "printer_profile": "TM-T20II", "drawer_pin": "2"}
    client.post("/perangkat/kasir/TK01", data={**base, "printer": "network:127.0.0.1:9100"})
    client.post("/perangkat/kasir/TK01/tes", data={"csrf_token": base["csrf_token"]})
    client.post("/perangkat/kasir/TK01", data={**base, "printer": ""})
    with demo_app.app_context():
        job = db.session.scalar(sa.select(PrintJob))
        assert job.printer.startswith("folder:") and job.status == "queued"


def test_scan_streams_are_capped_so_pages_keep_a_server_thread(signed_in, client):
    from pos.web.devices import STREAMS

    signed_in("kasir")
    taken = 0
    while STREAMS.acquire(blocking=False):
        taken += 1
    try:
        assert taken == 4
        busy = client.get("/perangkat/kasir/TK01/scan")
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
    finally:
        for _ in range(taken):
            STREAMS.release()
    response = client.get("/perangkat/kasir/TK01/scan", buffered=False)
    assert response.status_code == 200
    response.close()  # closing gives the stream's place back
    assert STREAMS.acquire(blocking=False)
    STREAMS.release()
