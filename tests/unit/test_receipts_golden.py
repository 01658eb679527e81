"""Byte-exact golden receipts: ESC/POS jobs and their text previews for 32, 42 and 48 columns.

A change in layout or rendering shows up here as a diff of a file under tests/golden/receipts/. When the change is
intended, regenerate the files and review them (the .txt previews read like the paper) before committing:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/test_receipts_golden.py -q
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from receipts import samples
from receipts.escpos import render_escpos, render_text
from receipts.layout import layout
from receipts.model import test_page
from receipts.profiles import get_profile

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "receipts"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

CASES = {
    "sale-32": (samples.sample_sale, "POS-5890"),
    "sale-42": (samples.sample_sale, "TM-T82-42"),
    "sale-48": (samples.sample_sale, "TM-T20II"),
    "sale-reprint-48": (lambda: samples.sample_sale(copy=True), "TM-T20II"),
    "sale-reprint-32": (lambda: samples.sample_sale(copy=True), "POS-5890"),
    "sale-qris-pending-32": (lambda: samples.sample_sale(qris_pending=True), "POS-5890"),
    "sale-qris-pending-48": (lambda: samples.sample_sale(qris_pending=True), "TM-T20II"),
    "sale-non-pkp-32": (lambda: samples.sample_sale(pkp=False), "POS-5890"),
    "return-42": (samples.sample_return, "TM-T82-42"),
    "shift-x-48": (lambda: samples.sample_shift(final=False), "TM-T20II"),
    "shift-z-48": (lambda: samples.sample_shift(final=True), "TM-T20II"),
    "shift-z-32": (lambda: samples.sample_shift(final=True), "POS-5890"),
    "slip-deposit-32": (lambda: samples.sample_slip("deposit"), "POS-5890"),
    "slip-kasbon-48": (lambda: samples.sample_slip("kasbon_repayment"), "TM-T20II"),
    "test-page-32": (lambda: test_page("Kasir 1 (USB)", "POS-5890", printed_at=samples.SAMPLE_TIME), "POS-5890"),
    "test-page-48": (lambda: test_page("Kasir 2 (LAN)", "TM-T20II", printed_at=samples.SAMPLE_TIME), "TM-T20II"),
}


def _compare(path: Path, actual: bytes) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
    assert path.exists(), f"{path.name} is missing: run UPDATE_GOLDEN=1 .venv/bin/python -m pytest {__file__} -q"
    expected = path.read_bytes()
    if actual != expected:
        at = next(
            (i for i, (a, b) in enumerate(zip(actual, expected, strict=False)) if a != b),
            min(len(actual), len(expected)),
        )
        pytest.fail(
            f"{path.name} differs from its golden file at byte {at} ({len(actual)} bytes, golden {len(expected)}):\n"
            f"  got    {actual[max(0, at - 40) : at + 40]!r}\n  golden {expected[max(0, at - 40) : at + 40]!r}\n"
            "If the change is intended: UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/test_receipts_golden.py"
        )


@pytest.mark.parametrize("name", sorted(CASES))
def test_escpos_job_matches_the_golden_file_byte_for_byte(name):
    build, profile = CASES[name]
    blocks = layout(build(), profile)
    job = render_escpos(blocks, profile)
    assert job == render_escpos(layout(build(), profile), profile), "the same receipt must give the same bytes"
    _compare(GOLDEN / f"{name}.bin", job)


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_preview_matches_the_golden_file_and_fits_the_paper(name):
    build, profile = CASES[name]
    text = render_text(layout(build(), profile), profile)
    columns = get_profile(profile).columns
    for number, line in enumerate(text.splitlines(), start=1):
        assert len(line) <= columns, f"line {number} is {len(line)} characters on {columns}-column paper: {line!r}"
        assert line == line.rstrip(), f"line {number} ends in spaces"
    _compare(GOLDEN / f"{name}.txt", text.encode("utf-8"))


def test_every_golden_file_belongs_to_a_case():
    """A renamed case must not leave a stale golden file behind."""
    expected = {f"{name}.{ext}" for name in CASES for ext in ("bin", "txt")}
    present = {path.name for path in GOLDEN.iterdir() if path.suffix in (".bin", ".txt")}
    assert present == expected
