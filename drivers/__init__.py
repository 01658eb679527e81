"""Drivers: printers, scanners, scales and displays over plain bytes (the receipts and devices issue fills it).

connectors  parse a printer connection (usb:/serial:/network:/file:/folder:), send whole jobs, ask DLE EOT status
scanner     a serial scanner reader thread that survives unplug and replug
events      the in-process Server-Sent Events broker (missed scans kept, never dropped)
scale       one generic serial scale driver with protocol records (Toledo 8217, CAS-style continuous)
display     2x20 VFD pole displays (Epson, CD5220)
ports       the serial ports this computer has, for the devices page
errors      the DeviceError family every driver raises

Nothing here imports Flask, the database or the domain packages, and nothing is opened at import time.
"""
