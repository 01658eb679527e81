"""Barcodes as PNG images: Code128 with whole-pixel bars and a wide quiet zone, so cheap scanners read them."""

from __future__ import annotations

import functools
import io

MAX_LENGTH = 80
# 254 dpi makes one millimetre exactly ten pixels: every bar is a whole number of pixels, none blurred.
DPI = 254
MODULE_WIDTH_MM = 0.3  # the narrowest bar: 3 px, 0.3 mm when printed at 254 dpi
MODULE_HEIGHT_MM = 12.0  # bar height; short codes stay at least 15 % as tall as wide
QUIET_ZONE_MM = 15 * MODULE_WIDTH_MM  # Code128 asks for at least 10 modules of white either side


def _writer():
    from barcode.writer import ImageWriter, mm2px

    class WholePixelWriter(ImageWriter):
        """python-barcode's PNG writer, with bar edges rounded to whole pixels instead of truncated.

        Truncation turns a 3 px module into 2 px here and 4 px there (0.3 mm is no exact binary fraction),
        which widens the error a scanner must tolerate; rounding keeps every bar a multiple of the module.
        """

        def _paint_module(self, xpos: float, ypos: float, width: float, color) -> None:
            left, right = round(mm2px(xpos, self.dpi)), round(mm2px(xpos + width, self.dpi))
            top, bottom = round(mm2px(ypos, self.dpi)), round(mm2px(ypos + self.module_height, self.dpi))
            if right > left:
                self._draw.rectangle([(left, top), (right - 1, bottom)], outline=color, fill=color)

    return WholePixelWriter(format="PNG", mode="L", dpi=DPI)


def code128_png(data: str, *, text: bool = True) -> bytes:
    """A Code128 barcode of `data` as PNG bytes, the data printed below the bars when `text` is true.

    Only printable ASCII is accepted (what Code128 sets A and B encode, and what every scanner types back).
    """
    if not isinstance(data, str) or not data:
        raise ValueError("a barcode needs data")
    if len(data) > MAX_LENGTH:
        raise ValueError(f"barcode data is longer than {MAX_LENGTH} characters")
    if not all(" " <= ch <= "~" for ch in data):
        raise ValueError("barcode data must be printable ASCII")

    code = _code128_class()(data, writer=_writer())
    buffer = io.BytesIO()
    code.write(
        buffer,
        options={
            "module_width": MODULE_WIDTH_MM,
            "module_height": MODULE_HEIGHT_MM,
            "quiet_zone": QUIET_ZONE_MM,
            "write_text": text,
            "font_size": 9,
            "text_distance": 4,
            "background": "white",
            "foreground": "black",
        },
    )
    return buffer.getvalue()


# --- barcodes drawn bar by bar: receipts (printer dots), labels (EAN-13/EAN-8 or Code128) -------------------------

