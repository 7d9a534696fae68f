"""Deployments and workers on a real `prefect server start`, as production runs them.

`examples/prefect.yaml` is deployed with `prefect deploy`, a `process` worker takes the
run (`prefect worker start --run-once`) and starts a new process for it, as a worker does
in production. Marked `prefect_server` by the plugin.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import polars as pl
import pytest

from ff_prefect_kit import run_dbt_models
from ff_prefect_kit.alerts._throttle_api import ApiWindows
from ff_prefect_kit.data import read_parquet
from ff_prefect_kit.testing import PrefectServer, RunRecord, run_record

EXAMPLES = Path(__file__).parents[2] / "examples"
SIZE = {"synthetic_seasons": 2, "synthetic_players": 60, "synthetic_seed": 11}
POOL = "ff-analytics"
NIGHTLY = "analytics-template/player-valuation-nightly"

FLOWS = textwrap.dedent(
    """
    import polars as pl

    from ff_prefect_kit import monitored_flow, write_parquet


    @monitored_flow(name="nightly-that-fails")
    def nightly_that_fails() -> None:
        raise RuntimeError("the provider sent nothing")


    @monitored_flow(name="writes-the-shared-output")
    def writes_shared(tag: str, rows: int, times: int = 40) -> None:
        frame = pl.DataFrame({"tag": [tag] * rows, "i": list(range(rows))})
        for _ in range(times):
            write_parquet.fn(frame, "shared/latest.parquet")
    """
)


@dataclass(frozen=True)
class Project:
    """A copy of the examples deployed to the server, and what its worker needs."""

    server: PrefectServer
    root: Path
    env: dict[str, str]

    def prefect(self, *args: str, cwd: Path | None = None, timeout: float = 300) -> str:
        """Run the `prefect` command in the project against the server; its output."""
        done = subprocess.run(
            [_prefect(), *args],
            cwd=cwd or self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def schedule(self, name: str, **parameters: object) -> UUID:
        """`prefect deployment run`: a run scheduled now; its id."""
        out = self.prefect("deployment", "run", name, "--params", json.dumps(parameters))
        found = re.search(r"UUID: *([0-9a-f-]{36})", out)
        assert found, out
        return UUID(found[1])

    def work(self, limit: int = 1) -> None:
        """One worker pass: it takes the scheduled runs (at most `limit` at once) to the end."""
        self.prefect("worker", "start", "--pool", POOL, "--run-once", "--limit", str(limit))

    def run_deployment(self, name: str, **parameters: object) -> UUID:
        """`prefect deployment run`, then one worker pass that runs it; the flow run's id."""
        flow_run_id = self.schedule(name, **parameters)
        self.work()
        return flow_run_id

    def record(self, flow_run_id: UUID, tasks: int | None = None) -> RunRecord:
        """The flow run as the server recorded it."""
        with self.server.use():
            return run_record(flow_run_id, expected_tasks=tasks, timeout=60)


def _prefect() -> str:
    found = shutil.which("prefect", path=str(Path(sys.executable).parent))
    assert found, "the prefect command is not installed beside this Python"
    return found


