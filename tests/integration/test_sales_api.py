"""The till's JSON API over HTTP (Flask's client, real database): shapes, exactly once, errors on the field, no input
gives a 500, PIN sessions, and the OpenAPI document checked against the routes and the answers."""

import json
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.models import StockMove
from pos.db import db
from pos.sales.models import Sale
from tests.conftest import csrf_token, sign_in

MIE, BERAS, PCT = "089686010947", "8991234560014", "8992753102402"


class Till:
    """A signed-in till: JSON calls with the CSRF header, answers checked against the OpenAPI schemas."""

    def __init__(self, client, schemas):
        self.client = client
        self.schemas = schemas
        self.token = csrf_token(client)

    def get(self, path, schema=None):
        response = self.client.get(path)
        self._check(response, schema)
        return response

    def post(self, path, body=None, schema=None):
        response = self.client.post(path, json=body if body is not None else {}, headers={"X-CSRFToken": self.token})
        self._check(response, schema)
        return response

    def _check(self, response, schema):
        assert response.status_code < 500, response.text
        if response.is_json:
            name = schema if response.status_code < 400 else "Error"
            if name:
                self.schemas(name, response.get_json())

    def shift(self, till="TK01", opening=100_000):
        return self.post("/api/v1/shifts", {"till": till, "opening_float": opening}, "Shift")

    def sale(self, lines, payments, **extra):
        body = {"id": str(uuid.uuid4()), "till": "TK01", "lines": lines, "payments": payments, **extra}
        return self.post("/api/v1/sales", body, "Sale"), body


@pytest.fixture
def schemas(shop_app):
    """Validate a JSON body against a schema of the app's own OpenAPI document."""
    import jsonschema
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    with shop_app.test_request_context():
        from pos.web.openapi import document

        doc = json.loads(json.dumps(document()))
    registry = Registry().with_resource("urn:kasir", DRAFT202012.create_resource(doc))

    def check(name, body):
        validator = jsonschema.Draft202012Validator({"$ref": f"urn:kasir#/components/schemas/{name}"},
                                                    registry=registry)
        validator.validate(body)

    return check


@pytest.fixture
def till(shop_app, schemas):
    client = shop_app.test_client()
    assert sign_in(client, "kasir").status_code == 302
    return Till(client, schemas)


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_sale_over_http_once_then_the_same_body_then_409(till, shop_app):
    assert till.shift().status_code == 201
    assert till.shift().status_code == 200  # the same opening again
    cart = till.post("/api/v1/cart", {"till": "TK01", "lines": [{"code": MIE, "qty": "2"}]}, "Cart").get_json()
    assert (cart["total"], cart["lines"][0]["available"]) == (7_000, "200")
    first, body = till.sale([{"code": MIE, "qty": "2"}], [{"method": "cash", "amount": 10_000}])
    assert first.status_code == 201
    sale = first.get_json()
    assert (sale["status"], sale["total"], sale["tax"], sale["change"]) == ("completed", 7_000, 0, 3_000)
    assert sale["receipt_url"].endswith(sale["number"])
    again = till.post("/api/v1/sales", body, "Sale")
    assert again.status_code == 200 and again.get_json() == sale
    other = till.post("/api/v1/sales", {**body, "lines": [{"code": MIE, "qty": "3"}]})
    assert other.status_code == 409 and other.get_json()["error"] == "sale_conflict"
    assert till.get(f"/api/v1/sales/{sale['number']}", "Sale").get_json()["id"] == sale["id"]
    listed = till.get("/api/v1/sales?till=TK01", "Sales").get_json()["results"]
    assert [s["number"] for s in listed] == [sale["number"]]
    receipt = till.get(f"/api/v1/sales/{sale['id']}/receipt", "Receipt").get_json()
    assert sale["number"] in receipt["html"]
    assert till.post(f"/api/v1/sales/{sale['id']}/reprint", {}, "Reprint").status_code == 201
    with shop_app.app_context():
        assert count(Sale) == 1