SYMBOLOGIES = ("code128", "ean13", "ean8")
MAX_LABEL_CODE_LENGTH = 40
# Quiet zones in modules: Code128 asks for 10 either side, EAN-13/EAN-8 for 11 left and 7 right (11 both here).
QUIET_MODULES = {"code128": 10, "ean13": 11, "ean8": 11}


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of `digits` (the code without its check digit): weights 3, 1, 3... from the right.

    Computed here on purpose: python-barcode silently replaces a wrong check digit, which would print a barcode that
    scans as a different product.
    """
    if not isinstance(digits, str) or not digits.isascii() or not digits.isdigit():
        raise ValueError("a GS1 check digit is computed over the digits 0 to 9 only")
    total = sum(int(ch) * (3 if i % 2 == 0 else 1) for i, ch in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def validate_ean(code: str) -> str:
    """An EAN-13 or EAN-8 whose last digit is its GS1 check digit (ValueError otherwise), returned unchanged."""
    if not isinstance(code, str) or not code.isascii() or not code.isdigit() or len(code) not in (8, 13):
        raise ValueError(f"an EAN has 8 or 13 digits, not {code!r}")
    expected = gs1_check_digit(code[:-1])
    if int(code[-1]) != expected:
        raise ValueError(f"the check digit of {code} is wrong: it should end in {expected}")
    return code


def print_symbology(code: str) -> tuple[str, str]:
    """How to print `code` so that it scans back: (symbology, data).

    8 or 13 digits are an EAN-8 / EAN-13 and must carry a correct check digit; 12 digits with a correct UPC-A check
    digit print as the equivalent EAN-13 (a leading 0, the very same bars); anything else printable is Code128.
    """
    if not isinstance(code, str) or not code or code != code.strip():
        raise ValueError("a barcode needs data without surrounding spaces")
    if len(code) > MAX_LABEL_CODE_LENGTH:
        raise ValueError(f"barcode data is longer than {MAX_LABEL_CODE_LENGTH} characters")
    if code.isascii() and code.isdigit() and len(code) in (8, 12, 13):
        if len(code) == 12:
            return "ean13", validate_ean("0" + code)
        return ("ean13" if len(code) == 13 else "ean8"), validate_ean(code)
    if not all(" " <= ch <= "~" for ch in code):
        raise ValueError("barcode data must be printable ASCII")
    return "code128", code


_CODE128_STARTS = {103: "A", 104: "B", 105: "C"}


@functools.cache
def _code128_class():
    from barcode.codex import Code128

    class SafeCode128(Code128):
        """python-barcode's Code128, its code sets read back before use.

        python-barcode 0.16 drops a leading "99": it starts every code in set C and then merges "start C + switch"
        into one start code, taking the digit pair 99 for a switch to set C, so "9912" would scan as "12".
        """

        def _try_to_optimize(self, encoded: list[int]) -> list[int]:
            if len(encoded) > 1 and encoded[0] == 105 and encoded[1] in (100, 101):  # start C, then to B or A
                encoded[:2] = [104 if encoded[1] == 100 else 103]
            return encoded

        def _build(self) -> list[int]:
            try:
                values = super()._build()
                if read_code128_values(values) == self.code:
                    return values
            except (ValueError, KeyError, RuntimeError):  # an encoding python-barcode cannot make, or we cannot read
                pass
            return [104] + [ord(ch) - 32 for ch in self.code]  # code set B encodes every printable character

    return SafeCode128


def code128_values(data: str) -> list[int]:
    """Code128 symbol values of `data` (start code first, no check symbol), digit runs packed in code set C."""
    if not isinstance(data, str) or not data or not all(" " <= ch <= "~" for ch in data):
        raise ValueError("Code128 data must be non-empty printable ASCII")
    return _code128_class()(data)._build()


def read_code128_values(values: list[int]) -> str:
    """What a scanner reads from Code128 symbol values (start code first, no check symbol)."""
    if not values or values[0] not in _CODE128_STARTS:
        raise ValueError("Code128 values start with a start code (103, 104 or 105)")
    charset, out = _CODE128_STARTS[values[0]], []
    for value in values[1:]:
        if charset == "C" and value < 100:
            out.append(f"{value:02d}")
        elif charset == "B" and value < 95:
            out.append(chr(value + 32))
        elif charset == "A" and value < 96:
            out.append(chr(value + 32) if value < 64 else chr(value - 64))
        elif value == 99 and charset != "C":
            charset = "C"
        elif value == 100 and charset != "B":
            charset = "B"
        elif value == 101 and charset != "A":
            charset = "A"
        else:
            raise ValueError(f"Code128 value {value} is no character or code-set switch in set {charset}")
    return "".join(out)


def code128_bars(values: list[int]) -> str:
    """The modules of Code128 values: symbols, the mod-103 check symbol, the stop pattern (python-barcode's table)."""
    from barcode.charsets import code128 as table

    check = (values[0] + sum(position * value for position, value in enumerate(values[1:], start=1))) % 103
    return "".join(table.CODES[value] for value in [*values, check]) + table.STOP + "11"


def barcode_modules(data: str, symbology: str = "code128") -> str:
    """The bars of `data` as a string of '1' (bar) and '0' (space) modules, encoded by python-barcode."""
    import barcode

    if symbology == "code128":
        return code128_bars(code128_values(data))
    if symbology not in ("ean13", "ean8"):
        raise ValueError(f"unknown symbology {symbology!r} (known: {', '.join(SYMBOLOGIES)})")
    validate_ean(data)
    if len(data) != (13 if symbology == "ean13" else 8):
        raise ValueError(f"{data} is not an {symbology.upper()}")
    code = barcode.get(symbology, data[:-1])  # python-barcode adds the check digit itself...
    if code.get_fullcode() != data:  # ...so make sure it added the same one
        raise ValueError(f"python-barcode encoded {code.get_fullcode()} instead of {data}")
    return code.build()[0]


def bars_image(modules: str, *, module_px: int, height_px: int, quiet_px: int = 0, width_px: int | None = None):
    """A greyscale Pillow image of the bars: every module exactly `module_px` pixels, centred in `width_px`."""
    from PIL import Image, ImageDraw

    if type(module_px) is not int or module_px < 1 or type(height_px) is not int or height_px < 1:
        raise ValueError("module width and bar height are whole pixels, at least one")
    bars_width = len(modules) * module_px
    width = bars_width + 2 * quiet_px if width_px is None else width_px
    if bars_width + 2 * quiet_px > width:
        raise ValueError(f"the barcode needs {bars_width + 2 * quiet_px} pixels, only {width} are available")
    image = Image.new("L", (width, height_px), 255)
    draw = ImageDraw.Draw(image)
    left = (width - bars_width) // 2
    start = None
    for index, module in enumerate(modules + "0"):
        if module == "1" and start is None:
            start = index
        elif module != "1" and start is not None:
            draw.rectangle([(left + start * module_px, 0), (left + index * module_px - 1, height_px - 1)], fill=0)
            start = None
    return image


def barcode_png(
    data: str,
    symbology: str | None = None,
    *,
    module_px: int = 3,
    height_px: int = 120,
    text: bool = True,
) -> bytes:
    """A barcode as PNG bytes with its quiet zones, the data printed below when `text` is true.

    `symbology` None picks it from the data (see `print_symbology`): EANs are checked, never "corrected".
    """
    from PIL import Image, ImageDraw, ImageFont

    if symbology is None:
        symbology, data = print_symbology(data)
    modules = barcode_modules(data, symbology)
    bars = bars_image(modules, module_px=module_px, height_px=height_px, quiet_px=QUIET_MODULES[symbology] * module_px)
    if not text:
        return _png(bars)
    font_px = max(12, module_px * 8)
    font = ImageFont.load_default(size=font_px)
    image = Image.new("L", (bars.width, height_px + font_px + font_px // 2), 255)
    image.paste(bars, (0, 0))
    draw = ImageDraw.Draw(image)
    draw.text((image.width // 2, height_px + font_px // 4), data, fill=0, font=font, anchor="mt")
    return _png(image)


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(DPI, DPI))
    return buffer.getvalue()
