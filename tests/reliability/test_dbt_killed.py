"""dbt killed mid-build: the next run rebuilds the marts whole and reports only itself."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ff_prefect_kit import run_dbt_models

EXAMPLE = Path(__file__).parents[2] / "examples" / "dbt_project"
SIZE = {"synthetic_seasons": 1, "synthetic_players": 60, "synthetic_seed": 9}
SELECTOR = "+mrt_fantasy_actuals_weekly"
KILLS = 3


def _dbt() -> str:
    found = shutil.which("dbt", path=str(Path(sys.executable).parent)) or shutil.which("dbt")
    if found is None:
        pytest.skip("the dbt command is not installed (the `dbt` extra)")
    return found


def _rows(database: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        found = con.execute("select count(*) from mrt_fantasy_actuals_weekly").fetchone()
    assert found is not None
    return int(found[0])


def test_a_build_killed_at_random_points_is_rebuilt_whole_by_the_next_run(
    tmp_path: Path,
) -> None:
    """SIGKILL dbt 3 times mid-build: the next run succeeds with the same mart as a clean one."""
    project = tmp_path / "dbt_project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb"))
    database = tmp_path / "ff.duckdb"
    env = {"FF_DUCKDB_PATH": str(database), "FF_DATA_DIR": str(tmp_path / "data")}
    clean = run_dbt_models.fn(SELECTOR, project_dir=project, vars=SIZE, env=env)
    expected = _rows(database)
    database.unlink()

    rng = random.Random(2026)
    argv = [_dbt(), "build", "--select", SELECTOR, "--vars", json.dumps(SIZE)]
    results = project / "target" / "run_results.json"
    running = project / "target" / "run"  # dbt writes each node's SQL here as it runs it
    killed_mid_build = 0
    for _ in range(KILLS):
        results.unlink(missing_ok=True)
        shutil.rmtree(running, ignore_errors=True)
        with subprocess.Popen(
            argv,
            cwd=project,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as dbt:
            # dbt spends its first seconds parsing; kill it at a random moment once it
            # runs nodes.
            while dbt.poll() is None and not running.exists():
                time.sleep(0.05)
            with contextlib.suppress(subprocess.TimeoutExpired):
                dbt.wait(timeout=rng.uniform(0.0, 2.0))
            dbt.kill()
        # Nodes had begun to run, and the build had not ended (no results written).
        killed_mid_build += running.exists() and not results.exists()
    assert killed_mid_build, "no kill landed mid-build: the test did not test that case"

    again = run_dbt_models.fn(SELECTOR, project_dir=project, vars=SIZE, env=env)
    assert [n.status for n in again.nodes] == [n.status for n in clean.nodes]
    assert [n.unique_id for n in again.nodes] == [n.unique_id for n in clean.nodes]
    assert _rows(database) == expected
