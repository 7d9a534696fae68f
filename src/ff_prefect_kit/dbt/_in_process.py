"""The in-process runner: dbt's `dbtRunner`, one invocation at a time, its events sent to logging.

After the first call in a process an in-process run costs a fraction of a second,
where the CLI costs seconds of imports on every call. Two things come with that,
and are handled here: dbt-core does not support two invocations at once in one
process (a lock serialises them), and dbt-duckdb keeps the DuckDB file open after
`invoke()` returns (its connections are closed after every call, so the file can be
opened read-only, here or from another process, right away).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ff_prefect_kit import _config
from ff_prefect_kit._context import environment
from ff_prefect_kit._errors import DBT_EXTRA_HINT, DbtRunError
from ff_prefect_kit._internals import (
    close_dbt_duckdb_connections,
    close_dbt_file_logs,
    closing_dbt_python_model_loops,
)

__all__ = ["invoke_in_process", "working_directory"]

_dbt_logger = logging.getLogger("ff_prefect_kit.dbt")

# dbt-core keeps global state per process (flags, adapters, the invocation context):
# one in-process invocation at a time.

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING}


def invoke_in_process(
    args: list[str], project: Path, env: Mapping[str, str] | None
) -> tuple[list[str], bool, str, dict[str, Any] | None]:
    """Run `dbt <args>` through `dbtRunner` in `project`, with `env` set for the call.

    Waits for any other in-process invocation to end first.

    Args:
        args: dbt's arguments, the subcommand first.
        project: The dbt project directory, the working directory of the call.
        env: Environment variables set for the call, then restored.

    Returns:
        What ran, whether dbt succeeded, dbt's exception as text (or ""), and dbt's
        results as a mapping (or `None` when it made none).

    Raises:
        DbtRunError: dbt is not installed; the message names the extra.
    """
    with _config.state.dbt_lock:
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


def working_directory() -> Path | None:
    """This process's working directory, or `None` while an in-process run may have moved it.

    An in-process run changes directory into its project for the whole invocation, so
    while one holds the lock (in another thread) the working directory is that
    project's, not the process's own. This does not wait for the run to end.
    """
    if not _config.state.dbt_lock.acquire(blocking=False):
        return None
    try:
        return Path.cwd()
    finally:
        _config.state.dbt_lock.release()


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
