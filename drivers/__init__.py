"""Drivers: printers, scanners, scales and displays over plain bytes (the receipts and devices issue fills it)."""
