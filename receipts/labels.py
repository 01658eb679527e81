"""Shelf labels and product labels (in-store barcodes): PNG images, a printable A4 sheet and receipt-printer blocks.

Every barcode must scan back as the code the till looks up: EAN-13/EAN-8 check digits are verified here (GS1 mod 10)
instead of trusting python-barcode, which silently "corrects" a wrong one into another product's code.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pos.money import format_rupiah
from receipts.barcodes import QUIET_MODULES, barcode_modules, barcode_png, bars_image, print_symbology
from receipts.layout import Barcode, Block, Cut, Feed, Text, wrap
from receipts.model import clean_text, money
from receipts.profiles import PrinterProfile, get_profile

LABEL_KINDS = ("shelf", "product")
LABEL_DPI = 203  # thermal label printers; 8 dots a millimetre
SHEET_LAYOUTS = {(3, 8): "3x8", (4, 10): "4x10"}  # A4 label stock: 24 labels 70 x 37 mm, 40 labels 52.5 x 29.7 mm

LABEL_SHEET_CSS = """\
/* A4 label sheets from receipts.labels.a4_sheet_html: no margins, the label stock's own grid. */
@page { size: A4; margin: 0; }
.label-sheet { margin: 0; padding: 0; }
.label-page { display: grid; width: 210mm; height: 297mm; box-sizing: border-box; margin: 0 auto;
  break-after: page; page-break-after: always; overflow: hidden; }
