"""The cost of reporting each dbt node (and each built model's asset) to Prefect.

Usage: uv run python bench/bench_dbt_nodes.py [--repeat N] [--selector SELECTOR]

Builds a copy of the example dbt project once, then times, in turns after one warm-up
each, against the kit's test harness (a real Prefect API on loopback):

- plain: `run_dbt_models.fn(...)`, dbt in-process outside any flow (the baseline);
- in a flow, report_nodes=False: the same build as the `run-dbt-models` task of a flow;
- in a flow, per-node reporting: the default, each node a task run and each model an
  asset.

The flow variants wait until Prefect's client has sent every event (task runs, assets)
before the clock stops, so what reporting costs is inside the figure, not deferred.
On a busy machine dbt's own time varies more than reporting costs, so the reporting is
also timed alone: `report_nodes` on the result of one build, in a flow, events sent.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from _common import alternate, print_results

from ff_prefect_kit import run_dbt_models
from ff_prefect_kit.dbt._in_process import invoke_in_process
from ff_prefect_kit.dbt._nodes import report_nodes
from ff_prefect_kit.testing import prefect_harness

EXAMPLE = Path(__file__).parents[1] / "examples" / "dbt_project"


def main() -> None:
    logging.getLogger("ff_prefect_kit").setLevel(logging.WARNING)  # dbt's lines, per node
    logging.getLogger("prefect").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--selector", default="+mrt_fantasy_actuals_weekly")
    args = parser.parse_args()

    from prefect import flow
    from prefect.events.worker import EventsWorker

    with tempfile.TemporaryDirectory(prefix="bench-dbt-nodes-") as tmp, prefect_harness():
        root = Path(tmp)
        project = root / "dbt_project"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs"))
        env = {"FF_DUCKDB_PATH": str(root / "bench.duckdb"), "FF_DATA_DIR": str(root)}
        build = run_dbt_models.fn(args.selector, project_dir=project, env=env)
        print(f"built once first: {len(build.nodes)} nodes")

        @flow
        def build_in_a_flow(report: bool) -> None:
            run_dbt_models(args.selector, project_dir=project, env=env, report_nodes=report)

        def in_a_flow(report: bool) -> None:
            build_in_a_flow(report)
            EventsWorker.drain_all(timeout=30)

        times = alternate(
            {
                "plain (no flow)": lambda: run_dbt_models.fn(
                    args.selector, project_dir=project, env=env
                ),
                "in a flow, report_nodes=False": lambda: in_a_flow(False),
                "in a flow, per-node reporting": lambda: in_a_flow(True),
            },
            repeats=args.repeat,
        )
        print_results(
            f"selector {args.selector!r}, {len(build.nodes)} nodes",
            times,
            {},
            [
                ("in a flow, per-node reporting", "plain (no flow)", "target: <= 1.2x"),
                ("in a flow, per-node reporting", "in a flow, report_nodes=False", "reporting"),
                ("in a flow, report_nodes=False", "plain (no flow)", "the flow and task"),
            ],
        )

        args_ = ["build", "--select", args.selector, "--project-dir", str(project)]
        _, _, _, raw = invoke_in_process([*args_, "--no-use-colors"], project, env)
        database = Path(env["FF_DUCKDB_PATH"])

        @flow
        def report_alone(repeat: int) -> list[float]:
            spent = []
            for _ in range(repeat):
                started = time.perf_counter()
                report_nodes(raw, project, database=database)
                EventsWorker.drain_all(timeout=30)
                spent.append(time.perf_counter() - started)
            return spent

        alone = report_alone(args.repeat)
        plain = statistics.median(times["plain (no flow)"])
        cost = statistics.median(alone)
        print(
            f"reporting alone ({len(build.nodes)} nodes, events sent): median {cost:.4f} s "
            f"(min {min(alone):.4f}, max {max(alone):.4f}); plain build + reporting / plain "
            f"build: {(plain + cost) / plain:.2f}x  (target: <= 1.2x)"
        )
        print(json.dumps({"plain_s": round(plain, 4), "reporting_s": round(cost, 4)}))


if __name__ == "__main__":
    main()
