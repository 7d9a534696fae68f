"""The analytics template flow: mart -> Polars -> validated valuation -> Parquet -> dbt.

    load mrt_fantasy_actuals_weekly (DuckDB, read-only)
      -> compute a player valuation (points per game, positional rank, value over replacement)
      -> validate every row against PlayerValuationOutput
      -> write data/analytics/player_valuation/latest.parquet atomically
      -> dbt build mrt_player_valuation (reads that Parquet as source('analytics', ...))

Copy this file to start a new analytics flow. Run it against the example dbt project with
`uv run ff-prefect-kit demo`, or directly once FF_DUCKDB_PATH and FF_DBT_PROJECT_DIR are set:
`uv run python examples/analytics_template_flow.py`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, Field

from ff_prefect_kit import (
    KitSettings,
    analytics_task,
    load_dbt_mart,
    monitored_flow,
    run_dbt_models,
    validate_frame,
    write_parquet,
)
from ff_prefect_kit.data import ParquetWriteResult

logger = logging.getLogger(__name__)

# The mart's positions, by the fantasy group a player is valued in. Defenders are IDP
# groups: linemen (DL), linebackers (LB), backs (DB).
FANTASY_GROUP = {
    "QB": "QB",
    "RB": "RB",
    "FB": "RB",
    "WR": "WR",
    "TE": "TE",
    **dict.fromkeys(("DE", "DT", "NT", "DL"), "DL"),
    **dict.fromkeys(("LB", "OLB", "MLB", "ILB"), "LB"),
    **dict.fromkeys(("CB", "SAF", "FS", "S", "DB"), "DB"),
}
# This league scores no kicking, punting, long snapping or line play: those players
# are left out on purpose (and counted in the log). Any other position is not known
# to the valuation, and validation stops the flow naming it.
NOT_VALUED = frozenset({"K", "P", "LS", "OT", "G", "C"})

# Starters per group in a 12-team league with IDP: the best player left over after
# every team has filled its lineup sets the replacement level.
REPLACEMENT_RANK = {"QB": 13, "RB": 25, "WR": 37, "TE": 13, "DL": 25, "LB": 25, "DB": 25}


class PlayerValuationOutput(BaseModel):
    """One player-season's valuation: the contract of source('analytics', 'player_valuation')."""

    player_id: int = Field(ge=-1)
    player_key: str = Field(min_length=1)
    display_name: str | None
    position: Literal["QB", "RB", "WR", "TE", "DL", "LB", "DB"]
    season: int = Field(ge=1999, le=2100)
    games_played: int = Field(ge=1)
    total_points: float
    points_per_game: float
    positional_rank: int = Field(ge=1)
    value_over_replacement: float


@analytics_task(name="value-players")
def value_players(weekly: pl.DataFrame, min_games: int = 1) -> pl.DataFrame:
    """Points per game, rank in the fantasy group and value over a replacement-level player.

    Positions are valued in their fantasy group (`FANTASY_GROUP`: a DE and a DT are both
    DL); kickers, punters, long snappers and offensive linemen are left out.

    Args:
        weekly: Rows of mrt_fantasy_actuals_weekly.
        min_games: Players with fewer games in a season are not valued for it.

    Returns:
        One row per player-season, in PlayerValuationOutput's columns.
    """
    valued_rows = weekly.filter(~pl.col("position").is_in(list(NOT_VALUED)))
    left_out = weekly.height - valued_rows.height
    if left_out:
        logger.info("left out %d stat lines of positions this league does not score", left_out)
    seasons = (
        valued_rows.with_columns(pl.col("position").replace(FANTASY_GROUP))
        .group_by("season", "player_key")
        .agg(
            pl.col("player_id").last(),
            pl.col("display_name").drop_nulls().last(),
            pl.col("position").last(),
            pl.col("games_played").sum().cast(pl.Int32),
            pl.col("fantasy_points").sum().alias("total_points"),
        )
        .filter(pl.col("games_played") >= min_games)
        # group_by's order is arbitrary: sort so that ties rank the same on every run.
        .sort("season", "player_key")
        .with_columns(
            (pl.col("total_points") / pl.col("games_played")).alias("points_per_game"),
        )
        .with_columns(
            pl.col("points_per_game")
            .rank(method="ordinal", descending=True)
            .over("season", "position")
            .cast(pl.Int32)
            .alias("positional_rank"),
        )
    )
    replacement = (
        seasons.join(
            pl.DataFrame(
                {
                    "position": list(REPLACEMENT_RANK),
                    "replacement_rank": list(REPLACEMENT_RANK.values()),
                }
            ),
            on="position",
        )
        # A thin position has no player at the replacement rank: use its last player.
        .filter(pl.col("positional_rank") <= pl.col("replacement_rank"))
        .group_by("season", "position")
        .agg(pl.col("points_per_game").min().alias("replacement_ppg"))
    )
    valued = (
        seasons.join(replacement, on=["season", "position"], how="left")
        .with_columns(
            (pl.col("points_per_game") - pl.col("replacement_ppg").fill_null(0.0)).alias(
                "value_over_replacement"
            )
        )
        .select(list(PlayerValuationOutput.model_fields))
        .sort(["season", "value_over_replacement", "player_key"], descending=[False, True, False])
    )
    logger.info(
        "valued %d player-seasons across %d seasons", valued.height, valued["season"].n_unique()
    )
    return valued


@monitored_flow(name="analytics-template")
def analytics_template_flow(
    db_path: str | None = None,
    output_path: str = "player_valuation/latest.parquet",
    dbt_selector: str | None = "mrt_player_valuation",
    dbt_project_dir: str | None = None,
    dbt_vars: dict[str, Any] | None = None,
) -> ParquetWriteResult:
    """Load the weekly mart, value players, validate, write Parquet, then build the dbt mart.

    Args:
        db_path: The DuckDB file with the marts; default FF_DUCKDB_PATH.
        output_path: Where the valuation goes, under FF_DATA_DIR/analytics/.
        dbt_selector: The dbt models to build from the new Parquet; None to skip dbt.
        dbt_project_dir: The dbt project; default FF_DBT_PROJECT_DIR.
        dbt_vars: `--vars` for dbt (keep them as the marts were built with, or dbt
            re-parses the project).

    Returns:
        Where the Parquet file was written, with its rows and bytes.
    """
    weekly = load_dbt_mart("mrt_fantasy_actuals_weekly", db_path)
    valuation = value_players(weekly)
    validated = validate_frame(valuation, PlayerValuationOutput)
    written = write_parquet(validated, output_path)
    if dbt_selector:
        settings = KitSettings()
        database = db_path or settings.require("duckdb_path")
        run_dbt_models(
            dbt_selector,
            project_dir=dbt_project_dir,
            vars=dbt_vars,
            # What the example project's profile and sources read: absolute, so dbt
            # (which runs in the project directory) finds the same files.
            env={
                "FF_DUCKDB_PATH": str(Path(database).resolve()),
                "FF_DATA_DIR": str(settings.data_dir.resolve()),
            },
            wait_for=[written],
        )
    return written


if __name__ == "__main__":
    result = analytics_template_flow()
    print(f"wrote {result.rows:,} rows to {result.location}")
