"""The documented way to run a flow locally works the first time, offline, without noise."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

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
from ff_prefect_kit import analytics_task, monitored_flow


@analytics_task
def score(n: int) -> int:
    return n * 2


@monitored_flow
def many() -> int:
    return sum(future.result() for future in [score.submit(n) for n in range(40)])


if __name__ == "__main__":
    state = many(return_state=True)
    print("total", state.result(), "flow run", state.state_details.flow_run_id)
"""


@dataclass(frozen=True)
class FirstRun:
    """`python my_flow.py` (forty kit tasks) with `.env` from `.env.example`, on a new home."""

    done: subprocess.CompletedProcess[str]
    prefect_home: Path

    @property
    def output(self) -> str:
        return self.done.stdout + self.done.stderr

    def task_run_states(self) -> list[str]:
        """The state of every task run of the flow run, as Prefect's database keeps it."""
        flow_run_id = self.done.stdout.split("flow run ", 1)[1].split()[0]
        with closing(sqlite3.connect(self.prefect_home / "prefect.db")) as database:
            rows = database.execute(
                "SELECT state_type FROM task_run WHERE flow_run_id = ?", (flow_run_id,)
            ).fetchall()
        return sorted(str(state) for (state,) in rows)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> FirstRun:
    """One first run shared by the tests that read it: a new Prefect home migrates for ~30 s."""
    folder = tmp_path_factory.mktemp("first-run")
    shutil.copyfile(ENV_EXAMPLE, folder / ".env")
    return FirstRun(_run_flow(folder, MANY_TASKS), folder / "fresh-prefect-home")


def _run_flow(
    folder: Path, source: str = FLOW, **settings: str
) -> subprocess.CompletedProcess[str]:
    """`python my_flow.py` in `folder` on a never-used Prefect home, without this
    suite's Prefect, kit and Discord settings; `settings` are added to its environment."""
    (folder / "my_flow.py").write_text(source)
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "FF_", "DISCORD_"))
    }
    environment |= {"PREFECT_HOME": str(folder / "fresh-prefect-home"), **settings}
    return subprocess.run(
        [sys.executable, "my_flow.py"],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )


def test_python_my_flow_py_runs_first_time_with_a_fresh_prefect_home(first_run: FirstRun) -> None:
    """With .env copied from .env.example, `python my_flow.py` on a new home completes quietly."""
    assert first_run.done.returncode == 0, first_run.output
    assert "total 1560" in first_run.done.stdout
    assert "Failed to send telemetry" not in first_run.output
    assert "Timed out" not in first_run.output


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


def test_every_kit_task_run_is_recorded_after_python_my_flow_py_exits(first_run: FirstRun) -> None:
    """Forty kit tasks end the script: the local API's database holds all forty, completed."""
    assert first_run.done.returncode == 0, first_run.output
    assert first_run.task_run_states() == ["COMPLETED"] * 40
