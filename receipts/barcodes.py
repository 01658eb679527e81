"""Barcodes as PNG images: Code128 with whole-pixel bars and a wide quiet zone, so cheap scanners read them."""

from __future__ import annotations

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

    import barcode

    code = barcode.get("code128", data, writer=_writer())
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
