"""Benchmark `load_dbt_mart` against raw DuckDB `.pl()` on a 1M-row synthetic mart.

Run: `uv run python bench/bench_load.py [rows]`. Both variants open the file
read-only, query it and close it; they alternate in one process (see `_common`).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from _common import ROWS_SQL, alternate, peak_in_child, print_results, report_peak, rows_from_argv

MART_SQL = "CREATE TABLE mrt_bench AS " + ROWS_SQL


def variants(db: str) -> dict[str, Callable[[], object]]:
    """The loader and its baseline, on the same file."""
    import duckdb

    from ff_prefect_kit import load_dbt_mart

    def raw() -> object:
        con = duckdb.connect(db, read_only=True)
        try:
            return con.sql("SELECT * FROM mrt_bench").pl()
        finally:
            con.close()

    return {"raw duckdb .pl()": raw, "load_dbt_mart.fn": lambda: load_dbt_mart.fn("mrt_bench", db)}


def main() -> None:
    """Build the mart, time the variants in turns, measure each one's memory alone."""
    import duckdb

    rows = rows_from_argv()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        with duckdb.connect(str(db)) as con:
            con.sql(MART_SQL.format(rows=rows))
        runs = variants(str(db))
        peaks = {name: peak_in_child(__file__, name, db) for name in runs}
        times = alternate(runs)
    print_results(
        f"load {rows:,} rows x 6 columns",
        times,
        peaks,
        [("load_dbt_mart.fn", "raw duckdb .pl()", "target <= 1.2x")],
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        report_peak(variants(sys.argv[3])[sys.argv[2]])
    else:
        main()