def test_errors_name_their_field_and_change_nothing(till, shop_app):
    till.shift()
    with shop_app.app_context():
        moves = count(StockMove)
    cases = [
        ({"lines": [{"code": MIE, "qty": "1,5"}]}, "lines[0].qty"),
        ({"lines": [{"code": MIE, "qty": -1}]}, "lines[0].qty"),
        ({"lines": [{"code": "x" * 61}]}, "lines[0].code"),
        ({"lines": [{"code": "\u202edcba"}]}, "lines[0].code"),
        ({"lines": [{"code": "🍚"}]}, "lines[0].code"),
        ({"lines": [{"code": "x" * 10_000}]}, "lines[0].code"),
        ({"lines": [{"code": "8991234560015"}]}, "lines[0].code"),  # a wrong check digit
        ({"lines": [{"code": "' OR 1=1 --"}]}, "lines[0].code"),
        ({"lines": [{"code": "<script>alert(1)</script>"}]}, "lines[0].code"),
        ({"lines": [{"code": MIE, "qty": "1e309"}]}, "lines[0].qty"),
        ({"lines": [{"code": MIE, "qty": 1.5}]}, "lines[0].qty"),
        ({"lines": [{"code": MIE, "discount": 1.5}]}, "lines[0].discount"),
        ({"lines": [{"code": MIE, "bonus": 1}]}, "lines[0]"),
        ({"payments": [{"method": "gold", "amount": 1}]}, "payments[0].method"),
        ({"payments": [{"method": "cash", "amount": "1e9"}]}, "payments[0].amount"),
        ({"payments": [{"method": "cash", "amount": True}]}, "payments[0].amount"),
        ({"payments": []}, "payments"),
        ({"id": "not-a-uuid"}, "id"),
        ({"till": "XX99"}, "till"),
        ({"member": "AGT-99999"}, "member"),
    ]
    for change, field in cases:
        body = {"id": str(uuid.uuid4()), "till": "TK01", "lines": [{"code": MIE}],
                "payments": [{"method": "cash", "amount": 5_000}], **change}
        response = till.post("/api/v1/sales", body)
        assert 400 <= response.status_code < 500, (change, response.text)
        assert response.get_json()["details"]["field"] == field, (change, response.get_json())
        assert response.get_json()["message"]
    raw = f'{{"id": "{uuid.uuid4()}", "till": "TK01", "lines": [{{"code": "{MIE}", "qty": NaN}}], "payments": []}}'
    response = till.client.post("/api/v1/sales", data=raw, content_type="application/json",
                                headers={"X-CSRFToken": till.token})
    assert response.status_code == 400
    with shop_app.app_context():
        assert count(StockMove) == moves and count(Sale) == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children,
                                                                                       max_size=4), max_leaves=12))
def test_no_json_body_gives_a_500(till, value):
    for path in ("/api/v1/sales", "/api/v1/cart", "/api/v1/shifts", "/api/v1/held"):
        response = till.client.post(path, json=value, headers={"X-CSRFToken": till.token})
        assert response.status_code < 500, (path, value, response.text)


def test_qris_over_http_pending_then_confirmed(till):
    till.shift()
    response, _ = till.sale([{"code": BERAS}], [{"method": "qris", "amount": 14_500}])
    sale = response.get_json()
    assert sale["status"] == "pending" and sale["qris"]["amount"] == 14_500
    assert till.get(f"/kasir/TK01/qris/{sale['number']}.png").mimetype == "image/png"
    done = till.post(f"/api/v1/sales/{sale['id']}/confirm", {}, "Sale").get_json()
    assert done["status"] == "completed"


def test_a_return_over_http_with_a_managers_approval(till):
    till.shift()
    sale = till.sale([{"code": MIE, "qty": "4"}], [{"method": "cash", "amount": 20_000}])[0].get_json()
    refused = till.post(f"/api/v1/sales/{sale['id']}/returns", {
        "id": str(uuid.uuid4()), "till": "TK01", "lines": [{"line": 1, "qty": "1"}], "approval": "x", "reason": "r"})
    assert refused.status_code == 403
    approval = till.post("/api/v1/approvals", {"action": "refund", "approver": "manajer", "pin": "4444",
                                               "reason": "rusak", "detail": {"sale": sale["number"]}}, "Approval")
    body = {"id": str(uuid.uuid4()), "till": "TK01", "lines": [{"line": 1, "qty": "1"}],
            "approval": approval.get_json()["approval"], "reason": "rusak"}
    created = till.post(f"/api/v1/sales/{sale['id']}/returns", body, "Return")
    assert created.status_code == 201 and created.get_json()["total"] == 3_500
    assert till.post(f"/api/v1/sales/{sale['id']}/returns", body, "Return").status_code == 200
    after = till.get(f"/api/v1/sales/{sale['id']}", "Sale").get_json()
    assert after["lines"][0]["returned_qty"] == "1" and len(after["returns"]) == 1


