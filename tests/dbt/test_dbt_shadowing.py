"""Your own `dbt_*` modules never hang or break an in-process dbt run: a clear error instead.

dbt imports every module named `dbt_*` on the import path when it starts; in-process
that path starts with the script's folder. Each case runs a real script in a process
of its own, with a timeout: the first one used to wait forever.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.dbt.conftest import copy_example

REPO = Path(__file__).parents[2]

RUN_AT_IMPORT = """
from ff_prefect_kit import run_dbt_models
run_dbt_models.fn("dim_scoring_rule", project_dir={project!r})
"""
RUN_UNDER_MAIN = """
from ff_prefect_kit import run_dbt_models
if __name__ == "__main__":
    run_dbt_models.fn("dim_scoring_rule", project_dir={project!r})
"""
NEEDS_AN_ARGUMENT = "import sys\nLOG_FILE = sys.argv[1]\n"


def run_script(script: Path, env: dict[str, str] | None = None) -> str:
    """Run `script` in its folder; what it printed to stderr (it must fail, in time)."""
    done = subprocess.run(
        [sys.executable, script.name],
        cwd=script.parent,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode != 0, done.stdout[-2000:]
    return done.stderr


@pytest.mark.parametrize(
    ("files", "named"),
    [
        ({"dbt_fn.py": RUN_AT_IMPORT}, "dbt_fn.py (it is this script"),
        (
            {"flow.py": RUN_UNDER_MAIN, "dbt_logs_api.py": NEEDS_AN_ARGUMENT},
            "dbt_logs_api.py (dbt imports it",
        ),
        ({"flow.py": RUN_UNDER_MAIN, "dbt.py": ""}, "dbt.py (it hides the dbt package itself"),
    ],
    ids=["the-script-itself", "a-sibling-module", "a-dbt-of-your-own"],
)
def test_a_module_dbt_would_import_is_named_before_dbt_starts(
    tmp_path: Path, files: dict[str, str], named: str
) -> None:
    """A script folder holding a `dbt_*` module fails at once, naming the file and the fix."""
    folder = tmp_path / "scripts"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text.format(project=str(tmp_path / "no-dbt-run")))
    (tmp_path / "no-dbt-run").mkdir()
    (tmp_path / "no-dbt-run" / "dbt_project.yml").write_text("name: never_run\n")
    stderr = run_script(folder / next(iter(files)))
    assert "DbtRunError: dbt, run in-process, imports every module named dbt_*" in stderr
    assert f"{folder / named}" in stderr
    assert "rename it, e.g. to " in stderr
    assert "command=['dbt', 'build']" in stderr


def test_dbt_importing_code_that_runs_dbt_again_fails_instead_of_waiting(tmp_path: Path) -> None:
    """An installed `dbt_*` module that runs dbt at import fails the run; it never hangs."""
    project = copy_example(tmp_path / "dbt_project")
    installed = tmp_path / "lib" / "site-packages"  # an installed library: not refused
    installed.mkdir(parents=True)
    (installed / "dbt_reentrant.py").write_text(RUN_AT_IMPORT.format(project=str(project)))
    script = tmp_path / "scripts" / "flow.py"
    script.parent.mkdir()
    script.write_text(RUN_UNDER_MAIN.format(project=str(project)))
    path = os.pathsep.join(filter(None, [str(installed), os.environ.get("PYTHONPATH")]))
    stderr = run_script(script, env={"PYTHONPATH": path})
    assert "run_dbt_models was called from inside the in-process dbt run" in stderr
