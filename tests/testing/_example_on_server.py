"""The example analytics flow, run once per session against the real `prefect server start`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from ff_prefect_kit import run_dbt_models
from ff_prefect_kit.testing import PrefectServer, RunRecord, run_record

EXAMPLES = Path(__file__).parents[2] / "examples"
SIZE = {"synthetic_seasons": 2, "synthetic_players": 60, "synthetic_seed": 5}
TASKS = ("load-dbt-mart", "value-players", "validate-frame", "write-parquet", "run-dbt-models")

RUNS_THE_EXAMPLE = textwrap.dedent(
    """
    import importlib.util, json, sys
    spec = importlib.util.spec_from_file_location("example_flow", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import does: Pydantic resolves the models there
    spec.loader.exec_module(module)
    state = module.analytics_template_flow(
        db_path=sys.argv[2], dbt_project_dir=sys.argv[3], dbt_vars=json.loads(sys.argv[4]),
        return_state=True,
    )
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id),
                      "state": state.type.value, "message": state.message}))
    """
)


@dataclass(frozen=True)
class ExampleRun:
    """The example flow's run on the server, the server, and where the run's files are."""

    server: PrefectServer
    flow_run_id: UUID
    root: Path

    @property
    def database(self) -> Path:
        """The DuckDB file with the marts."""
        return self.root / "ff.duckdb"

    @property
    def parquet(self) -> Path:
        """The Parquet file the flow wrote."""
        return self.root / "data" / "analytics" / "player_valuation" / "latest.parquet"

    def record(self) -> RunRecord:
        """The run as the server recorded it."""
        with self.server.use():
            return run_record(self.flow_run_id, expected_tasks=len(TASKS))


def run_on_server(server: PrefectServer, script: str, *args: str, **env: str) -> dict[str, Any]:
    """Run `script` in a fresh process pointed at `server`; the JSON of its last line.

    The process gets `server.environment()` and `env`, and no `.env` file.
    """
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env={**os.environ, **server.environment(), "FF_ENV_FILE": os.devnull, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_the_example(server: PrefectServer, root: Path) -> ExampleRun:
    """Build the example project's marts in `root`, then run the example flow against `server`."""
    root = root.resolve()
    project = root / "dbt_project"
    shutil.copytree(EXAMPLES / "dbt_project", project, ignore=shutil.ignore_patterns("target"))
    database = root / "ff.duckdb"
    env = {"FF_DUCKDB_PATH": str(database), "FF_DATA_DIR": str(root / "data")}
    run_dbt_models.fn("+mrt_fantasy_actuals_weekly", project_dir=project, vars=SIZE, env=env)
    args = (str(EXAMPLES / "analytics_template_flow.py"), str(database), str(project))
    outcome = run_on_server(server, RUNS_THE_EXAMPLE, *args, json.dumps(SIZE), **env)
    assert outcome["state"] == "COMPLETED", outcome["message"]
    return ExampleRun(server, UUID(outcome["flow_run_id"]), root)