def test_shift_close_over_http_by_denomination(till):
    shift = till.shift(opening=50_000).get_json()
    till.sale([{"code": MIE}], [{"method": "cash", "amount": 5_000}])
    assert till.post(f"/api/v1/shifts/{shift['id']}/x", {}, "Shift").get_json()["expected_cash"] == 53_500
    bad = till.post(f"/api/v1/shifts/{shift['id']}/close", {"denominations": {"75000": 1}})
    assert bad.status_code == 400 and bad.get_json()["details"]["field"] == "denominations.75000"
    closed = till.post(f"/api/v1/shifts/{shift['id']}/close",
                       {"denominations": {"50000": 1, "2000": 1, "1000": 1, "500": 1}}, "Shift").get_json()
    assert (closed["status"], closed["counted_cash"], closed["difference"]) == ("closed", 53_500, 0)
    page = till.get(closed["report_url"])
    assert "data-z-report" in page.text and shift["number"] in page.text


def test_held_carts_over_http(till):
    till.shift()
    held = till.post("/api/v1/held", {"till": "TK01", "label": "Pak Ahmad", "cart": {"lines": [{"code": MIE}]}},
                     "Held").get_json()
    assert till.get("/api/v1/held?till=TK01", "HeldList").get_json()["results"][0]["id"] == held["id"]
    assert till.post(f"/api/v1/held/{held['id']}/resume", {"till": "TK01"}, "Held").status_code == 200
    assert till.post(f"/api/v1/held/{held['id']}/resume", {"till": "TK01"}).status_code == 409


def test_search_with_any_number_of_words_and_by_sku_or_barcode(till):
    found = till.get("/api/v1/products/search?q=indomie%20goreng%2085", "ProductSearch").get_json()["results"]
    assert [p["sku"] for p in found] == ["MIE-GORENG"]
    found = till.get("/api/v1/products/search?q=beras%20premium%20banjar").get_json()["results"]  # three words
    assert [p["sku"] for p in found] == ["BRS-PREMIUM"]
    assert till.get("/api/v1/products/search?q=a%20b%20c%20d%20e%20f%20g%20h%20i%20j").status_code == 200
    assert [p["sku"] for p in till.get("/api/v1/products/search?q=mie-gor").get_json()["results"]] == ["MIE-GORENG"]
    assert [p["sku"] for p in till.get(f"/api/v1/products/search?q={MIE}").get_json()["results"]] == ["MIE-GORENG"]
    members = till.get("/api/v1/members?q=siti", "Members").get_json()["results"]
    assert [m["number"] for m in members] == ["AGT-00001"]


def test_a_pin_session_sells_at_its_own_till_only(shop_app, schemas):
    client = shop_app.test_client()
    client.get("/kasir/TK01/masuk")
    client.post("/kasir/TK01/masuk", data={"username": "kasir", "pin": "1111", "csrf_token": csrf_token(client)})
    till = Till(client, schemas)
    assert till.get(f"/api/v1/products/lookup?code={MIE}", "ProductLookup").status_code == 200
    assert till.shift().status_code == 201
    assert till.sale([{"code": MIE}], [{"method": "cash", "amount": 3_500}])[0].status_code == 201
    assert till.shift("TK02").status_code == 403
    assert till.get("/kasir/TK02").status_code == 403
    assert till.get("/kasir/TK01").status_code == 200


def test_the_openapi_document_describes_every_api_route(shop_app):
    from pos.web.openapi import document

    with shop_app.test_request_context():
        doc = document()
    routed = {}
    for rule in shop_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        paths = [rule.rule]
        if "<any(" in rule.rule:  # <any(resume, discard):action>
            head, rest = rule.rule.split("<any(", 1)
            choices, tail = rest.split(")", 1)
            paths = [head + choice.strip() + tail.split(">", 1)[1] for choice in choices.split(",")]
        for path in paths:
            import re

            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
            routed.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    documented = {path: set(ops) for path, ops in doc["paths"].items()}
    assert routed == documented
    for path, ops in doc["paths"].items():
        for method, operation in ops.items():
            assert operation["responses"], (path, method)
            names = re.findall(r"\{(\w+)\}", path)
            assert sorted(p["name"] for p in operation.get("parameters", []) if p["in"] == "path") == sorted(names)


def test_the_customer_screen_streams_the_cart(till, shop_app):
    till.shift()
    till.post("/api/v1/cart", {"till": "TK01", "lines": [{"code": MIE, "qty": "2"}]})
    response = till.client.get("/kasir/TK01/layar/stream")
    first = next(response.response)
    first = first.decode() if isinstance(first, bytes) else first
    response.close()
    assert first.startswith("id:") or first.startswith("event:")
    assert "event: cart" in first and "Indomie Goreng" in first and "Rp 7.000" in first


