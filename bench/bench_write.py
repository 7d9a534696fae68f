"""Benchmark `write_parquet` against a plain `df.write_parquet`.

Run: `uv run python bench/bench_write.py [rows]`. The kit's time includes its
temporary file, fsync of file and directory, and `os.replace`; the baseline
writes straight to the target with no fsync. Each variant runs in a fresh
subprocess, so its peak memory (ru_maxrss growth over the setup) is its own.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _common import REPEATS, ROWS_SQL, measure, report_best, rows_from_argv

FRAME_SQL = "COPY (" + ROWS_SQL + ") TO '{path}' (FORMAT parquet)"


def child(variant: str, source: str, out_dir: str) -> None:
    import polars as pl

    from ff_prefect_kit import write_parquet

    df = pl.read_parquet(source)
    target = Path(out_dir) / variant / "latest.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    runs = {
        "plain": lambda: df.write_parquet(target, compression="zstd"),
        "kit": lambda: write_parquet.fn(
            df, target, root=out_dir, compression="zstd", artifact=False
        ),
    }
    report_best(runs[variant])


def main() -> None:
    import duckdb

    rows = rows_from_argv()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.parquet"
        duckdb.sql(FRAME_SQL.format(rows=rows, path=source))
        plain, kit = (measure(__file__, v, source, tmp) for v in ("plain", "kit"))
    print(f"write {rows:,} rows x 6 columns, zstd (best of {REPEATS}, fresh process each)")
    print(f"  df.write_parquet:      {plain['seconds']:.4f} s   peak +{plain['peak_mb']:.0f} MB")
    print(f"  write_parquet:  {kit['seconds']:.4f} s   peak +{kit['peak_mb']:.0f} MB")
    print(
        f"  ratio kit / plain:     {kit['seconds'] / plain['seconds']:.2f}x  "
        "(target <= 1.3x, fsync included)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
