"""Benchmark `validate_frame` against hand-written Polars and per-row Pydantic.

Run: `uv run python bench/bench_validate.py [rows]`. The frame (1M rows x 6
fields by default) is generated with DuckDB SQL; each variant runs in a fresh
subprocess, so its peak memory (ru_maxrss growth over the setup) is its own.
"""

from __future__ import annotations

import enum
import sys
import tempfile
from pathlib import Path

from _common import REPEATS, ROWS_SQL, measure, report_best, rows_from_argv
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


def child(variant: str, path: str) -> None:
    import polars as pl
    from pydantic import TypeAdapter

    from ff_prefect_kit import validate_frame

    df = pl.read_parquet(path)
    adapter = TypeAdapter(list[PlayerWeek])
    runs = {
        "polars": lambda: _hand_written(df),
        "kit": lambda: validate_frame.fn(df, PlayerWeek),
        "pydantic": lambda: adapter.validate_python(df.to_dicts()),
    }
    report_best(runs[variant], repeats=1 if variant == "pydantic" else REPEATS)


def main() -> None:
    import duckdb

    rows = rows_from_argv()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frame.parquet"
        duckdb.sql(FRAME_SQL.format(rows=rows, path=path))
        polars, kit, pyd = (measure(__file__, v, path) for v in ("polars", "kit", "pydantic"))
    print(f"validate {rows:,} rows x 6 fields (best of {REPEATS}; Pydantic once)")
    for label, r in (
        ("hand-written polars", polars),
        ("validate_frame", kit),
        ("per-row pydantic", pyd),
    ):
        print(f"  {label:20} {r['seconds']:.4f} s   peak +{r['peak_mb']:.0f} MB")
    print(f"  ratio kit / polars:    {kit['seconds'] / polars['seconds']:.2f}x  (target <= 2x)")
    print(f"  speed-up vs pydantic:  {pyd['seconds'] / kit['seconds']:.0f}x")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
