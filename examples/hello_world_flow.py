"""Hello world: the smallest monitored flow. Run: uv run python examples/hello_world_flow.py"""

from __future__ import annotations

import logging

from ff_prefect_kit import analytics_task, monitored_flow

logger = logging.getLogger(__name__)


@analytics_task(name="make-points")
def make_points(players: int = 10) -> list[float]:
    """Weekly fantasy points for a few players: synthetic hello-world data."""
    points = [round(4.5 + 2.25 * i, 2) for i in range(players)]
    logger.info("made %d rows of points", len(points))
    return points


@analytics_task(name="sum-points")
def sum_points(points: list[float]) -> float:
    """Total the points."""
    return round(sum(points), 2)


@monitored_flow(name="hello-world")
def hello_world_flow(players: int = 10) -> float:
    """Make data, compute, report."""
    total = sum_points(make_points(players))
    print(f"{players} players scored {total} points in total")
    return total


if __name__ == "__main__":
    hello_world_flow()
