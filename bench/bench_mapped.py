"""When to map analytics tasks over player groups, and when to stay vectorised in Polars.

Runs on the kit's Prefect harness (the API that records each task run), in one process:

1. Polars work only: one analytics task aggregating a season of weekly points in one
   `group_by` (the baseline) against the same aggregation mapped as N tasks, one per
   player group, on the flow's default thread pool, and N=32 on a Dask LocalCluster of
   two worker processes. The cost of a mapped task is its recording, not its work.
2. Python-level work of `t` ms per group (a model fit Polars cannot vectorise, holding
   the GIL): one task doing the 16 groups in turn (the baseline) against 16 tasks mapped
   on the Dask cluster, for several `t`. The crossover is the `t` above which mapping
   wins on this machine's two cores.

Variants alternate, each warmed up once; medians with min-max.

    uv run python bench/bench_mapped.py [--repeats 3]
"""

import argparse
import itertools
import statistics
import time
from functools import partial
from typing import Any

import polars as pl
from _common import alternate, print_results

from ff_prefect_kit import analytics_task, monitored_flow

PLAYERS = 4_000
WEEKS = 18
TINY_GROUPS = (8, 32, 128)
HEAVY_GROUPS = 16
WORK_MS = (40, 160, 320, 640)


def season(players: int = PLAYERS, weeks: int = WEEKS) -> pl.DataFrame:
    """Weekly fantasy points: one row per player and week, players in a `grp` column later."""
    ids = pl.int_range(0, players * weeks, eager=True)
    return pl.DataFrame(
        {
            "player_id": ids // weeks,
            "week": ids % weeks + 1,
            "points": ((ids * 7919) % 300) / 10.0,
        }
    )


def summarise(frame: pl.DataFrame) -> pl.DataFrame:
    """The per-player season summary both variants compute."""
    return frame.group_by("player_id").agg(
        pl.col("points").mean().alias("mean"),
        pl.col("points").std().alias("std"),
        pl.col("points").tail(4).mean().alias("last4"),
    )


def fit(frame: pl.DataFrame, work_ms: float) -> pl.DataFrame:
    """`summarise`, then `work_ms` of Python-level work (it holds the GIL, as a fit would)."""
    deadline = time.perf_counter() + work_ms / 1000
    spins = 0
    while time.perf_counter() < deadline:
        spins += 1
    return summarise(frame)


def groups(frame: pl.DataFrame, n: int) -> list[pl.DataFrame]:
    """The frame split into `n` player groups."""
    keyed = frame.with_columns((pl.col("player_id") % n).alias("grp"))
    return [g.drop("grp") for g in keyed.partition_by("grp", maintain_order=True)]


@analytics_task(retries=0)
def summarise_all(frame: pl.DataFrame) -> pl.DataFrame:
    return summarise(frame)


@analytics_task(retries=0)
def summarise_group(frame: pl.DataFrame) -> pl.DataFrame:
    return summarise(frame)


@analytics_task(retries=0)
def fit_all(parts: list[pl.DataFrame], work_ms: float) -> pl.DataFrame:
    return pl.concat([fit(part, work_ms) for part in parts])


@analytics_task(retries=0)
def fit_group(frame: pl.DataFrame, work_ms: float) -> pl.DataFrame:
    return fit(frame, work_ms)


# Prefect pickles the flow into every task run sent to a Dask worker; the alert
# throttle does not pickle yet, so these flows do without it.
@monitored_flow(name="bench-vectorised")
def vectorised(frame: pl.DataFrame) -> int:
    return summarise_all(frame).height


@monitored_flow(name="bench-mapped")
def mapped(parts: list[pl.DataFrame]) -> int:
    return sum(f.result().height for f in summarise_group.map(parts))


@monitored_flow(name="bench-fit-one")
def fit_one(parts: list[pl.DataFrame], work_ms: float) -> int:
    return fit_all(parts, work_ms).height


@monitored_flow(name="bench-fit-mapped")
def fit_mapped(parts: list[pl.DataFrame], work_ms: float) -> int:
    futures = fit_group.map(parts, work_ms=work_ms)  # type: ignore[call-arg]
    return sum(f.result().height for f in futures)


def _check(run: Any, expected: int) -> Any:
    def checked() -> None:
        got = run()
        assert got == expected, f"{got} rows, expected {expected}"

    return checked


def tiny(repeats: int, dask: Any) -> dict[str, list[float]]:
    frame = season()
    variants: dict[str, Any] = {"vectorised (1 task)": partial(vectorised, frame)}
    for n in TINY_GROUPS:
        variants[f"mapped {n} tasks, threads"] = partial(mapped, groups(frame, n))
    on_dask = mapped.with_options(task_runner=dask)
    variants["mapped 32 tasks, dask"] = partial(on_dask, groups(frame, 32))
    times = alternate({k: _check(v, PLAYERS) for k, v in variants.items()}, repeats)
    print_results(
        f"Polars only, {PLAYERS:,} players x {WEEKS} weeks",
        times,
        {},
        [(name, "vectorised (1 task)", "1x would be free") for name in list(times)[1:]],
    )
    base = statistics.median(times["vectorised (1 task)"])
    for n in TINY_GROUPS:
        extra = statistics.median(times[f"mapped {n} tasks, threads"]) - base
        print(f"  cost per mapped task (threads, {n} tasks): {1000 * extra / n:.1f} ms")
    extra = statistics.median(times["mapped 32 tasks, dask"]) - base
    print(f"  cost per mapped task (dask, 32 tasks): {1000 * extra / 32:.1f} ms")
    return times


def heavy(repeats: int, dask: Any) -> None:
    parts = groups(season(), HEAVY_GROUPS)
    on_dask = fit_mapped.with_options(task_runner=dask)
    ratios: list[tuple[float, float]] = []
    for work_ms in WORK_MS:
        variants = {
            "one task": partial(fit_one, parts, work_ms),
            f"{HEAVY_GROUPS} mapped, dask": partial(on_dask, parts, work_ms),
        }
        times = alternate({k: _check(v, PLAYERS) for k, v in variants.items()}, repeats)
        print_results(
            f"{work_ms} ms of Python work per group, {HEAVY_GROUPS} groups",
            times,
            {},
            [(f"{HEAVY_GROUPS} mapped, dask", "one task", "below 1x: mapping wins")],
        )
        ratio = statistics.median(times[f"{HEAVY_GROUPS} mapped, dask"]) / statistics.median(
            times["one task"]
        )
        ratios.append((work_ms, ratio))
    print(f"crossover: {_crossover(ratios)}")


def _crossover(ratios: list[tuple[float, float]]) -> str:
    """Where the mapped/one-task ratio crosses 1, interpolated between measured points."""
    for (low, r_low), (high, r_high) in itertools.pairwise(ratios):
        if r_low >= 1 > r_high:
            at = low + (r_low - 1) / (r_low - r_high) * (high - low)
            return f"mapping on Dask wins above ~{at:.0f} ms of work per group"
    if ratios and ratios[0][1] < 1:
        return f"mapping on Dask wins from {ratios[0][0]} ms of work per group or less"
    return f"not reached below {ratios[-1][0]} ms of work per group"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from distributed import LocalCluster
    from prefect_dask import DaskTaskRunner

    from ff_prefect_kit.testing import default_database_cache, prefect_harness

    with (
        prefect_harness(database_cache=default_database_cache()),
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
    ):
        dask = DaskTaskRunner(address=cluster.scheduler_address)
        tiny(args.repeats, dask)
        heavy(args.repeats, dask)


if __name__ == "__main__":
    main()
