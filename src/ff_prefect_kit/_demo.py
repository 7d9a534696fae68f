"""The main job's flow: a hello-world monitored flow on the embedded defaults."""

from __future__ import annotations

import logging

from ff_prefect_kit._flows import monitored_flow
from ff_prefect_kit._tasks import analytics_task

logger = logging.getLogger(__name__)


@analytics_task(name="make-points", retries=0)
def make_points(players: int = 10) -> list[float]:
    """Ten players' weekly fantasy points: deterministic hello-world data."""
    points = [round(4.5 + 2.25 * i, 2) for i in range(players)]
    logger.info("made %d rows of points", len(points))
    return points


@analytics_task(name="sum-points", retries=0)
def sum_points(points: list[float]) -> float:
    """Total the points."""
    return round(sum(points), 2)


@monitored_flow(name="hello-world")
def hello_world_flow(players: int = 10) -> float:
    """Load, compute, report: the smallest monitored flow."""
    total = sum_points(make_points(players))
    print(f"{players} players scored {total} points in total")
    return total
