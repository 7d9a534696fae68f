"""The raw player crosswalk (gsis_id -> player_id), made by the kit's generator."""

from ff_prefect_kit.testing import generate_raw


def model(dbt, session):
    dbt.config(materialized="table")
    raw = generate_raw(
        seasons=int(dbt.config.get("seasons")),
        players=int(dbt.config.get("players")),
        seed=int(dbt.config.get("seed")),
    )
    return raw.players.to_arrow()
