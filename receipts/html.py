"""Receipts as an HTML fragment for the screen and the sales history: the same lines as the printout.

Self-contained: text is escaped, barcodes and QR codes are inline PNG data URIs, and there is no style attribute or
script (the app's CSP forbids inline styles), only classes styled by `RECEIPT_CSS`, which the lead serves as a file.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence

from receipts.barcodes import barcode_png
from receipts.layout import QR, Barcode, Block, Cut, Feed, Rule, Text, layout
from receipts.model import Receipt
from receipts.profiles import PrinterProfile, get_profile

RECEIPT_CSS = """\
.receipt { display: inline-block; padding: 1rem; background: #fff; color: #000;
  font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 13px; line-height: 1.3;
  border: 1px solid #ccc; }
.receipt--w32 { width: 32ch; }
.receipt--w42 { width: 42ch; }
.receipt--w48 { width: 48ch; }
.receipt-line { white-space: pre; min-height: 1.3em; }
.receipt-line--center { text-align: center; }
.receipt-line--right { text-align: right; }
.receipt-line--bold { font-weight: bold; }
.receipt-line--double { font-size: 200%; line-height: 1.2; }
.receipt-rule { white-space: pre; overflow: hidden; }
.receipt-code { text-align: center; margin: 0.5em 0; }
.receipt-code img { max-width: 100%; image-rendering: pixelated; }
.receipt-code--barcode img { height: 4em; }
.receipt-code--qr img { width: 14em; max-width: 100%; }
.receipt-code-text { white-space: pre; }
.receipt-cut { border-top: 1px dashed #999; margin-top: 0.5em; }
"""

QR_BOX_PX = 4
QR_BORDER_MODULES = 4


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def qr_png(payload: str, *, box_px: int = QR_BOX_PX) -> bytes:
    """A QR code (error correction M, the standard 4-module quiet zone) as PNG bytes."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_px, border=QR_BORDER_MODULES)
    code.add_data(payload)
    code.make(fit=True)
    image = code.make_image().get_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _line(text: str, block: Text | None = None) -> str:
    classes = ["receipt-line"]
    if block is not None:
        if block.align != "left":
            classes.append(f"receipt-line--{block.align}")
        if block.bold:
            classes.append("receipt-line--bold")
        if block.double:
            classes.append("receipt-line--double")
    return f'<div class="{" ".join(classes)}">{html.escape(text)}</div>'


def render_html(
    source: Receipt | Sequence[Block], profile: str | PrinterProfile, *, labels: Mapping[str, str] | None = None
) -> str:
    """The receipt (or already laid-out blocks) as a `<div class="receipt">` fragment, escaped and self-contained.

    `labels` replaces printed words as in `layout()` (only when a Receipt is given).
    """
    profile = get_profile(profile)
    attributes = [f'class="receipt receipt--w{profile.columns}"', f'data-columns="{profile.columns}"']
    if isinstance(source, Receipt):
        blocks = layout(source, profile, labels=labels)
        attributes += [f'data-kind="{source.kind}"', f'data-number="{html.escape(source.number)}"']
        if source.totals is not None:
            attributes.append(f'data-total="{source.totals.total}"')
        if source.copy:
            attributes.append('data-copy="1"')
    else:
        blocks = list(source)
    parts = [f"<div {' '.join(attributes)}>"]
    for block in blocks:
        if isinstance(block, Text):
            parts.append(_line(block.text, block))
        elif isinstance(block, Rule):
            rule = html.escape(block.char * profile.columns)
            parts.append(f'<div class="receipt-rule" aria-hidden="true">{rule}</div>')
        elif isinstance(block, Barcode):
            png = barcode_png(block.data, block.symbology, module_px=2, height_px=60, text=False)
            data = html.escape(block.data)
            parts.append(
                f'<div class="receipt-code receipt-code--barcode" data-barcode="{data}">'
                f'<img src="{_data_uri(png)}" alt="{data}"><div class="receipt-code-text">{data}</div></div>'
            )
        elif isinstance(block, QR):
            parts.append(
                '<div class="receipt-code receipt-code--qr">'
                f'<img src="{_data_uri(qr_png(block.payload))}" alt="QR"></div>'
            )
        elif isinstance(block, Feed):
            parts.extend(_line("") for _ in range(block.lines))
        elif isinstance(block, Cut):
            parts.append('<div class="receipt-cut" aria-hidden="true"></div>')
        else:
            raise ValueError(f"not a receipt block: {block!r}")
    parts.append("</div>")
    return "\n".join(parts)
