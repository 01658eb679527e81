"""The lookup benchmark runs end to end at a tiny size and every answer is right (timings are never asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_lookup_bench_runs_and_finds_every_known_code():
    completed = subprocess.run(
        [sys.executable, "-m", "bench.lookup", "--products", "200", "--barcodes", "500", "--lookups", "50"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    out = completed.stdout
    assert completed.returncode == 0, out + completed.stderr
    assert "| operation | calls | SQL stmts | p50 ms | p95 ms | p99 ms | max ms | p50 / floor | p99 / floor |" in out
    for row in ("(floor)", "**`lookup.resolve`, all kinds**", "resolve: EAN-13", "resolve: scale label",
                "resolve: SKU typed", "`catalog.search`", "HTTP GET /api/v1/products/lookup"):
        assert row in out, row
    found = re.search(r"Correct answers: (\d+)/(\d+) known codes found their product and unit; (\d+)/(\d+) unknown "
                      r"codes gave NotFound; (\d+) wrong", out)
    assert found, out
    known_ok, known, unknown_ok, unknown, wrong = map(int, found.groups())
    assert known > 0 and known_ok == known
    assert unknown_ok == unknown
    assert known + unknown == 50
    assert wrong == 0
    assert re.search(r"Data: 200 products, 400 units, [\d,]+ search words, 500 barcodes", out), out
    assert "Target p99 <= 5 ms" in out
