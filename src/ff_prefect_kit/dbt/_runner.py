"""The dbt runner: `run_dbt_models`, an analytics task; its plain function is `.fn`.

dbt runs in-process through `dbtRunner` by default: after the first call in a process
it costs a fraction of a second, where the CLI costs seconds of imports on every call.
Two things come with that, and are handled here: dbt-core does not support two
invocations at once in one process (a lock serialises them), and dbt-duckdb keeps the
DuckDB file open after `invoke()` returns (its connections are closed after every call,
so the file can be opened read-only, here or from another process, right away).

Passing `command` runs dbt as a subprocess instead, e.g. `["just", "dbt-run"]` or
`["dbt", "build"]`; the selector and the options asked for are appended to it.

Both runners see the project the same way: they run in the project directory (so a
relative path in `profiles.yml` means the same file), with the same environment
variables (`env` is set for the call, under the lock, then restored), and with only
the flags the caller asked for: dbt re-parses the whole project whenever `--vars`
change between runs, so the kit adds none of its own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ff_prefect_kit._context import environment, in_run
from ff_prefect_kit._errors import (
    DBT_EXTRA_HINT,
    DUCKDB_LOCK_TEXTS,
    JUST_HINT,
    DbtRunError,
    MartLockedError,
)
from ff_prefect_kit._internals import (
    close_dbt_duckdb_connections,
    close_dbt_file_logs,
    closing_dbt_python_model_loops,
)
from ff_prefect_kit._settings import KitSettings, diverging_duckdb_paths
from ff_prefect_kit.dbt._nodes import report_nodes as _record_nodes

__all__ = ["DbtNodeResult", "DbtRunResult", "run_dbt_models"]

_FAILED = frozenset({"error", "fail", "runtime error"})
_TAIL_LINES = 20
_ARTIFACT_KEY = "dbt-run-results"

# dbt-core keeps global state per process (flags, adapters, the invocation context):
# one in-process invocation at a time.
_IN_PROCESS_LOCK = threading.Lock()


@dataclass(frozen=True)
class DbtNodeResult:
    """What dbt reported for one node (model, test, seed, snapshot).

    Attributes:
        unique_id: dbt's id, e.g. `model.my_project.mrt_player_valuation`.
        status: `success`, `error`, `pass`, `fail`, `warn`, `skipped`, ...
        execution_time: Seconds dbt spent on the node.
        message: dbt's message, e.g. `OK` or the database error.
        failures: For a test, the number of failing rows; else `None`.
        rows_affected: The rows the adapter reported (a seed's inserts), if it did.
    """

    unique_id: str
    status: str
    execution_time: float
    message: str | None
    failures: int | None
    rows_affected: int | None = None

    @property
    def failed(self) -> bool:
        """Whether the node errored, or is a test that failed."""
        return self.status in _FAILED

    def describe(self) -> str:
        """One line naming the node, its status, its failure count and message."""
        count = f" ({self.failures} failing rows)" if self.failures else ""
        message = f": {self.message}" if self.message else ""
        return f"{self.unique_id} {self.status}{count}{message}"


@dataclass(frozen=True)
class DbtRunResult:
    """The outcome of a successful dbt invocation.

    Attributes:
        selector: The `--select` argument.
        command: What ran: `("dbtRunner", "build", ...)` in-process, else the argv.
        nodes: One result per node dbt ran, in dbt's order.
        elapsed: Wall-clock seconds of the invocation.
    """

    selector: str
    command: tuple[str, ...]
    nodes: tuple[DbtNodeResult, ...]
    elapsed: float

    def table(self) -> list[dict[str, Any]]:
        """The nodes as rows (the table artifact's content)."""
        return [
            {
                "unique_id": n.unique_id,
                "status": n.status,
                "execution_time": round(n.execution_time, 3),
                "message": n.message or "",
                "failures": n.failures,
                "rows_affected": n.rows_affected,
            }
            for n in self.nodes
        ]


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
    _warn_if_two_databases(
        settings.duckdb_path,
        (env or {}).get("FF_DUCKDB_PATH") or os.environ.get("FF_DUCKDB_PATH"),
        project,
    )
    started = time.perf_counter()
    if command is None:
        argv, success, detail, raw = _invoke_in_process([dbt_command, *options], project, env)
        tail = ""
    else:
        argv, success, detail, raw, tail = _invoke_subprocess(command, options, project, env)
    elapsed = time.perf_counter() - started
    result = DbtRunResult(
        selector=selector, command=tuple(argv), nodes=_nodes(raw), elapsed=elapsed
    )
    _publish(result)
    if report_nodes and in_run():
        # dbt runs in the project directory: a relative path in its profile is from there.
        try:
            _record_nodes(raw, project, database=None if database is None else project / database)
        except Exception:  # the report is for the UI: it must never fail a build that passed
            _dbt_logger.warning("Could not record dbt's nodes as task runs", exc_info=True)
    _check(result, success, detail, tail, project)
    return result


_dbt_logger = logging.getLogger("ff_prefect_kit.dbt")


_warned_pairs: set[tuple[Path, Path]] = set()


def _warn_if_two_databases(
    loaders: str | os.PathLike[str] | None, dbt: str | None, project: Path
) -> None:
    """Say once when a relative FF_DUCKDB_PATH makes dbt build a file the flow does not read.

    Args:
        loaders: The path the kit's settings give the mart loaders.
        dbt: The path in dbt's environment (the call's `env`, else this process's).
        project: The dbt project directory, where dbt runs.
    """
    # An in-process dbt run in another thread has the working directory in the project:
    # the check waits for a moment when it is this process's own.
    if not _IN_PROCESS_LOCK.acquire(blocking=False):
        return
    try:
        cwd = Path.cwd()
    finally:
        _IN_PROCESS_LOCK.release()
    paths = diverging_duckdb_paths(loaders, dbt, project, cwd)
    if paths is None or paths in _warned_pairs:
        return
    _warned_pairs.add(paths)
    here, there = paths
    _dbt_logger.warning(
        "FF_DUCKDB_PATH names two files: dbt, run in %s, builds %s, while this process's "
        "mart loaders read %s; set FF_DUCKDB_PATH to an absolute path",
        project,
        there,
        here,
    )


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING}


def _forward_event(event: Any) -> None:
    """Send one of dbt's log events to the kit's logger: the run's logs and the console.

    dbt itself is told `--quiet`, so each line shows once, and inside a Prefect run it
    reaches the run's logs (dbt's own stdout would not).
    """
    info = getattr(event, "info", None)
    message = getattr(info, "msg", "")
    level = _LEVELS.get(str(getattr(info, "level", "info")), logging.ERROR)
    if message and level >= logging.INFO:
        _dbt_logger.log(level, "%s", message)


def _invoke_in_process(
    args: list[str], project: Path, env: Mapping[str, str] | None
) -> tuple[list[str], bool, str, dict[str, Any] | None]:
    with _IN_PROCESS_LOCK:
        dbt_runner = _import_dbt_runner()
        try:
            with (
                environment(dict(env or {})),
                contextlib.chdir(project),
                closing_dbt_python_model_loops(),
            ):
                outcome: Any = dbt_runner(callbacks=[_forward_event]).invoke(["--quiet", *args])
        finally:
            close_dbt_duckdb_connections()
            close_dbt_file_logs()
    raw = outcome.result.to_dict() if hasattr(outcome.result, "to_dict") else None
    detail = str(outcome.exception) if outcome.exception is not None else ""
    return ["dbtRunner", *args], bool(outcome.success), detail, raw


def _import_dbt_runner() -> Any:
    # dbt-core 1.10 imports click's deprecated OptionParser: a warning about dbt's own
    # code that a user cannot act on, and an error under `-W error` test suites.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(dbt|click)\b")
        warnings.filterwarnings("ignore", message=".*OptionParser", category=DeprecationWarning)
        try:
            from dbt.cli.main import dbtRunner
        except ImportError as exc:
            raise DbtRunError(f"{DBT_EXTRA_HINT} ({exc})") from exc
    return dbtRunner


def _invoke_subprocess(
    command: Sequence[str],
    options: list[str],
    project: Path,
    env: Mapping[str, str] | None,
) -> tuple[list[str], bool, str, dict[str, Any] | None, str]:
    if not command:
        raise DbtRunError("command is empty: pass e.g. ['dbt', 'build'] or ['just', 'dbt-run']")
    variables = _subprocess_environment(env)
    executable = _which(command[0], variables)
    # A `just` recipe's `{{ARGS}}` goes through a shell: quote each argument so that
    # JSON vars and multi-word selectors arrive whole ("$@" recipes get them as they are).
    if Path(executable).name == "just" and _just_uses_a_shell(
        executable, command, project, variables
    ):
        options = [shlex.quote(option) for option in options]
    argv = [executable, *command[1:], *options]
    results = project / "target" / "run_results.json"
    # A run that fails before dbt writes results must not report an older run's.
    results.unlink(missing_ok=True)
    completed = subprocess.run(
        argv,
        cwd=project,
        env=variables,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        check=False,
    )
    raw = json.loads(results.read_text(encoding="utf-8")) if results.is_file() else None
    for line in completed.stdout.splitlines():
        if line.strip():
            _dbt_logger.info("%s", line)
    output = completed.stderr.strip() or completed.stdout.strip()
    tail = "\n".join(output.splitlines()[-_TAIL_LINES:])
    detail = f"exit status {completed.returncode}"
    return [*command, *options], completed.returncode == 0, detail, raw, tail


def _just_uses_a_shell(
    executable: str, command: Sequence[str], project: Path, variables: Mapping[str, str]
) -> bool:
    """Whether the `just` recipe interpolates its arguments into a shell line (`{{ARGS}}`).

    A recipe (or justfile) with `positional-arguments` gets them as `"$@"` instead.
    Where the justfile cannot be read, the usual `{{ARGS}}` is assumed.
    """
    dumped = subprocess.run(
        [executable, "--dump", "--dump-format", "json"],
        cwd=project,
        env=dict(variables),
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        justfile = json.loads(dumped.stdout)
        recipe = next((part for part in command[1:] if not part.startswith("-")), None)
        name = recipe or justfile.get("first")
        attributes = justfile["recipes"][name].get("attributes", [])
        positional = bool(justfile["settings"].get("positional_arguments"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return True
    return not (positional or "positional-arguments" in json.dumps(attributes))


def _subprocess_environment(env: Mapping[str, str] | None) -> dict[str, str]:
    """This process's environment with `env` over it.

    Unless `env` sets `PATH`, this interpreter's scripts folder comes first on it, so
    that a recipe's `dbt` (or `just`) is the one installed beside the kit.
    """
    variables = {**os.environ, **(env or {})}
    if env is None or "PATH" not in env:
        scripts = str(Path(sys.executable).parent)
        variables["PATH"] = os.pathsep.join([scripts, variables.get("PATH", "")])
    return variables


def _which(name: str, environment: Mapping[str, str]) -> str:
    if name == "dbt":
        # The dbt of this environment first: another one on PATH may carry another
        # DuckDB major version, whose files this environment's DuckDB cannot open.
        beside = Path(sys.executable).with_name("dbt")
        if beside.is_file():
            return str(beside)
    found = shutil.which(name, path=environment.get("PATH"))
    if found is not None:
        return found
    if name == "dbt":
        raise DbtRunError(f"{DBT_EXTRA_HINT}; `dbt` was not found on PATH")
    if name == "just":
        raise DbtRunError(
            f"`just` was not found on PATH: {JUST_HINT}, "
            "or run dbt in-process by leaving `command` unset"
        )
    raise DbtRunError(
        f"{name!r} was not found on PATH: check the `command` given to run_dbt_models"
    )


def _nodes(raw: Mapping[str, Any] | None) -> tuple[DbtNodeResult, ...]:
    if raw is None:
        return ()
    nodes = []
    for entry in raw.get("results", []):
        failures = entry.get("failures")
        response = entry.get("adapter_response") or {}
        rows = response.get("rows_affected") if isinstance(response, Mapping) else None
        # run_results.json names the node by id; the in-process result embeds the node.
        unique_id = entry.get("unique_id") or (entry.get("node") or {}).get("unique_id", "")
        nodes.append(
            DbtNodeResult(
                unique_id=str(unique_id),
                status=str(entry.get("status", "")),
                execution_time=float(entry.get("execution_time") or 0.0),
                message=None if entry.get("message") is None else str(entry["message"]),
                failures=None if failures is None else int(failures),
                rows_affected=rows if isinstance(rows, int) and rows >= 0 else None,
            )
        )
    return tuple(nodes)


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


def _publish(result: DbtRunResult) -> None:
    """Publish the node results as a table artifact when inside a Prefect run."""
    if not in_run():
        return
    from prefect.artifacts import create_table_artifact

    failed = sum(node.failed for node in result.nodes)
    create_table_artifact(
        table=result.table(),
        key=_ARTIFACT_KEY,
        description=(
            f"dbt --select {result.selector}: {len(result.nodes)} nodes, {failed} failed, "
            f"{result.elapsed:.1f} s"
        ),
    )
