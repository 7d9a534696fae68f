"""An adopter's flow: dbt with its nodes reported, then five of the kit's tasks.

The harness test imports it; the ephemeral-API test runs it as a script on a fresh
Prefect home, as an adopter runs `python flow.py`:
`python adopter_flow.py <project dir> <selector>` prints the flow run's id.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow
from pydantic import BaseModel

from ff_prefect_kit import (
    analytics_task,
    load_dbt_mart,
    run_dbt_models,
    validate_frame,
    write_parquet,
)

KIT_TASKS = (
    "run-dbt-models",
    "load-dbt-mart",
    "current-rules",
    "validate-frame",
    "write-parquet",
    "write-parquet",
)
"""The flow's own task runs, besides one per dbt node."""


class Rule(BaseModel):
    """A row of the scoring-rule seed."""

    stat_name: str
    points_per_unit: float
    is_current: bool


@analytics_task(name="current-rules")
def current_rules(rules: pl.DataFrame) -> pl.DataFrame:
    """The rules in force."""
    return rules.filter(pl.col("is_current"))


@flow
def adopter_flow(
    project: Path, selector: str, env: dict[str, str], vars: dict[str, Any] | None = None
) -> int:
    """Build `selector` with its nodes reported, then load, compute, validate, write twice."""
    result = run_dbt_models(selector, project_dir=project, env=env, vars=vars)
    rules = current_rules(load_dbt_mart("dim_scoring_rule", env["FF_DUCKDB_PATH"]))
    validate_frame(rules, Rule)
    write_parquet(rules, output_path="rules/current.parquet")
    write_parquet(rules, output_path="rules/copy.parquet")
    return len(result.nodes)


if __name__ == "__main__":
    state = adopter_flow(
        Path(sys.argv[1]),
        sys.argv[2],
        {"FF_DUCKDB_PATH": os.environ["FF_DUCKDB_PATH"], "FF_DATA_DIR": os.environ["FF_DATA_DIR"]},
        return_state=True,
    )
    print(f"flow run {state.state_details.flow_run_id} {state.type.value}")
