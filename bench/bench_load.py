"""Benchmark `read_mart` against raw DuckDB `.pl()` on a 1M-row synthetic mart.

Run: `uv run python bench/bench_load.py [rows]`. Each variant runs in a fresh
subprocess, so its peak memory (ru_maxrss growth over the setup) is its own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEATS = 5
MART_SQL = """
CREATE TABLE mrt_bench AS
SELECT
    i::BIGINT AS player_id,
    ('player_' || (i % 5000))::VARCHAR AS name,
    (['QB', 'RB', 'WR', 'TE'])[1 + i % 4] AS position,
    (i % 300) / 7.0 AS points,
    (1 + i % 18)::INTEGER AS week,
    (2000 + i % 25)::INTEGER AS season
FROM range({rows}) t(i)
"""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(variant: str, db: str) -> None:
    import duckdb

    from ff_prefect_kit import read_mart

    def raw() -> object:
        con = duckdb.connect(db, read_only=True)
        try:
            return con.sql("SELECT * FROM mrt_bench").pl()
        finally:
            con.close()

    run = {"raw": raw, "kit": lambda: read_mart("mrt_bench", db)}[variant]
    before = _peak_mb()
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        frame = run()
        best = min(best, time.perf_counter() - started)
        del frame
    print(json.dumps({"seconds": best, "peak_mb": _peak_mb() - before}))


def measure(variant: str, db: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, str(db)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    import duckdb

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        with duckdb.connect(str(db)) as con:
            con.sql(MART_SQL.format(rows=rows))
        raw, kit = measure("raw", db), measure("kit", db)
    print(f"load {rows:,} rows x 6 columns (best of {REPEATS}, fresh process each)")
    print(f"  raw duckdb .pl():  {raw['seconds']:.4f} s   peak +{raw['peak_mb']:.0f} MB")
    print(f"  read_mart:         {kit['seconds']:.4f} s   peak +{kit['peak_mb']:.0f} MB")
    print(f"  ratio kit / raw:   {kit['seconds'] / raw['seconds']:.2f}x  (target <= 1.2x)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
