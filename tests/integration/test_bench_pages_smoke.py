"""The page benchmark end to end at a tiny size (300 products) on SQLite, in a temporary folder: the big-database
builder leaves `stock check`, `ledger check` and the sales check clean, every page of the route table answers as
expected through a real waitress server, and the JSON holds the documented keys. Timings are never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KASIR_DATABASE_URL", "KASIR_ENV")}
    env["KASIR_BENCH_DIR"] = str(tmp_path / "bench")
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          check=False)


def test_page_bench_answers_every_page_on_a_small_database(tmp_path):
    built = _run(["-m", "bench.bigdata", "--products", "300", "--check"], tmp_path)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    for check in ("stock check: ok", "ledger check: ok", "sales check: ok"):
        assert check in built.stdout, built.stdout[-4000:]
    meta = json.loads((tmp_path / "bench" / "pages-300.json").read_text())
    assert meta["complete"] and meta["moves"] > 1000 and meta["postings"] > meta["entries"] > 0
    assert meta["recent_sales"] > 0 and meta["closed_years"]

    out = tmp_path / "pages.json"
    run = _run(["-m", "bench.pages", "--products", "300", "--rounds", "2", "--explain", "2", "--json", str(out),
                "--contention-seconds", "3", "--import-rows", "200"], tmp_path)
    assert out.exists(), run.stdout[-4000:] + run.stderr[-4000:]
    result = json.loads(out.read_text())
    for key in ("products", "baseline_ms", "rss_mb_before", "rss_mb_after", "pages"):
        assert key in result, key
    assert result["products"] == 300
    assert result["baseline_ms"] > 0 and result["rss_mb_before"] > 0 and result["rss_mb_after"] > 0
    pages = result["pages"]
    for path in ("/", "/kasir/TK01", "/stok/", "/stok/persediaan", "/stok/nilai", "/stok/kedaluwarsa",
                 "/stok/pesan-ulang", "/produk/berkas/ekspor.csv", "/buku/jurnal", "/anggota/",
                 "/api/v1/products/lookup?code=…", "/api/v1/products/search?q=…"):
        assert path in pages, path
    assert any(path.startswith("/stok/kartu/") and "?" not in path for path in pages)
    assert len(pages) >= 60  # every GET route of the route table, less the streams
    for path, page in pages.items():
        assert {"role", "p50_ms", "p95_ms", "bytes"} <= set(page), path
        assert page["n"] >= 1 and page["bytes"] > 0, path
    wrong = {path: page["statuses"] for path, page in pages.items() if not page["ok"]}
    assert not wrong, wrong
    assert pages["/"]["statuses"] == [200] and pages["/stok/persediaan"]["statuses"] == [200]
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "| page | role | n | p50 ms | p95 ms |" in run.stdout
    assert result["lookup_contention"]["alone_n"] > 0
    assert result["explain"] and all(page["statements"] > 0 for page in result["explain"])