@pytest.fixture(scope="module")
def project(prefect_server: PrefectServer, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The examples copied, their marts built, and `prefect.yaml` deployed to the server."""
    root = tmp_path_factory.mktemp("deployed")
    shutil.copytree(
        EXAMPLES, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("target", "*.duckdb")
    )
    # Beside, not under, the example's prefect.yaml: `prefect deploy` would apply its
    # deployment's parameters to this flow too.
    elsewhere = tmp_path_factory.mktemp("fails")
    (elsewhere / "flows.py").write_text(FLOWS)
    database = root / "ff.duckdb"
    settings = {
        "FF_DUCKDB_PATH": str(database),
        "FF_DBT_PROJECT_DIR": str(root / "dbt_project"),
        "FF_DATA_DIR": str(root / "data"),
    }
    run_dbt_models.fn(
        "+mrt_fantasy_actuals_weekly", project_dir=root / "dbt_project", vars=SIZE, env=settings
    )
    env = {
        **os.environ,
        **prefect_server.environment(),
        **settings,
        "FF_ENV_FILE": os.devnull,
        "PREFECT_WORKER_QUERY_SECONDS": "1",
    }
    for name in ("DISCORD_WEBHOOK_URL", "FF_ALERT_STATE_FILE"):
        env.pop(name, None)
    deployed = Project(prefect_server, root, env)
    deployed.prefect("work-pool", "create", POOL, "--type", "process", "--overwrite")
    deployed.prefect("deploy", "--all")
    for entrypoint, name in (
        ("flows.py:nightly_that_fails", "twice"),
        ("flows.py:writes_shared", "a"),
        ("flows.py:writes_shared", "b"),
    ):
        deployed.prefect("deploy", entrypoint, "--name", name, "--pool", POOL, cwd=elsewhere)
    return deployed


def test_the_example_prefect_yaml_deploys_with_its_schedule(project: Project) -> None:
    """`prefect deploy --all` reads the example's name, parameters, schedule and pool."""
    from prefect.client.orchestration import get_client

    with project.server.use(), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(NIGHTLY)
    assert deployment.work_pool_name == POOL
    assert deployment.parameters["output_path"] == "player_valuation/latest.parquet"
    [schedule] = deployment.schedules
    assert schedule.schedule.cron == "0 6 * * *"  # type: ignore[union-attr]
    assert schedule.active


def test_a_worker_runs_the_deployment_to_its_parquet(project: Project) -> None:
    """A deployment run taken by a process worker completes and writes its Parquet."""
    flow_run_id = project.run_deployment(NIGHTLY, dbt_vars=SIZE)
    record = project.record(flow_run_id, tasks=5)
    assert record.state == "COMPLETED", record.flow_run.state
    output = project.root / "data" / "analytics" / "player_valuation" / "latest.parquet"
    assert pl.read_parquet(output).height > 0


def test_the_alert_window_holds_across_worker_runs(project: Project) -> None:
    """Two runs, each a new process: the first alerts, the second is held back and counted."""
    first = project.record(project.run_deployment("nightly-that-fails/twice"))
    second = project.record(project.run_deployment("nightly-that-fails/twice"))
    assert first.state == second.state == "FAILED", "\n".join(first.logs + second.logs)
    assert any("nightly-that-fails failed" in line for line in first.logs)
    assert not any("held back" in line for line in first.logs)
    assert any("held back" in line for line in second.logs)
    assert not any("nightly-that-fails failed" in line for line in second.logs)
    windows = ApiWindows(project.server.api_url).read("nightly-that-fails")
    assert sum(window["suppressed"] for window in windows.values()) == 1
    assert not (project.root / "data" / ".ff_prefect_kit").exists()


def test_two_deployments_writing_one_output_never_mix(project: Project) -> None:
    """Two runs at once rewrite the same Parquet: every read gets one run's whole file."""
    output = project.root / "data" / "analytics" / "shared" / "latest.parquet"
    rows = {"a": 1_000, "b": 3_000}
    runs = [
        project.schedule(f"writes-the-shared-output/{tag}", tag=tag, rows=rows[tag]) for tag in rows
    ]
    seen: list[tuple[str, int]] = []
    stop = threading.Event()

    def read_while_they_write() -> None:
        # The kit's reader: one open handle, so one whole file (pl.read_parquet(path) may
        # open the path twice and meet both files during a rename).
        while not stop.is_set():
            try:
                frame = read_parquet(output)
            except FileNotFoundError:
                continue
            tags = frame["tag"].unique().to_list()
            seen.append((tags[0] if len(tags) == 1 else f"mixed {tags}", frame.height))

    reader = threading.Thread(target=read_while_they_write)
    reader.start()
    try:
        project.work(limit=2)
    finally:
        stop.set()
        reader.join()
    assert [project.record(run).state for run in runs] == ["COMPLETED", "COMPLETED"]
    assert seen, "the reader never saw the output"
    assert all(tag in rows and height == rows[tag] for tag, height in seen), set(seen)
    final = pl.read_parquet(output)
    assert final.height == rows[final["tag"][0]]
    assert list(output.parent.iterdir()) == [output]  # no temporary file left behind
