"""The main job, `ff-prefect-kit demo`, as a user runs it: whole processes, in turns.

Usage: uv run python bench/bench_demo.py [--rounds 3] [--seasons 3] [--players 200]

Each round runs, in this order, each as a new process of the real command:

- first run on a fresh machine: a new working directory and an empty kit cache
  (no kept Prefect database), as on a new CI machine;
- first run in a new directory: a new working directory, the machine's kit cache
  kept from earlier runs or test sessions;
- repeat: the same command again in the directory of the previous run;
- baseline: the dbt CLI alone building the same marts from the same synthetic stats
  in a new copy of the example project (what the demo's dbt phase does).

It prints each variant's median with its spread, its ratio to the baseline measured in
the same rounds, and the targets: a first run within 30 s, a repeat within 20 s.
uv's install is not included (run `uv sync` first).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).parents[1] / "examples" / "dbt_project"
TARGETS = {
    "first run, fresh machine": 30.0,
    "first run, new directory": 30.0,
    "repeat": 20.0,
}


def _environment(cache: Path) -> dict[str, str]:
    quiet = {name: value for name, value in os.environ.items() if name != "PREFECT_API_URL"}
    return {**quiet, "FF_PREFECT_KIT_CACHE": str(cache), "FF_ENV_FILE": os.devnull}


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[2:]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def _dbt() -> str:
    found = shutil.which("dbt", path=str(Path(sys.executable).parent)) or shutil.which("dbt")
    if found is None:
        raise SystemExit("the dbt command is not installed: uv sync (the dbt extra)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seasons", type=int, default=3)
    parser.add_argument("--players", type=int, default=200)
    args = parser.parse_args()
    sizes = ["--seasons", str(args.seasons), "--players", str(args.players)]
    demo = [sys.executable, "-m", "ff_prefect_kit", "demo", *sizes]
    synthetic = {
        "synthetic_seasons": args.seasons,
        "synthetic_players": args.players,
        "synthetic_seed": 42,
    }
    times: dict[str, list[float]] = {name: [] for name in (*TARGETS, "baseline: dbt CLI")}
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        root = Path(tmp)
        kept = root / "kept-cache"
        for n in range(args.rounds):
            fresh = _environment(root / f"empty-cache-{n}")
            times["first run, fresh machine"].append(
                _timed([*demo, "--workdir", str(root / f"fresh-{n}")], root, fresh)
            )
            workdir = root / f"new-{n}"
            times["first run, new directory"].append(
                _timed([*demo, "--workdir", str(workdir)], root, _environment(kept))
            )
            times["repeat"].append(
                _timed([*demo, "--workdir", str(workdir)], root, _environment(kept))
            )
            project = root / f"dbt-{n}" / "dbt_project"
            shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs"))
            env = {
                **_environment(kept),
                "FF_DUCKDB_PATH": str(project.parent / "ff_analytics.duckdb"),
                "FF_DATA_DIR": str(project.parent / "data"),
            }
            dbt = [_dbt(), "build", "--select", "+mrt_fantasy_actuals_weekly"]
            times["baseline: dbt CLI"].append(
                _timed([*dbt, "--vars", json.dumps(synthetic)], project, env)
            )
    baseline = statistics.median(times["baseline: dbt CLI"])
    print(
        f"demo, {args.seasons} seasons x {args.players} players: {args.rounds} rounds, "
        "each variant a new process, in turns"
    )
    width = max(len(name) for name in times)
    for name, values in times.items():
        median = statistics.median(values)
        line = (
            f"  {name:<{width}}  median {median:5.1f} s  (min {min(values):.1f}, "
            f"max {max(values):.1f})  {median / baseline:4.2f}x the dbt CLI"
        )
        if name in TARGETS:
            verdict = "met" if median <= TARGETS[name] else "missed"
            line += f"  target <= {TARGETS[name]:.0f} s: {verdict}"
        print(line)


if __name__ == "__main__":
    main()
