"""Logging each attempt of a task or flow: start, completion or error, duration."""

from __future__ import annotations

import functools
import inspect
import sys
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from ff_prefect_kit._logging import bridge_user_loggers, kit_logger, protect_prefect_logs
from ff_prefect_kit.core._shown import shown

__all__ = ["describe_result", "instrument"]

P = ParamSpec("P")
R = TypeVar("R")


def describe_result(value: object) -> str:
    """A short description of a task's return value for the completion log line."""
    polars = sys.modules.get("polars")
    if polars is not None and isinstance(value, polars.DataFrame):
        rows, cols = value.shape
        return f"; returned a DataFrame of {rows:,} rows x {cols} columns"
    return ""


def _ignore(_exc: BaseException | None) -> None:
    return None


def _log_finished(kind: str, label: str, result: object, started: float) -> None:
    elapsed = time.perf_counter() - started
    kit_logger.info("%s %r finished in %.3f s%s", kind, label, elapsed, describe_result(result))


def _raised(
    kind: str,
    label: str,
    exc: BaseException,
    started: float,
    note: Callable[[BaseException | None], None],
) -> BaseException:
    """Log and note an attempt's exception; return what to raise (see `shown`)."""
    elapsed = time.perf_counter() - started
    kit_logger.warning("%s %r raised %s after %.3f s", kind, label, type(exc).__name__, elapsed)
    handed = shown(exc)
    note(handed)
    return handed


def _shown_cause(exc: BaseException) -> BaseException | None:
    """What a traceback of `exc` shows as its cause: the stand-in shows the same."""
    if exc.__cause__ is not None or exc.__suppress_context__:
        return exc.__cause__
    return exc.__context__


def instrument(
    fn: Callable[P, R],
    kind: str,
    label: str,
    on_outcome: Callable[[BaseException | None], None] | None = None,
) -> Callable[P, R]:
    """Wrap `fn` so that its start, completion and duration are logged.

    `on_outcome` is called with the exception an attempt raised, or `None`.
    """
    note = on_outcome or _ignore
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        return fn  # type: ignore[return-value]

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            bridge_user_loggers()
            protect_prefect_logs()
            kit_logger.info("%s %r started", kind, label)
            started = time.perf_counter()
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                if (handed := _raised(kind, label, exc, started, note)) is exc:
                    raise
                raise handed.with_traceback(exc.__traceback__) from _shown_cause(exc)
            note(None)
            _log_finished(kind, label, result, started)
            return result

        return run_async  # type: ignore[return-value]

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        bridge_user_loggers()
        protect_prefect_logs()
        kit_logger.info("%s %r started", kind, label)
        started = time.perf_counter()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            if (handed := _raised(kind, label, exc, started, note)) is exc:
                raise
            raise handed.with_traceback(exc.__traceback__) from _shown_cause(exc)
        note(None)
        _log_finished(kind, label, result, started)
        return result

    return run
