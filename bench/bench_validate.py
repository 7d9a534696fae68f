"""Benchmark `validate_frame` against hand-written Polars and per-row Pydantic.

Run: `uv run python bench/bench_validate.py [rows]`. The frame (1M rows x 6
fields by default) is generated with DuckDB SQL; the variants alternate in one
process, and each one's memory is measured alone (see `_common`).
"""

from __future__ import annotations

import enum
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from _common import ROWS_SQL, alternate, peak_in_child, print_results, report_peak, rows_from_argv
from pydantic import BaseModel, Field

FRAME_SQL = "COPY (" + ROWS_SQL + ") TO '{path}' (FORMAT parquet)"


class Position(enum.Enum):
    QB = "QB"
    RB = "RB"
    WR = "WR"
    TE = "TE"


class PlayerWeek(BaseModel):
    player_id: int = Field(ge=1)
    name: str = Field(min_length=2, max_length=12)
    position: Position
    points: float = Field(ge=0, le=100)
    week: int = Field(ge=1, le=18)
    season: int = Field(ge=1999, le=2100)


def _hand_written(df: object) -> object:
    import polars as pl

    assert isinstance(df, pl.DataFrame)
    bad = df.select(
        pl.any_horizontal(
            pl.col("player_id").is_null() | (pl.col("player_id") < 1),
            pl.col("name").is_null()
            | (pl.col("name").str.len_chars() < 2)
            | (pl.col("name").str.len_chars() > 12),
            pl.col("position").is_null() | ~pl.col("position").is_in(["QB", "RB", "WR", "TE"]),
            pl.col("points").is_null()
            | pl.col("points").is_nan()
            | (pl.col("points") < 0)
            | (pl.col("points") > 100),
            pl.col("week").is_null() | (pl.col("week") < 1) | (pl.col("week") > 18),
            pl.col("season").is_null() | (pl.col("season") < 1999) | (pl.col("season") > 2100),
        )
    ).to_series()
    assert not bad.any()
    return df


def variants(path: str) -> dict[str, Callable[[], object]]:
    """The validator, hand-written Polars checks for the same constraints, and Pydantic."""
    import polars as pl
    from pydantic import TypeAdapter

    from ff_prefect_kit import validate_frame

    df = pl.read_parquet(path)
    adapter = TypeAdapter(list[PlayerWeek])
    return {
        "hand-written polars": lambda: _hand_written(df),
        "validate_frame.fn": lambda: validate_frame.fn(df, PlayerWeek),
        "per-row pydantic": lambda: adapter.validate_python(df.to_dicts()),
    }


def main() -> None:
    """Make the frame, time the variants in turns, measure each one's memory alone."""
    import duckdb

    rows = rows_from_argv()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frame.parquet"
        duckdb.sql(FRAME_SQL.format(rows=rows, path=path))
        runs = variants(str(path))
        peaks = {name: peak_in_child(__file__, name, path) for name in runs}
        # Pydantic takes seconds per run: fewer turns, all three still alternating.
        times = alternate(runs, repeats=3)
    print_results(
        f"validate {rows:,} rows x 6 fields",
        times,
        peaks,
        [
            ("validate_frame.fn", "hand-written polars", "target <= 2x"),
            ("per-row pydantic", "validate_frame.fn", "what the columnar path saves"),
        ],
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        report_peak(variants(sys.argv[3])[sys.argv[2]])
    else:
        main()
