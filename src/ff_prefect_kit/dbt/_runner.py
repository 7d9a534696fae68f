"""`run_dbt_models`: run dbt on a selector; return what it reported, or raise what failed.

dbt runs in-process through `dbtRunner` by default (`_in_process.py`); passing
`command` runs it as a subprocess instead (`_subprocess.py`), e.g. `["just", "dbt-run"]`
or `["dbt", "build"]`, with the selector and the options asked for appended to it.
The Prefect task of the same name, `ff_prefect_kit.run_dbt_models`, wraps this plain
function.

Both runners see the project the same way: they run in the same directory, the
project's or `working_dir` (so a relative path in `profiles.yml` or a model means the
same file), with the same environment variables (`env` is set for the call, under
the lock, then restored), and with only the flags the caller asked for: dbt
re-parses the whole project whenever `--vars` or `--target` change between runs, so
the kit adds none of its own (`_options.py`).
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
from ff_prefect_kit._secrets import redact
from ff_prefect_kit._settings import KitSettings
from ff_prefect_kit.dbt._artifact import publish_results
from ff_prefect_kit.dbt._in_process import invoke_in_process
from ff_prefect_kit.dbt._nodes import report_nodes as _record_nodes
from ff_prefect_kit.dbt._options import (
    checked_extra_args,
    checked_working_dir,
    default_target,
    profiles_dir_option,
)
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
    working_dir: str | os.PathLike[str] | None = None,
    extra_args: Sequence[str] | None = None,
) -> DbtRunResult:
    """Run `dbt build --select <selector>` and return each node's result.

    dbt runs in-process unless `command` is given, in the project directory (or
    `working_dir`) either way, with the profile dbt itself would pick: `profiles_dir`,
    else `DBT_PROFILES_DIR`, else the working directory's `profiles.yml`, else the
    project's own, else `~/.dbt`. Inside a Prefect run the node results are also
    published as a table artifact; inside a flow run each node is also recorded as a
    task run of its own, and each model dbt built as a Prefect asset.

    Args:
        selector: dbt's `--select`, e.g. `"mrt_player_valuation"` or `"+tag:daily"`.
        project_dir: The dbt project; default `FF_DBT_PROJECT_DIR`.
        profiles_dir: Passed as `--profiles-dir` when given.
        target: The profile's target. Passed as `--target` unless it is the one dbt
            picks anyway (`DBT_TARGET`, else the profile's `target:`), so that dbt's
            partial parse stays valid for a plain `dbt build` run after it.
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
        working_dir: The directory dbt runs in, where relative paths in the profile
            and the models (`read_parquet('data/raw/*.parquet')`) are read from: the
            folder your own `dbt` command runs in, e.g. the repository root. Default
            the project directory.
        extra_args: More arguments for dbt, after the kit's, e.g.
            `["--indirect-selection", "cautious"]`; not `--select`, `--project-dir`,
            `--profiles-dir`, `--target` or `--vars`, which the keywords above set.

    Returns:
        The node results of the invocation (all of them succeeded).

    Raises:
        MartLockedError: Another process holds the DuckDB file (a notebook, say);
            transient, so an analytics task retries it.
        DbtRunError: dbt is not installed (the message names the extra), the command
            is not on PATH, the selector matched no node, `working_dir` is not a
            directory, or dbt failed; the message names each failing node with its
            message and, for a test, the failure count.
        InvalidOptionError: `extra_args` is not a list of strings, or sets an option
            the kit sets; the message names the keyword to use instead.
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
    extra = checked_extra_args(extra_args)
    cwd = checked_working_dir(working_dir, project)
    profiles, pass_profiles = profiles_dir_option(profiles_dir, env, cwd, project)
    options = ["--select", selector, "--project-dir", str(project)]
    if pass_profiles:
        options += ["--profiles-dir", str(profiles)]
    if target is not None and target != default_target(profiles, project, env, extra):
        options += ["--target", target]
    if vars is not None:
        options += ["--vars", json.dumps(dict(vars))]
    options.append("--no-use-colors")
    options += extra

    database = (env or {}).get("FF_DUCKDB_PATH") or settings.duckdb_path
    warn_if_two_databases(
        settings.duckdb_path,
        (env or {}).get("FF_DUCKDB_PATH") or os.environ.get("FF_DUCKDB_PATH"),
        cwd,
    )
    started = time.perf_counter()
    if command is None:
        argv, success, detail, raw = invoke_in_process(
            [dbt_command, *options], project, env, cwd=cwd
        )
        tail = ""
    else:
        argv, success, detail, raw, tail = invoke_subprocess(
            command, options, project, env, cwd=cwd
        )
    elapsed = time.perf_counter() - started
    result = DbtRunResult(
        selector=selector, command=tuple(argv), nodes=node_results(raw), elapsed=elapsed
    )
    publish_results(result)
    if report_nodes and in_run():
        # dbt runs in `cwd`: a relative path in its profile is from there.
        try:
            _record_nodes(raw, project, database=None if database is None else cwd / database)
        except Exception:  # the report is for the UI: it must never fail a build that passed
            _dbt_logger.warning("Could not record dbt's nodes as task runs", exc_info=True)
    _check(result, success, detail, tail, project)
    return result


def _check(result: DbtRunResult, success: bool, detail: str, tail: str, project: Path) -> None:
    # Every message leaves through the task run's state, the flow's and the logs: each
    # is redacted (a database error quotes the value it failed on, maybe a secret).
    failed = [node for node in result.nodes if node.failed]
    what = " ".join(_shown(result.command))
    said = "\n".join([detail, tail, *(node.message or "" for node in failed)])
    if not success and any(words in said for words in DUCKDB_LOCK_TEXTS):
        raise MartLockedError(
            redact(
                f"{what} could not open its DuckDB database: another process holds the file "
                "(a notebook or another dbt run?). Retried by analytics tasks; close the other "
                f"connection if it persists. DuckDB said: {_locked_line(said)}"
            )
        )
    output = f"\ndbt output (last lines):\n{tail}" if tail else ""
    if failed:
        skipped = sum(node.status == "skipped" for node in result.nodes)
        lines = "\n".join(f"  - {node.describe()}" for node in failed)
        more = f"; {skipped} skipped" if skipped else ""
        raise DbtRunError(
            redact(
                f"{what} failed: {len(failed)} of {len(result.nodes)} nodes failed{more}:\n"
                f"{lines}{output}"
            ),
            nodes=result.nodes,
        )
    if not success:
        reason = f": {detail}" if detail else ""
        raise DbtRunError(redact(f"{what} failed{reason}{output}"), nodes=result.nodes)
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
