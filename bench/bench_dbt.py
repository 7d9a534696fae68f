"""`run_dbt_models` against the dbt CLI on the same selection, warm and cold, in one run.

Usage: uv run python bench/bench_dbt.py [--repeat N] [--selector SELECTOR]

Builds a copy of the example dbt project once, then:

- warm: in this process, `run_dbt_models` in-process (dbtRunner, dbt already imported)
  and through the dbt CLI (a subprocess), alternated after one warm-up each;
- cold: whole processes paired, a fresh interpreter calling `run_dbt_models` once
  (imports and parse included) against a fresh `dbt build` process.

Each variant is printed as a median with its spread (min-max), and each ratio against
the dbt CLI measured alongside it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import alternate, print_results

from ff_prefect_kit import run_dbt_models

EXAMPLE = Path(__file__).parents[1] / "examples" / "dbt_project"

COLD = """
import json, sys, time
started = time.perf_counter()
from ff_prefect_kit import run_dbt_models
options = json.loads(sys.argv[1])
run_dbt_models.fn(options.pop("selector"), **options)
print(time.perf_counter() - started)
"""


def _dbt() -> str:
    found = shutil.which("dbt", path=str(Path(sys.executable).parent)) or shutil.which("dbt")
    if found is None:
        raise SystemExit("the dbt command is not installed: uv sync (the dbt extra)")
    return found


def main() -> None:
    logging.getLogger("ff_prefect_kit").setLevel(logging.WARNING)  # dbt's lines, per node
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--selector", default="dim_scoring_rule mrt_fantasy_actuals_weekly")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-dbt-") as tmp:
        root = Path(tmp)
        project = root / "dbt_project"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs"))
        env = {"FF_DUCKDB_PATH": str(root / "bench.duckdb"), "FF_DATA_DIR": str(root)}
        build = run_dbt_models.fn("+mrt_fantasy_actuals_weekly", project_dir=project, env=env)
        print(f"built the marts first: {len(build.nodes)} nodes")
        cli = [_dbt(), "build", "--select", *args.selector.split()]

        def cli_run() -> object:
            return subprocess.run(
                cli, cwd=project, env={**os.environ, **env}, check=True, capture_output=True
            )

        warm = alternate(
            {
                "in-process, warm": lambda: run_dbt_models.fn(
                    args.selector, project_dir=project, env=env
                ),
                "dbt CLI": cli_run,
            },
            repeats=args.repeat,
        )
        print_results(
            f"warm, selector {args.selector!r}",
            warm,
            {},
            [("in-process, warm", "dbt CLI", "target: below 1x")],
        )

        options = json.dumps({"selector": args.selector, "project_dir": str(project), "env": env})
        cold: dict[str, list[float]] = {"in-process, cold (new interpreter)": [], "dbt CLI": []}
        for _ in range(args.repeat):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", COLD, options], check=True, capture_output=True)
            cold["in-process, cold (new interpreter)"].append(time.perf_counter() - started)
            started = time.perf_counter()
            cli_run()
            cold["dbt CLI"].append(time.perf_counter() - started)
        print_results(
            "cold, whole processes paired",
            cold,
            {},
            [("in-process, cold (new interpreter)", "dbt CLI", "target: about 1x")],
            warmed=False,
        )


if __name__ == "__main__":
    main()
