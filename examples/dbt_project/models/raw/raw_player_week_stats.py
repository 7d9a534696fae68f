"""Raw weekly player stats, made at run time by the kit's synthetic-data generator."""

from ff_prefect_kit.testing import generate_raw


def model(dbt, session):
    dbt.config(materialized="table")
    raw = generate_raw(
        seasons=int(dbt.config.get("seasons")),
        players=int(dbt.config.get("players")),
        seed=int(dbt.config.get("seed")),
    )
    return raw.player_week_stats.to_arrow()
