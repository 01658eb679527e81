"""Named crash points for the fault tests: with KASIR_CRASH_AT=<name> the server process kills itself (SIGKILL, as a
power cut would) when it reaches that point, so a test can prove that nothing half-written survives and that every
answered sale does. Never active in production."""

from __future__ import annotations

import os
import signal

POINTS = ("sale.inserted", "sale.before_commit", "sale.after_commit")


def crash_point(name: str) -> None:
    if os.environ.get("KASIR_CRASH_AT") == name and os.environ.get("KASIR_ENV") != "production":
        os.kill(os.getpid(), signal.SIGKILL)
