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
import contextvars
import logging
import warnings
from collections.abc import Callable, Mapping
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
from ff_prefect_kit._secrets import redact
from ff_prefect_kit.dbt._shadowing import refuse_shadowing_modules

__all__ = ["invoke_in_process", "working_directory"]

_dbt_logger = logging.getLogger("ff_prefect_kit.dbt")

# dbt-core keeps global state per process (flags, adapters, the invocation context):
# one in-process invocation at a time.

# Set while this thread (this context) runs dbt in-process: dbt importing code that
# calls run_dbt_models again must fail at once, not wait for the lock it holds.
_INVOKING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "ff_prefect_kit_dbt_invoking", default=False
)

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING}


def invoke_in_process(
    args: list[str], project: Path, env: Mapping[str, str] | None, *, cwd: Path | None = None
) -> tuple[list[str], bool, str, dict[str, Any] | None]:
    """Run `dbt <args>` through `dbtRunner` in `cwd`, with `env` set for the call.

    Waits for any other in-process invocation to end first.

    Args:
        args: dbt's arguments, the subcommand first.
        project: The dbt project directory.
        env: Environment variables set for the call, then restored.
        cwd: The working directory of the call; default the project directory.

    Returns:
        What ran, whether dbt succeeded, dbt's exception as text (or ""), and dbt's
        results as a mapping (or `None` when it made none).

    Raises:
        DbtRunError: dbt is not installed (the message names the extra); one of your
            modules would be imported by dbt (`_shadowing.py`); or this thread is
            already inside an in-process run, which cannot start another.
    """
    if _INVOKING.get():
        # The lock is this thread's own: waiting for it would be waiting forever.
        raise DbtRunError(
            "run_dbt_models was called from inside the in-process dbt run this thread "
            "started (dbt imported or ran code that runs dbt again: a module named dbt_* "
            "on the import path, or a script without `if __name__ == '__main__':`); an "
            "in-process run cannot start another. Guard the call, or run the inner one as "
            "a subprocess: run_dbt_models(..., command=['dbt', 'build'])"
        )
    forward = _in_this_context(contextvars.copy_context())
    with _config.state.dbt_lock:
        refuse_shadowing_modules()
        dbt_runner = _import_dbt_runner()
        invoking = _INVOKING.set(True)
        try:
            with (
                environment(dict(env or {})),
                contextlib.chdir(cwd or project),
                closing_dbt_python_model_loops(),
            ):
                outcome: Any = dbt_runner(callbacks=[forward]).invoke(["--quiet", *args])
        finally:
            _INVOKING.reset(invoking)
            close_dbt_duckdb_connections()
            close_dbt_file_logs()
    raw = outcome.result.to_dict() if hasattr(outcome.result, "to_dict") else None
    detail = redact(str(outcome.exception)) if outcome.exception is not None else ""
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


def _in_this_context(context: contextvars.Context) -> Callable[[Any], None]:
    """`_forward_event`, run in the caller's context whichever thread dbt fires it from.

    dbt runs its nodes in worker threads of its own, which start without the caller's
    context variables, Prefect's run context among them: a line logged there (each
    node's "1 of 5 OK created sql table model ...") reached the console but not the
    run's logs in the UI. A copy per event, as threads may fire events at once.
    """

    def forward(event: Any) -> None:
        context.copy().run(_forward_event, event)

    return forward


def _forward_event(event: Any) -> None:
    """Send one of dbt's log events to the kit's logger: the run's logs and the console.

    dbt itself is told `--quiet`, so each line shows once, and inside a Prefect run it
    reaches the run's logs (dbt's own stdout would not).
    """
    info = getattr(event, "info", None)
    message = getattr(info, "msg", "")
    level = _LEVELS.get(str(getattr(info, "level", "info")), logging.ERROR)
    if message and level >= logging.INFO:
        _dbt_logger.log(level, "%s", redact(str(message)))


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
