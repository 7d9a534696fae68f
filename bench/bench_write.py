"""Benchmark `write_parquet` against `df.write_parquet`, with and without fsync.

Run: `uv run python bench/bench_write.py [rows]`. The kit writes a temporary
file, fsyncs it, renames it over the target and fsyncs the directory. The fair
baseline does the same durable work by hand (`df.write_parquet` then fsync of the
file); plain `df.write_parquet` (no fsync, in place) is shown too. The variants
alternate in one process (see `_common`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from _common import ROWS_SQL, alternate, peak_in_child, print_results, report_peak, rows_from_argv

FRAME_SQL = "COPY (" + ROWS_SQL + ") TO '{path}' (FORMAT parquet)"


def variants(source: str, out_dir: str) -> dict[str, Callable[[], object]]:
    """The writer and its two baselines, each writing its own target."""
    import polars as pl

    from ff_prefect_kit import write_parquet

    df = pl.read_parquet(source)
    targets = {name: Path(out_dir) / name / "latest.parquet" for name in ("plain", "fsync", "kit")}
    for target in targets.values():
        target.parent.mkdir(parents=True, exist_ok=True)

    def fsynced() -> None:
        df.write_parquet(targets["fsync"], compression="zstd")
        fd = os.open(targets["fsync"], os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    return {
        "df.write_parquet": lambda: df.write_parquet(targets["plain"], compression="zstd"),
        "df.write_parquet + fsync": fsynced,
        "write_parquet.fn": lambda: write_parquet.fn(
            df, targets["kit"], root=out_dir, compression="zstd", artifact=False
        ),
    }


def main() -> None:
    """Make the frame, time the variants in turns, measure each one's memory alone."""
    import duckdb

    rows = rows_from_argv()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.parquet"
        duckdb.sql(FRAME_SQL.format(rows=rows, path=source))
        runs = variants(str(source), tmp)
        peaks = {name: peak_in_child(__file__, name, source, tmp) for name in runs}
        times = alternate(runs)
    print_results(
        f"write {rows:,} rows x 6 columns, zstd",
        times,
        peaks,
        [
            ("write_parquet.fn", "df.write_parquet + fsync", "target <= 1.3x, same durability"),
            ("write_parquet.fn", "df.write_parquet", "no fsync in the baseline"),
        ],
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        report_peak(variants(sys.argv[3], sys.argv[4])[sys.argv[2]])
    else:
        main()
