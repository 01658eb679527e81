"""Printer profiles as data: how many columns, which python-escpos profile, and what the printer can do itself."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PROFILE = "TM-T20II"


@dataclass(frozen=True)
class PrinterProfile:
    """What the layout and the ESC/POS renderer need to know about one printer model.

    `escpos_profile` names a profile of python-escpos's capabilities database (e.g. "TM-T20II", "POS-5890");
    `width_px` is the printable width in dots (from the same database), the widest image the printer accepts.
    Without `native_barcode` / `native_qr` the codes are sent as raster images instead.
    """

    name: str
    columns: int
    escpos_profile: str
    paper_mm: int
    width_px: int
    can_cut: bool
    native_barcode: bool
    native_qr: bool
    cash_drawer_pin: int = 2
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a printer profile needs a name")
        if type(self.columns) is not int or not 16 <= self.columns <= 80:
            raise ValueError(f"columns must be a whole number from 16 to 80, not {self.columns!r}")
        if not isinstance(self.escpos_profile, str) or not self.escpos_profile:
            raise ValueError("a printer profile needs the name of a python-escpos profile")
        if type(self.paper_mm) is not int or self.paper_mm <= 0:
            raise ValueError(f"paper width must be whole millimetres, not {self.paper_mm!r}")
        if type(self.width_px) is not int or self.width_px < 128:
            raise ValueError(f"printable width must be at least 128 dots, not {self.width_px!r}")
        if self.cash_drawer_pin not in (2, 5):
            raise ValueError(f"the cash drawer is on pin 2 or 5, not {self.cash_drawer_pin!r}")


PROFILES: dict[str, PrinterProfile] = {
    profile.name: profile
    for profile in (
        PrinterProfile(
            name="TM-T20II",
            columns=48,
            escpos_profile="TM-T20II",
            paper_mm=80,
            width_px=576,
            can_cut=True,
            native_barcode=True,
            native_qr=True,
            description="Epson TM-T20II and compatibles, 80 mm, 48 columns, auto cutter",
        ),
        PrinterProfile(
            name="TM-T82-42",
            columns=42,
            escpos_profile="TM-T20II-42col",
            paper_mm=80,
            width_px=546,
            can_cut=True,
            native_barcode=True,
            native_qr=True,
            description="Epson TM-T82 / TM-T20 family in 42-column mode, 80 mm, auto cutter",
        ),
        PrinterProfile(
            name="POS-5890",
            columns=32,
            escpos_profile="POS-5890",
            paper_mm=58,
            width_px=384,
            can_cut=False,
            native_barcode=False,
            native_qr=False,
            description="Generic 58 mm printers (POS-5890 and clones), 32 columns, tear bar, codes as images",
        ),
    )
}


def get_profile(profile: str | PrinterProfile) -> PrinterProfile:
    """The profile itself, or the built-in profile of that name (ValueError for an unknown name)."""
    if isinstance(profile, PrinterProfile):
        return profile
    try:
        return PROFILES[profile]
    except (KeyError, TypeError):
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown printer profile {profile!r} (known: {known})") from None


def profile_names() -> list[str]:
    return sorted(PROFILES)
