"""Type-checked by mypy, never run: the decorators keep the signatures they wrap."""

from __future__ import annotations

from typing import assert_type

import polars as pl
from prefect import Flow, Task

from ff_prefect_kit import analytics_task, monitored_flow


@analytics_task
def load(mart_name: str, limit: int = 10) -> pl.DataFrame:
    return pl.DataFrame({"mart": [mart_name] * limit})


@analytics_task(name="score", retries=1)
def score(frame: pl.DataFrame, *, weight: float) -> float:
    return float(frame.height) * weight


@monitored_flow
def nightly(season: int) -> float:
    return score(load("mrt_fantasy_actuals_weekly"), weight=0.5)


@monitored_flow(name="weekly", retries=0)
def weekly(week: int) -> None:
    return None


task_object: Task[..., pl.DataFrame] = load
flow_object: Flow[..., float] = nightly
assert_type(load("x"), pl.DataFrame)
assert_type(score(load("x"), weight=1.0), float)
assert_type(nightly(2024), float)

# Each line below must be an error; mypy --strict fails on an unneeded ignore.
load(3)  # type: ignore[call-overload]
score(load("x"), weight="heavy")  # type: ignore[call-overload]
nightly()  # type: ignore[call-overload]
weekly(week="one")  # type: ignore[call-overload]
