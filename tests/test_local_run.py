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


def test_python_my_flow_py_runs_first_time_with_a_fresh_prefect_home(tmp_path: Path) -> None:
    """With .env copied from .env.example, `python my_flow.py` on a new home completes quietly."""
    shutil.copyfile(ENV_EXAMPLE, tmp_path / ".env")
    (tmp_path / "my_flow.py").write_text(FLOW)
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "FF_", "DISCORD_"))
    }
    environment["PREFECT_HOME"] = str(tmp_path / "fresh-prefect-home")
    done = subprocess.run(
        [sys.executable, "my_flow.py"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "total 4.0" in done.stdout
    assert "Failed to send telemetry" not in output
    assert "Timed out" not in output
