"""`ff-prefect-kit new-flow`: scaffold a flow, its tasks and its test into a project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ff_prefect_kit.cli import main
from ff_prefect_kit.cli._scaffold import _name_problem, render_files

SCAFFOLD = [
    "flows/__init__.py",
    "flows/weekly_points_flow.py",
    "flows/tasks/__init__.py",
    "flows/tasks/weekly_points.py",
    "tests/__init__.py",
    "tests/test_weekly_points_flow.py",
]
RUFF_RULES = "E,F,W,I,B,UP,SIM,RUF,PT,C4,RET,PL"
# Warnings are errors, as in a strict project; plugins that would change the run are off.
PYTEST_OPTIONS = ["-q", "-W", "error", "-p", "no:randomly", "-p", "no:cacheprovider"]


def _files(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _clean_env() -> dict[str, str]:
    """The environment for a child process: no pytest options or .env of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["FF_ENV_FILE"] = os.devnull
    return env


def test_writes_the_flow_its_tasks_and_its_test(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dir gets the six files; the output lists each and the pytest command to run."""
    assert main(["new-flow", "weekly_points", "--dir", str(tmp_path)]) == 0

    assert sorted(_files(tmp_path)) == sorted(SCAFFOLD)
    out = capsys.readouterr().out
    assert all(f"  {relative}\n" in out for relative in SCAFFOLD)
    assert "pytest tests/test_weekly_points_flow.py" in out


def test_flow_uses_the_kits_public_api(tmp_path: Path) -> None:
    """The flow loads the weekly mart and validates and writes with the kit's tasks."""
    assert main(["new-flow", "weekly_points", "--dir", str(tmp_path)]) == 0

    flow = (tmp_path / "flows/weekly_points_flow.py").read_text()
    tasks = (tmp_path / "flows/tasks/weekly_points.py").read_text()
    assert (
        "from ff_prefect_kit import load_dbt_mart, monitored_flow, validate_frame, write_parquet"
        in flow
    )
    assert 'load_dbt_mart("mrt_fantasy_actuals_weekly", db_path)' in flow
    assert "from ff_prefect_kit import analytics_task" in tasks
    assert "class WeeklyPointsOutput(BaseModel):" in tasks


def test_generated_test_passes_under_a_plain_pytest(tmp_path: Path) -> None:
    """The generated test passes as written, with no project folder on sys.path (-P)."""
    assert main(["new-flow", "weekly_points", "--dir", str(tmp_path)]) == 0

    # -P: like the `pytest` script, Python itself puts no working directory on sys.path.
    done = subprocess.run(
        [sys.executable, "-P", "-m", "pytest", *PYTEST_OPTIONS, "tests/test_weekly_points_flow.py"],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


@pytest.mark.parametrize(
    "name",
    [
        "weekly_points",
        "alpha",  # its flow module sorts before its tasks module
        "tasks_x",
        "abcdefghijabcdefghijabcdefghij",  # the longest name accepted
    ],
)
@pytest.mark.parametrize("line_length", ["88", "100", "120"])
def test_generated_modules_pass_ruff_as_they_are(
    tmp_path: Path, name: str, line_length: str
) -> None:
    """The modules pass ruff's checks and are formatted, at the common line lengths."""
    assert main(["new-flow", name, "--dir", str(tmp_path)]) == 0

    ruff = [sys.executable, "-m", "ruff"]
    options = ["--isolated", "--line-length", line_length]
    checked = subprocess.run(
        [*ruff, "check", *options, "--select", RUFF_RULES, "--ignore", "PLR2004", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    formatted = subprocess.run(
        [*ruff, "format", *options, "--check", "--diff", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout
    assert formatted.returncode == 0, formatted.stdout


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("weekly-points", "try 'weekly_points'"),
        ("WeeklyPoints", "try 'weekly_points'"),
        ("weekly points", "try 'weekly_points'"),
        ("2024_points", "try 'flow_2024_points'"),
        ("class", "try 'class_report'"),
        ("json", "try 'json_report'"),
        ("polars", "try 'polars_report'"),
        ("test_points", "try 'points'"),
        ("points_flow", "try 'points'"),
        ("a" * 31, "choose a short lower_snake_case name"),
        ("", "choose a short lower_snake_case name"),
    ],
)
def test_bad_name_exits_2_with_the_fix_and_writes_nothing(
    tmp_path: Path, name: str, suggestion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name that cannot be a module exits 2, one line naming it and a fix."""
    assert main(["new-flow", name, "--dir", str(tmp_path)]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: flow name {name!r} ")
    assert suggestion in err
    assert _files(tmp_path) == {}


@given(name=st.from_regex(r"[a-z][a-z0-9]{0,6}(_[a-z0-9]{1,6}){0,3}", fullmatch=True))
def test_every_accepted_name_renders_modules_that_compile(name: str) -> None:
    """Whatever name passes the checks, each rendered file is valid Python."""
    assume(_name_problem(name) is None)
    for relative, source in render_files(name).items():
        compile(source, relative, "exec")


def test_existing_file_is_refused_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One target that exists stops the command before any file is written; it is kept."""
    existing = tmp_path / "tests" / "test_weekly_points_flow.py"
    existing.parent.mkdir()
    existing.write_text("# the user's own test\n")

    assert main(["new-flow", "weekly_points", "--dir", str(tmp_path)]) == 2

    err = capsys.readouterr().err
    assert "tests/test_weekly_points_flow.py" in err
    assert "never overwrites" in err
    assert _files(tmp_path) == {"tests/test_weekly_points_flow.py": "# the user's own test\n"}


def test_existing_package_files_are_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An existing flows/__init__.py is left as it is, and not listed as written."""
    init = tmp_path / "flows" / "__init__.py"
    init.parent.mkdir()
    init.write_text('"""Our flows."""\n')

    assert main(["new-flow", "weekly_points", "--dir", str(tmp_path)]) == 0

    assert init.read_text() == '"""Our flows."""\n'
    assert "flows/__init__.py" not in capsys.readouterr().out
    assert sorted(_files(tmp_path)) == sorted(SCAFFOLD)


def test_a_second_flow_joins_the_first(tmp_path: Path) -> None:
    """Two flows live side by side in one project."""
    assert main(["new-flow", "weekly_points", "--dir", str(tmp_path)]) == 0
    assert main(["new-flow", "season_totals", "--dir", str(tmp_path)]) == 0

    assert (tmp_path / "flows/season_totals_flow.py").is_file()
    assert (tmp_path / "flows/weekly_points_flow.py").is_file()


def test_dir_defaults_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --dir the files go into the working directory, and no `cd` is printed."""
    monkeypatch.chdir(tmp_path)

    assert main(["new-flow", "weekly_points"]) == 0

    assert sorted(_files(tmp_path)) == sorted(SCAFFOLD)
    assert "cd " not in capsys.readouterr().out


def test_dir_must_be_an_existing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--dir naming no folder exits 2, naming it; nothing is created."""
    missing = tmp_path / "no-such-project"

    assert main(["new-flow", "weekly_points", "--dir", str(missing)]) == 2

    assert f"--dir {str(missing)!r} is not an existing folder" in capsys.readouterr().err
    assert not missing.exists()


def test_runs_as_a_real_command(tmp_path: Path) -> None:
    """The installed `ff-prefect-kit` script scaffolds the flow and exits 0."""
    script = Path(sys.executable).with_name("ff-prefect-kit")

    done = subprocess.run(
        [str(script), "new-flow", "weekly_points", "--dir", str(tmp_path)],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "pytest tests/test_weekly_points_flow.py" in done.stdout
    assert sorted(_files(tmp_path)) == sorted(SCAFFOLD)
