"""`analytics_task`: Prefect's `@task` with the house defaults."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from ff_prefect_kit._errors import InvalidOptionError
from ff_prefect_kit._internals import BackoffSchedule
from ff_prefect_kit._logging import bridge_logger, kit_logger
from ff_prefect_kit.core._instrument import instrument
from ff_prefect_kit.core._ledger import note_attempt
from ff_prefect_kit.core._options import check_options
from ff_prefect_kit.core._retry import ExceptionTypes, RetryPolicy
from ff_prefect_kit.data._validation import validate_output

if TYPE_CHECKING:
    from prefect import Task
    from pydantic import BaseModel

__all__ = ["analytics_task"]

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_RETRIES = 3
DEFAULT_RETRY_DELAY_SECONDS = 60.0
DEFAULT_BACKOFF_FACTOR = 2.0
DEFAULT_RETRY_JITTER_FACTOR = 0.5

_KIT_OPTIONS = frozenset({"retry_on", "no_retry_on", "backoff_factor", "output_schema"})


def _check_output_schema(schema: object) -> None:
    if schema is None:
        return
    from pydantic import BaseModel

    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        raise InvalidOptionError(f"output_schema must be a Pydantic model class, got {schema!r}")


def checking_output(fn: Callable[P, R], schema: type[BaseModel]) -> Callable[P, R]:
    """Wrap `fn` so that its return value is validated against `schema`."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def check_async(*args: Any, **kwargs: Any) -> Any:
            return validate_output(await fn(*args, **kwargs), schema)

        return check_async  # type: ignore[return-value]

    @functools.wraps(fn)
    def check(*args: P.args, **kwargs: P.kwargs) -> R:
        checked: R = validate_output(fn(*args, **kwargs), schema)
        return checked

    return check


def _check_retry_numbers(retries: int, delay: object, jitter: float, backoff: float) -> None:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InvalidOptionError(f"retries must be a whole number >= 0, got {retries!r}")
    if isinstance(delay, int | float) and not isinstance(delay, bool) and delay < 0:
        raise InvalidOptionError(f"retry_delay_seconds must be >= 0, got {delay!r}")
    if jitter < 0:
        raise InvalidOptionError(f"retry_jitter_factor must be >= 0, got {jitter!r}")
    if backoff < 1:
        raise InvalidOptionError(
            f"backoff_factor must be >= 1 (1 keeps the delay constant), got {backoff!r}"
        )


def _delays(
    retries: int,
    delay: float | list[float] | Callable[[int], list[float]],
    backoff: float,
    jitter: float,
) -> BackoffSchedule:
    if callable(delay):
        return BackoffSchedule(delay(retries), jitter)
    if isinstance(delay, list):
        return BackoffSchedule(delay, jitter)
    return BackoffSchedule.exponential(float(delay), retries, backoff, jitter)


@overload
def analytics_task(fn: Callable[P, R], /) -> Task[P, R]: ...


@overload
def analytics_task(
    *,
    name: str | None = None,
    retries: int = DEFAULT_RETRIES,
    retry_delay_seconds: float | list[float] | Callable[[int], list[float]] = (
        DEFAULT_RETRY_DELAY_SECONDS
    ),
    retry_jitter_factor: float = DEFAULT_RETRY_JITTER_FACTOR,
    backoff_factor: float = DEFAULT_BACKOFF_FACTOR,
    retry_on: ExceptionTypes | None = None,
    no_retry_on: ExceptionTypes | None = None,
    output_schema: type[BaseModel] | None = None,
    **task_options: Any,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def analytics_task(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    retries: int = DEFAULT_RETRIES,
    retry_delay_seconds: float | list[float] | Callable[[int], list[float]] = (
        DEFAULT_RETRY_DELAY_SECONDS
    ),
    retry_jitter_factor: float = DEFAULT_RETRY_JITTER_FACTOR,
    backoff_factor: float = DEFAULT_BACKOFF_FACTOR,
    retry_on: ExceptionTypes | None = None,
    no_retry_on: ExceptionTypes | None = None,
    output_schema: type[BaseModel] | None = None,
    **task_options: Any,
) -> Task[P, R] | Callable[[Callable[P, R]], Task[P, R]]:
    """Make a function a Prefect task with the house defaults.

    Works bare (`@analytics_task`) and called (`@analytics_task(retries=5)`). The
    defaults: 3 retries, 60 s before the first growing by `backoff_factor` (60, 120,
    240 s), jitter 0.5; no retry for validation and configuration errors; start,
    completion and duration logged; no input hashing for caching (pass
    `cache_policy` or `cache_key_fn`, e.g. `frame_cache_key`, to cache). Every other
    `prefect.task` option passes through.

    Args:
        fn: The function, when used bare.
        name: The task's name; defaults to the function's name.
        retries: How many times a failed run is retried.
        retry_delay_seconds: The first delay (grown by `backoff_factor`), or an
            explicit list of delays, or a callable `retries -> list of delays`.
        retry_jitter_factor: Each delay is drawn from `delay * [1 - f, 1 + f]`; the
            kit applies it itself, since Prefect 3.6 ignores Prefect's own.
        backoff_factor: How much each delay grows over the previous one.
        retry_on: Only these exception types retry.
        no_retry_on: These exception types never retry (besides the defaults).
        output_schema: A Pydantic model the task's return value must satisfy: a
            DataFrame goes through `validate_frame` (the conformed frame is
            returned), a list of instances passes, a list of dicts or other
            objects is validated into instances. A failure raises
            `SchemaValidationError`, which is never retried.
        **task_options: Any other `prefect.task` option.

    Returns:
        A `prefect.Task`, or a decorator making one.

    Raises:
        InvalidOptionError: An unknown option, `fn` not callable, a negative retry
            count, delay or jitter, or a backoff below 1. It is a `TypeError` and
            a `ValueError`. Also raised when `output_schema` is not a Pydantic
            model class.
    """
    from prefect import task

    check_options("analytics_task", task_options, task, _KIT_OPTIONS)
    _check_output_schema(output_schema)
    _check_retry_numbers(retries, retry_delay_seconds, retry_jitter_factor, backoff_factor)
    policy = RetryPolicy(retry_on=retry_on, no_retry_on=no_retry_on)
    delays = _delays(retries, retry_delay_seconds, backoff_factor, retry_jitter_factor)

    def decorate(func: Callable[P, R]) -> Task[P, R]:
        if not callable(func):
            raise InvalidOptionError(f"analytics_task can only decorate a callable, got {func!r}")
        from prefect.cache_policies import NO_CACHE

        label = str(name or getattr(func, "__name__", repr(func)))
        bridge_logger(kit_logger.name)
        bridge_logger(getattr(func, "__module__", None) or "__main__")
        options = dict(task_options)
        options.setdefault("retry_condition_fn", policy.as_retry_condition())
        if "cache_policy" not in options and "cache_key_fn" not in options:
            options["cache_policy"] = NO_CACHE
        make_task: Any = task  # options are checked above; Prefect's overloads cannot see them
        body = func if output_schema is None else checking_output(func, output_schema)
        made: Task[P, R] = make_task(
            instrument(body, "Task", label, note_attempt),
            name=name,
            retries=retries,
            retry_delay_seconds=delays,
            # The schedule applies the jitter on every Prefect (3.6 ignores Prefect's).
            retry_jitter_factor=None,
            **options,
        )
        return made

    if fn is None:
        return decorate
    return decorate(fn)
