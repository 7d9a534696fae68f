"""The documented way to run a flow locally works the first time, offline, without noise."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ENV_EXAMPLE = Path(__file__).parents[1] / ".env.example"

FLOW = """
from ff_prefect_kit import analytics_task, monitored_flow


@analytics_task
def total(points: list[float]) -> float:
    return sum(points)


@monitored_flow
def season_total() -> float:
    return total([1.5, 2.5])


if __name__ == "__main__":
    print("total", season_total())
"""

# Forty kit task runs end together: their last events are sent while Python exits.
MANY_TASKS = """
from prefect import flow
from ff_prefect_kit import analytics_task


@analytics_task
def score(n: int) -> int:
    return n * 2


@flow
def many() -> int:
    return sum(future.result() for future in [score.submit(n) for n in range(40)])


if __name__ == "__main__":
    state = many(return_state=True)
    print("flow run", state.state_details.flow_run_id)
"""

# Prints the state of every task run of a flow run, read from the same Prefect home.
READ_BACK = """
import sys
from uuid import UUID
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
with get_client(sync_client=True) as client:
    runs = client.read_task_runs(
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(sys.argv[1])]))
    )
print(*sorted(run.state_type.value for run in runs if run.state_type))
"""


def _run_flow(
    folder: Path, source: str = FLOW, *args: str, **settings: str
) -> subprocess.CompletedProcess[str]:
    """`python my_flow.py *args` in `folder` on a never-used Prefect home, without this
    suite's Prefect, kit and Discord settings; `settings` are added to its environment."""
    (folder / "my_flow.py").write_text(source)
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "FF_", "DISCORD_"))
    }
    environment |= {"PREFECT_HOME": str(folder / "fresh-prefect-home"), **settings}
    return subprocess.run(
        [sys.executable, "my_flow.py", *args],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )


def test_python_my_flow_py_runs_first_time_with_a_fresh_prefect_home(tmp_path: Path) -> None:
    """With .env copied from .env.example, `python my_flow.py` on a new home completes quietly."""
    shutil.copyfile(ENV_EXAMPLE, tmp_path / ".env")
    done = _run_flow(tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "total 4.0" in done.stdout
    assert "Failed to send telemetry" not in output
    assert "Timed out" not in output


def test_python_my_flow_py_runs_first_time_on_a_fresh_home_without_env(tmp_path: Path) -> None:
    """No .env and a never-used Prefect home: the flow waits for the local API and completes."""
    done = _run_flow(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "total 4.0" in done.stdout


def test_a_first_run_that_cannot_start_the_local_api_says_what_to_do(tmp_path: Path) -> None:
    """Local API not up in time: the error names `ff-prefect-kit init` and the setting."""
    # One second: no server starts in time, as a first start on a slow machine in 20 s.
    done = _run_flow(tmp_path, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="1")
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if "ff-prefect-kit init" in line]
    assert any("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in line for line in errors), (
        done.stderr[-3000:]
    )


def test_every_kit_task_run_is_recorded_after_python_my_flow_py_exits(tmp_path: Path) -> None:
    """Forty kit tasks end the script: the local API holds all forty, each completed."""
    shutil.copyfile(ENV_EXAMPLE, tmp_path / ".env")
    done = _run_flow(tmp_path, MANY_TASKS)
    assert done.returncode == 0, done.stdout + done.stderr
    flow_run_id = done.stdout.split("flow run ", 1)[1].split()[0]
    read = _run_flow(tmp_path, READ_BACK, flow_run_id)
    assert read.returncode == 0, read.stderr[-3000:]
    assert read.stdout.split() == ["COMPLETED"] * 40
