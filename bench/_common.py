"""What the data-task benchmarks share: the synthetic frame, alternated timing, memory.

Timing: every variant runs in the same process, warmed up once, then in turns
(A, B, A, B, ...), so they see the same caches and machine load; each variant's
median is printed with its spread (min-max). Memory: each variant runs once in a
fresh interpreter, so the peak it reports (ru_maxrss growth over the setup) is its
own.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPEATS = 7

FOUR_TASK_FLOW = r"""
@analytics_task(name="load")
def load() -> list[float]:
    return [float(i) for i in range(100)]

@analytics_task(name="clean")
def clean(xs: list[float]) -> list[float]:
    return [x for x in xs if x >= 0]

@analytics_task(name="total")
def total(xs: list[float]) -> float:
    return sum(xs)

@analytics_task(name="report")
def report(x: float) -> str:
    return f"{x:.1f}"

@monitored_flow
def four_tasks() -> str:
    return report(total(clean(load())))
"""
"""A monitored flow of four chained tasks (needs `analytics_task` and `monitored_flow`)."""

ROWS_SQL = """
SELECT
    (i + 1)::BIGINT AS player_id,
    ('P' || (i % 5000))::VARCHAR AS name,
    (['QB', 'RB', 'WR', 'TE'])[1 + i % 4] AS position,
    (i % 300) / 7.0 AS points,
    (1 + i % 18)::INTEGER AS week,
    (2000 + i % 25)::INTEGER AS season
FROM range({rows}) t(i)
"""
"""1M rows x 6 columns by default: ids, names, an enum-like position, points, week, season."""


def rows_from_argv(default: int = 1_000_000) -> int:
    """The row count given as the script's first argument, or the default."""
    return int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else default


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def alternate(
    variants: dict[str, Callable[[], object]], repeats: int = REPEATS
) -> dict[str, list[float]]:
    """Seconds per run of each variant, the variants taking turns after one warm-up each."""
    for run in variants.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            started = time.perf_counter()
            result = run()
            times[name].append(time.perf_counter() - started)
            del result
    return times


def report_peak(run: Callable[[], object]) -> None:
    """Run once and print the peak memory growth as JSON (a child process's answer)."""
    before = peak_mb()
    result = run()
    del result
    print(json.dumps({"peak_mb": peak_mb() - before}))


def peak_in_child(script: str, *args: str | Path) -> float:
    """Run `script --child *args` in a fresh interpreter and read the peak it reports."""
    out = subprocess.run(
        [sys.executable, script, "--child", *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    peak: float = json.loads(out.strip().splitlines()[-1])["peak_mb"]
    return peak


def print_results(
    title: str,
    times: dict[str, list[float]],
    peaks: dict[str, float],
    ratios: list[tuple[str, str, str]],
    *,
    warmed: bool = True,
) -> None:
    """Print each variant's median, spread and peak, then each `(variant, baseline, target)`."""
    runs = len(next(iter(times.values())))
    warm_up = ", after one warm-up" if warmed else ", no warm-up"
    print(f"{title}: {runs} alternated runs each{warm_up}")
    width = max(len(name) for name in times)
    for name, values in times.items():
        median = statistics.median(values)
        peak = f"  peak +{peaks[name]:.0f} MB" if name in peaks else ""
        print(
            f"  {name:<{width}}  median {median:.4f} s  (min {min(values):.4f}, "
            f"max {max(values):.4f}){peak}"
        )
    for variant, baseline, target in ratios:
        ratio = statistics.median(times[variant]) / statistics.median(times[baseline])
        print(f"  ratio {variant} / {baseline}: {ratio:.2f}x  ({target})")
