"""The synthetic marts: `mrt_fantasy_actuals_weekly` built as the example dbt project builds it."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ff_prefect_kit._fsync import fsync_directory, fsync_file
from ff_prefect_kit.testing._contract import MART_COLUMNS, MART_TABLE, PLAYERS_TABLE, STAT_COLUMNS
from ff_prefect_kit.testing._generator import SyntheticRaw, generate_raw, scoring_rules

__all__ = ["build_mart", "build_synthetic_marts"]


def build_mart(raw: SyntheticRaw, rules: pl.DataFrame | None = None) -> pl.DataFrame:
    """Build `mrt_fantasy_actuals_weekly` from the raw frames, as the dbt project does.

    Args:
        raw: The output of `generate_raw()`.
        rules: Scoring rules (`stat_name`, `points_per_unit`, `is_current`); the
            packaged ones by default. Only current rules score.

    Returns:
        The mart with exactly the contract's columns, order and types (`MART_COLUMNS`).
    """
    current = (rules if rules is not None else scoring_rules()).filter(pl.col("is_current"))
    weights = dict(zip(current["stat_name"], current["points_per_unit"], strict=True))
    points: pl.Expr = pl.lit(0.0)
    for name in STAT_COLUMNS:
        if name in weights:
            points = points + pl.col(name).fill_null(0.0) * weights[name]
    stats = raw.player_week_stats
    return (
        stats.join(
            raw.players.select("gsis_id", "player_id", "display_name", "current_team"),
            on="gsis_id",
            how="left",
        )
        .select(
            pl.col("player_id").fill_null(-1).cast(pl.Int64),
            pl.coalesce(pl.col("player_id").cast(pl.String), pl.col("gsis_id")).alias("player_key"),
            pl.col("season").cast(pl.Int32),
            pl.col("week").cast(pl.Int32),
            "season_type",
            "position",
            *(pl.col(name).cast(pl.Float64) for name in STAT_COLUMNS),
            "display_name",
            "current_team",
            pl.lit(1, dtype=pl.Int32).alias("games_played"),
            points.cast(pl.Float64).alias("fantasy_points"),
        )
        .sort("season", "week", "player_key")
    )


def build_synthetic_marts(
    path: str | Path,
    *,
    seasons: int = 1,
    players: int = 50,
    seed: int = 0,
    last_season: int = 2024,
) -> Path:
    """Write a DuckDB file holding `mrt_fantasy_actuals_weekly` and `dim_player`.

    The file is replaced if it exists, atomically: a reader, or a writer killed
    midway, sees the old file or the new one, never part of one. The mart has
    exactly the contract's columns and types (`MART_COLUMNS`); `dim_player` holds
    the mapped players (`player_id`, `player_key`, `gsis_id`, `display_name`,
    `position`, `current_team`).

    Args:
        path: Where to write the DuckDB file.
        seasons: How many seasons, ending with `last_season`.
        players: The roster of each season; from 23, every one of the 23 positions
            plays in every season (the default 50 has them all).
        seed: The same seed and sizes give the same marts.
        last_season: The most recent season.

    Returns:
        The path written.
    """
    import duckdb

    target = Path(path)
    raw = generate_raw(seasons=seasons, players=players, seed=seed, last_season=last_season)
    mart = build_mart(raw).to_arrow()
    players_frame = raw.players.select(
        "player_id",
        pl.col("player_id").cast(pl.String).alias("player_key"),
        "gsis_id",
        "display_name",
        "position",
        "current_team",
    ).to_arrow()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    # A writer killed before its rename leaves these; the name is this target's own.
    for leftover in (partial, partial.with_name(f"{partial.name}.wal")):
        leftover.unlink(missing_ok=True)
    casts = ", ".join(
        f'CAST("{name}" AS {kind}) AS "{name}"' for name, kind in MART_COLUMNS.items()
    )
    with duckdb.connect(str(partial)) as con:
        con.register("mart_frame", mart)
        con.register("players_frame", players_frame)
        con.execute(f"CREATE TABLE {MART_TABLE} AS SELECT {casts} FROM mart_frame")
        con.execute(
            f"CREATE TABLE {PLAYERS_TABLE} AS SELECT CAST(player_id AS BIGINT) AS player_id, "
            "player_key, gsis_id, display_name, position, current_team FROM players_frame"
        )
    fsync_file(partial)
    partial.replace(target)
    fsync_directory(target.parent)
    return target
