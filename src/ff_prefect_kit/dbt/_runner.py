"""`run_dbt_models`: run dbt on a selector; return what it reported, or raise what failed.

dbt runs in-process through `dbtRunner` by default (`_in_process.py`); passing
`command` runs it as a subprocess instead (`_subprocess.py`), e.g. `["just", "dbt-run"]`
or `["dbt", "build"]`, with the selector and the options asked for appended to it.
The Prefect task of the same name, `ff_prefect_kit.run_dbt_models`, wraps this plain
function.

Both runners see the project the same way: they run in the project directory (so a
relative path in `profiles.yml` means the same file), with the same environment
variables (`env` is set for the call, under the lock, then restored), and with only
the flags the caller asked for: dbt re-parses the whole project whenever `--vars`
change between runs, so the kit adds none of its own.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ff_prefect_kit._context import in_run
from ff_prefect_kit._errors import DUCKDB_LOCK_TEXTS, DbtRunError, MartLockedError
from ff_prefect_kit._settings import KitSettings
from ff_prefect_kit.dbt._artifact import publish_results
from ff_prefect_kit.dbt._in_process import invoke_in_process
from ff_prefect_kit.dbt._nodes import report_nodes as _record_nodes
from ff_prefect_kit.dbt._results import DbtRunResult, node_results
from ff_prefect_kit.dbt._subprocess import invoke_subprocess
from ff_prefect_kit.dbt._two_databases import warn_if_two_databases

__all__ = ["run_dbt_models"]

_dbt_logger = logging.getLogger("ff_prefect_kit.dbt")


def run_dbt_models(
    selector: str,
    *,
    project_dir: str | os.PathLike[str] | None = None,
    profiles_dir: str | os.PathLike[str] | None = None,
    target: str | None = None,
    vars: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
    dbt_command: str = "build",
    settings: KitSettings | None = None,
    report_nodes: bool = True,
) -> DbtRunResult:
    """Run `dbt build --select <selector>` and return each node's result.

    dbt runs in-process unless `command` is given, in the project directory either
    way, with the profile dbt itself would pick: `profiles_dir`, else
    `DBT_PROFILES_DIR`, else the project's own `profiles.yml`, else `~/.dbt`. Inside a
    Prefect run the node results are also published as a table artifact; inside a
    flow run each node is also recorded as a task run of its own, and each model dbt
    built as a Prefect asset.

    Args:
        selector: dbt's `--select`, e.g. `"mrt_player_valuation"` or `"+tag:daily"`.
        project_dir: The dbt project; default `FF_DBT_PROJECT_DIR`.
        profiles_dir: Passed as `--profiles-dir` when given.
        target: Passed as `--target` when given (the profile's default otherwise).
        vars: Passed as `--vars` (JSON) when given. Keep them the same from run to
            run: dbt re-parses the whole project when they change.
        env: Environment variables for the call, over this process's (a profile's
            `env_var('DBT_DUCKDB_PATH')`, say). The in-process runner sets them for
            the call only and restores the environment after.
        command: Run dbt as a subprocess with this argv prefix, e.g.
            `["just", "dbt-run"]` or `["dbt", "build"]`; the options are appended
            (shell-quoted for `just`, whose `{{ARGS}}` goes through a shell). `None`
            (the default) runs `dbt <dbt_command>` in-process.
        dbt_command: The dbt subcommand for the in-process runner.
        settings: Settings to read the default project (and, for the models' asset
            keys, `FF_DUCKDB_PATH`) from; default `KitSettings()`.
        report_nodes: Inside a flow run, record each node as a task run (state,
            dbt's timing, rows affected, failing rows) and each built model as an
            asset. Outside a flow run nothing is recorded either way.

    Returns:
        The node results of the invocation (all of them succeeded).

    Raises:
        MartLockedError: Another process holds the DuckDB file (a notebook, say);
            transient, so an analytics task retries it.
        DbtRunError: dbt is not installed (the message names the extra), the command
            is not on PATH, the selector matched no node, or dbt failed; the message
            names each failing node with its message and, for a test, the failure count.
        ConfigError: No project directory is given or configured.
    """
    settings = settings or KitSettings()
    project = Path(project_dir if project_dir is not None else settings.require("dbt_project_dir"))
    project = project.resolve()
    if not (project / "dbt_project.yml").is_file():
        raise DbtRunError(
            f"{project} is not a dbt project (no dbt_project.yml): "
            "pass project_dir or set FF_DBT_PROJECT_DIR"
        )
    options = ["--select", selector, "--project-dir", str(project)]
    if profiles_dir is not None:
        options += ["--profiles-dir", str(Path(profiles_dir).resolve())]
    if target is not None:
        options += ["--target", target]
    if vars is not None:
        options += ["--vars", json.dumps(dict(vars))]
    options.append("--no-use-colors")

    database = (env or {}).get("FF_DUCKDB_PATH") or settings.duckdb_path
    warn_if_two_databases(
        settings.duckdb_path,
        (env or {}).get("FF_DUCKDB_PATH") or os.environ.get("FF_DUCKDB_PATH"),
        project,
    )
    started = time.perf_counter()
    if command is None:
        argv, success, detail, raw = invoke_in_process([dbt_command, *options], project, env)
        tail = ""
    else:
        argv, success, detail, raw, tail = invoke_subprocess(command, options, project, env)
    elapsed = time.perf_counter() - started
    result = DbtRunResult(
        selector=selector, command=tuple(argv), nodes=node_results(raw), elapsed=elapsed
    )
    publish_results(result)
    if report_nodes and in_run():
        # dbt runs in the project directory: a relative path in its profile is from there.
        try:
            _record_nodes(raw, project, database=None if database is None else project / database)
        except Exception:  # the report is for the UI: it must never fail a build that passed
            _dbt_logger.warning("Could not record dbt's nodes as task runs", exc_info=True)
    _check(result, success, detail, tail, project)
    return result


def _check(result: DbtRunResult, success: bool, detail: str, tail: str, project: Path) -> None:
    failed = [node for node in result.nodes if node.failed]
    what = " ".join(_shown(result.command))
    said = "\n".join([detail, tail, *(node.message or "" for node in failed)])
    if not success and any(words in said for words in DUCKDB_LOCK_TEXTS):
        raise MartLockedError(
            f"{what} could not open its DuckDB database: another process holds the file "
            "(a notebook or another dbt run?). Retried by analytics tasks; close the other "
            f"connection if it persists. DuckDB said: {_locked_line(said)}"
        )
    output = f"\ndbt output (last lines):\n{tail}" if tail else ""
    if failed:
        skipped = sum(node.status == "skipped" for node in result.nodes)
        lines = "\n".join(f"  - {node.describe()}" for node in failed)
        more = f"; {skipped} skipped" if skipped else ""
        raise DbtRunError(
            f"{what} failed: {len(failed)} of {len(result.nodes)} nodes failed{more}:\n{lines}"
            f"{output}",
            nodes=result.nodes,
        )
    if not success:
        reason = f": {detail}" if detail else ""
        raise DbtRunError(f"{what} failed{reason}{output}", nodes=result.nodes)
    if not result.nodes:
        raise DbtRunError(
            f"selector {result.selector!r} matched no nodes in the dbt project at {project}: "
            f"check the name (`dbt ls --select {result.selector}` lists what it matches)",
            nodes=result.nodes,
        )


def _locked_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if "lock" in line), text.strip())


def _shown(command: tuple[str, ...]) -> tuple[str, ...]:
    # The error names what ran without the long options (paths and vars).
    shown = ["dbt"] if command[:1] == ("dbtRunner",) else []
    skip = False
    for part in command[1:] if shown else command:
        if skip:
            skip = False
            continue
        if part in ("--project-dir", "--profiles-dir", "--vars"):
            skip = True
            continue
        if part != "--no-use-colors":
            shown.append(part)
    return tuple(shown)