def test_the_manager_stores_an_outlets_qris_only_when_its_crc_is_right(shop_app):
    from pos.models import Outlet
    from pos.sales.qris import build_static

    client = shop_app.test_client()
    assert sign_in(client, "manajer").status_code == 302
    good = build_static("KOPERASI UJI", "BANJARMASIN", "936000140000099999", "ID1026000099999")
    broken = good[:-4] + ("0000" if not good.endswith("0000") else "1111")
    page = client.post("/perangkat/outlet/TK/qris", data={"qris": broken, "csrf_token": csrf_token(client)},
                       follow_redirects=True)
    assert "salah salin" in page.text  # the check value is wrong: copied wrongly
    with shop_app.app_context():
        assert db.session.scalar(sa.select(Outlet.qris_payload).where(Outlet.code == "TK")) != broken
    page = client.post("/perangkat/outlet/TK/qris", data={"qris": good, "csrf_token": csrf_token(client)},
                       follow_redirects=True)
    assert "KOPERASI UJI" in page.text
    with shop_app.app_context():
        assert db.session.scalar(sa.select(Outlet.qris_payload).where(Outlet.code == "TK")) == good


def test_after_a_scan_and_a_sale_the_pole_display_drawer_and_customer_screen_follow(till, shop_app, tmp_path):
    """A pole display on a pty pair gets the item and then the change; the drawer kick reaches the printer; the
    customer screen's state is the paid sale. None of it is needed for the sale to stand."""
    import os

    from drivers.display import EPSON, change_lines, item_lines, render
    from pos.db import write_transaction
    from pos.models import Till as TillRow
    from receipts.escpos import kick_drawer_bytes

    master, slave = os.openpty()
    try:
        with shop_app.app_context():
            with write_transaction():
                row = db.session.scalar(sa.select(TillRow).where(TillRow.code == "TK01"))
                row.display_port, row.display_commands = os.ttyname(slave), "epson"
        till.shift()

        def screen_bytes(expected: bytes) -> bytes:
            got = b""
            while len(got) < len(expected):
                got += os.read(master, 4096)
            return got

        till.post("/api/v1/cart", {"till": "TK01", "lines": [{"code": MIE, "qty": "2"}]})
        assert screen_bytes(render(EPSON, *item_lines("Indomie Goreng 85 g", 7_000))) == render(
            EPSON, *item_lines("Indomie Goreng 85 g", 7_000))
        sale = till.sale([{"code": MIE, "qty": "2"}], [{"method": "cash", "amount": 10_000}])[0].get_json()
        assert screen_bytes(render(EPSON, *change_lines(10_000, 3_000))) == render(EPSON, *change_lines(10_000, 3_000))
        runtime = shop_app.extensions["kasir_devices"]
        assert runtime.screens["TK01"]["type"] == "paid" and runtime.screens["TK01"]["change"] == 3_000
        drawer = list((tmp_path / "instance" / "printer-out").glob("drawer-*.bin"))
        assert len(drawer) == 1 and drawer[0].read_bytes() == kick_drawer_bytes(2)
        again = till.post("/api/v1/sales", {"id": sale["id"], "till": "TK01", "lines": [{"code": MIE, "qty": "2"}],
                                            "payments": [{"method": "cash", "amount": 10_000}]})
        assert again.status_code == 200
        assert len(list((tmp_path / "instance" / "printer-out").glob("drawer-*.bin"))) == 1  # a retry: no kick
    finally:
        runtime = shop_app.extensions["kasir_devices"]
        for display in runtime.displays.values():
            display.close()
        os.close(master)
        os.close(slave)


def test_a_shift_left_open_from_yesterday_is_shown_to_the_manager(shop_app):
    import datetime as dt

    from pos.db import write_transaction
    from pos.models import User
    from pos.sales import services
    from pos.sales.models import Shift

    with shop_app.app_context():
        kasir = db.session.scalar(sa.select(User).where(User.username == "kasir"))
        shift, _ = services.open_shift("TK02", 50_000, kasir)
        with write_transaction():
            db.session.get(Shift, shift.id).business_date = dt.date.today() - dt.timedelta(days=1)
        number = shift.number
    client = shop_app.test_client()
    assert sign_in(client, "manajer").status_code == 302
    dashboard = client.get("/").text
    assert "data-overnight" in dashboard and number in dashboard
    assert number in client.get("/penjualan/").text
