"""The receipt and label stylesheets served by the app are the receipts package's own (no inline styles: CSP)."""

from pathlib import Path

from receipts.html import RECEIPT_CSS
from receipts.labels import LABEL_SHEET_CSS

STATIC = Path(__file__).resolve().parents[2] / "pos" / "static" / "css"


def test_static_stylesheets_match_the_package():
    assert (STATIC / "receipt.css").read_text().split("\n", 1)[1] == RECEIPT_CSS
    assert (STATIC / "labels.css").read_text().split("\n", 1)[1] == LABEL_SHEET_CSS
