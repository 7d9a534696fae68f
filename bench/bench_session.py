"""A whole pytest session of flow tests, as a user waits for it: kit vs Prefect's harness.

Usage: uv run python bench/bench_session.py [--rounds 3] [--flows 10]

A temporary project holds `--flows` tests that each run a four-task monitored flow,
plus a few plain tests. Each round runs, each as a new `pytest` process, in turns:

- the kit's harness in a fresh clone (no pytest cache; the machine's kept database),
  its server launched while tests are collected (the default);
- the same with that early start off (`FF_PREFECT_KIT_PRESTART=0`);
- the kit's harness on a machine's first session (an empty kit cache: it migrates);
- Prefect's own `prefect_test_harness()` as a session fixture (the same start-up
  timeout), with the kit's plugin installed but unused.

Prints each variant's median with its spread and its ratio to Prefect's harness.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import FOUR_TASK_FLOW

FLOWS = (
    """
import pytest

from ff_prefect_kit import analytics_task, monitored_flow
"""
    + FOUR_TASK_FLOW
    + """

@pytest.mark.parametrize("n", range(FLOW_TESTS))
def test_flow(n, FIXTURE):
    assert four_tasks() == "4950.0"


@pytest.mark.parametrize("n", range(5))
def test_plain(n):
    assert sum(range(n)) >= 0
"""
)

PREFECT_CONFTEST = """
import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session")
def prefect_harness():
    with prefect_test_harness(server_startup_timeout=180):
        yield
"""


def _project(root: Path, name: str, fixture: str, flows: int, conftest: str = "") -> Path:
    folder = root / name
    folder.mkdir()
    tests = FLOWS.replace("FLOW_TESTS", str(flows)).replace("FIXTURE", fixture)
    (folder / "test_flows.py").write_text(tests)
    if conftest:
        (folder / "conftest.py").write_text(conftest)
    return folder


def _session(folder: Path, env: dict[str, str]) -> float:
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the session in {folder.name} failed:\n{done.stdout[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flows", type=int, default=10)
    args = parser.parse_args()
    base = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "FF_ENV_FILE": os.devnull,
    }
    base.pop("PREFECT_API_URL", None)
    with tempfile.TemporaryDirectory(prefix="bench-session-") as tmp:
        root = Path(tmp)
        kit = _project(root, "kit", "prefect_test_harness", args.flows)
        prefect = _project(root, "prefect", "prefect_harness", args.flows, PREFECT_CONFTEST)
        kept = {**base, "FF_PREFECT_KIT_CACHE": str(root / "kept-cache")}
        _session(kit, kept)  # the machine's first session keeps the migrated database
        variants = {
            "kit, fresh clone, early start": lambda n: _session(kit, kept),
            "kit, fresh clone, no early start": lambda n: _session(
                kit, {**kept, "FF_PREFECT_KIT_PRESTART": "0"}
            ),
            "kit, first session on a machine": lambda n: _session(
                kit, {**base, "FF_PREFECT_KIT_CACHE": str(root / f"empty-cache-{n}")}
            ),
            "Prefect's harness": lambda n: _session(prefect, {**base, "PREFECT_HOME": str(root)}),
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        for n in range(args.rounds):
            for name, run in variants.items():
                times[name].append(run(n))
    baseline = statistics.median(times["Prefect's harness"])
    print(
        f"a pytest session of {args.flows} four-task flow tests and 5 plain tests: "
        f"{args.rounds} rounds, each variant a new process, in turns"
    )
    width = max(len(name) for name in times)
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"  {name:<{width}}  median {median:5.1f} s  (min {min(values):.1f}, "
            f"max {max(values):.1f})  {median / baseline:4.2f}x Prefect's harness"
        )


if __name__ == "__main__":
    main()
