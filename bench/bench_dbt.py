"""`run_dbt_models` in-process (dbtRunner) vs as a subprocess (the dbt CLI), in one run.

Usage: uv run python bench/bench_dbt.py [--repeat N] [--selector SELECTOR]

Builds a copy of the example dbt project once, then times the same small selection
both ways. The first in-process call pays dbt's imports; it is reported apart.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ff_prefect_kit import run_dbt_models

EXAMPLE = Path(__file__).parents[1] / "examples" / "dbt_project"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--selector", default="dim_scoring_rule mrt_fantasy_actuals_weekly")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-dbt-") as tmp:
        root = Path(tmp)
        project = root / "dbt_project"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs"))
        options = {
            "project_dir": project,
            "env": {"FF_DUCKDB_PATH": str(root / "bench.duckdb"), "FF_DATA_DIR": str(root)},
        }

        started = time.perf_counter()
        build = run_dbt_models.fn("+mrt_fantasy_actuals_weekly", **options)  # type: ignore[arg-type]
        first = time.perf_counter() - started
        print(f"first in-process build ({len(build.nodes)} nodes, imports + parse): {first:.2f} s")

        def timed(command: list[str] | None) -> float:
            begun = time.perf_counter()
            run_dbt_models.fn(args.selector, command=command, **options)  # type: ignore[arg-type]
            return time.perf_counter() - begun

        in_process = [timed(None) for _ in range(args.repeat)]
        subprocess_ = [timed(["dbt", "build"]) for _ in range(args.repeat)]

    warm = statistics.median(in_process)
    cold = statistics.median(subprocess_)
    print(f"selector: {args.selector!r}, {args.repeat} runs each (median)")
    print(f"  in-process (dbtRunner):  {warm:6.2f} s   runs: {_fmt(in_process)}")
    print(f"  subprocess (dbt CLI):    {cold:6.2f} s   runs: {_fmt(subprocess_)}")
    print(f"  subprocess / in-process: {cold / warm:6.1f}x")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
