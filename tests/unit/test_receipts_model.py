"""Receipt data: builders from plain dicts, and the inputs they refuse (money that is not whole rupiah, sums that do
not add up, typos in keys, naive times)."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from receipts import samples
from receipts.model import (
    Payment,
    Receipt,
    ReceiptLine,
    Totals,
    return_receipt,
    sale_receipt,
    shift_report,
    slip_receipt,
    test_page,
)
from receipts.profiles import PROFILES, get_profile


def sale_data(**changes) -> dict:
    data = samples.sample_sale_data()
    data.update(changes)
    return data


def with_line(index: int, **changes) -> dict:
    data = sale_data()
    data["lines"] = copy.deepcopy(data["lines"])
    data["lines"][index].update(changes)
    return data


# --- what the builders produce ----------------------------------------------------------------------------------


def test_the_sample_sale_builds_with_computed_line_totals():
    receipt = sale_receipt(sale_data())
    assert receipt.kind == "sale" and receipt.number == "TK1-2611-000123"
    assert [line.total for line in receipt.lines] == [18_125, 9_500, 10_000, 22_000, 38_900, 17_000]
    beras = receipt.lines[0]
    assert beras.quantity == Decimal("1.250") and beras.exempt and beras.gross == 18_125
    medicine = receipt.lines[2]
    assert medicine.batch == "PCT2411A" and medicine.expiry == dt.date(2027, 11, 30)
    assert receipt.totals == Totals(
        subtotal=115_525, discount=2_000, dpp=61_189, ppn=7_343, tax_inclusive=True, rounding=-25, total=113_500
    )
    assert [(p.method, p.label, p.amount) for p in receipt.payments] == [
        ("qris", "QRIS", 50_000),
        ("cash", "Tunai", 100_000),
    ]
    assert receipt.change == 36_500 and receipt.savings == 3_000 and receipt.qris_amount == 50_000
    assert receipt.header.shows_npwp and not receipt.copy


def test_omitted_subtotal_and_total_are_computed():
    data = sale_data(totals={"discount": 2_000, "rounding": -25, "dpp": 61_189, "ppn": 7_343})
    assert sale_receipt(data).totals.total == 113_500


def test_a_line_total_given_must_add_up_half_up():
    # 0,333 kg x 1.500 = 499,5 -> 500 (half up)
    data = sale_data(
        lines=[{"name": "Cabai", "quantity": Decimal("0.333"), "unit": "kg", "unit_price": 1_500, "total": 500}],
        totals={},
        payments=[{"method": "cash", "amount": 500}],
        change=0,
    )
    assert sale_receipt(data).totals.total == 500
    data["lines"][0]["total"] = 499
    with pytest.raises(ValueError, match="does not add up"):
        sale_receipt(data)


def test_control_characters_in_names_become_spaces():
    receipt = sale_receipt(with_line(5, name="Sabun\x1b@Mandi\n\tLifebuoy"))
    assert receipt.lines[5].name == "Sabun @Mandi Lifebuoy"


def test_reprint_flag_and_tax_exclusive_totals():
    assert sale_receipt(sale_data(copy=True)).copy is True
    data = sale_data(
        lines=[{"name": "Sabun", "quantity": Decimal(1), "unit": "pcs", "unit_price": 10_000}],
        totals={"dpp": 10_000, "ppn": 1_100, "tax_inclusive": False},
        payments=[{"method": "transfer", "amount": 11_100}],
        change=0,
    )
    receipt = sale_receipt(data)
    assert receipt.totals.total == 11_100 and receipt.payments[0].label == "Transfer"


def test_return_receipt_needs_the_original_number_and_pays_back_the_total():
    receipt = samples.sample_return()
    assert receipt.kind == "return" and receipt.original_number == "TK1-2611-000123"
    assert receipt.totals.total == 38_900 == receipt.payments[0].amount


def test_shift_reports_compute_expected_cash_and_difference():
    z = samples.sample_shift(final=True)
    assert z.kind == "shift_z"
    assert z.shift.expected_cash == 200_000 + 1_250_500 - 38_900 - 50_000 == 1_361_600
    assert z.shift.difference == -500
    assert z.shift.total_sales == 1_805_500 and z.shift.total_refunds == 38_900
    x = samples.sample_shift(final=False)
    assert x.kind == "shift_x" and x.shift.counted_cash is None and x.shift.difference is None


def test_slip_and_test_page():
    slip = samples.sample_slip("withdrawal")
    assert slip.kind == "slip" and slip.slip.kind == "withdrawal" and slip.member_number == "AGT-00042"
    page = test_page("Kasir 1", "POS-5890", printed_at=samples.SAMPLE_TIME)
    assert page.kind == "test" and page.test.profile is PROFILES["POS-5890"] and page.header is None


def test_receipts_are_frozen():
    receipt = samples.sample_sale()
    with pytest.raises(AttributeError):
        receipt.number = "X"  # type: ignore[misc]


# --- what they refuse -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "changes", "message"),
    [
        (4, {"unit_price": 38_900.0}, "whole rupiah"),
        (4, {"unit_price": Decimal(38_900)}, "whole rupiah"),
        (4, {"unit_price": True}, "whole rupiah"),
        (4, {"unit_price": -38_900}, "negative"),
        (1, {"discount": -1_000}, "negative"),
        (1, {"discount": 20_000}, "more than the line"),
        (4, {"total": 38_000}, "does not add up"),
        (0, {"quantity": 1.25}, "Decimal"),
        (0, {"quantity": Decimal("1.2505")}, "decimals"),
        (0, {"quantity": Decimal(0)}, "more than zero"),
        (0, {"quantity": Decimal("NaN")}, "more than zero"),
        (0, {"tax_code": "zero"}, "tax code"),
        (0, {"name": " \n "}, "empty"),
        (2, {"expiry": "30/11/2027"}, "ISO date"),
        (0, {"quantiy": Decimal(1)}, "unknown keys: quantiy"),
    ],
)
def test_bad_lines_are_refused(index, changes, message):
    with pytest.raises(ValueError, match=message):
        sale_receipt(with_line(index, **changes))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"totals": {"subtotal": 115_000, "discount": 2_000, "rounding": -25}}, "subtotal does not add up"),
        ({"totals": {"discount": 2_000, "rounding": -25, "total": 113_525}}, "totals do not add up"),
        ({"totals": {"discount": 2_000.0}}, "whole rupiah"),
        ({"totals": {"discount": 2_000, "rounding": -2_025}}, "rounding"),
        ({"totals": {"discount": 2_000, "rounding": -25, "ppn": 80_000, "dpp": 1}}, "taxable"),
        ({"change": 37_000}, "payments do not add up"),
        ({"change": -1}, "negative"),
        ({"payments": [{"method": "qris", "amount": 150_000}]}, "more than the cash"),
        ({"payments": [{"method": "cash", "amount": 0}], "change": 0}, "zero"),
        ({"payments": [{"method": "Cash!", "amount": 113_500}], "change": 0}, "method"),
        ({"printed_at": dt.datetime(2026, 11, 28, 14, 5)}, "naive"),
        ({"timezone": "Asia/Atlantis"}, "timezone"),
        ({"number": "TK1-2611-000123-EXTRA-LONG-NUMBER"}, "longer than"),
        ({"number": "TK1-Ω"}, "ASCII"),
        ({"number": " TK1"}, "surrounding spaces"),
        ({"member_number": "AGT 42\n"}, "surrounding spaces"),
        ({"qris_payload": "0002010102122"}, None),  # allowed: there is a QRIS payment
        ({"payments": [{"method": "cash", "amount": 150_000}], "qris_payload": "00020101"}, "QRIS"),
        ({"original_number": "TK1-1"}, "unknown keys: original_number"),
        ({"member_number": None, "payments": [{"method": "kasbon", "amount": 113_500}], "change": 0}, "member"),
        ({"lines": []}, "at least one line"),
        ({"cashier_name": ""}, "cashier"),
        ({"copy": "yes"}, "True or False"),
        ({"kassir": "Siti"}, "unknown keys: kassir"),
    ],
)
def test_sales_that_do_not_add_up_are_refused(changes, message):
    data = sale_data(**changes)
    if message is None:
        assert sale_receipt(data).qris_payload == changes["qris_payload"]
        return
    with pytest.raises(ValueError, match=message):
        sale_receipt(data)


def test_a_non_pkp_cooperative_charges_no_ppn():
    data = samples.sample_sale_data(pkp=False)
    data["totals"] = {**data["totals"], "ppn": 7_343, "dpp": 61_189}
    with pytest.raises(ValueError, match="not PKP"):
        sale_receipt(data)


def test_missing_parts_are_named():
    data = sale_data()
    del data["header"]
    with pytest.raises(ValueError, match="needs 'header'"):
        sale_receipt(data)
    with pytest.raises(ValueError, match="must be a dict"):
        sale_receipt([("number", "X")])  # type: ignore[arg-type]
    data = sale_data(header={**samples.sample_header(), "npwp_number": "1"})
    with pytest.raises(ValueError, match="unknown keys: npwp_number"):
        sale_receipt(data)


def test_returns_are_checked():
    base = {
        "header": samples.sample_header(),
        "number": "TK1-R-1",
        "printed_at": samples.SAMPLE_TIME,
        "cashier_name": "Siti",
        "lines": [{"name": "Minyak", "quantity": Decimal(1), "unit": "pouch", "unit_price": 38_900}],
        "payments": [{"method": "cash", "amount": 38_900}],
    }
    with pytest.raises(ValueError, match="needs 'original_number'"):
        return_receipt(base)
    with pytest.raises(ValueError, match="refunds do not add up"):
        return_receipt({**base, "original_number": "TK1-1", "payments": [{"method": "cash", "amount": 40_000}]})
    with pytest.raises(ValueError, match="no change"):
        return_receipt(
            {**base, "original_number": "TK1-1", "payments": [{"method": "cash", "amount": 40_000}], "change": 1_100}
        )
    assert return_receipt({**base, "original_number": "TK1-1"}).totals.total == 38_900


@pytest.mark.parametrize(
    ("final", "changes", "message"),
    [
        (True, {"counted_cash": None}, "counted cash"),
        (True, {"closed_at": None}, "closed_at"),
        (True, {"expected_cash": 1_361_000}, "expected cash does not add up"),
        (True, {"difference": 500}, "difference does not add up"),
        (True, {"opening_float": -1}, "negative"),
        (True, {"opening_float": 200_000.0}, "whole rupiah"),
        (True, {"closed_at": samples.SAMPLE_TIME.replace(hour=7)}, "closed before it opened"),
        (True, {"opened_at": dt.datetime(2026, 11, 28, 8)}, "naive"),
        (True, {"sales": [{"method": "cash", "amount": 1}, {"method": "cash", "amount": 2}]}, "twice"),
        (False, {"sales": [{"method": "cash", "amount": -5}]}, "negative"),
        (False, {"counted": 1}, "unknown keys: counted"),
    ],
)
def test_shift_reports_that_do_not_add_up_are_refused(final, changes, message):
    data = {**samples.sample_shift_data(final), **changes}
    data = {key: value for key, value in data.items() if value is not None}
    with pytest.raises(ValueError, match=message):
        shift_report(data, final=final)


def test_an_x_report_may_show_a_count_and_a_z_report_flag_must_be_bool():
    data = {**samples.sample_shift_data(False), "counted_cash": 1_361_600}
    assert shift_report(data, final=False).shift.difference == 0
    with pytest.raises(ValueError, match="True or False"):
        shift_report(samples.sample_shift_data(True), final=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": 0}, "zero"),
        ({"amount": 250_000.5}, "whole rupiah"),
        ({"balance_after": -1}, "negative"),
        ({"kind": "loan"}, "slip kind"),
        ({"member_number": ""}, "non-empty"),
        ({"member_name": "  "}, "empty"),
    ],
)
def test_bad_slips_are_refused(changes, message):
    data = {
        "header": samples.sample_header(),
        "number": "SP-1",
        "printed_at": samples.SAMPLE_TIME,
        "cashier_name": "Budi",
        "kind": "deposit",
        "member_number": "AGT-00042",
        "member_name": "Siti Aminah",
        "account": "Simpanan sukarela",
        "amount": 250_000,
        "balance_after": 1_750_000,
    }
    assert slip_receipt(data).slip.amount == 250_000
    with pytest.raises(ValueError, match=message):
        slip_receipt({**data, **changes})


def test_direct_construction_is_validated_too():
    line = ReceiptLine(name="Gula", quantity=Decimal(1), unit="kg", unit_price=17_500, total=17_500)
    header = samples.sample_sale().header
    with pytest.raises(ValueError, match="needs totals"):
        Receipt(
            kind="sale", number="T-1", printed_at=samples.SAMPLE_TIME, header=header, cashier_name="S", lines=(line,)
        )
    with pytest.raises(ValueError, match="receipt kind"):
        Receipt(kind="invoice", number="T-1", printed_at=samples.SAMPLE_TIME, header=header)
    with pytest.raises(ValueError, match="needs a header"):
        Receipt(kind="slip", number="T-1", printed_at=samples.SAMPLE_TIME)
    with pytest.raises(ValueError, match="nothing else"):
        Receipt(kind="slip", number="T-1", printed_at=samples.SAMPLE_TIME, header=header)
    with pytest.raises(ValueError, match="zero"):
        Payment(method="cash", label="Tunai", amount=0)


def test_profiles_match_python_escpos_capabilities():
    from escpos.capabilities import get_profile as escpos_profile

    for profile in PROFILES.values():
        capabilities = escpos_profile(profile.escpos_profile)
        assert capabilities.get_columns("a") == profile.columns
        assert int(capabilities.profile_data["media"]["width"]["pixels"]) == profile.width_px
        assert bool(capabilities.supports("barcodeB")) == profile.native_barcode
        assert bool(capabilities.supports("qrCode")) == profile.native_qr
        assert bool(capabilities.supports("paperFullCut") or capabilities.supports("paperPartCut")) == profile.can_cut
        assert profile.cash_drawer_pin == 2
    assert {p.columns for p in PROFILES.values()} == {32, 42, 48}
    with pytest.raises(ValueError, match="unknown printer profile"):
        get_profile("TM-U999")
