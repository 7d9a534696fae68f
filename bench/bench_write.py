"""Benchmark `write_parquet_atomic` against a plain `df.write_parquet`.

Run: `uv run python bench/bench_write.py [rows]`. The kit's time includes its
temporary file, fsync of file and directory, and `os.replace`; the baseline
writes straight to the target with no fsync. Each variant runs in a fresh
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
FRAME_SQL = """
COPY (
    SELECT
        (i + 1)::BIGINT AS player_id,
        ('P' || (i % 5000))::VARCHAR AS name,
        (['QB', 'RB', 'WR', 'TE'])[1 + i % 4] AS position,
        (i % 300) / 7.0 AS points,
        (1 + i % 18)::INTEGER AS week,
        (2000 + i % 25)::INTEGER AS season
    FROM range({rows}) t(i)
) TO '{path}' (FORMAT parquet)
"""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(variant: str, source: str, out_dir: str) -> None:
    import polars as pl

    from ff_prefect_kit import write_parquet_atomic

    df = pl.read_parquet(source)
    target = Path(out_dir) / variant / "latest.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    runs = {
        "plain": lambda: df.write_parquet(target, compression="zstd"),
        "kit": lambda: write_parquet_atomic(
            df, target, root=out_dir, compression="zstd", artifact=False
        ),
    }
    before = _peak_mb()
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        runs[variant]()
        best = min(best, time.perf_counter() - started)
    print(json.dumps({"seconds": best, "peak_mb": _peak_mb() - before}))


def measure(variant: str, source: Path, out_dir: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, str(source), str(out_dir)],
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
        source = Path(tmp) / "source.parquet"
        duckdb.sql(FRAME_SQL.format(rows=rows, path=source))
        plain, kit = measure("plain", source, Path(tmp)), measure("kit", source, Path(tmp))
    print(f"write {rows:,} rows x 6 columns, zstd (best of {REPEATS}, fresh process each)")
    print(f"  df.write_parquet:      {plain['seconds']:.4f} s   peak +{plain['peak_mb']:.0f} MB")
    print(f"  write_parquet_atomic:  {kit['seconds']:.4f} s   peak +{kit['peak_mb']:.0f} MB")
    print(
        f"  ratio kit / plain:     {kit['seconds'] / plain['seconds']:.2f}x  "
        "(target <= 1.3x, fsync included)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
