"""Checks of the build tools: dbt (and the dbt project, and where it reads DuckDB), and just."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ff_prefect_kit._errors import JUST_HINT
from ff_prefect_kit.cli._doctor._result import CheckResult, fail, ok, warn

if TYPE_CHECKING:
    from ff_prefect_kit._settings import KitSettings

__all__ = ["check_dbt", "check_just"]

_JUSTFILES = ("justfile", "Justfile", ".justfile")


def check_dbt(settings: KitSettings | None) -> list[CheckResult]:
    import importlib.util
    import warnings
    from importlib.metadata import PackageNotFoundError, version

    name = "dbt"
    project = settings.dbt_project_dir if settings is not None else None
    install = "install the kit's dbt extra: `pip install 'ff_prefect_kit[dbt]'`"
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


def check_just() -> CheckResult:
    name = "just"
    # As the dbt runner looks for it: this interpreter's scripts folder first.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("just", path=path)
    justfile = next((f for f in _JUSTFILES if Path(f).is_file()), None)
    if found is not None:
        return ok(name, found)
    if justfile is not None:
        return fail(name, f"not found on PATH, and ./{justfile} needs it", JUST_HINT)
    return warn(name, "not found on PATH (needed only to run justfile recipes)", JUST_HINT)
