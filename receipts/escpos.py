"""Laid-out blocks to ESC/POS bytes (through python-escpos's recording Dummy printer) and to a plain-text preview.

The bytes are deterministic: the same blocks and profile give byte-identical output on every run, so receipts can be
compared with golden files and a reprint is the same job again. Text is sent as ASCII in code page CP437 (accents
are dropped, anything else becomes "?"), because cheap 58 mm printers ignore code page switches.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from receipts.barcodes import barcode_modules, bars_image, code128_values
from receipts.layout import QR, Barcode, Block, Cut, Feed, Rule, Text
from receipts.profiles import PrinterProfile, get_profile

BAR_HEIGHT_DOTS = 80  # 10 mm at 203 dpi: tall enough for a hand scanner held at an angle
DOTS_PER_MM = 8  # 203 dpi, the resolution of practically every receipt printer
MIN_QUIET_MODULES = 10
QR_MAX_MODULE_DOTS = 6
QR_MIN_MODULE_DOTS = 3
QR_MARGIN_DOTS = 32
_DEFAULT_STYLE = ("left", False, False)
SELECT_CP437 = b"\x1bt\x00"  # ESC t 0: character code table 0, PC437, on every ESC/POS printer
# Typographic characters that product names pasted from a supplier's list often carry: one ASCII character each.
_ASCII_FOR = {"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00d7": "x",
              "\u2022": "*", "\u2026": ".", "\u00a0": " "}  # fmt: skip


# --- plain text -----------------------------------------------------------------------------------------------------


def _fit(block: Text, columns: int) -> None:
    room = columns // 2 if block.double else columns
    if len(block.text) > room:
        raise ValueError(f"a line of {len(block.text)} characters does not fit {room} columns: {block.text!r}")


def _blocks(blocks: Iterable[Block]) -> list[Block]:
    items = list(blocks)
    for block in items:
        if not isinstance(block, (Text, Rule, Barcode, QR, Feed, Cut)):
            raise ValueError(f"not a receipt block: {block!r}")
    return items


def preview_lines(blocks: Sequence[Block], profile: str | PrinterProfile) -> list[str]:
    """The printed lines as text, each at most the profile's columns (double-size text is shown at normal size)."""
    profile = get_profile(profile)
    width = profile.columns
    lines: list[str] = []
    for block in _blocks(blocks):
        if isinstance(block, Text):
            _fit(block, width)
            if block.align == "center":
                lines.append((" " * ((width - len(block.text)) // 2) + block.text).rstrip())
            elif block.align == "right":
                lines.append(block.text.rjust(width))
            else:
                lines.append(block.text.rstrip())
        elif isinstance(block, Rule):
            lines.append(block.char * width)
        elif isinstance(block, Barcode):
            shown = f"||| {block.data} |||"
            shown = shown if len(shown) <= width else block.data[:width]
            lines.append((" " * ((width - len(shown)) // 2) + shown).rstrip())
        elif isinstance(block, QR):
            shown = "[QR]"
            lines.append(" " * ((width - len(shown)) // 2) + shown)
        elif isinstance(block, Feed):
            lines.extend([""] * block.lines)
        elif isinstance(block, Cut):
            lines.append("~" * width)
    return lines


def render_text(blocks: Sequence[Block], profile: str | PrinterProfile) -> str:
    """A plain-text preview of the printout (for logs, tests and the "save to folder" printer)."""
    return "\n".join(preview_lines(blocks, profile)) + "\n"


# --- ESC/POS --------------------------------------------------------------------------------------------------------


def printable(text: str) -> str:
    """The text as the printer's ASCII, one character for one: accents dropped (é -> e), others become '?'."""
    out = []
    for ch in text:
        if " " <= ch <= "~":
            out.append(ch)
            continue
        if ch in _ASCII_FOR:
            out.append(_ASCII_FOR[ch])
            continue
        parts = unicodedata.normalize("NFD", ch)
        plain = parts[:1] if parts[:1].isascii() and all(unicodedata.combining(mark) for mark in parts[1:]) else ""
        out.append(plain if plain and " " <= plain <= "~" else "?")
    return "".join(out)


def escpos_code128(data: str) -> str:
    """Code128 data in the ESC/POS form: "{B" text, "{C" digit pairs as bytes, in the code sets of `code128_values`.

    Long digit runs go in code set C (two digits a symbol), which keeps receipt-number barcodes narrow enough for
    wide bars; the printer adds the check symbol.
    """
    values = code128_values(data)
    charset = {103: "A", 104: "B", 105: "C"}[values[0]]
    out = ["{" + charset]
    switches = {99: "C", 100: "B", 101: "A"}
    for value in values[1:]:
        if charset == "C" and value < 100:
            out.append(chr(value))
        elif charset == "B" and value < 95:
            out.append("{{" if value == 91 else chr(value + 32))
        elif charset == "A" and value < 96:
            out.append(chr(value + 32) if value < 64 else chr(value - 64))
        else:  # a code-set switch (code128_values reads every value back, so nothing else comes here)
            charset = switches[value]
            out.append("{" + charset)
    return "".join(out)


def decode_escpos_code128(code: str) -> str:
    """What a scanner reads from ESC/POS Code128 data (the inverse of `escpos_code128`)."""
    out, charset, index = [], None, 0
    while index < len(code):
        ch = code[index]
        if ch == "{":
            following = code[index + 1 : index + 2]
            index += 2
            if following in ("A", "B", "C"):
                charset = following
            elif following == "{" and charset in ("A", "B"):
                out.append("{")
            else:
                raise ValueError(f"unknown Code128 escape {{{following}")
            continue
        if charset is None:
            raise ValueError("Code128 data must start with a code set ({A, {B or {C)")
        out.append(f"{ord(ch):02d}" if charset == "C" else ch)
        index += 1
    return "".join(out)


def _code128_symbols(code: str) -> int:
    """Symbols of ESC/POS Code128 data: start and switches, one per character (a digit pair in set C)."""
    symbols, index = 0, 0
    while index < len(code):
        index += 2 if code[index] == "{" else 1
        symbols += 1
    return symbols


def _paper_margin_dots(profile: PrinterProfile) -> int:
    """The white paper either side of the printable area: part of every barcode's quiet zone."""
    return max(0, (profile.paper_mm * DOTS_PER_MM - profile.width_px) // 2)


def _module_dots(modules: int, profile: PrinterProfile, widths: Sequence[int], room: int) -> int | None:
    """The widest bar module (in dots) that fits `room` dots with a full quiet zone (paper margin included)."""
    for width in widths:
        inside = (room - modules * width) // 2
        if inside >= 0 and inside + _paper_margin_dots(profile) >= MIN_QUIET_MODULES * width:
            return width
    return None


def _image_width(profile: PrinterProfile) -> int:
    return profile.width_px - profile.width_px % 8  # raster images are sent in whole bytes


def _barcode(printer, block: Barcode, profile: PrinterProfile) -> None:
    if profile.native_barcode:
        if block.symbology == "code128":
            code = escpos_code128(block.data)
            kind, function = "CODE128", "B"
            modules = 11 * (_code128_symbols(code) + 1) + 13  # symbols, check symbol, stop pattern
        else:
            # The digits without the check digit: the printer computes it, and layout.Barcode made sure it is ours.
            code, kind, function = block.data[:-1], block.symbology.upper(), "B"
            modules = len(barcode_modules(block.data, block.symbology))
        width = _module_dots(modules, profile, (3, 2), profile.width_px)
        if width is not None:
            # barcode() of python-escpos 3.1 prints "Using hardware barcode renderer" to stdout on every call;
            # _hw_barcode is the very method it then calls (the version is pinned in requirements.txt).
            printer._hw_barcode(
                code, kind, height=BAR_HEIGHT_DOTS, width=width, pos="BELOW", font="A", align_ct=True,
                function_type=function, check=True,
            )  # fmt: skip
            printer.text("\n")
            return
    modules = barcode_modules(block.data, block.symbology)
    image_width = _image_width(profile)
    width = _module_dots(len(modules), profile, (3, 2, 1), image_width)
    if width is None:
        raise ValueError(f"the barcode {block.data!r} is too long for {profile.paper_mm} mm paper")
    image = bars_image(modules, module_px=width, height_px=BAR_HEIGHT_DOTS, width_px=image_width)
    printer.image(image, impl="bitImageRaster", center=False)
    printer.text(printable(block.data) + "\n")


def _qr_modules(payload: str) -> int:
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(payload)
    code.make(fit=True)
    return code.modules_count


def _qr(printer, block: QR, profile: PrinterProfile) -> None:
    from escpos.constants import QR_ECLEVEL_M

    modules = _qr_modules(block.payload)
    if profile.native_qr:
        size = min(QR_MAX_MODULE_DOTS, (profile.width_px - QR_MARGIN_DOTS) // modules)
        if size >= QR_MIN_MODULE_DOTS:
            printer.qr(block.payload, ec=QR_ECLEVEL_M, size=size, native=True)
            printer.text("\n")
            return
    size = min(QR_MAX_MODULE_DOTS, _image_width(profile) // (modules + 2))  # python-escpos draws a 1-module border
    if size < 2:
        raise ValueError(f"the QR code is too large for {profile.paper_mm} mm paper")
    printer.qr(block.payload, ec=QR_ECLEVEL_M, size=size, native=False, center=True)


def render_escpos(blocks: Sequence[Block], profile: str | PrinterProfile) -> bytes:
    """The ESC/POS job for `blocks`: initialise, CP437, text with styles reset between sections, codes, cut."""
    from escpos.printer import Dummy

    profile = get_profile(profile)
    items = _blocks(blocks)
    # Text is ASCII already (see printable()): CP437 is selected once and python-escpos never switches code pages.
    # ESC t 0 is sent by hand because python-escpos picks the last of a profile's duplicate table numbers for CP437
    # (52 on the POS-5890), which cheap printers do not know.
    printer = Dummy(profile=profile.escpos_profile, magic_encode_args={"encoding": "CP437", "disabled": True})
    printer.hw("INIT")
    printer._raw(SELECT_CP437)
    style = _DEFAULT_STYLE
    fresh = False  # True right after a full reset, until a style or a code changes something

    def reset() -> None:
        """A section boundary: every style back to its default, whatever the printer was left in."""
        nonlocal style, fresh
        if not fresh:
            printer.set_with_default()
        style, fresh = _DEFAULT_STYLE, True

    def restyle(wanted: tuple[str, bool, bool]) -> None:
        """Within a section: send only what changes (a line of ESC/POS per style flip, not a full reset)."""
        nonlocal style, fresh
        (align, bold, double), (now_align, now_bold, now_double) = wanted, style
        changes: dict[str, object] = {}
        if align != now_align:
            changes["align"] = align
        if bold != now_bold:
            changes["bold"] = bold
        if double != now_double:
            changes.update({"double_width": True, "double_height": True} if double else {"normal_textsize": True})
        if changes:
            printer.set(**changes)
            fresh = False
        style = wanted

    reset()
    for block in items:
        if isinstance(block, Text):
            _fit(block, profile.columns)
            restyle((block.align, block.bold, block.double))
            printer.text(printable(block.text) + "\n")
        elif isinstance(block, Rule):
            reset()
            printer.text(block.char * profile.columns + "\n")
        elif isinstance(block, (Barcode, QR)):
            reset()
            printer.set(align="center")
            fresh = False
            if isinstance(block, Barcode):
                _barcode(printer, block, profile)
            else:
                _qr(printer, block, profile)
            reset()
        elif isinstance(block, Feed):
            restyle((style[0], style[1], False))  # a feed is as tall as the current text size: make it one line
            printer.ln(block.lines)
        elif isinstance(block, Cut):
            reset()
            if profile.can_cut:
                printer.cut(mode="PART")
            else:
                printer.ln(4)
    return printer.output


def kick_drawer_bytes(pin: int = 2) -> bytes:
    """The ESC/POS pulse that opens a cash drawer on connector pin 2 or 5."""
    from escpos.printer import Dummy

    if pin not in (2, 5) or type(pin) is not int:
        raise ValueError(f"the cash drawer is on pin 2 or 5, not {pin!r}")
    printer = Dummy()
    printer.cashdraw(pin)
    return printer.output
