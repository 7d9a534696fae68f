"""The adopter's first hour: a new project of their own, from `uv init` to a first local run.

What README.md and docs/getting-started.md promise, in their order: make a project with uv,
have uv compile bytecode (the libraries kept at this suite's versions, so that on the users'
pins the project has their stack), add this checkout (editable, with the `testing` extra),
then `ff-prefect-kit init`, `ff-prefect-kit new-flow`, the generated test under `pytest`, and
the generated flow run as `python -m flows.NAME_flow` on a Prefect home that has never been
used, with no `PREFECT_API_URL` and the `.env` that `init` wrote moved away: the first run
must not depend on it. Slow (a minute or more): uv resolves and installs the kit's
dependencies from the package index into the new project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

from ff_prefect_kit.cli._local_settings import LOCAL_SETTINGS_TEXT

CHECKOUT = Path(__file__).resolve().parents[1]
STEP_TIMEOUT = 900
_OWN = {"ff-prefect-kit", "ff_prefect_kit"}


def _environment(prefect_home: Path) -> dict[str, str]:
    """This machine's environment without the suite's Prefect, kit and virtualenv settings."""
    dropped = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_PYTHON", "PYTHONPATH")
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "FF_", "DISCORD_")) and name not in dropped
    }
    return {**environment, "UV_PYTHON_DOWNLOADS": "never", "PREFECT_HOME": str(prefect_home)}


def _this_stack() -> list[str]:
    """Every library of this environment at its version, as constraints for the new project.

    On the users' pins, the new project then resolves to their stack (Prefect 3.6.3 with the
    FastAPI its server needs, dbt-core 1.10.13, ...), not to the index's newest releases;
    constraints on libraries it does not use change nothing.
    """
    found = {
        dist.metadata["Name"].lower(): dist.version
        for dist in distributions()
        if dist.metadata["Name"] and dist.metadata["Name"].lower() not in _OWN
    }
    return sorted(f"{name}=={number}" for name, number in found.items())


def _run(
    args: list[str], cwd: Path, env: dict[str, str], **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run one step of the chain; fail with its output unless it exits 0."""
    done = subprocess.run(
        args,
        cwd=cwd,
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"`{' '.join(args)}` exited {done.returncode}:\n{output[-6000:]}"
    return done


def test_a_new_project_adds_the_kit_and_runs_its_first_flow(tmp_path: Path) -> None:
    """uv init, uv add the checkout, init, new-flow, its test, then its flow on a new home."""
    # `uv run` names itself in UV; .ci/run sets it for the runs it starts otherwise.
    uv = (
        os.environ.get("UV")
        or shutil.which("uv", path=str(Path(sys.executable).parent))
        or shutil.which("uv")
    )
    assert uv is not None, "uv is not on PATH: this test makes a project with uv"
    home = tmp_path / "prefect-home"
    env = _environment(home)
    python = str(Path(sys.executable).resolve())

    _run([uv, "init", "--no-workspace", "--python", python, "my-analytics"], tmp_path, env)
    project = tmp_path / "my-analytics"
    with (project / "pyproject.toml").open("a", encoding="utf-8") as file:
        file.write(
            f"\n[tool.uv]\ncompile-bytecode = true\nconstraint-dependencies = {_this_stack()}\n"
        )
    _run([uv, "add", "--editable", str(CHECKOUT), "--extra", "testing"], project, env)

    _run([uv, "run", "ff-prefect-kit", "init"], project, env)
    assert (project / ".env").read_text(encoding="utf-8") == LOCAL_SETTINGS_TEXT
    assert ".env" in (project / ".gitignore").read_text(encoding="utf-8").splitlines()

    _run([uv, "run", "ff-prefect-kit", "new-flow", "weekly_points"], project, env)
    tested = _run([uv, "run", "pytest", "tests/test_weekly_points_flow.py"], project, env)
    assert "3 passed" in tested.stdout

    marts = "from ff_prefect_kit.testing import build_synthetic_marts as b; b('marts.duckdb')"
    _run([uv, "run", "python", "-c", marts], project, env)
    (project / ".env").rename(project / "init.env")
    assert not (home / "prefect.db").exists()  # the flow's run is the home's first
    ran = _run(
        [uv, "run", "python", "-m", "flows.weekly_points_flow"],
        project,
        env,
        FF_DUCKDB_PATH="marts.duckdb",
    )
    output = ran.stdout + ran.stderr
    assert "wrote 50 rows to " in ran.stdout
    assert (project / "data" / "analytics" / "weekly_points" / "latest.parquet").is_file()
    assert (home / "prefect.db").is_file()
    assert "Timed out" not in output
