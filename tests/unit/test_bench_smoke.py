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


def test_checkout_bench_runs_and_loses_nothing(tmp_path):
    """The checkout benchmark end to end at a tiny size: the ratio, both HTTP runs, the page; figures only, and
    the "nothing lost" check after the load (timings are never asserted)."""
    import json
    import shutil

    out = tmp_path / "checkout.json"
    args = [sys.executable, "-m", "bench.checkout", "--sales", "5", "--lines", "10", "--seconds", "2",
            "--tills", "1,2", "--page-products", "300", "--json", str(out)]
    if not Path("/usr/bin/chromium").exists() or shutil.which("chromium") is None:
        args.append("--skip-page")
    completed = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["service"]["service_ms"] > 0 and result["service"]["floor_ms"] > 0
    assert [run["tills"] for run in result["http"]] == [1, 2]
    assert all(run["sales"] > 0 and run["duplicates"] == 0 for run in result["http"])
    assert result["problems"] == []
    assert "| **service / floor** |" in completed.stdout
    if "--skip-page" not in args:
        assert result["page"]["usable_ms"] > 0
