"""Against a real `prefect server start`: what the UI shows of the example analytics flow.

The flow runs in a subprocess pointed at the server, as a user runs it; the test reads
the run back through Prefect's client. Marked `prefect_server` by the plugin, so
`-m "not prefect_server"` skips these in a quick local run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx
import pytest

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

FAILS_AND_ALERTS = textwrap.dedent(
    """
    import json
    from prefect.client.orchestration import get_client
    from prefect.utilities.urls import url_for
    from ff_prefect_kit import monitored_flow
    from ff_prefect_kit.testing import mock_discord_webhook

    @monitored_flow(name="fails-on-a-real-server")
    def fails() -> None:
        raise RuntimeError("the provider sent nothing")

    with mock_discord_webhook() as discord:
        state = fails(return_state=True)
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(state.state_details.flow_run_id)
    [message] = discord.messages
    print(json.dumps({"url_for": url_for(flow_run), "alert_url": message.embed.get("url")}))
    """
)


@dataclass(frozen=True)
class ExampleRun:
    """The example flow's run on the server, and the server."""

    server: PrefectServer
    flow_run_id: UUID

    def record(self) -> RunRecord:
        """The run as the server recorded it."""
        with self.server.use():
            return run_record(self.flow_run_id, expected_tasks=len(TASKS))


def _run(server: PrefectServer, script: str, *args: str, **env: str) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env={**os.environ, **server.environment(), "FF_ENV_FILE": os.devnull, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def example_run(
    prefect_server: PrefectServer, tmp_path_factory: pytest.TempPathFactory
) -> ExampleRun:
    """The example dbt project built, then the example flow run once against the server."""
    root = tmp_path_factory.mktemp("example")
    project = root / "dbt_project"
    shutil.copytree(EXAMPLES / "dbt_project", project, ignore=shutil.ignore_patterns("target"))
    database = root / "ff.duckdb"
    env = {"FF_DUCKDB_PATH": str(database), "FF_DATA_DIR": str(root / "data")}
    run_dbt_models.fn("+mrt_fantasy_actuals_weekly", project_dir=project, vars=SIZE, env=env)
    flow = EXAMPLES / "analytics_template_flow.py"
    args = (str(flow), str(database), str(project), json.dumps(SIZE))
    outcome = _run(prefect_server, RUNS_THE_EXAMPLE, *args, **env)
    assert outcome["state"] == "COMPLETED", outcome["message"]
    return ExampleRun(prefect_server, UUID(outcome["flow_run_id"]))


def test_the_server_answers_on_loopback(prefect_server: PrefectServer) -> None:
    """The fixture's server is Prefect's own, healthy, on 127.0.0.1."""
    assert prefect_server.api_url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{prefect_server.api_url}/health", timeout=10).json() is True


def test_the_flow_and_every_task_go_through_running_to_completed(example_run: ExampleRun) -> None:
    """The UI's state history: the flow run and each task run, Running then Completed."""
    from prefect.client.orchestration import get_client

    record = example_run.record()
    with example_run.server.use(), get_client(sync_client=True) as client:
        histories = {
            "flow": [s.type.value for s in client.read_flow_run_states(example_run.flow_run_id)]
        }
        for task in record.tasks:
            states = client.read_task_run_states(task.id)
            histories[task.task_name] = [s.type.value for s in states]
    assert sorted(histories) == sorted(("flow", *TASKS))
    for name, history in histories.items():
        assert history[-1] == "COMPLETED", name
        assert history.index("RUNNING") < history.index("COMPLETED"), name


def test_the_task_graph_is_load_value_validate_write_dbt(example_run: ExampleRun) -> None:
    """The task runs' inputs draw the chain the UI shows: load, value, validate, write, dbt."""
    assert example_run.record().dependencies == {
        "load-dbt-mart": set(),
        "value-players": {"load-dbt-mart"},
        "validate-frame": {"value-players"},
        "write-parquet": {"validate-frame"},
        "run-dbt-models": {"write-parquet"},
    }


def test_artifacts_hang_on_the_task_runs_that_made_them(example_run: ExampleRun) -> None:
    """The Parquet profile hangs on the write task run, the dbt results on the dbt one."""
    record = example_run.record()
    names = {task.id: task.task_name for task in record.tasks}
    owners = {names.get(artifact.task_run_id) for artifact in record.artifacts}
    assert {"write-parquet", "run-dbt-models"} <= owners
    assert None not in owners


def test_module_logger_lines_reach_the_run_logs(example_run: ExampleRun) -> None:
    """The example module's own `logging.getLogger(__name__)` lines are in the run's logs."""
    logs = example_run.record().logs
    assert any(line.startswith("valued ") and "player-seasons" in line for line in logs)


def test_the_alert_links_to_the_run_in_the_ui(prefect_server: PrefectServer) -> None:
    """A failing flow's alert carries `url_for(flow_run)`: the run's page in the UI."""
    outcome = _run(prefect_server, FAILS_AND_ALERTS)
    base = prefect_server.api_url.removesuffix("/api")
    assert outcome["url_for"].startswith(f"{base}/runs/flow-run/")
    assert outcome["alert_url"] == outcome["url_for"]
