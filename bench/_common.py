"""What the data-task benchmarks share: the synthetic 6-column frame and the child runner.

Each benchmark runs every variant in a fresh subprocess (`measure`), so the peak
memory it reports (ru_maxrss growth over the setup) is that variant's own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPEATS = 5

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
    return int(sys.argv[1]) if len(sys.argv) > 1 else default


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report_best(run: Callable[[], object], repeats: int = REPEATS) -> None:
    """Time `run` `repeats` times; print the best time and the peak memory growth as JSON."""
    before = peak_mb()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
        del result
    print(json.dumps({"seconds": best, "peak_mb": peak_mb() - before}))


def measure(script: str, *args: str | Path) -> dict[str, float]:
    """Run `script --child *args` in a fresh interpreter and read its JSON result."""
    out = subprocess.run(
        [sys.executable, script, "--child", *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result