.label-page:last-child { break-after: auto; page-break-after: auto; }
.label-page--3x8 { grid-template-columns: repeat(3, 70mm); grid-template-rows: repeat(8, 37.125mm); }
.label-page--4x10 { grid-template-columns: repeat(4, 52.5mm); grid-template-rows: repeat(10, 29.7mm); }
.label { box-sizing: border-box; overflow: hidden; padding: 2.5mm 3mm; display: flex; flex-direction: column;
  align-items: center; justify-content: space-between; font-family: "DejaVu Sans", Arial, sans-serif;
  color: #000; background: #fff; text-align: center; }
.label-name { font-size: 8.5pt; font-weight: bold; line-height: 1.15; max-height: 2.3em; overflow: hidden; }
.label-price { font-size: 15pt; font-weight: bold; line-height: 1.1; white-space: nowrap; }
.label-unit { font-size: 8pt; font-weight: normal; }
.label-detail { font-size: 7pt; line-height: 1.1; }
.label-barcode { display: block; height: 11mm; width: auto; max-width: 100%; image-rendering: pixelated; }
.label-code { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; letter-spacing: 0.05em; }
.label--shelf .label-price { font-size: 16pt; }
.label--product .label-price { font-size: 11pt; }
.label-page--4x10 .label-price { font-size: 12pt; }
.label-page--4x10 .label-barcode { height: 9mm; }
.label--empty { visibility: hidden; }
@media screen {
  .label-page { border: 1px solid #bbb; margin-bottom: 1rem; }
  .label { outline: 1px dashed #ddd; }
}
"""


@dataclass(frozen=True)
class Label:
    """One label. Shelf labels show the price per unit; product labels carry a barcode for goods without one."""

    kind: str
    name: str
    barcode: str
    price: int | None = None
    unit: str | None = None
    detail: str = ""  # a small extra line: "1,250 kg x Rp 14.500", "ED 30 Nov 2027", the product code...
    symbology: str = field(init=False)
    data: str = field(init=False)  # what the bars encode (a UPC-A as its EAN-13 twin)

    def __post_init__(self) -> None:
        if self.kind not in LABEL_KINDS:
            raise ValueError(f"label kind must be one of {', '.join(LABEL_KINDS)}, not {self.kind!r}")
        object.__setattr__(self, "name", clean_text(self.name, "label name"))
        symbology, data = print_symbology(self.barcode)
        object.__setattr__(self, "symbology", symbology)
        object.__setattr__(self, "data", data)
        if self.price is not None:
            money(self.price, "label price")
        if self.kind == "shelf" and self.price is None:
            raise ValueError("a shelf label needs a price")
        object.__setattr__(self, "unit", clean_text(self.unit, "label unit", required=False, limit=20) or None)
        object.__setattr__(self, "detail", clean_text(self.detail, "label detail", required=False, limit=60))


def shelf_label(name: str, unit: str, price: int, barcode: str, *, detail: str = "") -> Label:
    return Label("shelf", name, barcode, price=price, unit=unit, detail=detail)


def product_label(
    name: str, barcode: str, *, price: int | None = None, unit: str | None = None, detail: str = ""
) -> Label:
    return Label("product", name, barcode, price=price, unit=unit, detail=detail)


def _price_text(label: Label) -> str:
    return format_rupiah(label.price) if label.price is not None else ""


def _unit_text(label: Label) -> str:
    return f"/ {label.unit}" if label.unit and label.price is not None else (label.unit or "")


# --- PNG ------------------------------------------------------------------------------------------------------------


def _fit_font(draw, text: str, width: int, size: int, minimum: int):
    from PIL import ImageFont

    while True:
        font = ImageFont.load_default(size=size)
        if size <= minimum or draw.textlength(text, font=font) <= width:
            return font
        size -= 1


def label_png(label: Label, *, width_mm: float = 50, height_mm: float = 30, dpi: int = LABEL_DPI) -> bytes:
    """The label as a PNG for a label printer (default 50 x 30 mm at 203 dpi), bars in whole dots."""
    from PIL import Image, ImageDraw, ImageFont

    if not isinstance(label, Label):
        raise ValueError("label_png() takes a Label")
    width = round(width_mm * dpi / 25.4)
    height = round(height_mm * dpi / 25.4)
    margin = max(4, width // 40)
    modules = barcode_modules(label.data, label.symbology)
    quiet = QUIET_MODULES[label.symbology]
    module_px = next((px for px in (3, 2, 1) if (len(modules) + 2 * quiet) * px <= width), None)
    if module_px is None:
        raise ValueError(f"the barcode {label.data!r} does not fit a {width_mm} mm label")
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    name_font = ImageFont.load_default(size=max(12, height // 11))
    y = margin
    text_width = width - 2 * margin
    names = _wrap_pixels(draw, label.name, name_font, text_width)
    for line in names[:2]:
        draw.text((width // 2, y), line, fill=0, font=name_font, anchor="mt")
        y += name_font.size + 2
    price = _price_text(label)
    if price:
        unit = _unit_text(label)
        shown = f"{price} {unit}".strip()
        price_font = _fit_font(draw, shown, text_width, max(16, height // 6), 10)
        draw.text((width // 2, y + 2), shown, fill=0, font=price_font, anchor="mt")
        y += price_font.size + 6
    elif label.unit:
        draw.text((width // 2, y), label.unit, fill=0, font=name_font, anchor="mt")
        y += name_font.size + 2
    if label.detail:
        detail_font = _fit_font(draw, label.detail, text_width, max(11, height // 14), 8)
        draw.text((width // 2, y), label.detail, fill=0, font=detail_font, anchor="mt")
        y += detail_font.size + 2
    code_font = ImageFont.load_default(size=max(11, height // 14))
    bar_height = height - y - margin - code_font.size - 4
    if bar_height < 10 * module_px:
        raise ValueError(f"the text leaves no room for the barcode on a {height_mm} mm label")
    bars = bars_image(modules, module_px=module_px, height_px=bar_height, width_px=width)
    image.paste(bars, (0, y + 2))
    draw.text((width // 2, y + 4 + bar_height), label.data, fill=0, font=code_font, anchor="mt")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(dpi, dpi))
    return buffer.getvalue()


def _wrap_pixels(draw, text: str, font, width: int) -> list[str]:
    """Words wrapped to a pixel width; the second line is cut short with '...' when the name is longer still."""
    words, lines, current = text.split(" "), [], ""
    for word in words:
        trial = f"{current} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    lines.append(current)
    lines = [_shorten(draw, line, font, width) for line in lines]
    if len(lines) > 2:
        lines = [lines[0], _shorten(draw, lines[1] + " ...", font, width, force=True)]
    return lines


def _shorten(draw, line: str, font, width: int, force: bool = False) -> str:
    if draw.textlength(line, font=font) <= width and not force:
        return line
    while line and draw.textlength(line.rstrip(". ") + "...", font=font) > width:
        line = line[:-1]
    return line.rstrip(". ") + "..."


# --- A4 sheet -------------------------------------------------------------------------------------------------------


def _label_html(label: Label) -> str:
    png = barcode_png(label.data, label.symbology, module_px=3, height_px=120, text=False)
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    data = html.escape(label.data)
    parts = [
        f'<article class="label label--{label.kind}" data-barcode="{data}" data-symbology="{label.symbology}">',
        f'<div class="label-name">{html.escape(label.name)}</div>',
    ]
    if label.price is not None:
        unit = _unit_text(label)
        unit_html = f' <span class="label-unit">{html.escape(unit)}</span>' if unit else ""
        parts.append(
            f'<div class="label-price" data-price="{label.price}">{html.escape(_price_text(label))}{unit_html}</div>'
        )
    elif label.unit:
        parts.append(f'<div class="label-detail">{html.escape(label.unit)}</div>')
    if label.detail:
        parts.append(f'<div class="label-detail">{html.escape(label.detail)}</div>')
    parts.append(f'<img class="label-barcode" src="{uri}" alt="{data}">')
    parts.append(f'<div class="label-code">{data}</div>')
    parts.append("</article>")
    return "".join(parts)


def a4_sheet_html(labels: Iterable[Label], *, columns: int = 3, rows: int = 8, skip: int = 0) -> str:
    """Labels on A4 label stock (3 x 8 or 4 x 10), as many pages as needed; style it with LABEL_SHEET_CSS.

    `skip` leaves that many cells empty at the start, to use up a partly used sheet.
    """
    layout = SHEET_LAYOUTS.get((columns, rows))
    if layout is None:
        raise ValueError(f"label sheets are {' or '.join('x'.join(map(str, k)) for k in SHEET_LAYOUTS)}")
    items = list(labels)
    if not items:
        raise ValueError("no labels to print")
    if not all(isinstance(item, Label) for item in items):
        raise ValueError("a4_sheet_html() takes Labels")
    per_page = columns * rows
    if type(skip) is not int or not 0 <= skip < per_page:
        raise ValueError(f"skip 0 to {per_page - 1} cells")
    cells = ['<div class="label label--empty"></div>'] * skip + [_label_html(item) for item in items]
    pages = []
    for start in range(0, len(cells), per_page):
        chunk = cells[start : start + per_page]
        pages.append(f'<section class="label-page label-page--{layout}">' + "\n".join(chunk) + "</section>")
    return (
        f'<div class="label-sheet" data-labels="{len(items)}" data-pages="{len(pages)}">\n'
        + "\n".join(pages)
        + "\n</div>"
    )


# --- receipt printer ------------------------------------------------------------------------------------------------


def thermal_label_blocks(labels: Label | Sequence[Label], profile: str | PrinterProfile) -> list[Block]:
    """Labels printed on a receipt printer, one after the other, cut (or torn) between them."""
    profile = get_profile(profile)
    items = [labels] if isinstance(labels, Label) else list(labels)
    if not items or not all(isinstance(item, Label) for item in items):
        raise ValueError("thermal_label_blocks() takes one Label or a list of them")
    blocks: list[Block] = []
    for label in items:
        blocks.extend(Text(line, "center", bold=True) for line in wrap(label.name, profile.columns))
        price = _price_text(label)
        if price:
            blocks.extend(Text(line, "center", double=True) for line in wrap(price, profile.columns // 2))
        unit = _unit_text(label)
        if unit:
            blocks.extend(Text(line, "center") for line in wrap(unit, profile.columns))
        if label.detail:
            blocks.extend(Text(line, "center") for line in wrap(label.detail, profile.columns))
        blocks.append(Barcode(label.data, label.symbology))
        blocks.append(Cut() if profile.can_cut else Feed(3))
    return blocks
