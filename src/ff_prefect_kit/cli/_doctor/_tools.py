"""Checks of the build tools: dbt (and the dbt project, and where it reads DuckDB), and just.

`just` is checked only where the working directory's justfile has a recipe that runs dbt
(the dbt runner's `command=["just", ...]`): a project without one does not need it.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ff_prefect_kit._errors import JUST_HINT
from ff_prefect_kit.cli._doctor._result import CheckResult, fail, ok, skip, warn

if TYPE_CHECKING:
    from ff_prefect_kit._settings import KitSettings

__all__ = ["check_dbt", "check_just"]

_JUSTFILES = ("justfile", "Justfile", ".justfile")
_DBT = re.compile(r"\bdbt\b")


def check_dbt(settings: KitSettings | None) -> list[CheckResult]:
    import importlib.util
    import warnings
    from importlib.metadata import PackageNotFoundError, version

    name = "dbt"
    project = settings.dbt_project_dir if settings is not None else None
    install = (
        "install the kit's dbt extra as you installed the kit, e.g. "
        "`uv add 'ff-prefect-kit[dbt] @ file:///path/to/ff_prefect_kit'`"
    )
    try:
        # dbt's own import-time deprecation warnings are not the user's to act on.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            found = importlib.util.find_spec("dbt.cli.main") is not None
        core = version("dbt-core")
    except (ImportError, PackageNotFoundError, ValueError):
        found, core = False, ""
    if not found:
        if project is not None:
            return [
                fail(name, f"not installed, and FF_DBT_PROJECT_DIR={project} needs it", install)
            ]
        return [warn(name, "not installed (needed only to build the marts)", install)]
    try:
        adapter = f" with dbt-duckdb {version('dbt-duckdb')}"
    except PackageNotFoundError:
        adapter = " without dbt-duckdb"
    results = [
        ok(name, f"dbt-core {core}{adapter}")
        if "with" in adapter
        else warn(name, f"dbt-core {core}{adapter} (the marts need it)", install)
    ]
    if project is not None:
        results.append(_check_dbt_project(Path(project)))
        results += _check_relative_duckdb(settings, Path(project))
    return results


def _check_relative_duckdb(settings: KitSettings | None, project: Path) -> list[CheckResult]:
    """A relative FF_DUCKDB_PATH that the flows and dbt would read as two files."""
    from ff_prefect_kit._settings import diverging_duckdb_paths

    if settings is None:
        return []
    # dbt is taken to see the same setting, as a `just` recipe loading .env does.
    paths = diverging_duckdb_paths(settings.duckdb_path, settings.duckdb_path, project)
    if paths is None:
        return []
    here, there = paths
    return [
        warn(
            "DuckDB path",
            f"FF_DUCKDB_PATH={settings.duckdb_path} is relative: the mart loaders open {here}, "
            f"a dbt profile reading it (dbt runs in {project}) opens {there}",
            f"set FF_DUCKDB_PATH to an absolute path, e.g. FF_DUCKDB_PATH={here}",
        )
    ]


def _check_dbt_project(project: Path) -> CheckResult:
    name = "dbt project"
    if (project / "dbt_project.yml").is_file():
        return ok(name, f"{project} holds dbt_project.yml")
    return fail(
        name,
        f"FF_DBT_PROJECT_DIR={project} holds no dbt_project.yml",
        "point FF_DBT_PROJECT_DIR at the folder with dbt_project.yml",
    )


def _dbt_justfile() -> str | None:
    """The working directory's justfile when one of its recipes runs dbt, else `None`."""
    for name in _JUSTFILES:
        path = Path(name)
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return None
            lines = (line.split("#", 1)[0] for line in text.splitlines())
            return name if any(_DBT.search(line) for line in lines) else None
    return None


def check_just(search_path: str | None = None) -> CheckResult:
    """Whether `just` is there when the justfile's dbt recipes need it.

    Args:
        search_path: Where to look for `just` (an `os.pathsep`-joined list); default this
            interpreter's scripts folder, then `PATH`, as the dbt runner looks.
    """
    name = "just"
    justfile = _dbt_justfile()
    if justfile is None:
        return skip(name, "not needed: no justfile here has a recipe that runs dbt")
    if search_path is None:
        search_path = os.pathsep.join(
            [str(Path(sys.executable).parent), os.environ.get("PATH", "")]
        )
    found = shutil.which("just", path=search_path)
    if found is not None:
        return ok(name, f"{found} (./{justfile} runs dbt)")
    return fail(name, f"not found, and ./{justfile} has recipes that run dbt", JUST_HINT)
