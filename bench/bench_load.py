"""Benchmark `load_dbt_mart` against raw DuckDB `.pl()` on a 1M-row synthetic mart.

Run: `uv run python bench/bench_load.py [rows]`. Each variant runs in a fresh
subprocess, so its peak memory (ru_maxrss growth over the setup) is its own.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _common import REPEATS, ROWS_SQL, measure, report_best, rows_from_argv

MART_SQL = "CREATE TABLE mrt_bench AS " + ROWS_SQL


def child(variant: str, db: str) -> None:
    import duckdb

    from ff_prefect_kit import load_dbt_mart

    def raw() -> object:
        con = duckdb.connect(db, read_only=True)
        try:
            return con.sql("SELECT * FROM mrt_bench").pl()
        finally:
            con.close()

    report_best({"raw": raw, "kit": lambda: load_dbt_mart.fn("mrt_bench", db)}[variant])


def main() -> None:
    import duckdb

    rows = rows_from_argv()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        with duckdb.connect(str(db)) as con:
            con.sql(MART_SQL.format(rows=rows))
        raw, kit = measure(__file__, "raw", db), measure(__file__, "kit", db)
    print(f"load {rows:,} rows x 6 columns (best of {REPEATS}, fresh process each)")
    print(f"  raw duckdb .pl():  {raw['seconds']:.4f} s   peak +{raw['peak_mb']:.0f} MB")
    print(f"  load_dbt_mart:         {kit['seconds']:.4f} s   peak +{kit['peak_mb']:.0f} MB")
    print(f"  ratio kit / raw:   {kit['seconds'] / raw['seconds']:.2f}x  (target <= 1.2x)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
